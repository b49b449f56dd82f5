"""Losses against independent float64 computations written from the formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from simcse_core.losses import count_masked, debiased_info_nce, info_nce



def _views(n: int = 6, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d, generator=g, dtype=torch.float64)
    z2 = z1 + 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
    h = torch.randn(n, d, generator=g, dtype=torch.float64)
    return z1.requires_grad_(), z2.requires_grad_(), h.requires_grad_()


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---------------------------------------------------------------- references (numpy)
def ref_simcse(z1, z2, t, fn=None, hard=None, hw=0.0, attract=None):
    """-1/N sum_i log( exp(s_ii/t) / sum_{j candidates} exp(s_ij/t) ), loops in float64."""
    z1, z2 = z1.detach().numpy(), z2.detach().numpy()
    n = len(z1)
    total = 0.0
    for i in range(n):
        cands = []  # (logit, is_positive)
        for j in range(n):
            if j != i and fn is not None and fn[i][j]:
                continue
            is_pos = j == i or (attract is not None and attract[i][j])
            cands.append((_cos(z1[i], z2[j]) / t, is_pos))
        if hard is not None:
            hn = hard.detach().numpy()
            for j in range(n):
                cands.append((_cos(z1[i], hn[j]) / t + (hw if j == i else 0.0), False))
        log_z = math.log(sum(math.exp(v) for v, _ in cands))
        pos = [v - log_z for v, p in cands if p]
        total += -sum(pos) / len(pos)
    return total / n


def ref_seed_ntxent(z1, z2, t):
    """The seed formulation, literally: batch [a,a,b,b,...], 2N x 2N cosine, diagonal
    minus 1e12, times 1/t, labels [1,0,3,2,...], cross-entropy."""
    a, b = z1.detach().numpy(), z2.detach().numpy()
    n = len(a)
    y = np.empty((2 * n, a.shape[1]))
    y[0::2], y[1::2] = a, b
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    sim = y @ y.T - np.eye(2 * n) * 1e12
    sim = sim / t
    labels = np.arange(2 * n) ^ 1
    m = sim.max(1, keepdims=True)
    logp = sim - (m + np.log(np.exp(sim - m).sum(1, keepdims=True)))
    return float(-logp[np.arange(2 * n), labels].mean())


def ref_debiased(z1, z2, t, tau):
    a, b = z1.detach().numpy(), z2.detach().numpy()
    n = len(a)
    total = 0.0
    for i in range(n):
        pos = math.exp(_cos(a[i], b[i]) / t)
        negs = [math.exp(_cos(a[i], b[j]) / t) for j in range(n) if j != i]
        g = max((sum(negs) / len(negs) - tau * pos) / (1 - tau), math.exp(-1 / t))
        total += -math.log(pos / (pos + len(negs) * g))
    return total / n


# ------------------------------------------------------------------------- values
@pytest.mark.parametrize("t", [0.05, 0.5, 1.0])
def test_simcse_layout_matches_formula(t):
    z1, z2, _ = _views()
    assert info_nce(z1, z2, t).item() == pytest.approx(ref_simcse(z1, z2, t), rel=1e-10)


@pytest.mark.parametrize("t", [0.05, 0.2])
def test_ntxent_matches_literal_seed_formulation(t):
    z1, z2, _ = _views(n=5)
    assert info_nce(z1, z2, t, variant="ntxent").item() == pytest.approx(ref_seed_ntxent(z1, z2, t), rel=1e-10)


def test_ntxent_and_simcse_differ_and_chance_levels():
    # identical embeddings for every sentence: loss = log of the number of candidates
    z = torch.ones(8, 4, dtype=torch.float64)
    assert info_nce(z, z, 0.05).item() == pytest.approx(math.log(8))
    assert info_nce(z, z, 0.05, variant="ntxent").item() == pytest.approx(math.log(15))


def test_fn_mask_removes_exactly_marked_pairs():
    z1, z2, _ = _views(n=6)
    fn = np.zeros((6, 6), dtype=bool)
    fn[0, 3] = fn[3, 0] = fn[2, 5] = True
    fn[1, 1] = True  # a positive: must be ignored
    got = info_nce(z1, z2, 0.1, fn_mask=torch.as_tensor(fn)).item()
    assert got == pytest.approx(ref_simcse(z1, z2, 0.1, fn=fn), rel=1e-10)
    assert got != pytest.approx(info_nce(z1, z2, 0.1).item(), rel=1e-6)
    assert count_masked(torch.as_tensor(fn), 6, "simcse") == 3


def test_fn_mask_ntxent_expands_sentence_pairs():
    z1, z2, _ = _views(n=4)
    fn = torch.zeros(4, 4, dtype=torch.bool)
    fn[0, 2] = fn[2, 0] = True
    got = info_nce(z1, z2, 0.1, variant="ntxent", fn_mask=fn).item()
    # reference: drop views of sentence 2 from rows of sentence 0 and vice versa
    a, b = z1.detach().numpy(), z2.detach().numpy()
    y = np.empty((8, a.shape[1]))
    y[0::2], y[1::2] = a, b
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    sim = (y @ y.T) / 0.1
    total = 0.0
    for r in range(8):
        cands = [c for c in range(8) if c != r and not ({r // 2, c // 2} == {0, 2})]
        lz = math.log(sum(math.exp(sim[r, c]) for c in cands))
        total += -(sim[r, r ^ 1] - lz)
    assert got == pytest.approx(total / 8, rel=1e-10)
    assert count_masked(fn, 4, "ntxent") == 8


def test_hard_negatives_block_and_weight():
    z1, z2, h = _views(n=5)
    for hw in (0.0, 1.5):
        got = info_nce(z1, z2, 0.05, hard_negatives=h, hard_negative_weight=hw).item()
        assert got == pytest.approx(ref_simcse(z1, z2, 0.05, hard=h, hw=hw), rel=1e-10)


def test_attract_counts_marked_pairs_as_positives():
    z1, z2, _ = _views(n=6)
    at = np.zeros((6, 6), dtype=bool)
    at[0, 4] = at[4, 0] = True
    got = info_nce(z1, z2, 0.1, attract_mask=torch.as_tensor(at)).item()
    assert got == pytest.approx(ref_simcse(z1, z2, 0.1, attract=at), rel=1e-10)


@pytest.mark.parametrize("tau", [0.0, 0.1, 0.3])
def test_debiased_matches_formula(tau):
    z1, z2, _ = _views(n=6)
    assert debiased_info_nce(z1, z2, 0.5, tau).item() == pytest.approx(ref_debiased(z1, z2, 0.5, tau), rel=1e-9)


def test_debiased_clamp_active_and_small_temperature_finite():
    # strongly aligned negatives and a large prior: the bracket goes negative, the clamp holds
    z1, z2, _ = _views(n=6)
    v = debiased_info_nce(z1, z2, 0.05, 0.9)
    assert torch.isfinite(v)
    assert v.item() == pytest.approx(ref_debiased(z1, z2, 0.05, 0.9), rel=1e-9)
    # t = 0.005: exp(s/t) overflows float32 if computed naively
    z1f, z2f = z1.detach().float(), z2.detach().float()
    assert torch.isfinite(debiased_info_nce(z1f, z2f, 0.005, 0.1))


# ---------------------------------------------------------------------- gradients
def _ref_grad_simcse(z1, z2, t):
    """Analytic gradient w.r.t. the logits (Wang & Liu 2021): dL/ds_ij = (P_ij - [i=j]) / (N t)."""
    s = (torch.nn.functional.normalize(z1.detach(), dim=1) @ torch.nn.functional.normalize(z2.detach(), dim=1).T).numpy()
    n = s.shape[0]
    p = np.exp(s / t - (s / t).max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return (p - np.eye(n)) / (n * t)


def test_gradient_wrt_similarities_matches_wang_liu():
    z1, z2, _ = _views(n=5)
    s = (torch.nn.functional.normalize(z1.detach(), dim=1) @ torch.nn.functional.normalize(z2.detach(), dim=1).T)
    s = s.clone().requires_grad_()
    t = 0.1
    # the loss as a function of the similarity matrix, through the same code path
    loss = torch.nn.functional.cross_entropy(s / t, torch.arange(5))
    loss.backward()
    np.testing.assert_allclose(s.grad.numpy(), _ref_grad_simcse(z1, z2, t), rtol=1e-10, atol=1e-12)
    # the negatives' gradient magnitudes sum to the positive's, per anchor
    g = s.grad.numpy()
    np.testing.assert_allclose(-np.diag(g), g.sum(1) - np.diag(g), rtol=1e-10)


def test_gradients_match_finite_differences():
    z1, z2, h = _views(n=4, d=3)
    fn = torch.zeros(4, 4, dtype=torch.bool)
    fn[1, 2] = True
    at = torch.zeros(4, 4, dtype=torch.bool)
    at[0, 3] = True
    cases = [
        lambda a, b, c: info_nce(a, b, 0.2),
        lambda a, b, c: info_nce(a, b, 0.2, variant="ntxent"),
        lambda a, b, c: info_nce(a, b, 0.2, fn_mask=fn),
        lambda a, b, c: info_nce(a, b, 0.2, attract_mask=at),
        lambda a, b, c: info_nce(a, b, 0.2, hard_negatives=c, hard_negative_weight=0.5),
        lambda a, b, c: debiased_info_nce(a, b, 0.5, 0.1),
    ]
    for f in cases:
        assert torch.autograd.gradcheck(f, (z1, z2, h), eps=1e-6, atol=1e-6)


def test_eliminate_removes_gradient_flow_to_masked_negative():
    z1, z2, _ = _views(n=4)
    fn = torch.zeros(4, 4, dtype=torch.bool)
    fn[0, 1] = True  # only anchor 0 -> sentence 1's second view is removed
    info_nce(z1, z2, 0.1, fn_mask=fn).backward()
    g_masked = z2.grad[1].clone()
    z1.grad = z2.grad = None
    info_nce(z1, z2, 0.1).backward()
    # the second view of sentence 1 loses exactly the push from anchor 0
    assert not torch.allclose(g_masked, z2.grad[1])


def test_attract_pulls_marked_pair_together():
    z1, z2, _ = _views(n=4)
    at = torch.zeros(4, 4, dtype=torch.bool)
    at[0, 2] = True
    loss = info_nce(z1, z2, 0.1, attract_mask=at)
    (g1, g2) = torch.autograd.grad(loss, (z1, z2))
    # one gradient-descent step must raise cos(z1_0, z2_2) under attraction ...
    cos = torch.nn.functional.cosine_similarity
    before = cos(z1[0], z2[2], dim=0).item()
    after = cos(z1[0] - 0.01 * g1[0], z2[2] - 0.01 * g2[2], dim=0).item()
    assert after > before
    # ... and lower it without
    loss = info_nce(z1, z2, 0.1)
    (g1, g2) = torch.autograd.grad(loss, (z1, z2))
    after_plain = cos(z1[0] - 0.01 * g1[0], z2[2] - 0.01 * g2[2], dim=0).item()
    assert after_plain < before
