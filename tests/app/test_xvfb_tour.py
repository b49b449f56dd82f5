"""The tour in the real studio window under Xvfb at 1920 x 1080, in English and in
Chinese (tests/app/xvfb_tour_probe.py, one process per language: the language is chosen
before the window is built). For each of the six chapters: the framed view is on
screen, the highlight covers it, the panel lies inside the window, off the view, and
shows its whole text (no scrolling at this size); the Batch chapters show their layouts
(N x N, then 2N x 2N). The PNGs (``tour-en-chapter1.png`` … ``tour-zh-chapter6.png``)
stay in test-output/tour/ for a person to look at."""

from __future__ import annotations

import re

import pytest
from xvfb_common import OUTPUT, fresh_output, probe_report, run_probe
from PySide6.QtCore import QRect

OUT = OUTPUT / "tour"
LAYOUTS = {"batch_nxn": "simcse", "batch_2n": "ntxent"}


@pytest.mark.xvfb
def test_tour_screenshots_in_both_languages(finished_run, tmp_path, xvfb_run, image_stats):
    fresh_output(OUT)
    for language in ("en", "zh"):
        r = run_probe("xvfb_tour_probe.py", [finished_run, OUT, tmp_path, language], tmp_path, xvfb_run)
        report = probe_report(r)
        assert report["size"] == [1920, 1080]
        window = QRect(0, 0, 1920, 1080)
        chapters = report["chapters"]
        assert [c["target"] for c in chapters] == ["geometry", "fnDock", "batch_nxn", "lensDock", "dropoutDock",
                                                   "batch_2n"]
        for n, c in enumerate(chapters, 1):
            assert c["view"] is not None and c["highlight_visible"], f"{language} chapter {n}: no view framed"
            view, frame, panel = QRect(*c["view"]), QRect(*c["highlight"]), QRect(*c["panel"])
            assert frame.contains(view), f"{language} chapter {n}: {frame} does not frame {view}"
            assert window.contains(panel) and not panel.intersects(view), f"{language} chapter {n}: {panel} {view}"
            assert c["scroll"] == 0, f"{language} chapter {n}: the text scrolls by {c['scroll']} px"
            if c["target"] in LAYOUTS:
                assert c["layout"] == LAYOUTS[c["target"]]
            assert bool(re.search(r"[\u4e00-\u9fff]", c["title"])) == (language == "zh"), c["title"]
            colours, busy = image_stats(OUT / f"tour-{language}-chapter{n}.png")
            assert colours >= 8 and busy > 0.05, f"tour-{language}-chapter{n}.png looks blank"
