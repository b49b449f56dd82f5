"""Gradient cache: the same loss and parameter gradients as back-propagating the whole
batch's graph, with dropout on, in float64 (tolerance ~1e-10 relative)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simcse_core import TrainConfig
from simcse_core.gradcache import RngState, cached_backward
from simcse_core.model import load_model
from simcse_core.trainer import ContrastiveStep, _Data, _FalseNegatives, _pretokenize

SENTS = [f"sentence {i} says something about topic {i % 3} and more words {'x ' * (i % 5)}" for i in range(8)]
IDS = np.array([3, 0, 5, 1, 7, 2], dtype=np.int64)  # a global batch of 6 corpus ids


def _stepper(tiny_model, **kw) -> ContrastiveStep:
    cfg = TrainConfig(model_name_or_path=tiny_model, max_seq_length=16, pooler_type="cls", seed=3, **kw)
    enc = load_model(tiny_model, "cls", max_seq_length=16, seed=3).double().train()
    views = [SENTS] if cfg.mode == "unsup" else [SENTS, [s + " indeed" for s in SENTS], [s[::-1] for s in SENTS]]
    cols, lens = zip(*(_pretokenize(enc.tokenizer, v, 16) for v in views))
    data = _Data(list(cols), list(lens), SENTS)
    return ContrastiveStep(enc, data, cfg, torch.device("cpu"), False, _FalseNegatives(cfg.fn_pairs))


def _grads(enc) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().clone() for n, p in enc.named_parameters() if p.grad is not None}


def _reference(st: ContrastiveStep, chunk: int, seed: int):
    """Plain autograd through every chunk's graph at once (the same chunked forwards, so
    the same dropout masks), then one backward."""
    st.encoder.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    rows = st.rows(IDS)
    z = torch.cat([st.embed(r) for r in rows.split(chunk)])
    loss = st.loss(z, IDS)
    loss.backward()
    return float(loss.detach()), _grads(st.encoder), torch.get_rng_state()


def _cached(st: ContrastiveStep, chunk: int, seed: int):
    st.encoder.zero_grad(set_to_none=True)
    st.config.grad_cache_chunk = chunk
    torch.manual_seed(seed)
    loss = st.step(IDS)
    st.config.grad_cache_chunk = 0
    return float(loss), _grads(st.encoder), torch.get_rng_state()


def _assert_same(a, b, rel=1e-10):
    la, ga, _ = a
    lb, gb, _ = b
    assert la == pytest.approx(lb, rel=rel)
    assert ga.keys() == gb.keys() and len(ga) > 10
    for k in ga:
        scale = float(gb[k].abs().max()) + 1e-300
        assert float((ga[k] - gb[k]).abs().max()) <= rel * scale, k


VARIANTS = {
    "unsup-simcse": dict(),
    "unsup-ntxent": dict(loss_variant="ntxent"),
    "sup-hard-negatives": dict(mode="sup", hard_negative_weight=0.5),
    "fn-eliminate": dict(fn_policy="eliminate", fn_pairs=[(0, 1), (2, 5)]),
    "fn-attract-ntxent": dict(fn_policy="attract", fn_pairs=[(0, 1), (2, 5)], loss_variant="ntxent"),
    "debiased": dict(tau_plus=0.1),
    "same-dropout-mask": dict(same_dropout_mask=True),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_gradcache_equals_full_graph_with_dropout(tiny_model, name):
    st = _stepper(tiny_model, **VARIANTS[name])
    assert st.encoder.backbone.config.hidden_dropout_prob > 0  # dropout is on
    chunk = 5  # uneven chunks: 12 rows -> 5, 5, 2 (sup: 18 rows -> 5, 5, 5, 3)
    ref = _reference(st, chunk, seed=11)
    got = _cached(st, chunk, seed=11)
    _assert_same(got, ref)
    assert torch.equal(got[2], ref[2])  # the RNG stream continues as without the cache


def test_one_chunk_equals_the_plain_step(tiny_model):
    st = _stepper(tiny_model)
    st.encoder.zero_grad(set_to_none=True)
    torch.manual_seed(5)
    plain = (float(st.step(IDS)), _grads(st.encoder), None)
    # the cache with one chunk holding all 12 rows: the same numbers as one forward/backward
    st.encoder.zero_grad(set_to_none=True)
    torch.manual_seed(5)
    loss, _ = cached_backward(st.embed, [st.rows(IDS)], lambda z: st.loss(z, IDS), torch.device("cpu"))
    _assert_same((float(loss), _grads(st.encoder), None), plain)


def test_without_restoring_the_rng_the_gradient_is_wrong(tiny_model, monkeypatch):
    st = _stepper(tiny_model)
    ref = _reference(st, 4, seed=2)
    monkeypatch.setattr(RngState, "restore", lambda self: None)
    loss, grads, _ = _cached(st, 4, seed=2)
    assert loss == pytest.approx(ref[0], rel=1e-12)  # pass 1 draws the same masks ...
    k = "backbone.encoder.layer.0.attention.self.query.weight"
    diff = float((grads[k] - ref[1][k]).abs().max()) / float(ref[1][k].abs().max())
    assert diff > 1e-3  # ... but pass 3 draws new ones: a different gradient
