"""Exports: figures (PNG/SVG at a chosen size), timeline animations (GIF, MP4) and the
data exports of simcse_core.export run from the studio in workers."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.tools.exporting import export_image, image_targets


@pytest.mark.parametrize("size", [(800, 500), (640, 960)])
def test_png_and_svg_of_a_plot_at_a_chosen_size(studio, tmp_path, size):
    w, _tools = studio
    width, height = size
    png = export_image(w.plots.loss.plot, tmp_path / "loss.png", width, height)
    img = QImage(str(png))
    assert not img.isNull() and (img.width(), img.height()) == size
    colours = {img.pixel(x, y) for x in range(0, width, 16) for y in range(0, height, 16)}
    assert len(colours) > 3  # a plot was drawn, not a blank canvas
    svg = export_image(w.plots.loss.plot, tmp_path / "loss.svg", width, height)
    root = ElementTree.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == f"{width}px" and root.get("height") == f"{height}px"
    assert "InfoNCE loss" in svg.read_text(encoding="utf-8")


def test_every_listed_target_exports(studio, tmp_path):
    w, tools = studio
    targets = image_targets(w.context.parts, w.tools.compare_window)
    names = [n for n, _t in targets]
    assert "Training plots (all)" in names and "Embedding space (the four views)" in names
    assert any(n.startswith("Embedding: UMAP") or n.startswith("Embedding: Sphere") for n in names)
    for i, (name, target) in enumerate(targets):
        png = export_image(target, tmp_path / f"t{i}.png", 320, 200)
        assert (QImage(str(png)).width(), QImage(str(png)).height()) == (320, 200), name
        svg = export_image(target, tmp_path / f"t{i}.svg", 320, 200)
        assert ElementTree.parse(svg).getroot().tag.endswith("svg"), name
    with pytest.raises(ValueError):
        export_image(w.plots, tmp_path / "x.jpg", 10, 10)


def _run_timeline(qtbot, tools, path, **kw):
    job = tools.export_timeline(path, **kw)
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=120_000):
        pass
    return job


def test_timeline_gif_has_one_frame_per_snapshot(qtbot, studio, tmp_path):
    import imageio.v3 as iio

    w, tools = studio
    n = len(w.model.probe_indices())
    assert n == 4  # steps 0, 2, 4, 6
    before = w.view_state.snapshot_index
    job = _run_timeline(qtbot, tools, tmp_path / "timeline.gif", fps=5, size=(400, 300))
    frames = iio.imread(tmp_path / "timeline.gif", index=None)
    assert frames.shape == (n, 300, 400, 3)
    assert job.done == n and w.view_state.snapshot_index == before  # the timeline is put back
    assert not np.array_equal(frames[0], frames[-1])


def test_timeline_mp4_decodes_with_frame_count_and_size(qtbot, studio, tmp_path):
    import imageio.v3 as iio

    w, tools = studio
    _run_timeline(qtbot, tools, tmp_path / "timeline.mp4", fps=4, size=(480, 320))
    props = iio.improps(tmp_path / "timeline.mp4", plugin="FFMPEG")
    assert props.shape[1:] == (320, 480, 3)
    frames = iio.imread(tmp_path / "timeline.mp4", plugin="FFMPEG", index=None)
    assert frames.shape == (4, 320, 480, 3)


def test_comparison_timeline_gif(qtbot, studio, tmp_path, finished_run):
    import imageio.v3 as iio

    w, tools = studio
    cw = tools.open_compare([str(finished_run), str(finished_run)], ["a", "b"])
    qtbot.waitUntil(lambda: len(cw.runs) == 2 and cw.drawn_position is not None, timeout=60_000)
    _run_timeline(qtbot, tools, tmp_path / "compare.gif", source="compare", size=(600, 300))
    assert iio.imread(tmp_path / "compare.gif", index=None).shape == (4, 300, 600, 3)
    assert cw.overlap_between(0, 1) == pytest.approx(1.0)  # a run against itself


def test_timeline_export_cancel_removes_the_file(qtbot, studio, tmp_path):
    w, tools = studio
    job = tools.export_timeline(tmp_path / "cut.gif", size=(200, 100))
    assert job.dialog is not None and job.dialog.isVisible()
    qtbot.waitUntil(lambda: job.done >= 1, timeout=30_000)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.cancel()
    assert job.wait_encoder(30)
    assert not (tmp_path / "cut.gif").exists()
    assert job.state == "cancelled"


def test_timeline_export_never_blocks_the_gui_long(qtbot, studio, tmp_path):
    """Each timer tick does one small piece of work: the GUI thread's longest gap
    between events stays short while frames are rendered and encoded."""
    import time

    from PySide6.QtCore import QTimer

    w, tools = studio
    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    t = QTimer()
    t.setInterval(5)
    t.timeout.connect(beat)
    t.start()
    _run_timeline(qtbot, tools, tmp_path / "beat.gif", size=(400, 300))
    t.stop()
    assert max(gaps) < 0.5, f"the GUI thread stalled {max(gaps) * 1000:.0f} ms"


def test_data_exports_in_workers(qtbot, studio, tmp_path, finished_run):
    from simcse_core.export import export_metrics_csv, export_npy, export_projector

    w, tools = studio
    de = tools.data_exports
    with qtbot.waitSignal(de.done, timeout=30_000) as b:
        de.metrics_csv(w.model.run_dir, tmp_path / "m.csv")
    assert b.args[0] == "metrics"
    ref = export_metrics_csv(finished_run, tmp_path / "ref.csv")
    assert (tmp_path / "m.csv").read_text() == ref.read_text()

    step = tools.shown_step()
    assert step == 6
    with qtbot.waitSignal(de.done, timeout=30_000) as b:
        de.projector(w.model.run_dir, step, tmp_path / "proj")
    assert b.args[0] == "projector" and set(b.args[1]) == {"tensors", "metadata", "config"}
    export_projector(finished_run, step, tmp_path / "proj_ref")
    for f in ("tensors.tsv", "metadata.tsv", "projector_config.pbtxt"):
        assert (tmp_path / "proj" / f).read_bytes() == (tmp_path / "proj_ref" / f).read_bytes()

    with qtbot.waitSignal(de.done, timeout=30_000):
        de.npy(w.model.run_dir, 2, tmp_path / "npy")
    export_npy(finished_run, 2, tmp_path / "npy_ref")
    np.testing.assert_array_equal(np.load(tmp_path / "npy" / "embeddings.npy"),
                                  np.load(tmp_path / "npy_ref" / "embeddings.npy"))
    assert (tmp_path / "npy" / "metadata.csv").read_text() == (tmp_path / "npy_ref" / "metadata.csv").read_text()

    with qtbot.waitSignal(de.done, timeout=60_000) as b:
        de.model(w.model.run_dir, tmp_path / "model")
    assert b.args[0] == "model"
    modules = json.loads((tmp_path / "model" / "modules.json").read_text())
    assert modules and (tmp_path / "model" / "config_sentence_transformers.json").is_file()

    with qtbot.waitSignal(de.failed, timeout=30_000) as b:
        de.model(w.model.run_dir, tmp_path / "model")  # not empty now
    assert b.args[0] == "model" and "not empty" in b.args[1]
