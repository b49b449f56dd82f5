"""False-negative detection off the GUI thread.

The panel makes a job on the GUI thread from plain data captured there (the batch's
cosine matrix and ids, the detector settings, the batch's sentences, the reference
model's rows of the batch), and :class:`FalseNegativeDetector` runs it in a worker:

- :class:`BatchJob` -> :func:`detect_batch`: ``detect_in_batch`` on one snapshot's
  ``batch_sim`` (N x N). Jobs queue up and one worker drains them, yielding each
  snapshot's candidates (the yields are where a cleared run stops the worker);
- :class:`ScanJob` -> :func:`scan_probe`: ``detect_all`` over the probe set's
  embeddings (P x D), optionally with a frozen reference model (DCLR) encoded there too,
  and r_ij of each candidate at the snapshot's temperature.

Nothing here reads a widget or the run model: a job holds all it needs, so no locks.
Results reach the GUI thread through the workers' queued signals; a job made before
:meth:`FalseNegativeDetector.clear` (another run) is dropped when it comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from simcse_core.false_negatives import Candidate, detect_all, detect_in_batch

from app.i18n import tr

MAX_PROBE_WEIGHTS = 4096  # r_ij of probe candidates needs the P x P matrix: only up to this P
MAX_BATCH_CANDIDATES = 200  # per snapshot, highest cosine first (an untrained model flags everything)

ProbeLoader = Callable[[], "np.ndarray | None"]


@dataclass(frozen=True)
class DetectorSettings:
    """The detectors' switches and thresholds (None: that detector is off)."""

    threshold: float | None = 0.85  # cosine at or above
    duplicates: bool = True  # exact and near duplicate sentences
    topk: int | None = 10  # FNC: among the anchor's k most similar...
    topk_threshold: float = 0.70  # ...and at or above this cosine
    ref_threshold: float = 0.85  # DCLR: the reference model's cosine at or above


@dataclass(frozen=True)
class ReferenceSpec:
    """A frozen reference model to encode the probe set with (DCLR)."""

    spec: str  # "default", a folder, ...
    pooler_type: str = "auto"
    max_seq_length: int = 32


@dataclass(frozen=True)
class BatchJob:
    """One snapshot's in-batch detection, captured on the GUI thread."""

    step: int
    temperature: float
    sim: np.ndarray  # (B, B) cross-view cosines of the batch
    ids: np.ndarray  # (B,) corpus ids
    settings: DetectorSettings
    texts: list[str] | None = None  # (B,) sentences, when duplicates are looked for and all are known
    ref_rows: np.ndarray | None = None  # (B, D) reference-model embeddings of the batch's sentences


@dataclass(frozen=True)
class ScanJob:
    """A probe-set scan, captured on the GUI thread. ``embeddings``: the (P, D) probe
    embeddings, or a loader of them (a snapshot kept on disk)."""

    embeddings: np.ndarray | ProbeLoader
    ids: np.ndarray  # (P,) corpus ids
    texts: list[str] | None  # (P,) sentences, or None when unknown
    settings: DetectorSettings
    temperature: float
    step: int | None
    reference: ReferenceSpec | None = None
    ref_emb: np.ndarray | None = None  # (P, D) cached reference embeddings of these ids
    ref_key: Any = None  # what ``ref_emb`` belongs to (model, pooler, length, ids)


@dataclass
class ScanResult:
    candidates: list[Candidate]
    weights: dict[tuple[int, int], float]  # r_ij at ``temperature`` of each candidate pair
    ref_emb: np.ndarray | None
    ref_key: Any
    step: int | None
    temperature: float


