"""The studio's main window: setup dock, run controls, message bar, live plot grid.

Threads: training runs in a :class:`~app.runs.workers.TrainWorker` (QThread); corpus
reading, run-folder polling and model copying run as superqt workers. Snapshots
arrive as queued signals; each one's scalars go into the :class:`RunModel` at once,
and the plots redraw at most 20 times a second from the model's newest state.
"""

from __future__ import annotations

import logging
import math
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker, qthrottled

from simcse_core.config import TrainConfig
from simcse_core.errors import ConfigError, SimCSEError
from simcse_core.runs import RunReader, final_model_path
from simcse_core.snapshot import Snapshot

from app.shell.run_controls import MessageBar, RunControls
from app.state.run_model import RunModel
from app.training_tab.plots import PlotGrid, configure_pyqtgraph
from app.state.selection import Selection
from app.shell.settings import StudioSettings, default_runs_root, new_run_dir
from app.panels.setup_panel import SetupPanel
from app.embedding_tab import EmbeddingViews
from app.runs.workers import RunUpdate, TrainWorker, copy_model, error_text, read_run_updates

log = logging.getLogger(__name__)

REDRAW_MS = 50  # at most 20 redraws a second
FOLLOW_MS = 500
CLOSE_WAIT_MS = 60_000


def _load_probe(reader: RunReader, step: int):
    """One snapshot's probe embeddings from its run folder (called from workers)."""
    return reader.load_arrays(step).get("probe_embeddings")


