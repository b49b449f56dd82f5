"""PySide6 6.12.0 with pyqtgraph 0.14.0 aborted the interpreter ("Fatal Python error:
none_dealloc") when a ScatterPlotItem got per-point brushes. The studio's trajectory
plot does exactly that, so keep the path exercised (pyproject pins PySide6 < 6.12)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor


def test_scatter_with_per_point_brushes_renders(qtbot):
    pg.setConfigOptions(background="w", antialias=False)
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    palette = [QBrush(QColor(c)) for c in ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd")]
    rng = np.random.default_rng(0)
    n = 500
    x, y = rng.normal(size=n), rng.normal(size=n)
    brushes = [palette[i % len(palette)] for i in range(n)]  # 5 brushes reused over 500 points
    scatter = pg.ScatterPlotItem(x=x, y=y, size=8, pen=None, brush=brushes, pxMode=True)
    widget.addItem(scatter)
    widget.show()
    qtbot.waitExposed(widget)
    for _ in range(3):  # re-set the data: the symbol cache path runs again
        scatter.setData(x=x, y=y, brush=brushes)
    img = widget.grab().toImage()
    assert not img.isNull() and img.width() > 100
    coloured = 0
    for px in range(0, img.width(), 2):
        for py in range(0, img.height(), 2):
            c = img.pixelColor(px, py)
            if c.saturation() > 100:
                coloured += 1
    assert coloured > 50, f"the scatter drew only {coloured} coloured pixels"
