"""Faults in the studio (issue 13): closing during a checkpoint write, a followed run
folder removed, the run's model folder removed. Each ends in a one-line message in the
window (or a clean close), keeps what was written and shown, and prints no traceback."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import pytest

from simcse_core.runs import RunWriter, latest_checkpoint


def _no_traceback(caplog, capfd) -> None:
    err = capfd.readouterr().err
    assert "Traceback" not in caplog.text, caplog.text[-3000:]
    assert "Traceback" not in err, err[-3000:]


def _messages(window) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    window.message_shown.connect(lambda kind, text: seen.append((kind, text)))
    return seen


def test_closing_during_a_checkpoint_write_keeps_the_last_checkpoint(qtbot, make_window, tiny_config, tiny_model,
                                                                    small_corpus, tmp_path, monkeypatch, caplog,
                                                                    capfd):
    """Close the window while the trainer is inside a checkpoint write (held there on an
    event): the window closes once the write finishes and the trainer stops, the newest
    complete checkpoint loads, and no temporary checkpoint folder is left."""
    from simcse_core.model import load_model

    caplog.set_level(logging.INFO)
    entered, release = threading.Event(), threading.Event()
    commit = RunWriter.commit_checkpoint

    def held_commit(self, tmp_dir, step, keep):
        if step >= 2 and not entered.is_set():
            entered.set()
            release.wait(60)  # the checkpoint's files are written, not yet committed
        return commit(self, tmp_dir, step, keep)

    monkeypatch.setattr(RunWriter, "commit_checkpoint", held_commit)
    out = tmp_path / "run"
    w = make_window(restore=False)
    assert w.start_training(tiny_config(tiny_model, small_corpus, out, max_steps=10_000, checkpoint_every=2))
    qtbot.waitUntil(entered.is_set, timeout=120_000)
    assert list((out / "checkpoints").glob("*.tmp")), "the write under way has its temporary folder"
    threading.Timer(1.0, release.set).start()  # the write finishes while the window is closing
    w.close()
    assert not w.isVisible() and not w.runs.trainer_running()
    assert not list((out / "checkpoints").glob("*.tmp")), "a temporary checkpoint folder was left"
    ck = latest_checkpoint(out)
    assert ck is not None
    state = json.loads((ck / "state.json").read_text())
    records = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines() if ln.strip()]
    assert records[-1].get("stopped") and state["step"] == records[-1]["step"]  # the stop checkpointed
    enc = load_model(str(ck / "model"), max_seq_length=16)
    assert enc.encode(["a sentence"]).shape[0] == 1
    _no_traceback(caplog, capfd)


def _unfinished_copy(finished: Path, dest: Path) -> Path:
    """A copy of a finished run folder without its last record (a run still being written)."""
    shutil.copytree(finished, dest)
    lines = [ln for ln in (dest / "metrics.jsonl").read_text().splitlines() if ln.strip()]
    kept = [ln for ln in lines if not (json.loads(ln).get("done") or json.loads(ln).get("stopped"))]
    (dest / "metrics.jsonl").write_text("".join(ln + "\n" for ln in kept))
    return dest


def test_a_followed_run_folder_removed(qtbot, make_window, finished_run, tmp_path, caplog, capfd):
    """The followed folder is deleted: one message naming it, polling stops, the shown
    snapshots stay and the studio still opens another run."""
    caplog.set_level(logging.INFO)
    run = _unfinished_copy(finished_run, tmp_path / "followed")
    w = make_window(restore=False)
    seen = _messages(w)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        assert w.open_run(run, follow=True)
    src = w.runs.source
    assert src.polling
    shown = [s.step for s in w.model.snapshots]
    assert shown
    shutil.rmtree(run)
    qtbot.waitUntil(lambda: any("was removed" in t for _k, t in seen), timeout=10_000)
    kind, text = next((k, t) for k, t in seen if "was removed" in t)
    assert kind == "error" and str(run) in text and "\n" not in text and "kept" in text
    assert not src.polling and w.runs.last_error == text
    assert [s.step for s in w.model.snapshots] == shown  # what was shown stays
    w.view_state.snapshot_index = 0  # still usable: scrub, then open another run
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        assert w.open_run(finished_run)
    assert w.model.finished
    _no_traceback(caplog, capfd)


@pytest.mark.parametrize("action", ["embed", "save"])
def test_the_model_folder_removed_while_the_run_is_shown(qtbot, make_window, finished_run, tmp_path, caplog, capfd,
                                                        action):
    """The run's model/ and checkpoints/ are removed while the studio shows the run; then
    the person embeds a typed sentence or saves the model: a message names the folder,
    the snapshots stay, no traceback."""
    caplog.set_level(logging.INFO)
    run = tmp_path / "shown"
    shutil.copytree(finished_run, run)
    w = make_window(restore=False)
    seen = _messages(w)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        assert w.open_run(run)
    w.show_embedding_views()
    qtbot.waitUntil(lambda: w.embedding.drawn_index is not None, timeout=30_000)
    n = len(w.model.snapshots)
    shutil.rmtree(run / "model")
    shutil.rmtree(run / "checkpoints")
    if action == "embed":
        w.embedding.panel.embed_requested.emit("a sentence typed after the model was removed")
    else:
        assert not w.save_model_to(str(tmp_path / "saved"))
        assert not (tmp_path / "saved").exists()
    qtbot.waitUntil(lambda: any("removed" in t for _k, t in seen), timeout=10_000)
    kind, text = next((k, t) for k, t in seen if "removed" in t)
    assert kind == "error" and str(run / "model") in text and "\n" not in text
    assert len(w.model.snapshots) == n and w.model.probe_matrix(-1) is not None
    if action == "embed":  # the sentence is still placed, with the starting model (as the message says)
        qtbot.waitUntil(lambda: w.embedding.embedded_item is not None, timeout=60_000)
        assert "starting model" in w.embedding.embedded_item["model"]
    _no_traceback(caplog, capfd)
