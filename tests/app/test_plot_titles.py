"""Plot titles never widen their plot (issue 14, defect 1: the sphere's 2D map was cut to
a sliver because its long title made the plot wider than its cell)."""

from __future__ import annotations

import pyqtgraph as pg
import pytest

from app.embedding_tab.map_view import MapView
from app.widgets.plot_title import FittedTitle, fit_titles, plain_text

LONG = "Sphere, Lambert azimuthal map (no 3D: software OpenGL (llvmpipe) would slow every redraw)"


def test_a_long_title_is_elided_and_the_plot_keeps_its_width(qtbot):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    title = fit_titles(w.getPlotItem())
    w.setTitle(LONG, size="9pt")
    w.resize(220, 180)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: title.shown_text != LONG, timeout=3000)
    assert isinstance(w.getPlotItem().titleLabel, FittedTitle)
    assert w.getPlotItem().size().width() <= w.width() + 1
    assert title.shown_text.endswith("…") and LONG.startswith(title.shown_text[:-1])
    assert title.text == LONG and title.toolTip() == LONG  # the whole title stays readable
    w.resize(1400, 180)  # room again: the whole title
    qtbot.waitUntil(lambda: title.shown_text == LONG, timeout=3000)
    assert title.toolTip() == ""


def test_without_fitting_pyqtgraph_widens_the_plot(qtbot):
    """The failure the fix is for (if pyqtgraph changes this, the fix may go)."""
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.setTitle(LONG, size="9pt")
    w.resize(220, 180)
    w.show()
    qtbot.waitExposed(w)
    assert w.getPlotItem().titleLabel.minimumWidth() > 220


@pytest.mark.parametrize("width", [180, 260, 400])
def test_a_map_shows_its_whole_disk_at_small_sizes(qtbot, width):
    v = MapView(LONG, None)
    qtbot.addWidget(v)
    v.fixed_range(2.05, 2.05)
    v.resize(width, 300)
    v.show()
    qtbot.waitExposed(v)
    qtbot.wait(50)
    (x0, x1), (y0, y1) = v.view_box.viewRange()
    assert x0 <= -2.0 and x1 >= 2.0 and y0 <= -2.0 and y1 >= 2.0
    assert v.getPlotItem().size().width() <= v.width() + 1
    assert v.view_box.mapViewToScene(pg.Point(2.0, 0)).x() <= v.width()


def test_plain_text_strips_markup():
    assert plain_text("InfoNCE <b>loss</b> &amp; chance") == "InfoNCE loss & chance"
