"""Live plots of a run (pyqtgraph), each a small view owning its plot items.

Every view creates its items once and updates them in place with ``setData`` from the
:class:`~app.state.run_model.RunModel`'s series (numpy views, no copies). Pens and brushes are
built once. Line curves downsample (peak) and clip to the view, so a 100k-step run
stays smooth.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPen

from app.state.run_model import RunModel

# A readable palette (Tableau 10) and pens built once.
COLORS = {
    "blue": "#1f77b4", "orange": "#ff7f0e", "green": "#2ca02c", "red": "#d62728", "purple": "#9467bd",
    "brown": "#8c564b", "pink": "#e377c2", "grey": "#7f7f7f", "olive": "#bcbd22", "cyan": "#17becf",
}


def _pen(color: str, width: float = 1.6, style: Qt.PenStyle = Qt.PenStyle.SolidLine, alpha: int = 255) -> QPen:
    c = QColor(color)
    c.setAlpha(alpha)
    p = pg.mkPen(c, width=width)
    p.setStyle(style)
    p.setCosmetic(True)
    return p


CHANCE_PEN = _pen("#555555", 1.2, Qt.PenStyle.DashLine)
EVENT_PEN = _pen(COLORS["red"], 1.0, Qt.PenStyle.DotLine)
N_TRAJ_COLORS = 64
SYMBOL_LIMIT = 300  # curves with markers drop them beyond this many points
_VIRIDIS = pg.colormap.get("viridis")
TRAJ_BRUSHES = [QBrush(c) for c in _VIRIDIS.map(np.linspace(0.0, 1.0, N_TRAJ_COLORS), mode="qcolor")]


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(antialias=False, background="w", foreground="#222222")


def _curve(plot: pg.PlotItem, color: str, name: str, width: float = 1.6,
           style: Qt.PenStyle = Qt.PenStyle.SolidLine, alpha: int = 255, symbol: str | None = None) -> pg.PlotDataItem:
    """A line item set up for long live series (peak downsampling, clip to view)."""
    kw = {}
    if symbol:
        kw = {"symbol": symbol, "symbolSize": 6, "symbolPen": None, "symbolBrush": pg.mkBrush(color)}
    item = plot.plot([], [], pen=_pen(color, width, style, alpha), name=name, **kw)
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    item.setSkipFiniteCheck(True)  # the model's series hold finite values only
    item.symbol_limit = SYMBOL_LIMIT if symbol else 0  # type: ignore[attr-defined]
    item.symbol_name = symbol  # type: ignore[attr-defined]
    return item


def _set_curve(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    """setData, dropping the per-point symbols once a series is too long to need them
    (symbols are a scatter item: costly at thousands of points)."""
    name = getattr(item, "symbol_name", None)
    if name:
        want = name if len(x) <= item.symbol_limit else None
        if item.opts["symbol"] != want:
            item.setSymbol(want)
    item.setData(x, y)


class StepPlot:
    """A plot of scalar series over steps, with optional chance line and event markers."""

    def __init__(self, plot: pg.PlotItem, title: str, curves: list[tuple[str, str, str, dict]],
                 y_label: str = "", event_key: str | None = None, legend: bool = True) -> None:
        self.plot = plot
        plot.setTitle(title)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setLabel("bottom", "step")
        if y_label:
            plot.setLabel("left", y_label)
        if legend and len(curves) > 1:
            plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key, name, color, kw in curves:
            self.curves[key] = _curve(plot, color, name, **kw)
        self.event_key = event_key
        self._event_lines: list[pg.InfiniteLine] = []
        self._generation = -1
        self._x_total = 0

    def _reset_if_new(self, model: RunModel) -> None:
        if self._generation != model.generation:
            for line in self._event_lines:
                self.plot.removeItem(line)
            self._event_lines = []
            self._generation = model.generation
        if model.total_steps and model.total_steps != self._x_total:
            # the x axis spans the whole run from the start, so progress reads at a glance
            self._x_total = model.total_steps
            self.plot.setXRange(0, model.total_steps, padding=0.02)

    def update(self, model: RunModel) -> None:
        self._reset_if_new(model)
        for key, item in self.curves.items():
            s = model.series[key] if key in model.series else model.step_loss
            _set_curve(item, s.x, s.y)
        if self.event_key:
            self._sync_events(model.event_steps(self.event_key), self.event_key)

    def _sync_events(self, steps: list[float], label: str) -> None:
        for x in steps[len(self._event_lines):]:
            line = pg.InfiniteLine(pos=x, angle=90, pen=EVENT_PEN, movable=False)
            line.setToolTip(f"{label} changed at step {int(x)}")
            line.setZValue(-5)
            self.plot.addItem(line, ignoreBounds=True)
            self._event_lines.append(line)

    @property
    def event_lines(self) -> list[pg.InfiniteLine]:
        return list(self._event_lines)


class LossPlot(StepPlot):
    """InfoNCE loss: every step's loss, the snapshot means, and the chance line."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__(plot, "InfoNCE loss", [
            ("step_loss", "per step", COLORS["blue"], {"width": 1.0, "alpha": 150}),
            ("loss", "snapshot mean", COLORS["blue"], {"width": 2.2, "symbol": "o"}),
        ], event_key="temperature")
        self.chance = pg.InfiniteLine(pos=0.0, angle=0, pen=CHANCE_PEN, movable=False,
                                      label="chance",
                                      labelOpts={"position": 0.1, "color": "#555555", "anchors": [(0, 1), (0, 1)]})
        self.chance.setToolTip("The loss of a model that cannot tell the positive from the negatives: "
                               "log N (simcse layout) or log(2N-1) (ntxent)")
        self.chance.hide()
        plot.addItem(self.chance, ignoreBounds=False)

    def update(self, model: RunModel) -> None:
        self._reset_if_new(model)
        _set_curve(self.curves["step_loss"], model.step_loss.x, model.step_loss.y)
        s = model.series["loss"]
        _set_curve(self.curves["loss"], s.x, s.y)
        if math.isfinite(model.chance_loss):
            if not self.chance.isVisible() or self.chance.value() != model.chance_loss:
                self.chance.show()  # the label only formats while visible
                self.chance.setValue(model.chance_loss)
                self.chance.label.setFormat("chance {value:.2f}")
        else:
            self.chance.hide()
        self._sync_events(model.event_steps("temperature"), "temperature")


