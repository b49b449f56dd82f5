"""Projections of probe-set embeddings for the studio's views (engine side, no Qt).

Every snapshot carries the L2-normalised embeddings of a fixed probe set, an array of
shape ``(P, D)`` (float32, ``P`` up to ~20k, ``D`` 32..768). The studio draws them

* on the unit sphere S2 (:func:`to_sphere`) with a faint wireframe (:func:`sphere_grid`),
* on an equal-area map of that sphere (:func:`hammer`, :func:`lambert_azimuthal`,
  :func:`hammer_graticule`),
* on the circle S1 with a von Mises kernel density of the angles, Wang & Isola's
  (2020) picture (:func:`to_circle`, :func:`angles`, :func:`vmf_kde`),
* as a 2D UMAP (:class:`UmapTracker`), warm-started from the previous snapshot and
  registered onto it with Procrustes (:func:`procrustes`, :func:`procrustes_rotation`)
  so that points move smoothly instead of jumping.

Plus neighbourhood statistics (:func:`knn`, :func:`knn_overlap`, :func:`mean_knn_overlap`),
clustering for colours (:func:`kmeans`) and a deterministic subsample for drawing
(:func:`subsample_indices`).

Importing this module is cheap: it needs numpy only. scipy, scikit-learn and umap are
imported inside the functions that use them. umap (through numba) compiles a lot of code
on first use; :func:`configure_numba_cache` (called by everything that imports umap)
points numba at an on-disk cache (``NUMBA_CACHE_DIR``, by default
``~/.cache/simcse-studio/numba``) and turns on caching for umap's own jitted functions,
so that only the very first process on a machine pays for the compilation.
:func:`warm_up_umap` does that compilation up front on a tiny input.

Conventions: a row is a point; all geometric outputs are float64; a rotation ``R``
returned by the Procrustes functions acts on row vectors from the right (``Y @ R``).
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "pca_basis",
    "pca_project",
    "to_sphere",
    "to_circle",
    "angles",
    "vmf_kde",
    "hammer",
    "lambert_azimuthal",
    "sphere_grid",
    "hammer_graticule",
    "latlon_to_xyz",
    "xyz_to_latlon",
    "procrustes",
    "procrustes_rotation",
    "UmapTracker",
    "configure_numba_cache",
    "default_numba_cache_dir",
    "warm_up_umap",
    "knn",
    "knn_overlap",
    "mean_knn_overlap",
    "kmeans",
    "subsample_indices",
]

# Hammer map bounds: x in [-2*sqrt(2), 2*sqrt(2)], y in [-sqrt(2), sqrt(2)].
HAMMER_A = 2.0 * math.sqrt(2.0)
HAMMER_B = math.sqrt(2.0)

_FALLBACK_3D = np.array([0.0, 0.0, 1.0])  # where a direction-less row goes on S2
_FALLBACK_2D = np.array([1.0, 0.0])  # ... and on S1


# --------------------------------------------------------------------------- helpers


def _as_2d(X: Any, name: str = "X") -> np.ndarray:
    A = np.asarray(X)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (points x dims), got shape {A.shape}")
    return A


def _normalize_rows(V: np.ndarray, fallback: np.ndarray, rel_eps: float = 1e-7) -> np.ndarray:
    """Rows of ``V`` scaled to unit length (float64).

    A row whose norm is zero, non-finite, or below ``rel_eps`` times the largest finite
    row norm has no usable direction; it becomes ``fallback`` (a unit vector). The result
    therefore never contains NaN or inf.
    """
    V = np.asarray(V, dtype=np.float64)
    out = np.empty_like(V)
    if V.shape[0] == 0:
        return out
    with np.errstate(invalid="ignore", over="ignore"):
        n = np.sqrt(np.einsum("ij,ij->i", V, V))
    finite = np.isfinite(n)
    top = float(n[finite].max()) if finite.any() else 0.0
    bad = ~finite | (n <= max(1e-300, rel_eps * top))
    good = ~bad
    out[good] = V[good] / n[good, None]
    out[bad] = fallback
    return out


# --------------------------------------------------------------------------- PCA


def pca_basis(X: Any, k: int, center: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Principal axes of the rows of ``X``.

    Args:
        X: ``(P, D)`` points. Rows holding NaN/inf are ignored for the fit.
        k: number of components wanted.
        center: subtract the mean first (ordinary PCA). With ``center=False`` the axes
            are those of the uncentred second moment ``X^T X`` and ``mean`` is zero, so
            a common direction shared by all rows (anisotropy) stays visible.

    Returns:
        ``(mean, components)``: ``mean`` of shape ``(D,)`` and ``components`` of shape
        ``(k, D)``, orthonormal rows ordered by decreasing variance, each with its
        largest-magnitude entry positive (a deterministic sign). If ``k > D`` the extra
        rows are zero. Both float64.
    """
    A = _as_2d(X)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    P, D = A.shape
    finite_rows = np.isfinite(A).all(axis=1) if A.size else np.zeros(P, dtype=bool)
    Af = A[finite_rows] if not finite_rows.all() else A
    if Af.shape[0] == 0:
        mean = np.zeros(D)
        comps = np.eye(D)
    else:
        mean = Af.mean(axis=0, dtype=np.float64) if center else np.zeros(D)
        work = np.float32 if Af.dtype == np.float32 else np.float64
        C = Af.astype(work, copy=False) - mean.astype(work)
        # D x D second moment; D <= ~768, so eigh on it is cheap and works for any P.
        cov = (C.T @ C).astype(np.float64) / max(Af.shape[0], 1)
        cov = 0.5 * (cov + cov.T)
        evals, evecs = np.linalg.eigh(cov)
        order = np.argsort(evals)[::-1]
        comps = evecs[:, order].T
    kk = min(k, D)
    comps = np.array(comps[:kk], dtype=np.float64)
    if kk:
        pivot = np.argmax(np.abs(comps), axis=1)
        signs = np.sign(comps[np.arange(kk), pivot])
        signs[signs == 0] = 1.0
        comps *= signs[:, None]
    if k > D:
        comps = np.vstack([comps, np.zeros((k - D, D))])
    return mean, comps


