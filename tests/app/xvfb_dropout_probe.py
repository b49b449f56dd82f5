"""Run under Xvfb by test_xvfb_dropout.py: builds the real studio window on a finished
run folder, brings the "Dropout views" dock to the front, draws a sentence's views at
p = 0.1, at p = 0 and with the same mask, and the lens with its triplet section at a
small t'; saves a PNG of the window at 1366 x 768 and 1920 x 1080 and of the panels,
and reports as one JSON line on stdout:

- ``sideways``: whether the dropout dock scrolls sideways, per window size;
- ``plot_inside``: whether the plot lies inside the dock's width, per window size;
- ``spread`` / ``pair_cos``: the numbers each PNG shows, per setting;
- ``triplet``: the lens's triplet section's numbers at the small t'.

usage: xvfb_dropout_probe.py RUN_DIR OUT_DIR TMP_DIR
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QPoint, QRect
from xvfb_common import finish, open_and_wait, studio, wait
from PySide6.QtWidgets import QApplication, QScrollArea




def draw(app: QApplication, panel: Any, **controls: Any) -> dict[str, float]:
    done: list[bool] = []
    panel.updated.connect(lambda: done.append(True))
    panel.set_controls(**controls)
    panel.compute()
    wait(app, 60, lambda: bool(done) and not panel.busy and panel.result is not None
         and panel.result.views.p == panel.p and panel.result.views.same_mask == panel.same_mask)
    wait(app, 0.5)
    v = panel.result.views
    return {"p": v.p, "same_mask": v.same_mask, "spread": v.spread, "pair_cos": v.positive_cosine,
            "nearest_cos": panel.result.nearest_cos}


def layout(w: Any, panel: Any) -> tuple[bool, bool]:
    dock = w.context.parts.docks["dropoutDock"]
    sc = dock.widget()
    assert isinstance(sc, QScrollArea)
    bar = sc.horizontalScrollBar()
    sideways = bar.isVisible() and bar.maximum() > 0
    r = QRect(panel.plot.mapTo(sc.viewport(), QPoint(0, 0)), panel.plot.size())
    return sideways, r.left() >= 0 and r.right() <= sc.viewport().rect().right()


def main() -> int:
    run, out_dir, tmp = sys.argv[1:4]
    app, w = studio(tmp)
    open_and_wait(app, w, run)
    w.show_embedding_views()
    wait(app, 30, lambda: w.embedding.drawn_index is not None)
    panel = w.context.parts.dropout
    report: dict[str, Any] = {"sideways": {}, "plot_inside": {}, "settings": {}}
    for name, size in (("1366x768", (1366, 768)), ("1920x1080", (1920, 1080))):
        w.setGeometry(0, 0, *size)
        w.context.parts.docks["dropoutDock"].raise_()
        wait(app, 1.0, lambda: panel.shown)
        report["settings"][name] = draw(app, panel, p=0.1, k=32, same_mask=False)
        w.grab().save(f"{out_dir}/studio-dropout-{name}.png")
        report["sideways"][name], report["plot_inside"][name] = layout(w, panel)
    for name, controls in (("p0.10", dict(p=0.1, same_mask=False)), ("p0.30", dict(p=0.3, same_mask=False)),
                           ("p0", dict(p=0.0, same_mask=False)), ("same-mask", dict(p=0.1, same_mask=True))):
        report["settings"][name] = draw(app, panel, **controls)
        panel.grab().save(f"{out_dir}/dropout-panel-{name}.png")
    lens = w.lens_panel
    w.lens_dock.raise_()
    wait(app, 0.5)
    lens.select_anchor(int(lens.inputs.batch_ids[2]))
    lens.triplet.set_margin(0.2)
    lens.set_t_prime(0.002)
    wait(app, 0.5)
    c = lens.triplet.current
    report["triplet"] = {"triplet": c.triplet, "infonce": c.infonce, "scaled": c.scaled, "limit": c.limit,
                         "t": c.temperature}
    lens.grab().save(f"{out_dir}/lens-triplet.png")
    finish(app, w, report)


if __name__ == "__main__":
    sys.exit(main())
