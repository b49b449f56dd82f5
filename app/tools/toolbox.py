"""Wiring of the demo tools into the main window: presets, run comparison,
presentation mode, exports and sessions.

``install(window)`` adds, from outside the window's own code:

- a **Presets** menu: every bundled preset (:func:`~simcse_core.presets.list_presets`)
  and "Open preset file…". Running one trains its runs one after another in a
  :class:`PresetWorker` (a QThread running :func:`~simcse_core.presets.run_preset` with a
  shared control; a progress dialog with Stop), feeds each run's snapshots to the
  window's plots and views as they come, and then opens all runs in the comparison
  window;
- a **Compare** menu: compare run folders, a preset's results, the current run with others;
- an **Export** menu: figures (PNG/SVG at a chosen size), the timeline as GIF/MP4 (of the
  embedding tab or of the comparison), metrics CSV, projector files, .npy + metadata,
  the model (sentence-transformers folder);
- View → Presentation mode (F11), File → Save session… / Load session….

The window keeps the pieces as attributes: ``demo`` (:class:`DemoTools`),
``presentation``, ``data_exports``, ``compare_window`` (when opened).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QThread, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qthrottled

from simcse_core.errors import SimCSEError

from app.tools.compare import CompareWindow
from app.tools.exporting import CompareFrames, DataExports, EmbeddingFrames, TimelineExport, export_image, image_targets
from app.tools.presentation import PresentationMode
from app.tools.session import SUFFIX, SessionError, load_session, save_session
from app.runs.workers import StudioControl, error_text

log = logging.getLogger(__name__)


# ====================================================================== presets
class PresetWorker(QThread):
    """Runs ``run_preset(preset, output_root, control, scale=...)`` in its own thread.

    Signals (queued to the GUI thread): ``run_started(index, label, run_dir, config)``,
    ``snapshot(label, Snapshot)``, ``progress(step, total, steps_per_sec)``,
    ``failed(message)``, ``completed(folder)`` (the preset's output folder; also after
    a stop or a failure, with what was written)."""

    run_started = Signal(int, str, str, object)
    snapshot = Signal(str, object)
    progress = Signal(int, int, float)
    failed = Signal(str)
    completed = Signal(str)

    def __init__(self, preset: Any, output_root: str | Path, scale: Any = None, torch_threads: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.preset = preset
        self.output_root = Path(output_root)
        self.scale = scale
        self.torch_threads = torch_threads
        self.control = StudioControl(on_step=lambda s, t, sps: self.progress.emit(s, t, sps))
        self.folder = preset.folder(self.output_root)
        self.error: str | None = None
        self.results: list[Any] = []

    def run(self) -> None:  # the training thread
        from simcse_core.presets import run_preset

        if self.torch_threads:
            import torch

            torch.set_num_threads(int(self.torch_threads))
        labels = [r.label for r in self.preset.runs]
        current = None
        gen = None
        try:
            configs = dict(self.preset.configs(self.output_root))
            gen = run_preset(self.preset, self.output_root, self.control, scale=self.scale)
            while True:
                label, snap = next(gen)
                if label != current:
                    current = label
                    cfg = configs[label]
                    self.run_started.emit(labels.index(label), label, str(cfg.output_dir), cfg.to_dict())
                self.snapshot.emit(label, snap)
        except StopIteration as stop:
            self.results = list(stop.value or [])
        except SimCSEError as e:
            self.error = error_text(e)
        except Exception as e:  # a bug or the OS: say it, keep the trace in the log
            log.exception("preset run failed")
            self.error = error_text(e)
        finally:
            if gen is not None:
                gen.close()
        if self.error is not None:
            self.failed.emit(self.error)
        self.completed.emit(str(self.folder))


class PresetDialog(QDialog):
    """Progress of a preset run: which run, its steps, Stop; closes itself when done."""

    def __init__(self, preset: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Preset: {preset.title}")
        self.setModal(False)
        lay = QVBoxLayout(self)
        desc = QLabel(preset.description[:600] + ("…" if len(preset.description) > 600 else ""))
        desc.setWordWrap(True)
        desc.setMaximumWidth(560)
        lay.addWidget(desc)
        self.run_label = QLabel(f"starting ({len(preset.runs)} runs)…")
        lay.addWidget(self.run_label)
        self.runs_bar = QProgressBar()
        self.runs_bar.setRange(0, len(preset.runs))
        self.runs_bar.setFormat("run %v of %m")
        lay.addWidget(self.runs_bar)
        self.step_bar = QProgressBar()
        self.step_bar.setRange(0, 0)
        lay.addWidget(self.step_bar)
        row = QHBoxLayout()
        row.addStretch(1)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step (it checkpoints); the remaining runs are skipped")
        row.addWidget(self.stop_button)
        lay.addLayout(row)


class PresetRunner(QObject):
    """One preset run from the studio: worker, dialog, live feed, then the comparison.

    Signals: ``finished(folder)`` (after the comparison was asked to open),
    ``failed(message)``."""

    finished = Signal(str)
    failed = Signal(str)

    def __init__(self, tools: DemoTools, preset: Any, output_root: Path, scale: Any = None,
                 live: bool = True, dialog: bool = True) -> None:
        super().__init__(tools)
        self.tools = tools
        self.window = tools.window
        self.preset = preset
        self.live = live
        self.worker = PresetWorker(preset, output_root, scale=scale,
                                   torch_threads=getattr(self.window, "torch_threads", None), parent=self)
        self.dialog = PresetDialog(preset, self.window) if dialog else None
        self.run_dir: str | None = None
        self.snapshots = 0
        self.error: str | None = None
        w = self.worker
        w.run_started.connect(self._run_started)
        w.snapshot.connect(self._snapshot)
        w.progress.connect(self._progress)
        w.failed.connect(self._failed)
        w.completed.connect(self._completed)
        self._refresh = qthrottled(self._refresh_plots, timeout=100, leading=True, parent=self)
        if self.dialog is not None:
            self.dialog.stop_button.clicked.connect(self.stop)

    @property
    def running(self) -> bool:
        return self.worker.isRunning()

    def start(self) -> None:
        if self.dialog is not None:
            self.dialog.show()
        self.worker.start()

    def stop(self) -> None:
        self.worker.control.stop()
        if self.dialog is not None:
            self.dialog.stop_button.setEnabled(False)
            self.dialog.run_label.setText("stopping after the current step…")

    def _feeding(self) -> bool:
        w = self.window
        return self.live and not getattr(w, "training", False) and w.model.run_dir == self.run_dir

    def _run_started(self, index: int, label: str, run_dir: str, config: dict) -> None:
        self.run_dir = run_dir
        if self.dialog is not None:
            self.dialog.run_label.setText(f"run {index + 1} of {len(self.preset.runs)}: {label}")
            self.dialog.runs_bar.setValue(index)
        w = self.window
        if self.live and not getattr(w, "training", False):
            stop_following = getattr(w, "_stop_following", None)
            if callable(stop_following):
                stop_following()  # a followed folder must not write into this run's model
            w.model.clear(run_dir=run_dir, config=config)
            w.run_label.setText(f"preset {self.preset.name}: {label}")
            self._refresh_plots()

    def _snapshot(self, label: str, snap: Any) -> None:
        self.snapshots += 1
        if self._feeding():
            self.window.model.add(snap)
            self._refresh()

    def _refresh_plots(self) -> None:
        plots = getattr(self.window, "plots", None)
        if plots is not None:
            plots.refresh()

    def _progress(self, step: int, total: int, sps: float) -> None:
        if self.dialog is not None:
            bar = self.dialog.step_bar
            if bar.maximum() != max(1, total):
                bar.setRange(0, max(1, total))
            bar.setValue(min(step, total))
            bar.setFormat(f"step {step:,} / {total:,} · {sps:.2f} steps/s")

    def _failed(self, message: str) -> None:
        self.error = message
        show = getattr(self.window, "show_message", None)
        if callable(show):
            show(f"preset {self.preset.name}: {message}")
        self.failed.emit(message)

    def _completed(self, folder: str) -> None:
        self.worker.wait(5000)
        self._refresh.cancel()
        self._refresh_plots()
        if self.dialog is not None:
            self.dialog.runs_bar.setValue(self.dialog.runs_bar.maximum())
            self.dialog.close()
        self.tools.compare(show=True).open_preset_folder(folder)
        show = getattr(self.window, "show_message", None)
        if callable(show) and self.error is None:
            show(f"preset {self.preset.name} finished: its runs are open in the comparison window ({folder})", "ok")
        self.finished.emit(folder)


# ====================================================================== dialogs
class ImageExportDialog(QDialog):
    """Choose a plot or view, a size and a file (PNG or SVG by its extension)."""

    def __init__(self, targets: list[tuple[str, Any]], start_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export a figure")
        self.targets = targets
        form = QFormLayout(self)
        self.target = QComboBox()
        for name, _t in targets:
            self.target.addItem(name)
        form.addRow("plot or view", self.target)
        self.width = QSpinBox()
        self.width.setRange(16, 16000)
        self.width.setValue(1600)
        self.height = QSpinBox()
        self.height.setRange(16, 16000)
        self.height.setValue(1000)
        size = QHBoxLayout()
        size.addWidget(self.width)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height)
        size.addWidget(QLabel("px"))
        form.addRow("size", size)
        self.path = QLineEdit(str(Path(start_dir) / "figure.png"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        prow = QHBoxLayout()
        prow.addWidget(self.path, 1)
        prow.addWidget(browse)
        form.addRow("file (.png or .svg)", prow)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        p, _f = QFileDialog.getSaveFileName(self, "Export figure", self.path.text(), "PNG (*.png);;SVG (*.svg)")
        if p:
            self.path.setText(p)

    def chosen(self) -> tuple[Any, str, int, int]:
        return self.targets[self.target.currentIndex()][1], self.path.text(), self.width.value(), self.height.value()


# ====================================================================== the tools
class DemoTools(QObject):
    """Everything :func:`install` adds, with a method per action (tests call them)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.presentation = PresentationMode(window)
        self.data_exports = DataExports(self)
        self.data_exports.done.connect(self._export_done)
        self.data_exports.failed.connect(lambda kind, msg: self._say(f"{kind} export failed: {msg}"))
        self.preset_runner: PresetRunner | None = None
        self.timeline_export: TimelineExport | None = None
        self.restorer: Any = None
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def shutdown(self, wait_ms: int = 60_000) -> None:
        """The window closes: stop a preset run (it checkpoints) and an animation
        export, and close the comparison window (its job thread stops)."""
        runner = self.preset_runner
        if runner is not None and runner.running:
            runner.worker.control.stop()
            if not runner.worker.wait(wait_ms):
                log.warning("the preset thread did not stop within %d s", wait_ms // 1000)
        job = self.timeline_export
        if job is not None and job.state in ("rendering", "encoding"):
            job.cancel()
            job.wait_encoder(10)
        cw = getattr(self.window, "compare_window", None)
        if cw is not None:
            cw.close()
            cw.shutdown()

    def _say(self, text: str, kind: str = "error") -> None:
        show = getattr(self.window, "show_message", None)
        if callable(show):
            show(text, kind)
        else:
            log.info("%s", text)

    def _start_dir(self) -> str:
        return str(self.window.model.run_dir or getattr(self.window, "runs_root", Path.home()))

    # ------------------------------------------------------------------ presets
    def run_preset(self, preset: Any, output_root: str | Path | None = None, scale: Any = None,
                   live: bool = True, dialog: bool = True) -> PresetRunner | None:
        """Train a preset's runs in a worker (see :class:`PresetRunner`)."""
        if self.preset_runner is not None and self.preset_runner.running:
            self._say("a preset is already running; stop it first")
            return None
        if getattr(self.window, "training", False):
            self._say("a run is training; stop it before running a preset")
            return None
        root = Path(output_root) if output_root else Path(self.window.runs_root) / "presets"
        try:
            preset.validate()
        except SimCSEError as e:
            self._say(error_text(e))
            return None
        runner = PresetRunner(self, preset, root, scale=scale, live=live, dialog=dialog)
        self.preset_runner = runner
        runner.start()
        return runner

    def _run_named_preset(self, name: str) -> None:
        from simcse_core.presets import load_preset

        try:
            self.run_preset(load_preset(name))
        except SimCSEError as e:
            self._say(error_text(e))

    def open_preset_file(self) -> None:
        from simcse_core.presets import load_preset, presets_dir

        p, _f = QFileDialog.getOpenFileName(self.window, "Open a preset file", str(presets_dir()), "Preset (*.json)")
        if p:
            try:
                self.run_preset(load_preset(p))
            except SimCSEError as e:
                self._say(error_text(e))

    # ------------------------------------------------------------------ compare
    def compare(self, show: bool = True) -> CompareWindow:
        """The comparison window (created once, owned by the main window)."""
        cw = getattr(self.window, "compare_window", None)
        if cw is None:
            cw = CompareWindow(self.window)
            cw.message.connect(lambda t: self.window.statusBar().showMessage(t, 8000))
            self.window.compare_window = cw
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
        if with_current and self.window.model.run_dir:
            paths.append(self.window.model.run_dir)
        while True:
            d = QFileDialog.getExistingDirectory(self.window, f"Run folder {len(paths) + 1} to compare "
                                                 "(Cancel when done)", self._start_dir())
            if not d:
                break
            paths.append(d)
        if paths:
            self.open_compare(paths)

    def _compare_preset(self) -> None:
        d = QFileDialog.getExistingDirectory(self.window, "A preset's output folder (holds preset.json)",
                                             str(Path(self.window.runs_root) / "presets"))
        if d:
            self.compare(show=True).open_preset_folder(d)

    # ------------------------------------------------------------------ exports
    def export_figure(self) -> None:
        targets = image_targets(self.window)
        dlg = ImageExportDialog(targets, self._start_dir(), self.window)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            target, path, w, h = dlg.chosen()
            try:
                out = export_image(target, path, w, h)
                self._say(f"figure saved: {out}", "ok")
            except (OSError, ValueError, TypeError) as e:
                self._say(f"figure export failed: {e}")

    def export_timeline(self, path: str | Path, fps: float = 4.0, size: tuple[int, int] | None = None,
                        source: str = "embedding", dialog: bool = True) -> TimelineExport | None:
        """Render the timeline into ``path`` (.gif or .mp4). ``source``: "embedding"
        (the Embedding space tab) or "compare" (the comparison's side-by-side views)."""
        if self.timeline_export is not None and self.timeline_export.state in ("rendering", "encoding"):
            self._say("an animation is already being exported")
            return None
        w = self.window
        if source == "compare":
            cw = getattr(w, "compare_window", None)
            if cw is None or not cw.runs:
                self._say("open runs in the comparison window first")
                return None
            frames: Any = CompareFrames(cw)
            parent: QWidget = cw
        else:
            w.tabs.setCurrentWidget(w.embedding)  # laid out and drawn while it is grabbed
            frames = EmbeddingFrames(w.embedding)
            parent = w
        try:
            job = TimelineExport(frames, path, fps=fps, size=size, parent=parent, dialog=dialog)
        except ValueError as e:
            self._say(str(e))
            return None
        job.finished.connect(lambda p: self._say(f"animation saved: {p}", "ok"))
        job.failed.connect(lambda m: self._say(f"animation export failed: {m}"))
        self.timeline_export = job
        job.start()
        return job

    def _export_timeline_dialog(self, fmt: str, source: str) -> None:
        p, _f = QFileDialog.getSaveFileName(self.window, f"Export the timeline as {fmt.upper()}",
                                            str(Path(self._start_dir()) / f"timeline.{fmt}"),
                                            f"{fmt.upper()} (*.{fmt})")
        if p:
            if not p.lower().endswith(f".{fmt}"):
                p += f".{fmt}"
            self.export_timeline(p, source=source)

    def shown_step(self) -> int | None:
        """The step of the snapshot the embedding views show (None: the newest)."""
        emb = getattr(self.window, "embedding", None)
        if emb is None or emb.index is None:
            return None
        return int(self.window.model.snapshots[emb.index].step)

    def _need_run(self) -> str | None:
        run = self.window.model.run_dir
        if not run:
            self._say("open or train a run first")
        return run

    def _export_data_dialog(self, kind: str) -> None:
        run = self._need_run()
        if not run:
            return
        de = self.data_exports
        if kind == "metrics":
            p, _f = QFileDialog.getSaveFileName(self.window, "Export metrics as CSV",
                                                str(Path(run) / "metrics.csv"), "CSV (*.csv)")
            if p:
                de.metrics_csv(run, p)
        elif kind in ("projector", "npy"):
            d = QFileDialog.getExistingDirectory(self.window, "Folder for the probe embeddings", run)
            if d:
                (de.projector if kind == "projector" else de.npy)(run, self.shown_step(), d)
        elif kind == "model":
            d = QFileDialog.getExistingDirectory(self.window, "An empty folder for the model", str(Path.home()))
            if d:
                de.model(run, d)

    def _export_done(self, kind: str, result: Any) -> None:
        where = result if not isinstance(result, dict) else Path(next(iter(result.values()))).parent
        self._say(f"{kind} exported: {where}", "ok")

    # ------------------------------------------------------------------ sessions
    def save_session(self, path: str | Path) -> Path | None:
        try:
            out = save_session(self.window, path)
        except SimCSEError as e:
            self._say(error_text(e))
            return None
        self._say(f"session saved: {out}", "ok")
        return out

    def load_session(self, path: str | Path) -> Any:
        try:
            self.restorer = load_session(self.window, path)
        except SessionError as e:
            self._say(str(e))
            return None
        self.restorer.failed.connect(lambda m: self._say(f"session not restored: {m}"))
        return self.restorer

    def _save_session_dialog(self) -> None:
        p, _f = QFileDialog.getSaveFileName(self.window, "Save session", str(Path(self._start_dir()) / f"studio{SUFFIX}"),
                                            f"Session (*{SUFFIX})")
        if p:
            self.save_session(p if p.endswith(".json") else p + SUFFIX)

    def _load_session_dialog(self) -> None:
        p, _f = QFileDialog.getOpenFileName(self.window, "Load session", self._start_dir(), f"Session (*{SUFFIX} *.json)")
        if p:
            self.load_session(p)


# ====================================================================== install
def _menu(window: QMainWindow, title: str) -> QMenu:
    for action in window.menuBar().actions():
        if action.menu() is not None and action.text() == title:
            return action.menu()  # type: ignore[return-value]
    return window.menuBar().addMenu(title)


def _action(menu: QMenu, text: str, slot: Any, shortcut: str | None = None, before: QAction | None = None) -> QAction:
    a = QAction(text, menu)
    if shortcut:
        a.setShortcut(shortcut)
    a.triggered.connect(slot)
    if before is not None:
        menu.insertAction(before, a)
    else:
        menu.addAction(a)
    return a


def install(window: QMainWindow) -> DemoTools:
    """Add the Presets, Compare and Export menus, presentation mode and sessions to a
    studio MainWindow (``model``, ``selection``, ``tabs``, ``plots``, ``embedding``,
    ``open_run``, ``run_updated``, ``show_message``, ``runs_root``)."""
    from simcse_core.presets import list_presets

    if getattr(window, "demo", None) is not None:  # installed already (MainWindow does it)
        return window.demo  # type: ignore[attr-defined,no-any-return]
    tools = DemoTools(window)
    window.demo = tools  # type: ignore[attr-defined]
    window.presentation = tools.presentation  # type: ignore[attr-defined]
    window.data_exports = tools.data_exports  # type: ignore[attr-defined]
    if not hasattr(window, "compare_window"):
        window.compare_window = None  # type: ignore[attr-defined]

    file_menu = _menu(window, "&File")
    quit_action = next((a for a in file_menu.actions() if a.text() == "&Quit"), None)
    _action(file_menu, "Save session…", tools._save_session_dialog, "Ctrl+Shift+S", before=quit_action)
    _action(file_menu, "Load session…", tools._load_session_dialog, "Ctrl+Shift+O", before=quit_action)
    if quit_action is not None:
        file_menu.insertSeparator(quit_action)

    view_menu = _menu(window, "&View")
    view_menu.addSeparator()
    view_menu.addAction(tools.presentation.toggle_action)

    presets_menu = window.menuBar().addMenu("&Presets")
    presets_menu.setObjectName("presetsMenu")
    try:
        presets = list_presets()
    except SimCSEError as e:
        presets = []
        log.warning("bundled presets not readable: %s", e)
    for p in presets:
        a = _action(presets_menu, f"Run “{p.title}”", lambda _c=False, n=p.name: tools._run_named_preset(n))
        a.setData(p.name)
        a.setToolTip(p.description[:300])
    presets_menu.addSeparator()
    _action(presets_menu, "Open preset file…", tools.open_preset_file)
    _action(presets_menu, "Open a preset's results…", tools._compare_preset)

    compare_menu = window.menuBar().addMenu("&Compare")
    _action(compare_menu, "Compare run folders…", lambda: tools._compare_folders(with_current=False))
    _action(compare_menu, "Compare the current run with…", lambda: tools._compare_folders(with_current=True))
    _action(compare_menu, "Compare a preset's runs…", tools._compare_preset)
    _action(compare_menu, "Show the comparison window", lambda: tools.compare(show=True))

    export_menu = window.menuBar().addMenu("E&xport")
    _action(export_menu, "Figure (PNG or SVG)…", tools.export_figure, "Ctrl+Shift+E")
    _action(export_menu, "Timeline as GIF…", lambda: tools._export_timeline_dialog("gif", "embedding"))
    _action(export_menu, "Timeline as MP4…", lambda: tools._export_timeline_dialog("mp4", "embedding"))
    _action(export_menu, "Comparison timeline as GIF…", lambda: tools._export_timeline_dialog("gif", "compare"))
    _action(export_menu, "Comparison timeline as MP4…", lambda: tools._export_timeline_dialog("mp4", "compare"))
    export_menu.addSeparator()
    _action(export_menu, "Metrics as CSV…", lambda: tools._export_data_dialog("metrics"))
    _action(export_menu, "Probe embeddings for the TensorBoard projector…", lambda: tools._export_data_dialog("projector"))
    _action(export_menu, "Probe embeddings as .npy + metadata…", lambda: tools._export_data_dialog("npy"))
    _action(export_menu, "Model as a sentence-transformers folder…", lambda: tools._export_data_dialog("model"))
    return tools
