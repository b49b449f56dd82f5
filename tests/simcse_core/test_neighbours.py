"""Neighbour search over a corpus (explore mode): exact search equals a float64 brute
force; the approximate (faiss IVF) index reaches the recall it reports against exact
search, survives a save and a reload, and a row's neighbours leave the row out."""

from __future__ import annotations

import numpy as np
import pytest

from simcse_core.neighbours import NeighbourIndex, exact_search, recall_at


def clustered(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((40, d))
    X = C[rng.integers(0, 40, n)] + 0.5 * rng.standard_normal((n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float16)


def test_exact_search_equals_a_float64_brute_force():
    X = clustered(3000)
    rng = np.random.default_rng(1)
    Q = rng.standard_normal((7, 32))
    ids, sims = exact_search(X, Q, 5, chunk=700)  # several chunks
    X64 = X.astype(np.float64)
    X64 /= np.linalg.norm(X64, axis=1, keepdims=True)
    Q64 = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    S = Q64 @ X64.T
    want = np.argsort(-S, axis=1)[:, :5]
    np.testing.assert_array_equal(ids, want)
    np.testing.assert_allclose(sims, np.take_along_axis(S, want, axis=1), atol=1e-5)
    assert recall_at(ids, want) == 1.0 and recall_at(ids[:, ::-1][:, :5], want) == 1.0
    assert recall_at(np.zeros_like(want), want) == pytest.approx(np.mean([(w == 0).any() / 5 for w in want]))


def test_small_corpora_are_searched_exactly():
    X = clustered(500)
    index = NeighbourIndex.build(X)
    assert index.exact and index.recall == 1.0 and index.kind == "exact"
    ids, _ = index.search(X[:3].astype(np.float32), 4)
    assert list(ids[:, 0]) == [0, 1, 2]


def test_the_approximate_index_reaches_the_recall_it_reports(tmp_path):
    X = clustered(20_000)
    seen = []
    index = NeighbourIndex.build(X, exact_below=0, nlist=64, progress=lambda d, n: seen.append((d, n)))
    assert not index.exact and "IVF64" in index.kind and seen[-1] == (20_000, 20_000)
    assert index.recall >= 0.95 and index.recall_k == 10
    rng = np.random.default_rng(5)
    Q = X[rng.choice(len(X), 100, replace=False)].astype(np.float32) + 0.02 * rng.standard_normal((100, 32))
    truth, _ = exact_search(X, Q, 10)
    found, sims = index.search(Q, 10)
    assert recall_at(found, truth) >= 0.9
    assert (np.diff(sims, axis=1) <= 1e-6).all()  # best first
    index.save(tmp_path)
    again = NeighbourIndex.load(tmp_path, X)
    assert again is not None and again.nprobe == index.nprobe and again.recall == index.recall
    np.testing.assert_array_equal(again.search(Q, 10)[0], found)
    assert NeighbourIndex.load(tmp_path, X[:100]) is None  # built over other rows
    assert NeighbourIndex.load(tmp_path / "none", X) is None
    nb, _ = index.neighbours_of(np.array([3, 9]), k=5)
    assert nb.shape == (2, 5) and 3 not in nb[0] and 9 not in nb[1]


def test_a_build_stops_when_asked():
    X = clustered(3000)
    assert NeighbourIndex.build(X, exact_below=0, nlist=16, should_stop=lambda: True) is None
