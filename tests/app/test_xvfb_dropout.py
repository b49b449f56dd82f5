"""The dropout-view dock in the real studio window under Xvfb (a finished run of the
tiny BERT, no training; tests/app/xvfb_dropout_probe.py): at 1366 x 768 and 1920 x 1080
the dock does not scroll sideways and its plot is whole; p = 0 gives one point, the same
mask a positive-pair cosine of 1, and the spread grows with p; the lens's triplet
section at a small t' shows t' * InfoNCE near its limit. The PNGs stay in
test-output/dropout/ for a person to look at."""

from __future__ import annotations

import math

import pytest
from xvfb_common import OUTPUT, fresh_output, probe_report, run_probe

OUT = OUTPUT / "dropout"


@pytest.mark.xvfb
def test_dropout_view_under_xvfb(finished_run, tmp_path, xvfb_run, image_stats):
    fresh_output(OUT)
    report = probe_report(run_probe("xvfb_dropout_probe.py", [finished_run, OUT, tmp_path], tmp_path, xvfb_run,
                                    timeout=240))
    for size in ("1366x768", "1920x1080"):
        assert not report["sideways"][size], f"the dropout dock scrolls sideways at {size}"
        assert report["plot_inside"][size], f"the dropout plot is cut at {size}"
    s = report["settings"]
    assert abs(s["p0"]["spread"] - 1.0) < 1e-6 and abs(s["p0"]["pair_cos"] - 1.0) < 1e-6
    assert abs(s["same-mask"]["pair_cos"] - 1.0) < 1e-6 and s["same-mask"]["spread"] < 1 - 1e-4
    assert 1.0 > s["p0.10"]["spread"] > s["p0.30"]["spread"]
    assert s["p0.10"]["pair_cos"] < 1 - 1e-4
    tri = report["triplet"]
    assert 0 <= tri["scaled"] - tri["limit"] <= tri["t"] * math.log(64) + 1e-9
    names = sorted(p.name for p in OUT.glob("*.png"))
    assert names == sorted(["studio-dropout-1366x768.png", "studio-dropout-1920x1080.png", "dropout-panel-p0.10.png",
                            "dropout-panel-p0.30.png", "dropout-panel-p0.png", "dropout-panel-same-mask.png",
                            "lens-triplet.png"])
    for name in names:
        colours, busy = image_stats(OUT / name)
        assert colours >= 8 and busy > 0.05, f"{name} looks blank"
