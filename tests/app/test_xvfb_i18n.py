"""The studio in Simplified Chinese on a real X display (issue 12): the window, its
Batch tab and its docks are drawn with a CJK font and saved under test-output/i18n/
(look at them: no tofu boxes, nothing clipped); the same in English beside them."""

from __future__ import annotations


import pytest
from xvfb_common import OUTPUT, probe_report, run_probe

OUT = OUTPUT / "i18n"


@pytest.mark.xvfb
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_studio_in_each_language_on_xvfb(lang, finished_run, tmp_path, xvfb_run, image_stats):
    OUT.mkdir(parents=True, exist_ok=True)  # both languages write here: no clean-up per language
    report = probe_report(run_probe("xvfb_i18n_probe.py", [lang, finished_run, OUT, tmp_path], tmp_path, xvfb_run))
    assert report["tabs"] == (["训练", "嵌入空间", "批次"] if lang == "zh" else ["Training", "Embedding space", "Batch"])
    if lang == "zh" and not report["cjk_fonts"]:
        pytest.skip("no font with Chinese glyphs on this machine (install fonts-wqy-microhei or Noto CJK)")
    assert [d for d in report["docks"] if d.split(":")[0] in ("lensDock", "fnDock")] == [], report["docks"]
    for name in report["shots"]:
        colours, drawn = image_stats(OUT / name)
        assert colours > 8 and drawn > 0.05, (name, colours, drawn)
