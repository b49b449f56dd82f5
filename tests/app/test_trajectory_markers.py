"""The alignment-uniformity trajectory of a long run: every point on its path, a bounded
and stable set of markers (an hour at a snapshot a step is about 10,000 points)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.state.run_model import RunModel
from app.training_tab.plots import TRAJ_MARKERS, TrajectoryPlot, marker_rows


def test_marker_rows_are_bounded_stable_and_keep_the_last():
    assert list(marker_rows(5, limit=10)) == [0, 1, 2, 3, 4]
    assert len(marker_rows(0)) == 0
    for n in (401, 1000, 10_000, 65_537):
        rows = marker_rows(n)
        assert len(rows) <= 2 * TRAJ_MARKERS + 1 and rows[0] == 0 and rows[-1] == n - 1
        assert np.all(np.diff(rows) > 0)
    # a marker once drawn stays (until the stride doubles): the run grows by one point
    a, b = set(marker_rows(3000)[:-1]), set(marker_rows(3001)[:-1])
    assert a <= b


def test_a_long_trajectory_draws_its_whole_path_and_few_markers(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    view = TrajectoryPlot(widget.getPlotItem())
    model = RunModel()
    n = 5000
    rng = np.random.default_rng(0)
    u, a = -np.linspace(0.5, 3.5, n) + rng.normal(0, 0.01, n), np.linspace(0.1, 0.4, n)
    for i in range(n):
        model.trajectory.append(float(u[i]), float(a[i]))
        model.trajectory_steps.append(i, float(i * 5))
    view.update(model)
    px, py = view.path.getData()
    assert len(px) == n and np.allclose(py, a)  # the path keeps every point
    pts = view.scatter.data
    assert len(pts) == len(marker_rows(n)) <= 2 * TRAJ_MARKERS + 1
    assert pts["data"][-1] == (n - 1) * 5 and np.isclose(pts["x"][-1], u[-1])  # the newest point is marked
    assert np.isclose(view.last.data["x"][0], u[-1])
