"""The temperature lens and the false-negative panel, docked and kept in step with the
run model.

:func:`add_analysis_panels` creates both panels for a studio context, docks them
(right area, tabified, lens in front; object names ``lensDock`` and ``fnDock``, toggles
in the View menu) and keeps them in step through :class:`AnalysisFeed`: every snapshot
added to the run model (live or replayed from a run folder; ``None`` when the run is
cleared) goes to both panels, the lens shows the view state's ``snapshot_index``, and
sentences come from the context's :class:`~app.state.run_corpus.SentenceIndex` (the
probe texts, then the run's corpus read in a worker). A third dock, "Dropout views"
(``dropoutDock``, :class:`~app.panels.dropout_panel.DropoutPanel`), is tabified with
them; it follows the run model, the view state and the selection by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow
from superqt.utils import create_worker, qthrottled

from simcse_core.snapshot import Snapshot

from app.i18n import tr
from app.panels.dropout_panel import DropoutPanel
from app.panels.fn_panel import FalseNegativePanel
from app.panels.lens_panel import LensPanel

if TYPE_CHECKING:
    from app.shell.context import StudioContext

LENS_DOCK = "lensDock"
FN_DOCK = "fnDock"
DROPOUT_DOCK = "dropoutDock"
DOCK_SHARE, DOCK_MIN, DOCK_MAX = 0.32, 320, 640  # the dock column: share of the window width, bounds in px
LENS_HEIGHT_SHARE = 0.6  # of the window height, for the lens / false-negative dock
BATCH_LOOKBACK = 8  # snapshots tried backwards for a batch read back from the run folder
LIVE_LENS_MS = 1000  # a live run's newest snapshot reaches the lens at most this often (newest wins)


def read_batch(batch_arrays: Callable[[int], tuple[np.ndarray | None, np.ndarray | None]], index: int,
               request: int) -> tuple[int, int, np.ndarray | None, np.ndarray | None]:
    """(request, snapshot index, batch_sim, batch_ids) of the newest snapshot at or
    before ``index`` that has a batch, read through the run model's ``batch_arrays``
    (in a worker: it reads files). The arrays are None when none has one."""
    for j in range(index, max(-1, index - BATCH_LOOKBACK - 1), -1):
        sim, ids = batch_arrays(j)
        if sim is not None and ids is not None:
            return request, j, sim, ids
    return request, index, None, None


class AnalysisFeed(QObject):
    """Feeds the lens and the false-negative panel from the context's run model."""

    def __init__(self, ctx: StudioContext, lens: LensPanel, fn: FalseNegativePanel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.lens = lens
        self.fn = fn
        self._probe_shown = False  # the sentence index has this run's probe texts
        self._batch_request = 0  # the newest read-back of an old snapshot's batch
        self.batch_loads = 0  # read-backs started (for tests)
        # live snapshots: the lens follows the newest at most every LIVE_LENS_MS, on the
        # trailing edge, so its recompute and paint fall between the embedding tab's
        # redraws (one long GUI-thread pause becomes two short ones)
        self._live = qthrottled(self._show_live, timeout=LIVE_LENS_MS, leading=False, parent=self)
        self.live_shown = 0  # snapshots the lens was given while following (for tests)
        self._live_batch: Snapshot | None = None  # the newest snapshot with a batch not yet shown
        model = ctx.run_model
        model.subscribe(self._on_model)
        ctx.sentences.changed.connect(self._texts_changed)
        ctx.view_state.connect("snapshot_index", self._on_snapshot_index)
        # a run already in the model (panels added after a run was opened)
        self._on_model(None, reset=False)
        for s in model.snapshots:
            self._on_model(s)

    def _on_model(self, snap: Snapshot | None, reset: bool = True) -> None:
        model = self.ctx.run_model
        texts = self.ctx.sentences
        if snap is None:
            self._probe_shown = False
            self._batch_request += 1  # a read-back under way belongs to the old run
            texts.clear()
            self._live.cancel()
            self._live_batch = None
            if reset:
                self.lens.clear()
            self.fn.clear(run_dir=model.run_dir, config=model.config)
            texts.load_corpus(model.config)
            return
        if not self._probe_shown and model.probe_ids is not None and model.probe_texts is not None:
            texts.set_probe(model.probe_ids, model.probe_texts)
            self._probe_shown = True
        if model.config and not self.fn.config:
            self.fn.set_config(model.config)
            texts.load_corpus(model.config)
        if self.ctx.view_state.follow_newest:
            if snap.batch_sim is not None:
                self._live_batch = snap
            if self.ctx.runs.training and not (snap.done or snap.stopped):
                self._live(snap, model.generation)
            else:  # a run folder read at once, a run's last snapshot: no pacing
                self._live.cancel()
                self._show_live(snap, model.generation)
        self.fn.add_snapshot(snap)

    def _show_live(self, snap: Snapshot, generation: int) -> None:
        if not self.ctx.view_state.follow_newest or generation != self.ctx.run_model.generation:
            return  # the person went back on the timeline, or the run was cleared, meanwhile
        self.live_shown += 1
        held, self._live_batch = self._live_batch, None
        if held is not None and held is not snap:  # the newest snapshot has no batch: the newest one that has
            self.lens.set_snapshot(held)
        self.lens.set_snapshot(snap)
        lazy = self._lazy_probe_loader(snap)
        if lazy is not None and self.ctx.run_model.probe_ids is not None:
            self.lens.set_probe(self.ctx.run_model.probe_ids, lazy, float(snap.temperature))

    def _lazy_probe_loader(self, snap: Snapshot) -> Callable[[], np.ndarray | None] | None:
        """For a snapshot whose probe embeddings stay on disk (the run model's
        ``lazy_probe``): that snapshot's loader (it reads one file; safe in a worker)."""
        if snap.probe_embeddings is not None:
            return None
        return self.ctx.run_model.lazy_probe.get(snap.step)

    def _on_snapshot_index(self, index: int) -> None:
        """The timeline shows another snapshot: the lens shows its batch (or the newest
        batch before it when it has none). A snapshot whose arrays left memory (the run
        model keeps the newest few) is read back from the run folder in a worker; the
        newest request wins."""
        snaps = self.ctx.run_model.snapshots
        if not snaps:
            return
        i = index if 0 <= index < len(snaps) else len(snaps) - 1
        self._batch_request += 1
        if snaps[i].batch_sim is not None:
            self.lens.set_snapshot(snaps[i])
            return
        if not self.ctx.run_model.run_dir:  # nothing on disk: the newest batch in memory before it
            snap = next((s for s in reversed(snaps[: i + 1]) if s.batch_sim is not None), snaps[i])
            self.lens.set_snapshot(snap)
            return
        self.lens.show_loading(int(snaps[i].step))
        self.batch_loads += 1
        self._batch_worker = create_worker(read_batch, self.ctx.run_model.batch_arrays, i, self._batch_request,
                                           _connect={"returned": self._batch_read})

    def _batch_read(self, out: tuple[int, int, np.ndarray | None, np.ndarray | None]) -> None:
        request, j, sim, ids = out
        snaps = self.ctx.run_model.snapshots
        if request != self._batch_request or not 0 <= j < len(snaps) or sim is None or ids is None:
            return  # a newer request, another run, or no batch on disk
        self.lens.set_snapshot(replace(snaps[j], batch_sim=sim, batch_ids=ids), defer=False)

    def _texts_changed(self) -> None:
        self.lens.refresh_texts()
        self.fn.refresh_texts()


def dock_width(window_width: int) -> int:
    """The width of the lens / false-negative dock column for a window this wide: room
    for the lens chart and the candidate table's sentences (>= 30 characters each at
    1920 px), without squeezing the centre."""
    return int(min(max(DOCK_SHARE * window_width, DOCK_MIN), DOCK_MAX))


class DockFitter(QObject):
    """Sizes the lens / false-negative dock to the window when it is shown or resized:
    :func:`dock_width` wide and :data:`LENS_HEIGHT_SHARE` of the window's height (the
    neighbours dock above takes the rest). It stops once the person presses on a dock
    separator (sizing the docks themselves), and never overrides a layout restored
    from the settings."""

    def __init__(self, window: QMainWindow, dock: QDockWidget, restored: bool) -> None:
        super().__init__(window)
        self.window = window
        self.dock = dock
        self.done = restored
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if self.done or obj is not self.window:
            return False
        kind = event.type()
        if kind in (QEvent.Type.Show, QEvent.Type.Resize):
            QTimer.singleShot(0, self.fit)
        elif kind == QEvent.Type.MouseButtonPress and self.window.childAt(event.position().toPoint()) is None:
            self.done = True  # a press on a dock separator: the person sizes the docks from now on
        return False

    def fit(self) -> None:
        w, dock = self.window, self.dock
        if self.done or not w.isVisible() or w.isFullScreen() or dock.isFloating():
            return
        w.resizeDocks([dock], [dock_width(w.width())], Qt.Orientation.Horizontal)
        w.resizeDocks([dock], [int(LENS_HEIGHT_SHARE * w.height())], Qt.Orientation.Vertical)


def add_analysis_panels(ctx: StudioContext) -> tuple[LensPanel, FalseNegativePanel]:
    """Create the "Temperature lens", "False negatives" and "Dropout views" docks for
    ``ctx`` and keep them in step with its run model. Sets ``ctx.parts.lens``,
    ``ctx.parts.false_negatives`` and ``ctx.parts.dropout``; returns (lens,
    false-negative panel)."""
    lens = LensPanel(ctx)
    fn = FalseNegativePanel(ctx)
    ctx.add_separator("view")
    lens_dock = ctx.add_dock(lens, tr("Temperature lens"), LENS_DOCK, "right")
    ctx.add_dock(fn, tr("False negatives"), FN_DOCK, "right", tabify_with=LENS_DOCK)
    dropout = DropoutPanel(ctx)  # follows the run model and the selection itself
    dropout_dock = ctx.add_dock(dropout, tr("Dropout views"), DROPOUT_DOCK, "right", tabify_with=FN_DOCK)
    dropout_dock.visibilityChanged.connect(dropout.dock_shown)
    ctx.parts.dropout = dropout
    lens_dock.raise_()
    restored = ctx.settings.window_state()[1] is not None
    DockFitter(ctx.top_window, lens_dock, restored)  # owned by the window
    ctx.parts.lens = lens
    ctx.parts.false_negatives = fn
    AnalysisFeed(ctx, lens, fn, parent=lens)  # owned by the lens: lives as long as the panels
    return lens, fn