def pca_project(
    X: Any,
    k: int = 3,
    basis: tuple[np.ndarray, np.ndarray] | None = None,
    center: bool = True,
) -> np.ndarray:
    """Coordinates of the rows of ``X`` on ``k`` principal axes.

    Args:
        X: ``(P, D)`` points.
        k: number of axes (ignored when ``basis`` is given: its row count rules).
        basis: ``(mean (D,), components (k, D))`` from :func:`pca_basis`, e.g. fitted
            once on a reference snapshot so every snapshot shares one frame. ``None``
            fits one on ``X``.
        center: passed to :func:`pca_basis` when ``basis`` is ``None``.

    Returns:
        ``(P, k)`` float64 array ``(X - mean) @ components.T``.
    """
    A = _as_2d(X)
    if basis is None:
        basis = pca_basis(A, k, center=center)
    mean, comps = basis
    mean = np.asarray(mean, dtype=np.float64)
    comps = np.asarray(comps, dtype=np.float64)
    if comps.ndim != 2 or comps.shape[1] != A.shape[1] or mean.shape != (A.shape[1],):
        raise ValueError(
            f"basis does not match X: X has {A.shape[1]} dims, mean {mean.shape}, "
            f"components {comps.shape}"
        )
    return (A.astype(np.float64, copy=False) - mean) @ comps.T


# --------------------------------------------------------------------------- S2 and S1


