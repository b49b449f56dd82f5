"""The explore window in the real studio under Xvfb (tests/app/xvfb_explore_probe.py): the
demo corpus embedded by the packaged model, clustered and searched, at 1366 x 768 and
1920 x 1080; the map whole inside its widget, the side panel without sideways scrolling,
cluster labels that name the corpus's topics, and the density picture. The PNGs stay in
test-output/explore/ for a person to look at."""

from __future__ import annotations

import pytest
from xvfb_common import OUTPUT, fresh_output, probe_report, run_probe

OUT = OUTPUT / "explore"


@pytest.mark.xvfb
@pytest.mark.slow
def test_explore_window_under_xvfb(tmp_path, xvfb_run, image_stats):
    fresh_output(OUT)
    report = probe_report(run_probe("xvfb_explore_probe.py", [OUT, tmp_path], tmp_path, xvfb_run, timeout=480))
    assert report["ready"] and report["n"] == 1624, report.get("error")
    assert "1,624 sentences" in report["status"] and "exact neighbour search" in report["status"]
    for size in ("1366x768", "1920x1080"):
        assert report["map_inside"][size], f"the map is cut at {size}"
        assert not report["side_sideways"][size], f"the side panel scrolls sideways at {size}"
    assert report["modes"] == {"normal": "points", "density": "density"}
    assert 9 <= len(report["labels"]) <= 12  # labels that would cover others wait for a zoom
    assert len(set(report["topics"])) >= 9  # most topics get a cluster of their own
    assert report["selected"] > 0
    names = sorted(p.name for p in OUT.glob("*.png"))
    assert names == sorted(["explore-1366x768.png", "explore-1920x1080.png", "explore-clusters-1920x1080.png",
                            "explore-selection-1920x1080.png", "explore-density-1920x1080.png"])
    for name in names:
        colours, busy = image_stats(OUT / name)
        assert colours >= 8 and busy > 0.05, f"{name} looks blank"
