"""The dropout view's picture: a sentence's K dropout views around its eval-mode
embedding, each at its angle to the centre (degrees on the sphere, exact) in the
direction its tangent component takes in the views' main tangent plane (PCA), the two
copies of each pair joined by a line, and the nearest other sentence at its own angle
with a dashed ring through it. Items are created once and updated with ``setData``."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.i18n import tr
from app.panels.dropout_job import DropoutResult
from app.panels.lens_plots import PanelPlot

COLOR_A = "#1f77b4"  # first copy of each pair
COLOR_B = "#ff7f0e"  # second copy
COLOR_NEAR = "#d62728"  # the nearest other sentence
RING_POINTS = 181
MIN_RANGE = 1.0  # degrees: the smallest half-width shown (p = 0 puts every view at the origin)


class DropoutPlot(PanelPlot):
    """The views as points; ``draw(result)`` (None: empty). ``shown_range``: the
    half-width of the square shown, in degrees."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setMinimumHeight(240)
        p = self.getPlotItem()
        p.setAspectLocked(True)
        p.showGrid(x=True, y=True, alpha=0.2)
        p.setTitle(tr("dropout views around the eval-mode embedding"), size="9pt")
        p.setLabel("bottom", tr("angle from the centre (°), 1st direction"))
        p.setLabel("left", tr("angle (°), 2nd direction"))
        for side in ("bottom", "left"):
            p.getAxis(side).enableAutoSIPrefix(False)  # degrees as they are, never "x0.001"
        self.pair_lines = pg.PlotDataItem([], [], connect="pairs", pen=pg.mkPen("#999999", width=1))
        self.ring = pg.PlotDataItem([], [], pen=pg.mkPen(COLOR_NEAR, width=1, style=Qt.PenStyle.DashLine))
        self.copy_a = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(COLOR_A), name=tr("copy A"))
        self.copy_b = pg.ScatterPlotItem(size=8, pen=pg.mkPen(COLOR_B, width=1.5), brush=None, symbol="o",
                                         name=tr("copy B"))
        self.centre = pg.ScatterPlotItem([0.0], [0.0], size=16, symbol="+", pen=pg.mkPen("k", width=2), brush=None)
        self.nearest = pg.ScatterPlotItem(size=12, symbol="x", pen=pg.mkPen(COLOR_NEAR, width=2), brush=None)
        for item in (self.pair_lines, self.ring, self.copy_a, self.copy_b, self.centre, self.nearest):
            p.addItem(item)
        self.shown_range = MIN_RANGE

    def draw(self, result: DropoutResult | None) -> None:
        empty = np.zeros(0)
        if result is None:
            for item in (self.copy_a, self.copy_b, self.nearest):
                item.setData(empty, empty)
            self.pair_lines.setData(empty, empty)
            self.ring.setData(empty, empty)
            return
        k = result.views.k
        half = k // 2
        xy = np.degrees(result.xy)  # radians -> degrees (the angle to the centre is the distance)
        a, b = xy[:half], xy[half:k]
        self.copy_a.setData(a[:, 0], a[:, 1])
        self.copy_b.setData(b[:, 0], b[:, 1])
        pairs = np.empty((k, 2))
        pairs[0::2], pairs[1::2] = a, b  # A_i, B_i, A_i+1, B_i+1, ...
        self.pair_lines.setData(pairs[:, 0], pairs[:, 1])
        reach = float(np.linalg.norm(xy[:k], axis=1).max(initial=0.0))
        if xy.shape[0] > k:
            near = xy[k]
            radius = float(np.linalg.norm(near))
            theta = np.linspace(0.0, 2 * np.pi, RING_POINTS)
            self.ring.setData(radius * np.cos(theta), radius * np.sin(theta))
            self.nearest.setData([near[0]], [near[1]])
            reach = max(reach, radius)
        else:
            self.ring.setData(empty, empty)
            self.nearest.setData(empty, empty)
        self.shown_range = max(reach * 1.12, MIN_RANGE)
        r = self.shown_range
        pi = self.getPlotItem()
        pi.setXRange(-r, r, padding=0)
        pi.setYRange(-r, r, padding=0)
