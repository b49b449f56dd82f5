"""One row of the batch matrix as a bar chart: the row-softmax probabilities at the run's
temperature t (bars), at the lens's t' (a step line over them), the positive's bar in
its own colour and a line at its column. Items made once, updated in place."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from app.batch_tab.matrix_view import ATTRACTED_COLOUR
from app.i18n import tr

T_COLOUR = "#4c6fbf"
TP_COLOUR = "#e07b00"
POSITIVE_COLOUR = "#1a9850"


class RowChart(pg.PlotWidget):
    """Bars p_j at t over the display columns, a step line p_j at t', the positives."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("batchRowChart")
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setLabel("left", tr("probability"))
        item.setLabel("bottom", tr("column (as the matrix shows them)"))
        item.setYRange(0, 1.02, padding=0)
        self.legend = item.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.85, brush=T_COLOUR, pen=None, name=tr("p at t"))
        self.positive = pg.BarGraphItem(x=[], height=[], width=0.85, brush=POSITIVE_COLOUR, pen=None,
                                        name=tr("positive (label)"))
        self.attracted = pg.BarGraphItem(x=[], height=[], width=0.85, brush=ATTRACTED_COLOUR, pen=None)
        self.t_prime = pg.PlotDataItem([], [], stepMode="center", pen=pg.mkPen(TP_COLOUR, width=1.5), name=tr("p at t'"))
        dash = pg.mkPen(POSITIVE_COLOUR, width=1, style=Qt.PenStyle.DashLine)
        self.label_line = pg.InfiniteLine(angle=90, pen=dash)
        for it in (self.bars, self.positive, self.attracted, self.t_prime):
            item.addItem(it)
        item.addItem(self.label_line, ignoreBounds=True)
        self.label_line.hide()
        self.heights = np.zeros(0)  # p at t over the display columns (tests read it)
        self.heights_tp = np.zeros(0)

    def show_row(self, p_t: np.ndarray, p_tp: np.ndarray | None, label_col: int, extra_cols: np.ndarray,
                 title: str) -> None:
        """``p_t`` / ``p_tp`` (C,) over display columns, ``label_col`` the positive's
        display column, ``extra_cols`` attracted columns (also positives)."""
        x = np.arange(len(p_t), dtype=float) + 0.5
        self.heights = np.asarray(p_t, dtype=np.float64)
        self.bars.setOpts(x=x, height=self.heights)
        self.positive.setOpts(x=[label_col + 0.5], height=[self.heights[label_col]])
        self.attracted.setOpts(x=extra_cols + 0.5, height=self.heights[extra_cols])
        if p_tp is not None:
            self.heights_tp = np.asarray(p_tp, dtype=np.float64)
            edges = np.arange(len(p_tp) + 1, dtype=float)
            self.t_prime.setData(edges, self.heights_tp)
        else:
            self.heights_tp = np.zeros(0)
            self.t_prime.setData([], [])
        self.label_line.setValue(label_col + 0.5)
        self.label_line.show()
        self.getPlotItem().setXRange(0, len(p_t), padding=0.01)
        self.getPlotItem().setTitle(title, size="9pt")

    def clear_row(self, title: str = "") -> None:
        self.heights = self.heights_tp = np.zeros(0)
        for it in (self.bars, self.positive, self.attracted):
            it.setOpts(x=[], height=[])
        self.t_prime.setData([], [])
        self.label_line.hide()
        self.getPlotItem().setTitle(title, size="9pt")


__all__ = ["RowChart"]
