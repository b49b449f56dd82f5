"""The embedding views (sphere, Hammer map, S1, UMAP, timeline, neighbours) on
synthetic clustered snapshots, offscreen (the 3D view falls back to a 2D map there)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from app.state.run_model import RunModel
from app.state.selection import Selection
from app.state.view_state import ViewState
from simcse_core.projection import hammer, kmeans, mean_knn_overlap, pca_basis, to_circle, to_sphere

from views_helpers import TOPICS, clustered

TIMEOUT = 30_000


@pytest.fixture
def views(qtbot, monkeypatch):
    """An EmbeddingTab on a fresh model and view state, shown, UMAP on; threads stopped
    at teardown."""
    from app.embedding_tab import EmbeddingTab

    made = []

    def make(snaps=None, view_state=None, **kw):
        model, sel = RunModel(), Selection()
        v = EmbeddingTab(model, view_state or ViewState(sphere_method="pca"), sel, **kw)
        qtbot.addWidget(v)
        v.resize(1000, 700)
        v.show()
        qtbot.waitExposed(v)
        made.append(v)
        if snaps:
            for s in snaps:
                model.add(s)
        return v

    yield make
    for v in made:
        v.shutdown()


def _f32(model: RunModel, i: int) -> np.ndarray:
    return model.snapshots[i].probe_embeddings.astype(np.float32)


def _drawn(qtbot, v, index: int) -> None:
    qtbot.waitUntil(lambda: v.drawn_index == index and not v.redraw_pending, timeout=TIMEOUT)


def test_views_receive_snapshots_and_draw_the_projections(qtbot, views):
    v = views(clustered(n_snaps=4))
    last = len(v.model.snapshots) - 1
    _drawn(qtbot, v, last)
    assert v.model.snapshots[0].probe_embeddings.dtype == np.float16  # stored halved
    X = _f32(v.model, last)
    f = v.frames[last]
    P = X.shape[0]
    # the sphere is PCA-3 normalised up to the alignment rotation: same Gram matrix
    xyz0 = to_sphere(X, basis=pca_basis(X, 3))
    assert f.xyz.shape == (P, 3)
    assert np.allclose(f.xyz @ f.xyz.T, xyz0 @ xyz0.T, atol=1e-4)
    assert np.allclose(f.xyz, xyz0 @ f.rot3, atol=1e-4)
    c0 = to_circle(X, basis=pca_basis(X, 2))
    assert np.allclose(f.circle, c0 @ f.rot2, atol=1e-4)
    # what each 2D view draws is that projection, for every row (240 < the subsample cap)
    hv = v.hammer_view
    assert hv.rows.shape == (P,) and hv.xy.shape == (P, 2)
    assert np.allclose(hv.xy, hammer(f.xyz)[hv.rows], atol=1e-5)
    x, y = hv.scatter.getData()
    assert np.allclose(np.column_stack([x, y]), hv.xy)
    assert np.allclose(v.circle_view.xy, f.circle[v.circle_view.rows])
    assert np.allclose(v.sphere_view.xy, f.lambert[v.sphere_view.rows])  # the 2D fallback of the sphere
    # one colour per topic, the colouring's palette entry of each drawn row
    cols = hv.scatter.colors
    assert len(np.unique(cols)) == len(TOPICS)
    want = np.array([QColor(v.colouring.colors[g]).rgba() for g in v.colouring.codes[hv.rows]], dtype=np.uint32)
    assert np.array_equal(cols, want)  # opaque palette: premultiplied ARGB == ARGB
    # the vMF density of the angles is drawn around the circle
    cx, cy = v.circle_view.extra_item.getData()
    assert cx.size == f.vmf_t.size and np.all(np.hypot(cx, cy) >= 1.0 - 1e-9)
    # UMAP: every umap_every snapshots and at the end (the run is done)
    qtbot.waitUntil(lambda: last in v.umap and 0 in v.umap, timeout=60_000)
    _drawn(qtbot, v, last)
    qtbot.waitUntil(lambda: v.umap_view.rows.size == P, timeout=TIMEOUT)
    assert np.allclose(v.umap_view.xy, v.umap[last][v.umap_view.rows])
    # the whole tab grabbed (as screenshots and exports do: each view is painted redirected
    # into the tab's pixmap): every map shows its points, in the colouring's colours
    img = v.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert not img.isNull()
    pix = np.frombuffer(img.constBits(), dtype=np.uint32, count=img.width() * img.height()).reshape(img.height(), -1)
    palette = {QColor(c).rgb() & 0xFFFFFF for c in v.colouring.colors}
    for mv in v.map_views:
        tl = mv.mapTo(v, mv.rect().topLeft())
        region = pix[tl.y():tl.y() + mv.height(), tl.x():tl.x() + mv.width()] & 0xFFFFFF
        shown = set(np.unique(region).tolist()) & palette
        assert len(shown) >= len(TOPICS) - 1, (mv, len(shown))


def test_umap_computes_the_shown_snapshot_first():
    from app.embedding_tab.controller import umap_order

    assert umap_order([0, 5, 10, 15], 15) == [15, 0, 5, 10]  # following a live run: the newest first
    assert umap_order([0, 5, 10, 15], 12) == [10, 0, 5, 15]  # scrubbed back: what that step shows
    assert umap_order([5, 10], 2) == [5, 10]  # nothing at or before: the oldest
    assert umap_order([3], 9) == [3] and umap_order([0, 5], None) == [0, 5]


def test_opening_the_tab_late_draws_the_current_umap_first(qtbot, views):
    v = views(None)
    v.hide()  # nothing heavy runs while the tab is hidden: the snapshots pile up
    v.view_state.umap_every = 1
    assert v.timeline.umap_every.value() == 1  # the control shows the view state
    for s in clustered(n_snaps=6):
        v.model.add(s)
    order: list[int] = []
    v.umap_updated.connect(order.append)
    v.show()
    qtbot.waitUntil(lambda: len(order) >= 2, timeout=60_000)
    assert order[0] == 5  # the newest (followed) snapshot's layout comes first
    qtbot.waitUntil(lambda: len(v.umap) == 6, timeout=60_000)


@pytest.mark.parametrize("training", [True, False])
def test_umap_rests_between_layouts_while_training_runs(qtbot, views, monkeypatch, training):
    """While a trainer runs in this process UMAP computes one layout, then rests
    UMAP_REST x its time (its numba epochs hold the GIL the trainer needs); otherwise it
    catches up back to back."""
    import time

    import app.embedding_tab.controller as controller

    monkeypatch.setattr(controller, "UMAP_REST", 3.0)
    v = views(None, trainer_running=lambda: training)
    v.hide()
    v.view_state.umap_every = 1
    for s in clustered(n_snaps=4):
        v.model.add(s)
    arrivals: list[tuple[float, int]] = []
    v.umap_updated.connect(lambda i: arrivals.append((time.monotonic(), i)))
    v.show()
    qtbot.waitUntil(lambda: len(arrivals) >= 3, timeout=90_000)
    totals = [t["total"] for t in v.controller.umap_timings]
    gaps = [b[0] - a[0] for a, b in zip(arrivals, arrivals[1:])]
    if training:
        for gap, prev in zip(gaps, totals):
            assert gap >= 3.0 * prev, (gaps, totals)  # rested 3x the previous layout's time
    else:
        assert any(gap < 3.0 * prev for gap, prev in zip(gaps, totals)), (gaps, totals)
    assert arrivals[0][1] == 3  # the followed (newest) snapshot first, either way


def test_timeline_scrub_changes_positions(qtbot, views):
    v = views(clustered(n_snaps=4))
    _drawn(qtbot, v, 3)
    at_end = v.hammer_view.xy.copy()
    v.timeline.slider.setValue(0)  # as a person drags the slider
    assert v.view_state.snapshot_index == 0 and not v.timeline.follow.isChecked()
    _drawn(qtbot, v, 0)
    assert v.hammer_view.xy.shape == at_end.shape
    assert np.abs(v.hammer_view.xy - at_end).max() > 0.05
    assert "step 0 " in v.timeline.label.text()
    # Play animates forward to the end
    v.timeline.speed.setCurrentIndex(3)
    v.timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: not v.timeline.play_button.isChecked(), timeout=TIMEOUT)
    _drawn(qtbot, v, 3)


def test_selection_lists_true_top_k_neighbours_and_positive(qtbot, views):
    v = views(clustered(n_snaps=2))
    _drawn(qtbot, v, 1)
    X = _f32(v.model, 1)
    row = 5
    cid = int(v.model.probe_ids[row])
    with qtbot.waitSignal(v.neighbours_updated, timeout=TIMEOUT):
        v.selection.select(cid)
    sims = X @ X[row]
    sims[row] = -np.inf
    want = np.argsort(-sims, kind="stable")[:10]
    assert v.panel.neighbour_rows() == list(want)
    assert np.allclose(v.panel.neighbour_sims(), sims[want], atol=1e-3)
    # the selected sentence is in the last batch (first 8 probe ids): its positive cosine
    j = 5
    assert f"{float(v.model.snapshots[1].batch_sim[j, j]):.3f}" in v.panel.positive_label.text()
    # marked on the views: the selected point, its positive ring, its neighbours
    v.redraw_now()
    sx, sy = v.hammer_view.selected_item.getData()
    assert np.allclose([sx[0], sy[0]], v.frames[1].hammer[row], atol=1e-6)
    assert len(v.hammer_view.positive_item.getData()[0]) == 1
    assert len(v.hammer_view.neighbour_item.getData()[0]) == 10
    # neighbour drift: step 0 against now with overlap@k
    X0 = _f32(v.model, 0)
    s0 = X0 @ X0[row]
    s0[row] = -np.inf
    first = set(np.argsort(-s0, kind="stable")[:10].tolist())
    overlap = len(first & set(want.tolist())) / 10
    assert f"overlap@10: {overlap:.2f}" in v.panel.overlap_label.text()
    # a click on a point selects it through the shared Selection
    other = 17
    v.hammer_view.point_clicked.emit(other)
    assert v.selection.current == int(v.model.probe_ids[other])


def test_legend_toggle_hides_a_group(qtbot, views):
    v = views(clustered(n_snaps=1))
    _drawn(qtbot, v, 0)
    c = v.colouring
    assert c.name == "topic" and c.n_groups == len(TOPICS)
    g = 0
    v.legend.toggle(g)  # as clicking the legend entry's box does
    v.redraw_now()
    rows = v.hammer_view.rows
    assert rows.size == c.codes.size - c.counts[g]
    assert not np.any(c.codes[rows] == g)
    v.legend.toggle(g)
    v.redraw_now()
    assert v.hammer_view.rows.size == c.codes.size


def test_kmeans_colouring(qtbot, views):
    v = views(clustered(n_snaps=1))
    _drawn(qtbot, v, 0)
    v.legend.k.setValue(4)  # as a person sets k: written to the view state
    assert v.view_state.kmeans_k == 4
    with qtbot.waitSignal(v.colouring_changed, timeout=TIMEOUT, check_params_cb=lambda n: n.startswith("k-means")):
        v.view_state.colour_by = "k-means"
    assert v.legend.combo.currentText() == "k-means"
    want = kmeans(_f32(v.model, 0), 4)
    assert np.array_equal(v.colouring.codes, want)
    assert v.legend.list.count() == 4


def test_drift_curve_equals_mean_knn_overlap(qtbot, views):
    v = views(clustered(n_snaps=4))
    qtbot.waitUntil(lambda: len(v.drift_series()[0]) == 4, timeout=TIMEOUT)
    idx, vals = v.drift_series()
    X0 = _f32(v.model, 0)
    for i, val in zip(idx, vals):
        assert val == pytest.approx(mean_knn_overlap(X0, _f32(v.model, int(i)), k=10))
    qtbot.waitUntil(lambda: v.panel.drift_curve.getData()[0] is not None
                    and len(v.panel.drift_curve.getData()[0]) == 4, timeout=TIMEOUT)  # paced: DRIFT_MS
    x, y = v.panel.drift_curve.getData()
    assert list(x) == [s.step for s in v.model.snapshots] and y[0] == pytest.approx(1.0)
    assert v.panel.drift_curve.opts["symbol"] == "o"  # a short curve keeps its markers


def test_a_long_drift_curve_drops_its_markers(qtbot, views, monkeypatch):
    """An hour at a snapshot a step is 10,000 drift values: past DRIFT_SYMBOLS the curve is
    a line (a marker costs a point each redraw)."""
    import app.embedding_tab.tab as tab_module

    v = views(clustered(n_snaps=4))
    qtbot.waitUntil(lambda: len(v.drift_series()[0]) == 4, timeout=TIMEOUT)
    monkeypatch.setattr(tab_module, "DRIFT_SYMBOLS", 3)
    v.controller.drift_updated.emit()
    qtbot.waitUntil(lambda: v.panel.drift_curve.opts["symbol"] is None, timeout=TIMEOUT)
    assert len(v.panel.drift_curve.getData()[0]) == 4  # every point still on the line


def test_rectangle_selection_lists_points_inside(qtbot, views):
    v = views(clustered(n_snaps=1))
    _drawn(qtbot, v, 0)
    ham = v.frames[0].hammer
    x0, x1, y0, y1 = -0.5, 2.9, -0.2, 1.5
    with qtbot.waitSignal(v.region_changed, timeout=5000):
        v.hammer_view.select_rect(x0, x1, y0, y1)
    inside = np.flatnonzero((ham[:, 0] >= x0) & (ham[:, 0] <= x1) & (ham[:, 1] >= y0) & (ham[:, 1] <= y1))
    assert inside.size > 0
    assert sorted(v.panel.region_rows()) == sorted(inside.tolist())


class _FakeDrag:
    """What pyqtgraph's MouseDragEvent offers the ViewBox (positions in the box's own
    coordinates), to drive the real drag handler without a window manager."""

    def __init__(self, down, pos, start: bool, finish: bool, mods) -> None:
        from PySide6.QtCore import QPointF, Qt

        self._down, self._pos = QPointF(*down), QPointF(*pos)
        self._start, self._finish, self._mods = start, finish, mods
        self._button = Qt.MouseButton.LeftButton
        self.accepted = False

    def button(self):
        return self._button

    def modifiers(self):
        return self._mods

    def buttonDownPos(self):  # noqa: N802
        return self._down

    def pos(self):
        return self._pos

    def isStart(self):  # noqa: N802
        return self._start

    def isFinish(self):  # noqa: N802
        return self._finish

    def accept(self):
        self.accepted = True


def _in_triangle(p: np.ndarray, a, b, c) -> np.ndarray:
    """Independent inside test: barycentric coordinates all positive (float64)."""
    p = p.astype(np.float64)
    a, b, c = (np.asarray(t, dtype=np.float64) for t in (a, b, c))
    v0, v1, v2 = c - a, b - a, p - a
    d00, d01, d11 = v0 @ v0, v0 @ v1, v1 @ v1
    d20, d21 = v2 @ v0, v2 @ v1
    den = d00 * d11 - d01 * d01
    u = (d11 * d20 - d01 * d21) / den
    w = (d00 * d21 - d01 * d20) / den
    return (u > 0) & (w > 0) & (u + w < 1)


def test_lasso_selection_lists_points_inside(qtbot, views):
    from PySide6.QtCore import QPointF, Qt

    v = views(clustered(n_snaps=1))
    _drawn(qtbot, v, 0)
    hv = v.hammer_view
    ham = v.frames[0].hammer
    tri = [(-2.5, -1.2), (2.6, -0.9), (0.3, 1.3)]
    want = np.flatnonzero(_in_triangle(ham, *tri))
    assert 0 < want.size < ham.shape[0]
    # the public call (as a ctrl + drag ends)
    with qtbot.waitSignal(v.region_changed, timeout=5000):
        got = hv.select_polygon(np.array(tri))
    assert sorted(got.tolist()) == sorted(want.tolist())
    assert sorted(v.panel.region_rows()) == sorted(want.tolist())
    assert v.panel.region_box.title().startswith(f"Region: {want.size:,} sentences")
    # the drag handler itself: ctrl + drag through the triangle's corners, in box coordinates
    vb = hv.getPlotItem().getViewBox()
    corners = [vb.mapFromView(QPointF(*t)) for t in tri]
    pts = [(c.x(), c.y()) for c in corners]
    ctrl = Qt.KeyboardModifier.ControlModifier
    hv.region_selected.emit(np.zeros(0, dtype=np.int64))
    evs = [_FakeDrag(pts[0], pts[1], True, False, ctrl), _FakeDrag(pts[0], pts[2], False, False, ctrl)]
    for ev in evs:
        vb.mouseDragEvent(ev)
        assert ev.accepted
    assert vb._lasso_item.isVisible()  # the lasso is drawn while dragging
    with qtbot.waitSignal(v.region_changed, timeout=5000):
        vb.mouseDragEvent(_FakeDrag(pts[0], pts[0], False, True, ctrl))
    assert not vb._lasso_item.isVisible()
    # the closing segment runs back to the first corner; rows on the edges may differ by pixel rounding
    got = set(v.panel.region_rows())
    assert len(got ^ set(want.tolist())) <= max(2, want.size // 50)
    # shift + drag is still the rectangle
    shift = Qt.KeyboardModifier.ShiftModifier
    r0, r1 = vb.mapFromView(QPointF(-0.5, 1.5)), vb.mapFromView(QPointF(2.9, -0.2))
    with qtbot.waitSignal(v.region_changed, timeout=5000):
        vb.mouseDragEvent(_FakeDrag((r0.x(), r0.y()), (r1.x(), r1.y()), False, True, shift))
    inside = np.flatnonzero((ham[:, 0] >= -0.5) & (ham[:, 0] <= 2.9) & (ham[:, 1] >= -0.2) & (ham[:, 1] <= 1.5))
    assert sorted(v.panel.region_rows()) == sorted(inside.tolist())


def test_edges_and_pair_highlight_are_drawn(qtbot, views):
    v = views(clustered(n_snaps=1))
    _drawn(qtbot, v, 0)
    ids = v.model.probe_ids
    v.selection.set_edges(int(ids[0]), ids[[3, 4, 9]], np.array([0.2, 1.0, 0.5]))
    v.selection.highlight_pair((int(ids[1]), int(ids[2])))
    v.redraw_now()
    ham = v.frames[0].hammer
    for view in (v.hammer_view, v.circle_view, v.sphere_view):
        assert view.n_edges == 3
    widths = [it.edge_width for it in v.hammer_view.edge_items[:3]]
    assert widths[1] == max(widths) and widths[0] == min(widths)  # thickness by weight
    ex, ey = v.hammer_view.edge_items[1].getData()
    assert np.allclose([ex[0], ey[0]], ham[0]) and np.allclose([ex[1], ey[1]], ham[4])
    px, py = v.hammer_view.pair_item.getData()
    assert np.allclose(np.column_stack([px, py]), ham[[1, 2]])
    v.selection.set_edges(None)
    v.redraw_now()
    assert v.hammer_view.n_edges == 0


def test_forced_no_gl_falls_back_to_a_2d_map(qtbot, views, monkeypatch):
    from app.embedding_tab.map_view import MapView
    from app.embedding_tab.sphere3d import gl_available

    monkeypatch.setenv("SIMCSE_STUDIO_NO_GL", "1")
    assert gl_available() == (False, "SIMCSE_STUDIO_NO_GL is set")
    v = views(clustered(n_snaps=1))
    assert not v.gl_enabled and isinstance(v.sphere_view, MapView)
    _drawn(qtbot, v, 0)
    assert v.sphere_view.rows.size == v.model.probe_ids.size
    assert "SIMCSE_STUDIO_NO_GL" in v.info.text()


def test_subsample_above_the_point_budget(qtbot, views):
    v = views(clustered(P=400, n_snaps=1), max_points=150)
    v.view_state.umap_enabled = False
    _drawn(qtbot, v, 0)
    from simcse_core.projection import subsample_indices

    assert np.array_equal(v.hammer_view.rows, subsample_indices(400, 150))


def test_search_finds_probe_texts(qtbot, views):
    v = views(clustered(n_snaps=1))
    rows = v.search("ABOUT MUSIC")
    assert rows == [i for i, t in enumerate(v.model.probe_texts) if "about music" in t]
    assert v.panel.results.count() == len(rows)


def test_lazy_probe_matrices_load_on_demand():
    snaps = clustered(n_snaps=3)
    arrays = {s.step: s.probe_embeddings.copy() for s in snaps}
    model = RunModel()
    for s in snaps:
        model.lazy_probe[s.step] = (lambda a=arrays[s.step]: a)
        model.add(s.replace(probe_embeddings=None))
    assert model.probe_bytes() == 0 and model.probe_indices() == [0, 1, 2]
    got = model.probe_matrix(1)
    assert got.dtype == np.float32 and np.allclose(got, arrays[10], atol=1e-3)
