"""Run under Xvfb by test_sphere3d_picking.py: builds the real GL sphere, draws a few
coloured points, and reports (JSON on stdout) for each point where the picking math puts
it, what colour the GL framebuffer has there, what row_at picks, and what a real mouse
click emits. Exit 3 when OpenGL is unavailable."""

from __future__ import annotations

import json
import sys

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def main() -> int:
    app = QApplication(sys.argv)
    from app.embedding_tab.sphere3d import gl_available, make_sphere_view

    ok, why = gl_available()
    if not ok:
        print(json.dumps({"gl": False, "why": why}))
        return 3
    v = make_sphere_view(lambda r: f"row {r}")
    v.resize(480, 480)
    v.show()
    for _ in range(20):
        app.processEvents()
    # points facing the camera (azimuth 30, elevation 20), spread apart, and one behind
    cam = np.array(v.cameraPosition(), dtype=np.float64)
    c = cam / np.linalg.norm(cam)
    u = np.cross(c, [0.0, 0.0, 1.0])
    u /= np.linalg.norm(u)
    w = np.cross(c, u)
    front = [c, c * 0.8 + u * 0.6, c * 0.8 - u * 0.6, c * 0.8 + w * 0.6, c * 0.8 - w * 0.6]
    xyz = np.array([p / np.linalg.norm(p) for p in front] + [-c], dtype=np.float32)
    colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]
    rgba = np.array([QColor(k).getRgbF() for k in colours], dtype=np.float32)
    rows = np.array([10, 11, 12, 13, 14, 15], dtype=np.int64)
    v.scatter.setData(size=14.0)
    v.set_points(rows, xyz, rgba)
    for _ in range(20):
        app.processEvents()
    img = v.grabFramebuffer()
    sx, sy, pickable = v.screen_positions()
    clicked: list[int] = []
    v.point_clicked.connect(clicked.append)
    out = {"gl": True, "size": [v.width(), v.height()], "points": []}
    for i in range(len(rows)):
        x, y = float(sx[i]), float(sy[i])
        px = QColor(img.pixel(int(round(x)), int(round(y)))) if 0 <= x < img.width() and 0 <= y < img.height() else None
        before = len(clicked)
        QTest.mouseClick(v, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(int(round(x)), int(round(y))))
        app.processEvents()
        out["points"].append({
            "row": int(rows[i]), "colour": colours[i], "x": x, "y": y, "pickable": bool(pickable[i]),
            "pixel": px.name() if px is not None else None, "row_at": v.row_at(x, y),
            "clicked": clicked[before:],
        })
    print(json.dumps(out))
    v.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