class MainWindow(QMainWindow):
    """The SimCSE Studio window.

    Signals (for tests and later views): ``snapshot_received(Snapshot)``,
    ``run_finished(result)`` (TrainResult, or None after an error),
    ``run_updated()`` (a followed/opened run folder brought new records),
    ``model_saved(path)``, ``message_shown(kind, text)``.
    """

    snapshot_received = Signal(object)
    run_finished = Signal(object)
    run_updated = Signal()
    model_saved = Signal(str)
    message_shown = Signal(str, str)

    def __init__(self, settings: QSettings | None = None, runs_root: str | Path | None = None,
                 torch_threads: int | None = None, restore: bool = True) -> None:
        super().__init__()
        configure_pyqtgraph()
        self.settings = StudioSettings(settings)
        self.runs_root = Path(runs_root) if runs_root else default_runs_root()
        self.torch_threads = torch_threads
        self.model = RunModel()
        self.selection = Selection(self)
        self.worker: TrainWorker | None = None
        self._reader: RunReader | None = None
        self._poll_worker: Any = None
        self._poll_first = True
        self._follow = False
        self._save_worker: Any = None
        self._closing = False
        self._applied: dict[str, float] = {}

        self.setWindowTitle("SimCSE Studio")
        self.resize(1400, 900)
        self._build()
        self._redraw = qthrottled(self._refresh_plots, timeout=REDRAW_MS, leading=True, parent=self)
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_MS)
        self._follow_timer.timeout.connect(self._poll)
        # presets, comparison, presentation mode, exports and sessions (issue 7)
        from app.tools import toolbox as demo_docks

        demo_docks.install(self)
        if restore:
            self._restore()

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.controls = RunControls()
        self.message_bar = MessageBar()
        self.plots = PlotGrid(self.model)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.controls)
        lay.addWidget(self.message_bar)
        # central tabs: the live training plots, and the embedding views (sphere, maps,
        # S1, UMAP, timeline); the embedding tab computes nothing heavy while hidden
        self.embedding = EmbeddingViews(self.model, self.selection)
        self.embedding.trainer_running = self._trainer_running  # UMAP rests between layouts meanwhile
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.addTab(self.plots, "Training")
        self.tabs.addTab(self.embedding, "Embedding space")
        lay.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.neighbours_dock = QDockWidget("Neighbours", self)
        self.neighbours_dock.setObjectName("neighboursDock")
        nscroll = QScrollArea()
        nscroll.setWidgetResizable(True)
        nscroll.setWidget(self.embedding.panel)
        nscroll.setMinimumWidth(260)
        self.neighbours_dock.setWidget(nscroll)
        self.neighbours_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.neighbours_dock)
        self.resizeDocks([self.neighbours_dock], [360], Qt.Orientation.Horizontal)

        self.setup_panel = SetupPanel()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.setup_panel)
        scroll.setMinimumWidth(300)
        self.setup_dock = QDockWidget("Setup", self)
        self.setup_dock.setObjectName("setupDock")
        self.setup_dock.setWidget(scroll)
        self.setup_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                    | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                                    | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.setup_dock)
        self.resizeDocks([self.setup_dock], [420], Qt.Orientation.Horizontal)

        self.device_label = QLabel("device: –")
        self.run_label = QLabel("")
        self.statusBar().addPermanentWidget(self.run_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self._update_device_label(None)
        self.setup_panel.device.currentTextChanged.connect(lambda _t: self._update_device_label(None))

        c = self.controls
        c.train_clicked.connect(self._train_clicked)
        c.pause_clicked.connect(self.pause)
        c.resume_clicked.connect(self.resume)
        c.stop_clicked.connect(self.stop)
        c.apply_clicked.connect(self.apply_live_changes)
        c.save_clicked.connect(self._save_clicked)

        file_menu = self.menuBar().addMenu("&File")
        act = QAction("&Open run folder…", self)
        act.setShortcut(QKeySequence.StandardKey.Open)
        act.triggered.connect(lambda: self._choose_run(follow=False))
        file_menu.addAction(act)
        act = QAction("&Follow run folder…", self)
        act.triggered.connect(lambda: self._choose_run(follow=True))
        file_menu.addAction(act)
        file_menu.addSeparator()
        act = QAction("&Quit", self)
        act.setShortcut(QKeySequence.StandardKey.Quit)
        act.triggered.connect(self.close)
        file_menu.addAction(act)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.setup_dock.toggleViewAction())
        view_menu.addAction(self.neighbours_dock.toggleViewAction())
        act = QAction("&Embedding space", self)
        act.setShortcut(QKeySequence("Ctrl+E"))
        act.triggered.connect(self.show_embedding_views)
        view_menu.addAction(act)
        act = QAction("&Training plots", self)
        act.setShortcut(QKeySequence("Ctrl+T"))
        act.triggered.connect(self.show_training_plots)
        view_menu.addAction(act)
        act = QAction("Reset setup to the reference recipe", self)
        act.triggered.connect(self.setup_panel.reset_to_defaults)
        view_menu.addAction(act)
        # temperature lens and false-negative docks (issue 5), before _restore() restores their state
        from app.panels.analysis import install as install_analysis_docks

        self.lens_panel, self.fn_panel = install_analysis_docks(self)

    def show_embedding_views(self) -> None:
        """Bring the "Embedding space" tab (sphere, maps, S1, UMAP, timeline) and the
        "Neighbours" dock to the front."""
        self.tabs.setCurrentWidget(self.embedding)
        self.neighbours_dock.show()
        self.neighbours_dock.raise_()

    def show_training_plots(self) -> None:
        self.tabs.setCurrentWidget(self.plots)

    def _update_device_label(self, snap: Snapshot | None) -> None:
        if snap is not None and snap.device:
            self.device_label.setText(f"device: {snap.device}")
        elif self.worker is None:
            self.device_label.setText(f"device: {self.setup_panel.device.currentText()}")

    # ---------------------------------------------------------------- settings
    def _restore(self) -> None:
        values = self.settings.setup_values()
        if values:
            self.setup_panel.set_values(values)
        geo, state = self.settings.window_state()
        if geo is not None:
            self.restoreGeometry(geo)
        if state is not None:
            self.restoreState(state)

    def save_settings(self) -> None:
        self.settings.save_setup_values(self.setup_panel.values())
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()

    # ---------------------------------------------------------------- messages
    def show_message(self, text: str, kind: str = "error") -> None:
        self.message_bar.show_message(text, kind)
        self.statusBar().showMessage(text, 10_000)
        if kind == "error":
            log.warning("%s", text)
        self.message_shown.emit(kind, text)

    # ---------------------------------------------------------------- training
    @property
    def training(self) -> bool:
        """True from Train until the worker's completion has been handled (so a late
        queued snapshot of a finished run can never land in the next run's model)."""
        return self.worker is not None

    def _train_clicked(self) -> None:
        self.start_training()

    def _trainer_running(self) -> bool:
        """Whether a training run is going in this process (sharing the GIL and the cores)."""
        w = getattr(self, "worker", None)
        return w is not None and w.isRunning()

    def start_training(self, config: TrainConfig | None = None) -> bool:
        """Start a run (the setup panel's config unless one is given) in a new run
        folder. Returns False, with a message in the window, when it cannot start."""
        if self.training:
            self.show_message("a run is already going; stop it first")
            return False
        runner = getattr(getattr(self, "demo", None), "preset_runner", None)
        if runner is not None and runner.running:
            self.show_message("a preset is training; stop it (Presets menu) before starting a run")
            return False
        self._stop_following()
        panel = self.setup_panel
        try:
            if config is None:
                if panel.corpus_error and panel.corpus_path.text().strip():
                    raise SimCSEError(panel.corpus_error)
                if not math.isfinite(panel.learning_rate()):
                    raise ConfigError(f"config field 'learning_rate': not a number ({panel.lr.text()!r})")
                config = panel.config()
                for key, value in self.fn_panel.config_overrides().items():  # tau_plus, fn_pairs, fn_policy
                    setattr(config, key, value)
            if not config.output_dir:
                config.output_dir = str(new_run_dir(self.runs_root))
            config.validate()
        except SimCSEError as e:
            self.show_message(error_text(e))
            return False
        except (TypeError, ValueError) as e:
            self.show_message(error_text(e))
            return False
        self.message_bar.hide()
        self.model.clear(run_dir=config.output_dir, config=config.to_dict())
        self._refresh_plots()
        worker = TrainWorker(config, torch_threads=self.torch_threads, parent=self)
        worker.snapshot.connect(self._on_snapshot)
        worker.progress.connect(self._on_progress)
        worker.paused_reached.connect(self._on_paused)
        worker.failed.connect(self._on_failed)
        worker.completed.connect(self._on_completed)
        self.worker = worker
        self._applied = {}
        self.controls.set_state("starting", can_save=False)
        panel.set_running(True)
        self.run_label.setText(f"run: {config.output_dir}")
        self.device_label.setText(f"device: {config.device} (starting…)")
        worker.start()
        return True

    def pause(self) -> None:
        if self.training and self.controls.state == "running":
            assert self.worker is not None
            self.worker.control.pause()
            self.controls.set_state("pausing")
            self.statusBar().showMessage("pausing after the current step…", 5000)

    def resume(self) -> None:
        if self.training and self.controls.state in ("paused", "pausing"):
            assert self.worker is not None
            self.worker.control.resume()
            self.controls.set_state("running")
            self.controls.set_progress(self.controls.step, self.controls.total, self._last_sps())

    def stop(self) -> None:
        if self.training:
            assert self.worker is not None
            self.worker.control.stop()
            self.controls.set_state("stopping")

    def apply_live_changes(self) -> None:
        """Send the panel's temperature and learning rate to the running trainer."""
        if not self.training:
            return
        assert self.worker is not None
        temp, lr = self.setup_panel.temp.value(), self.setup_panel.learning_rate()
        applied = self._applied
        changes: dict[str, float] = {}
        if abs(temp - applied.get("temperature", self.worker.config.temp)) > 1e-12:
            changes["temperature"] = temp
        if math.isfinite(lr) and lr >= 0 and abs(lr - applied.get("learning_rate", self.worker.config.learning_rate)) > 1e-15:
            changes["learning_rate"] = lr
        if not changes:
            self.statusBar().showMessage("nothing to apply: temperature and learning rate are unchanged", 5000)
            return
        applied.update(changes)
        self.worker.control.update(**changes)
        self.statusBar().showMessage(
            "applied from the next step: " + ", ".join(f"{k} {v:g}" for k, v in changes.items()), 5000)

    def send_live(self, **changes: Any) -> bool:
        """Send changes to the running trainer from the next step: temperature=,
        learning_rate=, fn_pairs= (confirmed false-negative corpus-id pairs), fn_policy=.
        Returns False (and says why in the status bar) when no run is going."""
        if not self.training:
            self.statusBar().showMessage("no run is training: nothing to apply", 5000)
            return False
        assert self.worker is not None
        self.worker.control.update(**changes)
        for k in ("temperature", "learning_rate"):
            if k in changes:
                self._applied[k] = float(changes[k])
        shown = {k: (len(v) if k == "fn_pairs" else v) for k, v in changes.items()}
        self.statusBar().showMessage("applied from the next step: " + ", ".join(f"{k} {v}" for k, v in shown.items()), 5000)
        return True

    def _last_sps(self) -> float:
        s = self.model.series["steps_per_sec"].last
        return s[1] if s else 0.0

    def _on_snapshot(self, snap: Snapshot) -> None:
        self.model.add(snap)
        if self.controls.state == "starting":
            self.controls.set_state("running")
            self.controls.set_progress(snap.step, snap.total_steps, snap.scalars.get("steps_per_sec", 0.0))
        self._update_device_label(snap)
        self._redraw()
        self.snapshot_received.emit(snap)

    def _on_progress(self, step: int, total: int, sps: float) -> None:
        if self.controls.state in ("running", "pausing", "stopping"):
            self.controls.set_progress(step, total, sps)
            if self.controls.state == "stopping":
                self.controls.set_state("stopping")

    def _on_paused(self) -> None:
        if self.controls.state in ("pausing", "running"):
            self.controls.set_state("paused")
            self.statusBar().showMessage(f"paused at step {self.controls.step}", 5000)

    def _on_failed(self, message: str) -> None:
        note = ""
        if self.model.run_dir and final_model_path(self.model.run_dir) is not None:
            note = " The run folder keeps its last checkpoint."
        self.show_message(message + note)

    def _on_completed(self, result: Any) -> None:
        worker = self.worker
        if worker is not None:
            worker.wait(5000)
            worker.deleteLater()
        self.worker = None
        can_save = bool(self.model.run_dir and final_model_path(self.model.run_dir) is not None)
        self.controls.set_state("idle", can_save=can_save)
        self.setup_panel.set_running(False)
        if result is not None:
            last = self.model.latest
            if last is not None:
                self.controls.set_progress(last.step, last.total_steps, last.scalars.get("steps_per_sec", 0.0))
            what = "stopped" if result.stopped else "finished"
            self.controls.progress.setFormat(f"{what} at step {result.steps:,} / {self.model.total_steps:,}")
            self.statusBar().showMessage(f"run {what}: {result.output_dir}", 10_000)
        elif not self.message_bar.isVisible():
            self.controls.progress.setFormat("failed")
        if self.controls.progress.maximum() == 0:
            self.controls.progress.setRange(0, 1)
        self._refresh_plots()
        self.run_finished.emit(result)

    def _refresh_plots(self) -> None:
        self.plots.refresh()

    # ---------------------------------------------------------------- saving
    def _save_clicked(self) -> None:
        dest = QFileDialog.getExistingDirectory(self, "Save model into an empty folder", str(Path.home()))
        if dest:
            target = Path(dest)
            if target.exists() and any(target.iterdir()) and self.model.run_dir:
                target = target / f"simcse-{Path(self.model.run_dir).name}"
            self.save_model_to(str(target))

    def save_model_to(self, dest: str) -> bool:
        """Copy the run's model (final, else the latest checkpoint's) to ``dest`` in a worker."""
        src = final_model_path(self.model.run_dir) if self.model.run_dir else None
        if src is None:
            self.show_message("this run has no saved model or checkpoint yet")
            return False
        self.statusBar().showMessage(f"saving the model to {dest}…")
        self._save_worker = create_worker(copy_model, str(src), dest, _connect={
            "returned": self._model_copied, "errored": lambda e: self.show_message(error_text(e))})
        return True

    def _model_copied(self, path: str) -> None:
        self.show_message(f"model saved as a sentence-transformers folder: {path}", "ok")
        self.model_saved.emit(path)

    # ---------------------------------------------------------------- run folders
    def _choose_run(self, follow: bool) -> None:
        d = QFileDialog.getExistingDirectory(self, "Follow a run folder" if follow else "Open a run folder",
                                             str(self.runs_root))
        if d:
            self.open_run(d, follow=follow)

    def open_run(self, path: str | Path, follow: bool = False) -> bool:
        """Show a run folder: replay its metrics and snapshots; with ``follow``, poll it
        every 500 ms for what a ``simcse train`` process appends."""
        if self.training:
            self.show_message("stop the current run before opening another")
            return False
        self._stop_following()
        try:
            reader = RunReader(path)
            config = reader.config
        except SimCSEError as e:
            self.show_message(error_text(e))
            return False
        self._reader = reader
        self._poll_first = True
        self._follow = follow
        self.model.clear(run_dir=str(path), config=config)
        self._refresh_plots()
        self.controls.set_state("viewing", can_save=final_model_path(path) is not None)
        self.run_label.setText(("following: " if follow else "run: ") + str(path))
        self.message_bar.hide()
        self._poll()
        if follow:
            self._follow_timer.start()
        return True

    def _stop_following(self) -> None:
        self._follow_timer.stop()
        self._follow = False
        self._reader = None

    def _poll(self) -> None:
        if self._reader is None or self._poll_worker is not None:
            return  # the previous read is still going
        reader = self._reader
        self._poll_worker = create_worker(read_run_updates, reader, self.model.probe_texts is None,
                                          self._poll_first, _start_thread=False, _connect={
            "returned": lambda u, r=reader: self._on_run_update(r, u),
            "errored": lambda e, r=reader: self._on_poll_error(r, e),
            "finished": self._poll_done})
        self._poll_worker.start()

    def _poll_done(self) -> None:
        self._poll_worker = None

    def _on_poll_error(self, reader: RunReader, exc: BaseException) -> None:
        if reader is not self._reader:
            return
        self._follow_timer.stop()
        self.show_message(error_text(exc))

    def _on_run_update(self, reader: RunReader, update: RunUpdate) -> None:
        if reader is not self._reader:
            return  # another folder was opened meanwhile
        self._poll_first = False
        if update.probe:
            self.model.set_probe(update.probe.get("texts"), update.probe.get("columns"))
        if update.config:
            self.model.config = dict(update.config)
        snaps = update.snapshots
        if snaps and self.model.snapshots and snaps[0].step <= self.model.last_step:
            # the writer restarted or resumed (metrics.jsonl was truncated): start over
            probe_texts, probe_cols = self.model.probe_texts, self.model.probe_columns
            self.model.clear(run_dir=self.model.run_dir, config=self.model.config)
            self.model.set_probe(probe_texts, probe_cols)
        for step in update.lazy_steps:  # probe embeddings left on disk: loaded when shown
            self.model.lazy_probe[step] = partial(_load_probe, reader, step)
        for s in snaps:
            self.model.add(s)
        if snaps:
            last = snaps[-1]
            self.controls.set_progress(last.step, last.total_steps, last.scalars.get("steps_per_sec", 0.0))
            self._update_device_label(last)
            self._redraw()
        if update.finished:
            self._follow_timer.stop()
            last = self.model.latest
            if last is not None:
                what = "stopped" if last.stopped else "finished"
                self.controls.progress.setFormat(f"{what} at step {last.step:,} / {last.total_steps:,}")
            can_save = final_model_path(self.model.run_dir) is not None if self.model.run_dir else False
            self.controls.set_state("viewing", can_save=can_save)
            if self._follow and snaps:
                self.show_message("the followed run has finished", "info")
        if snaps or update.finished:
            self.run_updated.emit()

    # ---------------------------------------------------------------- closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the trainer and wait for its thread (bounded), then save settings."""
        if self._closing:
            event.accept()
            return
        self._closing = True
        self._follow_timer.stop()
        worker = self.worker
        if worker is not None and worker.isRunning():
            self.statusBar().showMessage("stopping the run…")
            worker.control.stop()
            if not worker.wait(CLOSE_WAIT_MS):
                log.warning("the training thread did not stop within %d s", CLOSE_WAIT_MS // 1000)
        try:
            self.save_settings()
        except Exception:  # settings are a convenience; never block closing
            log.exception("could not save the settings")
        self._redraw.cancel()
        self.embedding.shutdown()
        event.accept()

    def about(self) -> None:  # pragma: no cover - a dialog
        QMessageBox.about(self, "SimCSE Studio", "Watch SimCSE training happen, step by step.")
