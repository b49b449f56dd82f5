"""The embedding tab's controller: caches, scheduling and the worker threads, no widgets.

:class:`EmbeddingController` reads the :class:`~app.state.run_model.RunModel` (it is the
tab's one subscriber to it) and the :class:`~app.state.view_state.ViewState`, keeps what
was computed per snapshot (PCA frames, UMAP layouts, k-means labels, the drift curve)
and emits a signal when a result arrives; :class:`~app.embedding_tab.tab.EmbeddingTab`
draws.

Jobs follow napari's layer slicer: every job gets a request built on the GUI thread
when the job is made, never the live model or a live cache. A snapshot's probe
embeddings travel as a :class:`ProbeRequest` (the in-memory array itself, or, for a
snapshot kept on disk, ``RunModel.probe_matrix`` bound to that index: thread-safe,
cached); what a job should skip travels as a frozenset copy of the cache's keys, a
reference frame as the (never mutated) :class:`~app.embedding_tab.geometry.Frame`.
The UMAP trackers belong to the UMAP thread once made: the GUI thread only replaces
them with fresh ones.

Work off the GUI thread (:class:`~app.embedding_tab.job_thread.JobThread`, newest request
wins): frames (Procrustes-chained), k-means, the mean-kNN-overlap drift curve, search
and encoding (:mod:`app.embedding_tab.search`); UMAP on a thread of its own. Nothing
heavy runs while the tab is hidden; showing it catches up.
"""

from __future__ import annotations

import bisect
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from simcse_core.projection import UmapTracker, kmeans, mean_knn_overlap, warm_up_umap

from app.embedding_tab.geometry import Frame, build_frame
from app.embedding_tab.job_thread import JobThread
from app.embedding_tab.search import CHANNELS as SEARCH_CHANNELS
from app.embedding_tab.search import SentenceSearch
from app.state.run_model import RunModel
from app.state.view_state import ViewState

DRIFT_K = 10
DRIFT_MAX_ROWS = 2000  # mean kNN overlap on a fixed subsample of query points above this
FRAME_WINDOW = 64  # frames prefetched around the shown snapshot (the newest while following)
MAX_FRAMES = 192  # frames kept in memory; those farthest from the shown snapshot go first
UMAP_REST = 2.0  # while training runs in this process: rest 2x a layout's time after it (UMAP <= 1/3)
MAX_UMAP_LAYOUTS = 1000  # layouts kept; beyond, every other old one goes (see thin_layouts)
UMAP_TIMINGS_KEPT = 200  # per-layout timings kept (the newest; a long run makes thousands of layouts)
SCHEDULE_MS = 150


@dataclass(frozen=True, eq=False)
class ProbeRequest:
    """One snapshot's probe embeddings as a job needs them, captured on the GUI thread:
    the in-memory (P, D) float16 array itself, or (kept on disk) a loader bound to the
    snapshot's index."""

    index: int
    step: int
    array: np.ndarray | None = None
    load: Callable[[], np.ndarray | None] | None = None

    def matrix(self) -> np.ndarray | None:
        """A new (P, D) float32 array, or None."""
        if self.array is not None:
            return np.asarray(self.array, dtype=np.float32)
        return None if self.load is None else self.load()


# ---------------------------------------------------------------- worker jobs (no Qt)
def frame_job(req: ProbeRequest, ref: Frame | None) -> Frame | None:
    X = req.matrix()
    return None if X is None else build_frame(req.index, req.step, X, ref)


def prefetch_job(reqs: tuple[ProbeRequest, ...], have: dict[int, Frame]) -> Iterator[Frame]:
    """Frames of ``reqs`` in order, each aligned to the one before (a smooth replay);
    ``have``: a copy of the frames already made (used as references, not remade)."""
    ref = None
    for req in reqs:
        f = have.get(req.index)
        if f is None:
            f = frame_job(req, ref)
            if f is None:
                continue
            yield f
        ref = f


def kmeans_job(req: ProbeRequest, k: int) -> np.ndarray | None:
    X = req.matrix()
    return None if X is None else kmeans(X, k)


