"""Run under Xvfb by test_xvfb_layout.py: builds the real studio window on a finished
run folder (no training), shows it at 1366 x 768, at 1920 x 1080 and in presentation
mode at full screen (1920 x 1080, the lens shown), saves a PNG of each under OUT, and
reports what it checked from inside the process as one JSON line on stdout:

- ``docks``: each visible dock whose scroll area shows a horizontal scroll bar;
- ``maps``: each map view whose points (disk, points, outline) leave its view;
- ``lens_cells``: lens statistics cells wider than their column;
- ``fn_chars``: characters of the anchor / candidate text the false-negative table shows;
- ``lens_parts``: lens parts (chart, Apply button, help) cut at the dock's sides.

usage: xvfb_layout_probe.py RUN_DIR OUT_DIR TMP_DIR
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from xvfb_common import finish, open_and_wait, studio, wait
from PySide6.QtWidgets import QApplication, QScrollArea




def dock_problems(w: Any) -> list[str]:
    out = []
    for name, dock in w.context.parts.docks.items():
        sc = dock.widget()
        if dock.isVisible() and isinstance(sc, QScrollArea) and not dock.visibleRegion().isEmpty():
            bar = sc.horizontalScrollBar()
            if bar.isVisible() and bar.maximum() > 0:
                out.append(f"{name}: scrolls sideways by {bar.maximum()} px")
    return out


def map_problems(w: Any) -> list[str]:
    out = []
    for view in w.embedding.map_views:
        if not view.isVisible():
            continue
        vb = view.getPlotItem().vb
        for item in (view.background_item, view.extra_item):  # the disk / outline and the curve beside it
            if item.xData is None or not len(item.xData):
                continue
            x, y = item.xData, item.yData
            ok = np.isfinite(x) & np.isfinite(y)
            data = QRectF(QPointF(x[ok].min(), y[ok].min()), QPointF(x[ok].max(), y[ok].max()))
            shown = view.mapFromScene(vb.mapViewToScene(data)).boundingRect()
            if not view.rect().adjusted(-1, -1, 1, 1).contains(shown):
                out.append(f"{view.getPlotItem().titleLabel.text!r}: {shown} outside {view.rect()}")
        if len(view.xy):
            lo, hi = view.xy.min(axis=0), view.xy.max(axis=0)
            data = QRectF(QPointF(float(lo[0]), float(lo[1])), QPointF(float(hi[0]), float(hi[1])))
            shown = view.mapFromScene(vb.mapViewToScene(data)).boundingRect()
            if not view.rect().adjusted(-1, -1, 1, 1).contains(shown):
                out.append(f"{view.getPlotItem().titleLabel.text!r} points: {shown} outside {view.rect()}")
    return out


def lens_problems(w: Any) -> tuple[list[str], list[str]]:
    lens = w.lens_panel
    table = lens.plots.stats_table
    fm = table.fontMetrics()
    cells = [f"{table.item(r, c).text()!r} in {table.columnWidth(c)} px"
             for r in range(table.rowCount()) for c in range(table.columnCount())
             if fm.horizontalAdvance(table.item(r, c).text()) + 6 > table.columnWidth(c)]
    parts = []
    sc = w.lens_dock.widget()
    if w.lens_dock.isVisible() and isinstance(sc, QScrollArea):
        view = sc.viewport().rect()
        for name, part in (("chart", lens.plots.bar_plot), ("apply", lens.apply_button), ("help", lens.help_button),
                           ("table", table)):
            r = QRect(part.mapTo(sc.viewport(), QPoint(0, 0)), part.size())
            if r.left() < 0 or r.right() > view.right():
                parts.append(f"{name} {r} in {view}")
    return cells, parts


def fn_chars(w: Any, ids: tuple[int, int]) -> list[int]:
    fn = w.fn_panel
    t = fn.table
    row = fn.proxy.mapFromSource(fn.table_model.index(fn.table_model.row_of(ids), 0)).row()
    out = []
    for col in (0, 1):
        text = str(fn.proxy.index(row, col).data() or "")
        shown = t.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, t.columnWidth(col) - 12)
        out.append(len(shown.rstrip("…")))
    return out


def text_room(box: Any) -> tuple[int, int]:
    """(width of a combo box's current text, width of the field that shows it)."""
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    opt = QStyleOptionComboBox()
    box.initStyleOption(opt)
    field = box.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                       QStyle.SubControl.SC_ComboBoxEditField, box)
    return box.fontMetrics().horizontalAdvance(box.currentText()), field.width()


def check(app: QApplication, w: Any, name: str, out_dir: str, ids: tuple[int, int]) -> dict[str, Any]:
    wait(app, 1.5)
    w.grab().save(f"{out_dir}/{name}.png")
    cells, parts = lens_problems(w)
    return {"size": [w.width(), w.height()], "docks": dock_problems(w), "maps": map_problems(w),
            "lens_cells": cells, "lens_parts": parts,
            "fn_chars": fn_chars(w, ids) if w.fn_dock.isVisible() else None,
            "sphere_box": text_room(w.embedding.sphere_method_box)}


def main() -> int:
    run, out_dir, tmp = sys.argv[1:4]
    from simcse_core.false_negatives import Candidate

    app, w = studio(tmp)
    open_and_wait(app, w, run)
    w.show_embedding_views()
    wait(app, 30, lambda: w.embedding.drawn_index is not None)
    ids = (int(w.model.probe_ids[0]), int(w.model.probe_ids[1]))
    w.fn_panel.add_candidates([Candidate(ids[0], ids[1], 0.93, "threshold+near_duplicate", 4, "batch", weight=0.2)])
    report: dict[str, Any] = {}
    for name, size in (("normal-1366x768", (1366, 768)), ("normal-1920x1080", (1920, 1080))):
        w.setGeometry(0, 0, *size)
        w.lens_dock.raise_()
        report[name + "-lens"] = check(app, w, name + "-lens", out_dir, ids)
        w.fn_dock.raise_()
        report[name + "-fn"] = check(app, w, name + "-fn", out_dir, ids)
    w.lens_dock.raise_()
    pres = w.tools.presentation
    pres.enter()
    wait(app, 0.5)
    pres.show_view(3)
    report["presentation-1920x1080"] = check(app, w, "presentation-1920x1080", out_dir, ids)
    pres.leave()
    finish(app, w, report)


if __name__ == "__main__":
    sys.exit(main())
