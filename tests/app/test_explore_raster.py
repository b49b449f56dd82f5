"""The explore map's picture (app/explore/raster.py), checked against independent
computations: each point's own pixel in points mode, counts per pixel and the commonest
label per pixel in density mode, and the switch between them at the point budget."""

from __future__ import annotations

import numpy as np

from app.explore.raster import PALETTE, UNLABELLED, Rect, colours, nearest_point, render


def test_points_mode_draws_each_point_in_its_label_colour():
    xy = np.array([[0.5, 0.5], [9.5, 9.5], [2.5, 7.5]], dtype=np.float32)
    img = render(xy, Rect(0, 10, 0, 10), 10, 10, labels=np.array([0, 1, -1]), radius=0)
    assert img.mode == "points" and img.in_view == 3
    # row 0 is the top of the map (y = 10)
    assert tuple(img.rgba[9, 0]) == (*PALETTE[0], 255)
    assert tuple(img.rgba[0, 9]) == (*PALETTE[1], 255)
    assert tuple(img.rgba[2, 2]) == (*UNLABELLED, 255)
    assert int((img.rgba[..., 3] > 0).sum()) == 3
    bigger = render(xy, Rect(0, 10, 0, 10), 10, 10, radius=1)
    assert int((bigger.rgba[..., 3] > 0).sum()) == 4 + 4 + 9  # two dots cut by the edges, one whole


def test_points_out_of_view_are_left_out():
    xy = np.array([[0.5, 0.5], [20.0, 20.0]], dtype=np.float32)
    img = render(xy, Rect(0, 10, 0, 10), 10, 10)
    assert img.in_view == 1


def test_density_counts_and_commonest_label_match_an_independent_count():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 8, (5000, 2)).astype(np.float32)
    labels = rng.integers(0, 3, 5000)
    labels[xy[:, 0] < 2] = 2  # a left stripe mostly label 2
    img = render(xy, Rect(0, 8, 0, 8), 8, 8, labels=labels, budget=100, n_labels=3, cell=1)
    assert img.mode == "density" and img.in_view == 5000
    counts = np.zeros((8, 8), dtype=np.int64)
    per = np.zeros((8, 8, 3), dtype=np.int64)
    for (x, y), lab in zip(xy.astype(np.float64), labels):
        r, c = min(7, int(8 - y)), min(7, int(x))
        counts[r, c] += 1
        per[r, c, lab] += 1
    alpha = img.rgba[..., 3].astype(np.float64)
    assert ((alpha > 0) == (counts > 0)).all()
    order = np.argsort(counts.ravel())
    assert (np.diff(alpha.ravel()[order]) >= -1).all()  # more points, more opaque (log scale)
    for r in range(8):
        for c in range(8):
            top = int(np.argmax(per[r, c]))
            shade = img.rgba[r, c, :3].astype(np.float64)
            dists = [np.linalg.norm(shade / max(1, shade.max()) - PALETTE[k] / max(1, PALETTE[k].max()))
                     for k in range(3)]
            assert int(np.argmin(dists)) == top, (r, c, per[r, c])


def test_highlighted_points_are_ringed_and_colours_wrap():
    xy = np.array([[5.0, 5.0], [1.0, 1.0]], dtype=np.float32)
    img = render(xy, Rect(0, 10, 0, 10), 20, 20, highlight=np.array([True, False]))
    assert tuple(img.rgba[10, 10, :3]) == tuple(PALETTE[0])  # the point itself
    assert tuple(img.rgba[10, 13, :3]) == (255, 255, 255)  # its ring
    assert (colours(np.array([len(PALETTE) + 1]), 1)[0] == PALETTE[1]).all()


def test_nearest_point_within_a_distance():
    xy = np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32)
    assert nearest_point(xy, 2.9, 4.1, 0.5) == 1
    assert nearest_point(xy, 1.5, 2.0, 0.5) is None
    r = Rect.around(xy)
    assert r.x0 < 0 < 3 < r.x1 and r.y0 < 0 < 4 < r.y1


def test_density_cells_cover_their_pixels():
    """With cells of 2 x 2 pixels a lone point lights its whole cell, and the cells of a
    9 x 9 image cut by the edge still show."""
    xy = np.array([[0.5, 8.5], [8.5, 0.5]], dtype=np.float32)  # top-left and bottom-right pixels
    img = render(xy, Rect(0, 9, 0, 9), 9, 9, budget=0, cell=2)
    lit = img.rgba[..., 3] > 0
    assert lit[0:2, 0:2].all() and lit[8, 8] and int(lit.sum()) == 4 + 1

