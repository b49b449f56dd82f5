"""The Presets menu: every bundled preset (:func:`~simcse_core.presets.list_presets`),
"Open preset file…" and "Open a preset's results…".

A preset's runs train through the run controller like any run (its run bar, its Stop,
its live plots and views); when they are done, the comparison window opens them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from simcse_core.errors import SimCSEError

from app.i18n import language, tr
from app.runs.sources import PresetSource
from app.runs.workers import error_text
from app.shell.context import StudioContext

if TYPE_CHECKING:
    from app.tools.toolbox import StudioTools

log = logging.getLogger(__name__)


class PresetsTool(QObject):
    """Runs presets and opens their results in the comparison window."""

    def __init__(self, ctx: StudioContext, tools: StudioTools) -> None:
        super().__init__(tools)
        self.ctx = ctx
        self.tools = tools
        self.source: PresetSource | None = None
        ctx.runs.preset_finished.connect(self._finished)
        self._add_menu()

    def _add_menu(self) -> None:
        from simcse_core.presets import list_presets

        ctx = self.ctx
        try:
            presets = list_presets()
        except SimCSEError as e:
            presets = []
            log.warning("bundled presets not readable: %s", e)
        for p in presets:
            a = ctx.add_action("presets", tr("Run “{title}”").format(title=p.title_in(language())),
                               lambda _c=False, n=p.name: self.run_named(n), tooltip=p.description_in(language())[:300])
            a.setData(p.name)
        ctx.add_separator("presets")
        ctx.add_action("presets", tr("Open preset file…"), self.open_preset_file)
        ctx.add_action("presets", tr("Open a preset's results…"), self.tools.compare_preset_dialog)

    @property
    def running(self) -> bool:
        return self.source is not None and self.ctx.runs.source is self.source

    def run_preset(self, preset: Any, output_root: str | Path | None = None, scale: Any = None) -> PresetSource | None:
        """Train a preset's runs (see :meth:`RunController.run_preset`)."""
        self.source = self.ctx.runs.run_preset(preset, output_root, scale=scale)
        return self.source

    def run_named(self, name: str) -> None:
        from simcse_core.presets import load_preset

        try:
            self.run_preset(load_preset(name))
        except SimCSEError as e:
            self.ctx.show_message(error_text(e))

    def open_preset_file(self) -> None:
        from simcse_core.presets import load_preset, presets_dir

        p, _f = QFileDialog.getOpenFileName(self.ctx.dialog_parent, tr("Open a preset file"), str(presets_dir()),
                                            tr("Preset (*.json)"))
        if p:
            try:
                self.run_preset(load_preset(p))
            except SimCSEError as e:
                self.ctx.show_message(error_text(e))

    def _finished(self, folder: str) -> None:
        src = self.source
        self.tools.compare(show=True).open_preset_folder(folder)
        if src is not None and src.error is None:
            self.ctx.show_message(tr("preset {name} finished: its runs are open in the comparison window ({folder})").format(
                name=src.preset.name, folder=folder), "ok")