def drift_job(first: ProbeRequest, reqs: tuple[ProbeRequest, ...], done: frozenset[int]
              ) -> Iterator[tuple[int, float]]:
    """(index, mean kNN overlap@DRIFT_K with the first snapshot) for each of ``reqs``."""
    X0 = first.matrix()
    if X0 is None or X0.shape[0] <= DRIFT_K:
        return
    rows = DRIFT_MAX_ROWS if X0.shape[0] > DRIFT_MAX_ROWS else None
    for req in reqs:
        if req.index in done:
            continue
        Xi = req.matrix()
        if Xi is None or Xi.shape != X0.shape:
            continue
        yield req.index, mean_knn_overlap(X0, Xi, k=DRIFT_K, max_rows=rows)


def umap_job(tracker: UmapTracker, hav: UmapTracker | None, reqs: tuple[ProbeRequest, ...]):
    """(index, 2D layout, sphere layout or None, timings) for each of ``reqs``."""
    for req in reqs:
        X = req.matrix()
        if X is None:
            continue
        layout = tracker.update(X).astype(np.float32)
        timings = dict(tracker.timings)
        sph = hav.update(X).astype(np.float32) if hav is not None else None
        yield req.index, layout, sph, timings


def umap_order(missing: list[int], shown: int | None) -> list[int]:
    """The order to compute missing UMAP layouts in: first the one the views would show
    for snapshot ``shown`` (the latest wanted at or before it; the newest while following a
    live run), then the rest oldest first, so the warm-start chain runs forward. Opening the
    tab late in a long run thus shows the current layout after one refresh instead of
    after every older one."""
    if len(missing) < 2 or shown is None:
        return list(missing)
    at_or_before = [i for i in missing if i <= shown]
    first = max(at_or_before) if at_or_before else min(missing)
    return [first] + [i for i in missing if i != first]


class PendingScan:
    """The entries of a growing index list (the run's probe snapshots) that still lack a
    result, kept up to date without rescanning the list: each update looks at the entries
    added since the last one and re-checks only those still pending (a long run has tens
    of thousands of snapshots; this runs for every new one). An entry inserted before the
    last one seen (a followed run's files appearing late) means a full rescan."""

    __slots__ = ("seen", "last", "pending")

    def __init__(self) -> None:
        self.seen, self.last, self.pending = 0, None, []

    def update(self, seq: list[int], done: Callable[[int], bool],
               pick: Callable[[int], bool] = lambda _k: True) -> list[int]:
        """Entries ``i`` of ``seq`` at positions ``k`` with ``pick(k)`` and not ``done(i)``, in order."""
        if self.seen > len(seq) or (self.seen and seq[self.seen - 1] != self.last):
            self.seen, self.pending = 0, []
        new = [i for k, i in enumerate(seq[self.seen:], self.seen) if pick(k)]
        self.pending = [i for i in self.pending if not done(i)] + [i for i in new if not done(i)]
        self.seen = len(seq)
        self.last = seq[-1] if seq else None
        return list(self.pending)


