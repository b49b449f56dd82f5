"""Run under Xvfb by test_xvfb_tour.py: builds the real studio window in one language on
a finished run folder (no training), at 1920 x 1080, runs the tour through its six
chapters (Help → Tour), clicks a row of the Batch tab in chapters 3 and 6 as their "Try
this" says, saves ``tour-<language>-chapter<n>.png`` of the window for each chapter
under OUT, and reports per chapter, as one JSON line on stdout: the target, the framed
view's rectangle, the highlight's and the panel's geometry, how far the panel's text
scrolls (0: all of it shows), the window's size, and the panel's font family.

usage: xvfb_tour_probe.py RUN_DIR OUT_DIR TMP_DIR LANGUAGE
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtGui import QAction, QFontInfo
from xvfb_common import finish, open_and_wait, studio, wait


def rect(r: QRect | None) -> list[int] | None:
    return None if r is None else [r.x(), r.y(), r.width(), r.height()]


def main() -> int:
    run, out_dir, tmp, language = sys.argv[1:5]
    app, w = studio(tmp, language=language, settings=f"s-{language}.ini", geometry=(1920, 1080))
    open_and_wait(app, w, run)
    wait(app, 2)
    action = next(a for a in w.findChildren(QAction) if a.objectName() == "helpTour")
    action.trigger()
    tour = w.tour
    report: dict[str, Any] = {"size": [w.width(), w.height()], "chapters": []}
    for i in range(len(tour.chapters)):
        ch = tour.chapters[i]
        if ch.target.startswith("batch"):
            wait(app, 30, lambda: w.batch_tab.shown is not None and w.batch_tab.matrix is not None)
            w.batch_tab.select_row(5)  # the chapter's "Try this": a clicked row
        wait(app, 1.5)
        tour.follow()
        w.grab().save(f"{out_dir}/tour-{language}-chapter{i + 1}.png")
        panel = tour.panel
        report["chapters"].append({
            "target": ch.target, "view": rect(tour.target_rect()), "highlight": rect(tour.highlight.geometry()),
            "highlight_visible": tour.highlight.isVisible(), "panel": rect(panel.geometry()),
            "scroll": panel.scroll.verticalScrollBar().maximum(), "title": panel.title.text(),
            "layout": w.batch_tab.layout_key() if ch.target.startswith("batch") else None,
            "font": QFontInfo(panel.text.font()).family()})
        if i < len(tour.chapters) - 1:
            tour.next()
    tour.close()
    finish(app, w, report)


if __name__ == "__main__":
    sys.exit(main())
