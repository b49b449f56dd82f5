"""The explore map's picture, computed with numpy for the part of the map in view (no Qt).

A map of up to millions of points is drawn as one image the size of the view in pixels,
remade when the view moves (the window throttles it; the newest view wins):

- **points**: when at most ``budget`` points lie in view, each is drawn on its own, a
  dot of ``radius`` pixels in its label's colour (later points on top);
- **density**: above that, each cell of 2 x 2 pixels shows how many points fall in it
  (log scale, so a lone point still shows) in the colour of the label most of them carry.

Zooming in thus turns the density into individual points once few enough are in view.
Both are a few passes of ``bincount`` over the points in view: about 20 ms for a million
points on one core (``bench/explore_map.py``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from app.embedding_tab.raster_scatter import premultiplied, rasterise

BUDGET = 100_000  # points drawn one by one at most; above, a density image

# label colours (RGB), distinct on dark and light backgrounds; label k uses PALETTE[k % len]
PALETTE = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (174, 199, 232), (255, 187, 120),
    (152, 223, 138), (255, 152, 150), (197, 176, 213), (196, 156, 148), (247, 182, 210), (219, 219, 141),
    (158, 218, 229), (57, 59, 121),
], dtype=np.uint8)
UNLABELLED = np.array((150, 150, 150), dtype=np.uint8)  # label -1 (noise, no label)


@dataclass(frozen=True)
class Rect:
    """The part of the map in view: x0..x1, y0..y1 (map units; y grows upwards)."""

    x0: float
    x1: float
    y0: float
    y1: float

    @staticmethod
    def around(xy: np.ndarray, margin: float = 0.03) -> Rect:
        # a column at a time: a reduction along axis 0 of an (N, 2) array is 6 x slower (30 ms a million)
        lo = np.array([np.nanmin(xy[:, 0]), np.nanmin(xy[:, 1])])
        hi = np.array([np.nanmax(xy[:, 0]), np.nanmax(xy[:, 1])])
        pad = np.maximum(hi - lo, 1e-9) * margin
        return Rect(float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1]))


@dataclass
class MapImage:
    """An (H, W, 4) uint8 RGBA picture of ``rect`` (row 0 at the top), how it was drawn
    (``mode``: "points" or "density") and how many points lie in view."""

    rgba: np.ndarray
    rect: Rect
    mode: str
    in_view: int


def colours(labels: np.ndarray | None, n: int) -> np.ndarray:
    """(n, 3) uint8 colours of labels (ints, -1 grey); all the first colour without labels."""
    if labels is None:
        return np.broadcast_to(PALETTE[0], (n, 3))
    lab = np.asarray(labels, dtype=np.int64)
    out = PALETTE[np.mod(lab, len(PALETTE))]
    out[lab < 0] = UNLABELLED
    return out


def pixels(xy: np.ndarray, rect: Rect, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask of points in view, their pixel columns, their pixel rows; row 0 at the top)."""
    x, y = xy[:, 0], xy[:, 1]
    inside = (x >= rect.x0) & (x < rect.x1) & (y >= rect.y0) & (y < rect.y1)
    sx = width / max(rect.x1 - rect.x0, 1e-12)
    sy = height / max(rect.y1 - rect.y0, 1e-12)
    cols = ((x[inside] - rect.x0) * sx).astype(np.int64)
    rows = ((rect.y1 - y[inside]) * sy).astype(np.int64)
    np.clip(cols, 0, width - 1, out=cols)
    np.clip(rows, 0, height - 1, out=rows)
    return inside, cols, rows


def render(xy: np.ndarray, rect: Rect, width: int, height: int, labels: np.ndarray | None = None,
           budget: int = BUDGET, radius: int = 1, n_labels: int | None = None,
           highlight: np.ndarray | None = None, cell: int = 2) -> MapImage:
    """The picture of ``rect`` at ``width`` x ``height`` pixels (see the module note).
    ``labels`` (N,) ints colour the points (-1: grey); ``highlight`` (N,) bool points
    are drawn last, larger, ringed in white (a selection, search hits). The density
    counts cells of ``cell`` x ``cell`` pixels."""
    width, height = max(1, int(width)), max(1, int(height))
    xy = np.asarray(xy, dtype=np.float32)
    inside, cols, rows = pixels(xy, rect, width, height)
    n_in = int(cols.size)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    lab = None if labels is None else np.asarray(labels, dtype=np.int64)[inside]
    if n_in <= budget:
        _dots(rgba, cols, rows, colours(lab, n_in), radius)
        mode = "points"
    else:
        _density(rgba, cols, rows, lab, n_labels, max(1, int(cell)))
        mode = "density"
    if highlight is not None and highlight.any():
        hi = np.asarray(highlight, dtype=bool)
        draw_highlight(rgba, xy[hi], rect, None if labels is None else np.asarray(labels)[hi], radius)
    return MapImage(rgba, rect, mode, n_in)


