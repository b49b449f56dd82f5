"""The "Embedding space" tab: sphere (3D, or a 2D map without OpenGL), Hammer map,
S1 circle and UMAP of the probe embeddings, a colour legend, the timeline bar, and
the "Neighbours" panel (placed in a dock by the main window).

:class:`EmbeddingViews` is the controller. It reads the :class:`~app.state.run_model.RunModel`
(subscribing to new snapshots) and talks to the rest of the studio only through the
shared :class:`~app.state.selection.Selection` (corpus ids): it emits ``select`` on a click,
and draws ``selected``, ``pair_highlighted``, ``edges_changed`` and ``step_changed``.

Work off the GUI thread (:class:`~app.embedding_tab.job_thread.JobThread`, newest request
wins): PCA frames (cached per snapshot, Procrustes-chained), k-means colourings, the
mean-kNN-overlap drift curve, encoding a typed sentence; UMAP (warm-started
:class:`~simcse_core.projection.UmapTracker`) on a thread of its own. Nothing heavy
runs while the tab is hidden; showing it catches up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from simcse_core.projection import (
    UmapTracker,
    hammer,
    hammer_graticule,
    kmeans,
    mean_knn_overlap,
    subsample_indices,
    warm_up_umap,
)

from app.state.run_model import RunModel
from app.embedding_tab.job_thread import JobThread
from app.state.selection import Selection
from app.embedding_tab.geometry import (
    Colouring,
    Frame,
    build_frame,
    cluster_colouring,
    corpus_matches,
    corpus_outside_probe,
    label_colouring,
    overlap_at_k,
    place_by_neighbours,
    place_vector,
    search_texts,
    single_colouring,
    top_k,
)
from app.embedding_tab.map_view import MapView
from app.embedding_tab.sphere3d import gl_available, make_sphere_view
from app.embedding_tab.widgets import Legend, NeighbourPanel, TimelineBar

log = logging.getLogger(__name__)

MAX_POINTS = 20_000  # above this a deterministic subsample is drawn
DRIFT_K = 10
DRIFT_MAX_ROWS = 2000  # mean kNN overlap on a fixed subsample of query points above this
REDRAW_MS = 50
UMAP_REST = 2.0  # while training runs in this process: rest 2x a layout's time after it (UMAP <= 1/3)


def _lambert_outline() -> list[np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 181)
    out = [np.column_stack([2 * np.cos(t), 2 * np.sin(t)])]
    for r in (2 * np.sin(np.radians(a) / 2) for a in (45, 90, 135)):
        out.append(np.column_stack([r * np.cos(t), r * np.sin(t)]))
    return out


def _circle_outline() -> list[np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 181)
    return [np.column_stack([np.cos(t), np.sin(t)])]


# ---------------------------------------------------------------- worker jobs (no Qt)
def _frame_job(model: RunModel, index: int, step: int, ref: Frame | None) -> Frame | None:
    X = model.probe_matrix(index)
    return None if X is None else build_frame(index, step, X, ref)


def _prefetch_job(model: RunModel, indices: list[int], frames: dict[int, Frame]):
    """Frames of ``indices`` in order, each aligned to the one before (a smooth replay)."""
    ref = None
    for i in indices:
        f = frames.get(i)
        if f is None:
            X = model.probe_matrix(i)
            if X is None:
                continue
            f = build_frame(i, model.snapshots[i].step, X, ref)
            yield f
        ref = f


def _kmeans_job(model: RunModel, index: int, k: int) -> np.ndarray | None:
    X = model.probe_matrix(index)
    return None if X is None else kmeans(X, k)


def _drift_job(model: RunModel, first: int, indices: list[int], done: dict[int, float]):
    X0 = model.probe_matrix(first)
    if X0 is None or X0.shape[0] <= DRIFT_K:
        return
    rows = DRIFT_MAX_ROWS if X0.shape[0] > DRIFT_MAX_ROWS else None
    for i in indices:
        if i in done:
            continue
        Xi = model.probe_matrix(i)
        if Xi is None or Xi.shape != X0.shape:
            continue
        yield i, mean_knn_overlap(X0, Xi, k=DRIFT_K, max_rows=rows)


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


def _umap_job(model: RunModel, tracker: UmapTracker, hav: UmapTracker | None, indices: list[int],
              done: dict[int, Any]):
    for i in indices:
        if i in done:
            continue
        X = model.probe_matrix(i)
        if X is None:
            continue
        layout = tracker.update(X).astype(np.float32)
        timings = dict(tracker.timings)
        sph = hav.update(X).astype(np.float32) if hav is not None else None
        yield i, layout, sph, timings


_ENCODERS: dict[str, Any] = {}  # touched by the job thread only


def _corpus_job(train_file: str | None, text_column: str | None, mode: str,
                probe_texts: set[str]) -> tuple[tuple[list[str], list[str]] | None, str]:
    """((the run's corpus sentences outside the probe set, casefolded), "") or (None, why
    not): the demo corpus when the run names no file; for supervised runs every sentence
    of the triplets."""
    from simcse_core.data import read_corpus, read_triplets
    from simcse_core.errors import DataError

    try:
        if not train_file:
            from simcse_core.data import load_default_corpus

            sentences = load_default_corpus(text_column=text_column).sentences
        elif not Path(train_file).is_file():
            return None, f"file {train_file} not found (searching the probe set only)"
        elif mode == "sup":
            t = read_triplets(train_file)
            sentences = t.sent0 + t.sent1 + (t.hard_neg or [])
        else:
            sentences = read_corpus(train_file, text_column=text_column).sentences
    except DataError as e:
        return None, str(e)
    return corpus_outside_probe(sentences, probe_texts), ""


def _encode_job(text: str, spec: str, kw: dict[str, Any]) -> tuple[str, np.ndarray, str]:
    from simcse_core.model import load_model

    key = f"{spec}|{sorted(kw.items())}"
    enc = _ENCODERS.get(key)
    if enc is None:
        _ENCODERS.clear()  # one model in memory at a time
        enc = load_model(spec, **kw)
        _ENCODERS[key] = enc
    vec = enc.encode([text], normalize=True)[0].astype(np.float32)
    return text, vec, spec


def _warm_job() -> dict[str, float]:
    return warm_up_umap()


class EmbeddingViews(QWidget):
    """The embedding tab's widget and controller.

    Signals: ``frame_drawn(int)`` (snapshot index drawn), ``umap_updated(int)``,
    ``drift_updated()``, ``colouring_changed(str)``, ``embedded(dict)``,
    ``region_changed(object)`` (probe rows), ``neighbours_updated()``.
    """

    frame_drawn = Signal(int)
    umap_updated = Signal(int)
    drift_updated = Signal()
    colouring_changed = Signal(str)
    embedded = Signal(object)
    region_changed = Signal(object)
    neighbours_updated = Signal()
    warmed_up = Signal(object)

    def __init__(self, model: RunModel, selection: Selection, parent: QWidget | None = None,
                 max_points: int = MAX_POINTS, use_gl: bool | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.selection = selection
        self.max_points = max_points
        self.umap_every = 5
        self.umap_enabled = True
        self.sphere_method = "pca"  # or "umap": UMAP with haversine output on S2
        self.frames: dict[int, Frame] = {}
        self.umap: dict[int, np.ndarray] = {}
        self.umap_sphere: dict[int, np.ndarray] = {}
        self.umap_timings: list[dict[str, float]] = []
        self.kmeans_labels: dict[tuple[int, int], np.ndarray] = {}
        self.drift: dict[int, float] = {}
        self.requested = -1  # the timeline's index (-1: newest)
        self.index: int | None = None  # the snapshot index shown (resolved)
        self.drawn_index: int | None = None  # the frame index actually drawn
        self.colouring: Colouring | None = None
        self.colour_by = ""
        self.hidden: set[int] = set()
        self.row_of: dict[int, int] = {}
        self.selected_row: int | None = None
        self.neighbour_rows = np.zeros(0, dtype=np.int64)
        self.neighbour_sims = np.zeros(0, dtype=np.float32)
        self.region_rows = np.zeros(0, dtype=np.int64)
        self.embedded_item: dict[str, Any] | None = None
        # the run's corpus sentences outside the probe set (and casefolded), read in a worker
        # on the first search; each search of them runs in the worker too
        self.corpus_texts: list[str] | None = None
        self._corpus_folded: list[str] = []
        self._corpus_state = ""  # "" | "reading" | "read" | "unavailable: <why>"
        self._search_rows: list[int] = []
        self._matrix_cache: dict[int, np.ndarray] = {}
        self._shown_key: Any = None
        self._shown: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._dirty = True
        self._generation = model.generation
        self._warm_started = False

        ok, why = gl_available() if use_gl is None or use_gl else (False, "disabled")
        self.gl_enabled = ok
        self.gl_reason = why
        self._build()
        self.jobs = JobThread("embedding-jobs", ("frame", "kmeans", "encode", "drift", "prefetch"), self)
        self.umap_jobs = JobThread("umap-jobs", ("warmup", "umap"), self)
        for j in (self.jobs, self.umap_jobs):
            j.done.connect(self._job_done)
            j.yielded.connect(self._job_done)
            j.failed.connect(self._job_failed)
        self._tracker, self._hav_tracker = self._new_trackers()

        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self._sched_timer = QTimer(self, singleShot=True, interval=150)
        self._sched_timer.timeout.connect(self._schedule_background)
        # while training runs in this process, UMAP (whose numba epochs hold the GIL) takes
        # at most 1 / (1 + UMAP_REST) of the time: one layout, then a rest of UMAP_REST x its time
        self.trainer_running: Callable[[], bool] = lambda: False  # set by the main window
        self._umap_rest_until = 0.0
        self._umap_rest_timer = QTimer(self, singleShot=True)
        self._umap_rest_timer.timeout.connect(self._schedule_background)

        model.subscribe(self._on_model)
        selection.selected.connect(self._on_selected)
        selection.pair_highlighted.connect(lambda _p: self.request_redraw())
        selection.edges_changed.connect(lambda _e: self.request_redraw())
        selection.step_changed.connect(self._on_step_changed)
        if model.snapshots:
            self._on_model(model.latest)

    # ================================================================ layout
    def _build(self) -> None:
        text_of = self.text_of
        self.hammer_view = MapView("Sphere, Hammer equal-area map", text_of)
        self.hammer_view.set_background(hammer_graticule())
        self.hammer_view.fixed_range(2.85, 1.45)
        self.circle_view = MapView("S1: PCA-2 normalised, vMF density of angles", text_of)
        self.circle_view.set_background(_circle_outline())
        self.circle_view.fixed_range(1.4, 1.4)
        self.umap_view = MapView("UMAP (warm-started, Procrustes-aligned)", text_of)
        if self.gl_enabled:
            try:
                self.sphere_view = make_sphere_view(text_of)
            except Exception as e:  # a GL failure at build time: fall back, never crash
                log.warning("3D sphere unavailable: %s", e)
                self.gl_enabled, self.gl_reason = False, f"{type(e).__name__}: {e}"
        if not self.gl_enabled:
            self.sphere_view = MapView(f"Sphere, Lambert azimuthal map (no 3D: {self.gl_reason})", text_of)
            self.sphere_view.set_background(_lambert_outline())
            self.sphere_view.fixed_range(2.05, 2.05)
        self.map_views = [self.hammer_view, self.circle_view, self.umap_view]
        if not self.gl_enabled:
            self.map_views.append(self.sphere_view)
        for v in self.map_views:
            v.point_clicked.connect(self._row_clicked)
            v.region_selected.connect(self._region_selected)
        if self.gl_enabled:
            self.sphere_view.point_clicked.connect(self._row_clicked)

        self.legend = Legend()
        self.legend.setMaximumWidth(190)
        self.sphere_method_box = QComboBox()
        self.sphere_method_box.addItems(["sphere: PCA-3, normalised", "sphere: UMAP (haversine)"])
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #555;")
        side = QVBoxLayout()
        side.addWidget(self.legend, 1)
        side.addWidget(self.sphere_method_box)
        side.addWidget(self.info)
        side_w = QWidget()
        side_w.setLayout(side)
        side_w.setMaximumWidth(260)  # room for labels at presentation font sizes

        grid = QGridLayout()
        grid.setSpacing(2)
        if self.gl_enabled:
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.setSpacing(0)
            title = QLabel("Sphere, 3D (drag: rotate, wheel: zoom)")
            title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            bl.addWidget(title)
            bl.addWidget(self.sphere_view, 1)
            grid.addWidget(box, 0, 0)
        else:
            grid.addWidget(self.sphere_view, 0, 0)
        grid.addWidget(self.hammer_view, 0, 1)
        grid.addWidget(self.circle_view, 1, 0)
        grid.addWidget(self.umap_view, 1, 1)
        top = QHBoxLayout()
        top.addWidget(side_w)
        top.addLayout(grid, 1)
        self.timeline = TimelineBar()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top, 1)
        lay.addWidget(self.timeline)

        self.panel = NeighbourPanel()
        self.panel.row_activated.connect(self._row_clicked)
        self.panel.search_requested.connect(self.search)
        self.panel.embed_requested.connect(self.embed_text)
        self.panel.k_changed.connect(lambda _k: self._update_neighbours())
        self.legend.colour_by_changed.connect(self.set_colour_by)
        self.legend.group_toggled.connect(self.set_group_visible)
        self.timeline.index_changed.connect(self.selection.show_snapshot)
        self.timeline.umap_every_changed.connect(self.set_umap_every)
        self.sphere_method_box.currentIndexChanged.connect(
            lambda i: self.set_sphere_method("umap" if i == 1 else "pca"))

    # ================================================================ helpers
    def text_of(self, row: int) -> str:
        texts = self.model.probe_texts
        if texts is not None and 0 <= row < len(texts):
            extra = ""
            cols = self.model.probe_columns or {}
            if cols:
                extra = "\n" + ", ".join(f"{k}: {v[row]}" for k, v in cols.items() if row < len(v))
            return texts[row] + extra
        return f"probe row {row}"

    def _texts(self) -> list[str]:
        return self.model.probe_texts or []

    def active(self) -> bool:
        """Whether the tab is on screen (heavy work waits until it is)."""
        return self.isVisible()

    def _new_trackers(self) -> tuple[UmapTracker, UmapTracker | None]:
        hav = UmapTracker(method="haversine") if self.sphere_method == "umap" else None
        return UmapTracker(method="euclidean"), hav

    def start_warmup(self) -> None:
        """Compile (or load from the disk cache) umap's numba code in the UMAP thread now,
        so the first refresh is quick. Called once at launch."""
        if not self._warm_started:
            self._warm_started = True
            self.umap_jobs.submit("warmup", _warm_job, token=("warmup", self._generation))

    def shutdown(self) -> None:
        """Stop the worker threads (waits for a running job)."""
        self._redraw_timer.stop()
        self._sched_timer.stop()
        self.timeline.timer.stop()
        self.jobs.shutdown()
        self.umap_jobs.shutdown()

    @property
    def busy(self) -> bool:
        return self.jobs.busy or self.umap_jobs.busy

    def resolve(self, index: int) -> int | None:
        """The snapshot with probe embeddings nearest ``index`` (at or before it first)."""
        n = len(self.model.snapshots)
        if n == 0:
            return None
        i = n - 1 if index < 0 or index >= n else index
        for j in range(i, -1, -1):
            if self.model.has_probe(j):
                return j
        for j in range(i + 1, n):
            if self.model.has_probe(j):
                return j
        return None

    def matrix(self, index: int | None = None) -> np.ndarray | None:
        """Float32 probe embeddings of a snapshot (cached for the shown and first ones)."""
        i = self.index if index is None else index
        if i is None:
            return None
        X = self._matrix_cache.get(i)
        if X is None:
            X = self.model.probe_matrix(i)
            if X is None:
                return None
            keep = {self.index, self._first_index()}
            self._matrix_cache = {k: v for k, v in self._matrix_cache.items() if k in keep}
            self._matrix_cache[i] = X
        return X

    def _first_index(self) -> int | None:
        for j in range(len(self.model.snapshots)):
            if self.model.has_probe(j):
                return j
        return None

    def _nearest(self, cache: dict[int, Any], index: int | None) -> int | None:
        if not cache or index is None:
            return None
        keys = np.fromiter(cache.keys(), dtype=np.int64)
        below = keys[keys <= index]
        return int(below.max()) if below.size else int(keys.min())

    # ================================================================ model events
    def _reset(self) -> None:
        self._generation = self.model.generation
        self.jobs.cancel()
        self.umap_jobs.cancel("umap")
        self.frames.clear()
        self.umap.clear()
        self.umap_sphere.clear()
        self.kmeans_labels.clear()
        self.drift.clear()
        self._matrix_cache.clear()
        self._tracker, self._hav_tracker = self._new_trackers()
        self.row_of = {}
        self.index = self.drawn_index = None
        self.selected_row = None
        self.neighbour_rows = np.zeros(0, dtype=np.int64)
        self.region_rows = np.zeros(0, dtype=np.int64)
        self.embedded_item = None
        self.corpus_texts, self._corpus_folded, self._corpus_state = None, [], ""
        self.colouring = None
        self._shown_key = None
        self.hidden = set()
        self.timeline.set_count(0)
        self.timeline.set_position(-1, None, None)
        for v in self.map_views:
            v.clear_points()
        if self.gl_enabled:
            self.sphere_view.clear_points()
        self.panel.show_neighbours(np.zeros(0), np.zeros(0), [])
        self.panel.drift_curve.setData([], [])
        self.panel.region.clear()

    def _on_model(self, snap: Any) -> None:
        if snap is None or self.model.generation != self._generation:
            self._reset()
            if snap is None:
                return
        if not self.row_of and self.model.probe_ids is not None:
            self.row_of = {int(c): i for i, c in enumerate(self.model.probe_ids)}
        if self.colouring is None and self.model.probe_texts is not None:
            self.legend.set_options(list((self.model.probe_columns or {}).keys()))
            self.set_colour_by(self.legend.combo.currentText())
        self.timeline.set_count(len(self.model.snapshots))
        if self.requested < 0:
            self._show()
        self._sched_timer.start()

    def _on_step_changed(self, index: int) -> None:
        self.requested = int(index)
        self._show()

    def show_index(self, index: int) -> None:
        """Show snapshot ``index`` (-1: the newest), as the timeline does."""
        self.selection.show_snapshot(index)
        if self.requested != index:  # the selection already had this index
            self._on_step_changed(index)

    def _show(self) -> None:
        idx = self.resolve(self.requested)
        if idx is None:
            return
        changed = idx != self.index
        self.index = idx
        snap = self.model.snapshots[idx]
        self.timeline.set_position(self.requested if self.requested >= 0 else len(self.model.snapshots) - 1,
                                   snap.step, snap.total_steps)
        if idx not in self.frames:
            ref = self.frames.get(self._nearest(self.frames, idx)) if self.frames else None
            self.jobs.submit("frame", _frame_job, self.model, idx, snap.step, ref,
                             token=("frame", self._generation, idx))
        if self.colour_by == "k-means":
            self._request_kmeans()
        if changed:
            self._update_neighbours()
        self.request_redraw()

    # ================================================================ background scheduling
    def _schedule_background(self) -> None:
        """UMAP every N snapshots (and the last of a finished run), drift, frame prefetch."""
        if not self.active() or not self.model.snapshots:
            return
        probe_idx = self.model.probe_indices()
        if not probe_idx:
            return
        gen = self._generation
        if self.umap_enabled:
            want = [i for k, i in enumerate(probe_idx) if k % self.umap_every == 0]
            if self.model.finished and probe_idx[-1] not in want:
                want.append(probe_idx[-1])
            missing = [i for i in want if i not in self.umap]
            missing = umap_order(missing, self.index)
            if missing and self.trainer_running():
                wait = self._umap_rest_until - time.monotonic()
                if wait > 0:  # resting: let the trainer have the GIL
                    missing = []
                    if not self._umap_rest_timer.isActive():
                        self._umap_rest_timer.start(int(wait * 1000) + 1)
                else:
                    missing = missing[:1]
            if missing:
                self.umap_jobs.submit("umap", _umap_job, self.model, self._tracker, self._hav_tracker, missing,
                                      self.umap, token=("umap", gen))
        missing = [i for i in probe_idx if i not in self.drift]
        if missing and len(probe_idx) > 0:
            self.jobs.submit("drift", _drift_job, self.model, probe_idx[0], probe_idx, dict(self.drift),
                             token=("drift", gen))
        if len(self.frames) < len(probe_idx):
            self.jobs.submit("prefetch", _prefetch_job, self.model, probe_idx, self.frames, token=("prefetch", gen))

    def set_umap_every(self, n: int) -> None:
        self.umap_every = max(1, int(n))
        if self.timeline.umap_every.value() != self.umap_every:
            self.timeline.umap_every.setValue(self.umap_every)
        self._sched_timer.start()

    def set_sphere_method(self, method: str) -> None:
        """"pca" (PCA-3, normalised) or "umap" (UMAP with haversine output)."""
        if method == self.sphere_method:
            return
        self.sphere_method = method
        self.umap_jobs.cancel("umap")
        self.umap.clear()
        self.umap_sphere.clear()
        self._tracker, self._hav_tracker = self._new_trackers()
        i = 1 if method == "umap" else 0
        if self.sphere_method_box.currentIndex() != i:
            self.sphere_method_box.setCurrentIndex(i)
        self._sched_timer.start()
        self.request_redraw()

    # ================================================================ job results
    def _job_done(self, channel: str, token: Any, result: Any) -> None:
        if channel == "warmup":
            self.warmed_up.emit(result)
            return
        if not isinstance(token, tuple) or token[1] != self._generation or result is None:
            return
        if channel in ("frame", "prefetch"):
            f: Frame = result
            self.frames[f.index] = f
            if f.index == self.index or self.drawn_index is None or (
                    self.drawn_index != self.index and f.index == self._nearest(self.frames, self.index)):
                self.request_redraw()
        elif channel == "kmeans":
            _, _, idx, k = token
            self.kmeans_labels[(idx, k)] = result
            if self.colour_by == "k-means" and idx == self.index and k == self.legend.k.value():
                self._apply_colouring(cluster_colouring(result, k))
        elif channel == "drift":
            i, v = result
            self.drift[i] = v
            self._draw_drift()
        elif channel == "umap":
            i, layout, sph, timings = result
            self.umap[i] = layout
            if sph is not None:
                self.umap_sphere[i] = sph
            self.umap_timings.append(timings)
            if self.trainer_running():
                rest = UMAP_REST * float(timings.get("total", 0.0))
                self._umap_rest_until = time.monotonic() + rest
                self._umap_rest_timer.start(int(rest * 1000) + 1)  # then the next layout
            self.umap_updated.emit(i)
            if self._nearest(self.umap, self.index) == i:
                self.request_redraw()
        elif channel == "encode":
            self._embedded_done(*result)
        elif channel == "corpus":
            prepared, why = result
            if prepared is not None:
                self.corpus_texts, self._corpus_folded = prepared
            self._corpus_state = "read" if prepared is not None else f"unavailable: {why}"
            if self.panel.search.text().strip():
                self.search(self.panel.search.text())
        elif channel == "corpus_search":
            q = token[2]
            if q == self.panel.search.text().strip():  # a newer query supersedes it
                self.panel.show_results(self._search_rows, self._texts(), result)
                self._search_status(q, self._search_rows, result)

    def _job_failed(self, channel: str, token: Any, message: str) -> None:
        self.panel.status.setText(f"{channel} failed: {message}")

    # ================================================================ colouring / legend
    def set_colour_by(self, name: str) -> None:
        """Colour by a probe label column, "k-means" (clusters of the shown snapshot's
        embeddings, computed in a worker) or "none"."""
        self.colour_by = name
        P = len(self.model.probe_ids) if self.model.probe_ids is not None else len(self._texts())
        cols = self.model.probe_columns or {}
        if self.legend.combo.currentText() != name and self.legend.combo.findText(name) >= 0:
            self.legend.combo.blockSignals(True)
            self.legend.combo.setCurrentText(name)
            self.legend.combo.blockSignals(False)
        if name in cols:
            self._apply_colouring(label_colouring(name, list(cols[name])))
        elif name == "k-means":
            if self.colouring is None:
                self._apply_colouring(single_colouring(P))
            self._request_kmeans()
        else:
            self._apply_colouring(single_colouring(P))

    def _request_kmeans(self) -> None:
        if self.index is None:
            return
        k = self.legend.k.value()
        labels = self.kmeans_labels.get((self.index, k))
        if labels is not None:
            c = cluster_colouring(labels, k)
            if self.colouring is None or self.colouring.name != c.name or not np.array_equal(c.codes, self.colouring.codes):
                self._apply_colouring(c)
            return
        self.jobs.submit("kmeans", _kmeans_job, self.model, self.index, k, token=("kmeans", self._generation, self.index, k))

    def _apply_colouring(self, c: Colouring) -> None:
        same_groups = self.colouring is not None and self.colouring.names == c.names
        self.colouring = c
        if not same_groups:
            self.hidden = set()
        self._brush_table = np.empty(c.n_groups, dtype=object)
        self._brush_table[:] = [QBrush(QColor(col)) for col in c.colors]  # built once per colouring
        self._rgba_table = np.array([QColor(col).getRgbF() for col in c.colors], dtype=np.float32)
        self._shown_key = None
        self.legend.set_colouring(c, self.hidden)
        self.colouring_changed.emit(c.name)
        self.request_redraw()

    def set_group_visible(self, group: int, visible: bool) -> None:
        """Hide or show a legend group (as clicking its legend entry does)."""
        if visible:
            self.hidden.discard(group)
        else:
            self.hidden.add(group)
        self._shown_key = None
        self.request_redraw()

    def shown_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows drawn, their brushes, their RGBA): the subsample minus hidden groups."""
        c = self.colouring
        P = 0 if c is None else c.codes.shape[0]
        key = (id(c), frozenset(self.hidden), P, self.max_points)
        if key != self._shown_key or self._shown is None:
            if c is None:
                self._shown = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), np.zeros((0, 4), np.float32))
            else:
                rows = subsample_indices(P, self.max_points)
                if self.hidden:
                    rows = rows[~np.isin(c.codes[rows], np.fromiter(self.hidden, dtype=np.int64))]
                codes = c.codes[rows]
                self._shown = (rows, self._brush_table[codes], self._rgba_table[codes])
            self._shown_key = key
        return self._shown

    # ================================================================ drawing
    def _umap_title_size(self) -> str:
        """The title's current size, so a scaled one (presentation mode) is kept."""
        return str(self.umap_view.getPlotItem().titleLabel.opts.get("size") or "9pt")

    def request_redraw(self) -> None:
        self._dirty = True
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        if self._dirty:
            self.request_redraw()
        self._sched_timer.start()

    def redraw_now(self) -> None:
        """Draw immediately (tests, benchmarks)."""
        self._redraw_timer.stop()
        self._redraw(force=True)

    def _frame_to_draw(self) -> Frame | None:
        if self.index is None:
            return None
        f = self.frames.get(self.index)
        if f is None:
            f = self.frames.get(self._nearest(self.frames, self.index))
        return f

    def sphere_xyz(self, frame: Frame) -> np.ndarray:
        """The sphere positions (P, 3) shown with ``frame``: PCA, or haversine UMAP."""
        if self.sphere_method == "umap":
            j = self._nearest(self.umap_sphere, self.index)
            if j is not None:
                return self.umap_sphere[j]
        return frame.xyz

    def umap_layout(self) -> np.ndarray | None:
        j = self._nearest(self.umap, self.index)
        return None if j is None else self.umap[j]

    def _redraw(self, force: bool = False) -> None:
        if not force and not self.active():
            return  # drawn when the tab is shown
        frame = self._frame_to_draw()
        if frame is None or self.colouring is None:
            return
        self._dirty = False
        rows, brushes, rgba = self.shown_rows()
        P = self.colouring.codes.shape[0]
        if frame.xyz.shape[0] != P:
            return
        xyz = self.sphere_xyz(frame)
        ham = frame.hammer if xyz is frame.xyz else hammer(xyz).astype(np.float32)
        self.hammer_view.set_points(rows, ham[rows], brushes)
        self.circle_view.set_points(rows, frame.circle[rows], brushes)
        r = 1.0 + 0.35 * frame.vmf_density / max(float(frame.vmf_density.max()), 1e-9)
        self.circle_view.extra_item.setData(r * np.cos(frame.vmf_t), r * np.sin(frame.vmf_t))
        if self.gl_enabled:
            self.sphere_view.set_points(rows, xyz[rows], rgba)
        else:
            from simcse_core.projection import lambert_azimuthal

            lam = frame.lambert if xyz is frame.xyz else lambert_azimuthal(xyz).astype(np.float32)
            self.sphere_view.set_points(rows, lam[rows], brushes)
        layout = self.umap_layout()
        if layout is not None and layout.shape[0] == P:
            self.umap_view.set_points(rows, layout[rows], brushes)
            j = self._nearest(self.umap, self.index)
            self.umap_view.setTitle(f"UMAP of step {self.model.snapshots[j].step:,}" if j is not None and j < len(
                self.model.snapshots) else "UMAP", size=self._umap_title_size())
        else:
            self.umap_view.scatter.setData(x=[], y=[])
            self.umap_view.rows = np.zeros(0, dtype=np.int64)
            self.umap_view.xy = np.zeros((0, 2), dtype=np.float32)
            self.umap_view._brushes = None
            self.umap_view.setTitle("UMAP (computing…)" if self.umap_enabled else "UMAP (off)",
                                    size=self._umap_title_size())
        self._draw_overlays(frame, xyz, ham, layout)
        self.drawn_index = frame.index
        self.info.setText(f"{P:,} probe sentences" + (f", {rows.size:,} drawn" if rows.size != P else "")
                          + ("" if self.gl_enabled else f"\n3D off: {self.gl_reason}"))
        self.frame_drawn.emit(frame.index)

    def _positions(self, frame: Frame, xyz: np.ndarray, ham: np.ndarray, layout: np.ndarray | None):
        """Per view: (view, positions (P, 2 or 3) or None)."""
        out = [(self.hammer_view, ham), (self.circle_view, frame.circle),
               (self.umap_view, layout if layout is not None and layout.shape[0] == ham.shape[0] else None)]
        if not self.gl_enabled:
            out.append((self.sphere_view, frame.lambert if xyz is frame.xyz else None))
        return out

    def _draw_overlays(self, frame: Frame, xyz: np.ndarray, ham: np.ndarray, layout: np.ndarray | None) -> None:
        sel = self.selected_row
        nb = self.neighbour_rows
        pair_rows = [self.row_of[c] for c in (self.selection.pair or ()) if c in self.row_of]
        edges = self.selection.edges
        e_anchor, e_rows, e_w = None, np.zeros(0, dtype=np.int64), np.zeros(0)
        if edges is not None and edges[0] in self.row_of:
            keep = [(self.row_of[int(t)], float(w)) for t, w in zip(edges[1], edges[2]) if int(t) in self.row_of]
            if keep:
                e_anchor = self.row_of[edges[0]]
                e_rows = np.array([k[0] for k in keep], dtype=np.int64)
                e_w = np.array([k[1] for k in keep])
        star = self._star_positions(frame, layout)
        for view, pos in self._positions(frame, xyz, ham, layout):
            if pos is None:
                view.set_overlays()
                view.set_edges(None, [], [])
                continue
            view.set_overlays(selected=None if sel is None else pos[sel:sel + 1],
                              neighbours=pos[nb] if nb.size else None,
                              pair=pos[pair_rows] if pair_rows else None,
                              star=star.get(view))
            view.set_edges(None if e_anchor is None else pos[e_anchor], pos[e_rows] if e_rows.size else [], e_w)
        if self.gl_enabled:
            marks = []
            for r in nb:
                marks.append((xyz[r], "#ff7f0e", 9.0))
            if sel is not None:
                marks.append((xyz[sel], "#000000", 14.0))
            for r in pair_rows:
                marks.append((xyz[r], "#e0007a", 16.0))
            if self.sphere_view in star:
                marks.append((star[self.sphere_view], "#ffd700", 18.0))
            self.sphere_view.set_marks(marks)
            self.sphere_view.set_edges(None if e_anchor is None else xyz[e_anchor],
                                       xyz[e_rows] if e_rows.size else [], e_w)

    def _star_positions(self, frame: Frame, layout: np.ndarray | None) -> dict:
        e = self.embedded_item
        if e is None or e["vec"].shape[0] != frame.basis3[0].shape[0]:
            return {}
        p = place_vector(frame, e["vec"])
        out: dict[Any, np.ndarray] = {self.hammer_view: p["hammer"][None], self.circle_view: p["circle"][None]}
        if self.gl_enabled:
            out[self.sphere_view] = p["xyz"]
        else:
            out[self.sphere_view] = p["lambert"][None]
        if layout is not None and e.get("rows") is not None and len(e["rows"]):
            out[self.umap_view] = place_by_neighbours(layout, e["rows"], e["sims"])[None]
        e["placed"] = {"xyz": p["xyz"], "hammer": p["hammer"], "circle": p["circle"],
                       "umap": out[self.umap_view][0] if self.umap_view in out else None}
        return out

    # ================================================================ selection, neighbours
    def _row_clicked(self, row: int) -> None:
        ids = self.model.probe_ids
        if ids is not None and 0 <= row < len(ids):
            self.selection.select(int(ids[row]))

    def _on_selected(self, cid: Any) -> None:
        self.selected_row = None if cid is None else self.row_of.get(int(cid))
        self._update_neighbours(prefer_selected=True)

    def _update_neighbours(self, prefer_selected: bool = False) -> None:
        """Fill the panel: the selected sentence's top-k neighbours by cosine in the full
        embedding space of the shown snapshot, its drift since step 0, its positive."""
        texts = self._texts()
        k = self.panel.k.value()
        X = self.matrix()
        row = self.selected_row
        p = self.panel
        if X is None:
            return
        if row is not None and (prefer_selected or self.embedded_item is None or not self.embedded_item.get("latest")):
            if self.embedded_item is not None:
                self.embedded_item["latest"] = False
            rows, sims = top_k(X, X[row], k, exclude=row)
            self.neighbour_rows, self.neighbour_sims = rows, sims
            p.selected_label.setText("<b>" + _esc(self.text_of(row)).replace("\n", "<br>") + "</b>")
            p.positive_label.setText(self._positive_text(row))
            p.show_neighbours(rows, sims, texts)
            first = self._first_index()
            X0 = self.matrix(first) if first is not None else None
            if X0 is not None and X0.shape == X.shape:
                rows0, _ = top_k(X0, X0[row], k, exclude=row)
                p.show_drift(rows0, rows, texts, overlap_at_k(rows0, rows), k,
                             self.model.snapshots[self.index].step if self.index is not None else None)
        elif self.embedded_item is not None and self.embedded_item["vec"].shape[0] == X.shape[1]:
            e = self.embedded_item
            rows, sims = top_k(X, e["vec"], k)
            e["rows"], e["sims"] = rows, sims
            self.neighbour_rows, self.neighbour_sims = rows, sims
            p.selected_label.setText(f"★ <b>{_esc(e['text'])}</b> (typed; encoded with {_esc(e['model'])})")
            p.positive_label.setText("")
            p.show_neighbours(rows, sims, texts)
        else:
            self.neighbour_rows = np.zeros(0, dtype=np.int64)
            self.neighbour_sims = np.zeros(0, dtype=np.float32)
            if row is None:
                p.selected_label.setText("click a point (or a search result)")
                p.positive_label.setText("")
                p.show_neighbours(self.neighbour_rows, self.neighbour_sims, texts)
        self.request_redraw()
        self.neighbours_updated.emit()

    def _positive_text(self, row: int) -> str:
        """The dropout positive: the same sentence's second view. Its cosine when the
        shown snapshot's last batch holds the sentence (batch_sim's diagonal)."""
        snap = self.model.snapshots[self.index] if self.index is not None else None
        cid = int(self.model.probe_ids[row]) if self.model.probe_ids is not None else None
        base = "red ring: its dropout positive (the same sentence, second dropout view)"
        if snap is None or snap.batch_ids is None or snap.batch_sim is None or cid is None:
            return base
        hit = np.flatnonzero(np.asarray(snap.batch_ids) == cid)
        if hit.size == 0 or hit[0] >= snap.batch_sim.shape[0]:
            return base + "; not in the last batch"
        j = int(hit[0])
        return base + f"; in the last batch: positive cosine {float(snap.batch_sim[j, j]):.3f}"

    def _region_selected(self, rows: np.ndarray) -> None:
        self.region_rows = np.asarray(rows, dtype=np.int64)
        self.panel.show_region(self.region_rows, self._texts())
        self.region_changed.emit(self.region_rows)

    # ================================================================ search / embed
    def search(self, query: str) -> list[int]:
        """Probe rows whose text contains ``query`` (case-insensitive), listed in the panel,
        followed by the run's corpus sentences outside the probe set that contain it
        (clicking one embeds and places it). The corpus is read in a worker on the first
        search, and searched in the worker; its hits fill in when they arrive."""
        rows = search_texts(self._texts(), query)
        q = query.strip()
        self._search_rows = rows
        self.panel.show_results(rows, self._texts())
        if q:
            if self.corpus_texts is None and not self._corpus_state:
                self._request_corpus()
            if self.corpus_texts is not None:
                self.jobs.submit("corpus_search", corpus_matches, self.corpus_texts, self._corpus_folded, q,
                                 token=("corpus_search", self._generation, q))
            self._search_status(q, rows, None)
        return rows

    def _search_status(self, q: str, rows: list[int], extra: list[str] | None) -> None:
        msg = f"{len(rows)} probe sentence(s) contain “{q}”" + (" (first 200)" if len(rows) >= 200 else "")
        if extra:
            msg += (f"; {len(extra)}{'+' if len(extra) >= 100 else ''} more in the corpus outside the probe "
                    "set (＋: click one to embed it)")
        elif extra is None and self._corpus_state in ("reading", "read"):
            msg += "; searching the corpus…"
        elif self._corpus_state.startswith("unavailable"):
            msg += f"; corpus {self._corpus_state}"
        self.panel.status.setText(msg)

    def _request_corpus(self) -> None:
        cfg = self.model.config or {}
        self._corpus_state = "reading"
        self.jobs.submit("corpus", _corpus_job, cfg.get("train_file"), cfg.get("text_column"),
                         cfg.get("mode", "unsup"), set(self._texts()), token=("corpus", self._generation))

    def model_for_step(self) -> tuple[str, dict[str, Any], str]:
        """(model spec, load_model kwargs, label) of the run's model at the shown step."""
        from simcse_core.runs import final_model_path

        cfg = self.model.config or {}
        step = self.model.snapshots[self.index].step if self.index is not None and self.model.snapshots else 0
        path = final_model_path(self.model.run_dir) if self.model.run_dir else None
        if step > 0 and path is not None:
            return str(path), {"max_seq_length": int(cfg.get("max_seq_length", 32))}, f"the run's model ({path.parent.name}/{path.name})"
        kw = {"pooler_type": cfg.get("pooler_type", "auto"), "mlp_only_train": bool(cfg.get("mlp_only_train", False)),
              "max_seq_length": int(cfg.get("max_seq_length", 32)), "seed": int(cfg.get("seed", 42))}
        spec = str(cfg.get("model_name_or_path", "default"))
        return spec, kw, f"the starting model ({spec})"

    def embed_text(self, text: str) -> bool:
        """Encode ``text`` in a worker with the run's current model and place it (★)."""
        text = text.strip()
        if not text or self.index is None:
            self.panel.status.setText("type a sentence to embed (a run must be shown)")
            return False
        spec, kw, label = self.model_for_step()
        self._embed_label = label
        self.panel.status.setText(f"encoding with {label}…")
        self.jobs.submit("encode", _encode_job, text, spec, kw, token=("encode", self._generation))
        return True

    def _embedded_done(self, text: str, vec: np.ndarray, spec: str) -> None:
        X = self.matrix()
        if X is None or X.shape[1] != vec.shape[0]:
            self.panel.status.setText(f"the model gives {vec.shape[0]} dims, the run's embeddings "
                                      f"{None if X is None else X.shape[1]}: cannot place it")
            return
        self.embedded_item = {"text": text, "vec": vec, "model": getattr(self, "_embed_label", spec), "latest": True}
        self.selection.select(None)
        self.selected_row = None
        self._update_neighbours()
        frame = self._frame_to_draw()
        if frame is not None:
            self._star_positions(frame, self.umap_layout())
        self.panel.status.setText(f"★ placed: “{text}”")
        self.redraw_now()
        self.embedded.emit(self.embedded_item)

    # ================================================================ drift
    def _draw_drift(self) -> None:
        if not self.drift:
            self.panel.drift_curve.setData([], [])
            return
        idx = sorted(i for i in self.drift if i < len(self.model.snapshots))
        x = np.array([self.model.snapshots[i].step for i in idx], dtype=np.float64)
        y = np.array([self.drift[i] for i in idx], dtype=np.float64)
        self.panel.drift_curve.setData(x, y)
        self.drift_updated.emit()

    def drift_series(self) -> tuple[np.ndarray, np.ndarray]:
        """(snapshot indices, mean kNN overlap@10 with the first snapshot)."""
        idx = sorted(self.drift)
        return np.array(idx, dtype=np.int64), np.array([self.drift[i] for i in idx])


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

