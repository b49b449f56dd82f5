"""Run under Xvfb by test_xvfb_explore.py: the real studio window opens the explore window
(File > Explore a corpus…'s method) on a copy of the demo corpus embedded by the packaged
model, at 1366 x 768 and 1920 x 1080; clusters it (k-means, 12), searches a sentence,
selects a region, and with the point budget lowered to 300 draws the density picture.
Saves PNGs of the explore window and reports as one JSON line on stdout:

- ``ready``: whether the corpus came up; ``n``: its sentences; ``status``: the status line;
- ``map_inside``: per size, whether the map's drawn pixels lie inside the map widget;
- ``side_sideways``: per size, whether the side panel's tables scroll sideways;
- ``labels``: cluster labels shown on the map; ``topics``: their clusters' main topics;
- ``modes``: the map's drawing mode in the normal and the density screenshot.

usage: xvfb_explore_probe.py OUT_DIR TMP_DIR
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from xvfb_common import finish, studio, wait


def grab(app: Any, win: Any, path: Path) -> None:
    wait(app, 1.0)
    win.grab().save(str(path))


def main() -> int:
    out, tmp = Path(sys.argv[1]), sys.argv[2]
    from simcse_core.data import default_corpus_path

    corpus = Path(tmp) / "demo_corpus.csv"
    shutil.copy(default_corpus_path(), corpus)
    app, w = studio(tmp)
    ew = w.tools.explore(str(corpus), "default")
    report: dict[str, Any] = {"map_inside": {}, "side_sideways": {}, "modes": {}}
    report["ready"] = wait(app, 240, lambda: ew.view is not None or bool(ew.error))
    if ew.view is None:
        report["error"] = ew.error
        finish(app, w, report)
    report["n"] = len(ew.view)
    ew.k.setValue(12)
    ew.cluster()
    wait(app, 120, lambda: ew.clusters is not None)
    ew.search("She practised the violin every evening.")
    wait(app, 60, lambda: ew.results.count() > 0)
    ew.side.setCurrentIndex(0)
    for name, size in (("1366x768", (1366, 768)), ("1920x1080", (1920, 1080))):
        ew.setGeometry(0, 0, *size)
        wait(app, 1.5)
        ew.map.redraw()
        grab(app, ew, out / f"explore-{name}.png")
        img = ew.map.last.rgba
        rows, cols = np.nonzero(img[..., 3])
        vb = ew.map.vb.sceneBoundingRect()
        report["map_inside"][name] = bool(rows.size) and img.shape[1] <= vb.width() + 1 and img.shape[0] <= vb.height() + 1
        tables = [ew.results, ew.table, ew.selection_panel.table]
        report["side_sideways"][name] = any(t.horizontalScrollBar().isVisible() and t.horizontalScrollBar().maximum() > 0
                                            for t in tables)
    report["modes"]["normal"] = ew.map.last.mode
    report["status"] = ew.statusBar().currentMessage()
    report["labels"] = ew.map.shown_labels()
    topics = ew.view.columns.get("topic", [])
    report["topics"] = [Counter(topics[i] for i in np.flatnonzero(ew.clusters.ids == row["id"])).most_common(1)[0][0]
                        for row in ew.clusters.table]
    report["cluster_labels"] = [row["label"] for row in ew.clusters.table]
    ew.side.setCurrentIndex(1)
    grab(app, ew, out / "explore-clusters-1920x1080.png")
    xy = ew.view.layout
    lo, hi = np.percentile(xy, 35, axis=0), np.percentile(xy, 65, axis=0)
    from PySide6.QtCore import QPointF, QRectF

    ew.map._rect_done(QRectF(QPointF(lo[0], lo[1]), QPointF(hi[0], hi[1])))
    report["selected"] = int(ew.selection.size)
    grab(app, ew, out / "explore-selection-1920x1080.png")
    ew.select(np.zeros(0, dtype=np.int64))
    ew.map.budget = 300  # the density picture a corpus of more than 100,000 sentences shows
    ew.map.redraw()
    report["modes"]["density"] = ew.map.last.mode
    grab(app, ew, out / "explore-density-1920x1080.png")
    finish(app, w, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
