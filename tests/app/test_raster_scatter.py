"""The numpy-rasterised scatter of the 2D views (app/embedding_tab/raster_scatter.py): the same
picture as painting the discs one by one, at the right pixels in a real view, cached
between repaints, and vector discs in SVG exports."""

from __future__ import annotations

from xml.etree import ElementTree

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QBrush, QColor

from app.embedding_tab.raster_scatter import RasterScatter, brush_argb, disc_offsets, premultiplied, rasterise


def painter_loop(px, py, argb, width, height, size_px):
    """Reference: each disc painted in turn, pixel by pixel (pixel centres inside the
    circle of diameter size_px around the centre pixel's centre), later over earlier."""
    img = np.zeros((height, width), dtype=np.uint32)
    r = max(size_px, 1.0) / 2.0
    R = int(np.floor(r))
    for x, y, c in zip(px, py, argb):
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        cx, cy = int(np.floor(x)), int(np.floor(y))
        for oy in range(-R, R + 1):
            for ox in range(-R, R + 1):
                if ox * ox + oy * oy <= r * r and 0 <= cy + oy < height and 0 <= cx + ox < width:
                    img[cy + oy, cx + ox] = c
    return img


@pytest.mark.parametrize("size", [1.0, 2.0, 5.0, 9.0])
def test_rasterise_equals_painting_the_discs_in_order(size):
    rng = np.random.default_rng(int(size))
    W, H, n = 61, 37, 400  # dense enough that most discs overlap others
    px = rng.uniform(-6, W + 6, n)  # some centres off the image, discs partly on it
    py = rng.uniform(-6, H + 6, n)
    px[-5:] = 10.5  # the last five points on one pixel: the very last one must show
    py[-5:] = 10.5
    px[7] = np.nan
    argb = rng.integers(1, 2**32, n, dtype=np.uint64).astype(np.uint32)
    got = rasterise(px, py, argb, W, H, size)
    want = painter_loop(px, py, argb, W, H, size)
    assert got.shape == (H, W) and got.dtype == np.uint32
    assert np.array_equal(got, want)
    assert got[10, 10] == argb[-1]


def test_disc_footprints():
    assert disc_offsets(1.0)[0].size == 1
    assert disc_offsets(5.0)[0].size == 21  # 5 x 5 less the four corners
    dy, dx, R = disc_offsets(9.0)
    assert R == 4 and np.all(dy * dy + dx * dx <= 4.5 ** 2)


def test_colours_are_premultiplied_argb():
    c = premultiplied(np.array([[255, 0, 0, 255], [200, 100, 50, 128], [9, 9, 9, 0]], dtype=np.uint8))
    assert c[0] == 0xFFFF0000
    a = 128
    assert c[1] == (a << 24) | (round(200 * a / 255) << 16) | (round(100 * a / 255) << 8) | round(50 * a / 255)
    assert c[2] == 0
    red, blue = QBrush(QColor("#ff0000")), QBrush(QColor("#0000ff"))
    per_point = np.empty(5, dtype=object)
    per_point[:] = [red, blue, red, red, blue]
    assert list(brush_argb(per_point)) == [0xFFFF0000, 0xFF0000FF, 0xFFFF0000, 0xFFFF0000, 0xFF0000FF]


@pytest.fixture
def map_view(qtbot):
    from app.training_tab.plots import configure_pyqtgraph
    from app.embedding_tab.map_view import MapView

    configure_pyqtgraph()
    v = MapView("test")
    qtbot.addWidget(v)
    v.resize(400, 300)
    v.show()
    qtbot.waitExposed(v)
    return v


def _device_pixel(view, x: float, y: float) -> tuple[int, int]:
    p = view.scatter.mapToDevice(QPointF(x, y))
    return int(np.floor(p.x())), int(np.floor(p.y()))