# ---------------------------------------------------------------------- work (no Qt)
def detect_batch(job: BatchJob) -> list[Candidate]:
    """``detect_in_batch`` on the job's batch: at most :data:`MAX_BATCH_CANDIDATES`."""
    s = job.settings
    ref_sim = None
    if job.ref_rows is not None:
        r = np.asarray(job.ref_rows, dtype=np.float32)  # (B, D)
        ref_sim = r @ r.T  # (B, B)
    cands = detect_in_batch(job.sim, job.ids, job.temperature, threshold=s.threshold, k=s.topk,
                            topk_threshold=s.topk_threshold, ref_sim=ref_sim, ref_threshold=s.ref_threshold,
                            texts=job.texts, step=job.step)
    return cands[:MAX_BATCH_CANDIDATES]


def detect_batches(generation: int, jobs: Sequence[BatchJob]) -> Iterator[tuple[int, list[Candidate], str]]:
    """(generation, candidates, failure line) of each job in turn (a worker's generator:
    quitting stops between jobs). A job that raises yields no candidates and says why."""
    for job in jobs:
        try:
            yield generation, detect_batch(job), ""
        except Exception as e:  # reported to the person by the detector, never lost
            yield generation, [], failure_line(tr("batch detection"), e)


def run_scan(generation: int, job: ScanJob) -> tuple[int, ScanResult | None, str]:
    """(generation, result, failure line) of a probe scan (worker thread)."""
    try:
        return generation, scan_probe(job), ""
    except Exception as e:  # reported to the person by the detector, never lost
        return generation, None, failure_line(tr("probe scan"), e)


def failure_line(what: str, exc: BaseException) -> str:
    return tr("{what} failed: {error}").format(what=what, error=f"{type(exc).__name__}: {exc}").splitlines()[0]


