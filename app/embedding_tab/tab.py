"""The "Embedding space" tab: sphere (3D, or a 2D map without OpenGL), Hammer map,
S1 circle and UMAP of the probe embeddings, a colour legend, the timeline bar, and
the "Neighbours" panel (placed in a dock by the main window).

:class:`EmbeddingTab` is layout and drawing only. The shown snapshot, the colouring,
k, the sphere method and the UMAP cadence live in the :class:`~app.state.view_state.ViewState`:
the timeline, legend, k box, sphere-method box and UMAP-every box write it, and the tab
redraws on its events. Caches and background work are the
:class:`~app.embedding_tab.controller.EmbeddingController`'s; search and typed sentences
its :class:`~app.embedding_tab.search.SentenceSearch`'s. The tab talks to the rest of the
studio through the shared :class:`~app.state.selection.Selection` (corpus ids): it calls
``select`` on a click and draws ``selected``, ``pair_highlighted`` and ``edges_changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.embedding_tab.colours import PointColours
from app.embedding_tab.controller import EmbeddingController
from app.embedding_tab.controls import ViewStateControls, sphere_method_box
from app.embedding_tab.drawing import Marks, edge_marks, star_positions
from app.embedding_tab.geometry import Colouring, Frame, cluster_colouring, label_colouring, single_colouring
from app.embedding_tab.map_grid import MapGrid
from app.embedding_tab.neighbours import Neighbourhood, probe_text
from app.embedding_tab.search import SearchPresenter
from app.embedding_tab.widgets import Legend, NeighbourPanel, TimelineBar
from app.i18n import tr
from app.state.run_model import RunModel
from app.state.selection import Selection
from app.state.view_state import ViewState

MAX_POINTS = 20_000  # above this a deterministic subsample is drawn
REDRAW_MS = 50
DRIFT_MS = 500  # the kNN-overlap curve is redrawn at most this often (a drift value comes a snapshot)
DRIFT_SYMBOLS = 300  # the curve drops its markers past this many points (an hour at a snapshot a step: 10,000)


class EmbeddingTab(QWidget):
    """The embedding tab's widget.

    Signals: ``frame_drawn(int)`` (snapshot index drawn), ``umap_updated(int)``,
    ``drift_updated()``, ``colouring_changed(str)``, ``embedded(dict)``,
    ``region_changed(object)`` (probe rows), ``neighbours_updated()``, ``warmed_up(dict)``.
    """

    frame_drawn = Signal(int)
    umap_updated = Signal(int)
    drift_updated = Signal()
    colouring_changed = Signal(str)
    embedded = Signal(object)
    region_changed = Signal(object)
    neighbours_updated = Signal()
    warmed_up = Signal(object)

    def __init__(self, run_model: RunModel, view_state: ViewState, selection: Selection, *,
                 trainer_running: Callable[[], bool] | None = None, use_gl: bool | None = None,
                 max_points: int = MAX_POINTS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = run_model
        self.view_state = view_state
        self.selection = selection
        self.controller = EmbeddingController(run_model, view_state, trainer_running=trainer_running,
                                              active=self.active, parent=self)
        self.drawn_index: int | None = None  # the frame index actually drawn
        self.colours = PointColours(max_points)
        self.region_rows = np.zeros(0, dtype=np.int64)
        self._dirty = True
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._drift_timer = QTimer(self, singleShot=True, interval=DRIFT_MS)
        self._drift_timer.timeout.connect(self._draw_drift)
        self._redraw_timer.timeout.connect(self._redraw)
        self.grid = MapGrid(self.text_of, use_gl)
        g = self.grid  # its views, fixed once built
        self.gl_enabled, self.gl_reason, self.map_views = g.gl_enabled, g.gl_reason, g.map_views
        self.hammer_view, self.circle_view, self.umap_view, self.sphere_view = (
            g.hammer_view, g.circle_view, g.umap_view, g.sphere_view)
        self._build_layout()
        self.neighbourhood = Neighbourhood(self.panel)
        self.searching = SearchPresenter(self.controller.search, self.panel, self.texts, lambda: self.model.config)
        self.controls = ViewStateControls(view_state, self.timeline, self.legend, self.sphere_method_box)
        self._connect_widgets()
        self._connect_state()
        self.controller.catch_up()

    # ================================================================ layout
    def _build_layout(self) -> None:
        self.legend = Legend()
        self.legend.setMaximumWidth(190)
        self.sphere_method_box = sphere_method_box()
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
        top = QHBoxLayout()
        top.addWidget(side_w)
        top.addWidget(self.grid, 1)
        self.timeline = TimelineBar()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top, 1)
        lay.addWidget(self.timeline)
        self.panel = NeighbourPanel()

    def _connect_widgets(self) -> None:
        for v in self.map_views:
            v.point_clicked.connect(self._row_clicked)
            v.region_selected.connect(self._region_selected)
        if self.gl_enabled:
            self.sphere_view.point_clicked.connect(self._row_clicked)
        self.panel.row_activated.connect(self._row_clicked)
        self.panel.search_requested.connect(self.search)
        self.panel.embed_requested.connect(self.embed_text)
        self.panel.k_changed.connect(lambda _k: self._update_neighbours())
        self.legend.group_toggled.connect(self.set_group_visible)

    def _connect_state(self) -> None:
        c, s = self.controller, self.selection
        c.run_reset.connect(self._reset)
        c.snapshot_added.connect(self._on_snapshot)
        c.frame_ready.connect(self._on_frame)
        c.kmeans_ready.connect(self._on_kmeans)
        c.drift_updated.connect(self._schedule_drift)
        c.umap_updated.connect(self._on_umap)
        c.warmed_up.connect(self.warmed_up.emit)
        c.failed.connect(self.panel.status.setText)
        c.search.encoded.connect(self._embedded_done)
        s.selected.connect(self._on_selected)
        s.pair_highlighted.connect(lambda _p: self.request_redraw())
        s.edges_changed.connect(lambda _e: self.request_redraw())
        self._listeners = [("snapshot_index", lambda _i: self._show()), ("colour_by", self._apply_colour_by),
                           ("kmeans_k", self._on_kmeans_k), ("sphere_method", lambda _m: self.request_redraw()),
                           ("umap_enabled", lambda _on: self.request_redraw())]
        for name, fn in self._listeners:
            self.view_state.connect(name, fn)

    # ================================================================ public
    @property
    def colouring(self) -> Colouring | None:
        return self.colours.colouring

    @property
    def shown_index(self) -> int | None:
        """The snapshot index shown (the view state's index resolved to one with probe
        embeddings)."""
        return self.controller.shown_index

    @property
    def frames(self) -> dict[int, Frame]:
        return self.controller.frames

    @property
    def umap(self) -> dict[int, np.ndarray]:
        return self.controller.umap

    @property
    def busy(self) -> bool:
        return self.controller.busy

    @property
    def redraw_pending(self) -> bool:
        """Whether something changed that is not drawn yet."""
        return self._dirty

    def drift_series(self) -> tuple[np.ndarray, np.ndarray]:
        """(snapshot indices, mean kNN overlap@10 with the first snapshot)."""
        return self.controller.drift_series()

    def start_warmup(self) -> None:
        """Compile umap's numba code in the UMAP thread now (called once at launch)."""
        self.controller.start_warmup()

    def shutdown(self) -> None:
        """Stop listening and the worker threads (waits for a running job)."""
        self._redraw_timer.stop()
        self.timeline.timer.stop()
        for name, fn in self._listeners:
            self.view_state.disconnect(name, fn)
        self.controls.disconnect()
        self.controller.shutdown()

    def text_of(self, row: int) -> str:
        """A probe row's text and its label columns (hover text)."""
        return probe_text(self.model.probe_texts, self.model.probe_columns, row)

    def texts(self) -> list[str]:
        return self.model.probe_texts or []

    def active(self) -> bool:
        """Whether the tab is on screen (heavy work waits until it is)."""
        return self.isVisible()

    # ================================================================ model and view state events
    def _reset(self) -> None:
        self.drawn_index = None
        self.neighbourhood.clear()
        self.region_rows = np.zeros(0, dtype=np.int64)
        self.colours.clear()
        self.timeline.set_count(0)
        self.timeline.set_position(-1, None, None)
        self.grid.clear()
        self.panel.drift_curve.setData([], [])
        self.panel.region.clear()

    def _on_snapshot(self, _snap: Any) -> None:
        if self.colouring is None and self.model.probe_texts is not None:
            self.legend.set_options(list((self.model.probe_columns or {}).keys()))
            self.controls.sync()
            want = self.view_state.colour_by
            if not want or self.legend.combo.findText(want) < 0:
                want = self.legend.combo.currentText()  # the first label column
            if want == self.view_state.colour_by:
                self._apply_colour_by(want)
            else:
                self.view_state.colour_by = want  # its listener colours
        self.timeline.set_count(len(self.model.snapshots))
        req = self.view_state.snapshot_index
        if req < 0 or self.controller.resolve(req) != self.shown_index:
            self._show()

    def _show(self) -> None:
        before = self.shown_index
        req = self.view_state.snapshot_index
        idx = self.controller.show(req)
        if idx is None:
            return
        snap = self.model.snapshots[idx]
        self.timeline.set_position(req if req >= 0 else len(self.model.snapshots) - 1, snap.step, snap.total_steps)
        if self.view_state.colour_by == "k-means":
            self._apply_colour_by("k-means")
        if idx != before:
            self._update_neighbours()
        self.request_redraw()

    def _on_frame(self, index: int) -> None:
        shown = self.shown_index
        if index == shown or self.drawn_index is None or (
                self.drawn_index != shown and self.controller.frame_to_draw() is self.frames.get(index)):
            self.request_redraw()

    def _on_umap(self, index: int) -> None:
        self.umap_updated.emit(index)
        if self.controller.umap_index() == index:
            self.request_redraw()

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        if self._dirty:
            self.request_redraw()
        self.controller.schedule()

    # ================================================================ colouring / legend
    def _apply_colour_by(self, name: str) -> None:
        """Colour by a probe label column, "k-means" (clusters of the shown snapshot's
        embeddings, computed in a worker) or "none"."""
        if self.model.probe_texts is None and self.model.probe_ids is None:
            return  # coloured when the probe set arrives
        P = len(self.model.probe_ids) if self.model.probe_ids is not None else len(self.texts())
        cols = self.model.probe_columns or {}
        if name in cols:
            self._set_colouring(label_colouring(name, list(cols[name])))
        elif name == "k-means":
            k = self.view_state.kmeans_k
            labels = self.controller.kmeans(k)
            if labels is not None:
                self._set_colouring(cluster_colouring(labels, k))
            elif self.colouring is None:
                self._set_colouring(single_colouring(P))
        else:
            self._set_colouring(single_colouring(P))

    def _on_kmeans_k(self, _k: int) -> None:
        if self.view_state.colour_by == "k-means":
            self._apply_colour_by("k-means")

    def _on_kmeans(self, index: int, k: int) -> None:
        if self.view_state.colour_by == "k-means" and index == self.shown_index and k == self.view_state.kmeans_k:
            self._apply_colour_by("k-means")

    def _set_colouring(self, c: Colouring) -> None:
        if self.colours.set(c):
            self.legend.set_colouring(c, self.colours.hidden)
            self.colouring_changed.emit(c.name)
            self.request_redraw()

    def set_group_visible(self, group: int, visible: bool) -> None:
        """Hide or show a legend group (as clicking its legend entry does)."""
        self.colours.set_visible(group, visible)
        self.request_redraw()

    def shown_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows drawn, their brushes, their RGBA): the subsample minus hidden groups."""
        return self.colours.shown_rows()

    # ================================================================ drawing
    def request_redraw(self) -> None:
        self._dirty = True
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def redraw_now(self) -> None:
        """Draw immediately (tests, benchmarks)."""
        self._redraw_timer.stop()
        self._redraw(force=True)

    def _redraw(self, force: bool = False) -> None:
        if not force and not self.active():
            return  # drawn when the tab is shown
        c = self.controller
        frame = c.frame_to_draw()
        if frame is None or self.colouring is None or frame.xyz.shape[0] != self.colouring.codes.shape[0]:
            return
        self._dirty = False
        rows, brushes, rgba = self.shown_rows()
        P = frame.xyz.shape[0]
        xyz = c.sphere_xyz(frame)
        ham, lam = self.grid.draw_frame(frame, xyz, rows, brushes, rgba)
        layout, j = c.umap_layout(), c.umap_index()
        if layout is None or layout.shape[0] != P:
            layout = None
            title = tr("UMAP (computing…)") if self.view_state.umap_enabled else tr("UMAP (off)")
        else:
            title = (tr("UMAP of step {step}").format(step=f"{self.model.snapshots[j].step:,}")
                     if j is not None and j < len(self.model.snapshots) else "UMAP")
        self.grid.draw_umap(rows, brushes, layout, title)
        self.grid.draw_marks(frame, xyz, ham, lam, layout, self._marks(frame, layout))
        self.drawn_index = frame.index
        self.info.setText(tr("{n} probe sentences").format(n=f"{P:,}")
                          + (tr(", {n} drawn").format(n=f"{rows.size:,}") if rows.size != P else "")
                          + ("" if self.gl_enabled else "\n" + tr("3D off: {reason}").format(reason=self.gl_reason)))
        self.frame_drawn.emit(frame.index)

    def _marks(self, frame: Frame, layout: np.ndarray | None) -> Marks:
        """What to mark: the selection, its neighbours, the highlighted pair, the edges,
        the typed sentence's star."""
        nb = self.neighbourhood
        pair = [int(r) for r in self.model.probe_rows(self.selection.pair or ()) if r >= 0]
        anchor, e_rows, e_w = edge_marks(self.selection.edges, self.model.probe_rows)
        star = star_positions(frame, nb.embedded, self.grid.views_by_role(), self.gl_enabled, layout,
                              raw=self.view_state.sphere_method == "raw")
        return Marks(nb.selected_row, nb.rows, pair, anchor, e_rows, e_w, star)

    def _schedule_drift(self) -> None:
        """A new drift value: redraw the curve within :data:`DRIFT_MS` (newest wins)."""
        if not self._drift_timer.isActive():
            self._drift_timer.start()

    def _draw_drift(self) -> None:
        drift = self.controller.drift
        idx = sorted(i for i in drift if i < len(self.model.snapshots))
        x = self.model.snapshots.steps(idx).astype(np.float64)
        y = np.array([drift[i] for i in idx], dtype=np.float64)
        curve = self.panel.drift_curve
        curve.setSymbol("o" if len(x) <= DRIFT_SYMBOLS else None)  # markers cost a point each; a line does not
        curve.setData(x, y)
        self.drift_updated.emit()

    # ================================================================ selection, neighbours
    def _row_clicked(self, row: int) -> None:
        ids = self.model.probe_ids
        if ids is not None and 0 <= row < len(ids):
            self.selection.select(int(ids[row]))

    def _on_selected(self, cid: Any) -> None:
        self.neighbourhood.selected_row = None if cid is None else self.model.probe_row(int(cid))
        self._update_neighbours(prefer_selected=True)

    def _update_neighbours(self, prefer_selected: bool = False) -> None:
        """Fill the panel: the selected (or typed) sentence's top-k neighbours in the
        shown snapshot, its drift since the first snapshot, its positive."""
        X = self.controller.matrix()
        if X is None:
            return
        nb, c = self.neighbourhood, self.controller
        row = nb.selected_row
        first = c.first_index()
        snap = self.model.snapshots[c.shown_index] if c.shown_index is not None else None
        ids = self.model.probe_ids
        nb.update(X, self.texts(), self.text_of(row) if row is not None else "",
                  X0=c.matrix(first) if first is not None and row is not None else None, snap=snap,
                  corpus_id=int(ids[row]) if ids is not None and row is not None else None,
                  prefer_selected=prefer_selected)
        self.request_redraw()
        self.neighbours_updated.emit()

    def _region_selected(self, rows: np.ndarray) -> None:
        self.region_rows = np.asarray(rows, dtype=np.int64)
        self.panel.show_region(self.region_rows, self.texts())
        self.region_changed.emit(self.region_rows)

    # ================================================================ search / embed
    @property
    def selected_row(self) -> int | None:
        """The probe row of the selected sentence (None: none, or not in the probe set)."""
        return self.neighbourhood.selected_row

    @property
    def embedded_item(self) -> dict[str, Any] | None:
        """The typed sentence placed with a star (see :class:`Neighbourhood`), or None."""
        return self.neighbourhood.embedded

    def search(self, query: str) -> list[int]:
        """Probe rows whose text contains ``query`` (case-insensitive), listed in the panel,
        followed by the run's corpus sentences outside the probe set that contain it
        (clicking one embeds and places it): read and searched in a worker, they fill in
        when they arrive."""
        return self.searching.search(query)

    def embed_text(self, text: str) -> bool:
        """Encode ``text`` in a worker with the run's model at the shown step and place it (★)."""
        idx = self.shown_index
        step = None if idx is None else self.model.snapshots[idx].step
        return self.searching.encode(text, self.model.config, self.model.run_dir, step)

    def _embedded_done(self, text: str, vec: np.ndarray, label: str) -> None:
        X = self.controller.matrix()
        if X is None or X.shape[1] != vec.shape[0]:
            self.panel.status.setText(tr("the model gives {dims} dims, the run's embeddings {run_dims}: cannot place "
                                         "it").format(dims=vec.shape[0], run_dims=None if X is None else X.shape[1]))
            return
        nb = self.neighbourhood
        nb.embedded = {"text": text, "vec": vec, "model": label, "latest": True}
        self.selection.select(None)
        nb.selected_row = None
        self._update_neighbours()
        frame = self.controller.frame_to_draw()
        if frame is not None:
            star_positions(frame, nb.embedded, self.grid.views_by_role(), self.gl_enabled,
                           self.controller.umap_layout(), raw=self.view_state.sphere_method == "raw")
        self.panel.status.setText(tr("★ placed: “{text}”").format(text=text))
        self.redraw_now()
        self.embedded.emit(nb.embedded)
