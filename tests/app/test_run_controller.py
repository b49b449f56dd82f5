"""The run controller: one writer of the run model for every source, and the two bugs
that came from having three (issue 11): a scrubbed timeline hid the next run, and a
preset left the run bar on the previous run with Train enabled."""

from __future__ import annotations

import numpy as np
import pytest

from app.runs.controller import RunController
from app.runs.sources import FolderSource, LiveSource
from app.state.run_model import RunModel
from app.state.view_state import ViewState

TIMEOUT = 120_000


def _preset(tiny_model, small_corpus, steps=4, runs=2):
    from simcse_core.presets import load_preset

    preset = load_preset("temperature_tour").with_base(
        model_name_or_path=tiny_model, train_file=small_corpus, per_device_train_batch_size=8, max_steps=steps,
        snapshot_every=2, probe_size=32, align_probe_size=16, max_seq_length=16, device="cpu")
    return preset.with_runs([(r.label, r.overrides) for r in preset.runs[:runs]])


# ---------------------------------------------------------------------- no window
def test_every_source_resets_the_model_and_follows_the_newest(qtbot, finished_run, tiny_config, tiny_model,
                                                               small_corpus, tmp_path):
    model, vs = RunModel(), ViewState()
    runs = RunController(model, vs, tmp_path / "runs")
    with qtbot.waitSignal(runs.run_finished, timeout=TIMEOUT):
        assert runs.open_run(finished_run)
    assert isinstance(runs.source, FolderSource) and runs.state == "viewing"
    n_replayed = len(model.snapshots)
    assert n_replayed > 2 and model.run_dir == str(finished_run)
    vs.snapshot_index = 1  # the person scrubs back
    gen = model.generation
    with qtbot.waitSignal(runs.run_finished, timeout=TIMEOUT) as done:
        assert runs.start_training(tiny_config(tiny_model, small_corpus, tmp_path / "live", max_steps=4))
        assert isinstance(runs.source, LiveSource) and runs.training
    assert done.args[0] is not None and not done.args[0].stopped
    assert model.generation == gen + 1 and vs.snapshot_index == -1
    assert model.run_dir == str(tmp_path / "live") and model.last_step == 4
    assert runs.source is None and runs.state == "idle" and not runs.training


def test_a_stale_source_never_writes_the_model(qtbot, finished_run, tmp_path):
    model, vs = RunModel(), ViewState()
    runs = RunController(model, vs, tmp_path / "runs")
    assert runs.open_run(finished_run)
    first = runs.source
    assert runs.open_run(finished_run)  # opened again before the first read came back
    with qtbot.waitSignal(runs.run_finished, timeout=TIMEOUT):
        pass
    qtbot.wait(300)
    steps = [s.step for s in model.snapshots]
    assert steps == sorted(set(steps)), "two reads were mixed into one model"
    assert first is not runs.source


def test_redraw_is_throttled_and_no_snapshot_is_lost(qtbot, tiny_config, tiny_model, small_corpus, tmp_path):
    model, vs = RunModel(), ViewState()
    runs = RunController(model, vs, tmp_path / "runs")
    redraws, received = [], []
    runs.redraw.connect(lambda: redraws.append(1))
    runs.snapshot_received.connect(received.append)
    cfg = tiny_config(tiny_model, small_corpus, tmp_path / "r", max_steps=12, snapshot_every=1)
    with qtbot.waitSignal(runs.run_finished, timeout=TIMEOUT):
        runs.start_training(cfg)
    assert len(model.snapshots) == len(received) == 13
    assert np.array_equal(model.series["loss"].x, [s.step for s in received])
    assert 1 <= len(redraws) <= len(received) + 3


