"""A studio context without the main window, for the dock-panel tests: a bare
QMainWindow, a fresh run model, view state, selection and sentence index, and either
a stub run controller (``StubRuns``: records what is sent) or the real one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow

from app.shell.context import StudioContext
from app.shell.settings import StudioSettings
from app.state.run_corpus import SentenceIndex
from app.state.run_model import RunModel
from app.state.selection import Selection
from app.state.view_state import ViewState


class StubRuns:
    """What the panels use of the run controller: ``training`` and ``send_live``."""

    def __init__(self) -> None:
        self.training = False
        self.sent: list[dict[str, Any]] = []

    def send_live(self, **changes: Any) -> bool:
        if not self.training:
            return False
        self.sent.append(changes)
        return True


def make_context(qtbot: Any, tmp_path: Path, runs: Any = None) -> tuple[StudioContext, list[tuple[str, str]]]:
    """(context, messages shown). ``runs``: a run controller (default :class:`StubRuns`);
    a real one needs the context's run model and view state: pass a callable
    ``(model, view_state) -> controller``."""
    window = QMainWindow()
    qtbot.addWidget(window)
    model, view_state = RunModel(), ViewState()
    if callable(runs):
        runs = runs(model, view_state)
    messages: list[tuple[str, str]] = []
    settings = StudioSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    ctx = StudioContext(window, run_model=model, view_state=view_state, selection=Selection(window),
                        sentences=SentenceIndex(window), runs=runs if runs is not None else StubRuns(),
                        settings=settings, runs_root=tmp_path / "runs", torch_threads=None,
                        show_message=lambda text, kind: messages.append((text, kind)))
    window.show()
    return ctx, messages
