"""Metric learning against contrastive learning (issue 12, item 3): the triplet loss on
the hardest negative and InfoNCE over all negatives, against an independent float64
computation, and the limit t * InfoNCE(t) -> max(0, max_neg - s_pos) as t -> 0.

The limit shown: t * L(t) = t log sum_j exp(s_j / t) - s_pos, the sum running over the
positive and every negative, so it tends to max_j s_j - s_pos = max(0, max_neg - s_pos)
(the hinge of the triplet loss with margin 0), and 0 <= t L(t) - limit <= t log N.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcse_core.metrics import triplet_vs_infonce


def reference(row: list[float], pos: int, t: float, margin: float) -> tuple[float, float]:
    """(triplet, InfoNCE) written out from the formulas with Python floats."""
    negs = [s for j, s in enumerate(row) if j != pos]
    triplet = max(0.0, margin + max(negs) - row[pos])
    denom = sum(math.exp(s / t) for s in row)
    infonce = -math.log(math.exp(row[pos] / t) / denom)
    return triplet, infonce


@pytest.mark.parametrize("t", [1.0, 0.2, 0.05])
@pytest.mark.parametrize("margin", [0.0, 0.1, 0.5])
def test_numbers_match_an_independent_computation(t, margin):
    rng = np.random.default_rng(7)
    row = list(np.round(rng.uniform(-0.3, 0.9, size=12), 6))
    pos = 3
    got = triplet_vs_infonce(np.array(row, dtype=np.float32), pos, t, margin)
    want_triplet, want_infonce = reference([float(x) for x in np.array(row, dtype=np.float32)], pos, t, margin)
    assert got.triplet == pytest.approx(want_triplet, abs=1e-12)
    assert got.infonce == pytest.approx(want_infonce, rel=1e-12)
    assert got.scaled == pytest.approx(t * want_infonce, rel=1e-12)
    negs = [j for j in range(len(row)) if j != pos]
    assert got.hardest_index == max(negs, key=lambda j: row[j])


@pytest.mark.parametrize("pos_above", [True, False])
def test_t_infonce_tends_to_the_hardest_negative_hinge(pos_above):
    row = np.array([0.8, 0.55, 0.6, 0.1, -0.2]) if pos_above else np.array([0.5, 0.55, 0.72, 0.1, -0.2])
    limit = max(0.0, row[1:].max() - row[0])  # the margin-0 hinge on the hardest negative
    gaps = []
    for t in (1.0, 0.1, 0.01, 1e-3, 1e-4):
        got = triplet_vs_infonce(row, 0, t, margin=0.0)
        assert got.limit == pytest.approx(limit, abs=1e-15)
        assert got.triplet == pytest.approx(limit, abs=1e-15)  # margin 0: the same hinge
        gap = got.scaled - limit
        assert -1e-12 <= gap <= t * math.log(len(row)) + 1e-12  # 0 <= t L - limit <= t log N
        gaps.append(gap)
    assert gaps[-1] < 1e-3 and all(a >= b for a, b in zip(gaps, gaps[1:]))
    if not pos_above:
        # the raw loss grows like (max_neg - s_pos) / t: the 1/t in front of the hinge
        assert triplet_vs_infonce(row, 0, 1e-4).infonce == pytest.approx(limit / 1e-4, rel=1e-3)


def test_bad_rows():
    with pytest.raises(ValueError):
        triplet_vs_infonce([0.5], 0, 0.05)
    with pytest.raises(IndexError):
        triplet_vs_infonce([0.5, 0.1], 2, 0.05)
    with pytest.raises(ValueError):
        triplet_vs_infonce([0.5, 0.1], 0, 0.0)
