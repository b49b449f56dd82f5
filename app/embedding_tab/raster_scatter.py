"""A scatter item that rasterises its points with numpy: many points, one image a frame.

pyqtgraph's ``ScatterPlotItem`` hands every point to ``QPainter.drawPixmapFragments``
and spends about as long again in Python around it: 6-8 ms a view at 20,000 points on a
2-core machine, so four such views could not redraw 30 times a second. :class:`RasterScatter`
draws the same picture (discs of ``size`` pixels, later points on top, pen-less, one
colour a point) into an image with vectorised numpy (about half the time at 20k points,
a third at 100k: ``bench/scatter_paint.py``) and paints that image with one
``drawImage``. The image is kept until the points, the colours, the size or the view
transform change, so a repaint for an overlay or a tooltip costs a blit.

How a frame is rasterised (:func:`rasterise`): the points are mapped to device pixels with
the painter's transform; every (point, footprint pixel) pair is written into a padded
uint32 image by one fancy assignment in point order, so a pixel ends up with the colour
of the last point covering it, exactly what painting the discs one by one would give.

Devices that are not raster images (the SVG exporter, ``QPicture``) get vector discs,
one ``QPainterPath`` a colour, so exported figures stay vector graphics (there, where
discs of different colours overlap, the colour drawn last wins rather than the later
point).

Only what the studio's 2D views need is offered: ``setData(x, y, brush)``,
``set_positions``, ``setSize``, ``getData``, ``colors``; picking is done by
:class:`~app.embedding_tab.map_view.MapView` on its own arrays.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPaintEngine, QPixmap, QTransform

__all__ = ["RasterScatter", "disc_offsets", "rasterise", "brush_argb"]


@lru_cache(maxsize=32)
def disc_offsets(size_px: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Pixel offsets (dy, dx) of a disc ``size_px`` pixels across, centred on a pixel
    centre, and its integer radius. A disc of 5 px covers 21 pixels (5 x 5 less the
    corners); anything under 1.5 px is one pixel."""
    r = max(size_px, 1.0) / 2.0
    R = int(math.floor(r))
    yy, xx = np.mgrid[-R:R + 1, -R:R + 1]
    keep = xx * xx + yy * yy <= r * r
    return yy[keep].astype(np.int64), xx[keep].astype(np.int64), R


def rasterise(px: np.ndarray, py: np.ndarray, argb: np.ndarray, width: int, height: int,
              size_px: float) -> np.ndarray:
    """An (height, width) uint32 premultiplied-ARGB image of discs ``size_px`` across at
    pixel positions (``px``, ``py``) (floats; pixel i spans [i, i+1)), coloured ``argb``
    (premultiplied, uint32), later points over earlier ones; 0 (transparent) elsewhere.

    One fancy assignment writes every (point, footprint pixel) pair in point-major order,
    so where discs overlap the last write, i.e. the later point, stays: what painting the
    discs one after the other gives (tests compare with exactly that loop)."""
    dy, dx, R = disc_offsets(float(size_px))
    pad = 2 * R  # centres up to R outside the image, plus the footprint's own R
    stride = width + 2 * pad
    with np.errstate(invalid="ignore"):
        cx = np.floor(px).astype(np.intp)
        cy = np.floor(py).astype(np.intp)
    inside = (cx >= -R) & (cx < width + R) & (cy >= -R) & (cy < height + R)
    img = np.zeros((height + 2 * pad) * stride, dtype=np.uint32)
    if inside.any():
        if not inside.all():
            cx, cy, argb = cx[inside], cy[inside], argb[inside]
        base = (cy + pad) * stride + (cx + pad)  # (n,) the centre pixel in the padded image
        off = dy * stride + dx  # (m,) the footprint, as flat offsets
        img[(base[:, None] + off[None, :]).ravel()] = np.repeat(argb, off.size)  # (n * m,)
    return img.reshape(height + 2 * pad, stride)[pad:pad + height, pad:pad + width]


