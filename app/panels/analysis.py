"""The temperature lens and the false-negative panel, docked and kept in step with the
run model.

:func:`add_analysis_panels` creates both panels for a studio context, docks them
(right area, tabified, lens in front; object names ``lensDock`` and ``fnDock``, toggles
in the View menu) and keeps them in step through :class:`AnalysisFeed`: every snapshot
added to the run model (live or replayed from a run folder; ``None`` when the run is
cleared) goes to both panels, the lens shows the view state's ``snapshot_index``, and
sentences come from the context's :class:`~app.state.run_corpus.SentenceIndex` (the
probe texts, then the run's corpus read in a worker).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from simcse_core.snapshot import Snapshot

from app.panels.fn_panel import FalseNegativePanel
from app.panels.lens_panel import LensPanel

if TYPE_CHECKING:
    from app.shell.context import StudioContext

LENS_DOCK = "lensDock"
FN_DOCK = "fnDock"


class AnalysisFeed(QObject):
    """Feeds the lens and the false-negative panel from the context's run model."""

    def __init__(self, ctx: StudioContext, lens: LensPanel, fn: FalseNegativePanel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.lens = lens
        self.fn = fn
        self._probe_shown = False  # the sentence index has this run's probe texts
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
            texts.clear()
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
        lazy = self._lazy_probe_loader(snap)
        if self.ctx.view_state.follow_newest:
            self.lens.set_snapshot(snap)
            if lazy is not None and model.probe_ids is not None:
                self.lens.set_probe(model.probe_ids, lazy, float(snap.temperature))
        self.fn.add_snapshot(snap)

    def _lazy_probe_loader(self, snap: Snapshot) -> Callable[[], np.ndarray | None] | None:
        """For a snapshot whose probe embeddings stay on disk (the run model's
        ``lazy_probe``): that snapshot's loader (it reads one file; safe in a worker)."""
        if snap.probe_embeddings is not None:
            return None
        return self.ctx.run_model.lazy_probe.get(snap.step)

    def _on_snapshot_index(self, index: int) -> None:
        """The timeline shows another snapshot: the lens shows its batch (or the newest
        batch before it when it has none)."""
        snaps = self.ctx.run_model.snapshots
        if not snaps:
            return
        i = index if 0 <= index < len(snaps) else len(snaps) - 1
        snap = next((s for s in reversed(snaps[: i + 1]) if s.batch_sim is not None), snaps[i])
        self.lens.set_snapshot(snap)

    def _texts_changed(self) -> None:
        self.lens.refresh_texts()
        self.fn.refresh_texts()


def add_analysis_panels(ctx: StudioContext) -> tuple[LensPanel, FalseNegativePanel]:
    """Create the "Temperature lens" and "False negatives" docks for ``ctx`` and keep
    them in step with its run model. Sets ``ctx.parts.lens`` and
    ``ctx.parts.false_negatives``; returns (lens, false-negative panel)."""
    lens = LensPanel(ctx)
    fn = FalseNegativePanel(ctx)
    ctx.add_separator("view")
    lens_dock = ctx.add_dock(lens, "Temperature lens", LENS_DOCK, "right")
    ctx.add_dock(fn, "False negatives", FN_DOCK, "right", tabify_with=LENS_DOCK)
    lens_dock.raise_()
    ctx.parts.lens = lens
    ctx.parts.false_negatives = fn
    AnalysisFeed(ctx, lens, fn, parent=lens)  # owned by the lens: lives as long as the panels
    return lens, fn
