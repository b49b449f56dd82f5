"""The rotatable 3D sphere (pyqtgraph.opengl): :class:`Sphere3D`.

Imports ``pyqtgraph.opengl`` at import time, so only
:func:`app.embedding_tab.sphere3d.make_sphere_view` imports it, after
:func:`~app.embedding_tab.sphere3d.gl_available` said yes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph.opengl as gl
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QMatrix4x4
from PySide6.QtWidgets import QToolTip

from simcse_core.projection import sphere_grid

from app.embedding_tab.map_view import edge_width

BASE_DISTANCE = 2.7  # camera distance that frames the unit sphere in a square view


def gl_colour(color: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    c = QColor(color)
    return (c.redF(), c.greenF(), c.blueF(), alpha)


class Sphere3D(gl.GLViewWidget):
    """Points on S2 over a faint wireframe and an opaque inner sphere (so the far
    side is hidden); drag rotates, the wheel zooms. ``point_clicked(row)``."""

    point_clicked = Signal(int)

    def __init__(self, text_of: Callable[[int], str], parent=None) -> None:
        super().__init__(parent)
        self.text_of = text_of
        self.setBackgroundColor("w")
        self.setCameraPosition(distance=BASE_DISTANCE, elevation=20, azimuth=30)
        self.setMinimumSize(160, 120)
        md = gl.MeshData.sphere(rows=24, cols=48, radius=0.985)
        self.ball = gl.GLMeshItem(meshdata=md, color=(0.97, 0.97, 0.97, 1.0), smooth=True, shader=None,
                                  glOptions="opaque")
        self.addItem(self.ball)
        segs = []
        for ln in sphere_grid(n_lat=5, n_lon=12, points=61):
            segs.append(np.repeat(ln, 2, axis=0)[1:-1])
        self.grid = gl.GLLinePlotItem(pos=np.vstack(segs).astype(np.float32), mode="lines",
                                      color=(0.55, 0.55, 0.55, 0.6), width=1.0, antialias=True, glOptions="opaque")
        self.addItem(self.grid)
        self.scatter = gl.GLScatterPlotItem(pos=np.zeros((0, 3), dtype=np.float32), size=5.0, pxMode=True,
                                            glOptions="opaque")
        self.addItem(self.scatter)
        self.marks = gl.GLScatterPlotItem(pos=np.zeros((0, 3), dtype=np.float32), size=12.0, pxMode=True,
                                          glOptions="opaque")
        self.marks.setGLOptions("opaque")
        self.addItem(self.marks)
        self.edge_items: list = []
        self.rows = np.zeros(0, dtype=np.int64)
        self.xyz = np.zeros((0, 3), dtype=np.float32)
        self.redraws = 0
        self._press: QPoint | None = None
        self.hover_row: int | None = None
        self.setMouseTracking(True)

    def set_points(self, rows: np.ndarray, xyz: np.ndarray, rgba: np.ndarray) -> None:
        self.rows = rows
        self.xyz = np.ascontiguousarray(xyz, dtype=np.float32)
        self.scatter.setData(pos=self.xyz * 1.01, color=rgba)
        self.redraws += 1

    def clear_points(self) -> None:
        self.set_points(np.zeros(0, dtype=np.int64), np.zeros((0, 3), np.float32), np.zeros((0, 4), np.float32))
        self.set_marks([])
        self.set_edges(None, [], [])

    def set_marks(self, marks: list[tuple[np.ndarray, str, float]]) -> None:
        """Larger points: (xyz (3,), colour, size) each (selected, pair, star...)."""
        if not marks:
            self.marks.setData(pos=np.zeros((0, 3), dtype=np.float32))
            return
        pos = np.array([m[0] for m in marks], dtype=np.float32) * 1.02
        col = np.array([gl_colour(m[1]) for m in marks], dtype=np.float32)
        size = np.array([m[2] for m in marks], dtype=np.float32)
        self.marks.setData(pos=pos, color=col, size=size)

    def set_edges(self, anchor: np.ndarray | None, targets, weights) -> None:
        n = 0 if anchor is None else len(targets)
        w = np.asarray(weights, dtype=np.float64)
        while len(self.edge_items) < n:
            item = gl.GLLinePlotItem(pos=np.zeros((2, 3), dtype=np.float32), mode="lines",
                                     color=gl_colour("#6a3d9a"), width=2.0, antialias=True, glOptions="opaque")
            self.addItem(item)
            self.edge_items.append(item)
        for i, item in enumerate(self.edge_items):
            if i < n:
                a = np.asarray(anchor, dtype=np.float64)
                b = np.asarray(targets[i], dtype=np.float64)
                # a great-circle arc slightly above the surface
                t = np.linspace(0, 1, 24)[:, None]
                arc = a * (1 - t) + b * t
                arc /= np.maximum(np.linalg.norm(arc, axis=1, keepdims=True), 1e-9)
                seg = np.repeat(arc * 1.015, 2, axis=0)[1:-1].astype(np.float32)
                width = edge_width(float(w[i]))
                item.setData(pos=seg, width=width)
                item.setVisible(True)
            else:
                item.setVisible(False)

    @property
    def n_edges(self) -> int:
        return sum(1 for it in self.edge_items if it.visible())

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt naming
        """pyqtgraph's field of view is horizontal: in a wide view the sphere would be
        cut at top and bottom, so step the camera back in proportion to the aspect."""
        super().resizeEvent(ev)
        self.opts["distance"] = BASE_DISTANCE * max(1.0, self.width() / max(1, self.height()))

    # -- picking: project the points to the screen, nearest front-facing one
    def screen_positions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, pickable) of every drawn point in widget pixels, through the same
        projection and view matrices GL draws with; pickable = in front of the camera
        and on the hemisphere facing it (the opaque ball hides the rest)."""
        w, h = self.width(), self.height()
        vp = (0, 0, w, h)  # pyqtgraph 0.14 takes the region and viewport explicitly
        m: QMatrix4x4 = self.projectionMatrix(vp, vp) * self.viewMatrix()
        M = np.array(m.data(), dtype=np.float64).reshape(4, 4).T  # column-major -> row-major
        P = np.hstack([self.xyz * 1.01, np.ones((self.xyz.shape[0], 1))]) @ M.T
        ok = P[:, 3] > 1e-9
        ndc = P[:, :3] / np.where(ok, P[:, 3], 1.0)[:, None]
        sx = (ndc[:, 0] + 1) * 0.5 * w
        sy = (1 - ndc[:, 1]) * 0.5 * h
        cam = np.array(self.cameraPosition())
        front = (self.xyz @ cam) > 0.3  # facing the camera (not behind the ball)
        return sx, sy, ok & front

    def row_at(self, x: float, y: float, radius_px: float = 8.0) -> int | None:
        if self.rows.size == 0:
            return None
        sx, sy, pickable = self.screen_positions()
        d2 = (sx - x) ** 2 + (sy - y) ** 2
        d2[~pickable] = np.inf
        i = int(np.argmin(d2))
        return int(self.rows[i]) if d2[i] <= radius_px ** 2 else None

    def mousePressEvent(self, ev):  # noqa: N802
        self._press = ev.position().toPoint()
        super().mousePressEvent(ev)

    def mouseReleaseEvent(self, ev):  # noqa: N802
        super().mouseReleaseEvent(ev)
        p = ev.position().toPoint()
        if self._press is not None and (p - self._press).manhattanLength() < 4 and ev.button() == Qt.MouseButton.LeftButton:
            row = self.row_at(p.x(), p.y())
            if row is not None:
                self.point_clicked.emit(row)
        self._press = None

    def mouseMoveEvent(self, ev):  # noqa: N802
        super().mouseMoveEvent(ev)
        if ev.buttons() == Qt.MouseButton.NoButton:
            p = ev.position()
            row = self.row_at(p.x(), p.y())
            if row != self.hover_row:
                self.hover_row = row
                if row is None:
                    QToolTip.hideText()
                else:
                    QToolTip.showText(ev.globalPosition().toPoint(), self.text_of(row), self)
