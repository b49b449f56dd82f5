"""The studio's main window: layout and wiring, nothing else.

It builds the state (run model, view state, selection, the run's sentences), the
:class:`~app.runs.controller.RunController` (the only writer of the run model), the
:class:`~app.shell.context.StudioContext` handed to every panel and tool, and the
widgets: run bar, message bar, the Training, Embedding space and Batch tabs, the Setup,
Neighbours, lens and false-negative docks, then the tools (presets, compare, export,
presentation, sessions), the Help menu and the first steps (welcome, the first-run
recipe, the notes before and at the start of a run). Training, polling and saving live
in the controller; panels and tools reach the window only through the context.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from simcse_core.config import TrainConfig
from simcse_core.data import default_corpus_path
from simcse_core.errors import ConfigError, SimCSEError

from app.batch_tab import BatchTab
from app.embedding_tab import EmbeddingTab
from app.i18n import tr
from app.panels.analysis import add_analysis_panels
from app.panels.setup_panel import SetupPanel
from app.runs.controller import RunController
from app.runs.workers import error_text
from app.shell.context import StudioContext
from app.shell.first_steps import FirstSteps
from app.shell.guidance import same_file, start_problems
from app.shell.help import HelpMenu
from app.shell.language_menu import LanguageMenu
from app.shell.run_controls import MessageBar, RunControls, bind_run_controls
from app.shell.settings import StudioSettings, default_runs_root
from app.state.run_corpus import SentenceIndex
from app.state.run_model import RunModel
from app.state.selection import Selection
from app.state.view_state import ViewState
from app.tools.toolbox import StudioTools
from app.tour import StudioTour
from app.training_tab.plots import PlotGrid, configure_pyqtgraph

log = logging.getLogger(__name__)

CLOSE_WAIT_MS = 60_000


class MainWindow(QMainWindow):
    """The SimCSE Studio window. ``runs`` is the run controller (its signals say when
    snapshots arrive, runs finish, folders update); ``context`` what panels get.
    Signal ``message_shown(kind, text)``: every message the window shows."""

    message_shown = Signal(str, str)

    def __init__(self, settings: QSettings | None = None, runs_root: str | Path | None = None,
                 torch_threads: int | None = None, restore: bool = True) -> None:
        super().__init__()
        configure_pyqtgraph()
        self.settings = StudioSettings(settings)
        self.runs_root = Path(runs_root) if runs_root else default_runs_root()
        self.model = RunModel()
        self.view_state = ViewState()
        self.selection = Selection(self)
        self.runs = RunController(self.model, self.view_state, self.runs_root, torch_threads, parent=self)
        self.context = StudioContext(self, run_model=self.model, view_state=self.view_state,
                                     selection=self.selection, sentences=SentenceIndex(self), runs=self.runs,
                                     settings=self.settings, runs_root=self.runs_root, torch_threads=torch_threads,
                                     show_message=self.show_message)
        self._closing = False
        self.first_launch = not self.settings.has_saved()  # before anything is saved
        self.umap_ready = False
        self._plots_stale = False
        self.setWindowTitle(tr("SimCSE Studio"))
        self.resize(1400, 900)
        self._build_centre()
        self._build_docks()
        self._build_menus()
        self.runs.message.connect(self.show_message)
        self.runs.redraw.connect(self.redraw_plots)
        self.tabs.currentChanged.connect(lambda _i: self._plots_stale and self.redraw_plots())
        self.runs.run_begun.connect(lambda _kind, _label: self.message_bar.hide())
        self.runs.run_config.connect(self._show_run_config)
        self.context.add_before_grab(self.plots_up_to_date)
        # what a run waits for, whole, in the status bar too (the run bar is narrow at 1366 px)
        self.runs.status.connect(lambda text: self.statusBar().showMessage(text))
        self.runs.progress.connect(lambda *_a: self.statusBar().currentMessage() == self.runs.status_text
                                   and self.statusBar().clearMessage())
        self.embedding.warmed_up.connect(lambda _r: setattr(self, "umap_ready", True))
        # a typed sentence to embed: say so when the run's model folder was removed meanwhile,
        # and a failed encoding reaches the message bar too (one line)
        self.embedding.panel.embed_requested.connect(lambda _text: self.runs.model_folder())
        self.embedding.controller.search.failed.connect(
            lambda text: text.startswith("encode") and self.show_message(text, "error"))
        if restore:
            self._restore()

    # ---------------------------------------------------------------- layout
    def _build_centre(self) -> None:
        ctx = self.context
        self.controls = RunControls()
        self.message_bar = MessageBar()
        self.plots = PlotGrid(self.model)
        self.embedding = EmbeddingTab(self.model, self.view_state, self.selection,
                                      trainer_running=self.runs.trainer_running)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.addTab(self.plots, tr("Training"))
        self.tabs.addTab(self.embedding, tr("Embedding space"))
        self.batch_tab = BatchTab(ctx)
        self.tabs.addTab(self.batch_tab, tr("Batch"))
        for i, key in enumerate(("Training", "Embedding space", "Batch")):
            self.tabs.tabBar().setTabData(i, key)  # the tab's key (sessions, screenshots) in any language
        self.tabs.currentChanged.connect(lambda i: setattr(self.view_state, "tab", self.tabs.tabBar().tabData(i)))
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.controls)
        lay.addWidget(self.message_bar)
        lay.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        ctx.parts.tabs, ctx.parts.training, ctx.parts.embedding = self.tabs, self.plots, self.embedding
        ctx.parts.batch = self.batch_tab

        self.device_label = QLabel(tr("device: {device}").format(device="–"))
        self.run_label = QLabel("")
        self.statusBar().addPermanentWidget(self.run_label)
        self.statusBar().addPermanentWidget(self.device_label)
        c = self.controls
        c.train_clicked.connect(self.start_training)
        c.pause_clicked.connect(self.runs.pause)
        c.resume_clicked.connect(self.runs.resume)
        c.stop_clicked.connect(self.runs.stop)
        c.apply_clicked.connect(self.apply_live_changes)
        c.save_clicked.connect(self._save_clicked)

    def _build_docks(self) -> None:
        ctx = self.context
        self.setup_panel = SetupPanel()
        ctx.parts.setup = self.setup_panel
        self.setup_dock = ctx.add_dock(self.setup_panel, tr("Setup"), "setupDock", "left", width=420,
                                       min_width=300)
        self.neighbours_dock = ctx.add_dock(self.embedding.panel, tr("Neighbours"), "neighboursDock", "right",
                                            width=360, min_width=260)
        self.lens_panel, self.fn_panel = add_analysis_panels(ctx)
        self.lens_dock, self.fn_dock = ctx.parts.docks["lensDock"], ctx.parts.docks["fnDock"]
        self.batch_tab.follow_lens(self.lens_panel)  # a clicked row's softmax at the lens's t' too
        bind_run_controls(self.controls, self.runs, self.run_label, self.device_label,
                          lambda: self.setup_panel.device.currentText(),
                          lambda: "" if self.umap_ready else tr("UMAP compiling in the background (once)"))
        self.setup_panel.device.currentTextChanged.connect(
            lambda t: None if self.runs.busy else self.device_label.setText(tr("device: {device}").format(device=t)))
        self.runs.state_changed.connect(lambda s: self.setup_panel.set_running(s in ("starting", "running",
                                                                                       "pausing", "paused", "stopping")))

    def _build_menus(self) -> None:
        ctx = self.context
        ctx.add_action("file", tr("&Open run folder…"), lambda: self._choose_run(follow=False),
                       shortcut=QKeySequence(QKeySequence.StandardKey.Open))
        ctx.add_action("file", tr("&Follow run folder…"), lambda: self._choose_run(follow=True))
        ctx.add_separator("view")
        ctx.add_action("view", tr("&Embedding space"), self.show_embedding_views, shortcut="Ctrl+E")
        ctx.add_action("view", tr("&Training plots"), self.show_training_plots, shortcut="Ctrl+T")
        ctx.add_action("view", tr("Reset setup to the reference recipe"), self.setup_panel.reset_to_defaults)
        self.language_menu = LanguageMenu(ctx)  # View > Language (used from the next start)
        self.tools = StudioTools(ctx)  # presets, compare, export, presentation, sessions
        ctx.parts.tools = self.tools
        ctx.add_separator("file")
        ctx.add_action("file", tr("&Quit"), self.close, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        self.tour = StudioTour(ctx, self)  # Help > Tour and the welcome's "Take the tour"
        self.first_steps = FirstSteps(ctx, self.start_training, lambda follow: self._choose_run(follow), self,
                                      tour=self.tour.start)
        self.help_menu = HelpMenu(ctx, self.first_steps.show_welcome, tour=self.tour.start)

    def start_welcome(self) -> None:
        """At launch: on the first launch the Setup panel holds the first-run recipe (its
        Train trains it) and the welcome shows; later, the welcome if "show at start"."""
        if self.first_launch:
            self.first_steps.use_first_run_recipe()
            self.settings.set_show_welcome_at_start(False)
            self.first_steps.show_welcome()
        elif self.settings.show_welcome_at_start():
            self.first_steps.show_welcome()

    def show_embedding_views(self) -> None:
        """Bring the "Embedding space" tab and the "Neighbours" dock to the front."""
        self.tabs.setCurrentWidget(self.embedding)
        self.neighbours_dock.show()
        self.neighbours_dock.raise_()

    def show_training_plots(self) -> None:
        self.tabs.setCurrentWidget(self.plots)

    def show_batch(self) -> None:
        """Bring the "Batch" tab (the last batch's similarity matrix) to the front."""
        self.tabs.setCurrentWidget(self.batch_tab)

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
        self.settings.save_setup_values(self.setup_panel.own_values())
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()

    # ---------------------------------------------------------------- plots
    def redraw_plots(self) -> None:
        """Redraw the training plots when they are shown; else mark them stale (they are
        redrawn when their tab comes to the front, or before a figure export)."""
        if self.tabs.currentWidget() is self.plots and self.isVisible() and not self.isMinimized():
            self._plots_stale = False
            self.plots.refresh()  # looked up per call (benchmarks wrap it)
        else:
            self._plots_stale = True

    def plots_up_to_date(self) -> None:
        """Bring hidden plots up to date (before they are grabbed or exported)."""
        if self._plots_stale:
            self._plots_stale = False
            self.plots.refresh()

    # ---------------------------------------------------------------- messages
    def show_message(self, text: str, kind: str = "error", actions=()) -> None:
        self.message_bar.show_message(text, kind, actions)
        self.statusBar().showMessage(text, 10_000)
        if kind == "error":
            log.warning("%s", text)
        self.message_shown.emit(kind, text)

    # ---------------------------------------------------------------- runs
    @property
    def training(self) -> bool:
        return self.runs.training

    def start_training(self, config: TrainConfig | None = None, checked: bool = False) -> bool:
        """Start a run: ``config``, or the setup panel's (with the false-negative
        panel's settings, after the checks of :func:`~app.shell.guidance.start_problems`
        unless ``checked``). False, with a message in the window, when it cannot start."""
        if config is None:
            panel = self.setup_panel
            if panel.showing_run:
                panel.show_own_setup()  # back to training: the person's own setup
            try:
                if panel.corpus_error and panel.corpus_path.text().strip():
                    raise SimCSEError(panel.corpus_error)
                if not math.isfinite(panel.learning_rate()):
                    raise ConfigError(tr("config field 'learning_rate': not a number ({value!r})").format(
                        value=panel.lr.text()))
                config = panel.config()
                for key, value in self.fn_panel.config_overrides().items():  # fn_pairs, fn_policy
                    setattr(config, key, value)
            except (SimCSEError, TypeError, ValueError) as e:
                self.show_message(error_text(e))
                return False
            if not checked and self._said_before_start(config):
                return False
        return self.runs.start_training(config)

    def _said_before_start(self, config: TrainConfig) -> bool:
        """Say what would make the run pointless (a batch that does not fit the corpus, a
        corpus the model cannot read), with fixes and "Train anyway"; True when said."""
        panel = self.setup_panel
        preview = panel.corpus_preview
        corpus = config.train_file or str(default_corpus_path())
        if preview is None or not same_file(preview.path, corpus):
            preview = None  # not read yet: nothing to check
        problems = start_problems(config, preview, panel.vocab_message)
        if not problems:
            return False
        actions = [(label, lambda v=v: self.first_steps.train_with(v)) for p in problems for label, v in p.fixes]
        actions.append((tr("Train anyway"), lambda: self.start_training(checked=True)))
        self.show_message(" ".join(p.text for p in problems), "warning", actions)
        return True

    def open_run(self, path: str | Path, follow: bool = False) -> bool:
        """Replay a run folder, or follow one that a ``simcse train`` process writes."""
        return self.runs.open_run(path, follow=follow)

    def _show_run_config(self, config: dict) -> None:
        """A replayed or followed run's settings in the Setup panel (read-only); a run
        training here shows the person's own setup."""
        src = self.runs.source
        kind = src.kind if src is not None else ""
        if kind in ("replay", "following"):
            self.setup_panel.show_run_config(config, self.runs.label or str(self.model.run_dir))
        elif kind in ("training", "preset") and self.setup_panel.showing_run:
            self.setup_panel.show_own_setup()

    def apply_live_changes(self) -> None:
        """Send the setup panel's temperature and learning rate to the running trainer."""
        source = self.runs.source
        if not self.runs.training or source is None:
            return
        cfg = source.train_config if hasattr(source, "train_config") else None
        temp, lr = self.setup_panel.temp.value(), self.setup_panel.learning_rate()
        changes: dict[str, float] = {}
        if abs(temp - self.runs.applied("temperature", cfg.temp if cfg else math.nan)) > 1e-12:
            changes["temperature"] = temp
        if math.isfinite(lr) and lr >= 0 and abs(lr - self.runs.applied("learning_rate",
                                                                         cfg.learning_rate if cfg else math.nan)) > 1e-15:
            changes["learning_rate"] = lr
        if not changes:
            self.statusBar().showMessage(tr("nothing to apply: temperature and learning rate are unchanged"), 5000)
            return
        self.runs.send_live(**changes)
        self.statusBar().showMessage(
            tr("applied from the next step: {changes}").format(
                changes=", ".join(f"{k} {v:g}" for k, v in changes.items())), 5000)

    def _save_clicked(self) -> None:
        dest = QFileDialog.getExistingDirectory(self, tr("Save model into an empty folder"), str(Path.home()))
        if dest:
            target = Path(dest)
            if target.exists() and any(target.iterdir()) and self.model.run_dir:
                target = target / f"simcse-{Path(self.model.run_dir).name}"
            self.save_model_to(str(target))

    def save_model_to(self, dest: str) -> bool:
        """Copy the run's model to ``dest`` (in a worker); ``runs.model_saved`` says when."""
        if self.runs.save_model_to(dest):
            self.statusBar().showMessage(tr("saving the model to {dest}…").format(dest=dest))
            return True
        return False

    def _choose_run(self, follow: bool) -> None:
        d = QFileDialog.getExistingDirectory(self, tr("Follow a run folder") if follow else tr("Open a run folder"),
                                             str(self.runs_root))
        if d:
            self.open_run(d, follow=follow)

    # ---------------------------------------------------------------- closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the trainer and wait for its thread (bounded), then save settings."""
        if self._closing:
            event.accept()
            return
        self._closing = True
        if self.runs.training:
            self.statusBar().showMessage(tr("stopping the run…"))
        self.tools.shutdown()
        self.runs.shutdown(CLOSE_WAIT_MS)
        try:
            self.save_settings()
        except Exception:  # settings are a convenience; never block closing
            log.exception("could not save the settings")
        self.embedding.shutdown()
        event.accept()
