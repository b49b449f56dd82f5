"""What several benchmarks share: the machine line they print and a headless Qt start.

Benchmarks run as ``python bench/<name>.py``, so this folder is ``sys.path[0]`` and they
import this module by name."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def machine_line() -> str:
    """``"x86_64, 2 cores, load 2.5, 2026-12-02 06:02"``: where and when a figure was measured."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load:.1f}, "
            f"{time.strftime('%Y-%m-%d %H:%M')}")


def qt_app() -> Any:
    """The QApplication (Fusion style) of a benchmark that opens the studio: offscreen unless
    a display is set, no network for models, the project importable."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    return app
