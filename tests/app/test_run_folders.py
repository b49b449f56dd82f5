"""`--run DIR` replays a finished run; `--follow DIR` picks up what a writer appends."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np

from app.main import build_parser, create_window

TIMEOUT = 30_000


def _records(run):
    return [json.loads(ln) for ln in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]


def test_open_run_replays_its_curves(qtbot, make_window, finished_run, settings_path):
    win = make_window()
    with qtbot.waitSignal(win.runs.run_updated, timeout=TIMEOUT):
        assert win.open_run(finished_run)
    steps = [r["step"] for r in _records(finished_run)]
    assert [s.step for s in win.model.snapshots] == steps == [0, 2, 4, 6]
    assert win.model.finished and win.model.probe_texts and len(win.model.probe_texts) == 64
    assert win.model.snapshots[-1].probe_embeddings.shape == (64, 32)
    qtbot.waitUntil(lambda: len(win.plots.loss.curves["step_loss"].getData()[0]) == 7, timeout=5000)
    x, _ = win.plots.alignment.curves["alignment"].getData()
    assert list(x) == steps
    assert np.isclose(win.plots.loss.chance.value(), np.log(8))
    assert win.controls.state == "viewing" and win.controls.save_button.isEnabled()
    assert "finished" in win.controls.progress.format()


def test_run_argument_opens_the_folder(qtbot, finished_run, tmp_path):
    from PySide6.QtCore import QSettings

    args = build_parser().parse_args(["--run", str(finished_run), "--runs-root", str(tmp_path / "runs")])
    win = create_window(args, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: len(win.model.snapshots) == 4, timeout=TIMEOUT)
    assert win.run_label.text().endswith(str(finished_run))


def test_follow_picks_up_appended_records(qtbot, make_window, finished_run, tmp_path):
    live = tmp_path / "live"
    (live / "snapshots").mkdir(parents=True)
    shutil.copy(finished_run / "config.json", live / "config.json")
    lines = (finished_run / "metrics.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)

    def append(k: int) -> None:
        """Write record k as the trainer does: the arrays first, then the line."""
        step = json.loads(lines[k])["step"]
        name = f"step_{step:07d}.npz"
        shutil.copy(finished_run / "snapshots" / name, live / "snapshots" / name)
        with open(live / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(lines[k])

    win = make_window()
    assert win.open_run(live, follow=True)
    assert win.runs.following and win.runs.source.polling
    shutil.copy(finished_run / "probe.json", live / "probe.json")
    append(0)
    qtbot.waitUntil(lambda: len(win.model.snapshots) == 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: len(win.plots.loss.curves["loss"].getData()[0]) == 1, timeout=5000)
    # a half-written line is not read until its newline arrives
    with open(live / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(lines[1][:20])
    qtbot.wait(1200)
    assert len(win.model.snapshots) == 1
    text = (live / "metrics.jsonl").read_text(encoding="utf-8")
    (live / "metrics.jsonl").write_text(text[: -20], encoding="utf-8")
    append(1)
    append(2)
    qtbot.waitUntil(lambda: len(win.plots.loss.curves["loss"].getData()[0]) == 3, timeout=TIMEOUT)
    assert list(win.plots.uniformity.curves["uniformity"].getData()[0]) == [0, 2, 4]
    assert len(win.plots.trajectory.scatter.data) == 3
    assert win.model.probe_texts is not None  # probe.json appeared after the first poll
    assert win.runs.following and win.runs.source.polling
    append(3)  # the final record (done): following stops
    qtbot.waitUntil(lambda: not win.runs.source.polling, timeout=TIMEOUT)
    assert win.model.finished and len(win.plots.loss.curves["step_loss"].getData()[0]) == 7
    assert win.message_bar.isVisible() and "finished" in win.message_bar.text


def test_open_run_on_a_plain_folder_shows_an_error(qtbot, make_window, tmp_path):
    win = make_window()
    with qtbot.waitSignal(win.message_shown, timeout=5000) as shown:
        assert not win.open_run(tmp_path)
    assert shown.args[0] == "error" and "not a run folder" in shown.args[1]


def test_python_m_app_help():
    out = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--follow" in out.stdout and "--run" in out.stdout
