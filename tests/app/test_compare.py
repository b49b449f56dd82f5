"""The comparison window (two runs at different temperatures) and a preset run end to
end from the studio on the tiny model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.tools.compare import CompareWindow, load_run
from simcse_core.projection import mean_knn_overlap
from simcse_core.runs import RunReader


@pytest.fixture(scope="session")
def hot_run(tmp_path_factory, tiny_model, small_corpus, tiny_config):
    """The same 6-step run as ``finished_run`` at temperature 1."""
    from simcse_core.trainer import train

    out = tmp_path_factory.mktemp("runs") / "hot"
    for _ in train(tiny_config(tiny_model, small_corpus, out, temp=1.0)):
        pass
    return out


@pytest.fixture
def compare(qtbot):
    cw = CompareWindow()
    qtbot.addWidget(cw)
    cw.show()
    yield cw
    cw.close()


def _open_two(qtbot, cw, a, b):
    with qtbot.waitSignal(cw.frames_drawn, timeout=60_000):
        with qtbot.waitSignal(cw.runs_loaded, timeout=60_000):
            cw.open_runs([a, b], ["t=0.05", "t=1"])


def test_two_temperatures_curves_views_and_overlap(qtbot, compare, finished_run, hot_run):
    cw = compare
    _open_two(qtbot, cw, finished_run, hot_run)
    assert [r.label for r in cw.runs] == ["t=0.05", "t=1"]
    assert [r.model.config["temp"] for r in cw.runs] == [0.05, 1.0]

    # two curves per plot, each with its run's data
    direct = [load_run(finished_run), load_run(hot_run)]
    for key, series in (("loss", "loss"), ("alignment", "alignment"), ("uniformity", "uniformity")):
        curves = cw.curves.curves[key]
        assert len(curves) == 2
        for item, run in zip(curves, direct):
            x, y = item.getData()
            np.testing.assert_array_equal(x, run.model.series[series].x)
            np.testing.assert_allclose(y, run.model.series[series].y)
    # a metric neither run measured (no STS file) says so inside its plot; measured ones do not
    assert not any("sts_spearman" in r.model.series and len(r.model.series["sts_spearman"]) for r in direct)
    sts_keys = [k for k, _t, series, _y in cw.curves.layout_plots if series == "sts_spearman"]
    assert sts_keys and all(cw.curves.notes[k].isVisible() for k in sts_keys)
    assert cw.curves.notes[sts_keys[0]].textItem.toPlainText() == "not in these runs"
    assert not cw.curves.notes["loss"].isVisible() and not cw.curves.notes["uniformity"].isVisible()
    for item, run in zip(cw.curves.curves["trajectory"], direct):
        x, y = item.getData()
        np.testing.assert_allclose(x, run.model.trajectory.x)
        np.testing.assert_allclose(y, run.model.trajectory.y)
    # the temperatures really differ in the curves (t=1: loss far from 0 and different)
    assert not np.allclose(cw.curves.curves["loss"][0].getData()[1], cw.curves.curves["loss"][1].getData()[1])
    assert {cw.curves.legends["loss"].items[i][1].text for i in range(2)} == {"t=0.05", "t=1"}

    # side by side at the same step; the shared slider moves both
    assert cw.step == 6 and cw.shown_steps() == [6, 6]
    with qtbot.waitSignal(cw.frames_drawn, timeout=30_000):
        cw.set_step(2)
    assert cw.step == 2 and cw.shown_steps() == [2, 2]
    assert [cw.runs[i].model.snapshots[cw.drawn[i]].step for i in range(2)] == [2, 2]
    for v, lab in zip(cw.views, ("t=0.05", "t=1")):
        assert v.getPlotItem().titleLabel.text == f"{lab} — step 2"
        assert v.rows.size == 64 and np.isfinite(v.xy).all()
    assert cw.curves.step_lines["loss"].value() == 2

    # overlap@10 equals mean_knn_overlap of the two runs' step-2 embeddings
    XA = RunReader(finished_run).load_arrays(2)["probe_embeddings"]
    XB = RunReader(hot_run).load_arrays(2)["probe_embeddings"]
    ids_a = json.loads((finished_run / "probe.json").read_text())["ids"]
    ids_b = json.loads((hot_run / "probe.json").read_text())["ids"]
    assert ids_a == ids_b  # same seed, same probe set
    expected = mean_knn_overlap(XA, XB, k=10)
    assert cw.overlap_between(0, 1) == pytest.approx(expected, abs=1e-9)
    assert cw.overlap_table.item(0, 1).text() == f"{expected:.3f}"
    assert 0.0 < expected <= 1.0

    # the view method switches without losing the step
    with qtbot.waitSignal(cw.frames_drawn, timeout=30_000):
        cw.set_method("circle")
    assert cw.shown_steps() == [2, 2]
    np.testing.assert_allclose(np.linalg.norm(cw.views[0].xy, axis=1), 1.0, atol=1e-4)


def test_nearest_snapshot_per_run(qtbot, compare, finished_run, tmp_path, tiny_model, small_corpus, tiny_config):
    """Runs with different snapshot steps: each shows its nearest snapshot."""
    from simcse_core.trainer import train

    odd = tmp_path / "every3"
    for _ in train(tiny_config(tiny_model, small_corpus, odd, snapshot_every=3)):
        pass
    _open_two(qtbot, compare, finished_run, odd)
    assert list(compare.union_steps) == [0, 2, 3, 4, 6]
    with qtbot.waitSignal(compare.frames_drawn, timeout=30_000):
        compare.set_step(4)
    assert compare.shown_steps() == [4, 3]


def test_preset_folder_and_bad_folder(qtbot, compare, tmp_path):
    with qtbot.waitSignal(compare.message, timeout=5000) as blocker:
        assert compare.open_preset_folder(tmp_path) is False
    assert "preset.json" in blocker.args[0]


def test_preset_end_to_end_from_the_studio(qtbot, make_window, tiny_model, small_corpus, tmp_path):
    from simcse_core.presets import load_preset, read_preset_folder

    w = make_window()
    tools = w.tools
    titles = [a.text() for a in w.menuBar().actions()]
    assert "&Presets" in titles and "E&xport" in titles and "&Compare" in titles
    preset = load_preset("temperature_tour").with_base(
        model_name_or_path=tiny_model, train_file=small_corpus, per_device_train_batch_size=8, max_steps=4,
        snapshot_every=2, probe_size=32, align_probe_size=16, max_seq_length=16, device="cpu")
    preset = preset.with_runs([(r.label, r.overrides) for r in preset.runs[:2]])  # t = 1 and t = 0.1
    runs_seen: list[str] = []
    w.runs.snapshot_received.connect(lambda _s: runs_seen.append(w.model.run_dir))
    with qtbot.waitSignal(w.runs.preset_finished, timeout=120_000):
        source = tools.presets.run_preset(preset, tmp_path / "presets")
        assert source is not None and w.runs.source is source
    assert source.error is None
    folder = tmp_path / "presets" / "temperature_tour"
    p, runs = read_preset_folder(folder)
    assert [r[2] for r in runs] == ["done", "done"]
    assert runs_seen.count(str(folder / "t-1")) == 3 and runs_seen.count(str(folder / "t-0.1")) == 3
    # the window showed the runs live: its model holds the last run
    assert w.model.run_dir == str(folder / "t-0.1") and w.model.last_step == 4
    cw = w.tools.compare_window
    assert cw is not None and cw.isVisible()
    qtbot.waitUntil(lambda: len(cw.runs) == 2 and cw.drawn_position is not None, timeout=60_000)
    assert [r.label for r in cw.runs] == ["t = 1", "t = 0.1"]
    assert [r.model.config["temp"] for r in cw.runs] == [1.0, 0.1]
    assert cw.shown_steps() == [4, 4]


def test_preset_stop_cancels(qtbot, make_window, tiny_model, small_corpus, tmp_path):
    from simcse_core.presets import load_preset, read_preset_folder

    w = make_window()
    preset = load_preset("temperature_tour").with_base(
        model_name_or_path=tiny_model, train_file=small_corpus, per_device_train_batch_size=8, max_steps=400,
        snapshot_every=2, probe_size=32, align_probe_size=16, max_seq_length=16, device="cpu")
    source = w.tools.presets.run_preset(preset, tmp_path / "presets")
    assert source is not None
    qtbot.waitUntil(lambda: len(w.model.snapshots) >= 2 and w.model.run_dir.endswith("t-1"), timeout=60_000)
    with qtbot.waitSignal(w.runs.preset_finished, timeout=60_000):
        w.controls.stop_button.click()  # the run bar's Stop stops a preset too
    _, runs = read_preset_folder(tmp_path / "presets" / "temperature_tour")
    assert runs[0][2] == "stopped" and all(r[2] == "pending" for r in runs[1:])
