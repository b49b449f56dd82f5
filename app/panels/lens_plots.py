"""The temperature lens's plots: r_ij bars at t and t' for one anchor's top negatives,
its statistics table, and the batch-wide histograms. Items are created once and
updated in place (``setOpts`` / ``setData``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from simcse_core.false_negatives import AnchorLens, LensHistograms

TOP_BARS = 30  # negatives drawn as bars
COLOR_T = "#1f77b4"
COLOR_TP = "#ff7f0e"


def brush(color: str, alpha: int = 255) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def short(text: str | None, n: int = 90) -> str:
    """``text`` on one line, cut to ``n`` characters."""
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _stats_html(L: AnchorLens) -> str:
    a, b = L.at_t, L.at_tp

    def row(name: str, va: float, vb: float, fmt: str = "{:.3g}") -> str:
        return f"<tr><td>{name}</td><td align=right>{fmt.format(va)}</td><td align=right>{fmt.format(vb)}</td></tr>"

    return ("<table cellspacing=0 cellpadding=1>"
            f"<tr><th></th><th align=right><font color='{COLOR_T}'>t = {a.temperature:.4g}</font></th>"
            f"<th align=right><font color='{COLOR_TP}'>t' = {b.temperature:.4g}</font></th></tr>"
            + row("entropy H of r", a.entropy, b.entropy)
            + row(f"effective negatives exp(H) (of {len(L.columns)})", a.effective, b.effective)
            + row("weight on the top-1 negative", a.top1, b.top1, "{:.1%}")
            + row("weight on the top-5 negatives", a.top5, b.top5, "{:.1%}")
            + row("positive's gradient weight (1 − P_ii)/t", a.pos_grad, b.pos_grad)
            + row("loss −log P_ii", a.loss, b.loss)
            + "</table>")


class LensPlots(QWidget):
    """Bars (``bars_t``, ``bars_tp``, ``cos_curve``), ``hover_label``, ``stats_label``,
    histograms (``hist_bars[f"{top1|effective}_{t|tp}"]``) and ``hist_label``.

    ``describe(rank)`` gives the hover line of a bar (set by the panel)."""

    def __init__(self, describe: Callable[[int], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.describe = describe
        self.current: AnchorLens | None = None
        self._hover_rank: int | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self._build_bars(lay)
        self.stats_label = QLabel()
        self.stats_label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.stats_label)
        self._build_histograms(lay)

    def _build_bars(self, lay: QVBoxLayout) -> None:
        self.bar_plot = pg.PlotWidget()
        self.bar_plot.setMinimumHeight(170)
        p = self.bar_plot.getPlotItem()
        p.setTitle("share of the push r_ij on each negative (sorted by cosine)", size="9pt")
        p.setLabel("bottom", "negative rank by cosine")
        p.setLabel("left", "r_ij")
        p.showGrid(y=True, alpha=0.25)
        p.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.bars_t = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.4,
                                      brush=brush(COLOR_T, 200), pen=None, name="r at t")
        self.bars_tp = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.4,
                                       brush=brush(COLOR_TP, 200), pen=None, name="r at t'")
        p.addItem(self.bars_t)
        p.addItem(self.bars_tp)
        self.cos_curve = p.plot([], [], pen=pg.mkPen("#555555", width=1, style=Qt.PenStyle.DotLine),
                                name="cosine (scaled to max r)")
        self.bar_plot.scene().sigMouseMoved.connect(self._hover)
        lay.addWidget(self.bar_plot, 3)
        self.hover_label = QLabel("hover a bar for the negative's sentence")
        self.hover_label.setWordWrap(True)
        self.hover_label.setStyleSheet("color: #444;")
        lay.addWidget(self.hover_label)

    def _build_histograms(self, lay: QVBoxLayout) -> None:
        grid = QGridLayout()
        self.hist_top1 = pg.PlotWidget()
        self.hist_eff = pg.PlotWidget()
        self.hist_bars: dict[str, pg.BarGraphItem] = {}
        for w, key, title in ((self.hist_top1, "top1", "batch: largest r_ij per anchor"),
                              (self.hist_eff, "effective", "batch: exp(H) per anchor")):
            w.setMinimumHeight(110)
            pi = w.getPlotItem()
            pi.setTitle(title, size="8pt")
            pi.setLabel("left", "anchors")
            for suffix, color in (("t", COLOR_T), ("tp", COLOR_TP)):
                item = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.1, brush=brush(color, 150), pen=None)
                pi.addItem(item)
                self.hist_bars[f"{key}_{suffix}"] = item
        grid.addWidget(self.hist_top1, 0, 0)
        grid.addWidget(self.hist_eff, 0, 1)
        lay.addLayout(grid, 2)
        self.hist_label = QLabel()
        self.hist_label.setStyleSheet("color: #444;")
        lay.addWidget(self.hist_label)

    # ------------------------------------------------------------------ drawing
    def draw(self, L: AnchorLens | None, histograms: LensHistograms | None) -> None:
        """Show one anchor's lens (None: empty) and the batch histograms."""
        self.current = L
        self._hover_rank = None
        empty = np.zeros(0)
        if L is None:
            self.bars_t.setOpts(x=empty, height=empty)
            self.bars_tp.setOpts(x=empty, height=empty)
            self.cos_curve.setData([], [])
            self.stats_label.setText("")
            self._draw_histograms(None)
            return
        k = min(TOP_BARS, len(L.columns))
        x = np.arange(1, k + 1, dtype=np.float64)
        wt, wtp = L.weight_t[:k], L.weight_tp[:k]
        self.bars_t.setOpts(x=x - 0.2, height=wt, width=0.4)
        self.bars_tp.setOpts(x=x + 0.2, height=wtp, width=0.4)
        top = float(max(wt.max(initial=0.0), wtp.max(initial=0.0))) or 1.0
        cos = L.cosine[:k]
        lo = float(cos.min(initial=0.0))
        span = float(cos.max(initial=1.0)) - lo
        self.cos_curve.setData(x, (cos - lo) / (span if span > 0 else 1.0) * top)
        self.bar_plot.getPlotItem().setXRange(0.3, k + 0.7, padding=0)
        self.bar_plot.getPlotItem().setYRange(0, top * 1.05, padding=0)
        self.stats_label.setText(_stats_html(L))
        self._draw_histograms(histograms)

    def _draw_histograms(self, h: LensHistograms | None) -> None:
        if h is None:
            for item in self.hist_bars.values():
                item.setOpts(x=np.zeros(0), height=np.zeros(0))
            self.hist_label.setText("")
            return
        for key, edges, vt, vtp in (("top1", h.top1_edges, h.top1_t, h.top1_tp),
                                    ("effective", h.effective_edges, h.effective_t, h.effective_tp)):
            w = float(edges[1] - edges[0])
            centres = (edges[:-1] + edges[1:]) / 2
            self.hist_bars[f"{key}_t"].setOpts(x=centres - w / 4, height=vt.astype(np.float64), width=w / 2)
            self.hist_bars[f"{key}_tp"].setOpts(x=centres + w / 4, height=vtp.astype(np.float64), width=w / 2)
        self.hist_label.setText(
            f"batch means — largest r: {h.mean_top1_t:.2f} at t, {h.mean_top1_tp:.2f} at t'; "
            f"exp(H): {h.mean_effective_t:.1f} at t, {h.mean_effective_tp:.1f} at t'; "
            f"loss: {h.mean_loss_t:.3f} at t, {h.mean_loss_tp:.3f} at t'")

    def _hover(self, pos: Any) -> None:
        L = self.current
        pi = self.bar_plot.getPlotItem()
        if L is None or not pi.sceneBoundingRect().contains(pos):
            return
        rank = int(round(pi.vb.mapSceneToView(pos).x()))
        if not 1 <= rank <= min(TOP_BARS, len(L.columns)) or rank == self._hover_rank:
            return
        self._hover_rank = rank
        line = self.describe(rank)
        self.hover_label.setText(line)
        self.bar_plot.setToolTip(line)
