"""One batch's similarity matrix in either InfoNCE layout, with everything the studio's
batch view shows: cosines, logits, row-softmax probabilities, each row's cross-entropy,
the cells the mask removes and the false-negative policy's marks, and the orders the
rows can be shown in. Plain numpy out; no Qt.

The logits come from :func:`~simcse_core.losses.functional.batch_logits`, the function
the trainer's loss is computed through, so the picture and the loss cannot disagree:
the mean of :attr:`BatchMatrix.row_loss` is the InfoNCE loss of the batch
(:func:`~simcse_core.losses.functional.info_nce`, with the same masks).

Layouts (Gao et al. 2021; Chen et al. 2020; docs/science.md, "The two InfoNCE layouts")::

    simcse   rows z1_i (i < N), columns z2_j (and the hard negatives h_j after them)
             logits (N, N) or (N, 2N), labels arange(N)
    ntxent   rows and columns [z1_0, z2_0, z1_1, z2_1, ...] (the seed's [a1, a2, b1, b2])
             logits (2N, 2N), diagonal masked, labels [1, 0, 3, 2, ...] (i XOR 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

LAYOUTS = ("simcse", "ntxent")
REMOVED, ATTRACTED = 1, 2  # the false-negative marks (Snapshot.batch_fn)


@dataclass
class BatchMatrix:
    """One layout of one batch. Row / column ``r`` is sentence ``row_sentence[r]`` (its
    position in the batch) seen through view ``row_view[r]`` (1 or 2; columns: 3 for a
    hard negative). Arrays (R rows, C columns):

    - ``cos`` (R, C) float32 cosines (NaN on masked cells), ``logits`` (R, C) float32
      cos / t plus the hard-negative weight (-inf on masked cells), ``probs`` (R, C)
      float32 row softmax (0 on masked cells), ``labels`` (R,) each row's positive.
    - ``masked`` (R, C) bool: not in the softmax (the ntxent diagonal, removed false
      negatives); ``marks`` (R, C) int8 (:data:`REMOVED` / :data:`ATTRACTED`) or None.
    - ``row_loss`` (R,) float64 cross-entropy -log p(label) (attracted pairs: the mean of
      -log p over the row's positives, as the loss computes it); ``loss`` their mean.
    """

    variant: str
    temperature: float
    hard_negative_weight: float
    cos: np.ndarray
    logits: np.ndarray
    probs: np.ndarray
    labels: np.ndarray
    masked: np.ndarray
    marks: np.ndarray | None
    row_loss: np.ndarray
    row_sentence: np.ndarray
    row_view: np.ndarray
    col_sentence: np.ndarray
    col_view: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.logits.shape  # type: ignore[return-value]

    @property
    def loss(self) -> float:
        """The batch's loss: the mean of the rows' cross-entropies."""
        return float(self.row_loss.mean())

    @property
    def scale(self) -> float:
        """1/t, the logits' scale."""
        return 1.0 / self.temperature

    def positives(self, row: int) -> np.ndarray:
        """Columns counted as positives of ``row``: its label, and attracted pairs."""
        cols = [int(self.labels[row])]
        if self.marks is not None:
            extra = np.flatnonzero((self.marks[row] == ATTRACTED) & ~self.masked[row])
            cols += [int(c) for c in extra if c != self.labels[row]]
        return np.array(sorted(cols), dtype=np.int64)

    def logits_at(self, temperature: float) -> np.ndarray:
        """(R, C) float64 logits at another temperature t' (the lens's what-if): cos / t'
        plus the hard-negative weight, the same cells masked."""
        out = self.cos.astype(np.float64) / float(temperature)
        if self.hard_negative_weight and self.col_view.max(initial=0) == 3:
            n = self.shape[0]
            out[np.arange(n), n + np.arange(n)] += self.hard_negative_weight
        out[self.masked] = -np.inf
        return out

    def row_probs(self, row: int, temperature: float | None = None) -> np.ndarray:
        """(C,) float64 softmax of row ``row`` at ``temperature`` (default: the run's t)."""
        z = self.logits_at(self.temperature if temperature is None else temperature)[row]
        z = z - z[np.isfinite(z)].max()
        e = np.exp(z)
        return e / e.sum()

    def row_cross_entropy(self, row: int, temperature: float | None = None) -> float:
        """Row ``row``'s loss at ``temperature`` (default t): -log p(label), or the mean
        over its positives with attracted pairs."""
        p = self.row_probs(row, temperature)
        return float(-np.log(p[self.positives(row)]).mean())


def loss_settings(config: dict[str, Any]) -> tuple[str, float, float]:
    """(layout the run trains with, hard_negative_weight, tau_plus) from a run's config
    dict; losses other than the InfoNCE pair read as the ``simcse`` layout."""
    options = config.get("loss_options") or {}
    variant = str(config.get("loss_variant") or "simcse")
    hw = float(options.get("hard_negative_weight", config.get("hard_negative_weight", 0.0)) or 0.0)
    tau_plus = float(options.get("tau_plus", config.get("tau_plus", 0.0)) or 0.0)
    return (variant if variant in LAYOUTS else "simcse"), hw, tau_plus


def batch_matrix(z1: Any, z2: Any, temperature: float, variant: str, *, fn_marks: Any = None,
                 hard: Any = None, hard_negative_weight: float = 0.0) -> BatchMatrix:
    """The :class:`BatchMatrix` of views ``z1``, ``z2`` (N, D) at temperature t in layout
    ``variant``; ``fn_marks`` (N, N) int8 the snapshot's ``batch_fn``; ``hard`` (N, D)
    hard negatives (simcse layout only: appended as columns)."""
    from .losses.functional import batch_logits  # torch only when used

    if variant == "ntxent":
        hard = None
    marks = None if fn_marks is None else np.asarray(fn_marks, dtype=np.int8)
    removed = None if marks is None else marks == REMOVED
    logits, labels = batch_logits(z1, z2, temperature, variant, fn_mask=removed, hard_negatives=hard,
                                  hard_negative_weight=hard_negative_weight)
    return _assemble(variant, temperature, hard_negative_weight if hard is not None else 0.0,
                     np.asarray(logits, dtype=np.float32), marks, np.asarray(labels, dtype=np.int64))


def cosine_batch_matrix(sim: Any, temperature: float, fn_marks: Any = None) -> BatchMatrix:
    """The reference (simcse) layout from the (N, N) cosines cos(z1_i, z2_j) alone: what
    a run folder written before snapshots carried the views has (``batch_sim``)."""
    sim = np.asarray(sim, dtype=np.float64)
    n = sim.shape[0]
    logits = (sim / temperature).astype(np.float32)  # (N, N)
    marks = None if fn_marks is None else np.asarray(fn_marks, dtype=np.int8)
    if marks is not None:
        logits[(marks == REMOVED) & ~np.eye(n, dtype=bool)] = -np.inf
    return _assemble("simcse", temperature, 0.0, logits, marks)


def _assemble(variant: str, temperature: float, hard_negative_weight: float, logits: np.ndarray,
              pair_marks: np.ndarray | None, labels: np.ndarray | None = None) -> BatchMatrix:
    """A :class:`BatchMatrix` from its (R, C) masked logits, the (N, N) pair marks and
    the labels (default: those of the layout)."""
    rows, cols = logits.shape
    n = rows // 2 if variant == "ntxent" else rows
    if labels is None:
        labels = np.arange(2 * n) ^ 1 if variant == "ntxent" else np.arange(n)  # (R,)
    masked = ~np.isfinite(logits)  # (R, C)
    marks = None
    if pair_marks is not None:
        full = np.repeat(np.repeat(pair_marks, 2, axis=0), 2, axis=1) if variant == "ntxent" else pair_marks
        marks = np.zeros((rows, cols), dtype=np.int8)
        marks[:, : full.shape[1]] = full  # the hard block has no marks
    cos = logits.astype(np.float64) * temperature
    if cols == 2 * n and variant == "simcse" and hard_negative_weight:
        cos[np.arange(n), n + np.arange(n)] -= hard_negative_weight * temperature
    cos = np.where(masked, np.nan, cos).astype(np.float32)
    row_loss, probs = row_losses(logits, labels, marks)
    rs, rv, cs, cv = _row_names(n, variant, cols)
    return BatchMatrix(variant, float(temperature), float(hard_negative_weight), cos, logits, probs, labels, masked,
                       marks, row_loss, rs, rv, cs, cv)


def row_losses(logits: np.ndarray, labels: np.ndarray, marks: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(R,) float64 per-row cross-entropy and (R, C) float32 row-softmax probabilities of
    masked logits (-inf cells take no part); rows with attracted pairs (``marks`` 2)
    average -log p over their positives, as :func:`~simcse_core.losses.functional.info_nce`."""
    z = logits.astype(np.float64)
    top = z.max(axis=1, keepdims=True)  # (R, 1); masked cells are -inf
    e = np.exp(z - top)  # exp(-inf) = 0 on masked cells
    lse = top[:, 0] + np.log(e.sum(1))  # (R,)
    log_p = z - lse[:, None]  # (R, C)
    rows = np.arange(len(labels))
    positive = np.zeros(z.shape, dtype=bool)
    positive[rows, labels] = True
    if marks is not None:
        positive |= (marks == ATTRACTED) & np.isfinite(z)
    row_loss = -np.where(positive, log_p, 0.0).sum(1) / positive.sum(1)
    return row_loss, np.exp(log_p).astype(np.float32)


def _row_names(n: int, variant: str, cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row sentence, row view, column sentence, column view) for a layout."""
    if variant == "ntxent":
        k = np.arange(2 * n)
        return k // 2, k % 2 + 1, k // 2, k % 2 + 1
    cs = np.arange(cols) % n
    cv = np.where(np.arange(cols) < n, 2, 3)
    return np.arange(n), np.ones(n, dtype=np.int64), cs, cv


def display_order(sentence_order: np.ndarray, variant: str, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column permutations of a layout that show the sentences in
    ``sentence_order`` (N,): both views of a sentence stay together (ntxent), the hard
    block keeps its own columns in the same order (simcse). The same permutation on
    rows and columns keeps every positive beside the diagonal."""
    order = np.asarray(sentence_order, dtype=np.int64)
    n = len(order)
    if variant == "ntxent":
        rows = np.stack([2 * order, 2 * order + 1], axis=1).reshape(-1)
        return rows, rows
    col = order if cols == n else np.concatenate([order, n + order])
    return order, col


def cluster_order(z1: Any, z2: Any, seed: int = 0) -> np.ndarray:
    """An order of the batch's N sentences that puts similar ones together: k-means on
    the sentences' mean views (k about N / 16, 2 to 16), clusters chained greedily from
    the largest by their centroids' cosine, and inside a cluster a nearest-neighbour
    chain starting from the sentence nearest its centroid."""
    from .metrics import l2_normalize
    from .projection import kmeans

    s = l2_normalize(np.asarray(z1, dtype=np.float64) + np.asarray(z2, dtype=np.float64))  # (N, D)
    n = s.shape[0]
    if n <= 2:
        return np.arange(n)
    k = int(min(16, max(2, n // 16)))
    labels = kmeans(s, k, seed=seed, n_init=2)
    cents = l2_normalize(np.stack([s[labels == c].mean(0) for c in range(labels.max() + 1)]))  # (k, D)
    chain = _greedy_chain(cents @ cents.T, 0)
    out: list[np.ndarray] = []
    for c in chain:
        members = np.flatnonzero(labels == c)
        sub = s[members]
        start = int(np.argmax(sub @ cents[c]))
        out.append(members[_greedy_chain(sub @ sub.T, start)])
    return np.concatenate(out)


def _greedy_chain(sim: np.ndarray, start: int) -> np.ndarray:
    """Visit every index once, always going to the most similar unvisited one."""
    n = sim.shape[0]
    seen = np.zeros(n, dtype=bool)
    order = [start]
    seen[start] = True
    cur = start
    for _ in range(n - 1):
        nxt = int(np.argmax(np.where(seen, -np.inf, sim[cur])))
        order.append(nxt)
        seen[nxt] = True
        cur = nxt
    return np.asarray(order, dtype=np.int64)


__all__ = ["ATTRACTED", "LAYOUTS", "REMOVED", "BatchMatrix", "batch_matrix", "cluster_order", "cosine_batch_matrix",
           "display_order", "loss_settings", "row_losses"]
