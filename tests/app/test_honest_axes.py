"""Honest axes (issue 14, defect 14): a metric is drawn against its meaningful span, so
noise does not look like a trend; the person's zoom wins; no "x0.001" scale prefixes."""

from __future__ import annotations

import numpy as np

from simcse_core import metric_specs as MS
from simcse_core.snapshot import Snapshot

from app.state.run_model import RunModel
from app.training_tab.plots import PlotGrid


def _grid(qtbot, values):
    model = RunModel()
    grid = PlotGrid(model)
    qtbot.addWidget(grid)
    grid.resize(1200, 800)
    grid.show()
    qtbot.waitExposed(grid)
    for step, (unif, sts) in enumerate(values):
        model.add(Snapshot(step=step, total_steps=len(values), epoch=0.0, loss=1.0, temperature=0.05, lr=1e-5,
                           scalars={"uniformity": unif, "sts_spearman": sts, "alignment": 0.2}))
    grid.refresh()
    return grid


def test_tiny_changes_stay_tiny_on_the_metrics_span(qtbot):
    grid = _grid(qtbot, [(-0.012, 86.1), (-0.02, 86.6), (-0.031, 87.1)])
    (_x, (u0, u1)) = grid.uniformity.plot.viewRange()
    assert u0 <= -4.0 and u1 >= 0.0  # -0.012 -> -0.031 is a sliver of the 0 to -4 span
    (_x, (s0, s1)) = grid.sts.plot.viewRange()
    assert s0 <= 0.0 and s1 >= 100.0
    (_x, (a0, _a1)) = grid.alignment.plot.viewRange()
    assert a0 <= 0.0
    assert not grid.uniformity.plot.getAxis("left").autoSIPrefix
    # no plot of the grid writes a scale prefix (the trajectory's alignment axis once read "300 (x0.001)")
    import pyqtgraph as pg

    plots = [item for item in grid.ci.items if isinstance(item, pg.PlotItem)]
    assert len(plots) >= 8
    for plot in plots:
        assert not plot.getAxis("left").autoSIPrefix, plot.titleLabel.text
    assert "-4" in grid.uniformity.plot.getAxis("left").labelText  # the scale is stated


def test_data_beyond_the_span_widens_it_and_a_zoom_is_kept(qtbot):
    grid = _grid(qtbot, [(-3.9, 10.0), (-4.5, 12.0)])
    (_x, (u0, _u1)) = grid.uniformity.plot.viewRange()
    assert u0 <= -4.5
    view = grid.uniformity
    view.plot.getViewBox().sigRangeChangedManually.emit([False, True])  # as a wheel zoom does
    view.plot.setYRange(-4.6, -4.4, padding=0)
    grid.refresh()
    assert view.user_zoomed
    assert np.allclose(view.plot.viewRange()[1], (-4.6, -4.4))


def test_every_cell_with_a_span_gets_it():
    cells = {c.name: c for c in MS.PLOT_CELLS}
    assert cells["uniformity"].y_span == (-4.0, 0.0) and cells["sts"].y_span == (0.0, 100.0)
    assert cells["cosine"].y_span == (0.0, 1.0) and cells["accuracy"].y_span == (0.0, 1.0)


def test_anisotropy_is_plotted_beside_the_cosines(qtbot):
    grid = _grid(qtbot, [(-1.0, 50.0)])
    assert "anisotropy" in grid.cosine.curves
    assert MS.spec("anisotropy").compare