def test_training_refuses_a_second_run_and_says_why(qtbot, tiny_config, tiny_model, small_corpus, tmp_path):
    model, vs = RunModel(), ViewState()
    runs = RunController(model, vs, tmp_path / "runs")
    messages = []
    runs.message.connect(lambda t, k: messages.append((k, t)))
    assert runs.start_training(tiny_config(tiny_model, small_corpus, tmp_path / "a", max_steps=400))
    assert not runs.start_training(tiny_config(tiny_model, small_corpus, tmp_path / "b", max_steps=4))
    assert not runs.open_run(tmp_path)
    assert messages and all(k == "error" and "stop it first" in t for k, t in messages)
    with qtbot.waitSignal(runs.run_finished, timeout=TIMEOUT) as done:
        runs.stop()
    assert done.args[0].stopped and runs.state == "idle"


# ---------------------------------------------------------------------- the two bugs
def test_scrubbed_timeline_then_new_run_shows_the_new_run(qtbot, studio, tiny_config, tiny_model, small_corpus,
                                                           tmp_path):
    """Bug: after scrubbing (which unticks "follow newest"), a new run ended with the
    embedding tab showing no snapshot, the lens "no batch yet" and no neighbours."""
    w, _tools = studio
    emb = w.embedding
    w.view_state.snapshot_index = 1
    assert not emb.timeline.follow.isChecked()
    with qtbot.waitSignal(w.runs.run_finished, timeout=TIMEOUT):
        assert w.start_training(tiny_config(tiny_model, small_corpus, tmp_path / "new", max_steps=4))
    assert w.model.run_dir == str(tmp_path / "new")
    assert w.view_state.snapshot_index == -1 and emb.timeline.follow.isChecked()
    last = w.model.probe_indices()[-1]
    qtbot.waitUntil(lambda: emb.drawn_index == last, timeout=30_000)
    assert emb.hammer_view.rows.size > 0
    qtbot.waitUntil(lambda: "no batch" not in w.lens_panel.anchor_label.text(), timeout=10_000)
    w.selection.select(int(w.model.probe_ids[0]))
    qtbot.waitUntil(lambda: len(emb.panel.neighbour_rows()) > 0, timeout=10_000)


def test_preset_drives_the_run_bar_and_disables_train(qtbot, make_window, tiny_config, tiny_model, small_corpus,
                                                       tmp_path):
    """Bug: during a preset the window kept the previous run's "finished at step N / N"
    and Train stayed enabled."""
    w = make_window(restore=False)
    with qtbot.waitSignal(w.runs.run_finished, timeout=TIMEOUT):
        w.start_training(tiny_config(tiny_model, small_corpus, tmp_path / "first", max_steps=4))
    assert w.controls.progress.format().startswith("finished at step 4")
    assert w.controls.train_button.isEnabled()
    source = w.tools.presets.run_preset(_preset(tiny_model, small_corpus, steps=6), tmp_path / "presets")
    assert source is not None
    assert not w.controls.train_button.isEnabled() and w.controls.stop_button.isEnabled()
    assert "finished" not in w.controls.progress.format()  # "loading model and data…"
    qtbot.waitUntil(lambda: w.model.run_dir != str(tmp_path / "first") and len(w.model.snapshots) >= 2,
                    timeout=TIMEOUT)
    assert not w.controls.train_button.isEnabled() and w.controls.stop_button.isEnabled()
    assert "finished" not in w.controls.progress.format()
    assert "preset temperature_tour" in w.run_label.text() and "run 1 of 2" in w.run_label.text()
    assert not w.start_training()  # refused while the preset trains, with a message
    assert "stop it first" in w.message_bar.text
    with qtbot.waitSignal(w.runs.preset_finished, timeout=TIMEOUT):
        pass
    assert w.controls.train_button.isEnabled()
    assert w.model.run_dir.endswith("t-0.1")
    assert w.tools.compare_window is not None


@pytest.mark.parametrize("follow", [False, True])
def test_run_bar_follows_a_folder(qtbot, make_window, finished_run, follow):
    w = make_window(restore=False)
    with qtbot.waitSignal(w.runs.run_finished, timeout=TIMEOUT):
        assert w.open_run(finished_run, follow=follow)
    assert w.controls.state == "viewing" and w.controls.save_button.isEnabled()
    assert w.controls.progress.format().startswith("finished at step 6")
    assert ("following: " if follow else "run: ") + str(finished_run) == w.run_label.text()
