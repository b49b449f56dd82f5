"""Run under Xvfb by test_xvfb_i18n.py: builds the real studio window in LANGUAGE ("zh"
or "en") on a finished run folder at 1920 x 1080 and saves PNGs of its tabs and docks
under OUT (``studio-<lang>-1920x1080.png`` is the Training tab), then reports one JSON
line: the CJK font families Qt found, the docks that scroll sideways, the tab texts.

usage: xvfb_i18n_probe.py LANGUAGE RUN_DIR OUT_DIR TMP_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QFontDatabase

sys.path.insert(0, str(Path(__file__).resolve().parent))
from xvfb_common import finish, studio, wait  # noqa: E402
from xvfb_layout_probe import dock_problems  # noqa: E402


def main() -> int:
    lang, run, out_dir, tmp = sys.argv[1:5]
    app, w = studio(tmp, language=lang, geometry=(1920, 1080))
    w.open_run(run)
    wait(app, 60, lambda: len(w.model.snapshots) >= 4)
    prefix = f"{out_dir}/studio-{lang}"
    shots = []

    def shoot(name: str, seconds: float = 1.5) -> None:
        wait(app, seconds)
        path = f"{prefix}-{name}.png" if name else f"{prefix}-1920x1080.png"
        w.grab().save(path)
        shots.append(Path(path).name)

    w.show_training_plots()
    w.lens_dock.raise_()
    shoot("")
    w.show_embedding_views()
    wait(app, 30, lambda: w.embedding.drawn_index is not None)
    shoot("embedding-1920x1080")
    w.show_batch()
    shoot("batch-1920x1080", 3.0)
    w.fn_dock.raise_()
    shoot("fn-dock-1920x1080")
    w.context.parts.docks["dropoutDock"].raise_()
    shoot("dropout-dock-1920x1080", 3.0)
    report = {"cjk_fonts": QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)[:5],
              "docks": dock_problems(w), "tabs": [w.tabs.tabText(i) for i in range(w.tabs.count())],
              "shots": shots}
    finish(app, w, report)


if __name__ == "__main__":
    sys.exit(main())
