"""The explore window's map: one image of the part in view, labels, hover, click and selection.

:class:`MapView` remakes its picture (:func:`app.explore.raster.render`) when the view
moves, at most every :data:`REDRAW_MS`; shift + drag selects a rectangle and ctrl + drag a
lasso (the embedding tab's :class:`~app.embedding_tab.map_view.SelectViewBox`); a filter
shows only some rows, which keep their corpus numbers.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QWidget
from superqt.utils import qthrottled

from app.embedding_tab.geometry import in_polygon, in_rect
from app.embedding_tab.map_view import SelectViewBox
from app.explore.pyramid import DensityPyramid
from app.explore.raster import BUDGET, Rect, nearest_point, render

log = logging.getLogger(__name__)

REDRAW_MS = 30  # the map is remade at most this often while the view moves
HOVER_MS = 50  # the hovered sentence is looked up at most this often
KEPT_PYRAMIDS = 2  # counts kept for the last maps shown: toggling before / after redraws at once
LABEL_POINTS = 10  # cluster labels on the map: bold, this size


def label_font() -> QFont:
    return QFont("", LABEL_POINTS, QFont.Weight.Bold)


class PyramidSource(NamedTuple):
    """What a counts pyramid is made of: the positions, labels and filter (the arrays
    themselves), the label count and the map's extent."""

    xy: np.ndarray | None
    labels: np.ndarray | None
    visible: np.ndarray | None
    n_labels: int | None
    full: Rect

    def same(self, other: PyramidSource) -> bool:
        """The same array objects (compared by identity), label count and extent."""
        return (self.xy is other.xy and self.labels is other.labels and self.visible is other.visible
                and self.n_labels == other.n_labels and self.full == other.full)