class AccuracyPlot(StepPlot):
    """In-batch top-1 accuracy with its chance level 1/N."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__(plot, "In-batch top-1 accuracy", [("top1_acc", "top-1", COLORS["green"], {"symbol": "o"})])
        plot.setYRange(0.0, 1.0, padding=0.02)
        plot.enableAutoRange(axis="y", enable=False)
        self.chance = pg.InfiniteLine(pos=0.0, angle=0, pen=CHANCE_PEN, movable=False)
        self.chance.setToolTip("chance: 1/N")
        self.chance.hide()
        plot.addItem(self.chance)

    def update(self, model: RunModel) -> None:
        super().update(model)
        if math.isfinite(model.chance_loss):
            self.chance.setValue(math.exp(-model.chance_loss))  # 1/N (or 1/(2N-1))
            self.chance.show()


class TrajectoryPlot:
    """Alignment against uniformity, one point a snapshot coloured by step (SimCSE
    paper Figure 2: lower is better on both axes)."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plot.setTitle("Alignment–uniformity trajectory")
        plot.setLabel("bottom", "uniformity (lower: more uniform)")
        plot.setLabel("left", "alignment (lower: closer pairs)")
        plot.showGrid(x=True, y=True, alpha=0.25)
        self.path = plot.plot([], [], pen=_pen("#999999", 1.0))
        self.scatter = pg.ScatterPlotItem(size=9, pen=None, pxMode=True)
        plot.addItem(self.scatter)
        self.last = pg.ScatterPlotItem(size=15, pen=_pen("#000000", 1.5), brush=pg.mkBrush(0, 0, 0, 0), pxMode=True)
        plot.addItem(self.last)
        self._n = -1
        self._generation = -1

    def update(self, model: RunModel) -> None:
        t = model.trajectory
        if len(t) == self._n and self._generation == model.generation:
            return
        self._n, self._generation = len(t), model.generation
        x, y = t.x, t.y
        self.path.setData(x, y)
        steps = model.trajectory_steps.y
        if len(steps):
            lo, hi = float(steps[0]), float(max(steps[-1], steps[0] + 1))
            idx = np.clip(((steps - lo) / (hi - lo) * (N_TRAJ_COLORS - 1)).astype(int), 0, N_TRAJ_COLORS - 1)
            brushes = [TRAJ_BRUSHES[i] for i in idx]  # reused brushes: the symbol cache hits
            self.scatter.setData(x=x, y=y, brush=brushes, data=steps)
            self.last.setData(x=x[-1:], y=y[-1:])
        else:
            self.scatter.clear()
            self.last.clear()


