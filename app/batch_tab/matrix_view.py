"""The batch matrix as one image: a single :class:`pyqtgraph.ImageItem` updated in place
(``setImage``), a colour bar, the masked cells drawn in a colour outside the scale
(the image is NaN there and a grey sheet lies under it), the positives outlined (one
curve of rectangle edges), the false-negative policy's cells marked (one scatter), the
row names on the left axis and each row's label on the right. Up to 1024 x 1024 cells.

Signals: ``hovered(row, col)`` (display cell under the pointer, -1 when outside) and
``clicked(row)`` (a display row).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from app.i18n import tr

MASKED_COLOUR = "#8c8c8c"  # not a colour of either scale (blue-white-red; white to violet)
OUTLINE_COLOUR = "#111111"
REMOVED_COLOUR = "#e6007e"  # the false-negative marks
ATTRACTED_COLOUR = "#00a651"
SELECTED_COLOUR = "#ff9900"
TICK_PX = {"left": 16, "right": 16, "bottom": 44}  # screen pixels a tick's text needs along its axis
OUTLINE_INSET = 0.12  # outlines drawn inside their cell, so a masked neighbour's edge stays visible
OUTLINE_MIN_PX = 3.0  # outlines drawn when a cell is this wide on screen (zoom in for them at N = 512)


def colour_map(kind: str) -> pg.ColorMap:
    """Diverging blue-white-red for cosines and logits; white to dark violet for
    probabilities (most cells are near 0)."""
    if kind in ("probability", "log-probability"):
        return pg.ColorMap([0.0, 0.25, 0.6, 1.0], [(255, 255, 255), (170, 190, 235), (70, 80, 190), (40, 10, 90)])
    return pg.colormap.get("CET-D1")


def axis_ticks(names: list[str], cell_px: float, tick_px: float) -> list[list[tuple[float, str]]]:
    """Ticks at cell centres, every k-th name so that ticks lie ``tick_px`` apart on
    screen when a cell is ``cell_px`` wide (k even past 1: in the 2N layout the ticks
    fall on a sentence's first view)."""
    step = max(1, int(np.ceil(tick_px / max(cell_px, 1e-6))))
    if step > 1 and step % 2:
        step += 1
    return [[(i + 0.5, names[i]) for i in range(0, len(names), step)], []]


class MatrixView(pg.GraphicsLayoutWidget):
    """The matrix plot and its colour bar. Call :meth:`show_matrix` with the display
    image (R, C) float32 (NaN on masked cells), its colour levels and kind, the row and
    column names, the label names, the outline and mark cells."""

    hovered = Signal(int, int)
    clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("batchMatrix")
        self.plot = self.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.showAxis("right")
        for side in ("left", "right", "bottom"):
            self.plot.getAxis(side).setStyle(tickLength=-3)
        self.plot.getAxis("right").setLabel(tr("label (column of the positive)"))
        self.plot.getAxis("bottom").setLabel(tr("column"))
        self.plot.getAxis("left").setLabel(tr("row"))
        self.sheet = QGraphicsRectItem(0, 0, 1, 1)  # under the image: masked cells show it
        self.sheet.setBrush(QBrush(QColor(MASKED_COLOUR)))
        self.sheet.setPen(QPen(Qt.PenStyle.NoPen))
        self.sheet.setZValue(-10)
        self.plot.addItem(self.sheet)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(0)
        self.plot.addItem(self.image)
        self.outlines = pg.PlotCurveItem(pen=pg.mkPen(OUTLINE_COLOUR, width=1), connect="pairs")
        self.outlines.setZValue(5)
        self.plot.addItem(self.outlines)
        self.selected = pg.PlotCurveItem(pen=pg.mkPen(SELECTED_COLOUR, width=2.5), connect="pairs")
        self.selected.setZValue(6)
        self.plot.addItem(self.selected)
        self.marks = pg.ScatterPlotItem(pxMode=True, size=9)
        self.marks.setZValue(7)
        self.plot.addItem(self.marks)
        self.colour_bar = pg.ColorBarItem(values=(-1, 1), colorMap=colour_map("cosine"), interactive=False,
                                          width=16, colorMapMenu=False)
        self.colour_bar.setImageItem(self.image)
        self.addItem(self.colour_bar, row=0, col=1)
        self.kind = ""
        self.shape = (0, 0)
        self.names: dict[str, list[str]] = {"left": [], "bottom": [], "right": []}
        self._outline_xy: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
        self.outlines_shown = False  # whether the cells are wide enough for them now
        self.plot.vb.sigResized.connect(lambda _vb: self._update_detail())
        self.plot.vb.sigRangeChanged.connect(lambda *_a: self._update_detail())
        self.scene().sigMouseMoved.connect(self._moved)
        self.scene().sigMouseClicked.connect(self._clicked)

    # ------------------------------------------------------------------ drawing
    def show_matrix(self, image: np.ndarray, levels: tuple[float, float], kind: str, label: str,
                    row_names: list[str], col_names: list[str], label_names: list[str],
                    outline_cells: np.ndarray, mark_cells: np.ndarray, mark_kinds: np.ndarray) -> None:
        """Draw ``image`` (R, C) with colour ``levels``; ``outline_cells`` (K, 2) and
        ``mark_cells`` (M, 2) are (row, col) display cells, ``mark_kinds`` (M,) 1 / 2."""
        rows, cols = image.shape
        if kind != self.kind:
            self.colour_bar.setColorMap(colour_map(kind))
            self.kind = kind
        self.colour_bar.setLevels(levels)
        self.colour_bar.axis.setLabel(label)
        self.image.setImage(image, autoLevels=False, levels=levels)
        self.image.setRect(QRectF(0, 0, cols, rows))
        self.sheet.setRect(QRectF(0, 0, cols, rows))
        if (rows, cols) != self.shape:
            self.shape = (rows, cols)
            self.plot.setRange(xRange=(0, cols), yRange=(0, rows), padding=0.01)
        self.names = {"left": row_names, "bottom": col_names, "right": label_names}
        self._outline_xy = cell_edges(outline_cells, OUTLINE_INSET)
        self.outlines_shown = False
        self._update_detail()
        self._draw_marks(mark_cells, mark_kinds)

    def cell_px(self) -> float:
        """A cell's width on screen now (the aspect is locked: the same in height)."""
        vb = self.plot.vb
        (x0, x1), _ = vb.viewRange()
        return float(vb.width()) / max(1e-9, x1 - x0)

    def _update_detail(self) -> None:
        """After a resize or a zoom: as many names on each axis as there is room for,
        and the positives' outlines when a cell is wide enough to show them."""
        if not self.shape[0]:
            return
        px = self.cell_px()
        for side, names in self.names.items():
            self.plot.getAxis(side).setTicks(axis_ticks(names, px, TICK_PX[side]))
        show = px >= OUTLINE_MIN_PX
        if show != self.outlines_shown:
            self.outlines_shown = show
            self.outlines.setData(*(self._outline_xy if show else (np.zeros(0), np.zeros(0))))

    def _draw_marks(self, cells: np.ndarray, kinds: np.ndarray) -> None:
        if not len(cells):
            self.marks.setData([], [])
            return
        brushes = [pg.mkBrush(REMOVED_COLOUR if k == 1 else ATTRACTED_COLOUR) for k in kinds]
        symbols = ["x" if k == 1 else "o" for k in kinds]
        self.marks.setData(x=cells[:, 1] + 0.5, y=cells[:, 0] + 0.5, brush=brushes, symbol=symbols,
                           pen=pg.mkPen("w", width=0.8))

    def show_selected(self, row: int | None) -> None:
        """Outline display row ``row`` across the matrix (None: no row)."""
        if row is None or not self.shape[0]:
            self.selected.setData([], [])
            return
        c = self.shape[1]
        x = np.array([0, c, c, c, c, 0, 0, 0], dtype=float)
        y = np.array([row, row, row, row + 1, row + 1, row + 1, row + 1, row], dtype=float)
        self.selected.setData(x, y)

    def clear_matrix(self) -> None:
        self.image.clear()
        self.outlines.setData([], [])
        self.marks.setData([], [])
        self.selected.setData([], [])
        self.sheet.setRect(QRectF(0, 0, 0, 0))
        self.shape = (0, 0)

    # ------------------------------------------------------------------ pointer
    def cell_at(self, scene_pos: QPointF) -> tuple[int, int]:
        """(row, col) display cell under a scene position, (-1, -1) outside the image."""
        rows, cols = self.shape
        if not rows or not self.plot.sceneBoundingRect().contains(scene_pos):
            return -1, -1
        p = self.plot.vb.mapSceneToView(scene_pos)
        r, c = int(np.floor(p.y())), int(np.floor(p.x()))
        return (r, c) if 0 <= r < rows and 0 <= c < cols else (-1, -1)

    def _moved(self, pos: QPointF) -> None:
        self.hovered.emit(*self.cell_at(pos))

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        r, _c = self.cell_at(event.scenePos())
        if r >= 0:
            self.clicked.emit(r)


def cell_edges(cells: np.ndarray, inset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The four edges of each (row, col) cell, ``inset`` inside it, as segment pairs
    (``connect="pairs"``)."""
    if not len(cells):
        return np.zeros(0), np.zeros(0)
    r0 = cells[:, 0].astype(float)[:, None] + inset
    c0 = cells[:, 1].astype(float)[:, None] + inset
    r1, c1 = r0 + 1 - 2 * inset, c0 + 1 - 2 * inset
    x = np.hstack([c0, c1, c1, c1, c1, c0, c0, c0]).ravel()
    y = np.hstack([r0, r0, r0, r1, r1, r1, r1, r0]).ravel()
    return x, y


__all__ = ["MatrixView", "axis_ticks", "cell_edges", "colour_map"]
