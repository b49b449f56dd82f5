"""What the person is looking at, shared by every view and panel.

Views (sphere, maps, UMAP, neighbour panel) and the temperature/false-negative panels
never call each other: they talk through one :class:`Selection` owned by the main
window. Everything is in **corpus ids** (the ids in ``Snapshot.batch_ids`` and
``Snapshot.probe_ids``): a view maps a corpus id to its probe row itself
(``RunModel.probe_row``), and simply shows nothing for a sentence that is not in the
probe set. The snapshot shown is not here: it is ``ViewState.snapshot_index``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal


class Selection(QObject):
    """Signals (all emitted on the GUI thread):

    - ``selected(object)``: the selected corpus id, or None.
    - ``pair_highlighted(object)``: a (corpus id, corpus id) pair to highlight (a
      false-negative candidate), or None.
    - ``edges_changed(object)``: (anchor id, target ids (k,), weights (k,)) for edges
      from an anchor to its hardest negatives, thickness by weight; or None.
    """

    selected = Signal(object)
    pair_highlighted = Signal(object)
    edges_changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current: int | None = None
        self.pair: tuple[int, int] | None = None
        self.edges: tuple[int, np.ndarray, np.ndarray] | None = None

    def select(self, corpus_id: int | None) -> None:
        cid = None if corpus_id is None else int(corpus_id)
        if cid != self.current:
            self.current = cid
            self.selected.emit(cid)

    def highlight_pair(self, pair: tuple[int, int] | None) -> None:
        p = None if pair is None else (int(pair[0]), int(pair[1]))
        if p != self.pair:
            self.pair = p
            self.pair_highlighted.emit(p)

    def set_edges(self, anchor: int | None, targets: np.ndarray | None = None, weights: np.ndarray | None = None) -> None:
        if anchor is None or targets is None or weights is None or len(targets) == 0:
            self.edges = None
        else:
            self.edges = (int(anchor), np.asarray(targets, dtype=np.int64), np.asarray(weights, dtype=np.float64))
        self.edges_changed.emit(self.edges)
