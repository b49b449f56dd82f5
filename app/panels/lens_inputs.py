"""What the temperature lens computes on, without Qt: the last batch's cosine matrix
and the probe set's embeddings, and which row of which serves an anchor.

:class:`LensInputs` keeps the batch of the shown snapshot (``batch_sim`` (B, B),
``batch_ids`` (B,), its temperature and step) and the probe set (corpus ids (P,) and
a loader of the (P, D) embeddings, called only when a probe anchor is shown: a run
folder may keep them on disk). :meth:`LensInputs.resolve` picks the anchor's row: from
the batch when the anchor is in it (what the loss saw), else from the probe set, whose
row against its nearest :data:`PROBE_LIMIT` - 1 sentences is cached per anchor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simcse_core.snapshot import Snapshot

PROBE_LIMIT = 512  # a probe anchor is scored against its nearest PROBE_LIMIT - 1 probe sentences

ProbeLoader = Callable[[], "np.ndarray | None"]


@dataclass(frozen=True)
class LensInput:
    """One anchor's data for :func:`simcse_core.false_negatives.lens`."""

    sim: np.ndarray  # (B, B) batch matrix, or (K,) the anchor's row against K probe sentences
    anchor: int  # the anchor's row (batch) or position in ``sim`` (probe)
    ids: np.ndarray  # corpus ids of ``sim``'s columns
    temperature: float  # the training temperature of that data
    source: str  # "batch" or "probe"


class LensInputs:
    """The batch and probe data the lens reads (see the module doc). ``probe_row``:
    corpus id -> row of the probe set (the run model's :meth:`~app.state.run_model.RunModel.probe_row`)."""

    def __init__(self, probe_row: Callable[[int], int | None]) -> None:
        self.probe_row = probe_row
        self.clear()

    def clear(self) -> None:
        self.batch_sim: np.ndarray | None = None
        self.batch_ids: np.ndarray | None = None
        self.batch_row: dict[int, int] = {}  # a batch's own rows (a batch is not the probe set)
        self.batch_t = 0.05
        self.step: int | None = None
        self.probe_ids: np.ndarray | None = None
        self.probe_t = 0.05
        self._probe_loader: ProbeLoader | None = None
        self._probe_emb: np.ndarray | None = None
        self._probe_cache: tuple[int, LensInput] | None = None

    @property
    def has_batch(self) -> bool:
        return self.batch_sim is not None

    def set_batch(self, snap: Snapshot) -> bool:
        """Take the snapshot's batch; False when it has none."""
        if snap.batch_sim is None or snap.batch_ids is None:
            return False
        self.batch_sim = np.ascontiguousarray(snap.batch_sim)
        self.batch_ids = np.asarray(snap.batch_ids, dtype=np.int64)
        self.batch_row = {int(c): r for r, c in enumerate(self.batch_ids)}
        self.batch_t = float(snap.temperature)
        self.step = int(snap.step)
        return True

    def set_probe(self, ids: np.ndarray, loader: ProbeLoader, temperature: float) -> None:
        """The probe set: corpus ids (P,) and a loader of its (P, D) embeddings."""
        self.probe_ids = np.asarray(ids, dtype=np.int64)
        self._probe_loader = loader
        self._probe_emb = None
        self.probe_t = float(temperature)
        self._probe_cache = None

    def forget_anchor(self, anchor_id: int | None) -> None:
        """Drop the cached probe row unless it is ``anchor_id``'s."""
        if self._probe_cache is not None and self._probe_cache[0] != anchor_id:
            self._probe_cache = None

    def probe_matrix(self) -> np.ndarray | None:
        """The (P, D) probe embeddings as unit rows in float32 (the run model stores
        float16), loaded on first use."""
        if self._probe_emb is None and self._probe_loader is not None:
            e = self._probe_loader()
            if e is None:
                return None
            e = np.asarray(e, dtype=np.float32)
            n = np.linalg.norm(e, axis=1, keepdims=True)
            self._probe_emb = e / np.where(n > 0, n, 1.0)
        return self._probe_emb

    def _probe_position(self, anchor_id: int | None) -> int | None:
        if anchor_id is None or self.probe_ids is None:
            return None
        r = self.probe_row(int(anchor_id))
        return r if r is not None and 0 <= r < len(self.probe_ids) else None

    def resolve(self, anchor_id: int | None, want: str = "batch") -> LensInput | None:
        """The lens input of ``anchor_id`` (None: the batch's first sentence, until one
        is chosen). ``want``: "batch" or "probe", the preferred source when the anchor
        is in both."""
        in_batch = self.batch_sim is not None and (anchor_id is None or anchor_id in self.batch_row)
        row = self._probe_position(anchor_id)
        if (row is not None and (want == "probe" or not in_batch) and self.probe_matrix() is not None):
            return self._probe_input(int(anchor_id), row)  # type: ignore[arg-type]
        if in_batch:
            assert self.batch_sim is not None and self.batch_ids is not None
            aid = int(self.batch_ids[0]) if anchor_id is None else int(anchor_id)
            return LensInput(self.batch_sim, self.batch_row[aid], self.batch_ids, self.batch_t, "batch")
        return None

    def _probe_input(self, anchor_id: int, r: int) -> LensInput:
        c = self._probe_cache
        if c is not None and c[0] == anchor_id:
            return c[1]
        e = self.probe_matrix()
        assert e is not None and self.probe_ids is not None
        row = e @ e[r]  # (P,) cosines of the anchor with every probe sentence
        p = row.shape[0]
        if p > PROBE_LIMIT:
            # the lens on a row is O(P^2) in the engine: keep the nearest PROBE_LIMIT - 1
            others = np.delete(np.arange(p), r)
            near = others[np.argpartition(-row[others], PROBE_LIMIT - 2)[: PROBE_LIMIT - 1]]
            keep = np.concatenate([[r], near])
        else:
            keep = np.arange(p)
        got = LensInput(np.ascontiguousarray(row[keep]), int(np.flatnonzero(keep == r)[0]), self.probe_ids[keep],
                        self.probe_t, "probe")
        self._probe_cache = (anchor_id, got)
        return got
