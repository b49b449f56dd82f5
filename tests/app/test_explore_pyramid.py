"""The explore map's counts pyramid against independent counts and the per-frame raster."""

from __future__ import annotations

import numpy as np
import pytest

from app.explore.pyramid import DensityPyramid
from app.explore.raster import Rect, render


def _points(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = np.column_stack([rng.uniform(0, 64, n), rng.uniform(0, 32, n)]).astype(np.float32)
    labels = rng.integers(-1, 5, n)
    return xy, labels


EXTENT = Rect(0.0, 64.0, 0.0, 32.0)


def test_every_level_counts_match_a_2d_histogram_and_the_commonest_label():
    xy, labels = _points()
    pyr = DensityPyramid(xy, labels, n_labels=5, extent=EXTENT, finest=64)
    assert [lv.counts.shape for lv in pyr.levels] == [(32, 64), (16, 32)]
    for lv in pyr.levels:
        rows, cols = lv.counts.shape
        # an independent count: row 0 at the top of the map
        c = np.minimum((xy[:, 0].astype(np.float64) / lv.size).astype(int), cols - 1)
        r = np.minimum(((32.0 - xy[:, 1].astype(np.float64)) / lv.size).astype(int), rows - 1)
        want = np.zeros((rows, cols), dtype=np.int64)
        per = np.zeros((rows, cols, 6), dtype=np.int64)
        np.add.at(want, (r, c), 1)
        np.add.at(per, (r, c, labels + 1), 1)
        assert np.array_equal(lv.counts, want)
        filled = want > 0
        assert np.array_equal(lv.top[filled], per.argmax(axis=2)[filled] - 1)
        assert lv.counts.sum() == len(xy)


def test_a_view_on_the_finest_grid_draws_what_the_per_frame_raster_draws():
    xy, labels = _points()
    pyr = DensityPyramid(xy, labels, n_labels=5, extent=EXTENT, finest=64)
    # 128 x 64 pixels over the whole extent: blocks of 2 x 2 pixels are the finest cells
    img = pyr.image(EXTENT, 128, 64, budget=0)
    ref = render(xy, EXTENT, 128, 64, labels=labels, n_labels=5, budget=0)
    assert img is not None and img.mode == ref.mode == "density"
    assert img.in_view == ref.in_view == len(xy)
    assert np.array_equal(img.rgba, ref.rgba)


def test_the_level_follows_the_zoom_and_points_take_over():
    xy, labels = _points()
    pyr = DensityPyramid(xy, labels, n_labels=5, extent=EXTENT, finest=64)
    assert pyr.level_for(0.5, 2) == 0  # cells of 1 unit = 2 pixels
    assert pyr.level_for(1.0, 2) == 1  # cells of 2 units
    assert pyr.level_for(50.0, 2) == 1  # zoomed far out: the coarsest there is
    assert pyr.level_for(0.2, 2) is None  # finest cells 5 pixels wide: draw the points
    # a small corner holds few points: drawn one by one (None), unless the budget is lower
    corner = Rect(0.0, 8.0, 0.0, 4.0)
    assert pyr.image(corner, 16, 8, budget=10_000) is None
    assert pyr.image(corner, 16, 8, budget=10) is not None


def test_a_zoomed_view_counts_only_its_cells_and_leaves_outside_blank():
    xy, labels = _points()
    pyr = DensityPyramid(xy, labels, n_labels=5, extent=EXTENT, finest=64)
    view = Rect(-32.0, 32.0, 0.0, 32.0)  # the left half of the map on the right of the view
    img = pyr.image(view, 128, 64, budget=0)
    assert img is not None
    assert not img.rgba[:, :64].any()  # left of the map: nothing
    # the view's blocks fall on the finest cells: the same picture as counted from the points
    assert np.array_equal(img.rgba, render(xy, view, 128, 64, labels=labels, n_labels=5, budget=0).rgba)
    assert img.in_view == int((xy[:, 0] < 32).sum())


def test_unlabelled_maps_and_highlighted_points():
    xy, _ = _points(2000)
    pyr = DensityPyramid(xy, None, extent=EXTENT, finest=64)
    assert pyr.levels[0].top is None
    hi = np.zeros(len(xy), dtype=bool)
    hi[7] = True
    img = pyr.image(EXTENT, 128, 64, budget=0, xy=xy, highlight=hi)
    col, row = int(xy[7, 0] * 2), int((32 - xy[7, 1]) * 2)
    # a white ring around the point, its colour at the centre
    ring = img.rgba[max(0, row - 3):row + 4, max(0, col - 3):col + 4, :3]
    assert (ring == 255).all(axis=2).any()


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_maps(n):
    xy = np.zeros((n, 2), dtype=np.float32)
    pyr = DensityPyramid(xy, None)
    assert sum(int(lv.counts.sum()) for lv in pyr.levels[:1]) == n
    assert pyr.image(pyr.extent, 100, 100, budget=0) is None or n > 0


def test_the_map_builds_its_pyramid_in_a_thread_and_drops_a_stale_one(qtbot):
    from app.explore.map_view import MapView

    xy, labels = _points(3000)
    view = MapView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.budget = 100  # 3,000 points count as "many" here
    view.set_points(xy)
    first = view.last  # drawn from the points while the pyramid is built
    assert first.mode == "density" and first.in_view == 3000
    qtbot.waitUntil(lambda: view.pyramid_ready, timeout=10_000)
    assert view.last.mode == "density" and view.last.in_view == 3000  # redrawn from the counts
    # the labels change: the old pyramid is dropped, a new one (with the labels) replaces it
    view.set_labels(labels, 5)
    assert not view.pyramid_ready
    qtbot.waitUntil(lambda: view.pyramid_ready, timeout=10_000)
    assert view._pyramid.levels[0].top is not None
    # a build finishing for an older generation is ignored
    stale = DensityPyramid(xy[:10])
    view._take_pyramid(view._pyramid_gen - 1, view._source()._replace(xy=xy[:10]), stale)
    assert view._pyramid is not stale


def test_toggling_back_to_a_map_reuses_its_counts(qtbot):
    """Before / after: the second map's counts are built once; switching back to the first
    map draws from its kept counts at once (no build, no frames from the points)."""
    from app.explore.map_view import MapView

    xy, labels = _points(3000)
    other = (xy[::-1] * np.float32(0.5)).copy()  # another model's positions for the same rows
    view = MapView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.budget = 100
    view.set_points(xy)
    qtbot.waitUntil(lambda: view.pyramid_ready, timeout=10_000)
    first = view._pyramid
    view.swap_points(other)
    qtbot.waitUntil(lambda: view.pyramid_ready, timeout=10_000)
    second = view._pyramid
    assert second is not first and second.extent != first.extent
    view.swap_points(xy)  # back: drawn from the kept counts in the same call
    assert view._pyramid is first and view.last.in_view == 3000
    view.swap_points(other)
    assert view._pyramid is second
    view.set_labels(labels, 5)  # new labels: counts made anew (and kept beside)
    assert not view.pyramid_ready
    qtbot.waitUntil(lambda: view.pyramid_ready, timeout=10_000)
    assert view._pyramid not in (first, second) and view._pyramid.levels[0].top is not None
    view.swap_points(xy)  # the first map with these labels has none kept: built anew, not the unlabelled one
    assert view._pyramid is not first
