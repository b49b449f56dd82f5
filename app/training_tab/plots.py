"""Live plots of a run (pyqtgraph), each a small view owning its plot items.

Every view creates its items once and updates them in place with ``setData`` from the
:class:`~app.state.run_model.RunModel`'s series (numpy views, no copies). Pens and brushes are
built once. Line curves downsample (peak) and clip to the view, so a 100k-step run
stays smooth.

The grid's cells and the curves in them come from the metric specs
(:func:`simcse_core.metric_specs.live_layout`): a metric added there is drawn here
without a change to this file.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPen

from simcse_core import metric_specs as MS

from app.i18n import N_, tr
from app.widgets.plot_title import fit_titles

from app.state.run_model import RunModel

# A readable palette (Tableau 10) and pens built once.
COLORS = {
    "blue": "#1f77b4", "orange": "#ff7f0e", "green": "#2ca02c", "red": "#d62728", "purple": "#9467bd",
    "brown": "#8c564b", "pink": "#e377c2", "grey": "#7f7f7f", "olive": "#bcbd22", "cyan": "#17becf",
}


def make_pen(color: str, width: float = 1.6, style: Qt.PenStyle = Qt.PenStyle.SolidLine, alpha: int = 255) -> QPen:
    """A cosmetic pen (its width in pixels whatever the zoom) of ``color`` (a name or #rgb)."""
    c = QColor(color)
    c.setAlpha(alpha)
    p = pg.mkPen(c, width=width)
    p.setStyle(style)
    p.setCosmetic(True)
    return p


CHANCE_PEN = make_pen("#555555", 1.2, Qt.PenStyle.DashLine)
EVENT_PEN = make_pen(COLORS["red"], 1.0, Qt.PenStyle.DotLine)
N_TRAJ_COLORS = 64
SYMBOL_LIMIT = 300  # curves with markers drop them beyond this many points
TRAJ_MARKERS = 400  # the trajectory draws at most about this many markers (its path keeps every point)
_VIRIDIS = pg.colormap.get("viridis")
TRAJ_BRUSHES = [QBrush(c) for c in _VIRIDIS.map(np.linspace(0.0, 1.0, N_TRAJ_COLORS), mode="qcolor")]


def configure_pyqtgraph() -> None:
    pg.setConfigOptions(antialias=False, background="w", foreground="#222222")


# the run's live changes drawn as event lines (their keys, as the run model names them)
EVENT_NAMES = {"temperature": N_("temperature"), "learning_rate": N_("learning rate")}


class LiveCurve(pg.PlotDataItem):
    """A line for a long live series (peak downsampling, clip to view) whose markers
    (``marker``) are dropped once it holds more than :data:`SYMBOL_LIMIT` points
    (symbols are a scatter item: costly at thousands of points)."""

    def __init__(self, marker: str | None = None, **kw: Any) -> None:
        super().__init__([], [], **kw)
        self.marker = marker
        self.setDownsampling(auto=True, method="peak")
        self.setClipToView(True)
        self.setSkipFiniteCheck(True)  # the model's series hold finite values only

    def set_series(self, x: np.ndarray, y: np.ndarray) -> None:
        if self.marker:
            want = self.marker if len(x) <= SYMBOL_LIMIT else None
            if self.opts["symbol"] != want:
                self.setSymbol(want)
        self.setData(x, y)


def _curve(plot: pg.PlotItem, color: str, name: str, width: float = 1.6,
           style: Qt.PenStyle = Qt.PenStyle.SolidLine, alpha: int = 255, symbol: str | None = None) -> LiveCurve:
    """A :class:`LiveCurve` added to ``plot``."""
    kw: dict[str, Any] = {}
    if symbol:
        kw = {"symbol": symbol, "symbolSize": 6, "symbolPen": None, "symbolBrush": pg.mkBrush(color)}
    item = LiveCurve(marker=symbol, pen=make_pen(color, width, style, alpha), name=name, **kw)
    plot.addItem(item)
    return item


def _set_curve(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    if isinstance(item, LiveCurve):
        item.set_series(x, y)
    else:
        item.setData(x, y)


class StepPlot:
    """A plot of scalar series over steps, with optional chance line and event markers."""

    def __init__(self, plot: pg.PlotItem, title: str, curves: list[tuple[str, str, str, dict]],
                 y_label: str = "", event_key: str | None = None, legend: bool = True,
                 y_span: tuple[float | None, float | None] = (None, None)) -> None:
        self.plot = plot
        fit_titles(plot)
        plot.setTitle(tr(title))  # titles, axis labels and curve names: the engine's specs' English, translated
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setLabel("bottom", tr("step"))
        plot.getAxis("left").enableAutoSIPrefix(False)  # "-0.012", never "-12 (x0.001)"
        if y_label:
            plot.setLabel("left", tr(y_label))
        self.y_span = y_span
        self.user_zoomed = False  # a person's zoom or pan wins until a double-click
        plot.getViewBox().sigRangeChangedManually.connect(self._zoomed)
        scene = plot.scene()
        if scene is not None:
            scene.sigMouseClicked.connect(self._clicked)
        if legend and len(curves) > 1:
            plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.scales: dict[str, float] = {}  # a curve drawn as value x scale (MetricSpec.scale)
        for key, name, color, kw in curves:
            scale = kw.pop("scale", 1.0)
            if scale != 1.0:
                self.scales[key] = scale
            self.curves[key] = _curve(plot, color, tr(name), **kw)
        self.event_key = event_key
        self._event_lines: list[pg.InfiniteLine] = []
        self._generation = -1
        self._x_total = 0

    def _zoomed(self, *_args: object) -> None:
        self.user_zoomed = True

    def _clicked(self, ev: object) -> None:
        if getattr(ev, "double", lambda: False)() and self.plot.sceneBoundingRect().contains(ev.scenePos()):
            self.user_zoomed = False
            self.apply_span()

    def apply_span(self) -> None:
        """Show at least ``y_span`` on the y axis, widened to the data (see
        :class:`~simcse_core.metric_specs.PlotCell`); a person's zoom is left alone."""
        lo, hi = self.y_span
        if (lo is None and hi is None) or self.user_zoomed:
            return
        data = [item.getData()[1] for item in self.curves.values()]
        ys = [y[np.isfinite(y)] for y in (np.asarray(d, dtype=np.float64) for d in data if d is not None) if y.size]
        dmin = min((float(y.min()) for y in ys if len(y)), default=None)
        dmax = max((float(y.max()) for y in ys if len(y)), default=None)
        low = [v for v in (lo, dmin) if v is not None]
        high = [v for v in (hi, dmax) if v is not None]
        if not low or not high:
            return
        y0, y1 = min(low), max(high)
        if y1 <= y0:
            y1 = y0 + 1.0
        self.plot.setYRange(y0, y1, padding=0.04)

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
            s = model.series.get(key)
            if s is not None:
                scale = self.scales.get(key)
                _set_curve(item, s.x, s.y if scale is None else s.y * scale)
        if self.event_key:
            self._sync_events(model.event_steps(self.event_key), self.event_key)
        self.apply_span()

    def _sync_events(self, steps: list[float], label: str) -> None:
        for x in steps[len(self._event_lines):]:
            line = pg.InfiniteLine(pos=x, angle=90, pen=EVENT_PEN, movable=False)
            line.setToolTip(tr("{what} changed at step {step}").format(what=tr(EVENT_NAMES.get(label, label)),
                                                                       step=int(x)))
            line.setZValue(-5)
            self.plot.addItem(line, ignoreBounds=True)
            self._event_lines.append(line)

    @property
    def event_lines(self) -> list[pg.InfiniteLine]:
        return list(self._event_lines)


class LossPlot(StepPlot):
    """The loss: every step's loss, the snapshot means (and any other curve of its
    cell), and the chance line of the run's loss."""

    def __init__(self, plot: pg.PlotItem, title: str = "InfoNCE loss", curves: list[tuple[str, str, str, dict]] | None = None,
                 y_label: str = "", event_key: str | None = "temperature",
                 y_span: tuple[float | None, float | None] = (0.0, None)) -> None:
        curves = curves if curves is not None else [("loss", N_("snapshot mean"), COLORS["blue"],
                                                     {"width": 2.2, "symbol": "o"})]
        super().__init__(plot, title, [("step_loss", N_("per step"), COLORS["blue"], {"width": 1.0, "alpha": 150})] + curves,
                         y_label=y_label, event_key=event_key, y_span=y_span)
        self.chance = pg.InfiniteLine(pos=0.0, angle=0, pen=CHANCE_PEN, movable=False,
                                      label=tr("chance"),
                                      labelOpts={"position": 0.1, "color": "#555555", "anchors": [(0, 1), (0, 1)]})
        self.chance.setToolTip(tr("The loss of a model that cannot tell the positive from the negatives: "
                                  "log N (simcse layout) or log(2N-1) (ntxent)"))
        self.chance.hide()
        plot.addItem(self.chance, ignoreBounds=False)

    def update(self, model: RunModel) -> None:
        super().update(model)  # the snapshot curves and the event lines
        _set_curve(self.curves["step_loss"], model.step_loss.x, model.step_loss.y)
        self.apply_span()
        if math.isfinite(model.chance_loss):
            if not self.chance.isVisible() or self.chance.value() != model.chance_loss:
                self.chance.show()  # the label only formats while visible
                self.chance.setValue(model.chance_loss)
                self.chance.label.setFormat(tr("chance {value:.2f}"))
        else:
            self.chance.hide()


class AccuracyPlot(StepPlot):
    """In-batch top-1 accuracy with its chance level 1/N."""

    def __init__(self, plot: pg.PlotItem, title: str = "In-batch top-1 accuracy",
                 curves: list[tuple[str, str, str, dict]] | None = None, y_label: str = "",
                 event_key: str | None = None, y_span: tuple[float | None, float | None] = (0.0, 1.0)) -> None:
        curves = curves if curves is not None else [("top1_acc", N_("top-1"), COLORS["green"], {"symbol": "o"})]
        super().__init__(plot, title, curves, y_label=y_label, event_key=event_key, y_span=y_span)
        plot.setYRange(0.0, 1.0, padding=0.02)
        plot.enableAutoRange(axis="y", enable=False)
        self.chance = pg.InfiniteLine(pos=0.0, angle=0, pen=CHANCE_PEN, movable=False)
        self.chance.setToolTip(tr("chance: 1/N"))
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

    def __init__(self, plot: pg.PlotItem, title: str = "Alignment–uniformity trajectory") -> None:
        self.plot = plot
        fit_titles(plot)
        plot.setTitle(tr(title))
        plot.setLabel("bottom", tr("uniformity (lower: more uniform)"))
        plot.setLabel("left", tr("alignment (lower: closer pairs)"))
        for side in ("left", "bottom"):  # "0.3", never "300 (x0.001)"
            plot.getAxis(side).enableAutoSIPrefix(False)
        plot.showGrid(x=True, y=True, alpha=0.25)
        self.path = plot.plot([], [], pen=make_pen("#999999", 1.0))
        self.scatter = pg.ScatterPlotItem(size=9, pen=None, pxMode=True)
        plot.addItem(self.scatter)
        self.last = pg.ScatterPlotItem(size=15, pen=make_pen("#000000", 1.5), brush=pg.mkBrush(0, 0, 0, 0), pxMode=True)
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
            keep = marker_rows(len(steps))
            idx = np.clip(((steps[keep] - lo) / (hi - lo) * (N_TRAJ_COLORS - 1)).astype(int), 0, N_TRAJ_COLORS - 1)
            brushes = [TRAJ_BRUSHES[i] for i in idx]  # reused brushes: the symbol cache hits
            self.scatter.setData(x=x[keep], y=y[keep], brush=brushes, data=steps[keep])
            self.last.setData(x=x[-1:], y=y[-1:])
        else:
            self.scatter.clear()
            self.last.clear()


def marker_rows(n: int, limit: int = TRAJ_MARKERS) -> np.ndarray:
    """The rows of an n-point trajectory that get a marker: every ``2**k``-th (the
    smallest power of two that keeps at most about ``limit``) and the last. Markers stay
    where they were as the run grows (no jitter); a long run's curve stays cheap to
    draw (an hour at a snapshot a step is about 10,000 points)."""
    stride = 1
    while n > limit * stride:
        stride *= 2
    rows = np.arange(0, n, stride)
    if n and rows[-1] != n - 1:
        rows = np.append(rows, n - 1)
    return rows


class NotedStepPlot(StepPlot):
    """A :class:`StepPlot` with a hint in its middle while none of its series has a
    point (e.g. "set an STS eval file")."""

    def __init__(self, plot: pg.PlotItem, title: str, curves: list[tuple[str, str, str, dict]], note: str,
                 y_label: str = "", event_key: str | None = None,
                 y_span: tuple[float | None, float | None] = (None, None)) -> None:
        super().__init__(plot, title, curves, y_label=y_label, event_key=event_key, y_span=y_span)
        self.note = pg.TextItem(tr(note), color="#888888", anchor=(0.5, 0.5))
        self.note.setPos(0.5, 0.5)
        plot.addItem(self.note, ignoreBounds=True)

    def update(self, model: RunModel) -> None:
        super().update(model)
        empty = not any(len(model.series[k]) for k in self.curves if k in model.series)
        self.note.setVisible(empty)
        if empty:  # keep the hint centred whatever the x range is
            (x0, x1), (y0, y1) = self.plot.viewRange()
            self.note.setPos((x0 + x1) / 2, (y0 + y1) / 2)


def spec_curve(spec: MS.MetricSpec) -> tuple[str, str, str, dict]:
    """A metric spec as a (key, legend name, colour, look) curve of a :class:`StepPlot`."""
    kw: dict = {"width": spec.width}
    if spec.scale != 1.0:
        kw["scale"] = spec.scale
    if spec.dashed:
        kw["style"] = Qt.PenStyle.DashLine
    if spec.symbol:
        kw["symbol"] = "o"
    return spec.key, spec.label or spec.key, COLORS.get(spec.color, spec.color), kw


def make_cell(plot: pg.PlotItem, cell: MS.PlotCell, specs: list[MS.MetricSpec]):
    """The view of one grid cell, by its kind, with the specs' curves."""
    if cell.kind == "trajectory":
        return TrajectoryPlot(plot, cell.title)
    curves = [spec_curve(s) for s in specs]
    kw = {"y_label": cell.y_label, "event_key": cell.event_key, "y_span": cell.y_span}
    if cell.kind == "loss":
        return LossPlot(plot, cell.title, curves, **kw)
    if cell.kind == "accuracy":
        return AccuracyPlot(plot, cell.title, curves, **kw)
    if cell.empty_note:
        return NotedStepPlot(plot, cell.title, curves, cell.empty_note, **kw)
    return StepPlot(plot, cell.title, curves, **kw)


class PlotGrid(pg.GraphicsLayoutWidget):
    """The live plot grid, one cell per :func:`simcse_core.metric_specs.live_layout`
    entry (row-major, :data:`~simcse_core.metric_specs.GRID_COLUMNS` a row): by default
    loss, accuracy, cosines, alignment, uniformity, trajectory, STS Spearman, learning
    rate and temperature. ``cells`` maps a cell's name to its view; the default cells
    are also attributes (``grid.loss``, ``grid.sts`` ...)."""

    def __init__(self, model: RunModel, parent=None) -> None:
        super().__init__(parent=parent)
        self.model = model
        self.setMinimumSize(400, 300)
        self.cells: dict[str, StepPlot | TrajectoryPlot] = {}
        for i, (cell, specs) in enumerate(MS.live_layout()):
            plot = self.ci.addPlot(row=i // MS.GRID_COLUMNS, col=i % MS.GRID_COLUMNS)
            self.cells[cell.name] = make_cell(plot, cell, specs)
        c = self.cells
        self.loss, self.accuracy, self.cosine = c.get("loss"), c.get("accuracy"), c.get("cosine")
        self.alignment, self.uniformity, self.trajectory = c.get("alignment"), c.get("uniformity"), c.get("trajectory")
        self.sts, self.lr, self.temperature = c.get("sts"), c.get("lr"), c.get("temperature")
        self.sts_note = getattr(self.sts, "note", None)
        self.views = list(self.cells.values())
        self.redraws = 0

    def refresh(self) -> None:
        """Redraw every view from the model (called at most ~20 times a second)."""
        for v in self.views:
            v.update(self.model)
        self.redraws += 1