def thin_layouts(keys: Iterable[int], limit: int, keep: Iterable[int] = ()) -> list[int]:
    """The layouts to drop when more than ``limit`` are kept: every other one of the
    older half (the newest half, the first one and those in ``keep`` stay). A long run
    thus keeps every layout of its recent part and a coarser record of its past, which
    the timeline shows by the nearest layout at or before a snapshot; memory stays
    bounded whatever the run's length."""
    ordered = sorted(keys)
    if len(ordered) <= limit:
        return []
    keep = set(keep)
    old = [k for k in ordered[1: len(ordered) - limit // 2] if k not in keep]
    drop = old[::2]
    return drop if len(ordered) - len(drop) <= limit else old


def nearest_key(cache: dict[int, Any], index: int | None) -> int | None:
    """The largest key of ``cache`` at or before ``index`` (else the smallest), or None."""
    if not cache or index is None:
        return None
    keys = np.fromiter(cache.keys(), dtype=np.int64)
    below = keys[keys <= index]
    return int(below.max()) if below.size else int(keys.min())


# ---------------------------------------------------------------- the controller
class EmbeddingController(QObject):
    """Caches and background work of the embedding tab.

    Signals (GUI thread): ``run_reset()`` (the model was cleared: caches are empty),
    ``snapshot_added(object)`` (after any reset), ``frame_ready(int)``,
    ``kmeans_ready(int index, int k)``, ``drift_updated()``, ``umap_updated(int)``,
    ``warmed_up(object)``, ``failed(str)``.

    Caches (read on the GUI thread only; jobs get copies): ``frames``, ``umap``,
    ``umap_sphere``, ``kmeans_labels[(index, k)]``, ``drift``, ``umap_timings``.
    """

    run_reset = Signal()
    snapshot_added = Signal(object)
    frame_ready = Signal(int)
    kmeans_ready = Signal(int, int)
    drift_updated = Signal()
    umap_updated = Signal(int)
    warmed_up = Signal(object)
    failed = Signal(str)

    def __init__(self, model: RunModel, view_state: ViewState, *, trainer_running: Callable[[], bool] | None = None,
                 active: Callable[[], bool] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view_state = view_state
        self.trainer_running: Callable[[], bool] = trainer_running or (lambda: False)
        self.active: Callable[[], bool] = active or (lambda: True)
        self.frames: dict[int, Frame] = {}
        self.umap: dict[int, np.ndarray] = {}
        self.umap_sphere: dict[int, np.ndarray] = {}
        self.umap_made: set[int] = set()  # snapshots whose layout was made (thinned ones too: not made again)
        self.umap_timings: deque[dict[str, float]] = deque(maxlen=UMAP_TIMINGS_KEPT)  # the newest layouts' timings
        self.kmeans_labels: dict[tuple[int, int], np.ndarray] = {}
        self.drift: dict[int, float] = {}
        self._umap_pending, self._drift_pending = PendingScan(), PendingScan()  # (see PendingScan)
        self.shown_index: int | None = None  # the snapshot shown (resolved)
        self.generation = model.generation
        self._matrix_cache: dict[int, np.ndarray] = {}
        self._warm_started = False
        self._closed = False
        self.jobs = JobThread("embedding-jobs", ("frame", "kmeans", "encode", "drift", "prefetch"), self)
        self.umap_jobs = JobThread("umap-jobs", ("warmup", "umap"), self)
        for j in (self.jobs, self.umap_jobs):
            j.done.connect(self._job_done)
            j.yielded.connect(self._job_done)
            j.failed.connect(self._job_failed)
        self.search = SentenceSearch(self.jobs, self)
        self._tracker, self._hav_tracker = self._new_trackers()
        self._sched_timer = QTimer(self, singleShot=True, interval=SCHEDULE_MS)
        self._sched_timer.timeout.connect(self._schedule_background)
        # while training runs in this process, UMAP (whose numba epochs hold the GIL) takes
        # at most 1 / (1 + UMAP_REST) of the time: one layout, then a rest of UMAP_REST x its time
        self._umap_rest_until = 0.0
        self._umap_rest_timer = QTimer(self, singleShot=True)
        self._umap_rest_timer.timeout.connect(self._schedule_background)
        self._listeners = [("sphere_method", self._on_sphere_method), ("umap_every", self._on_cadence),
                           ("umap_enabled", self._on_cadence)]
        for name, fn in self._listeners:
            view_state.connect(name, fn)
        model.subscribe(self._on_model)

    def catch_up(self) -> None:
        """Take in what the model already holds (call once the signals are connected)."""
        if self.model.snapshots:
            self._on_model(self.model.latest)

    # ================================================================ lifecycle
    @property
    def busy(self) -> bool:
        return self.jobs.busy or self.umap_jobs.busy

    def start_warmup(self) -> None:
        """Compile (or load from the disk cache) umap's numba code in the UMAP thread now,
        so the first refresh is quick."""
        if not self._warm_started:
            self._warm_started = True
            self.umap_jobs.submit("warmup", warm_up_umap, token=("warmup", self.generation))

    def shutdown(self) -> None:
        """Stop the worker threads (waits for a running job) and stop listening."""
        self._closed = True
        self._sched_timer.stop()
        self._umap_rest_timer.stop()
        for name, fn in self._listeners:
            self.view_state.disconnect(name, fn)
        self.jobs.shutdown()
        self.umap_jobs.shutdown()

    def schedule(self) -> None:
        """Plan background work soon (UMAP, drift, frame prefetch)."""
        if not self._closed:
            self._sched_timer.start()

    # ================================================================ model
    def _new_trackers(self) -> tuple[UmapTracker, UmapTracker | None]:
        hav = UmapTracker(method="haversine") if self.view_state.sphere_method == "umap" else None
        return UmapTracker(method="euclidean"), hav

    def _reset(self) -> None:
        self.generation = self.model.generation
        self.jobs.cancel()
        self.umap_jobs.cancel("umap")
        for cache in (self.frames, self.umap, self.umap_sphere, self.umap_made, self.kmeans_labels, self.drift,
                      self._matrix_cache):
            cache.clear()
        self._umap_pending, self._drift_pending = PendingScan(), PendingScan()
        self._tracker, self._hav_tracker = self._new_trackers()
        self.shown_index = None
        self.search.reset(self.generation)
        self.run_reset.emit()

    def _on_model(self, snap: Any) -> None:
        if self._closed:
            return
        if snap is None or self.model.generation != self.generation:
            self._reset()
            if snap is None:
                return
        self.snapshot_added.emit(snap)
        self.schedule()

    def probe_request(self, index: int) -> ProbeRequest:
        """What a job needs of snapshot ``index``'s probe embeddings (see the module note)."""
        snap = self.model.snapshots[index]
        if snap.probe_embeddings is not None:
            return ProbeRequest(index, snap.step, array=snap.probe_embeddings)
        return ProbeRequest(index, snap.step, load=partial(self.model.probe_matrix, index))

    def resolve(self, index: int) -> int | None:
        """The snapshot with probe embeddings nearest ``index`` (-1: the newest), at or
        before it first."""
        n = len(self.model.snapshots)
        if n == 0:
            return None
        i = n - 1 if index < 0 or index >= n else index
        for j in range(i, -1, -1):  # lazily: the newest usually has one (no list of every index)
            if self.model.has_probe(j):
                return j
        for j in range(i + 1, n):
            if self.model.has_probe(j):
                return j
        return None

    def show(self, index: int) -> int | None:
        """Resolve ``index`` (the view state's snapshot index) into :attr:`shown_index` and
        ask for its frame when it is not cached."""
        idx = self.resolve(index)
        if idx is None:
            return None
        self.shown_index = idx
        if idx not in self.frames:
            ref_at = nearest_key(self.frames, idx)
            ref = None if ref_at is None else self.frames[ref_at]
            self.jobs.submit("frame", frame_job, self.probe_request(idx), ref, token=("frame", self.generation, idx))
        if not self._sched_timer.isActive():
            # and the frames around it, for a smooth replay from there (also when its own
            # frame is cached: its neighbours may not be); at most once a SCHEDULE_MS while scrubbing
            self.schedule()
        return idx

    def first_index(self) -> int | None:
        for j in range(len(self.model.snapshots)):
            if self.model.has_probe(j):
                return j
        return None

    def matrix(self, index: int | None = None) -> np.ndarray | None:
        """Float32 probe embeddings of a snapshot, on the GUI thread (the shown and the
        first ones are cached)."""
        i = self.shown_index if index is None else index
        if i is None:
            return None
        X = self._matrix_cache.get(i)
        if X is None:
            X = self.model.probe_matrix(i)
            if X is None:
                return None
            keep = {self.shown_index, self.first_index()}
            self._matrix_cache = {k: v for k, v in self._matrix_cache.items() if k in keep}
            self._matrix_cache[i] = X
        return X

    # ================================================================ what to draw
    def frame_to_draw(self) -> Frame | None:
        """The shown snapshot's frame, else the nearest one cached (while it is made)."""
        if self.shown_index is None:
            return None
        f = self.frames.get(self.shown_index)
        if f is None:
            f = self.frames.get(nearest_key(self.frames, self.shown_index))
        return f

    def sphere_xyz(self, frame: Frame) -> np.ndarray:
        """The sphere positions (P, 3) shown with ``frame``: raw directions, PCA, or
        haversine UMAP."""
        if self.view_state.sphere_method == "raw" and frame.raw_xyz is not None:
            return frame.raw_xyz
        if self.view_state.sphere_method == "umap":
            j = nearest_key(self.umap_sphere, self.shown_index)
            if j is not None:
                return self.umap_sphere[j]
        return frame.xyz

    def umap_index(self) -> int | None:
        """The snapshot whose UMAP layout is shown (nearest at or before the shown one)."""
        return nearest_key(self.umap, self.shown_index)

    def umap_layout(self) -> np.ndarray | None:
        j = self.umap_index()
        return None if j is None else self.umap[j]

    def kmeans(self, k: int) -> np.ndarray | None:
        """k-means labels of the shown snapshot when cached; else None and they are
        computed (``kmeans_ready`` follows)."""
        idx = self.shown_index
        if idx is None:
            return None
        labels = self.kmeans_labels.get((idx, k))
        if labels is None:
            self.jobs.submit("kmeans", kmeans_job, self.probe_request(idx), k,
                             token=("kmeans", self.generation, idx, k))
        return labels

    def drift_series(self) -> tuple[np.ndarray, np.ndarray]:
        """(snapshot indices, mean kNN overlap@10 with the first snapshot)."""
        idx = sorted(self.drift)
        return np.array(idx, dtype=np.int64), np.array([self.drift[i] for i in idx])

    # ================================================================ background scheduling
    def _on_cadence(self, _value: Any) -> None:
        self._umap_pending = PendingScan()  # another cadence picks other snapshots
        self.umap_made.intersection_update(self.umap)  # thinned ones may be wanted again
        self.schedule()

    def _on_sphere_method(self, _method: str) -> None:
        self.umap_jobs.cancel("umap")
        self.umap.clear()
        self.umap_sphere.clear()
        self.umap_made.clear()
        self._umap_pending = PendingScan()
        self._tracker, self._hav_tracker = self._new_trackers()
        self.schedule()

    def _umap_wanted(self, probe_idx: list[int]) -> list[int]:
        """The UMAP layouts to compute now, in order (none while resting)."""
        every = self.view_state.umap_every
        want = self._umap_pending.update(probe_idx, self.umap_made.__contains__, lambda k: k % every == 0)
        if self.model.finished and probe_idx[-1] not in self.umap_made and probe_idx[-1] not in want:
            want.append(probe_idx[-1])
        missing = umap_order(want, self.shown_index)
        if missing and self.trainer_running():
            wait = self._umap_rest_until - time.monotonic()
            if wait > 0:  # resting: let the trainer have the GIL
                if not self._umap_rest_timer.isActive():
                    self._umap_rest_timer.start(int(wait * 1000) + 1)
                return []
            return missing[:1]
        return missing

    def _schedule_background(self) -> None:
        """UMAP every N snapshots (and the last of a finished run), drift, frame prefetch."""
        if self._closed or not self.active() or not self.model.snapshots:
            return
        probe_idx = self.model.probe_indices()
        if not probe_idx:
            return
        gen = self.generation
        if self.view_state.umap_enabled:
            missing = self._umap_wanted(probe_idx)
            if missing:
                reqs = tuple(self.probe_request(i) for i in missing)
                self.umap_jobs.submit("umap", umap_job, self._tracker, self._hav_tracker, reqs, token=("umap", gen))
        missing = self._drift_pending.update(probe_idx, self.drift.__contains__)
        if missing:  # requests for the missing ones only: no O(snapshots) work per snapshot
            reqs = tuple(self.probe_request(i) for i in missing)
            self.jobs.submit("drift", drift_job, self.probe_request(probe_idx[0]), reqs, frozenset(),
                             token=("drift", gen))
        window = self.frame_window(probe_idx)
        if any(i not in self.frames for i in window):
            before = [i for i in self.frames if i < window[0]]
            chain = ([max(before)] if before else []) + window  # aligned to the frame before the window
            reqs = tuple(self.probe_request(i) for i in chain)
            have = {i: self.frames[i] for i in chain if i in self.frames}
            self.jobs.submit("prefetch", prefetch_job, reqs, have, token=("prefetch", gen))

    def frame_window(self, probe_idx: list[int]) -> list[int]:
        """The probe snapshots whose frames are prefetched: :data:`FRAME_WINDOW` of them
        around the shown one (the newest while following), for a smooth replay there."""
        if len(probe_idx) <= FRAME_WINDOW:
            return list(probe_idx)
        centre = self.shown_index if self.shown_index is not None else probe_idx[-1]
        pos = min(bisect.bisect_left(probe_idx, centre), len(probe_idx) - 1)
        start = min(max(0, pos - FRAME_WINDOW // 2), len(probe_idx) - FRAME_WINDOW)
        return list(probe_idx[start : start + FRAME_WINDOW])

    # ================================================================ job results
    def _job_done(self, channel: str, token: Any, result: Any) -> None:
        if channel == "warmup":
            self.warmed_up.emit(result)
            return
        handler = {"frame": self._frame_done, "prefetch": self._frame_done, "kmeans": self._kmeans_done,
                   "drift": self._drift_done, "umap": self._umap_done}.get(channel)
        if handler is None or token[1] != self.generation or result is None:
            return  # another owner's channel (search), or an old run's result
        handler(token, result)

    def _frame_done(self, _token: Any, f: Frame) -> None:
        if f.index not in self.frames:  # the first frame made of a snapshot stays (no jump)
            self.frames[f.index] = f
            self._evict_frames()
            self.frame_ready.emit(f.index)

    def _evict_frames(self) -> None:
        """Keep at most :data:`MAX_FRAMES` frames: those farthest from the shown snapshot
        go first (a long run's memory stays bounded; a frame comes back on demand)."""
        excess = len(self.frames) - MAX_FRAMES
        if excess <= 0:
            return
        centre = self.shown_index if self.shown_index is not None else max(self.frames)
        far = sorted(self.frames, key=lambda i: -abs(i - centre))
        for i in far[:excess]:
            if i != centre:
                del self.frames[i]

    def _kmeans_done(self, token: Any, labels: np.ndarray) -> None:
        _, _, idx, k = token
        self.kmeans_labels[(idx, k)] = labels
        self.kmeans_ready.emit(idx, k)

    def _drift_done(self, _token: Any, result: tuple[int, float]) -> None:
        i, v = result
        self.drift[i] = v
        self.drift_updated.emit()

    def _umap_done(self, _token: Any, result: tuple) -> None:
        i, layout, sph, timings = result
        self.umap[i] = layout
        self.umap_made.add(i)
        if sph is not None:
            self.umap_sphere[i] = sph
        for k in thin_layouts(self.umap, MAX_UMAP_LAYOUTS, keep=(i, self.umap_index())):
            self.umap.pop(k, None)
            self.umap_sphere.pop(k, None)
        self.umap_timings.append(timings)
        if self.trainer_running():
            rest = UMAP_REST * float(timings.get("total", 0.0))
            self._umap_rest_until = time.monotonic() + rest
            self._umap_rest_timer.start(int(rest * 1000) + 1)  # then the next layout
        self.umap_updated.emit(i)

    def _job_failed(self, channel: str, token: Any, message: str) -> None:
        if channel not in SEARCH_CHANNELS:  # the search reports its own
            self.failed.emit(f"{channel} failed: {message}")
