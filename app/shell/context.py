"""The studio context: what panels and tools get instead of the main window.

A panel or tool is handed one :class:`StudioContext` in its constructor. Through it, it
reads the state (run model, view state, selection, the run's sentences), drives runs
(the run controller), and adds itself to the window (``add_dock``, ``add_action`` with
a menu key, ``show_message``). Nothing attaches attributes to the window, and nothing
looks a menu up by its label. The window fills :attr:`StudioContext.parts` with the
widgets tools may show or grab (tabs, plot grid, embedding tab, docks, panels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QScrollArea, QWidget

from app.i18n import N_, tr

if TYPE_CHECKING:  # imported for types only: the context must not pull every part in
    from app.batch_tab.tab import BatchTab
    from app.embedding_tab.tab import EmbeddingTab
    from app.panels.dropout_panel import DropoutPanel
    from app.panels.fn_panel import FalseNegativePanel
    from app.panels.lens_panel import LensPanel
    from app.panels.setup_panel import SetupPanel
    from app.runs.controller import RunController
    from app.shell.settings import StudioSettings
    from app.state.run_corpus import SentenceIndex
    from app.state.run_model import RunModel
    from app.state.selection import Selection
    from app.state.view_state import ViewState
    from app.tools.toolbox import StudioTools
    from app.training_tab.plots import PlotGrid
    from PySide6.QtWidgets import QTabWidget

# Menus of the menu bar, by key, in this order. ``add_action`` takes a key, never a label.
MENUS: tuple[tuple[str, str], ...] = (
    ("file", N_("&File")),
    ("view", N_("&View")),
    ("presets", N_("&Presets")),
    ("compare", N_("&Compare")),
    ("export", N_("E&xport")),
    ("help", N_("&Help")),
)

AREAS = {"left": Qt.DockWidgetArea.LeftDockWidgetArea, "right": Qt.DockWidgetArea.RightDockWidgetArea,
         "bottom": Qt.DockWidgetArea.BottomDockWidgetArea}


@dataclass
class StudioParts:
    """The studio's widgets that tools may show, hide or grab. Filled by the window as
    it builds them; a part not (yet) built is None."""

    tabs: QTabWidget | None = None
    training: PlotGrid | None = None
    embedding: EmbeddingTab | None = None
    batch: BatchTab | None = None
    setup: SetupPanel | None = None
    lens: LensPanel | None = None
    false_negatives: FalseNegativePanel | None = None
    dropout: DropoutPanel | None = None
    tools: StudioTools | None = None
    docks: dict[str, QDockWidget] = field(default_factory=dict)


class StudioContext:
    """Handed to every panel and tool. Attributes:

    - ``run_model`` (:class:`~app.state.run_model.RunModel`): the shown run; written by
      the run controller only.
    - ``view_state`` (:class:`~app.state.view_state.ViewState`): shown snapshot, colour,
      sphere method, UMAP cadence.
    - ``selection`` (:class:`~app.state.selection.Selection`): selected sentence, pair,
      edges (corpus ids).
    - ``sentences`` (:class:`~app.state.run_corpus.SentenceIndex`): corpus id -> text.
    - ``runs`` (:class:`~app.runs.controller.RunController`): start, open, follow, stop.
    - ``settings``, ``runs_root``, ``torch_threads``; ``parts`` (:class:`StudioParts`).
    - ``dialog_parent``: the widget dialogs are parented to.
    """

    def __init__(self, window: QMainWindow, *, run_model: RunModel, view_state: ViewState, selection: Selection,
                 sentences: SentenceIndex, runs: RunController, settings: StudioSettings, runs_root: Path,
                 torch_threads: int | None, show_message: Callable[..., None]) -> None:
        self._window = window
        self.run_model = run_model
        self.view_state = view_state
        self.selection = selection
        self.sentences = sentences
        self.runs = runs
        self.settings = settings
        self.runs_root = Path(runs_root)
        self.torch_threads = torch_threads
        self.parts = StudioParts()
        self._show_message = show_message
        self._before_grab: list[Callable[[], Any]] = []
        self._menus: dict[str, QMenu] = {}
        bar = window.menuBar()
        for key, label in MENUS:
            menu = bar.addMenu(tr(label))
            menu.setObjectName(f"{key}Menu")
            self._menus[key] = menu

    # ------------------------------------------------------------------ services
    @property
    def dialog_parent(self) -> QWidget:
        """The widget dialogs and tool windows are parented to."""
        return self._window

    @property
    def top_window(self) -> QMainWindow:
        """The top-level window, for window-wide modes only (presentation mode turns it
        full screen, hides its bars, saves and restores its layout)."""
        return self._window

    def show_message(self, text: str, kind: str = "error",
                     actions: Sequence[tuple[str, Callable[[], Any]]] = ()) -> None:
        """A message in the window's bar (kind: "error", "warning", "info" or "ok"),
        with ``actions``: (label, callable) buttons beside it."""
        if actions:
            self._show_message(text, kind, actions)
        else:
            self._show_message(text, kind)

    def show_status(self, text: str, timeout_ms: int = 5000) -> None:
        """A transient line in the status bar."""
        self._window.statusBar().showMessage(text, timeout_ms)

    def menu(self, key: str) -> QMenu:
        """The menu of key ``key`` (see :data:`MENUS`)."""
        try:
            return self._menus[key]
        except KeyError:
            raise KeyError(f"no menu {key!r}; menus: {', '.join(self._menus)}") from None

    def add_action(self, menu: str, text: str, slot: Callable[..., Any] | None = None, *,
                   shortcut: str | QKeySequence | None = None, tooltip: str = "", checkable: bool = False,
                   window_wide: bool = False, name: str = "") -> QAction:
        """Add an action to menu ``menu`` (a key of :data:`MENUS`), connected to ``slot``.
        ``window_wide``: its shortcut also works while the menu bar is hidden."""
        a = QAction(text, self._window)
        if name:
            a.setObjectName(name)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut) if isinstance(shortcut, str) else shortcut)
        if tooltip:
            a.setToolTip(tooltip)
        a.setCheckable(checkable)
        if slot is not None:
            (a.toggled if checkable else a.triggered).connect(slot)
        self.menu(menu).addAction(a)
        if window_wide:
            self._window.addAction(a)
        return a

    def add_separator(self, menu: str) -> None:
        self.menu(menu).addSeparator()

    def add_window_action(self, action: QAction) -> None:
        """A shortcut of the window with no menu entry (presentation keys)."""
        self._window.addAction(action)

    def add_dock(self, widget: QWidget, title: str, name: str, area: str = "right", *, scroll: bool = True,
                 tabify_with: str | None = None, width: int | None = None, min_width: int | None = None,
                 view_menu: bool = True) -> QDockWidget:
        """Put ``widget`` in a dock (object name ``name``, for saved layouts) in ``area``
        ("left", "right", "bottom"); ``scroll`` wraps it in a scroll area so its minimum
        size never widens the window; ``tabify_with`` a dock name already added. Its
        toggle goes into the View menu. Returns the dock (also in ``parts.docks``)."""
        w = self._window
        dock = QDockWidget(title, w)
        dock.setObjectName(name)
        if scroll:
            sc = QScrollArea()
            sc.setWidgetResizable(True)
            sc.setFrameShape(QScrollArea.Shape.NoFrame)
            sc.setWidget(widget)
            if min_width:
                sc.setMinimumWidth(min_width)
            dock.setWidget(sc)
        else:
            dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        w.addDockWidget(AREAS[area], dock)
        if tabify_with is not None and tabify_with in self.parts.docks:
            w.tabifyDockWidget(self.parts.docks[tabify_with], dock)
        if width:
            w.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        if view_menu:
            self.menu("view").addAction(dock.toggleViewAction())
        self.parts.docks[name] = dock
        return dock

    def add_before_grab(self, fn: Callable[[], Any]) -> None:
        """``fn`` brings a part up to date before it is grabbed or exported (a hidden tab
        is not redrawn while hidden)."""
        self._before_grab.append(fn)

    def up_to_date(self) -> None:
        """Bring every part up to date for a grab or an export (hidden plots included)."""
        for fn in self._before_grab:
            fn()

    def show_tab(self, widget: QWidget) -> None:
        """Bring a central tab to the front."""
        tabs = self.parts.tabs
        if tabs is not None:
            tabs.setCurrentWidget(widget)

    def shown_snapshot(self) -> Any:
        """The snapshot the views show (the newest while following), or None."""
        snaps = self.run_model.snapshots
        if not snaps:
            return None
        i = self.view_state.snapshot_index
        return snaps[-1] if i < 0 or i >= len(snaps) else snaps[i]
