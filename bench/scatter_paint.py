"""Paint time of one 2D view: pyqtgraph's ScatterPlotItem (the baseline) against the
studio's numpy-rasterised RasterScatter, same points, same view, same run.

An empty view is measured too (what both pay for the rest of the view). Each frame moves every point a little (new positions, same colours: what a live snapshot
or the timeline does) and renders the view into an image (``QGraphicsView.render``:
the paint itself, synchronously). Offscreen, 700 x 450 px, 8 colours, disc 5 px.

    python bench/scatter_paint.py                       # 10k, 20k, 100k points
    python bench/scatter_paint.py --points 20000 --frames 100

Prints a markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(points: list[int], frames: int) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtGui import QBrush, QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from app.training_tab.plots import configure_pyqtgraph
    from app.embedding_tab.geometry import PALETTE
    from app.embedding_tab.raster_scatter import RasterScatter

    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    brushes = [QBrush(QColor(c)) for c in PALETTE[:8]]
    rows = []
    for n in points:
        rng = np.random.default_rng(n)
        labels = np.arange(n) % 8
        centres = rng.normal(size=(8, 2)) * 3
        xy = centres[labels] + rng.normal(size=(n, 2))
        per_point = np.empty(n, dtype=object)
        per_point[:] = [brushes[i] for i in labels]
        row = {"points": n}
        for name in ("empty", "pyqtgraph", "raster"):
            w = pg.PlotWidget()
            w.resize(700, 450)
            w.show()
            if name == "empty":  # the view without points: what both others pay anyway
                item = pg.ScatterPlotItem()
            elif name == "pyqtgraph":
                item = pg.ScatterPlotItem(pxMode=True, pen=None, size=5.0, symbol="o")
                item.setData(x=xy[:, 0], y=xy[:, 1], brush=per_point)
            else:
                item = RasterScatter(size=5.0)
                item.setData(x=xy[:, 0], y=xy[:, 1], brush=per_point)
            w.addItem(item)
            w.getViewBox().setRange(xRange=(-12, 12), yRange=(-8, 8), padding=0)
            w.getViewBox().disableAutoRange()
            img = QImage(700, 450, QImage.Format.Format_ARGB32_Premultiplied)
            app.processEvents()  # shown and laid out; no event processing from here on, so
            times = []  # the window's own repaints never fill the raster cache before render()
            for f in range(frames + 3):
                moved = xy + rng.normal(scale=0.01, size=xy.shape)
                if name == "pyqtgraph":
                    item.setData(x=moved[:, 0], y=moved[:, 1], brush=per_point)
                elif name == "raster":
                    item.set_positions(moved[:, 0], moved[:, 1])
                t = time.perf_counter()
                p = QPainter(img)
                w.render(p)
                p.end()
                if f >= 3:  # warm-up frames (symbol atlas, caches) not counted
                    times.append(time.perf_counter() - t)
            row[f"{name}_ms"] = round(1000 * float(np.median(times)), 2)
            w.close()
        row["ratio"] = round(row["pyqtgraph_ms"] / row["raster_ms"], 2)
        e = row["empty_ms"]
        row["points_ratio"] = round((row["pyqtgraph_ms"] - e) / max(row["raster_ms"] - e, 1e-3), 2)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, nargs="+", default=[10_000, 20_000, 100_000])
    p.add_argument("--frames", type=int, default=40)
    args = p.parse_args(argv)
    rows = measure(args.points, args.frames)
    print(f"Paint of one 700 x 450 view (median of {args.frames} frames), {os.cpu_count()} cores\n")
    print("| points | empty view ms | ScatterPlotItem ms | RasterScatter ms | ratio | ratio of the points' own time |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['points']:,} | {r['empty_ms']} | {r['pyqtgraph_ms']} | {r['raster_ms']} | {r['ratio']}x "
              f"| {r['points_ratio']}x |")
    print()
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
