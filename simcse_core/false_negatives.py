"""False-negative inspection and the temperature lens, on numpy arrays.

A *false negative* is a sentence the contrastive loss pushes away from an anchor although
it means the same thing (a paraphrase, an exact or near duplicate). This module finds
candidates, scores the detectors against a ground truth, keeps a person's triage
decisions, and shows how the temperature distributes the loss over the negatives.

Detectors (each returns a list of :class:`Candidate`):

- :func:`detect_threshold` -- cosine on the probe set at or above a threshold.
  *Unordered*: one candidate per pair, ``anchor`` = the earlier row.
- :func:`detect_duplicates` -- exact duplicates (``"duplicate"``) and duplicates after
  :func:`simcse_core.data.normalize_text` (case, punctuation, whitespace:
  ``"near_duplicate"``). *Unordered*.
- :func:`detect_topk` -- false-negative cancellation (Huynh et al. 2022): among the
  anchor's k most similar rows *and* at or above a threshold. *Directed*: the rule is
  per anchor, so a->b and b->a may both appear.
- :func:`detect_reference` -- DCLR (Zhou et al. 2022): the cosine of a frozen reference
  model (the caller encodes the probe set with it) at or above a threshold. *Unordered*.
- :func:`detect_in_batch` -- the same rules on the last batch's N x N cross-view cosine
  matrix (first view i against second view j, positives on the diagonal). *Directed*
  (the matrix is not symmetric); ``weight`` = r_ij at the given temperature.
- :func:`detect_all` -- the enabled probe-set detectors, one candidate per unordered pair
  with the reasons merged (``"threshold+topk"``).

The probe-set searches run in row blocks of the cosine matrix (computed in the
embeddings' dtype, float32 for encoder output), so a 20,000 x 384 probe set never
materialises a 20,000 x 20,000 matrix.

Temperature and hardness (Wang and Liu 2021). For anchor i with positive s_ii and
negatives s_ij, the relative penalty on negative j is
``r_ij = exp(s_ij/t) / sum_{k neg} exp(s_ik/t)``, a Boltzmann distribution over the
negatives' cosines (:func:`simcse_core.metrics.hardness_weights`):

- t -> 0: all the weight goes to the hardest negative (r -> one-hot on argmax s_ij,
  entropy -> 0, exp(H) -> 1) and the loss -log P_ii tends to
  ``(1/t) * max(s_max - s_ii, 0)``: a margin-0 triplet loss on the single hardest
  negative. Small t spreads the space uniformly but pushes paraphrases apart.
- t -> infinity: every negative weighs the same (r_ij -> 1/(N-1), exp(H) -> N-1) and the
  loss tends to log N: nothing is hard, semantically close sentences are tolerated.

:func:`lens` shows one anchor's negatives sorted by cosine with r_ij at t and at a
what-if t' side by side; :func:`batch_lens_histograms` summarises a whole batch. Both
cache :func:`~simcse_core.metrics.hardness_weights` per (matrix, temperature), so moving
the t' slider recomputes one temperature only, and clicking another anchor recomputes
nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import _fail, normalize_text
from .metrics import Hardness, hardness_weights

REASONS: tuple[str, ...] = ("threshold", "duplicate", "near_duplicate", "topk", "reference")
"""Detector reasons, in the order merged reasons are written (``"threshold+topk"``)."""

STATUSES: tuple[str, ...] = ("confirmed", "rejected", "pending")

TRIAGE_JSON = "triage.json"
TRIAGE_CSV = "triage.csv"

_BLOCK = 1024  # rows of the probe cosine matrix computed at once (at most)
_BLOCK_ENTRIES = 1 << 23  # and at most this many entries per block (32 MB in float32)


def _rows_per_block(block: int, p: int) -> int:
    return max(1, min(int(block), _BLOCK_ENTRIES // max(p, 1)))


# =======================================================================================
# Candidates
# =======================================================================================


@dataclass
class Candidate:
    """One suspected false negative.

    - ``anchor``, ``candidate``: corpus ids.
    - ``cosine``: current cosine of the pair (``nan`` when unknown, e.g. a duplicate found
      from texts alone or a reference detection without current embeddings).
    - ``reason``: ``"threshold"``, ``"duplicate"``, ``"near_duplicate"``, ``"topk"``,
      ``"reference"`` or several joined with ``+`` (in that order).
    - ``step``: training step of the embeddings / batch, ``None`` when not known.
    - ``source``: ``"probe"`` (a fixed probe set) or ``"batch"`` (the last batch).
    - ``ref_cosine``: cosine of the frozen reference model, when one was used.
    - ``weight``: r_ij of the candidate as a negative of the anchor at a temperature
      (in-batch detections); ``None`` otherwise.
    """

    anchor: int
    candidate: int
    cosine: float
    reason: str
    step: int | None = None
    source: str = "probe"
    ref_cosine: float | None = None
    weight: float | None = None

    @property
    def pair(self) -> tuple[int, int]:
        """The unordered pair (smaller id, larger id)."""
        return _key(self.anchor, self.candidate)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(self.reason.split("+"))


def _key(a: int, b: int) -> tuple[int, int]:
    a, b = int(a), int(b)
    return (a, b) if a <= b else (b, a)


def _merge_reasons(*reasons: str) -> str:
    parts = {p for r in reasons for p in r.split("+") if p}
    known = [r for r in REASONS if r in parts]
    return "+".join(known + sorted(parts - set(known)))


def _as_ids(ids: Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
    if ids is None:
        return np.arange(n, dtype=np.int64)
    out = np.asarray(ids, dtype=np.int64).reshape(-1)
    if out.shape[0] != n:
        raise ValueError(f"ids has {out.shape[0]} entries for {n} rows")
    return out


def _as_emb(emb: np.ndarray) -> np.ndarray:
    e = np.asarray(emb)
    if e.ndim != 2:
        raise ValueError(f"embeddings must be (P, D), got shape {e.shape}")
    if e.dtype not in (np.float32, np.float64):
        e = e.astype(np.float32)
    return np.ascontiguousarray(e)


def _opt_float(x: float | None) -> float | None:
    return None if x is None else float(x)


# =======================================================================================
# Block-wise searches on the probe set
# =======================================================================================


def pairs_above(
    emb: np.ndarray, threshold: float, ids: np.ndarray | None = None, block: int = _BLOCK
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices (i, j), i < j, with ``emb[i] . emb[j] >= threshold``, and their
    cosines; pairs whose ids are equal are skipped. Computed in row blocks against the
    rows from the block on (the upper triangle only), in the embeddings' dtype."""
    e = _as_emb(emb)
    p = e.shape[0]
    idv = _as_ids(ids, p)
    block = _rows_per_block(block, p)
    out_i, out_j, out_c = [], [], []
    for s in range(0, p, block):
        stop = min(s + block, p)
        sim = e[s:stop] @ e[s:].T  # (B, P - s)
        ii, jj = np.nonzero(sim >= threshold)
        jj_abs = jj + s
        ii_abs = ii + s
        keep = (jj_abs > ii_abs) & (idv[ii_abs] != idv[jj_abs])
        out_i.append(ii_abs[keep])
        out_j.append(jj_abs[keep])
        out_c.append(sim[ii[keep], jj[keep]].astype(np.float64))
    if not out_i:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_c)


