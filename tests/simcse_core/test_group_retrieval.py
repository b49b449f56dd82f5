"""The built-in quality measure: paraphrase retrieval over a corpus's ``group`` column
(issue 14), checked against a brute-force float64 computation from its definition."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcse_core.data import normalize_text
from simcse_core.metrics import group_retrieval


def _reference(x, groups, texts):
    """For each sentence with a group-mate (near-duplicates of it excluded from mates and
    candidates): sort all other sentences by cosine, descending; rank of the first mate."""
    x = np.asarray(x, dtype=np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    ranks = []
    for i in range(len(x)):
        if not groups[i]:
            continue
        cands = [j for j in range(len(x)) if j != i and normalize_text(texts[j]) != normalize_text(texts[i])]
        mates = {j for j in cands if groups[j] == groups[i]}
        if not mates:
            continue
        order = sorted(cands, key=lambda j: -float(x[i] @ x[j]))
        ranks.append(next(k for k, j in enumerate(order, start=1) if j in mates))
    return sum(r == 1 for r in ranks) / len(ranks), sum(1 / r for r in ranks) / len(ranks), len(ranks)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_definition(seed):
    rng = np.random.default_rng(seed)
    n = 60
    groups = [f"g{rng.integers(0, 12)}" if rng.random() < 0.7 else "" for _ in range(n)]
    texts = [f"sentence {i}" for i in range(n)]
    texts[5] = texts[7] = "The Same sentence."  # near-duplicates: never each other's answer
    texts[9] = "the same   sentence"
    x = rng.standard_normal((n, 16))
    x[7] = x[5] + 1e-3  # the copy would be the nearest neighbour
    r = group_retrieval(x, groups, texts)
    rec, mrr, nq = _reference(x, groups, texts)
    assert r["n_queries"] == nq
    assert math.isclose(r["recall_at_1"], rec, abs_tol=1e-12) and math.isclose(r["mrr"], mrr, abs_tol=1e-12)


def test_perfect_and_absent_groups():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((5, 8))
    x = np.repeat(centres, 3, axis=0) + 1e-3 * rng.standard_normal((15, 8))
    groups = [f"g{i // 3}" for i in range(15)]
    r = group_retrieval(x, groups, [f"t{i}" for i in range(15)])
    assert r == {"recall_at_1": 1.0, "mrr": 1.0, "n_queries": 15.0}
    none = group_retrieval(x, [""] * 15)
    assert math.isnan(none["recall_at_1"]) and none["n_queries"] == 0


def test_query_cap_subsamples_evenly():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4))
    r = group_retrieval(x, [f"g{i // 2}" for i in range(40)], max_queries=10)
    assert r["n_queries"] == 10


def test_snapshots_carry_it_when_the_corpus_has_groups(tiny_model, small_corpus, tmp_path):
    from simcse_core.config import TrainConfig
    from simcse_core.trainer import train

    cfg = TrainConfig(model_name_or_path=tiny_model, train_file=small_corpus, output_dir=str(tmp_path / "r"),
                      per_device_train_batch_size=8, probe_size=200, align_probe_size=16, snapshot_every=2,
                      max_steps=2, max_seq_length=16, device="cpu")
    snaps = list(train(cfg))
    for s in snaps:
        assert s.probe_embeddings is not None
        assert 0.0 <= s.scalars["group_recall_at_1"] <= 1.0 and 0.0 < s.scalars["group_mrr"] <= 1.0
    assert "group_recall_at_1" in snaps[0].scalars  # step 0 too: a curve from the start
