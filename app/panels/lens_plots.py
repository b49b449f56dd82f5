"""The temperature lens's plots: r_ij bars at t and t' for one anchor's top negatives,
its statistics table, and the batch-wide histograms. Items are created once and
updated in place (``setOpts`` / ``setData``). Shares are labelled in percent, every
statistic is shown whole at any font size, and the wheel over a plot scrolls the
panel instead of zooming."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simcse_core.false_negatives import AnchorLens, LensHistograms

from app.i18n import N_, tr
from app.widgets.plot_title import fit_titles

TOP_BARS = 30  # negatives drawn as bars
COLOR_T = "#1f77b4"
COLOR_TP = "#ff7f0e"


def brush(color: str, alpha: int = 255) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def number(value: float, fmt: str = "{:.3g}") -> str:
    """``value`` formatted, never "-0" (a rounded negative zero loses its sign) and
    "–" when it is not finite."""
    if not math.isfinite(value):
        return "–"
    text = fmt.format(value)
    mantissa = text.split("e")[0]
    if text.startswith("-") and not any(c in "123456789" for c in mantissa):
        text = text[1:]
    return text


def percent_ticks(values: Any, spacing: float) -> list[str]:
    """Tick labels of shares (0..1) as percentages, with as many decimals as the
    tick spacing needs."""
    step = abs(float(spacing)) * 100.0
    decimals = 0 if step >= 1 else min(4, int(math.ceil(-math.log10(step))) if step > 0 else 1)
    return [number(float(v) * 100.0, f"{{:.{decimals}f}}") + "%" for v in values]


class PercentAxis(pg.AxisItem):
    """An axis of shares (0..1) labelled in percent (no SI prefix such as "x0.001")."""

    def __init__(self, orientation: str, **kw: Any) -> None:
        super().__init__(orientation, **kw)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: Any, scale: float, spacing: float) -> list[str]:  # noqa: N802 - Qt naming
        return percent_ticks([v * scale for v in values], spacing * scale)


class PanelPlot(pg.PlotWidget):
    """A plot inside a scrolled panel: the mouse wheel scrolls the panel (it never
    zooms), and the view is fixed (the panel sets its ranges)."""

    def __init__(self, axis_items: dict[str, pg.AxisItem] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems=axis_items)
        pi = self.getPlotItem()
        pi.setMouseEnabled(x=False, y=False)
        pi.setMenuEnabled(False)
        pi.hideButtons()
        fit_titles(pi)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt naming
        event.ignore()  # to the parent: the dock's scroll area scrolls


STAT_ROWS = (  # (label, tooltip, attribute of LensSide, format)
    (N_("entropy H"), N_("entropy H of r over the negatives"), "entropy", "{:.3g}"),
    ("exp(H)", N_("effective number of negatives exp(H): 1 (one hard negative) to N-1 (all equal)"), "effective",
     "{:.3g}"),
    (N_("top-1 share"), N_("share of the push on the hardest negative"), "top1", "{:.1%}"),
    (N_("top-5 share"), N_("share of the push on the 5 hardest negatives"), "top5", "{:.1%}"),
    (N_("pos. gradient"), N_("the positive's gradient weight (1 − P_ii)/t"), "pos_grad", "{:.3g}"),
    (N_("loss"), N_("the anchor's loss −log P_ii (never below 0)"), "loss", "{:.3g}"),
)


def stat_cells(L: AnchorLens) -> list[tuple[str, str, str]]:
    """(label, value at t, value at t') of each statistic row."""
    out = []
    for label, _tip, attr, fmt in STAT_ROWS:
        a, b = float(getattr(L.at_t, attr)), float(getattr(L.at_tp, attr))
        if attr == "loss":  # -log P_ii >= 0; rounding noise must not show as a negative loss
            a, b = max(a, 0.0), max(b, 0.0)
        if attr == "effective":
            label = tr("exp(H) of {n}").format(n=len(L.columns))
        out.append((tr(label), number(a, fmt), number(b, fmt)))
    return out


class StatsTable(QTableWidget):
    """The anchor's statistics at t and t': every cell shown whole (columns sized to
    their text, the table as tall and wide as its cells; refitted when the font
    changes, e.g. in presentation mode)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(len(STAT_ROWS), 3, parent)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        for r, (label, tip, _attr, _fmt) in enumerate(STAT_ROWS):
            self.setItem(r, 0, QTableWidgetItem(tr(label)))
            self.item(r, 0).setToolTip(tr(tip))
            for c in (1, 2):
                item = QTableWidgetItem("")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)
        self.show_lens(None)

    def show_lens(self, L: AnchorLens | None) -> None:
        t = "t" if L is None else f"t = {number(L.at_t.temperature, '{:.4g}')}"
        tp = "t'" if L is None else f"t' = {number(L.at_tp.temperature, '{:.4g}')}"
        for c, (text, color) in enumerate((("", None), (t, COLOR_T), (tp, COLOR_TP))):
            head = QTableWidgetItem(text)
            if color is not None:
                head.setForeground(QColor(color))
            self.setHorizontalHeaderItem(c, head)
        cells = stat_cells(L) if L is not None else [(tr(row[0]), "", "") for row in STAT_ROWS]
        for r, row in enumerate(cells):
            for c, text in enumerate(row):
                self.item(r, c).setText(text)
        self.fit()

    def fit(self) -> None:
        """Size the columns, rows and the table itself to the cells' text."""
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        frame = 2 * self.frameWidth()
        width = sum(self.columnWidth(c) for c in range(self.columnCount())) + frame
        height = (self.horizontalHeader().sizeHint().height()
                  + sum(self.rowHeight(r) for r in range(self.rowCount())) + frame)
        self.setFixedSize(width, height)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt naming
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.horizontalHeader().setFont(self.font())
            self.fit()


LEGEND_HTML = N_("<span style='color:{t_color}'>&#9632;</span> r at t &nbsp; "
                 "<span style='color:{tp_color}'>&#9632;</span> r at t' &nbsp; "
                 "<span style='color:#555'>&middot;&middot;&middot;</span> cosine (scaled to the largest r)")
HOVER_HINT = N_("hover a bar for the negative's sentence")


class LensPlots(QWidget):
    """Bars (``bars_t``, ``bars_tp``, ``cos_curve``) with ``legend_label`` under them,
    ``hover_label``, ``stats_table`` (:class:`StatsTable`), histograms
    (``hist_bars[f"{top1|effective}_{t|tp}"]``) and ``hist_label``. Shares are drawn
    as percentages (:class:`PercentAxis`); the wheel scrolls the panel.

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
        self.stats_table = StatsTable()
        lay.addWidget(self.stats_table)
        self._build_histograms(lay)

    def _build_bars(self, lay: QVBoxLayout) -> None:
        self.bar_plot = PanelPlot({"left": PercentAxis("left")})
        self.bar_plot.setMinimumHeight(170)
        p = self.bar_plot.getPlotItem()
        p.setTitle(tr("share of the push r_ij per negative"), size="9pt")
        p.setLabel("bottom", tr("negative rank by cosine"))
        p.setLabel("left", tr("r_ij (share)"))
        p.showGrid(y=True, alpha=0.25)
        self.bars_t = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.4,
                                      brush=brush(COLOR_T, 200), pen=None, name=tr("r at t"))
        self.bars_tp = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.4,
                                       brush=brush(COLOR_TP, 200), pen=None, name=tr("r at t'"))
        p.addItem(self.bars_t)
        p.addItem(self.bars_tp)
        self.cos_curve = p.plot([], [], pen=pg.mkPen("#555555", width=1, style=Qt.PenStyle.DotLine),
                                name=tr("cosine (scaled to max r)"))
        self.bar_plot.scene().sigMouseMoved.connect(self._hover)
        lay.addWidget(self.bar_plot, 3)
        self.legend_label = QLabel(tr(LEGEND_HTML).format(t_color=COLOR_T, tp_color=COLOR_TP))
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        lay.addWidget(self.legend_label)
        self.hover_label = QLabel(tr(HOVER_HINT))
        self.hover_label.setWordWrap(True)
        self.hover_label.setStyleSheet("color: #444;")
        lay.addWidget(self.hover_label)

    def _build_histograms(self, lay: QVBoxLayout) -> None:
        grid = QGridLayout()
        self.hist_top1 = PanelPlot({"bottom": PercentAxis("bottom")})
        self.hist_eff = PanelPlot()
        self.hist_bars: dict[str, pg.BarGraphItem] = {}
        for w, key, title in ((self.hist_top1, "top1", tr("batch: largest r_ij per anchor")),
                              (self.hist_eff, "effective", tr("batch: exp(H) per anchor"))):
            w.setMinimumHeight(110)
            pi = w.getPlotItem()
            pi.setTitle(title, size="8pt")
            pi.setLabel("left", tr("anchors"))
            for suffix, color in (("t", COLOR_T), ("tp", COLOR_TP)):
                item = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.1, brush=brush(color, 150), pen=None)
                pi.addItem(item)
                self.hist_bars[f"{key}_{suffix}"] = item
        grid.addWidget(self.hist_top1, 0, 0)
        grid.addWidget(self.hist_eff, 0, 1)
        lay.addLayout(grid, 2)
        self.hist_label = QLabel()
        self.hist_label.setWordWrap(True)
        self.hist_label.setStyleSheet("color: #444;")
        lay.addWidget(self.hist_label)

    # ------------------------------------------------------------------ drawing
    def draw(self, L: AnchorLens | None, histograms: LensHistograms | None) -> None:
        """Show one anchor's lens (None: empty) and the batch histograms."""
        self.current = L
        self._hover_rank = None
        self.hover_label.setText(tr(HOVER_HINT))  # a line about another anchor or run would be stale
        self.bar_plot.setToolTip("")
        empty = np.zeros(0)
        if L is None:
            self.bars_t.setOpts(x=empty, height=empty)
            self.bars_tp.setOpts(x=empty, height=empty)
            self.cos_curve.setData([], [])
            self.stats_table.show_lens(None)
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
        self.stats_table.show_lens(L)
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
        pct, one, three = "{:.0%}", "{:.1f}", "{:.3f}"
        self.hist_label.setText(tr(
            "batch means — largest r: {top_t} at t, {top_tp} at t'; exp(H): {eff_t} at t, {eff_tp} at t'; "
            "loss: {loss_t} at t, {loss_tp} at t'").format(
                top_t=number(h.mean_top1_t, pct), top_tp=number(h.mean_top1_tp, pct),
                eff_t=number(h.mean_effective_t, one), eff_tp=number(h.mean_effective_tp, one),
                loss_t=number(max(h.mean_loss_t, 0.0), three), loss_tp=number(max(h.mean_loss_tp, 0.0), three)))

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
