"""What the Xvfb screenshot tests share: running a probe script in a real X server
(``run_probe``, on the test side) and, inside a probe, waiting on the event loop and
closing the window without interpreter teardown (``wait``, ``finish``).

A probe runs as ``python tests/app/xvfb_<name>_probe.py ...`` so this folder is its
``sys.path[0]``; tests import this module by name as they do ``panel_helpers``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


# ---------------------------------------------------------------- test side
OUTPUT = ROOT / "test-output"


def fresh_output(out: Path) -> Path:
    """``out`` (a folder under :data:`OUTPUT`), created, with a previous run's PNGs removed."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    return out


def run_probe(probe: str, args: list[str], tmp_path: Path, xvfb_run: str, *, screen: str = "1920x1080x24",
              timeout: int = 180, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``tests/app/<probe>`` with ``args`` in a fresh X server (a real xcb window,
    settings and data under ``tmp_path``, ``env`` added); asserts it exited 0 without a
    traceback."""
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env.update(extra)
    script = Path(__file__).with_name(probe)
    r = subprocess.run([xvfb_run, "-a", "-s", f"-screen 0 {screen}", sys.executable, str(script), *map(str, args)],
                       capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    assert r.returncode == 0, f"{probe} {args}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    return r


def probe_report(r: subprocess.CompletedProcess) -> dict[str, Any]:
    """The JSON report a probe prints as its last stdout line."""
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- probe side
def studio(tmp: str, *, language: str = "en", settings: str = "s.ini",
           geometry: tuple[int, int] | None = None) -> tuple[Any, Any]:
    """The probe's QApplication (Fusion) and a real studio window in ``language``,
    its settings and runs under ``tmp``, shown (at ``geometry`` when given)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.i18n import set_language

    set_language(language)
    app = QApplication([sys.argv[0]])
    app.setStyle("Fusion")
    from app.shell.main_window import MainWindow

    w = MainWindow(settings=QSettings(f"{tmp}/{settings}", QSettings.Format.IniFormat), runs_root=f"{tmp}/runs",
                   restore=False, torch_threads=1)
    if geometry is not None:
        w.setGeometry(0, 0, *geometry)
    w.show()
    return app, w


def open_and_wait(app: Any, window: Any, run: str, snapshots: int = 4) -> None:
    """Open the run folder ``run`` and wait (up to a minute) for ``snapshots`` of it."""
    window.open_run(run)
    wait(app, 60, lambda: len(window.model.snapshots) >= snapshots)


def wait(app: Any, seconds: float, pred=lambda: False) -> bool:
    """Run the event loop for up to ``seconds``; True as soon as ``pred()`` holds."""
    from PySide6.QtCore import QEventLoop

    end = time.time() + seconds
    while time.time() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if pred():
            return True
        time.sleep(0.02)
    return False


def finish(app: Any, window: Any, report: dict[str, Any] | None) -> NoReturn:
    """Print ``report`` as one JSON line, close the studio and leave at once (no
    interpreter teardown of Qt objects held by the closed window's workers)."""
    if report is not None:
        print(json.dumps(report, ensure_ascii=False), flush=True)
    window.tools.shutdown()
    window.close()
    wait(app, 0.3)
    os._exit(0)
