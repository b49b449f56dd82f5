"""The batch view in the real studio window under Xvfb at 1920 x 1080, on batches of 64
and 512 (a 1024 x 1024 image) whose views are two dropout passes of the packaged model
(tests/app/xvfb_batch_probe.py): the mean over rows equals the loss written for the
batch, the masked diagonal and removed false negatives are NaN cells (drawn in the
masked colour), every row's positive is outlined, hovering and clicking give their
lines. The PNGs stay in test-output/batch/ for a person to look at."""

from __future__ import annotations


import pytest
from xvfb_common import OUTPUT, fresh_output, probe_report, run_probe

OUT = OUTPUT / "batch"


@pytest.mark.xvfb
@pytest.mark.slow
def test_batch_view_screenshots_at_64_and_512(tmp_path, xvfb_run, image_stats):
    fresh_output(OUT)
    report = probe_report(run_probe("xvfb_batch_probe.py", [OUT, tmp_path], tmp_path, xvfb_run, timeout=300))
    for n in (64, 512):
        written, shown = report[f"loss-{n}"]
        assert shown == pytest.approx(written, abs=1e-4)
        nt = report[f"ntxent-cosine-{n}"]
        assert nt["shape"] == [2 * n, 2 * n] and nt["outlines"] == 2 * n
        assert nt["masked"] == 2 * n + 3 * 2 * 4  # the diagonal, and 3 removed pairs x 2 directions x 4 views
        assert nt["marks"] == 3 * 2 * 4
        assert "row 6 " in nt["hover"] and "column 9 " in nt["hover"] and "cosine" in nt["hover"]
        assert "−log p(label)" in nt["row"] and "at t = 0.05" in nt["row"]
        assert report[f"ntxent-probability-cluster-{n}"]["levels"] == [0.0, 1.0]
        # outlines: at 64 a cell is wide enough at once; at 512 (sub-pixel cells) once zoomed in
        assert report[f"outlines-{n}"] == ([True, True] if n == 64 else [False, True])
        sim = report[f"simcse-logit-{n}"]
        assert sim["shape"] == [n, n] and sim["levels"] == [-20.0, 20.0] and sim["masked"] == 3 * 2
        for name in (f"batch{n}-ntxent-cosine", f"batch{n}-ntxent-cosine-zoomed", f"batch{n}-ntxent-cosine-cluster",
                     f"batch{n}-ntxent-log-probability-cluster", f"batch{n}-ntxent-probability-cluster",
                     f"batch{n}-simcse-logit", f"window-batch{n}"):
            colours, busy = image_stats(OUT / f"{name}.png")
            assert colours >= 8 and busy > 0.05, f"{name}.png looks blank"