def rows_of(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions in ``ids`` (distinct corpus ids) of each of ``wanted`` (all present)."""
    order = np.argsort(ids, kind="stable")
    return order[np.searchsorted(ids, wanted, sorter=order)]


def _unit_rows(emb: np.ndarray) -> np.ndarray:
    e = np.asarray(emb, dtype=np.float32)  # (P, D); the run model stores float16
    n = np.linalg.norm(e, axis=1, keepdims=True)
    return e / np.where(n > 0, n, 1.0)


def scan_probe(job: ScanJob) -> ScanResult:
    """The probe-set scan (worker thread): encode with the reference model when asked
    (unless its embeddings are cached in the job), run ``detect_all``, and r_ij of each
    candidate at the job's temperature among the anchor's probe-set negatives (P up to
    :data:`MAX_PROBE_WEIGHTS`)."""
    emb = job.embeddings() if callable(job.embeddings) else job.embeddings
    if emb is None:
        raise ValueError("the probe embeddings of this snapshot could not be read")
    emb = _unit_rows(emb)  # (P, D)
    ids = np.asarray(job.ids, dtype=np.int64)
    s = job.settings
    ref_emb = job.ref_emb
    if job.reference is not None and ref_emb is None and job.texts is not None:
        from simcse_core.model import load_model

        ref = job.reference
        enc = load_model(ref.spec, pooler_type=ref.pooler_type, max_seq_length=ref.max_seq_length)
        ref_emb = enc.encode(list(job.texts))  # (P, D_ref)
        del enc
    cands = detect_all(emb, ids, job.texts if s.duplicates else None,
                       ref_emb if job.reference is not None else None,
                       threshold=s.threshold, topk=s.topk, topk_threshold=s.topk_threshold,
                       ref_threshold=s.ref_threshold, duplicates=s.duplicates, step=job.step)
    weights: dict[tuple[int, int], float] = {}
    if cands and emb.shape[0] <= MAX_PROBE_WEIGHTS and job.temperature > 0:
        from simcse_core.metrics import hardness_weights

        w = hardness_weights(emb @ emb.T, job.temperature).weights  # (P, P)
        a = rows_of(ids, np.array([c.anchor for c in cands], dtype=np.int64))
        b = rows_of(ids, np.array([c.candidate for c in cands], dtype=np.int64))
        for c, i, j in zip(cands, a, b):
            weights[c.pair] = float(w[i, j])
    return ScanResult(cands, weights, ref_emb, job.ref_key, job.step, job.temperature)


# ---------------------------------------------------------------------- the detector
class FalseNegativeDetector(QObject):
    """Runs batch jobs and probe scans in worker threads.

    Signals (GUI thread): ``detected(list)`` (one batch job's candidates),
    ``failed(str)`` (batch detection raised; one line), ``idle()`` (no batch job queued
    or running any more), ``scan_done(object)`` (a :class:`ScanResult`),
    ``scan_failed(str)``, ``scan_ended()`` (after either, or after a dropped scan).

    ``ref_cache``: (key, (P, D) embeddings) of the last reference-model encoding, reused
    by later scans and by batch jobs (rows of the batch's sentences).
    """

    detected = Signal(list)
    failed = Signal(str)
    idle = Signal()
    scan_done = Signal(object)
    scan_failed = Signal(str)
    scan_ended = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ref_cache: tuple[Any, np.ndarray] | None = None
        self._generation = 0
        self._pending: list[BatchJob] = []
        self._batch_worker: Any = None
        self._scan_worker: Any = None

    @property
    def busy(self) -> bool:
        """Whether batch jobs are queued or running."""
        return bool(self._pending) or self._batch_worker is not None

    @property
    def scanning(self) -> bool:
        return self._scan_worker is not None

    def clear(self) -> None:
        """Another run: queued jobs are dropped, running ones' results ignored."""
        self._generation += 1
        self._pending.clear()
        if self._batch_worker is not None:
            self._batch_worker.quit()
        self.ref_cache = None

    # ------------------------------------------------------------------ batches
    def submit(self, job: BatchJob) -> None:
        """Queue a batch job; one worker at a time drains the queue."""
        self._pending.append(job)
        if self._batch_worker is None:
            self._start_batches()

    def _start_batches(self) -> None:
        # bound methods, not lambdas: Qt drops the connections if the detector is deleted first
        jobs, self._pending = self._pending, []
        self._batch_worker = create_worker(detect_batches, self._generation, jobs, _connect={
            "yielded": self._batch_done, "finished": self._batches_finished})

    def _batch_done(self, out: tuple[int, list[Candidate], str]) -> None:
        generation, cands, failure = out
        if generation != self._generation:
            return  # a job of a run cleared since
        if failure:
            self.failed.emit(failure)
        elif cands:
            self.detected.emit(cands)

    def _batches_finished(self) -> None:
        self._batch_worker = None
        if self._pending:
            self._start_batches()
        else:
            self.idle.emit()

    # ------------------------------------------------------------------ scans
    def scan(self, job: ScanJob) -> bool:
        """Start a probe scan; False when one is already running."""
        if self._scan_worker is not None:
            return False
        self._scan_worker = create_worker(run_scan, self._generation, job, _connect={
            "returned": self._scan_returned, "finished": self._scan_finished})
        return True

    def _scan_returned(self, out: tuple[int, ScanResult | None, str]) -> None:
        generation, res, failure = out
        if generation != self._generation:
            return
        if res is None:
            self.scan_failed.emit(failure)
            return
        if res.ref_emb is not None and res.ref_key is not None:
            self.ref_cache = (res.ref_key, res.ref_emb)
        self.scan_done.emit(res)

    def _scan_finished(self) -> None:
        self._scan_worker = None
        self.scan_ended.emit()

    def reference_rows(self, probe_rows: np.ndarray) -> np.ndarray | None:
        """The cached reference embeddings at ``probe_rows`` (-1: not in the probe set),
        or None when there is no cache or a row is missing."""
        if self.ref_cache is None or len(probe_rows) == 0 or (probe_rows < 0).any():
            return None
        emb = self.ref_cache[1]
        if int(probe_rows.max()) >= emb.shape[0]:
            return None
        return np.asarray(emb[probe_rows])
