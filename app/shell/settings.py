"""Persistent studio settings (QSettings): last-used setup values and window layout.

Values are stored as one JSON string per group so they read back with their types
whatever the QSettings backend (INI files return strings). Tests pass their own
``QSettings(path, IniFormat)`` so they never touch the user's settings.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

ORGANIZATION = "SimCSE Studio"
APPLICATION = "simcse-studio"


class StudioSettings:
    """A thin typed wrapper around a :class:`QSettings`."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else QSettings(ORGANIZATION, APPLICATION)

    # --------------------------------------------------------------- setup
    def setup_values(self) -> dict[str, Any]:
        raw = self.q.value("setup/values", "")
        if not raw:
            return {}
        try:
            d = json.loads(str(raw))
        except json.JSONDecodeError:
            return {}
        return d if isinstance(d, dict) else {}

    def save_setup_values(self, values: dict[str, Any]) -> None:
        self.q.setValue("setup/values", json.dumps(values))

    def has_saved(self) -> bool:
        """Whether the studio has saved settings (False: its first launch here)."""
        return bool(self.q.value("setup/values", "")) or self.q.value("window/geometry") is not None

    # --------------------------------------------------------------- welcome
    def show_welcome_at_start(self) -> bool:
        """The welcome's "show at start" check box (default: shown on the first launch only)."""
        v = self.q.value("welcome/show_at_start", "")
        return str(v).lower() == "true"

    def set_show_welcome_at_start(self, show: bool) -> None:
        self.q.setValue("welcome/show_at_start", "true" if show else "false")

    # --------------------------------------------------------------- language
    def language(self) -> str:
        """The language chosen in View > Language ("en", "zh"; "" when none: the system's)."""
        v = str(self.q.value("ui/language", "") or "")
        return v if v in ("en", "zh") else ""

    def set_language(self, code: str) -> None:
        self.q.setValue("ui/language", code)

    # --------------------------------------------------------------- window
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geo, state = self.q.value("window/geometry"), self.q.value("window/state")
        return (geo if isinstance(geo, QByteArray) else None, state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def sync(self) -> None:
        self.q.sync()


def default_runs_root() -> Path:
    """Where the studio's runs go: <AppDataLocation>/runs (e.g. ~/.local/share/simcse-studio/runs)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:
        base = str(Path.home() / ".local" / "share" / APPLICATION)
    return Path(base) / "runs"


def new_run_dir(root: str | Path) -> Path:
    """A fresh run folder name under ``root``: <date-time>, with a suffix if taken."""
    root = Path(root)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    p = root / stamp
    k = 2
    while p.exists():
        p = root / f"{stamp}-{k}"
        k += 1
    return p
