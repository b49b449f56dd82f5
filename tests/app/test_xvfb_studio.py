"""The real `simcse-studio` process in a real X window (Xvfb): it trains for a few
seconds and saves screenshots, which must not be blank. The PNGs stay in
test-output/xvfb/ for a person to look at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())

OUT = ROOT / "test-output" / "xvfb"


@pytest.mark.xvfb
def test_real_studio_trains_and_screenshots_are_not_blank(tiny_model, small_corpus, tmp_path, xvfb_run, image_stats):
    xvfb = xvfb_run
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("studio-*.png"):
        old.unlink()
    studio = Path(sys.executable).with_name("simcse-studio")
    cmd = [str(studio)] if studio.exists() else [sys.executable, "-m", "app"]
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # a real xcb window
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # keep the user's settings out of it
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["SIMCSE_STUDIO_GL"] = "1"  # Xvfb's GL is software (llvmpipe): force the 3D sphere into the screenshots
    r = subprocess.run(
        [xvfb, "-a", "-s", "-screen 0 1600x1000x24", *cmd, "--reset", "--runs-root", str(tmp_path / "runs"),
         "--model", tiny_model, "--corpus", small_corpus, "--set", "max_steps=400", "--set", "snapshot_every=2",
         "--set", "probe_size=150", "--set", "per_device_train_batch_size=16",
         "--train", "--screenshot", str(OUT / "studio"), "--screenshot-after", "25"],
        capture_output=True, text=True, timeout=420, env=env, cwd=ROOT,
    )
    assert r.returncode == 0, f"studio exited {r.returncode}\n{r.stdout}\n{r.stderr[-3000:]}"
    shots = sorted(OUT.glob("studio-*.png"))
    assert shots, r.stdout + r.stderr[-2000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    # the embedding tab's screenshot waited for the UMAP layout (computed while the tab is shown)
    assert "studio-embedding-space.png (UMAP drawn)" in r.stdout, r.stdout
    for shot in shots:
        colours, busy = image_stats(shot)
        assert colours >= 8 and busy > 0.05, f"{shot.name} looks blank ({colours} colours, {busy:.0%} non-background)"
    # training really ran in the real process: a run folder with snapshots beyond step 0
    metrics = list((tmp_path / "runs").glob("*/metrics.jsonl"))
    assert metrics and len(metrics[0].read_text().splitlines()) >= 2