def test_points_land_on_their_pixels_in_a_view(map_view, qtbot):
    v = map_view
    colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]
    brushes = np.empty(4, dtype=object)
    brushes[:] = [QBrush(QColor(c)) for c in colours]
    xy = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]], dtype=np.float32)
    v.set_points(np.arange(4), xy, brushes)
    v.fixed_range(2.0, 2.0)
    img = v.grab().toImage()
    for (x, y), c in zip(xy, colours):
        col, row = _device_pixel(v, float(x), float(y))
        assert QColor(img.pixel(col, row)).name() == c, (x, y)
        # 4 px away (the disc is 5 px across): the background
        assert QColor(img.pixel(col + 4, row + 4)).name() != c
    # moving the points (same rows and brushes: positions only) moves the discs
    v.set_points(v.rows, xy * 0.5, brushes)
    img = v.grab().toImage()
    col, row = _device_pixel(v, -0.5, -0.5)
    assert QColor(img.pixel(col, row)).name() == colours[0]
    col, row = _device_pixel(v, -1.0, -1.0)
    assert QColor(img.pixel(col, row)).name() != colours[0]


def test_the_image_is_reused_until_something_changes(map_view):
    v = map_view
    brushes = np.empty(50, dtype=object)
    brushes[:] = [QBrush(QColor("#1f77b4"))] * 50
    xy = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    v.set_points(np.arange(50), xy, brushes)
    v.fixed_range(3.0, 3.0)
    v.grab()
    n = v.scatter.rasterised
    assert n >= 1
    v.set_overlays(selected=xy[:1])  # an overlay changes: the points' image is reused
    v.grab()
    assert v.scatter.rasterised == n
    from PySide6.QtCore import QRect

    v.viewport().repaint(QRect(20, 20, 30, 30))  # a partial update (a tooltip, a rubber band)
    assert v.scatter.rasterised == n
    v.set_points(v.rows, xy + 0.1, brushes)  # the points move: a new image
    v.grab()
    assert v.scatter.rasterised == n + 1
    v.fixed_range(4.0, 4.0)  # the view zooms: a new image
    v.grab()
    assert v.scatter.rasterised == n + 2


def test_presentation_size_grows_the_discs(map_view):
    v = map_view
    brushes = np.empty(1, dtype=object)
    brushes[:] = [QBrush(QColor("#d62728"))]
    v.set_points(np.arange(1), np.zeros((1, 2), np.float32), brushes)
    v.fixed_range(2.0, 2.0)

    def red_pixels() -> int:
        img = v.grab().toImage()
        arr = np.frombuffer(img.constBits(), dtype=np.uint32, count=img.width() * img.height())
        return int(np.count_nonzero((arr & 0xFFFFFF) == 0xD62728))

    small = red_pixels()
    v.scatter.setSize(11.0)
    big = red_pixels()
    assert small == disc_offsets(5.0)[0].size
    assert big == disc_offsets(11.0)[0].size


def test_svg_export_draws_vector_discs(map_view, tmp_path):
    from app.tools.exporting import export_image

    v = map_view
    brushes = np.empty(3, dtype=object)
    brushes[:] = [QBrush(QColor("#d62728")), QBrush(QColor("#1f77b4")), QBrush(QColor("#d62728"))]
    v.set_points(np.arange(3), np.array([[0, 0], [1, 1], [-1, 1]], dtype=np.float32), brushes)
    v.fixed_range(2.0, 2.0)
    svg = export_image(v, tmp_path / "map.svg", 400, 300)
    text = svg.read_text(encoding="utf-8")
    ElementTree.fromstring(text)
    assert "<image" not in text  # no embedded bitmap
    assert "#d62728" in text and "#1f77b4" in text


def test_rasterscatter_rejects_mismatched_input():
    sc = RasterScatter()
    with pytest.raises(ValueError, match="differ"):
        sc.setData(x=[0, 1], y=[0])
    sc.setData(x=[0, 1], y=[0, 1])
    with pytest.raises(ValueError, match="positions"):
        sc.set_positions(np.zeros(3), np.zeros(3))


