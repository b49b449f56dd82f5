"""The studio's tools, added through the studio context: presets, run comparison,
presentation mode, exports and session files.

:class:`StudioTools` owns them and adds their menus (File → Save/Load session, View →
Presentation mode, Presets, Compare, Export). Each tool reaches the rest of the studio
only through the :class:`~app.shell.context.StudioContext`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel
from PySide6.QtWidgets import QLineEdit, QPushButton, QSpinBox, QWidget

from simcse_core.errors import SimCSEError

from app.i18n import N_, tr, tr_error
from app.shell.context import StudioContext
from app.tools.compare import CompareWindow
from app.tools.exporting import CompareFrames, DataExports, EmbeddingFrames, TimelineExport, export_image, image_targets
from app.tools.presentation import PresentationMode
from app.tools.presets import PresetsTool
from app.tools.session import SUFFIX, SessionError, SessionRestorer, load_session, save_session

log = logging.getLogger(__name__)


# the data exports' kinds (DataExports.done / failed), as the messages name them
EXPORT_KINDS = {"metrics": N_("metrics"), "projector": N_("projector files"), "npy": N_("probe embeddings"),
                "model": N_("model")}


class ImageExportDialog(QDialog):
    """Choose a plot or view, a size and a file (PNG or SVG by its extension)."""

    def __init__(self, targets: list[tuple[str, Any]], start_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Export a figure"))
        self.targets = targets
        form = QFormLayout(self)
        self.target = QComboBox()
        for name, _t in targets:
            self.target.addItem(name)
        form.addRow(tr("plot or view"), self.target)
        self.width = QSpinBox()
        self.width.setRange(16, 16000)
        self.width.setValue(1600)
        self.height = QSpinBox()
        self.height.setRange(16, 16000)
        self.height.setValue(1000)
        size = QHBoxLayout()
        for w in (self.width, QLabel("×"), self.height, QLabel(tr("px"))):
            size.addWidget(w)
        form.addRow(tr("size"), size)
        self.path = QLineEdit(str(Path(start_dir) / "figure.png"))
        browse = QPushButton(tr("Browse…"))
        browse.clicked.connect(self._browse)
        prow = QHBoxLayout()
        prow.addWidget(self.path, 1)
        prow.addWidget(browse)
        form.addRow(tr("file (.png or .svg)"), prow)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        p, _f = QFileDialog.getSaveFileName(self, tr("Export figure"), self.path.text(), tr("PNG (*.png);;SVG (*.svg)"))
        if p:
            self.path.setText(p)

    def chosen(self) -> tuple[Any, str, int, int]:
        return self.targets[self.target.currentIndex()][1], self.path.text(), self.width.value(), self.height.value()


class StudioTools(QObject):
    """Presets, comparison, presentation mode, exports and sessions, with a method per
    action (tests call them). ``compare_window`` is None until first opened."""

    def __init__(self, ctx: StudioContext) -> None:
        super().__init__(ctx.dialog_parent)
        self.ctx = ctx
        self.compare_window: CompareWindow | None = None
        self.explore_windows: list = []  # ExploreWindow, one per corpus opened
        self.presentation = PresentationMode(ctx)
        self.data_exports = DataExports(self)
        self.data_exports.done.connect(self._export_done)
        self.data_exports.failed.connect(lambda kind, msg: self._say(
            tr("{what} export failed: {error}").format(what=tr(EXPORT_KINDS.get(kind, kind)), error=msg)))
        self.timeline_export: TimelineExport | None = None
        self.restorer: SessionRestorer | None = None
        self.presets = PresetsTool(ctx, self)
        self._add_menus()

    def _add_menus(self) -> None:
        ctx = self.ctx
        ctx.add_action("file", tr("Explore a corpus…"), self.explore_dialog, shortcut="Ctrl+Shift+X")
        ctx.add_action("file", tr("Save session…"), self._save_session_dialog, shortcut="Ctrl+Shift+S")
        ctx.add_action("file", tr("Load session…"), self._load_session_dialog, shortcut="Ctrl+Shift+O")
        ctx.add_separator("view")
        ctx.menu("view").addAction(self.presentation.toggle_action)
        for text, slot in ((tr("Compare run folders…"), lambda: self._compare_folders(with_current=False)),
                           (tr("Compare the current run with…"), lambda: self._compare_folders(with_current=True)),
                           (tr("Compare a preset's runs…"), self.compare_preset_dialog),
                           (tr("Show the comparison window"), lambda: self.compare(show=True))):
            ctx.add_action("compare", text, slot)
        ctx.add_action("export", tr("Figure (PNG or SVG)…"), self.export_figure, shortcut="Ctrl+Shift+E")
        for fmt in ("gif", "mp4"):
            ctx.add_action("export", tr("Timeline as {format}…").format(format=fmt.upper()),
                           lambda _c=False, f=fmt: self._export_timeline_dialog(f, "embedding"))
        for fmt in ("gif", "mp4"):
            ctx.add_action("export", tr("Comparison timeline as {format}…").format(format=fmt.upper()),
                           lambda _c=False, f=fmt: self._export_timeline_dialog(f, "compare"))
        ctx.add_separator("export")
        for text, kind in ((tr("Metrics as CSV…"), "metrics"),
                           (tr("Probe embeddings for the TensorBoard projector…"), "projector"),
                           (tr("Probe embeddings as .npy + metadata…"), "npy"),
                           (tr("Model as a sentence-transformers folder…"), "model")):
            ctx.add_action("export", text, lambda _c=False, k=kind: self._export_data_dialog(k))

    def explore_dialog(self) -> None:
        from app.explore.dialog import ExploreDialog

        dlg = ExploreDialog(parent=self.ctx.dialog_parent)
        if dlg.exec():
            corpus, model, column = dlg.chosen()
            if corpus:
                self.explore(corpus, model, text_column=column)

    def explore(self, corpus: str, model: str = "default", **options: Any) -> Any:
        """Open an explore window on ``corpus`` embedded by ``model`` (see app.explore)."""
        from app.explore.window import ExploreWindow

        win = ExploreWindow(corpus, model, **options)
        self.explore_windows.append(win)
        win.closed.connect(lambda w=win: self._explore_closed(w))
        win.show()
        return win

    def _explore_closed(self, win: Any) -> None:
        """Forget a closed explore window (its encoder and index go with it; it waited for
        its worker when it closed)."""
        if win in self.explore_windows:
            self.explore_windows.remove(win)

    def shutdown(self, wait_ms: int = 10_000) -> None:
        """The window closes: stop an animation export and close the comparison window
        (its job thread stops). Training is stopped by the run controller."""
        job = self.timeline_export
        if job is not None and job.state in ("rendering", "encoding"):
            job.cancel()
            job.wait_encoder(10)
        cw = self.compare_window
        if cw is not None:
            cw.close()
            cw.shutdown()
        for win in list(self.explore_windows):
            win.close()

    def _say(self, text: str, kind: str = "error") -> None:
        self.ctx.show_message(text, kind)

    def _start_dir(self) -> str:
        return str(self.ctx.run_model.run_dir or self.ctx.runs_root)

    # ------------------------------------------------------------------ compare
    def compare(self, show: bool = True) -> CompareWindow:
        """The comparison window (created once)."""
        cw = self.compare_window
        if cw is None:
            cw = CompareWindow(self.ctx.dialog_parent)
            cw.message.connect(lambda t: self.ctx.show_status(t, 8000))
            self.compare_window = cw
        if show:
            cw.show()
            cw.raise_()
        return cw

    def open_compare(self, paths: list[str], labels: list[str | None] | None = None, show: bool = True) -> CompareWindow:
        cw = self.compare(show=show)
        cw.open_runs(paths, [lab or Path(p).name for p, lab in zip(paths, labels or [None] * len(paths))])
        return cw

    def _compare_folders(self, with_current: bool) -> None:
        paths: list[str] = []
        if with_current and self.ctx.run_model.run_dir:
            paths.append(self.ctx.run_model.run_dir)
        while True:
            d = QFileDialog.getExistingDirectory(self.ctx.dialog_parent, tr("Run folder {n} to compare (Cancel when "
                                                                            "done)").format(n=len(paths) + 1),
                                                 self._start_dir())
            if not d:
                break
            paths.append(d)
        if paths:
            self.open_compare(paths)

    def compare_preset_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self.ctx.dialog_parent, tr("A preset's output folder (holds preset.json)"),
                                             str(self.ctx.runs_root / "presets"))
        if d:
            self.compare(show=True).open_preset_folder(d)

    # ------------------------------------------------------------------ exports
    def image_targets(self) -> list[tuple[str, Any]]:
        self.ctx.up_to_date()  # hidden plots are not redrawn while hidden
        return image_targets(self.ctx.parts, self.compare_window)

    def export_figure(self) -> None:
        dlg = ImageExportDialog(self.image_targets(), self._start_dir(), self.ctx.dialog_parent)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            target, path, w, h = dlg.chosen()
            self.ctx.up_to_date()  # what arrived while the dialog was open
            try:
                out = export_image(target, path, w, h)
                self._say(tr("figure saved: {path}").format(path=out), "ok")
            except (OSError, ValueError, TypeError) as e:
                self._say(tr("figure export failed: {error}").format(error=e))

    def export_timeline(self, path: str | Path, fps: float = 4.0, size: tuple[int, int] | None = None,
                        source: str = "embedding", dialog: bool = True) -> TimelineExport | None:
        """Render the timeline into ``path`` (.gif or .mp4). ``source``: "embedding"
        (the Embedding space tab) or "compare" (the comparison's side-by-side views)."""
        if self.timeline_export is not None and self.timeline_export.state in ("rendering", "encoding"):
            self._say(tr("an animation is already being exported"))
            return None
        parts = self.ctx.parts
        if source == "compare":
            cw = self.compare_window
            if cw is None or not cw.runs:
                self._say(tr("open runs in the comparison window first"))
                return None
            frames: Any = CompareFrames(cw)
            parent: QWidget = cw
        else:
            assert parts.embedding is not None
            self.ctx.show_tab(parts.embedding)  # laid out and drawn while it is grabbed
            frames = EmbeddingFrames(parts.embedding, self.ctx.view_state, self.ctx.run_model,
                                     widget=parts.embedding.grid)  # the four views, no timeline or controls
            parent = self.ctx.dialog_parent
        try:
            job = TimelineExport(frames, path, fps=fps, size=size, parent=parent, dialog=dialog)
        except ValueError as e:
            self._say(str(e))
            return None
        job.finished.connect(lambda p: self._say(tr("animation saved: {path}").format(path=p), "ok"))
        job.failed.connect(lambda m: self._say(tr("animation export failed: {error}").format(error=m)))
        self.timeline_export = job
        job.start()
        return job

    def _export_timeline_dialog(self, fmt: str, source: str) -> None:
        p, _f = QFileDialog.getSaveFileName(self.ctx.dialog_parent, tr("Export the timeline as {format}").format(
                                                format=fmt.upper()),
                                            str(Path(self._start_dir()) / f"timeline.{fmt}"),
                                            f"{fmt.upper()} (*.{fmt})")
        if p:
            if not p.lower().endswith(f".{fmt}"):
                p += f".{fmt}"
            self.export_timeline(p, source=source)

    def shown_step(self) -> int | None:
        """The step of the snapshot the embedding views show (None: none shown yet)."""
        emb, snaps = self.ctx.parts.embedding, self.ctx.run_model.snapshots
        i = emb.shown_index if emb is not None else None
        return int(snaps[i].step) if i is not None and 0 <= i < len(snaps) else None

    def _export_data_dialog(self, kind: str) -> None:
        run = self.ctx.run_model.run_dir
        if not run:
            self._say(tr("open or train a run first"))
            return
        de, parent = self.data_exports, self.ctx.dialog_parent
        if kind == "metrics":
            p, _f = QFileDialog.getSaveFileName(parent, tr("Export metrics as CSV"), str(Path(run) / "metrics.csv"),
                                                tr("CSV (*.csv)"))
            if p:
                de.metrics_csv(run, p)
        elif kind in ("projector", "npy"):
            d = QFileDialog.getExistingDirectory(parent, tr("Folder for the probe embeddings"), run)
            if d:
                (de.projector if kind == "projector" else de.npy)(run, self.shown_step(), d)
        elif kind == "model":
            d = QFileDialog.getExistingDirectory(parent, tr("An empty folder for the model"), str(Path.home()))
            if d:
                de.model(run, d)

    def _export_done(self, kind: str, result: Any) -> None:
        where = result if not isinstance(result, dict) else Path(next(iter(result.values()))).parent
        self._say(tr("{what} exported: {path}").format(what=tr(EXPORT_KINDS.get(kind, kind)), path=where), "ok")

    # ------------------------------------------------------------------ sessions
    def save_session(self, path: str | Path) -> Path | None:
        try:
            out = save_session(self.ctx, path)
        except SimCSEError as e:
            self._say(tr_error(e))
            return None
        self._say(tr("session saved: {path}").format(path=out), "ok")
        return out

    def load_session(self, path: str | Path) -> SessionRestorer | None:
        try:
            self.restorer = load_session(self.ctx, path)
        except SessionError as e:
            self._say(tr_error(e))
            return None
        self.restorer.failed.connect(lambda m: self._say(tr("session not restored: {error}").format(error=m)))
        return self.restorer

    def _save_session_dialog(self) -> None:
        p, _f = QFileDialog.getSaveFileName(self.ctx.dialog_parent, tr("Save session"),
                                            str(Path(self._start_dir()) / f"studio{SUFFIX}"), tr("Session (*{suffix})").format(suffix=SUFFIX))
        if p:
            self.save_session(p if p.endswith(".json") else p + SUFFIX)

    def _load_session_dialog(self) -> None:
        p, _f = QFileDialog.getOpenFileName(self.ctx.dialog_parent, tr("Load session"), self._start_dir(),
                                            tr("Session (*{suffix} *.json)").format(suffix=SUFFIX))
        if p:
            self.load_session(p)
