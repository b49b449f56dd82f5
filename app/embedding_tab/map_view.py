"""A 2D scatter view of probe points (Hammer map, UMAP, S1 circle, 3D fallback).

One :class:`MapView` owns one :class:`~app.embedding_tab.raster_scatter.RasterScatter` created
once and updated in place: brushes come from a palette built once per colouring (one
shared ``QBrush`` per group, passed as a per-point array, turned into colours once per
colouring); a frame that only moves the points rewrites the positions and rasterises the
points into one image (about half the time of pyqtgraph's ScatterPlotItem at 20,000
points, see ``raster_scatter``).
Overlays (selected sentence, its dropout positive, neighbours, a highlighted pair, a
typed sentence's star, edges) are small items of their own.

Interaction: hover shows the sentence as a tooltip; a click selects the nearest point;
shift + drag draws a rectangle, ctrl + drag a free-hand lasso, and either emits the rows
inside.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QToolTip

from app.widgets.plot_title import fit_titles
from app.embedding_tab.geometry import in_polygon, in_rect
from app.embedding_tab.raster_scatter import RasterScatter

PICK_PX = 8.0  # a click or hover within this many pixels of a point picks it


def cosmetic_pen(color: str, width: float = 1.5, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    p = QPen(QColor(color))
    p.setWidthF(width)
    p.setStyle(style)
    p.setCosmetic(True)
    return p


SELECTED_PEN = cosmetic_pen("#000000", 2.0)
POSITIVE_PEN = cosmetic_pen("#d62728", 2.0)
NEIGHBOUR_PEN = cosmetic_pen("#ff7f0e", 1.6)
PAIR_PEN = cosmetic_pen("#e0007a", 2.5)
STAR_PEN = cosmetic_pen("#000000", 1.0)
STAR_BRUSH = QBrush(QColor("#ffd700"))
REGION_PEN = cosmetic_pen("#444444", 1.0, Qt.PenStyle.DashLine)
GRID_PEN = cosmetic_pen("#c8c8c8", 1.0)
EDGE_COLOR = "#6a3d9a"


def edge_width(weight: float) -> float:
    """Line width for an edge carrying ``weight`` of the anchor's push (r_ij, summing to 1
    over its negatives): absolute, not relative to the largest, so a push spread evenly
    over many negatives reads as many thin lines and one dominant negative as one thick
    line (0.8 px at r = 0, 7 px from r = 0.62 up)."""
    return float(min(7.0, 0.8 + 10.0 * abs(weight)))


class SelectViewBox(pg.ViewBox):
    """A ViewBox where shift + left drag draws a selection rectangle and ctrl + left drag
    a free-hand lasso (plain drags pan, the wheel zooms). ``on_rect(QRectF)`` and
    ``on_lasso(vertices (k, 2))`` get the finished shape in view coordinates."""

    def __init__(self, on_rect: Callable[[QRectF], None], on_lasso: Callable[[np.ndarray], None], **kw) -> None:
        super().__init__(**kw)
        self._on_rect = on_rect
        self._on_lasso = on_lasso
        self._rect_item = QGraphicsRectItem()
        self._lasso_item = QGraphicsPathItem()
        for it in (self._rect_item, self._lasso_item):
            it.setPen(REGION_PEN)
            it.setBrush(QBrush(QColor(100, 100, 100, 40)))
            it.setZValue(1e9)
            it.hide()
            self.addItem(it, ignoreBounds=True)
        self._lasso: list[tuple[float, float]] = []

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - Qt naming
        mods = ev.modifiers()
        if ev.button() == Qt.MouseButton.LeftButton and mods & Qt.KeyboardModifier.ControlModifier:
            ev.accept()
            if ev.isStart() or not self._lasso:
                a = self.mapToView(ev.buttonDownPos())
                self._lasso = [(a.x(), a.y())]
            b = self.mapToView(ev.pos())
            self._lasso.append((b.x(), b.y()))
            if ev.isFinish():
                self._lasso_item.hide()
                poly, self._lasso = np.array(self._lasso, dtype=np.float64), []
                self._on_lasso(poly)
            else:
                path = QPainterPath(QPointF(*self._lasso[0]))
                for x, y in self._lasso[1:]:
                    path.lineTo(x, y)
                path.closeSubpath()
                self._lasso_item.setPath(path)
                self._lasso_item.show()
            return
        if ev.button() == Qt.MouseButton.LeftButton and mods & Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            a = self.mapToView(ev.buttonDownPos())
            b = self.mapToView(ev.pos())
            r = QRectF(QPointF(min(a.x(), b.x()), min(a.y(), b.y())), QPointF(max(a.x(), b.x()), max(a.y(), b.y())))
            if ev.isFinish():
                self._rect_item.hide()
                self._on_rect(r)
            else:
                self._rect_item.setRect(r)
                self._rect_item.show()
            return
        super().mouseDragEvent(ev, axis)


class EdgeCurve(pg.PlotCurveItem):
    """One edge line; ``edge_width``: the pen width it is drawn with (for tests)."""

    edge_width = 0.0


class MapView(pg.PlotWidget):
    """A 2D scatter of probe rows. Signals: ``point_clicked(row)``,
    ``region_selected(rows ndarray)``.

    ``text_of(row)`` gives the hover text. :attr:`rows` / :attr:`xy` are what is drawn
    (``xy[i]`` is the position of probe row ``rows[i]``), for the controller and tests.
    """

    point_clicked = Signal(int)
    region_selected = Signal(object)

    def __init__(self, title: str, text_of: Callable[[int], str] | None = None, parent=None,
                 aspect: bool = True, point_size: float = 5.0) -> None:
        self._vb = SelectViewBox(self._rect_done, self._lasso_done)
        super().__init__(parent=parent, viewBox=self._vb)
        fit_titles(self.getPlotItem())
        self.setTitle(title, size="9pt")
        self.text_of = text_of or (lambda r: str(r))
        self.plot_item = self.getPlotItem()
        self.plot_item.hideButtons()
        self.plot_item.setMenuEnabled(False)
        if aspect:
            self._vb.setAspectLocked(True)
        self.plot_item.hideAxis("left")
        self.plot_item.hideAxis("bottom")
        self.setMinimumSize(160, 120)
        self.background_item = pg.PlotDataItem([], [], pen=GRID_PEN, connect="finite")
        self.background_item.setZValue(-10)
        self.addItem(self.background_item)
        self.extra_item = pg.PlotDataItem([], [], pen=cosmetic_pen("#444444", 1.6))  # e.g. the vMF curve
        self.extra_item.setZValue(-5)
        self.addItem(self.extra_item)
        self.scatter = RasterScatter(size=point_size)
        self.addItem(self.scatter)
        self.edge_items: list[EdgeCurve] = []
        self.neighbour_item = self._overlay(size=11, pen=NEIGHBOUR_PEN, brush=None)
        self.positive_item = self._overlay(size=24, pen=POSITIVE_PEN, brush=None)
        self.selected_item = self._overlay(size=13, pen=SELECTED_PEN, brush=QBrush(QColor("#ffffff")))
        self.pair_item = self._overlay(size=18, pen=PAIR_PEN, brush=None, symbol="d")
        self.star_item = self._overlay(size=22, pen=STAR_PEN, brush=STAR_BRUSH, symbol="star")
        self.rows = np.zeros(0, dtype=np.int64)
        self.xy = np.zeros((0, 2), dtype=np.float32)
        self._brushes = None
        self.hover_row: int | None = None
        self.redraws = 0
        self.scene().sigMouseMoved.connect(self._hover)
        self.scene().sigMouseClicked.connect(self._clicked)

    @property
    def view_box(self) -> pg.ViewBox:
        """The plot's view box (range, aspect, auto-range), read-only."""
        return self._vb

    @property
    def brushes(self) -> np.ndarray | list | None:
        """The brushes of the points drawn (None when none are), read-only."""
        return self._brushes

    def _overlay(self, size: float, pen: QPen, brush: QBrush | None, symbol: str = "o") -> pg.ScatterPlotItem:
        item = pg.ScatterPlotItem(pxMode=True, size=size, pen=pen, brush=brush if brush is not None else QBrush(Qt.BrushStyle.NoBrush),
                                  symbol=symbol)
        item.setZValue(20)
        self.addItem(item)
        return item

    def fixed_range(self, half_w: float, half_h: float) -> None:
        """Show [-half_w, half_w] x [-half_h, half_h] (a map's extent) without auto-range."""
        self._vb.disableAutoRange()
        self._vb.setRange(xRange=(-half_w, half_w), yRange=(-half_h, half_h), padding=0.02)

    # ----------------------------------------------------------------- data
    def set_background(self, lines: list[np.ndarray]) -> None:
        """Polylines drawn faintly under the points (graticule, circle)."""
        if not lines:
            self.background_item.setData([], [])
            return
        parts = []
        for ln in lines:
            parts.append(np.asarray(ln, dtype=np.float64)[:, :2])
            parts.append(np.full((1, 2), np.nan))
        a = np.vstack(parts)
        self.background_item.setData(a[:, 0], a[:, 1], connect="finite")

    def set_points(self, rows: np.ndarray, xy: np.ndarray, brushes: np.ndarray | list) -> None:
        """Draw ``xy`` (M, 2) for probe ``rows`` (M,) with one shared brush per point.

        When the rows and the brush array are the very same objects as last time (the
        points only moved: a new snapshot, the timeline), only the positions are replaced:
        the colours are not looked up again."""
        sc = self.scatter
        if (rows is self.rows and brushes is self._brushes and len(sc) == len(rows) == len(xy)
                and len(rows) > 0):
            sc.set_positions(xy[:, 0], xy[:, 1])
        else:
            sc.setData(x=xy[:, 0], y=xy[:, 1], brush=brushes)
        self.rows = rows
        self.xy = xy
        self._brushes = brushes
        self.redraws += 1

    def clear_points(self) -> None:
        self._brushes = None
        self.rows = np.zeros(0, dtype=np.int64)
        self.xy = np.zeros((0, 2), dtype=np.float32)
        self.scatter.setData(x=[], y=[])
        for it in (self.neighbour_item, self.positive_item, self.selected_item, self.pair_item, self.star_item):
            it.setData(x=[], y=[])
        self.set_edges(None, [], [])
        self.extra_item.setData([], [])

    @staticmethod
    def _set_marks(item: pg.ScatterPlotItem, pts: np.ndarray | None) -> None:
        """Overlay marks; an empty overlay is hidden, so the scene does not paint it at
        every frame (five overlays a view cost as much as a third of a 20k-point frame)."""
        if pts is None or len(pts) == 0:
            if len(item.data):
                item.setData(x=[], y=[])
            item.setVisible(False)
        else:
            pts = np.atleast_2d(np.asarray(pts, dtype=np.float64))
            item.setData(x=pts[:, 0], y=pts[:, 1])
            item.setVisible(True)

    def set_overlays(self, selected: np.ndarray | None = None, neighbours: np.ndarray | None = None,
                     pair: np.ndarray | None = None, star: np.ndarray | None = None) -> None:
        """Marks at positions (rows of (n, 2)): the selected sentence (filled ring) with
        its dropout positive (an outer red ring: the same sentence's second view), its
        neighbours, a highlighted pair, a typed sentence's star."""
        self._set_marks(self.selected_item, selected)
        self._set_marks(self.positive_item, selected)
        self._set_marks(self.neighbour_item, neighbours)
        self._set_marks(self.pair_item, pair)
        self._set_marks(self.star_item, star)

    def set_edges(self, anchor: np.ndarray | None, targets: np.ndarray | list, weights: np.ndarray | list) -> None:
        """Lines from ``anchor`` (2,) to each target (k, 2), width by weight (see edge_width)."""
        n = 0 if anchor is None else len(targets)
        w = np.asarray(weights, dtype=np.float64)
        while len(self.edge_items) < n:
            item = EdgeCurve()
            item.setZValue(15)
            self.addItem(item)
            self.edge_items.append(item)
        for i, item in enumerate(self.edge_items):
            if i < n:
                t = np.asarray(targets[i], dtype=np.float64)
                width = edge_width(float(w[i]))
                item.setPen(cosmetic_pen(EDGE_COLOR, width))
                item.setData(x=np.array([anchor[0], t[0]]), y=np.array([anchor[1], t[1]]))
                item.edge_width = width
                item.show()
            else:
                item.setData(x=np.zeros(0), y=np.zeros(0))
                item.hide()

    @property
    def n_edges(self) -> int:
        return sum(1 for it in self.edge_items if it.isVisible())

    # ----------------------------------------------------------------- picking
    def row_at(self, view_pos: QPointF, radius_px: float = PICK_PX) -> int | None:
        """The probe row drawn nearest ``view_pos`` (view coordinates), within ``radius_px``."""
        if self.rows.size == 0:
            return None
        px = self._vb.viewPixelSize()
        sx = px[0] if px[0] > 0 else 1.0
        sy = px[1] if px[1] > 0 else 1.0
        d2 = ((self.xy[:, 0] - view_pos.x()) / sx) ** 2 + ((self.xy[:, 1] - view_pos.y()) / sy) ** 2
        i = int(np.argmin(d2))
        return int(self.rows[i]) if d2[i] <= radius_px ** 2 else None

    def _hover(self, scene_pos: QPointF) -> None:
        if not self._vb.sceneBoundingRect().contains(scene_pos):
            return
        row = self.row_at(self._vb.mapSceneToView(scene_pos))
        if row != self.hover_row:
            self.hover_row = row
            if row is None:
                QToolTip.hideText()
            else:
                gp = self.mapToGlobal(self.mapFromScene(scene_pos))
                QToolTip.showText(gp, self.text_of(row), self)

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        row = self.row_at(self._vb.mapSceneToView(ev.scenePos()))
        if row is not None:
            ev.accept()
            self.point_clicked.emit(row)

    def _rect_done(self, r: QRectF) -> None:
        rows = in_rect(self.xy, np.arange(self.rows.size), r.left(), r.right(), r.top(), r.bottom())
        self.region_selected.emit(self.rows[rows])

    def _lasso_done(self, poly: np.ndarray) -> None:
        self.region_selected.emit(self.rows[in_polygon(self.xy, np.arange(self.rows.size), poly)])

    def select_polygon(self, polygon: np.ndarray) -> np.ndarray:
        """Select the drawn points inside a polygon (view coordinates), as ctrl+drag does."""
        poly = np.asarray(polygon, dtype=np.float64)
        self._lasso_done(poly)
        return self.rows[in_polygon(self.xy, np.arange(self.rows.size), poly)]

    def select_rect(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """Select the drawn points inside a rectangle (view coordinates), as shift+drag does."""
        self._rect_done(QRectF(QPointF(min(x0, x1), min(y0, y1)), QPointF(max(x0, x1), max(y0, y1))))
        return self.rows[in_rect(self.xy, np.arange(self.rows.size), x0, x1, y0, y1)]
