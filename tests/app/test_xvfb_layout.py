"""The real studio window under Xvfb (no training: a finished run folder) at 1366 x 768,
at 1920 x 1080 and in presentation mode at full screen 1920 x 1080: from inside the
process (tests/app/xvfb_layout_probe.py), no dock scrolls sideways, the map views'
disks and points lie inside their views, the lens's statistics cells are whole, its
chart, Apply button and help are not cut at the dock's sides, and the false-negative
table shows at least 30 characters of each sentence. The PNGs stay in
test-output/layout/ for a person to look at."""

from __future__ import annotations

import warnings

import pytest
from xvfb_common import OUTPUT, fresh_output, probe_report, run_probe

OUT = OUTPUT / "layout"
OURS = ("lensDock", "fnDock", "neighboursDock")  # the docks of app/panels; others' findings are reported as warnings at 1366 px


@pytest.mark.xvfb
def test_layout_at_common_sizes_and_in_presentation_mode(finished_run, tmp_path, xvfb_run, image_stats):
    fresh_output(OUT)
    report = probe_report(run_probe("xvfb_layout_probe.py", [finished_run, OUT, tmp_path], tmp_path, xvfb_run,
                                    timeout=120))
    assert set(report) == {"normal-1366x768-lens", "normal-1366x768-fn", "normal-1920x1080-lens",
                           "normal-1920x1080-fn", "presentation-1920x1080"}
    for name, got in report.items():
        assert got["size"] == ([1366, 768] if "1366" in name else [1920, 1080]), (name, got["size"])
        ours = [d for d in got["docks"] if d.split(":")[0] in OURS]
        others = [d for d in got["docks"] if d.split(":")[0] not in OURS]
        assert ours == [], f"{name}: {ours}"
        if others and "1366" in name:
            warnings.warn(f"{name}: {others}", stacklevel=1)
        else:
            assert others == [], f"{name}: {others}"
        assert got["maps"] == [], f"{name}: {got['maps']}"
        assert got["lens_cells"] == [], f"{name}: lens cells cut: {got['lens_cells']}"
        assert got["lens_parts"] == [], f"{name}: lens parts cut: {got['lens_parts']}"
        text, room = got["sphere_box"]
        assert text <= room, f"{name}: the sphere-method box shows {room} of its text's {text} px"
        if got["fn_chars"] is not None:
            assert min(got["fn_chars"]) >= 30, f"{name}: the sentence columns show {got['fn_chars']} characters"
        colours, busy = image_stats(OUT / f"{name}.png")
        assert colours >= 8 and busy > 0.05, f"{name}.png looks blank"
