"""Metrics against float64 formulas computed independently here."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from simcse_core import metrics as M


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_alignment_formula_and_cosine_identity():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 8))
    y = x + 0.2 * rng.normal(size=(20, 8))
    xn, yn = _unit(x), _unit(y)
    ref = sum(np.sum((xn[i] - yn[i]) ** 2) for i in range(20)) / 20
    assert M.alignment(x, y) == pytest.approx(ref, rel=1e-12)
    assert M.alignment(x, y) == pytest.approx(2 - 2 * np.mean(np.sum(xn * yn, 1)), rel=1e-12)
    ref3 = np.mean([np.linalg.norm(xn[i] - yn[i]) ** 3 for i in range(20)])
    assert M.alignment(x, y, alpha=3) == pytest.approx(ref3, rel=1e-12)


def test_uniformity_formula_and_limits():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 6))
    xn = _unit(x)
    vals = [math.exp(-2 * np.sum((xn[i] - xn[j]) ** 2)) for i, j in itertools.combinations(range(30), 2)]
    assert M.uniformity(x) == pytest.approx(math.log(np.mean(vals)), rel=1e-10)
    # collapsed: 0; spread in high dimension: about -2t = -4
    assert M.uniformity(np.ones((10, 5))) == pytest.approx(0.0, abs=1e-12)
    spread = rng.normal(size=(2000, 512))
    assert M.uniformity(spread) == pytest.approx(-4.0, abs=0.05)


def test_anisotropy_and_spectrum():
    rng = np.random.default_rng(2)
    iso = rng.normal(size=(500, 64))
    assert abs(M.anisotropy(iso)) < 0.02
    cone = rng.normal(size=(500, 64)) * 0.1 + 5.0
    assert M.anisotropy(cone) > 0.9
    small = rng.normal(size=(10, 4))
    sn = _unit(small)
    ref = np.mean([sn[i] @ sn[j] for i, j in itertools.combinations(range(10), 2)])
    assert M.anisotropy(small) == pytest.approx(ref, rel=1e-12)
    s = M.singular_spectrum(iso)
    assert s[0] == 1.0 and np.all(np.diff(s) <= 1e-12)


def test_top1_and_cosine_stats():
    sim = np.array([[0.9, 0.1, 0.95], [0.2, 0.8, 0.1], [0.0, 0.3, 0.7]])
    assert M.top1_accuracy(sim) == pytest.approx(2 / 3)
    st = M.cosine_stats(sim)
    neg = [0.1, 0.95, 0.2, 0.1, 0.0, 0.3]
    assert st["pos_cos_mean"] == pytest.approx(0.8)
    assert st["neg_cos_mean"] == pytest.approx(np.mean(neg))
    assert st["neg_cos_max"] == pytest.approx(0.95)
    assert st["neg_cos_p95"] == pytest.approx(np.percentile(neg, 95))


def _ref_r(sim, t, i, fn=None):
    n = len(sim)
    negs = [j for j in range(n) if j != i and not (fn is not None and fn[i][j])]
    z = sum(math.exp(sim[i][k] / t) for k in negs)
    return {j: math.exp(sim[i][j] / t) / z for j in negs}


def test_hardness_weights_formula_sums_and_entropy():
    rng = np.random.default_rng(3)
    sim = np.clip(rng.normal(0.2, 0.3, size=(7, 7)), -1, 1)
    np.fill_diagonal(sim, 0.9)
    h = M.hardness_weights(sim, 0.1)
    np.testing.assert_allclose(h.weights.sum(1), 1.0, rtol=1e-12)
    assert np.all(np.diag(h.weights) == 0)
    for i in range(7):
        ref = _ref_r(sim, 0.1, i)
        for j, v in ref.items():
            assert h.weights[i, j] == pytest.approx(v, rel=1e-10)
        ent = -sum(v * math.log(v) for v in ref.values())
        assert h.entropy[i] == pytest.approx(ent, rel=1e-10)
        assert h.effective[i] == pytest.approx(math.exp(ent), rel=1e-10)
        p_ii = math.exp(sim[i][i] / 0.1) / (math.exp(sim[i][i] / 0.1) + sum(math.exp(sim[i][k] / 0.1) for k in range(7) if k != i))
        assert h.p_pos[i] == pytest.approx(p_ii, rel=1e-10)
        assert h.pos_grad[i] == pytest.approx((1 - p_ii) / 0.1, rel=1e-10)
        assert h.loss[i] == pytest.approx(-math.log(p_ii), rel=1e-10)
        assert h.top1[i] == pytest.approx(max(ref.values()), rel=1e-10)


def test_hardness_temperature_limits():
    rng = np.random.default_rng(4)
    sim = np.clip(rng.normal(0.1, 0.3, size=(16, 16)), -1, 1)
    np.fill_diagonal(sim, 1.0)
    cold = M.hardness_weights(sim, 0.001)
    hot = M.hardness_weights(sim, 1000.0)
    # t -> 0: the hardest negative takes all the weight
    assert np.all(cold.top1 > 0.99)
    hardest = np.where(np.eye(16, dtype=bool), -np.inf, sim).argmax(1)
    assert np.all(cold.weights[np.arange(16), hardest] > 0.99)
    # t -> inf: uniform over the 15 negatives, entropy log 15
    off = hot.weights[~np.eye(16, dtype=bool)]
    np.testing.assert_allclose(off, 1 / 15, rtol=1e-3)
    np.testing.assert_allclose(hot.effective, 15, rtol=1e-4)
    # entropy falls as t falls
    assert M.hardness_weights(sim, 0.05).entropy.mean() < M.hardness_weights(sim, 0.5).entropy.mean()


def test_hardness_with_mask():
    rng = np.random.default_rng(5)
    sim = rng.uniform(-1, 1, size=(5, 5))
    fn = np.zeros((5, 5), dtype=bool)
    fn[0, 2] = True
    h = M.hardness_weights(sim, 0.2, fn)
    assert h.weights[0, 2] == 0
    for j, v in _ref_r(sim, 0.2, 0, fn).items():
        assert h.weights[0, j] == pytest.approx(v, rel=1e-10)


def test_spearman_matches_rank_formula():
    rng = np.random.default_rng(6)
    a = rng.normal(size=50)
    b = a + rng.normal(size=50)
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    ref = 1 - 6 * np.sum((ra - rb) ** 2) / (50 * (50**2 - 1))
    assert M.spearman(a, b) == pytest.approx(100 * ref, rel=1e-10)
