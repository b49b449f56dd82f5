"""Live training in the studio: snapshots reach the plots, pause/resume, stop, save,
errors in the window, closing mid-run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt

from simcse_core.errors import TrainingError
from simcse_core.model import load_model
from simcse_core.runs import latest_checkpoint


TIMEOUT = 60_000


def _start(qtbot, win, cfg):
    with qtbot.waitSignal(win.runs.snapshot_received, timeout=TIMEOUT):
        assert win.start_training(cfg)


def test_run_fills_plots_moves_progress_and_saves(qtbot, make_window, tiny_config, tiny_model, small_corpus, tmp_path):
    win = make_window()
    cfg = tiny_config(tiny_model, small_corpus, tmp_path / "run", max_steps=6, snapshot_every=2)
    progress: list[int] = []
    snaps = []
    win.runs.snapshot_received.connect(snaps.append)
    with qtbot.waitSignal(win.runs.run_finished, timeout=TIMEOUT) as done:
        assert win.start_training(cfg)
        win.runs.source.worker.progress.connect(lambda step, total, sps: progress.append(win.controls.progress.value()))
        assert win.controls.state in ("starting", "running")
    result = done.args[0]
    assert result is not None and result.steps == 6 and not result.stopped
    assert [s.step for s in snaps] == [0, 2, 4, 6] and snaps[-1].done
    assert win.model.snapshots[0].probe_texts and win.model.probe_texts  # kept for later views
    assert all(s.probe_embeddings is not None for s in win.model.snapshots)

    plots = win.plots
    x, y = plots.loss.curves["step_loss"].getData()
    assert list(x) == [0, 1, 2, 3, 4, 5, 6] and np.all(np.isfinite(y))
    assert len(plots.loss.curves["loss"].getData()[0]) == 4
    assert plots.loss.chance.isVisible()
    assert math.isclose(plots.loss.chance.value(), math.log(8), rel_tol=1e-6)  # simcse layout: log N
    for view, key in ((plots.accuracy, "top1_acc"), (plots.cosine, "pos_cos_mean"), (plots.cosine, "neg_cos_p95"),
                      (plots.alignment, "alignment"), (plots.uniformity, "uniformity"), (plots.lr, "lr"),
                      (plots.temperature, "temperature")):
        assert len(view.curves[key].getData()[0]) == 4, key
    assert len(plots.trajectory.scatter.data) == 4
    assert progress and progress[-1] == 6 and max(progress) > min(progress)
    assert win.controls.progress.value() == 6 and "finished" in win.controls.progress.format()
    assert "cpu" in win.device_label.text()
    assert win.controls.save_button.isEnabled()

    dest = tmp_path / "saved-model"
    with qtbot.waitSignal(win.runs.model_saved, timeout=TIMEOUT):
        assert win.save_model_to(str(dest))
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(dest), device="cpu", trust_remote_code=False)
    emb = st.encode(["a cat sits on the mat", "stocks fell sharply"])
    assert emb.shape == (2, 32) and np.all(np.isfinite(emb))


def test_pause_holds_the_step_and_resume_continues(qtbot, make_window, tiny_config, tiny_model, small_corpus, tmp_path):
    win = make_window()
    _start(qtbot, win, tiny_config(tiny_model, small_corpus, tmp_path / "run", max_steps=300, snapshot_every=50,
                                   checkpoint_every=1000))
    worker = win.runs.source.worker
    qtbot.waitUntil(lambda: worker.last_step >= 1, timeout=TIMEOUT)
    with qtbot.waitSignal(worker.paused_reached, timeout=TIMEOUT):
        win.runs.pause()
    assert win.controls.state == "paused" and win.controls.resume_button.isEnabled()
    held = worker.last_step
    with qtbot.assertNotEmitted(worker.progress, wait=1500):
        pass
    assert worker.last_step == held
    with qtbot.waitSignal(worker.progress, timeout=TIMEOUT) as moved:
        win.runs.resume()
    assert moved.args[0] == held + 1
    with qtbot.waitSignal(win.runs.run_finished, timeout=TIMEOUT):
        win.runs.stop()


def test_stop_leaves_a_loadable_checkpoint(qtbot, make_window, tiny_config, tiny_model, small_corpus, tmp_path):
    win = make_window()
    run = tmp_path / "run"
    _start(qtbot, win, tiny_config(tiny_model, small_corpus, run, max_steps=500, snapshot_every=100,
                                   checkpoint_every=1000))
    qtbot.waitUntil(lambda: win.runs.source.worker.last_step >= 1, timeout=TIMEOUT)
    with qtbot.waitSignal(win.runs.run_finished, timeout=TIMEOUT) as done:
        win.runs.stop()
        assert win.controls.state == "stopping"
    result = done.args[0]
    assert result.stopped and result.steps < 500
    assert win.model.latest.stopped
    assert win.runs.source is None and win.controls.state == "idle" and win.controls.train_button.isEnabled()
    ckpt = latest_checkpoint(run)
    assert ckpt is not None and ckpt.name == f"step_{result.steps:07d}"
    enc = load_model(str(ckpt / "model"))
    assert enc.encode(["hello there"]).shape == (1, 32)


def test_closing_mid_training_stops_the_worker(qtbot, make_window, tiny_config, tiny_model, small_corpus, tmp_path):
    win = make_window()
    _start(qtbot, win, tiny_config(tiny_model, small_corpus, tmp_path / "run", max_steps=1000, snapshot_every=100,
                                   checkpoint_every=1000))
    worker = win.runs.source.worker
    qtbot.waitUntil(lambda: worker.last_step >= 1, timeout=TIMEOUT)
    assert win.close()
    assert worker.isFinished() and not worker.isRunning()
    assert worker.error is None and worker.result is not None and worker.result.stopped
    assert latest_checkpoint(tmp_path / "run") is not None


@pytest.mark.parametrize("content, expected", [
    (b"\x00\x01\x02binary\x00" * 50, "binary"),
    (b"", "is empty"),
])
def test_bad_corpus_shows_its_message_and_train_refuses(qtbot, make_window, tiny_config, tmp_path, content, expected):
    win = make_window()
    panel = win.setup_panel
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    with qtbot.waitSignal(panel.corpus_checked, timeout=TIMEOUT) as checked:
        panel.set_corpus(str(bad))
    assert checked.args == [False]
    assert panel.corpus_error_label.isVisible()
    assert expected in panel.corpus_error_label.text() and str(bad) in panel.corpus_error_label.text()
    assert panel.preview.rowCount() == 0
    with qtbot.waitSignal(win.message_shown, timeout=5000) as shown:
        qtbot.mouseClick(win.controls.train_button, Qt.MouseButton.LeftButton)
    kind, text = shown.args
    assert kind == "error" and expected in text and "Traceback" not in text
    assert win.runs.source is None and win.message_bar.isVisible() and win.controls.train_button.isEnabled()


def test_good_corpus_preview(qtbot, make_window, tiny_config, small_corpus):
    win = make_window()
    panel = win.setup_panel
    with qtbot.waitSignal(panel.corpus_checked, timeout=TIMEOUT) as checked:
        panel.set_corpus(small_corpus)
    assert checked.args == [True]
    assert panel.preview.rowCount() > 0 and panel.preview.columnCount() == 3  # text, topic, group
    assert "200" in panel.corpus_summary.text() and not panel.corpus_error_label.isVisible()


def test_engine_error_in_worker_reaches_the_window(qtbot, make_window, tiny_config, tiny_model, tmp_path):
    """A corpus that breaks only inside the trainer (the panel never read it)."""
    win = make_window()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00\x00")
    cfg = tiny_config(tiny_model, str(bad), tmp_path / "run")
    with qtbot.waitSignal(win.runs.run_finished, timeout=TIMEOUT) as done:
        assert win.start_training(cfg)
    assert done.args[0] is None
    assert win.message_bar.isVisible() and "UTF-16" in win.message_bar.text
    assert win.controls.state == "idle" and win.controls.train_button.isEnabled()


def test_nan_loss_error_keeps_the_studio_usable(qtbot, make_window, tiny_config, tiny_model, small_corpus, tmp_path, monkeypatch):
    import simcse_core.trainer as trainer

    real_train = trainer.train

    def failing_train(config, control=None):
        gen = real_train(config, control)
        yield next(gen)
        gen.close()
        raise TrainingError("the loss became nan at step 3; training stopped. The last good checkpoint is kept.")

    monkeypatch.setattr(trainer, "train", failing_train)
    win = make_window()
    with qtbot.waitSignal(win.runs.run_finished, timeout=TIMEOUT):
        assert win.start_training(tiny_config(tiny_model, small_corpus, tmp_path / "run"))
    assert "loss became nan" in win.message_bar.text and win.message_bar.kind == "error"
    assert len(win.model.snapshots) == 1  # what arrived is kept
    assert win.controls.state == "idle" and win.controls.train_button.isEnabled()
    assert win.setup_panel.batch.isEnabled()


def test_apply_temperature_marks_the_plots(qtbot, make_window, tiny_config, tiny_model, small_corpus, tmp_path):
    win = make_window()
    _start(qtbot, win, tiny_config(tiny_model, small_corpus, tmp_path / "run", max_steps=8, snapshot_every=2))
    win.setup_panel.temp.setValue(0.1)
    win.apply_live_changes()
    with qtbot.waitSignal(win.runs.run_finished, timeout=TIMEOUT):
        pass
    changed = [e for e in win.model.events if "temperature" in e]
    assert changed and changed[0]["temperature"] == 0.1
    assert win.model.latest.temperature == 0.1
    assert len(win.plots.loss.event_lines) == 1 and len(win.plots.temperature.event_lines) == 1
    assert win.plots.loss.event_lines[0].value() == changed[0]["step"]
    assert win.setup_panel.temp.isEnabled()  # live-changeable fields stay enabled while training


def test_error_text_is_one_line_without_traceback():
    from app.runs.workers import error_text

    assert error_text(TrainingError("the loss became nan")) == "the loss became nan"
    assert error_text(MemoryError()).startswith("out of memory")
    assert error_text(RuntimeError("DefaultCPUAllocator: can't allocate memory: 9 GB")).startswith("out of memory")
    msg = error_text(ValueError("bad thing\nsecond line"))
    assert msg == "unexpected error: ValueError: bad thing"