def to_sphere(
    X: Any,
    method: str = "pca",
    basis: tuple[np.ndarray, np.ndarray] | None = None,
    center: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """Points on the unit sphere S2 for the 3D view.

    Args:
        X: ``(P, D)`` embeddings.
        method: ``"pca"`` projects onto 3 principal axes (of ``X``, or ``basis``) then
            L2-normalises; ``"random"`` uses a fixed random orthonormal 3-frame drawn
            from ``seed`` (no fit, identical for every snapshot of the same ``D``).
        basis: a :func:`pca_basis` result with 3 components (``"pca"`` only).
        center: centre before projecting (``"pca"`` without ``basis`` and ``"random"``).
        seed: seed of the ``"random"`` frame.

    Returns:
        ``(P, 3)`` float64, every row of unit norm and finite. A row that projects to
        (almost) the origin, or holds NaN/inf, has no direction and is put at the north
        pole ``(0, 0, 1)``; so all-identical rows all land on the pole.
    """
    A = _as_2d(X)
    if method == "pca":
        V = pca_project(A, 3, basis=basis, center=center)
    elif method == "random":
        D = A.shape[1]
        rng = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(rng.standard_normal((D, min(3, D))))
        if Q.shape[1] < 3:
            Q = np.hstack([Q, np.zeros((D, 3 - Q.shape[1]))])
        finite = np.isfinite(A).all(axis=1)
        mean = (
            A[finite].mean(axis=0, dtype=np.float64)
            if center and finite.any()
            else np.zeros(D)
        )
        V = (A.astype(np.float64, copy=False) - mean) @ Q
    else:
        raise ValueError(f"unknown sphere method {method!r} (use 'pca' or 'random')")
    return _normalize_rows(V, _FALLBACK_3D)


def to_circle(
    X: Any, basis: tuple[np.ndarray, np.ndarray] | None = None, center: bool = True
) -> np.ndarray:
    """Points on the unit circle S1: PCA to 2 dims, then L2-normalise.

    Returns ``(P, 2)`` float64 unit rows; a row without direction goes to ``(1, 0)``.
    """
    A = _as_2d(X)
    return _normalize_rows(pca_project(A, 2, basis=basis, center=center), _FALLBACK_2D)


def angles(xy: Any) -> np.ndarray:
    """Angles ``atan2(y, x)`` in ``[-pi, pi]`` of ``(P, 2)`` points; shape ``(P,)``."""
    A = _as_2d(xy, "xy")
    if A.shape[1] != 2:
        raise ValueError(f"xy must have 2 columns, got {A.shape}")
    return np.arctan2(A[:, 1].astype(np.float64), A[:, 0].astype(np.float64))


def vmf_kde(
    angles: Any, kappa: float = 30.0, grid: int = 360, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Von Mises (vMF on S1) kernel density estimate of angles on the circle.

    ``density(t) = mean_i exp(kappa * cos(t - a_i)) / (2 pi I0(kappa))``, a proper
    density on the circle (it integrates to 1 over one turn). The kernel's angular
    width is about ``1 / sqrt(kappa)`` radians.

    Args:
        angles: ``(P,)`` angles in radians (any real values; NaN/inf are ignored).
        kappa: concentration (> 0).
        grid: number of evaluation intervals over one turn.
        chunk: number of angles handled at once (memory bound).

    Returns:
        ``(grid_angles, density)``, both ``(grid + 1,)`` float64: ``grid_angles`` runs
        from ``-pi`` to ``pi`` inclusive (first and last point are the same place, so a
        polar plot closes), and ``np.trapezoid(density, grid_angles) == 1`` up to
        rounding. With no finite angle the density is uniform ``1 / (2 pi)``.
    """
    from scipy.special import i0e  # lazy: keeps module import cheap

    if kappa <= 0:
        raise ValueError(f"kappa must be > 0, got {kappa}")
    if grid < 3:
        raise ValueError(f"grid must be >= 3, got {grid}")
    a = np.asarray(angles, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    t = np.linspace(-np.pi, np.pi, grid + 1)
    if a.size == 0:
        return t, np.full(t.shape, 1.0 / (2.0 * np.pi))
    acc = np.zeros(t.shape)
    for s in range(0, a.size, chunk):
        part = a[s : s + chunk]
        # exp(kappa*(cos-1)) stays in range for any kappa; I0e(kappa) = I0 * exp(-kappa).
        acc += np.exp(kappa * (np.cos(t[:, None] - part[None, :]) - 1.0)).sum(axis=1)
    density = acc / (a.size * 2.0 * np.pi * i0e(kappa))
    return t, density


# --------------------------------------------------------------------------- maps


def _unit_xyz(xyz: Any) -> np.ndarray:
    A = _as_2d(xyz, "xyz")
    if A.shape[1] != 3:
        raise ValueError(f"xyz must have 3 columns, got {A.shape}")
    return _normalize_rows(A, _FALLBACK_3D)


def xyz_to_latlon(xyz: Any, colatitude: bool = False) -> np.ndarray:
    """``(P, 3)`` unit vectors -> ``(P, 2)`` ``[lat, lon]`` in radians.

    ``lat = asin(z)`` in ``[-pi/2, pi/2]``, ``lon = atan2(y, x)`` in ``[-pi, pi]``; with
    ``colatitude=True`` column 0 is ``pi/2 - lat`` (angle from +z), umap's haversine
    layout convention (see :func:`latlon_to_xyz`). The inverse of :func:`latlon_to_xyz`
    with the same flag. Rows are normalised first.
    """
    U = _unit_xyz(xyz)
    lat = np.arcsin(np.clip(U[:, 2], -1.0, 1.0))
    lon = np.arctan2(U[:, 1], U[:, 0])
    return np.column_stack([np.pi / 2 - lat if colatitude else lat, lon])


def latlon_to_xyz(latlon: Any, colatitude: bool = False) -> np.ndarray:
    """``(P, 2)`` angles in radians -> ``(P, 3)`` unit vectors.

    Default: column 0 is the latitude, column 1 the longitude,
    ``(cos lat cos lon, cos lat sin lon, sin lat)``. Any real values are accepted (the
    map is periodic), which matters for umap: it does not wrap its output.

    For ``umap.UMAP(output_metric="haversine").embedding_`` pass ``colatitude=True``:
    column 0 is then the polar angle ``theta`` from +z and column 1 the longitude
    ``phi``, ``(sin theta cos phi, sin theta sin phi, cos theta)``. Why: umap's
    ``haversine`` *distance* treats column 0 as a latitude (``cos(lat1) cos(lat2)``
    term), but the *gradient* its layout optimiser follows, ``haversine_grad``, computes
    the distance with ``cos(x + pi/2) cos(y + pi/2) = sin(x) sin(y)``, i.e. with column 0
    as a colatitude. The layout is therefore a good embedding of the neighbour graph
    only under the colatitude reading, which is also how umap's documentation draws it
    (``z = cos(embedding[:, 0])``). Checked in the tests against umap's own functions.
    """
    A = _as_2d(latlon, "latlon")
    if A.shape[1] != 2:
        raise ValueError(f"latlon must have 2 columns, got {A.shape}")
    first = A[:, 0].astype(np.float64)
    lat = np.pi / 2 - first if colatitude else first
    lon = A[:, 1].astype(np.float64)
    c = np.cos(lat)
    return np.column_stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)])


def _hammer_lonlat(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    cl = np.cos(lat)
    h = np.cos(0.5 * lon)
    # lon in [-pi, pi] gives cos(lon/2) >= 0, so the denominator is >= 1: no singularity.
    den = np.sqrt(1.0 + cl * h)
    x = HAMMER_A * cl * np.sin(0.5 * lon) / den
    y = HAMMER_B * np.sin(lat) / den
    return np.column_stack([x, y])


def hammer(xyz: Any) -> np.ndarray:
    """Hammer (equal-area) projection of points on S2.

    ``lon = atan2(y, x)``, ``lat = asin(z)``; output ``(P, 2)`` float64 inside the
    ellipse ``x^2/8 + y^2/2 <= 1`` (semi-axes ``2 sqrt 2`` and ``sqrt 2``, area 4 pi, the
    sphere's area). The map is equal-area: a region of the sphere and its image have the
    same area. Longitude 0 (the +x direction) is the central meridian, +z is up.
    Rows are normalised first (a zero row goes to the north pole).
    """
    ll = xyz_to_latlon(xyz)
    return _hammer_lonlat(ll[:, 1], ll[:, 0])


def lambert_azimuthal(xyz: Any, center: Any = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Lambert azimuthal equal-area projection of points on S2 about ``center``.

    A point at angle ``theta`` from ``center`` lands at distance ``2 sin(theta/2)`` from
    the origin, in its own direction; the whole sphere fills the disc of radius 2
    (area 4 pi) and areas are preserved. With the default centre (north pole) the map is
    ``sqrt(2 / (1 + z)) * (x, y)``. The antipode of ``center`` (a whole circle on the
    map) is drawn at ``(2, 0)`` on the first in-plane axis.

    Returns ``(P, 2)`` float64.
    """
    U = _unit_xyz(xyz)
    c = np.asarray(center, dtype=np.float64).reshape(3)
    cn = float(np.linalg.norm(c))
    if not np.isfinite(cn) or cn == 0.0:
        raise ValueError("center must be a non-zero 3-vector")
    c = c / cn
    # In-plane axes: e1, e2 orthonormal and perpendicular to c; (x, y) for the pole.
    helper = np.array([1.0, 0.0, 0.0]) if abs(c[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = helper - (helper @ c) * c
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(c, e1)
    u = U @ e1
    v = U @ e2
    w = np.clip(U @ c, -1.0, 1.0)
    out = np.empty((U.shape[0], 2))
    ok = (1.0 + w) > 1e-12
    s = np.sqrt(2.0 / (1.0 + w[ok]))
    out[ok, 0] = s * u[ok]
    out[ok, 1] = s * v[ok]
    out[~ok] = (2.0, 0.0)
    return out


def sphere_grid(n_lat: int = 7, n_lon: int = 12, points: int = 97) -> list[np.ndarray]:
    """A latitude/longitude wireframe for the sphere view.

    Args:
        n_lat: number of parallels, evenly spaced strictly between the poles (with the
            default 7: every 22.5 degrees, including the equator).
        n_lon: number of meridians (half great circles pole to pole), evenly spaced.
        points: vertices per polyline.

    Returns:
        A list of ``(points, 3)`` float64 polylines of unit vectors: first the parallels
        (closed: last vertex equals the first), then the meridians.
    """
    lines: list[np.ndarray] = []
    t = np.linspace(-np.pi, np.pi, points)
    for i in range(1, n_lat + 1):
        lat = -np.pi / 2 + np.pi * i / (n_lat + 1)
        lines.append(latlon_to_xyz(np.column_stack([np.full(points, lat), t])))
    lats = np.linspace(-np.pi / 2, np.pi / 2, points)
    for j in range(n_lon):
        lon = -np.pi + 2.0 * np.pi * j / n_lon
        lines.append(latlon_to_xyz(np.column_stack([lats, np.full(points, lon)])))
    return lines


def hammer_graticule(
    lat_step_deg: float = 30.0, lon_step_deg: float = 30.0, points: int = 121
) -> list[np.ndarray]:
    """Outline and graticule of the Hammer map, as ``(m, 2)`` float64 polylines.

    The first polyline is the closed outline (the ellipse ``x^2/8 + y^2/2 = 1``, i.e.
    the meridians at +-180 degrees); then the parallels every ``lat_step_deg`` (poles
    excluded, they are points) and the inner meridians every ``lon_step_deg``.
    """
    lines: list[np.ndarray] = []
    s = np.linspace(0.0, 2.0 * np.pi, 2 * points - 1)
    lines.append(np.column_stack([HAMMER_A * np.cos(s), HAMMER_B * np.sin(s)]))
    lon = np.linspace(-np.pi, np.pi, points)
    n = int(round(90.0 / lat_step_deg))
    for i in range(-n + 1, n):
        lat = math.radians(i * lat_step_deg)
        if abs(lat) >= np.pi / 2:
            continue
        lines.append(_hammer_lonlat(lon, np.full(points, lat)))
    lat = np.linspace(-np.pi / 2, np.pi / 2, points)
    m = int(round(180.0 / lon_step_deg))
    for j in range(-m + 1, m):
        lines.append(_hammer_lonlat(np.full(points, math.radians(j * lon_step_deg)), lat))
    return lines


# --------------------------------------------------------------------------- Procrustes


def _orthogonal_from_cross(M: np.ndarray, allow_reflection: bool) -> tuple[np.ndarray, np.ndarray]:
    """``R`` maximising ``trace(R^T M)`` over orthogonal (or special orthogonal)
    matrices, and the singular values of ``M`` with the sign actually used."""
    U, S, Vt = np.linalg.svd(M)
    if not allow_reflection and np.linalg.det(U) * np.linalg.det(Vt) < 0:
        U = U.copy()
        U[:, -1] *= -1.0
        S = S.copy()
        S[-1] *= -1.0
    return U @ Vt, S


def procrustes(
    Y: Any, ref: Any, scale: bool = True, allow_reflection: bool = True
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Orthogonal Procrustes: the similarity transform mapping ``Y`` onto ``ref``.

    Finds ``R`` (orthogonal ``(d, d)``; a rotation, or a rotation with a reflection
    unless ``allow_reflection=False``), ``s > 0`` (1 when ``scale=False``) and ``t``
    ``(d,)`` minimising ``sum ||s * Y_i @ R + t - ref_i||^2``. Works in any dimension
    ``d`` (the studio uses 2 and 3).

    Args:
        Y: ``(P, d)`` points to move.
        ref: ``(P, d)`` target, row ``i`` corresponding to ``Y``'s row ``i``.

    Returns:
        ``(Y_aligned, R, s, t)`` with ``Y_aligned = s * Y @ R + t`` (float64).
        If ``Y`` has no spread (all rows equal) ``R`` is the identity and ``s`` is 1.
    """
    A = _as_2d(Y, "Y").astype(np.float64)
    B = _as_2d(ref, "ref").astype(np.float64)
    if A.shape != B.shape:
        raise ValueError(f"Y {A.shape} and ref {B.shape} must have the same shape")
    if A.shape[0] == 0:
        d = A.shape[1]
        return A.copy(), np.eye(d), 1.0, np.zeros(d)
    mu_a = A.mean(axis=0)
    mu_b = B.mean(axis=0)
    Ac = A - mu_a
    Bc = B - mu_b
    ss_a = float(np.einsum("ij,ij->", Ac, Ac))
    if ss_a <= 1e-300:
        R = np.eye(A.shape[1])
        s = 1.0
    else:
        R, S = _orthogonal_from_cross(Ac.T @ Bc, allow_reflection)
        s = float(S.sum() / ss_a) if scale else 1.0
        if scale and s <= 0.0:
            s = 1.0  # ref without spread (or anti-correlated with no reflection): keep size
    t = mu_b - s * (mu_a @ R)
    return s * (A @ R) + t, R, s, t


def procrustes_rotation(
    Y: Any, ref: Any, allow_reflection: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Orthogonal alignment about the origin, for frames on a sphere (or circle).

    Finds the orthogonal ``R`` minimising ``sum ||Y_i @ R - ref_i||^2`` (no translation,
    no scale), so unit rows stay unit rows. ``allow_reflection=False`` restricts ``R`` to
    proper rotations (``det R = +1``); the default also undoes mirror flips, e.g. a PCA
    axis changing sign between snapshots.

    Returns:
        ``(Y_aligned, R)`` with ``Y_aligned = Y @ R``, float64.
    """
    A = _as_2d(Y, "Y").astype(np.float64)
    B = _as_2d(ref, "ref").astype(np.float64)
    if A.shape != B.shape:
        raise ValueError(f"Y {A.shape} and ref {B.shape} must have the same shape")
    R, _ = _orthogonal_from_cross(A.T @ B, allow_reflection)
    return A @ R, R


# --------------------------------------------------------------------------- neighbours


def _unit_rows_f32(X: Any) -> np.ndarray:
    A = np.asarray(_as_2d(X), dtype=np.float32)
    A = np.where(np.isfinite(A), A, 0.0).astype(np.float32, copy=False)
    n = np.sqrt(np.einsum("ij,ij->i", A, A))
    n[n == 0] = 1.0
    return A / n[:, None]


def _knn_cosine(
    X: Any, k: int, include_self: bool, rows: np.ndarray | None = None, chunk: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine k-NN by blocked matrix products.

    Returns ``(indices (Q, k) int64, distances (Q, k) float32)`` for the query ``rows``
    (all rows by default), each row sorted by increasing cosine distance ``1 - cos``,
    ties broken by index. With ``include_self`` the point itself comes first (distance
    0); otherwise it is excluded. A zero row has cosine 0 to everything.
    """
    U = _unit_rows_f32(X)
    P = U.shape[0]
    q = np.arange(P) if rows is None else np.asarray(rows, dtype=np.int64)
    need = k - 1 if include_self else k
    if need > P - 1 or k < 1:
        raise ValueError(f"k={k} neighbours need at least {need + 1} points, got {P}")
    idx = np.empty((q.size, k), dtype=np.int64)
    dist = np.empty((q.size, k), dtype=np.float32)
    for s in range(0, q.size, chunk):
        qs = q[s : s + chunk]
        neg = U[qs] @ U.T  # (c, P) cosine similarities ...
        np.negative(neg, out=neg)  # ... negated in place: argpartition wants smallest
        neg[np.arange(qs.size), qs] = np.inf  # never pick self here
        if need > 0:
            if need < P:
                part = np.argpartition(neg, need - 1, axis=1)[:, :need]
            else:
                part = np.argsort(neg, axis=1)[:, :need]
            vals = -np.take_along_axis(neg, part, axis=1)
            # sort by (-similarity, index): deterministic under ties
            o = np.lexsort((part, -vals), axis=1)
            part = np.take_along_axis(part, o, axis=1)
            vals = np.take_along_axis(vals, o, axis=1)
        else:
            part = np.empty((qs.size, 0), dtype=np.int64)
            vals = np.empty((qs.size, 0), dtype=np.float32)
        if include_self:
            idx[s : s + qs.size, 0] = qs
            dist[s : s + qs.size, 0] = 0.0
            idx[s : s + qs.size, 1:] = part
            dist[s : s + qs.size, 1:] = np.clip(1.0 - vals, 0.0, 2.0)
        else:
            idx[s : s + qs.size] = part
            dist[s : s + qs.size] = np.clip(1.0 - vals, 0.0, 2.0)
    return idx, dist


def knn(X: Any, k: int, rows: Any = None) -> np.ndarray:
    """Indices of the ``k`` nearest neighbours by cosine similarity, self excluded.

    Exact (blocked ``X @ X.T``); costs ``Q * P * D`` multiply-adds for ``Q`` query rows.

    Args:
        X: ``(P, D)`` points (need not be normalised).
        k: neighbours per point (``k <= P - 1``).
        rows: optional query row indices; neighbours are still searched among all ``P``.

    Returns:
        ``(P, k)`` (or ``(len(rows), k)``) int64, nearest first, ties by index.
    """
    q = None if rows is None else np.asarray(rows, dtype=np.int64)
    idx, _ = _knn_cosine(X, k, include_self=False, rows=q)
    return idx


def knn_overlap(A_idx: Any, B_idx: Any, chunk: int = 8192) -> np.ndarray:
    """Per-row overlap@k of two neighbour lists: ``|A_i & B_i| / k``.

    Args:
        A_idx, B_idx: ``(P, k)`` integer neighbour indices (rows without repeats), e.g.
            :func:`knn` of the same points in two snapshots.

    Returns:
        ``(P,)`` float64 in ``[0, 1]``; 1 where the two neighbour sets agree (in any
        order).
    """
    A = _as_2d(A_idx, "A_idx")
    B = _as_2d(B_idx, "B_idx")
    if A.shape != B.shape:
        raise ValueError(f"neighbour lists differ in shape: {A.shape} vs {B.shape}")
    P, k = A.shape
    if k == 0:
        return np.ones(P)
    out = np.empty(P)
    for s in range(0, P, chunk):
        a = A[s : s + chunk]
        b = B[s : s + chunk]
        hits = (a[:, :, None] == b[:, None, :]).any(axis=2).sum(axis=1)
        out[s : s + chunk] = hits / k
    return out


def mean_knn_overlap(
    X0: Any, X1: Any, k: int = 10, max_rows: int | None = None, seed: int = 0
) -> float:
    """Mean overlap@k between the cosine neighbourhoods of the same points in two
    embeddings (``(P, D0)`` and ``(P, D1)``): 1 = neighbourhoods unchanged.

    ``max_rows`` limits the query points to a deterministic subsample (neighbours are
    still searched among all points), which makes this cheap for large ``P``.
    """
    A = _as_2d(X0, "X0")
    B = _as_2d(X1, "X1")
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"X0 has {A.shape[0]} points, X1 has {B.shape[0]}")
    rows = None
    if max_rows is not None and max_rows < A.shape[0]:
        rows = subsample_indices(A.shape[0], max_rows, seed=seed)
    return float(knn_overlap(knn(A, k, rows=rows), knn(B, k, rows=rows)).mean())


# --------------------------------------------------------------------------- clusters


def kmeans(X: Any, k: int, seed: int = 0, n_init: int = 3) -> np.ndarray:
    """k-means cluster labels for colouring points.

    sklearn ``KMeans`` (``MiniBatchKMeans`` above 10,000 points), fixed ``n_init`` and
    ``random_state=seed``, so the result is reproducible. Labels are renumbered by
    decreasing cluster size (ties: first occurrence), so label 0 is the biggest
    cluster. With ``k >= P`` every point is its own cluster.

    Returns:
        ``(P,)`` int64 labels in ``[0, k)``.
    """
    A = np.asarray(_as_2d(X), dtype=np.float64)
    A = np.where(np.isfinite(A), A, 0.0)
    P = A.shape[0]
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if P == 0:
        return np.zeros(0, dtype=np.int64)
    if k >= P:
        return np.arange(P, dtype=np.int64)
    from sklearn.cluster import KMeans, MiniBatchKMeans  # lazy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on duplicate points
        if P > 10_000:
            model = MiniBatchKMeans(
                n_clusters=k, n_init=n_init, random_state=seed, batch_size=4096
            )
        else:
            model = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
        raw = model.fit_predict(A)
    labels, first, counts = np.unique(raw, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    remap = np.empty(int(raw.max()) + 1, dtype=np.int64)
    remap[labels[order]] = np.arange(order.size)
    return remap[raw]


def subsample_indices(P: int, max_points: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``max_points`` of ``P`` points, deterministic in
    ``(P, seed)`` and nested: a larger ``max_points`` gives a superset, so the same
    points stay on screen when the budget changes. All indices when ``P <= max_points``.
    """
    if P < 0 or max_points < 0:
        raise ValueError("P and max_points must be >= 0")
    if P <= max_points:
        return np.arange(P, dtype=np.int64)
    perm = np.random.default_rng(seed).permutation(P)
    return np.sort(perm[:max_points]).astype(np.int64)


# --------------------------------------------------------------------------- numba / umap

_UMAP_CACHING_DONE = False


def default_numba_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/simcse-studio/numba`` (``~/.cache/...`` without it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simcse-studio" / "numba"


def configure_numba_cache(cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Point numba's on-disk cache at ``cache_dir`` (default
    :func:`default_numba_cache_dir`).

    A ``NUMBA_CACHE_DIR`` already set in the environment wins (and is returned). The
    variable is set before numba is imported; if numba is already imported its config
    is updated too, which affects functions whose caching starts later. Returns the
    directory in use, or ``None`` if it cannot be created (then numba keeps its
    default, caching next to the sources where writable).
    """
    current = os.environ.get("NUMBA_CACHE_DIR")
    if current:
        path = Path(current)
    else:
        path = Path(cache_dir) if cache_dir is not None else default_numba_cache_dir()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        os.environ["NUMBA_CACHE_DIR"] = str(path)
    if "numba" in sys.modules:
        try:
            from numba.core import config as nb_config

            if not nb_config.CACHE_DIR:
                nb_config.CACHE_DIR = str(path)
        except Exception:  # pragma: no cover - numba internals moved
            pass
    return path


def _import_umap(cache_dir: str | os.PathLike[str] | None = None) -> Any:
    """Import umap with numba's disk cache configured, and switch on disk caching for
    umap's own jitted functions (umap declares ``cache=True`` on almost none of them,
    so without this every process recompiles them: ~15 s on 2 cores)."""
    global _UMAP_CACHING_DONE
    configure_numba_cache(cache_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap  # noqa: F401
        import umap.distances
        import umap.layouts
        import umap.umap_
        import umap.utils
    if not _UMAP_CACHING_DONE:
        _UMAP_CACHING_DONE = True
        try:
            from numba.core.dispatcher import Dispatcher

            for mod in (umap.umap_, umap.layouts, umap.utils, umap.distances):
                for obj in list(vars(mod).values()):
                    if isinstance(obj, Dispatcher) and type(obj._cache).__name__ == "NullCache":
                        try:
                            obj.enable_caching()
                        except Exception:
                            pass  # not cacheable (no source locator): compile per process
        except Exception:  # pragma: no cover - numba internals moved
            pass
    return sys.modules["umap"]


def import_umap(cache_dir: str | os.PathLike[str] | None = None) -> Any:
    """The ``umap`` module, imported with numba's disk cache configured (see
    :func:`_import_umap`); for callers outside this module."""
    return _import_umap(cache_dir)


class UmapTracker:
    """A 2D UMAP of the probe set that follows training smoothly.

    The first :meth:`update` is a cold fit (``init="spectral"``, umap's default number
    of epochs). Later updates with the same number of points start from the previous
    layout (``init=previous``) and run only ``warm_epochs`` epochs at
    ``warm_learning_rate``; the result is then registered onto the previous frame with
    :func:`procrustes` (rotation/reflection + scale + translation) so points do not
    jump. Neighbours are computed exactly here (cosine, blocked matrix products) and
    handed to umap as ``precomputed_knn`` up to ``exact_knn_max`` points; above that
    umap's approximate search (pynndescent) is used.

    ``method="haversine"`` embeds on the sphere instead (umap
    ``output_metric="haversine"``); :meth:`update` then returns ``(P, 3)`` unit vectors
    registered with :func:`procrustes_rotation` (no scale, no translation). umap
    rescales any ``init`` array to a ``[0, 10]`` box, which for angles would scramble
    the sphere, so the warm haversine refresh runs umap's layout optimiser
    (``umap.layouts.optimize_layout_generic``) on umap's fuzzy graph directly, starting
    from the previous ``(lat, lon)``. umap builds a fresh jitted epoch function on every
    such call, so each haversine refresh pays ~0.5-1 s of compilation. umap's sphere
    layout never settles: even on unchanged data a warm haversine refresh moves points
    by ~0.15 (chord, unit sphere) on average, against ~3% of the layout's std for the
    euclidean variant; prefer euclidean UMAP, or :func:`to_sphere`, for smooth motion.

    With fewer than ``n_neighbors + 1`` points UMAP is not meaningful: the layout is a
    PCA projection (2D, or :func:`to_sphere` for haversine), still registered.

    Attributes:
        layout: the last returned layout (or ``None``).
        timings: seconds spent in the last update: ``knn``, ``umap``, ``align``, ``total``.
        last_mode: ``"cold"``, ``"warm"`` or ``"pca"``.
    """

    def __init__(
        self,
        method: str = "euclidean",
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        random_state: int = 42,
        warm_epochs: int = 30,
        warm_learning_rate: float = 0.05,
        cold_epochs: int | None = None,
        exact_knn_max: int = 10_000,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if method not in ("euclidean", "haversine"):
            raise ValueError(f"unknown UMAP method {method!r} (use 'euclidean' or 'haversine')")
        if n_neighbors < 2:
            raise ValueError("n_neighbors must be >= 2")
        if warm_epochs < 1:
            raise ValueError("warm_epochs must be >= 1")
        self.method = method
        self.n_neighbors = int(n_neighbors)
        self.min_dist = float(min_dist)
        self.random_state = int(random_state)
        self.warm_epochs = int(warm_epochs)
        self.warm_learning_rate = float(warm_learning_rate)
        self.cold_epochs = cold_epochs
        self.exact_knn_max = int(exact_knn_max)
        self.cache_dir = cache_dir
        self.layout: np.ndarray | None = None
        self._raw: np.ndarray | None = None  # umap's own coordinates (init of the next fit)
        self.timings: dict[str, float] = {}
        self.last_mode: str | None = None
        self.n_updates = 0

    def reset(self) -> None:
        """Forget the previous layout: the next :meth:`update` is a cold fit."""
        self.layout = None
        self._raw = None
        self.last_mode = None

    # -- pieces

    def _knn(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        if X.shape[0] > self.exact_knn_max:
            return None
        idx, dist = _knn_cosine(X, self.n_neighbors, include_self=True)
        return idx.astype(np.int32), dist.astype(np.float32)

    def _umap_model(self, init: Any, n_epochs: int | None, lr: float, knn: Any) -> Any:
        umap = _import_umap(self.cache_dir)
        kwargs: dict[str, Any] = dict(
            n_neighbors=self.n_neighbors,
            n_components=2,
            metric="cosine",
            min_dist=self.min_dist,
            random_state=self.random_state,
            n_jobs=1,
            init=init,
            n_epochs=n_epochs,
            learning_rate=lr,
            verbose=False,
        )
        if self.method == "haversine":
            kwargs["output_metric"] = "haversine"
        if knn is not None:
            kwargs["precomputed_knn"] = (knn[0].copy(), knn[1].copy())
        return umap.UMAP(**kwargs)

    def _fit(self, X: np.ndarray, init: Any, n_epochs: int | None, lr: float) -> np.ndarray:
        knn_t0 = time.perf_counter()
        knn = self._knn(X)
        self.timings["knn"] = time.perf_counter() - knn_t0
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(init, str):
                model = self._umap_model(init, n_epochs, lr, knn)
                emb = model.fit_transform(X)
            else:
                emb = self._warm_optimize(X, np.asarray(init, dtype=np.float32), knn, lr)
        self.timings["umap"] = time.perf_counter() - t0
        return np.asarray(emb, dtype=np.float32)

    def _warm_optimize(self, X: np.ndarray, init: np.ndarray, knn: Any, lr: float) -> np.ndarray:
        """``warm_epochs`` of umap's layout SGD on umap's fuzzy graph of ``X``, starting
        from ``init`` as is (``umap.UMAP(init=array)`` would first squeeze it into a
        ``[0, 10]`` box, which moves a converged layout a lot and breaks angles)."""
        umap = _import_umap(self.cache_dir)
        from umap.layouts import optimize_layout_euclidean, optimize_layout_generic
        from umap.umap_ import find_ab_params, fuzzy_simplicial_set, make_epochs_per_sample

        rs = np.random.RandomState(self.random_state)
        if knn is None:
            knn_idx, knn_dist, _ = umap.umap_.nearest_neighbors(
                X, self.n_neighbors, "cosine", {}, False, rs, use_pynndescent=True, n_jobs=1
            )
        else:
            knn_idx, knn_dist = knn[0].copy(), knn[1].copy()
        graph = fuzzy_simplicial_set(
            X, self.n_neighbors, rs, "cosine", knn_indices=knn_idx, knn_dists=knn_dist
        )[0]
        graph = graph.tocoo()
        graph.sum_duplicates()
        epochs = self.warm_epochs
        if graph.data.size:
            # Prune weak edges as the cold fit did (umap: max / its epoch count), so the
            # refresh optimises the same objective and a converged layout stays put.
            cold = self.cold_epochs or (500 if graph.shape[0] <= 10_000 else 200)
            graph.data[graph.data < graph.data.max() / float(max(cold, 1))] = 0.0
            graph.eliminate_zeros()
        a, b = find_ab_params(1.0, self.min_dist)
        head = graph.row.astype(np.int32)
        tail = graph.col.astype(np.int32)
        eps = make_epochs_per_sample(graph.data, epochs)
        rng_state = rs.randint(np.iinfo(np.int32).min + 1, np.iinfo(np.int32).max - 1, 3)
        rng_state = rng_state.astype(np.int64)
        emb = np.ascontiguousarray(init, dtype=np.float32).copy()
        common = dict(gamma=1.0, initial_alpha=lr, negative_sample_rate=5.0, move_other=True)
        if self.method == "haversine":
            from umap.distances import haversine_grad

            return optimize_layout_generic(
                emb, emb, head, tail, epochs, graph.shape[1], eps, a, b, rng_state,
                output_metric=haversine_grad, output_metric_kwds=(), **common,
            )
        return optimize_layout_euclidean(
            emb, emb, head, tail, epochs, graph.shape[1], eps, a, b, rng_state,
            parallel=False, **common,
        )

    # -- public

    def update(self, X: Any) -> np.ndarray:
        """Layout of ``X`` (``(P, D)``), continuing from the previous call.

        Returns ``(P, 2)`` float64 (euclidean) or ``(P, 3)`` unit vectors (haversine).
        A change in ``P`` restarts with a cold fit.
        """
        t_start = time.perf_counter()
        A = np.asarray(_as_2d(X), dtype=np.float32)
        A = np.where(np.isfinite(A), A, 0.0).astype(np.float32, copy=False)
        P = A.shape[0]
        self.timings = {"knn": 0.0, "umap": 0.0, "align": 0.0}
        prev = self.layout if self.layout is not None and self.layout.shape[0] == P else None
        if prev is None:
            self._raw = None
        if P < self.n_neighbors + 1:
            new, raw = self._pca_layout(A), None
            self.last_mode = "pca"
        elif self._raw is None:
            raw = self._fit(A, "spectral", self.cold_epochs, 1.0)
            new = self._display(raw)
            self.last_mode = "cold"
        else:
            raw = self._fit(A, self._raw, self.warm_epochs, self.warm_learning_rate)
            new = self._display(raw)
            self.last_mode = "warm"
        t0 = time.perf_counter()
        if prev is not None:
            if self.method == "haversine":
                new, _ = procrustes_rotation(new, prev)
                new = _normalize_rows(new, _FALLBACK_3D)
            else:
                new = procrustes(new, prev, scale=True)[0]
        self.timings["align"] = time.perf_counter() - t0
        if raw is not None and self.method == "haversine":
            # umap does not wrap angles (values of hundreds of radians are normal); put
            # them back in their principal range, same points, for the next warm start.
            raw = xyz_to_latlon(latlon_to_xyz(raw, colatitude=True), colatitude=True)
            raw = raw.astype(np.float32)
        self._raw = raw
        self.layout = new
        self.n_updates += 1
        self.timings["total"] = time.perf_counter() - t_start
        return new

    def _display(self, raw: np.ndarray) -> np.ndarray:
        if self.method == "haversine":
            return latlon_to_xyz(raw, colatitude=True)
        return np.asarray(raw, dtype=np.float64)

    def _pca_layout(self, A: np.ndarray) -> np.ndarray:
        if self.method == "haversine":
            return to_sphere(A)
        if A.shape[0] == 0:
            return np.zeros((0, 2))
        return pca_project(A, 2)


def warm_up_umap(
    cache_dir: str | os.PathLike[str] | None = None, haversine: bool = False
) -> dict[str, float]:
    """Compile umap's numba code now, on a tiny input, so the first real fit is fast.

    Configures the on-disk numba cache first (:func:`configure_numba_cache`), so after
    the first process on a machine this only loads cached machine code. Runs one cold
    fit and one warm refresh of a :class:`UmapTracker` on 64 random points (and the
    same for the haversine variant when ``haversine`` is true).

    Returns seconds: ``import`` (importing umap), ``fit`` (the tiny fits) and ``total``.
    """
    t0 = time.perf_counter()
    _import_umap(cache_dir)
    t1 = time.perf_counter()
    X = np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32)
    methods = ("euclidean", "haversine") if haversine else ("euclidean",)
    for m in methods:
        tr = UmapTracker(method=m, cache_dir=cache_dir, cold_epochs=20, warm_epochs=5)
        tr.update(X)
        tr.update(X)
    t2 = time.perf_counter()
    return {"import": t1 - t0, "fit": t2 - t1, "total": t2 - t0}