def topk_above(
    emb: np.ndarray, k: int, threshold: float, ids: np.ndarray | None = None, block: int = _BLOCK
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed (i, j): j among row i's ``k`` most similar other rows and
    ``emb[i] . emb[j] >= threshold``; rows with the same id as i are not candidates.
    Ties at the k-th place are broken arbitrarily. Computed in row blocks."""
    e = _as_emb(emb)
    p = e.shape[0]
    idv = _as_ids(ids, p)
    k = int(k)
    if k <= 0 or p < 2:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    kk = min(k, p - 1)
    block = _rows_per_block(block, p)
    out_i, out_j, out_c = [], [], []
    for s in range(0, p, block):
        stop = min(s + block, p)
        sim = e[s:stop] @ e.T  # (B, P)
        rows = np.arange(s, stop)
        # Only entries at or above the threshold can qualify; among them, a row keeps
        # its k largest (= its top k overall that clear the threshold).
        r, c = np.nonzero(sim >= threshold)
        keep = idv[rows[r]] != idv[c]  # not self (nor a same-id copy)
        r, c = r[keep], c[keep]
        v = sim[r, c]
        order = np.lexsort((-v, r))  # by row, then cosine descending
        r, c, v = r[order], c[order], v[order]
        rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
        sel = rank < kk
        out_i.append(rows[r[sel]])
        out_j.append(c[sel].astype(np.int64))
        out_c.append(v[sel].astype(np.float64))
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_c)


def _row_cosines(emb: np.ndarray | None, i: np.ndarray, j: np.ndarray) -> np.ndarray | None:
    if emb is None:
        return None
    e = _as_emb(emb)
    if len(i) == 0:
        return np.zeros(0)
    return np.einsum("ij,ij->i", e[i].astype(np.float64), e[j].astype(np.float64))


def _sort(cands: list[Candidate]) -> list[Candidate]:
    def key(c: Candidate) -> tuple[float, float, int, int]:
        cos = c.cosine if c.cosine == c.cosine else -math.inf  # nan last
        ref = c.ref_cosine if c.ref_cosine is not None and c.ref_cosine == c.ref_cosine else -math.inf
        return (-cos, -ref, c.anchor, c.candidate)

    return sorted(cands, key=key)


# =======================================================================================
# Detectors
# =======================================================================================


def detect_threshold(
    emb: np.ndarray,
    ids: Sequence[int] | np.ndarray | None = None,
    threshold: float = 0.85,
    step: int | None = None,
    block: int = _BLOCK,
) -> list[Candidate]:
    """Pairs whose cosine is at or above ``threshold``. ``emb``: (P, D) L2-normalised;
    ``ids``: (P,) corpus ids (default: row numbers). Unordered: one candidate per pair,
    ``anchor`` the earlier row. Sorted by cosine, highest first."""
    e = _as_emb(emb)
    idv = _as_ids(ids, e.shape[0])
    i, j, c = pairs_above(e, threshold, idv, block)
    return _sort([Candidate(int(idv[a]), int(idv[b]), float(x), "threshold", step, "probe")
                  for a, b, x in zip(i, j, c)])


def detect_duplicates(
    texts: Sequence[str],
    ids: Sequence[int] | np.ndarray | None = None,
    emb: np.ndarray | None = None,
    step: int | None = None,
) -> list[Candidate]:
    """Exact duplicates (identical strings after stripping outer whitespace: reason
    ``"duplicate"``) and near duplicates (equal after :func:`normalize_text`, not exact:
    ``"near_duplicate"``). Unordered: every pair within a group, ``anchor`` the earlier
    row. ``cosine`` comes from ``emb`` when given, else ``nan``."""
    idv = _as_ids(ids, len(texts))
    by_norm: dict[str, list[int]] = {}
    for r, t in enumerate(texts):
        by_norm.setdefault(normalize_text(t), []).append(r)
    ai: list[int] = []
    bi: list[int] = []
    reasons: list[str] = []
    for rows in by_norm.values():
        if len(rows) < 2:
            continue
        for x in range(len(rows)):
            for y in range(x + 1, len(rows)):
                a, b = rows[x], rows[y]
                if idv[a] == idv[b]:
                    continue
                ai.append(a)
                bi.append(b)
                reasons.append("duplicate" if texts[a].strip() == texts[b].strip() else "near_duplicate")
    cos = _row_cosines(emb, np.asarray(ai, np.int64), np.asarray(bi, np.int64))
    out = [Candidate(int(idv[a]), int(idv[b]), float(cos[n]) if cos is not None else math.nan, reasons[n], step, "probe")
           for n, (a, b) in enumerate(zip(ai, bi))]
    return _sort(out)


def detect_topk(
    emb: np.ndarray,
    ids: Sequence[int] | np.ndarray | None = None,
    k: int = 10,
    threshold: float = 0.7,
    step: int | None = None,
    block: int = _BLOCK,
) -> list[Candidate]:
    """False-negative cancellation (Huynh et al. 2022): the candidate is among the
    anchor's ``k`` most similar rows *and* its cosine is at or above ``threshold``.
    Directed anchor -> candidate (a->b and b->a may both appear)."""
    e = _as_emb(emb)
    idv = _as_ids(ids, e.shape[0])
    i, j, c = topk_above(e, k, threshold, idv, block)
    return _sort([Candidate(int(idv[a]), int(idv[b]), float(x), "topk", step, "probe")
                  for a, b, x in zip(i, j, c)])


def detect_reference(
    ref_emb: np.ndarray,
    ids: Sequence[int] | np.ndarray | None = None,
    threshold: float = 0.85,
    emb: np.ndarray | None = None,
    step: int | None = None,
    block: int = _BLOCK,
) -> list[Candidate]:
    """DCLR (Zhou et al. 2022): pairs whose cosine under a frozen reference model
    (``ref_emb``, the probe set encoded by a frozen copy of the starting model or another
    local model) is at or above ``threshold``. Unordered. ``ref_cosine`` is that cosine;
    ``cosine`` is the current model's (from ``emb``), ``nan`` without ``emb``."""
    r = _as_emb(ref_emb)
    idv = _as_ids(ids, r.shape[0])
    i, j, c = pairs_above(r, threshold, idv, block)
    if emb is not None and _as_emb(emb).shape[0] != r.shape[0]:
        raise ValueError("emb and ref_emb must have the same rows")
    cur = _row_cosines(emb, i, j)
    out = [Candidate(int(idv[a]), int(idv[b]), float(cur[n]) if cur is not None else math.nan, "reference",
                     step, "probe", ref_cosine=float(c[n]))
           for n, (a, b) in enumerate(zip(i, j))]
    return _sort(out)


def merge_candidates(*groups: Iterable[Candidate], directed: bool = False) -> list[Candidate]:
    """One candidate per pair (unordered unless ``directed``), reasons merged in
    :data:`REASONS` order. The first-seen orientation is kept; known values of
    ``cosine``/``ref_cosine``/``step`` fill unknown ones; ``weight`` keeps the largest."""
    merged: dict[tuple[int, int], Candidate] = {}
    for group in groups:
        for c in group:
            k = (int(c.anchor), int(c.candidate)) if directed else c.pair
            m = merged.get(k)
            if m is None:
                merged[k] = Candidate(**asdict(c))
                continue
            m.reason = _merge_reasons(m.reason, c.reason)
            if not (m.cosine == m.cosine) and c.cosine == c.cosine:
                m.cosine = c.cosine
            if m.ref_cosine is None and c.ref_cosine is not None:
                m.ref_cosine = c.ref_cosine
            if m.step is None:
                m.step = c.step
            if c.weight is not None and (m.weight is None or c.weight > m.weight):
                m.weight = c.weight
    return _sort(list(merged.values()))


def detect_all(
    emb: np.ndarray | None,
    ids: Sequence[int] | np.ndarray | None = None,
    texts: Sequence[str] | None = None,
    ref_emb: np.ndarray | None = None,
    threshold: float | None = 0.85,
    topk: int | None = 10,
    topk_threshold: float = 0.7,
    ref_threshold: float = 0.85,
    duplicates: bool = True,
    step: int | None = None,
    block: int = _BLOCK,
) -> list[Candidate]:
    """The enabled detectors on a probe set, merged: one candidate per unordered pair,
    e.g. reason ``"threshold+topk"``. A detector is off when its setting is ``None``
    (``threshold``, ``topk``), its input is missing (``texts`` for duplicates, ``ref_emb``
    for the reference) or ``duplicates=False``. Every candidate gets the current cosine
    when ``emb`` is given and the reference cosine when ``ref_emb`` is given."""
    n = None
    for arr in (emb, ref_emb):
        if arr is not None:
            n = np.asarray(arr).shape[0]
    if n is None:
        n = len(texts) if texts is not None else 0
    idv = _as_ids(ids, n)
    groups: list[list[Candidate]] = []
    if emb is not None and threshold is not None:
        groups.append(detect_threshold(emb, idv, threshold, step, block))
    if texts is not None and duplicates:
        groups.append(detect_duplicates(texts, idv, emb, step))
    if emb is not None and topk is not None:
        groups.append(detect_topk(emb, idv, topk, topk_threshold, step, block))
    if ref_emb is not None:
        groups.append(detect_reference(ref_emb, idv, ref_threshold, emb, step, block))
    out = merge_candidates(*groups)
    if ref_emb is not None and out:
        row_of = {int(v): r for r, v in enumerate(idv)}
        a = np.array([row_of[c.anchor] for c in out])
        b = np.array([row_of[c.candidate] for c in out])
        rc = _row_cosines(ref_emb, a, b)
        for c, v in zip(out, rc):  # type: ignore[arg-type]
            if c.ref_cosine is None:
                c.ref_cosine = float(v)
    return out


def detect_in_batch(
    batch_sim: np.ndarray,
    batch_ids: Sequence[int] | np.ndarray,
    temperature: float,
    threshold: float | None = 0.85,
    k: int | None = 10,
    topk_threshold: float = 0.7,
    ref_sim: np.ndarray | None = None,
    ref_threshold: float = 0.85,
    texts: Sequence[str] | None = None,
    fn_mask: np.ndarray | None = None,
    step: int | None = None,
) -> list[Candidate]:
    """The detectors on the last batch's (N, N) cross-view cosine matrix
    (``batch_sim[i, j]`` = first view of i against second view of j; the positive on
    the diagonal). Only off-diagonal entries are candidates; entries whose ids are equal
    are skipped. Directed anchor i -> candidate j (the matrix is not symmetric); one
    candidate per directed pair with the reasons merged.

    Rules: ``threshold`` (cosine at or above it), ``k`` with ``topk_threshold`` (among
    the anchor's k most similar negatives and at or above the score), ``ref_sim`` with
    ``ref_threshold`` (the same N x N matrix from a frozen reference model) and ``texts``
    (the batch's sentences: exact / near duplicates). Each is off when ``None``.
    ``weight`` = r_ij at ``temperature`` (:func:`metrics.hardness_weights`, with the
    optional ``fn_mask`` of pairs left out of the denominator); ``source="batch"``."""
    s = np.asarray(batch_sim, dtype=np.float64)
    n = s.shape[0]
    if s.ndim != 2 or s.shape[1] != n:
        raise ValueError(f"batch_sim must be (N, N), got shape {s.shape}")
    idv = _as_ids(batch_ids, n)
    w = _hardness_cached(s, float(temperature), fn_mask).weights
    valid = idv[:, None] != idv[None, :]  # also excludes the diagonal
    hits: dict[tuple[int, int], set[str]] = {}

    def add(mask: np.ndarray, reason: str) -> None:
        for a, b in zip(*np.nonzero(mask & valid)):
            hits.setdefault((int(a), int(b)), set()).add(reason)

    if threshold is not None:
        add(s >= threshold, "threshold")
    if k is not None and k > 0 and n > 1:
        neg = np.where(valid, s, -np.inf)
        kk = min(int(k), n - 1)
        part = np.argpartition(-neg, kk - 1, axis=1)[:, :kk]
        top = np.zeros((n, n), dtype=bool)
        np.put_along_axis(top, part, True, axis=1)
        add(top & (s >= topk_threshold), "topk")
    r = None
    if ref_sim is not None:
        r = np.asarray(ref_sim, dtype=np.float64)
        if r.shape != s.shape:
            raise ValueError("ref_sim must have batch_sim's shape")
        add(r >= ref_threshold, "reference")
    if texts is not None:
        if len(texts) != n:
            raise ValueError("texts must have one sentence per batch row")
        norm = np.unique([normalize_text(t) for t in texts], return_inverse=True)[1].reshape(-1)
        strip = np.unique([t.strip() for t in texts], return_inverse=True)[1].reshape(-1)
        same = norm[:, None] == norm[None, :]
        exact = strip[:, None] == strip[None, :]
        add(exact, "duplicate")
        add(same & ~exact, "near_duplicate")
    out = [
        Candidate(int(idv[a]), int(idv[b]), float(s[a, b]), _merge_reasons(*rs), step, "batch",
                  ref_cosine=float(r[a, b]) if r is not None else None, weight=float(w[a, b]))
        for (a, b), rs in hits.items()
    ]
    return _sort(out)


# =======================================================================================
# Ground truth
# =======================================================================================


@dataclass
class PrecisionRecall:
    """Detected unordered pairs scored against groups of true false negatives.
    ``precision`` = tp / (tp + fp), ``recall`` = tp / n_true (``nan`` for 0/0)."""

    precision: float
    recall: float
    tp: int
    fp: int
    fn: int
    n_true: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p == p and r == r and p + r > 0 else math.nan


def precision_recall(
    candidates: Iterable[Candidate | tuple[int, int]],
    groups_by_id: Mapping[int, Any],
    ids: Iterable[int] | None = None,
) -> PrecisionRecall:
    """Score detections against ground truth. ``groups_by_id``: corpus id -> group label
    (members of one group are paraphrases / near duplicates, i.e. true false negatives;
    ``None`` or ``""`` means no group). ``ids``: the ids considered (default: the keys of
    ``groups_by_id``); detections with an id outside them are ignored.

    Detections are deduplicated as unordered pairs. A detected pair is a true positive
    when both ids share a group; n_true counts all same-group pairs among the ids
    considered."""
    considered = {int(i) for i in (ids if ids is not None else groups_by_id.keys())}

    def label(i: int) -> Any:
        g = groups_by_id.get(i)
        return None if g is None or (isinstance(g, str) and g == "") else g

    detected: set[tuple[int, int]] = set()
    for c in candidates:
        a, b = (c.anchor, c.candidate) if isinstance(c, Candidate) else c
        a, b = int(a), int(b)
        if a != b and a in considered and b in considered:
            detected.add(_key(a, b))
    tp = 0
    for a, b in detected:
        ga = label(a)
        if ga is not None and ga == label(b):
            tp += 1
    fp = len(detected) - tp
    sizes: dict[Any, int] = {}
    for i in considered:
        g = label(i)
        if g is not None:
            sizes[g] = sizes.get(g, 0) + 1
    n_true = sum(m * (m - 1) // 2 for m in sizes.values())
    precision = tp / len(detected) if detected else math.nan
    recall = tp / n_true if n_true else math.nan
    return PrecisionRecall(precision, recall, tp, fp, n_true - tp, n_true)


# =======================================================================================
# Triage
# =======================================================================================


@dataclass
class Decision:
    """A person's verdict on a candidate pair (corpus ids)."""

    anchor: int
    candidate: int
    status: str  # "confirmed" | "rejected" | "pending"
    reason: str = ""
    note: str = ""
    anchor_text: str | None = None
    candidate_text: str | None = None


_CSV_FIELDS = ("anchor", "candidate", "status", "reason", "note")
_TEXT_FIELDS = ("anchor_text", "candidate_text")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read(path: str | os.PathLike) -> str:
    p = Path(path)
    if not p.is_file():
        raise _fail(p, "no such file")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise _fail(p, "cannot be read ({error})", error=str(e.strerror or e)) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise _fail(p, "not UTF-8 text", line) from None


def _parse_id(path: Any, value: Any, what: str, line: int | None) -> int:
    if isinstance(value, bool):
        raise _fail(path, "{field} {value!r} is not an integer corpus id", line, field=what, value=value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        v = value.strip()
        try:
            return int(v)
        except ValueError:
            pass
    raise _fail(path, "{field} {value!r} is not an integer corpus id", line, field=what, value=value)


class TriageBook:
    """Triage decisions keyed by the unordered pair of corpus ids.

    ``confirmed_pairs()`` feeds ``TrainControl.update(fn_pairs=...)`` or
    ``TrainConfig.fn_pairs``. Saved in a run folder as ``triage.json`` and
    ``triage.csv`` (:meth:`save_to_run`, :meth:`load_from_run`); each write is atomic.
    """

    def __init__(self, decisions: Iterable[Decision] = ()) -> None:
        self._d: dict[tuple[int, int], Decision] = {}
        for d in decisions:
            self._put(d)

    # ------------------------------------------------------------------ access
    def _put(self, d: Decision) -> None:
        if d.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {d.status!r}")
        if int(d.anchor) == int(d.candidate):
            raise ValueError(f"a pair needs two different ids, got {d.anchor} twice")
        d.anchor, d.candidate = int(d.anchor), int(d.candidate)
        self._d[_key(d.anchor, d.candidate)] = d

    def set(self, anchor: int, candidate: int, status: str, reason: str = "", note: str = "",
            anchor_text: str | None = None, candidate_text: str | None = None) -> Decision:
        """Record (or replace) the decision on the pair; texts already known are kept
        when not given."""
        old = self._d.get(_key(anchor, candidate))
        if old is not None and anchor_text is None and candidate_text is None:
            same = (int(anchor), int(candidate)) == (old.anchor, old.candidate)
            anchor_text = old.anchor_text if same else old.candidate_text
            candidate_text = old.candidate_text if same else old.anchor_text
        d = Decision(int(anchor), int(candidate), status, reason, note, anchor_text, candidate_text)
        self._put(d)
        return d

    def get(self, anchor: int, candidate: int) -> Decision | None:
        """The decision on the pair in either order, or ``None``."""
        return self._d.get(_key(anchor, candidate))

    def status(self, anchor: int, candidate: int) -> str | None:
        d = self.get(anchor, candidate)
        return d.status if d else None

    def remove(self, anchor: int, candidate: int) -> bool:
        return self._d.pop(_key(anchor, candidate), None) is not None

    def add_candidates(self, candidates: Iterable[Candidate]) -> int:
        """Add undecided candidates as ``"pending"``; pairs already in the book are left
        alone. Returns the number added."""
        n = 0
        for c in candidates:
            if c.anchor != c.candidate and c.pair not in self._d:
                self._put(Decision(c.anchor, c.candidate, "pending", c.reason))
                n += 1
        return n

    def decisions(self) -> list[Decision]:
        return [self._d[k] for k in sorted(self._d)]

    def pairs(self, status: str) -> list[tuple[int, int]]:
        return sorted(k for k, d in self._d.items() if d.status == status)

    def confirmed_pairs(self) -> list[tuple[int, int]]:
        """Sorted unordered pairs (smaller id, larger id) marked ``"confirmed"``."""
        return self.pairs("confirmed")

    def __len__(self) -> int:
        return len(self._d)

    def __iter__(self) -> Iterator[Decision]:
        return iter(self.decisions())

    def __contains__(self, pair: object) -> bool:
        return isinstance(pair, tuple) and len(pair) == 2 and _key(*pair) in self._d

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TriageBook) and self.decisions() == other.decisions()

    def __repr__(self) -> str:
        counts = {s: len(self.pairs(s)) for s in STATUSES}
        return f"TriageBook({len(self)} pairs: {counts})"

    # ------------------------------------------------------------ texts helper
    def _rows(self, texts: Mapping[int, str] | Sequence[str] | None) -> list[dict[str, Any]]:
        def text_of(i: int, known: str | None) -> str | None:
            if known is not None or texts is None:
                return known
            if isinstance(texts, Mapping):
                return texts.get(i)
            return texts[i] if 0 <= i < len(texts) else None

        rows = []
        for d in self.decisions():
            row = asdict(d)
            row["anchor_text"] = text_of(d.anchor, d.anchor_text)
            row["candidate_text"] = text_of(d.candidate, d.candidate_text)
            rows.append(row)
        return rows

    # --------------------------------------------------------------------- CSV
    def to_csv(self, path: str | os.PathLike, texts: Mapping[int, str] | Sequence[str] | None = None) -> Path:
        """Write ``anchor,candidate,status,reason,note`` plus ``anchor_text,candidate_text``
        when any text is known (from the decisions or ``texts``: id -> sentence)."""
        rows = self._rows(texts)
        with_text = any(r["anchor_text"] is not None or r["candidate_text"] is not None for r in rows)
        fields = _CSV_FIELDS + (_TEXT_FIELDS if with_text else ())
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(fields)
        for r in rows:
            w.writerow(["" if r[f] is None else r[f] for f in fields])
        p = Path(path)
        _atomic_write(p, buf.getvalue())
        return p

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> TriageBook:
        """Read a file written by :meth:`to_csv`. Raises :class:`DataError` naming the
        file and line of the first problem."""
        text = _read(path)
        if not text.strip():
            raise _fail(path, "empty file (expected a header: anchor,candidate,status,...)")
        reader = csv.reader(io.StringIO(text, newline=""))
        book = cls()
        header: list[str] | None = None
        cols: dict[str, int] = {}
        prev = 0
        try:
            for rec in reader:
                line = prev + 1
                prev = reader.line_num
                if not rec or all(not c.strip() for c in rec):
                    continue
                if header is None:
                    header = [h.strip().lower() for h in rec]
                    cols = {h: n for n, h in enumerate(header)}
                    missing = [f for f in ("anchor", "candidate", "status") if f not in cols]
                    if missing:
                        raise _fail(path, "header lacks column(s) {missing} (found: {found})", line,
                                   missing=", ".join(missing), found=", ".join(rec))
                    continue
                if len(rec) > len(header):
                    raise _fail(path, "{n} fields, the header has {width}", line, n=len(rec), width=len(header))

                def col(name: str) -> str | None:
                    n = cols.get(name)
                    return rec[n] if n is not None and n < len(rec) else None

                a = _parse_id(path, col("anchor") or "", "anchor", line)
                b = _parse_id(path, col("candidate") or "", "candidate", line)
                status = (col("status") or "").strip().lower()
                book._add_checked(path, line, a, b, status, col("reason") or "", col("note") or "",
                                  col("anchor_text") or None, col("candidate_text") or None)
        except csv.Error as e:
            raise _fail(path, "malformed CSV ({error})", reader.line_num, error=str(e)) from None
        if header is None:
            raise _fail(path, "empty file (expected a header: anchor,candidate,status,...)")
        return book

    def _add_checked(self, path: Any, line: int | None, a: int, b: int, status: Any, reason: Any, note: Any,
                     at: Any, ct: Any) -> None:
        if status not in STATUSES:
            raise _fail(path, "status {status!r} is not one of {choices}", line, status=status,
                       choices=", ".join(STATUSES))
        if a == b:
            raise _fail(path, "anchor and candidate are the same id ({id})", line, id=a)
        for what, v in (("reason", reason), ("note", note), ("anchor_text", at), ("candidate_text", ct)):
            if v is not None and not isinstance(v, str):
                raise _fail(path, "{field} must be text, got {value!r}", line, field=what, value=v)
        self._put(Decision(a, b, status, reason or "", note or "", at, ct))

    # -------------------------------------------------------------------- JSON
    def to_json(self, path: str | os.PathLike, texts: Mapping[int, str] | Sequence[str] | None = None) -> Path:
        """Write ``{"format": "simcse-triage", "version": 1, "decisions": [...]}``, one
        decision per line; text fields only when known."""
        rows = []
        for r in self._rows(texts):
            for f in _TEXT_FIELDS:
                if r[f] is None:
                    del r[f]
            rows.append(json.dumps(r, ensure_ascii=False))
        body = ",\n    ".join(rows)
        text = ('{\n  "format": "simcse-triage",\n  "version": 1,\n  "decisions": ['
                + (f"\n    {body}\n  " if rows else "") + "]\n}\n")
        p = Path(path)
        _atomic_write(p, text)
        return p

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> TriageBook:
        """Read a file written by :meth:`to_json` (or a bare list of decisions). Raises
        :class:`DataError` naming the file and line of the first problem."""
        text = _read(path)
        if not text.strip():
            raise _fail(path, "empty file (expected a JSON object with \"decisions\")")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise _fail(path, "invalid JSON ({error}, column {column})", e.lineno, error=e.msg, column=e.colno) from None
        if isinstance(obj, dict):
            if "decisions" not in obj:
                raise _fail(path, "no \"decisions\" list", 1)
            items = obj["decisions"]
        else:
            items = obj
        if not isinstance(items, list):
            raise _fail(path, "\"decisions\" must be a list", 1)
        lines = _json_item_lines(text)
        book = cls()
        for n, item in enumerate(items):
            line = lines[n] if lines is not None and n < len(lines) else None
            if not isinstance(item, dict):
                raise _fail(path, "decision {n} is not an object", line, n=n + 1)
            for f in ("anchor", "candidate", "status"):
                if f not in item:
                    raise _fail(path, "decision {n} has no {field!r}", line, n=n + 1, field=f)
            a = _parse_id(path, item["anchor"], "anchor", line)
            b = _parse_id(path, item["candidate"], "candidate", line)
            st = item["status"].strip().lower() if isinstance(item["status"], str) else item["status"]
            book._add_checked(path, line, a, b, st, item.get("reason", ""), item.get("note", ""),
                              item.get("anchor_text"), item.get("candidate_text"))
        return book

    # --------------------------------------------------------------- run folder
    def save_to_run(self, run_dir: str | os.PathLike, texts: Mapping[int, str] | Sequence[str] | None = None
                    ) -> tuple[Path, Path]:
        """Write ``triage.json`` and ``triage.csv`` in ``run_dir`` (atomically each)."""
        d = Path(run_dir)
        return self.to_json(d / TRIAGE_JSON, texts), self.to_csv(d / TRIAGE_CSV, texts)

    @classmethod
    def load_from_run(cls, run_dir: str | os.PathLike) -> TriageBook:
        """``triage.json`` of ``run_dir`` (else ``triage.csv``); an empty book when the
        run has neither."""
        d = Path(run_dir)
        if (d / TRIAGE_JSON).exists():
            return cls.from_json(d / TRIAGE_JSON)
        if (d / TRIAGE_CSV).exists():
            return cls.from_csv(d / TRIAGE_CSV)
        return cls()


def save_to_run(book: TriageBook, run_dir: str | os.PathLike,
                texts: Mapping[int, str] | Sequence[str] | None = None) -> tuple[Path, Path]:
    """``book.save_to_run(run_dir, texts)``."""
    return book.save_to_run(run_dir, texts)


def load_from_run(run_dir: str | os.PathLike) -> TriageBook:
    """``TriageBook.load_from_run(run_dir)``."""
    return TriageBook.load_from_run(run_dir)


def _json_item_lines(text: str) -> list[int] | None:
    """1-based line where each element of the decisions list starts (the top-level list,
    or the ``"decisions"`` value of the top-level object); ``None`` if not found."""
    dec = json.JSONDecoder()
    ws = " \t\n\r"

    def skip(i: int) -> int:
        while i < len(text) and text[i] in ws:
            i += 1
        return i

    def array_items(i: int) -> list[int]:
        starts = []
        i = skip(i + 1)
        if i < len(text) and text[i] == "]":
            return starts
        while i < len(text):
            i = skip(i)
            starts.append(text.count("\n", 0, i) + 1)
            _, i = dec.raw_decode(text, i)
            i = skip(i)
            if i >= len(text) or text[i] != ",":
                break
            i += 1
        return starts

    try:
        i = skip(0)
        if text[i] == "[":
            return array_items(i)
        if text[i] != "{":
            return None
        i = skip(i + 1)
        while i < len(text) and text[i] != "}":
            key, i = dec.raw_decode(text, i)
            i = skip(i)
            i = skip(i + 1)  # ':'
            if key == "decisions" and text[i] == "[":
                return array_items(i)
            _, i = dec.raw_decode(text, i)
            i = skip(i)
            if i < len(text) and text[i] == ",":
                i = skip(i + 1)
        return None
    except (ValueError, IndexError):
        return None


# =======================================================================================
# The temperature lens
# =======================================================================================

_CACHE: OrderedDict[tuple[Any, ...], Hardness] = OrderedDict()
_CACHE_SIZE = 8


def _fingerprint(a: np.ndarray | None) -> tuple[Any, ...] | None:
    if a is None:
        return None
    a = np.ascontiguousarray(a)
    return (a.shape, a.dtype.str, hashlib.blake2b(a.view(np.uint8).reshape(-1), digest_size=16).digest())


def _fingerprints(sim: np.ndarray, fn_mask: np.ndarray | None) -> tuple[Any, ...]:
    return (_fingerprint(np.asarray(sim)), _fingerprint(fn_mask))


def _hardness_cached(sim: np.ndarray, temperature: float, fn_mask: np.ndarray | None = None,
                     fingerprint: tuple[Any, ...] | None = None) -> Hardness:
    """:func:`metrics.hardness_weights`, memoised on (content of sim, t, fn_mask): the
    lens recomputes only a temperature it has not seen for this matrix. ``fingerprint``:
    :func:`_fingerprints` of (sim, fn_mask) when the caller already has it."""
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be positive and finite, got {temperature}")
    fp = fingerprint if fingerprint is not None else _fingerprints(sim, fn_mask)
    key = (fp, float(temperature))
    h = _CACHE.get(key)
    if h is None:
        h = hardness_weights(sim, temperature, fn_mask)
        _CACHE[key] = h
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return h


def clear_lens_cache() -> None:
    _CACHE.clear()


@dataclass
class LensSide:
    """One anchor's hardness at one temperature."""

    temperature: float
    entropy: float  # H = -sum r log r over the negatives
    effective: float  # exp(H): 1 (one hard negative) .. N-1 (all equal)
    top1: float  # share of r on the hardest negative
    top5: float  # share of r on the 5 hardest
    p_pos: float  # P_ii
    pos_grad: float  # (1 - P_ii) / t = |dL/ds_ii|
    loss: float  # -log P_ii


@dataclass
class AnchorLens:
    """The negatives of one anchor sorted by cosine (highest first), with r_ij at the
    training temperature t and at a what-if t' side by side.

    ``columns``: column index of each negative in the batch matrix; ``ids``: their corpus
    ids (when given); ``cosine``, ``weight_t``, ``weight_tp``: aligned with ``columns``.
    """

    anchor: int  # row index in the matrix
    anchor_id: int | None
    positive_cosine: float
    columns: np.ndarray
    ids: np.ndarray | None
    cosine: np.ndarray
    weight_t: np.ndarray
    weight_tp: np.ndarray
    at_t: LensSide
    at_tp: LensSide

    def rows(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Table rows: rank, column, id, cosine, r at t, r at t'."""
        out = []
        for n in range(len(self.columns) if limit is None else min(limit, len(self.columns))):
            out.append({"rank": n + 1, "column": int(self.columns[n]),
                        "id": int(self.ids[n]) if self.ids is not None else None,
                        "cosine": float(self.cosine[n]), "r_t": float(self.weight_t[n]),
                        "r_tp": float(self.weight_tp[n])})
        return out


def _side(h: Hardness, i: int) -> LensSide:
    return LensSide(h.temperature, float(h.entropy[i]), float(h.effective[i]), float(h.top1[i]),
                    float(h.top5[i]), float(h.p_pos[i]), float(h.pos_grad[i]), float(h.loss[i]))


def lens(
    sim_row_or_matrix: np.ndarray,
    temperature: float,
    t_prime: float,
    anchor: int = 0,
    ids: Sequence[int] | np.ndarray | None = None,
    fn_mask: np.ndarray | None = None,
) -> AnchorLens:
    """The temperature lens for one anchor.

    ``sim_row_or_matrix``: the batch's (N, N) cross-view cosines (positives on the
    diagonal) with ``anchor`` the row; or one (N,) row, the positive at index ``anchor``.
    ``ids``: (N,) corpus ids of the columns. ``fn_mask``: (N, N) (or (N,) with a row)
    pairs left out of the denominator (eliminated false negatives): their r is 0.

    Recomputing at a new ``t_prime`` costs one :func:`metrics.hardness_weights` call
    on the matrix; another anchor at the same temperatures costs nothing (cached).
    As t' -> 0 the weight concentrates on the hardest negative (top1 -> 1, exp(H) -> 1,
    loss -> (1/t') max(s_max - s_ii, 0)); as t' -> infinity every negative weighs
    1/(N-1)."""
    s = np.asarray(sim_row_or_matrix)
    mask = None if fn_mask is None else np.asarray(fn_mask, dtype=bool)
    if s.ndim == 1:
        n = s.shape[0]
        # Every row of the tiled matrix is the same row; row `anchor` has its positive at
        # column `anchor`, which is what we want. O(N^2) once, then cached.
        s = np.broadcast_to(s, (n, n))
        if mask is not None:
            mask = np.broadcast_to(mask, (n, n))
    elif s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ValueError(f"expected an (N, N) matrix or an (N,) row, got shape {s.shape}")
    n = s.shape[0]
    if not 0 <= anchor < n:
        raise IndexError(f"anchor {anchor} out of range for N={n}")
    fp = _fingerprints(s, mask)
    h_t = _hardness_cached(s, float(temperature), mask, fp)
    h_tp = _hardness_cached(s, float(t_prime), mask, fp)
    row = np.asarray(s[anchor], dtype=np.float64)
    keep = np.ones(n, dtype=bool)
    keep[anchor] = False
    if mask is not None:
        keep &= ~mask[anchor]
    cols = np.flatnonzero(keep)
    order = cols[np.argsort(-row[cols], kind="stable")]
    idv = _as_ids(ids, n) if ids is not None else None
    return AnchorLens(
        anchor=int(anchor),
        anchor_id=int(idv[anchor]) if idv is not None else None,
        positive_cosine=float(row[anchor]),
        columns=order,
        ids=idv[order] if idv is not None else None,
        cosine=row[order],
        weight_t=h_t.weights[anchor, order],
        weight_tp=h_tp.weights[anchor, order],
        at_t=_side(h_t, anchor),
        at_tp=_side(h_tp, anchor),
    )


@dataclass
class LensHistograms:
    """Per-anchor summaries of a batch at t and t': histograms (counts over anchors) of
    the largest r_ij (edges over [0, 1]) and of exp(H) (edges over [1, N-1]), plus the
    batch means."""

    temperature: float
    t_prime: float
    top1_edges: np.ndarray
    top1_t: np.ndarray
    top1_tp: np.ndarray
    effective_edges: np.ndarray
    effective_t: np.ndarray
    effective_tp: np.ndarray
    mean_top1_t: float
    mean_top1_tp: float
    mean_effective_t: float
    mean_effective_tp: float
    mean_loss_t: float
    mean_loss_tp: float


def batch_lens_histograms(
    sim: np.ndarray, t: float, t_prime: float, bins: int = 20, fn_mask: np.ndarray | None = None
) -> LensHistograms:
    """Histograms of each anchor's largest r_ij and of its effective number of negatives
    exp(H) at t and t' (same edges for both, so the bars compare). ``sim``: (N, N)."""
    s = np.asarray(sim)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ValueError(f"sim must be (N, N), got shape {s.shape}")
    n = s.shape[0]
    fp = _fingerprints(s, fn_mask)
    h_t = _hardness_cached(s, float(t), fn_mask, fp)
    h_tp = _hardness_cached(s, float(t_prime), fn_mask, fp)
    top_edges = np.linspace(0.0, 1.0, int(bins) + 1)
    eff_edges = np.linspace(1.0, max(float(n - 1), 1.0 + 1e-9), int(bins) + 1)
    return LensHistograms(
        temperature=float(t),
        t_prime=float(t_prime),
        top1_edges=top_edges,
        top1_t=np.histogram(h_t.top1, top_edges)[0],
        top1_tp=np.histogram(h_tp.top1, top_edges)[0],
        effective_edges=eff_edges,
        effective_t=np.histogram(np.clip(h_t.effective, eff_edges[0], eff_edges[-1]), eff_edges)[0],
        effective_tp=np.histogram(np.clip(h_tp.effective, eff_edges[0], eff_edges[-1]), eff_edges)[0],
        mean_top1_t=float(h_t.top1.mean()),
        mean_top1_tp=float(h_tp.top1.mean()),
        mean_effective_t=float(h_t.effective.mean()),
        mean_effective_tp=float(h_tp.effective.mean()),
        mean_loss_t=float(h_t.loss.mean()),
        mean_loss_tp=float(h_tp.loss.mean()),
    )


__all__ = [
    "AnchorLens", "Candidate", "Decision", "LensHistograms", "LensSide", "PrecisionRecall", "REASONS",
    "STATUSES", "TriageBook", "batch_lens_histograms", "clear_lens_cache", "detect_all", "detect_duplicates",
    "detect_in_batch", "detect_reference", "detect_threshold", "detect_topk", "lens", "load_from_run",
    "merge_candidates", "pairs_above", "precision_recall", "save_to_run", "topk_above",
]
