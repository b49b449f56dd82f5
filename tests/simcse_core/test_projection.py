"""Tests of simcse_core.projection on synthetic data.

The UMAP tests are marked ``slow``: the first run on a machine compiles umap's numba
code (~45 s on 2 cores); later runs load it from the on-disk cache in a few seconds.
Deselect them with ``-m "not slow"``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from simcse_core import projection as pj


def _clustered(P: int, D: int, n_clusters: int, seed: int, noise: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, D))
    labels = rng.integers(0, n_clusters, P)
    X = centres[labels] + noise * rng.standard_normal((P, D))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def _uniform_sphere(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    if np.linalg.det(Q) < 0:
        Q[:, 0] *= -1
    return Q


# ----------------------------------------------------------------- import cost


def test_import_is_cheap():
    code = (
        "import sys; import simcse_core.projection; "
        "bad = [m for m in ('umap', 'sklearn', 'numba', 'scipy', 'PySide6', 'pyqtgraph') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


# ----------------------------------------------------------------- PCA / sphere / circle


def test_pca_basis_orthonormal_and_projection():
    X = _clustered(200, 48, 5, 0)
    mean, comps = pj.pca_basis(X, 3)
    assert mean.shape == (48,) and comps.shape == (3, 48)
    np.testing.assert_allclose(comps @ comps.T, np.eye(3), atol=1e-10)
    Y = pj.pca_project(X, 3)
    assert Y.shape == (200, 3)
    var = Y.var(axis=0)
    assert var[0] >= var[1] >= var[2]
    # a shared basis gives the same result
    np.testing.assert_allclose(pj.pca_project(X, basis=(mean, comps)), Y, atol=1e-10)
    # k > D pads with zero axes
    m2, c2 = pj.pca_basis(X[:, :2], 3)
    assert c2.shape == (3, 2) and np.all(c2[2] == 0)


@pytest.mark.parametrize("method", ["pca", "random"])
def test_to_sphere_unit_and_finite(method):
    X = _clustered(300, 64, 4, 1)
    S = pj.to_sphere(X, method=method)
    assert S.shape == (300, 3)
    assert np.all(np.isfinite(S))
    np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0, atol=1e-12)


def test_to_sphere_degenerate_inputs():
    same = np.tile(np.array([0.6, 0.8, 0.0, 0.0], dtype=np.float32), (50, 1))
    for X in (
        same,
        np.zeros((10, 5), dtype=np.float32),
        np.ones((1, 32), dtype=np.float32),
        np.vstack([_clustered(20, 8, 2, 2), np.full((1, 8), np.nan, dtype=np.float32)]),
    ):
        S = pj.to_sphere(X)
        assert np.all(np.isfinite(S))
        np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0, atol=1e-12)
    # identical rows stay identical (one deterministic direction)
    S = pj.to_sphere(same)
    assert np.all(S == S[0])
    # an input row lying at the centre gets the fallback, others keep their direction
    X = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 0]], dtype=np.float32)
    S = pj.to_sphere(X)
    np.testing.assert_allclose(S[4], [0, 0, 1])
    C = pj.to_circle(np.zeros((3, 4)))
    np.testing.assert_allclose(C, [[1, 0]] * 3)


def test_circle_and_angles():
    X = _clustered(100, 16, 3, 3)
    C = pj.to_circle(X)
    np.testing.assert_allclose(np.linalg.norm(C, axis=1), 1.0, atol=1e-12)
    a = pj.angles(C)
    assert a.shape == (100,)
    np.testing.assert_allclose(np.cos(a), C[:, 0], atol=1e-12)
    np.testing.assert_allclose(np.sin(a), C[:, 1], atol=1e-12)


@pytest.mark.parametrize("kappa", [1.0, 30.0, 500.0])
def test_vmf_kde_integrates_to_one(kappa):
    a = np.random.default_rng(4).vonmises(2.0, 3.0, 500)
    t, dens = pj.vmf_kde(a, kappa=kappa, grid=720)
    assert t[0] == pytest.approx(-np.pi) and t[-1] == pytest.approx(np.pi)
    assert np.all(dens >= 0) and np.all(np.isfinite(dens))
    assert np.trapezoid(dens, t) == pytest.approx(1.0, abs=1e-6)
    assert t[np.argmax(dens)] == pytest.approx(2.0, abs=0.3)
    # single angle with a large kappa: peak sits on it
    t, d1 = pj.vmf_kde([-3.0], kappa=2000.0, grid=3600)
    assert np.trapezoid(d1, t) == pytest.approx(1.0, abs=1e-6)
    assert t[np.argmax(d1)] == pytest.approx(-3.0, abs=2e-3)


# ----------------------------------------------------------------- maps


def test_hammer_inside_ellipse():
    xyz = np.vstack([_uniform_sphere(20000, 5), [[0, 0, 1], [0, 0, -1], [-1, 0, 0], [-1, 1e-12, 0]]])
    H = pj.hammer(xyz)
    assert np.all(np.isfinite(H))
    assert np.all(H[:, 0] ** 2 / 8 + H[:, 1] ** 2 / 2 <= 1 + 1e-12)
    # +-180 degrees land on the outline
    edge = H[-2:]
    np.testing.assert_allclose(edge[:, 0] ** 2 / 8 + edge[:, 1] ** 2 / 2, 1.0, atol=1e-9)
    np.testing.assert_allclose(pj.hammer([[1.0, 0, 0]]), [[0, 0]], atol=1e-15)


def _jacobian_det(f, lon, lat, h=1e-6):
    dl = (f(lon + h, lat) - f(lon - h, lat)) / (2 * h)
    dp = (f(lon, lat + h) - f(lon, lat - h)) / (2 * h)
    return dl[:, 0] * dp[:, 1] - dl[:, 1] * dp[:, 0]


def test_hammer_and_lambert_area_element():
    rng = np.random.default_rng(6)
    lon = rng.uniform(-3.0, 3.0, 500)
    lat = rng.uniform(-1.4, 1.4, 500)

    def via_xyz(proj):
        return lambda lo, la: proj(pj.latlon_to_xyz(np.column_stack([la, lo])))

    # equal area: |d(x,y)/d(lon,lat)| equals the sphere's area element cos(lat)
    for proj in (pj.hammer, pj.lambert_azimuthal):
        det = np.abs(_jacobian_det(via_xyz(proj), lon, lat))
        np.testing.assert_allclose(det, np.cos(lat), rtol=1e-5, atol=1e-8)


def test_hammer_uniform_density():
    n = 200_000
    H = pj.hammer(_uniform_sphere(n, 7))
    # square cells well inside the ellipse: counts follow area / (4 pi) (equal area)
    edges_x = np.linspace(-2.4, 2.4, 13)
    edges_y = np.linspace(-1.2, 1.2, 7)
    counts, _, _ = np.histogram2d(H[:, 0], H[:, 1], bins=[edges_x, edges_y])
    cx, cy = np.meshgrid(edges_x, edges_y, indexing="ij")
    inside = np.ones(counts.shape, dtype=bool)
    for dx in (0, 1):
        for dy in (0, 1):
            corner = cx[dx : dx + 12, dy : dy + 6] ** 2 / 8 + cy[dx : dx + 12, dy : dy + 6] ** 2 / 2
            inside &= corner < 1
    cell = (edges_x[1] - edges_x[0]) * (edges_y[1] - edges_y[0])
    expected = n * cell / (4 * np.pi)
    assert inside.sum() >= 30
    z = (counts[inside] - expected) / np.sqrt(expected)
    assert np.abs(z).max() < 5.0  # Poisson noise only
    # a non-equal-area map (plain lon/lat) fails the same check
    ll = pj.xyz_to_latlon(_uniform_sphere(n, 7))
    c2, _, _ = np.histogram2d(ll[:, 1], ll[:, 0], bins=[np.linspace(-3, 3, 7), np.linspace(-1.5, 1.5, 7)])
    assert c2.max() / c2.min() > 3


def test_lambert_disc_and_centre():
    xyz = _uniform_sphere(5000, 8)
    L = pj.lambert_azimuthal(xyz)
    assert np.all(np.linalg.norm(L, axis=1) <= 2 + 1e-12)
    np.testing.assert_allclose(pj.lambert_azimuthal([[0, 0, 1.0], [0, 0, -1.0]]), [[0, 0], [2, 0]], atol=1e-12)
    c = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    Lc = pj.lambert_azimuthal(xyz, center=c)
    # distance from the origin is the chord to the centre
    np.testing.assert_allclose(np.linalg.norm(Lc, axis=1), np.linalg.norm(xyz - c, axis=1), atol=1e-10)


def test_grids():
    lines = pj.sphere_grid(5, 8, points=33)
    assert len(lines) == 13
    for ln in lines:
        assert ln.shape == (33, 3)
        np.testing.assert_allclose(np.linalg.norm(ln, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(lines[0][0], lines[0][-1], atol=1e-12)
    g = pj.hammer_graticule()
    assert len(g) == 1 + 5 + 11
    for ln in g:
        assert ln.ndim == 2 and ln.shape[1] == 2
        assert np.all(ln[:, 0] ** 2 / 8 + ln[:, 1] ** 2 / 2 <= 1 + 1e-9)
    np.testing.assert_allclose(g[0][:, 0] ** 2 / 8 + g[0][:, 1] ** 2 / 2, 1.0, atol=1e-12)


def test_latlon_roundtrip():
    rng = np.random.default_rng(9)
    ll = rng.uniform(-20, 20, (1000, 2))
    for colat in (False, True):
        xyz = pj.latlon_to_xyz(ll, colatitude=colat)
        np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), 1.0, atol=1e-12)
        back = pj.latlon_to_xyz(pj.xyz_to_latlon(xyz, colatitude=colat), colatitude=colat)
        np.testing.assert_allclose(back, xyz, atol=1e-12)
    np.testing.assert_allclose(pj.latlon_to_xyz([[np.pi / 2, 0.3]]), [[0, 0, 1]], atol=1e-15)
    np.testing.assert_allclose(pj.latlon_to_xyz([[0.0, 0.3]], colatitude=True), [[0, 0, 1]], atol=1e-15)


# ----------------------------------------------------------------- Procrustes


@pytest.mark.parametrize("d", [2, 3])
def test_procrustes_recovers_similarity(d):
    rng = np.random.default_rng(10 + d)
    Y = rng.standard_normal((200, d))
    R0 = _random_rotation(d, rng)
    s0, t0 = 2.7, rng.standard_normal(d) * 5
    ref = s0 * Y @ R0 + t0
    Ya, R, s, t = pj.procrustes(Y, ref)
    assert np.abs(R - R0).max() < 1e-8
    assert abs(s - s0) < 1e-8
    assert np.abs(t - t0).max() < 1e-8
    assert np.abs(Ya - ref).max() < 1e-8
    # with a reflection too
    F = np.eye(d)
    F[0, 0] = -1
    ref2 = s0 * Y @ (F @ R0) + t0
    Ya2, R2, _, _ = pj.procrustes(Y, ref2)
    assert np.abs(Ya2 - ref2).max() < 1e-8
    _, R3, _, _ = pj.procrustes(Y, ref2, allow_reflection=False)
    assert np.linalg.det(R3) == pytest.approx(1.0)
    # no scale
    _, _, s4, _ = pj.procrustes(Y, ref, scale=False)
    assert s4 == 1.0


def test_procrustes_degenerate():
    Y = np.ones((5, 2))
    ref = np.arange(10.0).reshape(5, 2)
    Ya, R, s, t = pj.procrustes(Y, ref)
    assert np.all(np.isfinite(Ya)) and s == 1.0
    np.testing.assert_allclose(Ya.mean(0), ref.mean(0))


def test_procrustes_rotation_keeps_unit_rows():
    rng = np.random.default_rng(12)
    S = _uniform_sphere(500, 13)
    R0 = _random_rotation(3, rng)
    target = S @ R0
    noisy = pj.to_sphere(S + 0.05 * rng.standard_normal(S.shape), basis=(np.zeros(3), np.eye(3)))
    Ya, R = pj.procrustes_rotation(noisy, target)
    np.testing.assert_allclose(np.linalg.norm(Ya, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.abs(R - R0).max() < 0.05
    Ya, R = pj.procrustes_rotation(S, target)
    assert np.abs(Ya - target).max() < 1e-10
    _, Rr = pj.procrustes_rotation(S, -target, allow_reflection=False)
    assert np.linalg.det(Rr) == pytest.approx(1.0)


# ----------------------------------------------------------------- neighbours, clusters


def test_knn_matches_brute_force():
    X = _clustered(150, 12, 3, 14)
    idx = pj.knn(X, 7)
    assert idx.shape == (150, 7)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    sim = U.astype(np.float64) @ U.T.astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    for i in range(0, 150, 10):
        assert i not in idx[i]
        np.testing.assert_array_equal(np.sort(idx[i]), np.sort(np.argsort(-sim[i])[:7]))
    np.testing.assert_array_equal(pj.knn(X, 7, rows=[3, 40]), idx[[3, 40]])


def test_knn_overlap():
    rng = np.random.default_rng(15)
    A = np.array([rng.choice(100, 10, replace=False) for _ in range(100)])
    np.testing.assert_array_equal(pj.knn_overlap(A, A), 1.0)
    # order within a row does not matter
    np.testing.assert_array_equal(pj.knn_overlap(A, rng.permuted(A, axis=1)), 1.0)
    # replace j entries of row j (for j < 10) by indices not in the row
    B = A.copy()
    for j in range(10):
        free = np.setdiff1d(np.arange(100, 200), B[j])
        B[j, :j] = free[:j]
    ov = pj.knn_overlap(A, B)
    np.testing.assert_allclose(ov[:10], 1.0 - np.arange(10) / 10)
    # permuted neighbour set: rows shuffled between points -> set overlaps by hand
    Pm = A[rng.permutation(100)]
    ref = [len(set(a) & set(b)) / 10 for a, b in zip(A, Pm)]
    np.testing.assert_allclose(pj.knn_overlap(A, Pm), ref)
    X = _clustered(120, 16, 4, 16)
    assert pj.mean_knn_overlap(X, X, k=5) == 1.0
    assert pj.mean_knn_overlap(X, X[:, ::-1] * 3.0, k=5) == 1.0  # cosine neighbours
    other = _clustered(120, 16, 4, 17)
    assert pj.mean_knn_overlap(X, other, k=5) < 0.5
    assert pj.mean_knn_overlap(X, X, k=5, max_rows=30) == 1.0


def test_kmeans_and_subsample():
    X = _clustered(300, 16, 4, 18, noise=0.1)
    lab = pj.kmeans(X, 4, seed=0)
    assert lab.shape == (300,) and set(lab) == {0, 1, 2, 3}
    np.testing.assert_array_equal(lab, pj.kmeans(X, 4, seed=0))
    sizes = np.bincount(lab)
    assert np.all(np.diff(sizes) <= 0)
    np.testing.assert_array_equal(pj.kmeans(X[:3], 5), [0, 1, 2])
    s1 = pj.subsample_indices(1000, 100, seed=1)
    assert s1.size == 100 and np.all(np.diff(s1) > 0)
    np.testing.assert_array_equal(s1, pj.subsample_indices(1000, 100, seed=1))
    assert set(s1) <= set(pj.subsample_indices(1000, 300, seed=1))
    np.testing.assert_array_equal(pj.subsample_indices(50, 100), np.arange(50))


# ----------------------------------------------------------------- UMAP (numba)


@pytest.fixture(scope="module")
def umap_ready():
    return pj.warm_up_umap()


@pytest.mark.slow
def test_umap_haversine_columns(umap_ready):
    """umap's haversine *distance* reads column 0 as latitude, its layout *gradient*
    as colatitude; latlon_to_xyz follows each when told."""
    from umap.distances import haversine, haversine_grad

    rng = np.random.default_rng(19)
    for _ in range(20):
        x, y = rng.uniform(-4, 4, 2), rng.uniform(-4, 4, 2)
        for colat, fn in ((False, lambda a, b: haversine.py_func(a, b)),
                          (True, lambda a, b: haversine_grad.py_func(a, b)[0])):
            p, q = pj.latlon_to_xyz(np.vstack([x, y]), colatitude=colat)
            angle = np.arccos(np.clip(p @ q, -1, 1))
            assert fn(x, y) == pytest.approx(angle, abs=1e-4)


@pytest.mark.slow
def test_umap_tracker_warm_refresh_is_stable(umap_ready):
    X = _clustered(300, 32, 6, 0)
    tr = pj.UmapTracker()
    L0 = tr.update(X)
    assert tr.last_mode == "cold" and L0.shape == (300, 2) and np.all(np.isfinite(L0))
    L1 = tr.update(X)
    assert tr.last_mode == "warm" and L1.shape == (300, 2)
    std = L0.std(axis=0).mean()
    warm = np.linalg.norm(L1 - L0, axis=1).mean() / std
    assert warm < 0.05
    # a cold fit with another seed, even registered, lands far away: the warm start
    # (not Procrustes alone) is what keeps points still
    other = pj.UmapTracker(random_state=7).update(X)
    cold = np.linalg.norm(pj.procrustes(other, L0)[0] - L0, axis=1).mean() / std
    assert cold > 0.05 and cold > 3 * warm
    # the layout keeps cosine neighbourhoods (it is a real UMAP)
    d2 = ((L1[:, None, :] - L1[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    layout_nn = np.argsort(d2, axis=1)[:, :10]
    assert pj.knn_overlap(pj.knn(X, 10), layout_nn).mean() > 0.3
    # a changed probe count restarts cold
    tr.update(X[:200])
    assert tr.last_mode == "cold"


@pytest.mark.slow
def test_umap_tracker_small_and_haversine(umap_ready):
    X = _clustered(300, 32, 6, 1)
    small = pj.UmapTracker()
    L = small.update(X[:10])
    assert small.last_mode == "pca" and L.shape == (10, 2) and np.all(np.isfinite(L))
    assert small.update(X[:10]).shape == (10, 2)
    hs = pj.UmapTracker(method="haversine")
    for mode in ("cold", "warm"):
        S = hs.update(X)
        assert hs.last_mode == mode and S.shape == (300, 3)
        np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0, atol=1e-6)
    assert np.all(np.abs(hs._raw) <= np.pi + 1e-5)  # angles kept in range
    S_small = pj.UmapTracker(method="haversine").update(X[:5])
    np.testing.assert_allclose(np.linalg.norm(S_small, axis=1), 1.0, atol=1e-12)
