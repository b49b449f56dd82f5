"""Frames per second of the explore map while panning and zooming (issue 16 goals: a
million points at >= 30 frames/s; 100,000 points drawn one by one at >= 30 frames/s).

    python bench/explore_map.py                 # 1,000,000 and 100,000 points
    python bench/explore_map.py --points 300000

Synthetic map: points in 60 Gaussian blobs of different sizes with 12 labels (a UMAP of
a corpus looks like this). A frame is what the window does when the view moves: the
picture of the view remade (from the counts pyramid of :mod:`app.explore.pyramid` for wide
views, :func:`app.explore.raster.render` from the points zoomed in) and handed to the
ImageItem of a real, offscreen :class:`app.explore.window.MapView` at 1400 x 850
pixels, then painted into an image (Qt's own drawing included). The moves: a pan
across the whole map, then a zoom in to 1/64 of it and back. Then the before / after toggle
at the whole map: the first switch to another map (one frame from the points while its counts
are built), and the switch back (from the counts kept for the first map). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from bench_common import machine_line

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def synthetic_map(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-20, 20, (60, 2))
    spread = rng.uniform(0.3, 2.5, 60)
    which = rng.integers(0, 60, n)
    xy = (centres[which] + rng.standard_normal((n, 2)) * spread[which, None]).astype(np.float32)
    return xy, (which % 12).astype(np.int64)


def moves(frames: int) -> list[tuple[float, float, float]]:
    """(centre x, centre y, zoom) per frame: a pan, then a zoom in and out."""
    half = frames // 2
    pan = [(-15 + 30 * i / max(1, half - 1), 0.0, 1.0) for i in range(half)]
    zoom = [(0.0, 0.0, 64 ** (1 - abs(2 * i / max(1, frames - half - 1) - 1))) for i in range(frames - half)]
    return pan + zoom


def measure(n: int, frames: int, width: int, height: int) -> dict:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from app.explore.window import MapView

    app = QApplication.instance() or QApplication([])
    xy, labels = synthetic_map(n)
    view = MapView()
    view.resize(width, height)
    view.show()
    app.processEvents()
    view.set_points(xy)
    view.set_labels(labels, 12)
    t = time.perf_counter()
    while not view.pyramid_ready and n > view.budget and time.perf_counter() - t < 60:
        app.processEvents()  # the counts pyramid is built in a thread once (frames meanwhile: from the points)
        time.sleep(0.01)
    build_s = time.perf_counter() - t
    img = QImage(width, height, QImage.Format.Format_ARGB32)
    times, modes = [], []
    full_w, full_h = 44.0, 44.0 * height / width
    for cx, cy, zoom in moves(frames):
        w, h = full_w / np.sqrt(zoom), full_h / np.sqrt(zoom)
        t = time.perf_counter()
        view.vb.setRange(QRectF(cx - w / 2, cy - h / 2, w, h), padding=0)
        view.redraw()
        painter = QPainter(img)
        view.render(painter)
        painter.end()
        times.append(time.perf_counter() - t)
        modes.append(view.last.mode)
    toggle = measure_toggle(app, view, xy, full_w, full_h) if n > view.budget else None
    view.close()
    ms = np.array(times[2:]) * 1000  # the first frames warm caches
    return {"points": n, "frames": len(ms), "ms_median": round(float(np.median(ms)), 1),
            "ms_p90": round(float(np.percentile(ms, 90)), 1), "fps_median": round(1000.0 / float(np.median(ms)), 1),
            "density_frames": modes.count("density"), "point_frames": modes.count("points"),
            "pyramid_build_s": round(build_s, 2) if n > view.budget else None, "toggle": toggle}


def measure_toggle(app, view, xy: np.ndarray, full_w: float, full_h: float) -> dict:
    """Before / after: the whole map, switched to another map of the same rows (its counts
    built in the thread; frames meanwhile from the points), then back (the kept counts)."""
    from PySide6.QtCore import QRectF

    view.vb.setRange(QRectF(-full_w / 2, -full_h / 2, full_w, full_h), padding=0)
    other = np.ascontiguousarray(xy[:, ::-1] * np.float32(0.8))  # another model's positions
    t = time.perf_counter()
    view.swap_points(other)  # draws one frame at once: from the points, the counts not made yet
    first_ms = (time.perf_counter() - t) * 1000
    while not view.pyramid_ready and time.perf_counter() - t < 60:
        app.processEvents()
        time.sleep(0.01)
    ready_s = time.perf_counter() - t
    t = time.perf_counter()
    view.swap_points(xy)  # back: from the counts kept for it
    back_ms = (time.perf_counter() - t) * 1000
    return {"first_frame_ms": round(first_ms, 1), "counts_ready_s": round(ready_s, 2),
            "back_frame_ms": round(back_ms, 1), "back_from_kept_counts": bool(view.pyramid_ready)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, action="append")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=850)
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"# {machine_line()}", file=sys.stderr)
    out = {"size": [args.width, args.height], "runs": []}
    for n in args.points or [1_000_000, 100_000]:
        out["runs"].append(measure(n, args.frames, args.width, args.height))
        print(json.dumps(out["runs"][-1]), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