class MapView(pg.PlotWidget):
    """The map: one ImageItem remade for the view, label TextItems, hover and click;
    shift + drag selects a rectangle, ctrl + drag a lasso (``region_selected(rows)``).
    :meth:`set_visible` shows only some rows (a filter); rows keep their corpus numbers."""

    point_clicked = Signal(int)
    hovered = Signal(object)  # row or None
    region_selected = Signal(object)  # (k,) int64 corpus rows
    _pyramid_built = Signal(int, object, object)  # (generation, its source, DensityPyramid) from the building thread

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, viewBox=SelectViewBox(self._rect_done, self._lasso_done))
        self.setBackground("#15171c")
        self.getPlotItem().hideAxis("left")
        self.getPlotItem().hideAxis("bottom")
        self.vb = self.getPlotItem().getViewBox()
        self.vb.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        self.xy: np.ndarray | None = None
        self.full = Rect(0.0, 1.0, 0.0, 1.0)  # the whole map (all rows)
        self.visible: np.ndarray | None = None  # (N,) bool, None: every row
        self.rows: np.ndarray | None = None  # the corpus rows drawn (all, or those visible)
        self.labels: np.ndarray | None = None
        self.n_labels: int | None = None
        self.highlight: np.ndarray | None = None
        self.budget = BUDGET  # points drawn one by one at most (above: density)
        self.last: Any = None  # the last MapImage (mode, points in view)
        self._pyramid: DensityPyramid | None = None  # counts made once for wide views of many points
        self._pyramid_gen = 0  # bumped when the points, labels or filter change
        self._pyramid_wanted = -1  # the generation a build was started for
        self._kept: list[tuple[PyramidSource, DensityPyramid]] = []  # the last KEPT_PYRAMIDS made, newest last
        self._pyramid_built.connect(self._take_pyramid)
        self.renders = 0
        self._label_items: list[pg.TextItem] = []
        self._arrows: pg.PlotCurveItem | None = None
        self._clusters: list[tuple[float, float, str, int]] = []  # x, y, label, size
        self._timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self.vb.sigRangeChanged.connect(lambda *_: self._timer.start())
        # the nearest point is a pass over every row (a million: about 10 ms), so hovering
        # asks at most every HOVER_MS, on the trailing edge (the newest position wins)
        self._hover = qthrottled(self._moved, timeout=HOVER_MS, leading=False, parent=self)
        self.scene().sigMouseMoved.connect(self._hover)
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_points(self, xy: np.ndarray) -> None:
        self.xy = np.asarray(xy, dtype=np.float32)
        self._forget_pyramid()
        self.visible, self.rows = None, np.arange(len(self.xy))
        r = self.full = Rect.around(self.xy)
        self.vb.setRange(QRectF(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0), padding=0)
        self.redraw()

    def set_labels(self, labels: np.ndarray | None, n_labels: int | None = None) -> None:
        self.labels, self.n_labels = labels, n_labels
        self._forget_pyramid()
        self.redraw()

    def set_highlight(self, rows: np.ndarray | None) -> None:
        if rows is None or self.xy is None or not len(rows):
            self.highlight = None
        else:
            self.highlight = np.zeros(len(self.xy), dtype=bool)
            self.highlight[np.asarray(rows, dtype=np.int64)] = True
        self.redraw()

    def swap_points(self, xy: np.ndarray) -> None:
        """Other positions for the same rows (the other model's aligned map); the view stays."""
        self.xy = np.asarray(xy, dtype=np.float32)
        self.full = Rect.around(self.xy)
        self._forget_pyramid()
        self.redraw()

    def set_arrows(self, start: np.ndarray | None, end: np.ndarray | None) -> None:
        """Lines from ``start`` (k, 2) to ``end`` (k, 2) positions (None: none)."""
        if self._arrows is None:
            self._arrows = pg.PlotCurveItem(pen=pg.mkPen(255, 220, 80, 200, width=1.5), connect="pairs")
            self._arrows.setZValue(5)
            self.addItem(self._arrows)
        if start is None or end is None or not len(start):
            self._arrows.setData([], [])
            return
        seg = np.empty((2 * len(start), 2), dtype=np.float64)
        seg[0::2], seg[1::2] = start, end
        self._arrows.setData(seg[:, 0], seg[:, 1], connect="pairs")

    def set_visible(self, mask: np.ndarray | None) -> None:
        """Draw only the rows where ``mask`` is true (None: all)."""
        if self.xy is None:
            return
        self.visible = None if mask is None else np.asarray(mask, dtype=bool)
        self._forget_pyramid()
        self.rows = np.arange(len(self.xy)) if self.visible is None else np.flatnonzero(self.visible)
        self.redraw()

    def _drawn(self, a: np.ndarray | None) -> np.ndarray | None:
        return a if a is None or self.visible is None else a[self.visible]

    def _rect_done(self, r: QRectF) -> None:
        if self.xy is not None:
            self.region_selected.emit(in_rect(self.xy, self.rows, r.left(), r.right(), r.top(), r.bottom()))

    def _lasso_done(self, poly: np.ndarray) -> None:
        if self.xy is None or len(poly) < 3:
            return
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        box = in_rect(self.xy, self.rows, lo[0], hi[0], lo[1], hi[1])  # a cheap first cut
        self.region_selected.emit(in_polygon(self.xy, box, poly))

    def set_cluster_labels(self, clusters: list[tuple[float, float, str, int]]) -> None:
        self._clusters = sorted(clusters, key=lambda c: -c[3])
        self.redraw()

    def view_rect(self) -> Rect:
        (x0, x1), (y0, y1) = self.vb.viewRange()
        return Rect(x0, x1, y0, y1)

    def redraw(self) -> None:
        if self.xy is None:
            return
        rect = self.view_rect()
        size = self.vb.size()  # the view in pixels
        w, h = max(1, int(size.width())), max(1, int(size.height()))
        xy, labels, highlight = self._drawn(self.xy), self._drawn(self.labels), self._drawn(self.highlight)
        self.last = None
        if len(xy) > self.budget:  # wide views of many points: from counts made once (pyramid.py)
            if self._pyramid is None:  # made before for these points (the before / after toggle)?
                self._pyramid = self._kept_for(self._source())
            if self._pyramid is not None:
                self.last = self._pyramid.image(rect, w, h, self.budget, xy=xy, highlight=highlight, labels=labels)
            elif self._pyramid_wanted != self._pyramid_gen:  # built in a thread; until then, from the points
                self._pyramid_wanted = self._pyramid_gen
                threading.Thread(target=self._build_pyramid, name="explore-pyramid", daemon=True,
                                 args=(self._pyramid_gen, self._source(), xy, labels)).start()
        if self.last is None:
            self.last = render(xy, rect, w, h, labels=labels, n_labels=self.n_labels, highlight=highlight,
                               budget=self.budget)
        # the picture's row 0 is the top of the view; the ImageItem puts row 0 at the bottom (y up)
        self.image.setImage(self.last.rgba[::-1], autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(rect.x0, rect.y0, rect.x1 - rect.x0, rect.y1 - rect.y0))
        self.image.setTransformOriginPoint(0, 0)
        self._place_labels(rect)
        self.renders += 1

    def _forget_pyramid(self) -> None:
        self._pyramid = None
        self._pyramid_gen += 1

    def _build_pyramid(self, gen: int, source: PyramidSource, xy: np.ndarray, labels: np.ndarray | None) -> None:
        """In the building thread: count once (about 0.7 s for a million points), hand over
        with ``source`` (:meth:`_source`, for keeping). A failure (memory) is logged; the
        map keeps drawing from the points."""
        try:
            pyramid = DensityPyramid(xy, labels, source.n_labels, extent=source.full)
        except (MemoryError, ValueError) as e:
            log.warning("the explore map's counts could not be made (%s); drawing from the points", e)
            return
        try:
            self._pyramid_built.emit(gen, source, pyramid)
        except RuntimeError:  # the view was closed meanwhile
            pass

    def _take_pyramid(self, gen: int, source: PyramidSource, pyramid: DensityPyramid) -> None:
        # kept even when stale: toggling back finds it
        self._kept = [(k, p) for k, p in self._kept if not k.same(source)] + [(source, pyramid)]
        del self._kept[:-KEPT_PYRAMIDS]
        if gen == self._pyramid_gen:  # not for points, labels or a filter changed since
            self._pyramid = pyramid
            self.redraw()

    def _source(self) -> PyramidSource:
        return PyramidSource(self.xy, self.labels, self.visible, self.n_labels, self.full)

    def _kept_for(self, source: PyramidSource) -> DensityPyramid | None:
        return next((p for k, p in reversed(self._kept) if k.same(source)), None)

    @property
    def pyramid_ready(self) -> bool:
        return self._pyramid is not None

    def _place_labels(self, rect: Rect) -> None:
        """Cluster labels inside the view, largest first: about a dozen at the whole map,
        more as the view zooms in (smaller clusters get room); a label that would cover
        one already placed is left out until zooming in separates them."""
        full = self.full
        area = max(1e-12, (rect.x1 - rect.x0) * (rect.y1 - rect.y0))
        zoom = max(1.0, ((full.x1 - full.x0) * (full.y1 - full.y0)) / area)
        room = int(12 * min(8.0, np.sqrt(zoom)))
        fm = QFontMetrics(label_font())
        placed: list[QRectF] = []
        shown = []
        for c in self._clusters:
            if len(shown) >= room or not (rect.x0 <= c[0] <= rect.x1 and rect.y0 <= c[1] <= rect.y1):
                continue
            centre = self.vb.mapViewToScene(QPointF(c[0], c[1]))
            w, h = fm.horizontalAdvance(c[2]) + 12, fm.height() + 6
            box = QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)
            if any(box.intersects(b) for b in placed):
                continue
            placed.append(box)
            shown.append(c)
        while len(self._label_items) < len(shown):
            item = pg.TextItem(anchor=(0.5, 0.5), color="w", fill=pg.mkBrush(0, 0, 0, 150))
            item.setFont(label_font())
            self.addItem(item)
            self._label_items.append(item)
        for item, (x, y, text, _size) in zip(self._label_items, shown):
            item.setText(text)
            item.setPos(x, y)
            item.setVisible(True)
        for item in self._label_items[len(shown):]:
            item.setVisible(False)

    def shown_labels(self) -> list[str]:
        return [i.toPlainText() for i in self._label_items if i.isVisible()]

    def _row_at(self, scene_pos: Any) -> int | None:
        if self.xy is None or not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        px = self.vb.viewPixelSize()[0]
        i = nearest_point(self._drawn(self.xy), p.x(), p.y(), 6 * px)
        return None if i is None else int(self.rows[i])

    def _moved(self, pos: Any) -> None:
        self.hovered.emit(self._row_at(pos))

    def _clicked(self, ev: Any) -> None:
        row = self._row_at(ev.scenePos())
        if row is not None:
            self.point_clicked.emit(row)


__all__ = ["MapView", "REDRAW_MS"]