_HIDPI_PROBE = """
import json, numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QBrush, QColor, QImage
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.training_tab.plots import configure_pyqtgraph
from app.embedding_tab.map_view import MapView
configure_pyqtgraph()
v = MapView("t"); v.resize(400, 300); v.show(); app.processEvents()
b = np.empty(1, dtype=object); b[:] = [QBrush(QColor("#d62728"))]
v.set_points(np.arange(1), np.array([[0.5, -0.25]], np.float32), b); v.fixed_range(2, 2); app.processEvents()
img = v.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
a = np.frombuffer(img.constBits(), dtype=np.uint32, count=img.width() * img.height()).reshape(img.height(), -1)
ys, xs = np.nonzero((a & 0xFFFFFF) == 0xD62728)
c = v.scatter.mapToDevice(QPointF(0.5, -0.25))  # logical pixels in the view
vp = v.viewport().mapTo(v, v.viewport().rect().topLeft())
print(json.dumps({"dpr": img.devicePixelRatio(), "n": int(xs.size), "cx": float(xs.mean()), "cy": float(ys.mean()),
                  "lx": c.x() + vp.x(), "ly": c.y() + vp.y()}))
"""


def test_high_dpi_screens_get_discs_at_device_resolution(tmp_path):
    """On a screen with a device pixel ratio of 2 (QT_SCALE_FACTOR=2) the points are
    rasterised at device resolution: a 5-px disc covers the device pixels of a 10-px one,
    centred where the logical position maps."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2",
               PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", _HIDPI_PROBE], capture_output=True, text=True, timeout=120, env=env,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["dpr"] == 2.0
    assert out["n"] == disc_offsets(10.0)[0].size
    assert abs(out["cx"] - 2 * out["lx"]) <= 1.0 and abs(out["cy"] - 2 * out["ly"]) <= 1.0


def test_points_show_when_a_parent_is_grabbed(qtbot):
    """Grabbing a window (screenshots, the tab export) paints each view redirected into
    the parent's pixmap at an offset: the points must still land where they belong."""
    from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

    from app.training_tab.plots import configure_pyqtgraph
    from app.embedding_tab.map_view import MapView

    configure_pyqtgraph()
    parent = QWidget()
    qtbot.addWidget(parent)
    lay = QHBoxLayout(parent)
    lay.addWidget(QLabel("a label that pushes the view to the right " * 2))
    v = MapView("inside a parent")
    lay.addWidget(v)
    parent.resize(900, 300)
    parent.show()
    qtbot.waitExposed(parent)
    brushes = np.empty(1, dtype=object)
    brushes[:] = [QBrush(QColor("#d62728"))]
    v.set_points(np.arange(1), np.array([[0.5, 0.5]], np.float32), brushes)
    v.fixed_range(2.0, 2.0)
    qtbot.wait(10)
    img = parent.grab().toImage()
    col, row = _device_pixel(v, 0.5, 0.5)
    origin = v.viewport().mapTo(parent, v.viewport().rect().topLeft())
    assert QColor(img.pixel(col + origin.x(), row + origin.y())).name() == "#d62728"
    argb = img.convertToFormat(img.Format.Format_ARGB32)  # kept alive while its bits are read
    arr = np.frombuffer(argb.constBits(), dtype=np.uint32, count=argb.width() * argb.height())
    assert int(np.count_nonzero((arr & 0xFFFFFF) == 0xD62728)) == disc_offsets(5.0)[0].size


def test_unpremultiplied_inverts_premultiplied():
    from app.embedding_tab.raster_scatter import unpremultiplied

    rgba = np.array([[214, 39, 40, 255], [31, 119, 180, 200], [0, 0, 0, 0]], dtype=np.uint8)
    for (r, g, b, a), c in zip(rgba.tolist(), premultiplied(rgba).tolist()):
        q = unpremultiplied(int(c))
        assert q.alpha() == a
        if a == 255:
            assert (q.red(), q.green(), q.blue()) == (r, g, b)
        elif a:
            assert max(abs(q.red() - r), abs(q.green() - g), abs(q.blue() - b)) <= 2  # 8-bit rounding
