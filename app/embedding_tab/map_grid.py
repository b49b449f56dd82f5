"""The four embedding views in a 2 x 2 grid: the sphere (3D with OpenGL, else a
Lambert azimuthal map), the Hammer equal-area map, the S1 circle and UMAP; and how one
:class:`~app.embedding_tab.geometry.Frame` is drawn on them (points updated in place)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from simcse_core.projection import hammer, hammer_graticule, lambert_azimuthal

from app.embedding_tab.drawing import Marks, circle_outline, draw_2d_marks, draw_3d_marks, lambert_outline
from app.embedding_tab.geometry import Frame
from app.embedding_tab.map_view import MapView
from app.embedding_tab.sphere3d import gl_available, make_sphere_view
from app.i18n import tr

log = logging.getLogger(__name__)


class MapGrid(QWidget):
    """``sphere_view``, ``hammer_view``, ``circle_view``, ``umap_view``; ``map_views``:
    the 2D ones (the sphere too when it is a 2D map). ``gl_enabled`` / ``gl_reason``:
    whether the sphere is 3D, and why not."""

    def __init__(self, text_of: Callable[[int], str], use_gl: bool | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gl_enabled, self.gl_reason = gl_available() if use_gl is None or use_gl else (False, "disabled")
        self.hammer_view = MapView(tr("Sphere, Hammer equal-area map"), text_of)
        self.hammer_view.set_background(hammer_graticule())
        self.hammer_view.fixed_range(2.85, 1.45)
        self.circle_view = MapView(tr("S1: PCA-2 normalised, vMF density of angles"), text_of)
        self.circle_view.set_background(circle_outline())
        self.circle_view.fixed_range(1.4, 1.4)
        self.umap_view = MapView(tr("UMAP (warm-started, Procrustes-aligned)"), text_of)
        if self.gl_enabled:
            try:
                self.sphere_view = make_sphere_view(text_of)
            except Exception as e:  # a GL failure at build time: fall back, never crash
                log.warning("3D sphere unavailable: %s", e)
                self.gl_enabled, self.gl_reason = False, f"{type(e).__name__}: {e}"
        if not self.gl_enabled:
            self.sphere_view = MapView(tr("Sphere, Lambert equal-area map (2D)"), text_of)
            self.sphere_view.setToolTip(tr("The 3D sphere is off: {reason}. This is the same sphere on a Lambert "
                                           "azimuthal equal-area map about the north pole.").format(reason=self.gl_reason))
            self.sphere_view.set_background(lambert_outline())
            self.sphere_view.fixed_range(2.05, 2.05)
        self.map_views: list[MapView] = [self.hammer_view, self.circle_view, self.umap_view]
        if not self.gl_enabled:
            self.map_views.append(self.sphere_view)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        grid.addWidget(self._sphere_box() if self.gl_enabled else self.sphere_view, 0, 0)
        grid.addWidget(self.hammer_view, 0, 1)
        grid.addWidget(self.circle_view, 1, 0)
        grid.addWidget(self.umap_view, 1, 1)

    def _sphere_box(self) -> QWidget:
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(0)
        title = QLabel(tr("Sphere, 3D (drag: rotate, wheel: zoom)"))
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        bl.addWidget(title)
        bl.addWidget(self.sphere_view, 1)
        return box

    def views_by_role(self) -> dict[str, Any]:
        """Every view of the grid by role, in reading order (exports list them so)."""
        return {"sphere": self.sphere_view, "hammer": self.hammer_view, "circle": self.circle_view,
                "umap": self.umap_view}

    def clear(self) -> None:
        for v in self.map_views:
            v.clear_points()
        if self.gl_enabled:
            self.sphere_view.clear_points()

    def draw_frame(self, frame: Frame, xyz: np.ndarray, rows: np.ndarray, brushes: np.ndarray,
                   rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Draw probe ``rows`` of ``frame`` with the sphere at ``xyz`` (P, 3) (PCA or
        haversine UMAP). Returns the Hammer (P, 2) and Lambert (P, 2, or None in 3D)
        positions drawn."""
        ham = self._known(xyz, frame, "hammer")
        if ham is None:
            ham = hammer(xyz).astype(np.float32)
        self.hammer_view.set_points(rows, ham[rows], brushes)
        self.circle_view.set_points(rows, frame.circle[rows], brushes)
        r = 1.0 + 0.35 * frame.vmf_density / max(float(frame.vmf_density.max()), 1e-9)
        self.circle_view.extra_item.setData(r * np.cos(frame.vmf_t), r * np.sin(frame.vmf_t))
        if self.gl_enabled:
            self.sphere_view.set_points(rows, xyz[rows], rgba)
            return ham, None
        lam = self._known(xyz, frame, "lambert")
        if lam is None:
            lam = lambert_azimuthal(xyz).astype(np.float32)
        self.sphere_view.set_points(rows, lam[rows], brushes)
        return ham, lam

    @staticmethod
    def _known(xyz: np.ndarray, frame: Frame, kind: str) -> np.ndarray | None:
        """The frame's own ``kind`` map ("hammer", "lambert") of ``xyz`` when ``xyz`` is
        its PCA or raw sphere; None for another sphere (UMAP: mapped here)."""
        if xyz is frame.xyz:
            return getattr(frame, kind)
        if xyz is frame.raw_xyz:
            return getattr(frame, f"raw_{kind}")
        return None

    def draw_umap(self, rows: np.ndarray, brushes: np.ndarray, layout: np.ndarray | None, title: str) -> None:
        """The UMAP view: ``layout`` (P, 2) of probe ``rows``, or nothing (None)."""
        size = str(self.umap_view.getPlotItem().titleLabel.opts.get("size") or "9pt")  # keep a scaled title
        if layout is None:
            self.umap_view.clear_points()
        else:
            self.umap_view.set_points(rows, layout[rows], brushes)
        self.umap_view.setTitle(title, size=size)

    def draw_marks(self, frame: Frame, xyz: np.ndarray, ham: np.ndarray, lam: np.ndarray | None,
                   layout: np.ndarray | None, marks: Marks) -> None:
        """Overlay ``marks`` on every view at the positions just drawn."""
        positions = [(self.hammer_view, ham), (self.circle_view, frame.circle), (self.umap_view, layout)]
        if not self.gl_enabled:
            positions.append((self.sphere_view, lam))
        draw_2d_marks(positions, marks)
        if self.gl_enabled:
            draw_3d_marks(self.sphere_view, xyz, marks)
