"""The embedding views' computations, with no Qt: frames, colourings, neighbours.

A :class:`Frame` is everything the sphere, map and circle views draw for one snapshot:
the probe embeddings projected by PCA onto S2 (and S1), Procrustes-aligned to a
reference frame (the previously computed one) so PCA axes never flip between
snapshots, plus the Hammer map and the von Mises density of the S1 angles. Beside the
PCA sphere it holds the *raw* sphere: the embeddings' own directions, projected without
centring (onto the top right-singular vectors of the uncentred matrix) and normalised,
so a collapsed space (every sentence in one narrow cone) stays a small cap, as in Wang
and Isola's pictures, where the centred PCA spreads the cone over the whole sphere. The PCA
bases and alignment rotations are kept so that a newly embedded sentence lands in the
same picture (:func:`place_vector`).

Everything geometric is delegated to :mod:`simcse_core.projection`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from simcse_core.projection import (
    angles,
    hammer,
    lambert_azimuthal,
    pca_basis,
    procrustes_rotation,
    to_circle,
    to_sphere,
    vmf_kde,
)

from app.i18n import tr

VMF_KAPPA = 30.0  # kernel width ~ 1/sqrt(kappa) rad ~ 10 degrees

# Tableau 20 reordered (saturated first): colours for up to 20 groups, grey for the rest.
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#9edae5", "#dbdb8d", "#637939",
]
OTHER_COLOR = "#9a9a9a"
SINGLE_COLOR = "#1f77b4"


@dataclass
class Frame:
    """Projections of one snapshot's probe embeddings (all float32, row = probe row).

    - ``xyz`` (P, 3): unit vectors on S2 (PCA-3, normalised, aligned to the reference).
    - ``hammer`` (P, 2): Hammer equal-area map of ``xyz``; ``lambert`` (P, 2): Lambert
      azimuthal map about the north pole (the 3D view's 2D fallback).
    - ``circle`` (P, 2): unit vectors on S1 (PCA-2, normalised, aligned).
    - ``vmf_t``, ``vmf_density``: von Mises KDE of the circle angles (Wang & Isola 2020).
    - ``basis3``/``rot3`` and ``basis2``/``rot2``: PCA bases and alignment rotations, so a
      new vector ``v`` lands at ``normalise((v - mean) @ comps.T) @ rot``.
    - ``raw_xyz``, ``raw_hammer``, ``raw_lambert``: the raw sphere (no centring: see
      :func:`raw_basis`) and its maps; ``basis_raw``/``rot_raw`` as for PCA (mean zero).
    """

    index: int
    step: int
    xyz: np.ndarray
    hammer: np.ndarray
    lambert: np.ndarray
    circle: np.ndarray
    vmf_t: np.ndarray
    vmf_density: np.ndarray
    basis3: tuple[np.ndarray, np.ndarray]
    rot3: np.ndarray
    basis2: tuple[np.ndarray, np.ndarray]
    rot2: np.ndarray
    raw_xyz: np.ndarray | None = None
    raw_hammer: np.ndarray | None = None
    raw_lambert: np.ndarray | None = None
    basis_raw: tuple[np.ndarray, np.ndarray] | None = None
    rot_raw: np.ndarray | None = None


def raw_basis(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(zero mean, (3, D) axes): the top right-singular vectors of the uncentred ``X``,
    the first oriented towards the rows' mean direction (a cone sits about +x, the
    centre of the Hammer map)."""
    mean, comps = pca_basis(X, 3, center=False)
    comps = np.array(comps, dtype=np.float64)
    m = np.nanmean(np.asarray(X, dtype=np.float64), axis=0) if len(X) else np.zeros(comps.shape[1])
    if float(m @ comps[0]) < 0:
        comps[0] = -comps[0]
    return mean, comps


def build_frame(index: int, step: int, X: np.ndarray, ref: Frame | None = None) -> Frame:
    """Project ``X`` (P, D) float32 onto S2 and S1 by PCA, aligned to ``ref`` (same P)."""
    b3 = pca_basis(X, 3)
    xyz = to_sphere(X, basis=b3)
    rot3 = np.eye(3)
    b2 = pca_basis(X, 2)
    circ = to_circle(X, basis=b2)
    rot2 = np.eye(2)
    br = raw_basis(X)
    raw = to_sphere(X, basis=br)
    rot_raw = np.eye(3)
    if ref is not None and ref.xyz.shape[0] == xyz.shape[0] and xyz.shape[0] >= 3:
        xyz, rot3 = procrustes_rotation(xyz, ref.xyz)
        circ, rot2 = procrustes_rotation(circ, ref.circle)
        if ref.raw_xyz is not None:
            raw, rot_raw = procrustes_rotation(raw, ref.raw_xyz)
    t, dens = vmf_kde(angles(circ), kappa=VMF_KAPPA, grid=180)
    return Frame(index, step, xyz.astype(np.float32), hammer(xyz).astype(np.float32),
                 lambert_azimuthal(xyz).astype(np.float32), circ.astype(np.float32),
                 t, dens, b3, rot3, b2, rot2, raw.astype(np.float32), hammer(raw).astype(np.float32),
                 lambert_azimuthal(raw, center=RAW_CENTRE).astype(np.float32), br, rot_raw)


# The raw sphere puts the embeddings' mean direction at +x (the Hammer map's centre); its
# Lambert map is centred there too, so a collapsed cone is a small blob in the middle of
# the disc, as on the Hammer map, not a smear at the rim.
RAW_CENTRE = (1.0, 0.0, 0.0)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else v


def place_vector(frame: Frame, v: np.ndarray, raw: bool = False) -> dict[str, np.ndarray]:
    """Where a new embedding ``v`` (D,) lands on the frame's sphere, maps and circle
    (``raw``: on the raw sphere, else the PCA one)."""
    v = np.asarray(v, dtype=np.float64).ravel()
    if raw and frame.basis_raw is not None and frame.rot_raw is not None:
        (mean3, comps3), rot3 = frame.basis_raw, frame.rot_raw
    else:
        (mean3, comps3), rot3 = frame.basis3, frame.rot3
    xyz = _unit((v - mean3) @ np.asarray(comps3).T) @ rot3
    mean2, comps2 = frame.basis2
    circ = _unit((v - mean2) @ np.asarray(comps2).T) @ frame.rot2
    xyz = _unit(xyz)
    centre = RAW_CENTRE if raw and frame.basis_raw is not None else (0.0, 0.0, 1.0)
    return {"xyz": xyz, "hammer": hammer(xyz[None])[0], "lambert": lambert_azimuthal(xyz[None], center=centre)[0],
            "circle": _unit(circ)}


def place_by_neighbours(layout: np.ndarray, idx: np.ndarray, sims: np.ndarray) -> np.ndarray:
    """A new point's position in a layout (UMAP): the mean of its neighbours' positions
    weighted by their cosine (clipped at a small positive value)."""
    w = np.clip(np.asarray(sims, dtype=np.float64), 1e-3, None)
    return (layout[np.asarray(idx)] * w[:, None]).sum(axis=0) / w.sum()


# ------------------------------------------------------------------ neighbours
def top_k(X: np.ndarray, query: np.ndarray, k: int, exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``X`` (P, D, unit rows) most cosine-similar to ``query`` (D,),
    nearest first (ties by row), excluding row ``exclude``. Returns (rows, cosines)."""
    sims = X @ np.asarray(query, dtype=X.dtype)
    if exclude is not None:
        sims = sims.copy()
        sims[exclude] = -np.inf
    k = max(0, min(k, sims.shape[0] - (exclude is not None)))
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    part = np.argpartition(-sims, k - 1)[:k] if k < sims.shape[0] else np.arange(sims.shape[0])
    order = np.lexsort((part, -sims[part]))
    rows = part[order].astype(np.int64)
    return rows, sims[rows].astype(np.float32)


def overlap_at_k(a: np.ndarray, b: np.ndarray) -> float:
    """|a & b| / k for two neighbour lists of length k."""
    k = max(len(a), 1)
    return len(set(int(x) for x in a) & set(int(x) for x in b)) / k


# ------------------------------------------------------------------ colourings
@dataclass
class Colouring:
    """Group labels for colouring points: ``codes`` (P,) int into ``names``/``colors``."""

    name: str
    codes: np.ndarray
    names: list[str]
    colors: list[str]
    counts: list[int] = field(default_factory=list)

    @property
    def n_groups(self) -> int:
        return len(self.names)


def single_colouring(P: int) -> Colouring:
    return Colouring("none", np.zeros(P, dtype=np.int64), ["all"], [SINGLE_COLOR], [P])


def label_colouring(name: str, values: list[str], max_groups: int = len(PALETTE)) -> Colouring:
    """Groups from a label column: the most frequent ``max_groups - 1`` values get their
    own colour (all of them when they fit), the rest share a grey "other"."""
    counts = Counter(values)
    ordered = sorted(counts, key=lambda v: (-counts[v], v))
    if len(ordered) > max_groups:
        keep = ordered[: max_groups - 1]
    else:
        keep = ordered
    code_of = {v: i for i, v in enumerate(keep)}
    other = len(keep)
    codes = np.fromiter((code_of.get(v, other) for v in values), dtype=np.int64, count=len(values))
    names = [str(v) if str(v) != "" else "(empty)" for v in keep]
    colors = PALETTE[: len(keep)]
    if len(keep) < len(ordered):
        names.append("other")
        colors = colors + [OTHER_COLOR]
    cnt = np.bincount(codes, minlength=len(names)).tolist()
    return Colouring(name, codes, names, colors, cnt)


def cluster_colouring(labels: np.ndarray, k: int) -> Colouring:
    """Groups from k-means labels (0 = the biggest cluster)."""
    labels = np.asarray(labels, dtype=np.int64)
    n = int(max(k, labels.max() + 1 if labels.size else 0))
    colors = [PALETTE[i % len(PALETTE)] for i in range(n)]
    cnt = np.bincount(labels, minlength=n).tolist()
    return Colouring(f"k-means ({k})", labels, [tr("cluster {i}").format(i=i) for i in range(n)], colors, cnt)


def search_texts(texts: list[str], query: str, limit: int = 200) -> list[int]:
    """Rows whose text contains ``query`` (case-insensitive), in order, at most ``limit``."""
    q = query.strip().casefold()
    if not q:
        return []
    out = []
    for i, t in enumerate(texts):
        if q in t.casefold():
            out.append(i)
            if len(out) >= limit:
                break
    return out


def corpus_outside_probe(corpus: list[str], probe_texts: set[str]) -> tuple[list[str], list[str]]:
    """(the corpus sentences not in the probe set, each once, in corpus order; their
    casefolded copies): prepared once, searched on every keystroke."""
    texts = [t for t in dict.fromkeys(corpus) if t not in probe_texts]
    return texts, [t.casefold() for t in texts]


def corpus_matches(texts: list[str], folded: list[str], query: str, limit: int = 100) -> list[str]:
    """The ``texts`` whose casefolded copy contains ``query`` (case-insensitive), in
    order, at most ``limit``."""
    q = query.strip().casefold()
    if not q:
        return []
    out: list[str] = []
    for t, f in zip(texts, folded):
        if q in f:
            out.append(t)
            if len(out) >= limit:
                break
    return out


def in_polygon(xy: np.ndarray, rows: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """The ``rows`` whose point ``xy[row]`` lies inside ``polygon`` ((k, 2) vertices, closed
    implicitly; even-odd rule, so a lasso that crosses itself selects what a fill shows)."""
    poly = np.asarray(polygon, dtype=np.float64)
    if rows.size == 0 or poly.ndim != 2 or poly.shape[0] < 3:
        return rows[:0]
    p = np.asarray(xy[rows], dtype=np.float64)
    x, y = p[:, 0], p[:, 1]
    inside = np.zeros(rows.size, dtype=bool)
    xa, ya = poly[:, 0], poly[:, 1]
    xb, yb = np.roll(xa, -1), np.roll(ya, -1)
    for x0, y0, x1, y1 in zip(xa.tolist(), ya.tolist(), xb.tolist(), yb.tolist()):
        if y0 == y1:
            continue  # a horizontal edge never crosses the rightward ray
        crosses = (y0 > y) != (y1 > y)
        x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < x_at)
    return rows[inside]


def in_rect(xy: np.ndarray, rows: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """The ``rows`` whose point ``xy[row]`` lies inside the rectangle."""
    if rows.size == 0:
        return rows
    p = xy[rows]
    lo_x, hi_x = min(x0, x1), max(x0, x1)
    lo_y, hi_y = min(y0, y1), max(y0, y1)
    m = (p[:, 0] >= lo_x) & (p[:, 0] <= hi_x) & (p[:, 1] >= lo_y) & (p[:, 1] <= hi_y)
    return rows[m]