def premultiplied(rgba8: np.ndarray) -> np.ndarray:
    """(n, 4) uint8 RGBA -> (n,) uint32 premultiplied ARGB (QImage's native order)."""
    c = np.asarray(rgba8, dtype=np.uint32)
    a = c[:, 3]
    r, g, b = ((c[:, i] * a + 127) // 255 for i in range(3))
    return (a << 24) | (r << 16) | (g << 8) | b


def unpremultiplied(argb: int) -> QColor:
    """The QColor of one premultiplied ARGB value."""
    a = argb >> 24

    def un(v: int) -> int:
        return min(255, (v * 255 + a // 2) // a) if a else 0

    return QColor(un((argb >> 16) & 255), un((argb >> 8) & 255), un(argb & 255), a)


def brush_argb(brushes) -> np.ndarray:
    """Premultiplied ARGB (n,) for a per-point sequence of brushes, looked up once per
    distinct brush object (a colouring shares one ``QBrush`` per group)."""
    seq = list(brushes) if not isinstance(brushes, np.ndarray) else brushes
    n = len(seq)
    ids = np.fromiter((id(b) for b in seq), dtype=np.int64, count=n)
    _, first, inv = np.unique(ids, return_index=True, return_inverse=True)
    table = np.array([QColor(seq[i].color() if isinstance(seq[i], QBrush) else pg.mkBrush(seq[i]).color()).getRgb()
                      for i in first], dtype=np.uint8).reshape(-1, 4)
    return premultiplied(table)[inv.reshape(-1)]


def _raster_device(painter: QPainter) -> bool:
    eng = painter.paintEngine()
    return eng is not None and eng.type() == QPaintEngine.Type.Raster


class RasterScatter(pg.GraphicsObject):
    """Points as discs of ``size`` device pixels (pxMode), one colour each."""

    def __init__(self, size: float = 5.0) -> None:
        super().__init__()
        self.opts = {"size": float(size)}
        self.x = np.zeros(0, dtype=np.float64)
        self.y = np.zeros(0, dtype=np.float64)
        self.colors = np.zeros(0, dtype=np.uint32)  # premultiplied ARGB
        self._version = 0
        self._bounds: QRectF | None = None
        self._cache_key: tuple | None = None
        self._cache_img: QImage | None = None
        self._cache_buf: np.ndarray | None = None
        self._cache_at = QRectF()
        self.rasterised = 0  # images made (tests, benchmarks)

    # ------------------------------------------------------------------ data
    def setData(self, x=None, y=None, brush=None) -> None:  # noqa: N802 - pyqtgraph naming
        x = np.zeros(0) if x is None else np.asarray(x, dtype=np.float64).ravel()
        y = np.zeros(0) if y is None else np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"x and y differ in length ({x.size} vs {y.size})")
        n = x.size
        if brush is None:
            brush = pg.mkBrush(100, 100, 150)
        if isinstance(brush, (QBrush, QColor, str, tuple)):
            self.colors = np.full(n, brush_argb([brush if isinstance(brush, QBrush) else pg.mkBrush(brush)])[0],
                                  dtype=np.uint32) if n else np.zeros(0, dtype=np.uint32)
        else:
            if len(brush) != n:
                raise ValueError(f"{len(brush)} brushes for {n} points")
            self.colors = brush_argb(brush) if n else np.zeros(0, dtype=np.uint32)
        self._set_xy(x, y)

    def set_positions(self, x: np.ndarray, y: np.ndarray) -> None:
        """New positions for the same points (same count, same colours)."""
        if len(x) != self.colors.size:
            raise ValueError(f"{len(x)} positions for {self.colors.size} points")
        self._set_xy(np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel())

    def _set_xy(self, x: np.ndarray, y: np.ndarray) -> None:
        self.prepareGeometryChange()
        self.x, self.y = x, y
        self._bounds = None
        self._version += 1
        self.informViewBoundsChanged()
        self.update()

    def clear(self) -> None:
        self.setData([], [])

    def getData(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802
        return self.x, self.y

    def __len__(self) -> int:
        return int(self.x.size)

    def setSize(self, size: float) -> None:  # noqa: N802
        self.opts["size"] = float(size)
        self.prepareGeometryChange()
        self.informViewBoundsChanged()
        self.update()

    # ------------------------------------------------------------------ geometry
    def _data_rect(self) -> QRectF:
        if self._bounds is None:
            ok = np.isfinite(self.x) & np.isfinite(self.y)
            if not ok.any():
                self._bounds = QRectF()
            else:
                x, y = self.x[ok], self.y[ok]
                x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
                self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        return self._bounds

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802, ARG002
        r = self._data_rect()
        if r.isNull() and self.x.size == 0:
            return [None, None]
        return [r.left(), r.right()] if ax == 0 else [r.top(), r.bottom()]

    def pixelPadding(self) -> float:  # noqa: N802
        return self.opts["size"] * 0.5

    def boundingRect(self) -> QRectF:  # noqa: N802
        r = self._data_rect()
        if self.x.size == 0:
            return QRectF()
        pad_x = pad_y = 0.0
        pw, ph = self.pixelWidth(), self.pixelHeight()  # 0 when not in a view yet
        half = self.opts["size"] * 0.5 + 1.0
        if pw and math.isfinite(pw):
            pad_x = pw * half
        if ph and math.isfinite(ph):
            pad_y = ph * half
        return r.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def viewTransformChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self.prepareGeometryChange()  # the pixel padding of boundingRect changed

    # ------------------------------------------------------------------ painting
    def paint(self, p: QPainter, *args) -> None:
        if self.x.size == 0:
            return
        if _raster_device(p):
            self._paint_raster(p)
        else:
            self._paint_vector(p)

    def _target_rect(self, p: QPainter, t: QTransform) -> QRectF:
        """The device-pixel rectangle worth drawing: the view box's area on the device
        (``t`` maps item coordinates to device pixels). A widget's own size is no bound:
        when a parent is grabbed, the painter is redirected into the parent's pixmap and
        ``t`` carries the offset there. The painter's clip is not used: a partial update
        (a tooltip, the selection rectangle being dragged) then reuses the cached image
        instead of rasterising just the updated strip."""
        dev = p.device()
        vb = self.getViewBox()
        if vb is not None:
            area = t.mapRect(self.mapRectFromItem(vb, vb.rect()))
        else:
            area = QRectF(0, 0, 16384, 16384)
        if isinstance(dev, (QImage, QPixmap)):
            area = area.intersected(QRectF(0, 0, dev.width(), dev.height()))  # device pixels
        return area.intersected(QRectF(-16384, -16384, 32768, 32768))

    def _paint_raster(self, p: QPainter) -> None:
        # deviceTransform: item -> device pixels, with the device pixel ratio (HiDPI screens,
        # 2x exports) and any redirection offset included, so points land on real pixels
        t = p.deviceTransform()
        area = self._target_rect(p, t)
        if area.isEmpty():
            return
        x0, y0 = math.floor(area.left()), math.floor(area.top())
        w = int(math.ceil(area.right())) - x0
        h = int(math.ceil(area.bottom())) - y0
        if w <= 0 or h <= 0:
            return
        dpr = float(p.device().devicePixelRatioF()) or 1.0
        key = (self._version, t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy(), x0, y0, w, h, dpr,
               self.opts["size"], id(self.colors))
        if key != self._cache_key or self._cache_img is None:
            px = t.m11() * self.x + t.m21() * self.y + t.dx() - x0
            py = t.m12() * self.x + t.m22() * self.y + t.dy() - y0
            ok = np.isfinite(px) & np.isfinite(py)
            if not ok.all():
                px, py, cols = px[ok], py[ok], self.colors[ok]
            else:
                cols = self.colors
            arr = np.ascontiguousarray(rasterise(px, py, cols, w, h, self.opts["size"] * dpr))
            img = QImage(arr.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)  # no copy:
            # ``_cache_buf`` keeps the pixels alive as long as the image
            self._cache_buf, self._cache_img, self._cache_key = arr, img, key
            self._cache_at = QRectF(x0, y0, w, h)
            self.rasterised += 1
        p.save()
        p.resetTransform()
        to_device = p.deviceTransform()  # what is left: the HiDPI scale, a redirection offset
        back, invertible = to_device.inverted()
        if invertible:
            src = QRectF(0, 0, self._cache_img.width(), self._cache_img.height())
            p.drawImage(back.mapRect(self._cache_at), self._cache_img, src)
        p.restore()

    def _paint_vector(self, p: QPainter) -> None:
        """Discs as vector paths (SVG export): one path a colour, sized in device pixels."""
        t = p.worldTransform()
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(pg.mkPen(None))
        px = t.m11() * self.x + t.m21() * self.y + t.dx()
        py = t.m12() * self.x + t.m22() * self.y + t.dy()
        r = self.opts["size"] * 0.5
        ok = np.isfinite(px) & np.isfinite(py)
        for c in np.unique(self.colors[ok]):
            path = QPainterPath()
            mine = ok & (self.colors == c)
            for xi, yi in zip(px[mine].tolist(), py[mine].tolist()):
                path.addEllipse(QPointF(xi, yi), r, r)
            p.setBrush(QBrush(unpremultiplied(int(c))))
            p.drawPath(path)
        p.restore()
