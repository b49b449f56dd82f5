"""A collapsed space must look collapsed (issue 14, defect 13): the raw sphere (the
embeddings' own directions, no centring) keeps a narrow cone a small cap, where the
centred PCA sphere spreads it over the whole map; raw is the default."""

from __future__ import annotations

import numpy as np
import pytest

from app.embedding_tab.geometry import build_frame, place_vector
from app.state.run_model import RunModel
from app.state.selection import Selection
from app.state.view_state import ViewState
from simcse_core.projection import hammer
from simcse_core.snapshot import Snapshot

TIMEOUT = 30_000


def cone(P: int = 300, D: int = 32, spread: float = 0.01, seed: int = 0) -> np.ndarray:
    """Unit vectors in a narrow cone about one direction (mean cosine ~0.997)."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(D)
    X = u / np.linalg.norm(u) + spread * rng.standard_normal((P, D))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def max_angle_from_mean(xyz: np.ndarray) -> float:
    m = xyz.mean(axis=0)
    m /= np.linalg.norm(m)
    return float(np.degrees(np.arccos(np.clip(xyz @ m, -1, 1))).max())


def test_a_cone_is_a_small_cap_on_the_raw_sphere_and_spread_by_pca():
    X = cone()
    sims = X @ X.T
    assert sims[np.triu_indices(len(X), 1)].mean() > 0.99  # anisotropy like the from-scratch preset
    f = build_frame(0, 0, X)
    assert max_angle_from_mean(f.raw_xyz) < 15  # a small cap
    assert max_angle_from_mean(f.xyz) > 90  # PCA spreads it past a hemisphere
    # the cap sits at the centre of the Hammer map, and is small there too
    assert np.abs(f.raw_hammer).max() < 0.6
    assert np.abs(f.hammer[:, 0]).max() > 1.5
    # raw = normalise(X @ V3.T) with V3 the top right-singular vectors of the uncentred X
    _u, _s, vt = np.linalg.svd(X.astype(np.float64), full_matrices=False)
    proj = X @ vt[:3].T
    proj /= np.linalg.norm(proj, axis=1, keepdims=True)
    np.testing.assert_allclose(np.abs(f.raw_xyz), np.abs(proj), atol=1e-3)  # up to each axis's sign
    # a new vector placed on the raw sphere lands where its row does
    np.testing.assert_allclose(place_vector(f, X[5], raw=True)["xyz"], f.raw_xyz[5], atol=1e-4)


def test_an_isotropic_cloud_covers_both_spheres():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 16)).astype(np.float32)
    f = build_frame(0, 0, X / np.linalg.norm(X, axis=1, keepdims=True))
    assert max_angle_from_mean(f.raw_xyz) > 120 and max_angle_from_mean(f.xyz) > 120


def test_the_raw_sphere_is_the_default_and_drawn(qtbot):
    from app.embedding_tab import EmbeddingTab

    assert ViewState().sphere_method == "raw"
    X = cone(P=120)
    ids = np.arange(120, dtype=np.int64)
    snap = Snapshot(step=0, total_steps=10, epoch=0.0, loss=1.0, temperature=0.05, lr=3e-5, probe_ids=ids,
                    probe_embeddings=X, batch_ids=ids[:4].copy(), batch_sim=(X[:4] @ X[:4].T).astype(np.float32))
    snap.probe_texts = [f"s{i}" for i in range(120)]
    model, vs = RunModel(), ViewState(umap_enabled=False)
    v = EmbeddingTab(model, vs, Selection(), use_gl=False)
    qtbot.addWidget(v)
    v.resize(1000, 700)
    v.show()
    try:
        model.add(snap)
        qtbot.waitUntil(lambda: v.drawn_index == 0 and not v.redraw_pending, timeout=TIMEOUT)
        f = v.frames[0]
        xy = v.hammer_view.xy
        np.testing.assert_allclose(xy, f.raw_hammer[v.hammer_view.rows], atol=1e-6)
        assert np.abs(xy).max() < 0.6  # a small cap on the map
        assert v.sphere_method_box.currentText().startswith("sphere: raw")
        vs.sphere_method = "pca"
        v.redraw_now()
        np.testing.assert_allclose(v.hammer_view.xy, hammer(f.xyz)[v.hammer_view.rows], atol=1e-5)
        assert np.abs(v.hammer_view.xy[:, 0]).max() > 1.5
    finally:
        v.shutdown()


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