def draw_highlight(rgba: np.ndarray, xy: np.ndarray, rect: Rect, labels: np.ndarray | None, radius: int) -> None:
    """Points ``xy`` (k, 2) drawn over the picture of ``rect``: a white ring, their label's colour."""
    h, w = rgba.shape[:2]
    inside, cols, rows = pixels(np.asarray(xy, dtype=np.float32), rect, w, h)
    k = int(cols.size)
    if not k:
        return
    _dots(rgba, cols, rows, np.broadcast_to(np.array((255, 255, 255), np.uint8), (k, 3)), radius + 2)
    _dots(rgba, cols, rows, colours(None if labels is None else np.asarray(labels)[inside], k), radius + 1)


def _dots(rgba: np.ndarray, cols: np.ndarray, rows: np.ndarray, rgb: np.ndarray, radius: int) -> None:
    """Discs ``2 radius + 1`` pixels across (later points over earlier ones), drawn by the
    studio's point rasteriser (:func:`app.embedding_tab.raster_scatter.rasterise`)."""
    h, w = rgba.shape[:2]
    if not len(cols):
        return
    argb = premultiplied(np.column_stack([np.asarray(rgb, dtype=np.uint8), np.full(len(cols), 255, np.uint8)]))
    img = rasterise(cols + 0.5, rows + 0.5, argb, w, h, size_px=2 * radius + 1)
    # ARGB words (the dots are opaque, so premultiplied = straight) to RGBA bytes: swap R and B
    rgba_words = np.asarray(img, dtype=np.uint32)
    rgba_words = (rgba_words & np.uint32(0xFF00FF00)) | ((rgba_words >> 16) & np.uint32(0xFF)) \
        | ((rgba_words & np.uint32(0xFF)) << 16)
    if sys.byteorder == "big":  # RGBA bytes read as a big-endian word
        rgba_words = rgba_words.byteswap()
    np.copyto(rgba.view(np.uint32).reshape(h, w), rgba_words, where=img != 0)


def _density(rgba: np.ndarray, cols: np.ndarray, rows: np.ndarray, lab: np.ndarray | None,
             n_labels: int | None, cell: int) -> None:
    """Counts per cell of ``cell`` x ``cell`` pixels on a log scale as opacity and
    brightness (a lone point still shows clearly), hue of the commonest label."""
    h, w = rgba.shape[:2]
    gh, gw = -(-h // cell), -(-w // cell)  # the grid of cells, the last ones cut by the edge
    pix = (rows // cell) * gw + cols // cell
    counts = np.bincount(pix, minlength=gh * gw)
    filled = np.flatnonzero(counts)
    top = None
    if lab is not None:
        shift = lab.clip(-1) + 1  # 0 = unlabelled
        L = int(n_labels + 1 if n_labels is not None else shift.max() + 1)
        per = np.bincount(pix * L + shift, minlength=gh * gw * L).reshape(gh * gw, L)[filled]
        top = per.argmax(axis=1) - 1
    grid = np.zeros((gh * gw, 4), dtype=np.uint8)
    grid[filled] = shade_cells(counts[filled], top, int(counts.max()))
    big = grid.reshape(gh, gw, 4)
    if cell > 1:
        big = np.repeat(np.repeat(big, cell, axis=0), cell, axis=1)
    rgba[:] = big[:h, :w]


def shade_cells(counts: np.ndarray, top: np.ndarray | None, max_count: int) -> np.ndarray:
    """(k, 4) RGBA of k filled cells: ``counts`` on a log scale against ``max_count`` as
    opacity and brightness (a lone point still shows), hue of the commonest label ``top``
    (None: the first colour). The log level is kept in 256 steps, so the colours come from
    one small table (label x step) looked up once per cell."""
    max_count = max(1, int(max_count))
    step = np.rint(np.log1p(np.arange(max_count + 1)) * (255.0 / np.log1p(max_count))).astype(np.int64)
    level = np.arange(256, dtype=np.float32) / 255.0  # (0, 1] for counts >= 1
    shade = (0.6 + 0.4 * level)[None, :, None]
    rgb = np.concatenate([UNLABELLED[None], PALETTE]).astype(np.float32)[:, None, :]  # row 0: label -1
    table = np.empty((len(PALETTE) + 1, 256, 4), dtype=np.uint8)
    table[..., :3] = np.clip(rgb * shade + 255.0 * (1.0 - shade) * 0.25, 0, 255).astype(np.uint8)
    table[..., 3] = (150 + 105 * level).astype(np.uint8)
    q = step[np.minimum(np.asarray(counts, dtype=np.int64), max_count)]
    row = np.ones(len(q), dtype=np.int64) if top is None else np.mod(np.asarray(top, dtype=np.int64), len(PALETTE)) + 1
    if top is not None:
        row[np.asarray(top) < 0] = 0
    return table.reshape(-1, 4).view(np.uint32)[row * 256 + q].view(np.uint8).reshape(-1, 4)


def nearest_point(xy: np.ndarray, x: float, y: float, max_dist: float) -> int | None:
    """The index of the point nearest (x, y) within ``max_dist`` map units, or None."""
    d = (xy[:, 0] - x) ** 2 + (xy[:, 1] - y) ** 2
    i = int(np.argmin(d)) if len(d) else -1
    return i if i >= 0 and d[i] <= max_dist * max_dist else None


__all__ = ["BUDGET", "MapImage", "PALETTE", "Rect", "colours", "draw_highlight", "nearest_point", "pixels", "render",
           "shade_cells"]
