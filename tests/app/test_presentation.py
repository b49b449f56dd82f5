"""Presentation mode (docks hidden, large type, keys for the talk, layout restored) and
screenshots of presentation mode and of the comparison window under Xvfb."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.tools.presentation import DEFAULT_SCALE
from xvfb_common import run_probe

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
OUT = ROOT / "test-output" / "xvfb"


def test_enter_hides_docks_scales_and_leave_restores(qtbot, studio):
    w, tools = studio
    pres = w.tools.presentation
    docks = {"setup": w.setup_dock, "neighbours": w.neighbours_dock, "lens": w.lens_dock}
    before = {k: d.isVisible() for k, d in docks.items()}
    assert before["setup"] and before["neighbours"]
    font = w.font().pointSizeF()
    title = w.plots.loss.plot.titleLabel.opts["size"]
    axis_font = w.plots.loss.plot.getAxis("bottom").style.get("tickFont")
    dot = w.embedding.hammer_view.scatter.opts["size"]
    pen = w.plots.loss.curves["loss"].opts["pen"].widthF()
    areas = {k: w.dockWidgetArea(d) for k, d in docks.items()}
    size = w.size()

    with qtbot.waitSignal(pres.toggled, timeout=5000):
        pres.enter()
    assert pres.active and pres.toggle_action.isChecked()
    assert not any(d.isVisible() for d in docks.values())
    assert not w.menuBar().isVisible() and not w.statusBar().isVisible()
    assert w.isFullScreen()
    assert w.font().pointSizeF() == pytest.approx(font * DEFAULT_SCALE)
    assert float(w.plots.loss.plot.titleLabel.opts["size"].rstrip("pt")) == pytest.approx(
        float(title.rstrip("pt")) * DEFAULT_SCALE, abs=0.5)
    big_axis = w.plots.loss.plot.getAxis("bottom").style["tickFont"]
    assert big_axis.pointSizeF() >= 1.7 * (axis_font.pointSizeF() if axis_font is not None else 9.0)
    assert w.embedding.hammer_view.scatter.opts["size"] == pytest.approx(dot * DEFAULT_SCALE)
    assert w.plots.loss.curves["loss"].opts["pen"].widthF() == pytest.approx(pen * DEFAULT_SCALE)

    with qtbot.waitSignal(pres.toggled, timeout=5000):
        qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert not pres.active
    assert {k: d.isVisible() for k, d in docks.items()} == before
    assert w.menuBar().isVisible() and not w.isFullScreen()
    assert w.font().pointSizeF() == pytest.approx(font)
    assert w.plots.loss.plot.titleLabel.opts["size"] == title
    assert w.embedding.hammer_view.scatter.opts["size"] == pytest.approx(dot)
    assert w.plots.loss.curves["loss"].opts["pen"].widthF() == pytest.approx(pen)
    assert {k: w.dockWidgetArea(d) for k, d in docks.items()} == areas
    assert w.size() == size


def test_keys_move_the_timeline_and_switch_views(qtbot, studio):
    w, _tools = studio
    pres = w.tools.presentation
    emb = w.embedding
    n = len(w.model.snapshots)
    assert n == 4
    qtbot.keyClick(w, Qt.Key.Key_Left)  # not presenting: the key does nothing here
    assert w.view_state.snapshot_index == -1
    pres.enter()
    qtbot.keyClick(w, Qt.Key.Key_Left)
    assert w.view_state.snapshot_index == n - 2
    qtbot.waitUntil(lambda: emb.drawn_index == n - 2, timeout=30_000)
    qtbot.keyClick(w, Qt.Key.Key_Left)
    qtbot.keyClick(w, Qt.Key.Key_Left)
    qtbot.keyClick(w, Qt.Key.Key_Left)  # stops at the first snapshot
    assert w.view_state.snapshot_index == 0 and emb.timeline.slider.value() == 0
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert w.view_state.snapshot_index == 1
    qtbot.keyClick(w, Qt.Key.Key_1)
    assert w.tabs.currentWidget() is w.plots
    qtbot.keyClick(w, Qt.Key.Key_2)
    assert w.tabs.currentWidget() is emb
    qtbot.keyClick(w, Qt.Key.Key_3)
    assert w.lens_dock.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_3)
    assert not w.lens_dock.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert emb.timeline.play_button.isChecked()
    qtbot.waitUntil(lambda: w.view_state.snapshot_index == n - 1, timeout=10_000)  # plays to the end
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not emb.timeline.play_button.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_F11)  # F11 toggles too
    assert not pres.active


def lens_cells_elided(table) -> list[str]:
    """The statistics cells (and headers) of the lens whose text is wider than its column."""
    fm = table.fontMetrics()
    hfm = table.horizontalHeader().fontMetrics()
    out = []
    for c in range(table.columnCount()):
        width = table.columnWidth(c)
        head = table.horizontalHeaderItem(c).text() if table.horizontalHeaderItem(c) else ""
        if hfm.horizontalAdvance(head) + 8 > width:
            out.append(f"header {head!r} ({width}px)")
        for r in range(table.rowCount()):
            text = table.item(r, c).text()
            if fm.horizontalAdvance(text) + 6 > width:
                out.append(f"{text!r} ({width}px)")
    return out


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_presented_lens_is_whole_and_the_run_bar_current(qtbot, studio, size, monkeypatch):
    """Issue 14: in presentation mode the lens (key 3) opens as wide as its content at the
    large font (no cell elided, the chart whole), the notes a style sheet holds are
    scaled too, and the run bar shows only while a run trains (no stale line)."""
    from PySide6.QtWidgets import QScrollArea

    from app.shell.run_controls import RunControls

    w, _tools = studio
    pres = w.tools.presentation
    pres.full_screen = False  # the size under test, whatever the test screen is
    w.resize(*size)
    qtbot.wait(20)
    note = w.embedding.info
    note_size = note.font().pointSizeF()
    bar = w.findChild(RunControls)
    assert bar.isVisible()
    pres.enter()
    qtbot.wait(20)
    w.layout().activate()
    w.resize(*size)  # as full screen does (the normal layout's minimum is wider than 1280)
    qtbot.wait(20)
    assert w.width() <= size[0]
    qtbot.keyClick(w, Qt.Key.Key_3)
    qtbot.wait(50)
    assert w.width() <= size[0]
    lens = w.lens_panel
    sc = w.lens_dock.widget()
    assert isinstance(sc, QScrollArea) and w.lens_dock.isVisible()
    assert not sc.horizontalScrollBar().isVisible() or sc.horizontalScrollBar().maximum() == 0
    table = lens.plots.stats_table
    assert table.font().pointSizeF() >= 1.7 * 9.0 * 0.95
    assert lens_cells_elided(table) == []
    view = sc.viewport().rect()
    for part in (lens.plots.bar_plot, table, lens.apply_button, lens.help_button):
        r = part.geometry().translated(part.parentWidget().mapTo(sc.viewport(), part.parentWidget().rect().topLeft()))
        assert r.left() >= 0 and r.right() <= view.right(), f"{type(part).__name__} {r} cut in {view} at {size}"
    assert note.font().pointSizeF() == pytest.approx(note_size * DEFAULT_SCALE, rel=0.05)
    # the run bar: hidden while nothing trains (its "finished at step ..." would be stale) ...
    assert bar.isHidden()
    # ... and shown, with the live run's line, while one trains
    monkeypatch.setattr(type(w.runs), "training", property(lambda self: True))
    w.runs.state_changed.emit("running")
    assert not bar.isHidden()  # (at 1280 x 720 the lens takes the window: the centre waits behind it)
    pres.leave()
    assert bar.isVisible() and note.font().pointSizeF() == pytest.approx(note_size)
    assert w.centralWidget().isVisible()


@pytest.mark.xvfb
def test_xvfb_screenshots_presentation_and_compare(tmp_path, finished_run, tiny_model, small_corpus, tiny_config,
                                                    xvfb_run, image_stats):
    xvfb = xvfb_run
    from simcse_core.trainer import train

    hot = tmp_path / "hot"
    for _ in train(tiny_config(tiny_model, small_corpus, hot, temp=1.0, probe_size=150)):
        pass
    warm = tmp_path / "warm"
    for _ in train(tiny_config(tiny_model, small_corpus, warm, probe_size=150)):
        pass
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("presentation-embedding.png", "presentation-training.png", "compare.png"):
        (OUT / name).unlink(missing_ok=True)
    run_probe("xvfb_presentation_probe.py", [warm, hot, OUT, tmp_path], tmp_path, xvfb, timeout=240,
              env={"NUMBA_NUM_THREADS": "1", "SIMCSE_STUDIO_GL": "1"})  # the 3D sphere despite software GL
    from PySide6.QtGui import QImage

    for name in ("presentation-embedding.png", "presentation-training.png"):
        img = QImage(str(OUT / name))
        assert (img.width(), img.height()) == (1920, 1080), name  # full screen on a 1920x1080 display
        colours, busy = image_stats(OUT / name)
        assert colours >= 8 and busy > 0.05, name
    colours, busy = image_stats(OUT / "compare.png")
    assert colours >= 8 and busy > 0.05
