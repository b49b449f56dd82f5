"""Counts per cell made once for the whole map, so a wide view of a million points costs
the pixels of the view, not a pass over the points (no Qt).

:func:`app.explore.raster.render` finds the points in view and counts them per cell on
every frame: about 45 ms for a million points here, too slow for 30 frames a second.
A :class:`DensityPyramid` counts them once, on a grid of square cells over the whole map
(``finest`` cells along its longer side) and on each coarser grid (cells twice as large)
down to a few dozen cells; per cell it keeps the count and the commonest label. A frame
then picks the finest grid whose cells are at least ``cell`` pixels wide, colours the
cells in view as :func:`~app.explore.raster.render` colours its density and spreads them
over the pixels (each pixel shows the cell under its centre). Every cell in view covers
at least one pixel, so no point goes missing; cells are drawn between 1 and 2 times
``cell`` pixels wide.

:meth:`DensityPyramid.image` answers None where the frame must be drawn from the points:
when few enough points lie in view to draw each (``budget``), or when the view is zoomed
in past the finest grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.explore.raster import MapImage, Rect, draw_highlight, shade_cells

FINEST = 2048  # cells along the map's longer side on the finest grid
COARSEST = 32  # the pyramid stops when the longer side has at most this many cells


@dataclass(frozen=True)
class Level:
    """One grid: cell side ``size`` (map units), ``counts`` (rows, cols) int32 with row 0
    at the top of the map, ``top`` (rows, cols) the commonest label per cell (-1: none)."""

    size: float
    counts: np.ndarray
    top: np.ndarray | None


def _merge(cell: np.ndarray, lab: np.ndarray, cnt: np.ndarray, n_lab: int) -> tuple[np.ndarray, ...]:
    """Sum ``cnt`` over equal (cell, label) pairs; the pairs come back sorted by cell."""
    key = cell * n_lab + lab
    order = np.argsort(key, kind="stable")
    key = key[order]
    if not len(key):
        return cell, lab, cnt
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    summed = np.add.reduceat(cnt[order], starts)
    key = key[starts]
    return key // n_lab, key % n_lab, summed


def _level(size: float, cell: np.ndarray, lab: np.ndarray | None, cnt: np.ndarray,
           rows: int, cols: int) -> Level:
    counts = np.bincount(cell, weights=cnt, minlength=rows * cols).astype(np.int32).reshape(rows, cols)
    if lab is None:
        return Level(size, counts, None)
    top = np.full(rows * cols, -1, dtype=np.int16)
    order = np.lexsort((-lab, cnt, cell))  # by cell, the largest count last (ties: the smallest label)
    last = order[np.r_[cell[order][1:] != cell[order][:-1], True]]
    top[cell[last]] = lab[last] - 1  # labels were stored shifted by one (0 = unlabelled)
    return Level(size, counts, top.reshape(rows, cols))


class DensityPyramid:
    """Counts and commonest labels of ``xy`` (N, 2) on grids from ``finest`` cells along
    the longer side of ``extent`` down to :data:`COARSEST` (see the module note)."""

    def __init__(self, xy: np.ndarray, labels: np.ndarray | None = None, n_labels: int | None = None,
                 extent: Rect | None = None, finest: int = FINEST) -> None:
        xy = np.asarray(xy, dtype=np.float32)
        self.extent = extent or (Rect.around(xy) if len(xy) else Rect(0.0, 1.0, 0.0, 1.0))
        e = self.extent
        size = max(e.x1 - e.x0, e.y1 - e.y0) / finest
        cols, rows = max(1, math.ceil((e.x1 - e.x0) / size)), max(1, math.ceil((e.y1 - e.y0) / size))
        c = np.clip(((xy[:, 0] - e.x0) / size).astype(np.int64), 0, cols - 1)
        r = np.clip(((e.y1 - xy[:, 1]) / size).astype(np.int64), 0, rows - 1)
        if labels is None:
            lab, n_lab = np.zeros(len(xy), dtype=np.int64), 1
        else:
            lab = np.asarray(labels, dtype=np.int64).clip(-1) + 1  # 0 = unlabelled
            n_lab = int(n_labels + 1 if n_labels is not None else (lab.max() + 1 if len(lab) else 1))
        cell, lab, cnt = _merge(r * cols + c, lab, np.ones(len(xy), dtype=np.int64), n_lab)
        self.levels: list[Level] = []
        while True:
            self.levels.append(_level(size, cell, None if labels is None else lab, cnt, rows, cols))
            if max(rows, cols) <= COARSEST:
                break
            r, c = (cell // cols) // 2, (cell % cols) // 2
            size, rows, cols = size * 2, -(-rows // 2), -(-cols // 2)
            cell, lab, cnt = _merge(r * cols + c, lab, cnt, n_lab)

    def level_for(self, units_per_pixel: float, cell: int) -> int | None:
        """The finest level whose cells are at least ``cell`` pixels wide; None when even
        the finest level's cells are over twice that (zoomed in past it: draw the points)."""
        want, size0 = cell * units_per_pixel, self.levels[0].size
        if size0 > 2 * want:
            return None
        if size0 >= want:
            return 0
        return min(math.ceil(math.log2(want / size0) - 1e-12), len(self.levels) - 1)

    def image(self, rect: Rect, width: int, height: int, budget: int, cell: int = 2,
              xy: np.ndarray | None = None, highlight: np.ndarray | None = None, labels: np.ndarray | None = None,
              radius: int = 1) -> MapImage | None:
        """The density picture of ``rect``, or None where it must be drawn from the points
        (see the module note). ``highlight`` (N,) bool marks points of ``xy`` drawn ringed on
        top, in the colours of their ``labels``."""
        width, height = max(1, int(width)), max(1, int(height))
        d = self.level_for((rect.x1 - rect.x0) / width, cell)
        if d is None:
            return None
        lv, e = self.levels[d], self.extent
        rows, cols = lv.counts.shape
        # the grid cell under each pixel centre (cells are >= ``cell`` pixels: none is skipped)
        ux, uy = (rect.x1 - rect.x0) / width, (rect.y1 - rect.y0) / height
        pc = np.floor((rect.x0 + (np.arange(width) + 0.5) * ux - e.x0) / lv.size).astype(np.int64)
        pr = np.floor((e.y1 - (rect.y1 - (np.arange(height) + 0.5) * uy)) / lv.size).astype(np.int64)
        okc, okr = (pc >= 0) & (pc < cols), (pr >= 0) & (pr < rows)
        if not (okc.any() and okr.any()):
            return None
        c0, c1, r0, r1 = int(pc[okc][0]), int(pc[okc][-1]) + 1, int(pr[okr][0]), int(pr[okr][-1]) + 1
        window = lv.counts[r0:r1, c0:c1]
        in_view = int(window.sum())
        if in_view <= budget:
            return None
        # colour the window's cells, then spread them over the pixels (one extra blank cell
        # for the pixels off the map)
        flat = window.ravel()
        filled = np.flatnonzero(flat)
        colour = np.zeros(flat.size + 1, dtype=np.uint32)
        top = None if lv.top is None else lv.top[r0:r1, c0:c1].ravel()[filled]
        colour[filled] = shade_cells(flat[filled], top, int(flat.max())).view(np.uint32).ravel()
        blank = flat.size
        wc = np.where(okc, pc - c0, -1)
        wr = np.where(okr, (pr - r0) * (c1 - c0), -1)
        idx = wr[:, None] + wc[None, :]
        idx[(wr < 0)[:, None] | (wc < 0)[None, :]] = blank
        rgba = colour[idx].view(np.uint8).reshape(height, width, 4)
        if xy is not None and highlight is not None and highlight.any():
            draw_highlight(rgba, np.asarray(xy)[highlight], rect, None if labels is None else labels[highlight], radius)
        return MapImage(rgba, rect, "density", in_view)


__all__ = ["COARSEST", "FINEST", "DensityPyramid", "Level"]