class PlotGrid(pg.GraphicsLayoutWidget):
    """The live plot grid: loss, accuracy, cosines, alignment, uniformity, trajectory,
    STS Spearman, learning rate and temperature."""

    def __init__(self, model: RunModel, parent=None) -> None:
        super().__init__(parent=parent)
        self.model = model
        self.setMinimumSize(400, 300)
        ci = self.ci
        self.loss = LossPlot(ci.addPlot(row=0, col=0))
        self.accuracy = AccuracyPlot(ci.addPlot(row=0, col=1))
        self.cosine = StepPlot(ci.addPlot(row=0, col=2), "Cosine of positives and negatives", [
            ("pos_cos_mean", "pos mean", COLORS["green"], {"symbol": "o"}),
            ("pos_cos_p95", "pos p95", COLORS["green"], {"style": Qt.PenStyle.DashLine}),
            ("neg_cos_mean", "neg mean", COLORS["red"], {"symbol": "o"}),
            ("neg_cos_p95", "neg p95", COLORS["red"], {"style": Qt.PenStyle.DashLine}),
        ])
        self.alignment = StepPlot(ci.addPlot(row=1, col=0), "Alignment (probe, dropout views)",
                                  [("alignment", "alignment", COLORS["purple"], {"symbol": "o"})])
        self.uniformity = StepPlot(ci.addPlot(row=1, col=1), "Uniformity (probe, t=2)",
                                   [("uniformity", "uniformity", COLORS["orange"], {"symbol": "o"})])
        self.trajectory = TrajectoryPlot(ci.addPlot(row=1, col=2))
        self.sts = StepPlot(ci.addPlot(row=2, col=0), "STS Spearman ×100",
                            [("sts_spearman", "Spearman", COLORS["brown"], {"symbol": "o"})])
        self.sts_note = pg.TextItem("set an STS eval file to see Spearman", color="#888888", anchor=(0.5, 0.5))
        self.sts_note.setPos(0.5, 0.5)
        self.sts.plot.addItem(self.sts_note, ignoreBounds=True)
        self.lr = StepPlot(ci.addPlot(row=2, col=1), "Learning rate",
                           [("lr", "lr", COLORS["cyan"], {"symbol": "o"})], event_key="learning_rate")
        self.temperature = StepPlot(ci.addPlot(row=2, col=2), "Temperature",
                                    [("temperature", "t", COLORS["red"], {"symbol": "o"})], event_key="temperature")
        self.views = [self.loss, self.accuracy, self.cosine, self.alignment, self.uniformity, self.trajectory,
                      self.sts, self.lr, self.temperature]
        self.redraws = 0

    def refresh(self) -> None:
        """Redraw every view from the model (called at most ~20 times a second)."""
        for v in self.views:
            v.update(self.model)
        has_sts = len(self.model.series["sts_spearman"]) > 0
        self.sts_note.setVisible(not has_sts)
        if not has_sts:  # keep the hint centred whatever the x range is
            (x0, x1), (y0, y1) = self.sts.plot.viewRange()
            self.sts_note.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        self.redraws += 1
