"""The fast path: no host syncs in the step, padding buckets, compile with its eager
fallback, gradient cache in the trainer, and the out-of-memory advice.

The real inductor compile takes over a minute on 2 CPU cores, so by default the
compiled path is exercised with the ``aot_eager`` backend (dynamo tracing and AOT
autograd, no C++ build) and through its fallbacks; set ``SIMCSE_TEST_COMPILE=1`` to
also run the inductor test.
"""

from __future__ import annotations

import os
import traceback

import numpy as np
import pytest
import torch

from simcse_core import TrainConfig
from simcse_core.errors import TrainingError
from simcse_core.model import SentenceEncoder, load_model
from simcse_core.trainer import ContrastiveStep, _Data, _FalseNegatives, _pretokenize, train

SENTS = [f"sentence {i} about {'many words ' * (i % 5)}topic {i % 3}" for i in range(12)]


def _cfg(tiny_model, corpus, **kw) -> TrainConfig:
    base = dict(model_name_or_path=tiny_model, train_file=corpus, per_device_train_batch_size=8, max_steps=4,
                snapshot_every=2, probe_size=16, align_probe_size=8, checkpoint_every=100, seed=5)
    base.update(kw)
    return TrainConfig(**base)


def _run(cfg):
    snaps = list(train(cfg))
    losses = np.concatenate([s.step_losses for s in snaps[1:]])
    return snaps, losses[:, 1]


def _stepper(tiny_model, device: str = "cpu", **kw) -> ContrastiveStep:
    cfg = TrainConfig(model_name_or_path=tiny_model, max_seq_length=32, **kw)
    enc = load_model(tiny_model, max_seq_length=32).to(device)
    cols, lens = zip(*(_pretokenize(enc.tokenizer, v, 32) for v in [SENTS]))
    return ContrastiveStep(enc, _Data(list(cols), list(lens), SENTS), cfg, torch.device(device), device == "cuda",
                           _FalseNegatives(cfg.fn_pairs))


# ------------------------------------------------------------------ host syncs
def test_the_step_reads_nothing_back(tiny_model, monkeypatch):
    """A CPU stand-in for CUDA's sync debug mode: no tensor is turned into a Python value
    inside a step (with the 4D mask the encoder builds on CUDA), fn masks included."""
    st = _stepper(tiny_model, fn_policy="eliminate", fn_pairs=[(0, 1), (2, 3)], grad_cache_chunk=5)
    st.encoder.prebuilt_mask = True
    hits: list[str] = []
    for name in ("item", "__bool__", "__float__", "__int__", "__index__", "tolist"):
        orig = getattr(torch.Tensor, name)

        def spy(self, *a, _orig=orig, _name=name, **k):
            hits.append(_name + "".join(traceback.format_stack(limit=4)[:-1]))
            return _orig(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, spy)
    st.step(np.arange(6))
    monkeypatch.undo()
    assert hits == [], hits[0]
    assert st.n_masked == 4  # counted from the numpy mask


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("kw", [dict(), dict(grad_cache_chunk=5), dict(fn_policy="attract", fn_pairs=[(0, 1)])])
def test_cuda_step_has_no_host_sync(tiny_model, kw):
    st = _stepper(tiny_model, "cuda", **kw)
    st.step(np.arange(6))  # warm-up: lazy initialisation may sync once
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(2):
            st.step(np.arange(6))
    finally:
        torch.cuda.set_sync_debug_mode(0)


def test_prebuilt_4d_mask_gives_the_same_embeddings(tiny_model):
    enc = load_model(tiny_model, max_seq_length=32).eval()
    tok = enc.tokenize(SENTS)
    with torch.no_grad():
        a = enc(tok["input_ids"], tok["attention_mask"])
        enc.prebuilt_mask = True
        b = enc(tok["input_ids"], tok["attention_mask"])
    assert (tok["attention_mask"] == 0).any()  # there is padding to mask
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------- padding
def test_padding_buckets_change_shapes_not_losses(tiny_model, small_corpus):
    st = _stepper(tiny_model, pad_to_multiple_of=8)
    assert [st.width(n) for n in (1, 8, 9, 17, 31, 32)] == [8, 8, 16, 24, 32, 32]
    assert _stepper(tiny_model, static_padding=True).width(5) == 32
    assert _stepper(tiny_model).width(13) == 13  # eager CPU: no padding by default
    # without dropout the padded columns are masked out: the same losses
    base = _run(_cfg(tiny_model, small_corpus, dropout=0.0))[1]
    for kw in (dict(pad_to_multiple_of=8), dict(static_padding=True)):
        np.testing.assert_allclose(_run(_cfg(tiny_model, small_corpus, dropout=0.0, **kw))[1], base, rtol=1e-5)


# ------------------------------------------------------------- gradient cache
def test_trainer_with_grad_cache_matches_plain_training(tiny_model, small_corpus):
    base = _run(_cfg(tiny_model, small_corpus, dropout=0.0))[1]
    cached = _run(_cfg(tiny_model, small_corpus, dropout=0.0, grad_cache_chunk=5))[1]  # 16 rows -> 5, 5, 5, 1
    np.testing.assert_allclose(cached, base, rtol=1e-5)
    sup_rows = ["sent0,sent1,hard_neg"] + [f"a cat {i} sits,a cat {i} is sitting,a dog {i} runs" for i in range(12)]
    snaps, losses = _run(_cfg(tiny_model, None, mode="sup", grad_cache_chunk=3,
                              train_file=_write(sup_rows), per_device_train_batch_size=4, probe_size=8))
    assert np.isfinite(losses).all() and snaps[-1].done


def _write(lines) -> str:
    import tempfile

    f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    f.write("\n".join(lines) + "\n")
    f.close()
    return f.name


# -------------------------------------------------------------------- compile
def test_compile_failure_falls_back_to_eager_with_an_event(tiny_model, small_corpus, monkeypatch):
    eager = _run(_cfg(tiny_model, small_corpus, pad_to_multiple_of=8))[1]  # compile pads to multiples of 8

    def broken(*a, **k):
        raise RuntimeError("no compiler here\nsecond line")

    monkeypatch.setattr(torch, "compile", broken)
    snaps, losses = _run(_cfg(tiny_model, small_corpus, compile=True))
    assert {"step": 0, "compile": "fallback: RuntimeError: no compiler here"} in snaps[0].events
    np.testing.assert_allclose(losses, eager, rtol=1e-6)


def test_failing_first_compiled_step_is_redone_eagerly(tiny_model, small_corpus, monkeypatch):
    eager = _run(_cfg(tiny_model, small_corpus, pad_to_multiple_of=8))[1]
    calls = {"n": 0}

    def lazy_broken(module, **k):
        def fwd(*a, **kw):
            calls["n"] += 1
            torch.rand(3)  # consumes random numbers before failing, as a half-run graph might
            raise RuntimeError("inductor exploded")
        return fwd

    monkeypatch.setattr(torch, "compile", lazy_broken)
    snaps, losses = _run(_cfg(tiny_model, small_corpus, compile=True))
    assert calls["n"] == 1  # tried once, then eager for good
    assert {"step": 1, "compile": "fallback: RuntimeError: inductor exploded"} in snaps[1].events
    np.testing.assert_allclose(losses, eager, rtol=1e-6)  # the RNG was rewound: the same run


def test_compiled_aot_eager_matches_eager(tiny_model, small_corpus, monkeypatch):
    """Dynamo + AOT autograd on the real encoder (the inductor code generation is the part
    left to the opt-in test below): the same loss trajectory as eager, dropout on."""
    real = torch.compile
    monkeypatch.setattr(torch, "compile", lambda m, **k: real(m, backend="aot_eager", dynamic=False))
    cfg = dict(max_steps=3, static_padding=True, max_seq_length=16)
    eager = _run(_cfg(tiny_model, small_corpus, **cfg))[1]
    snaps, losses = _run(_cfg(tiny_model, small_corpus, compile=True, **cfg))
    assert not any("compile" in e for s in snaps for e in s.events)  # no fallback happened
    np.testing.assert_allclose(losses, eager, rtol=1e-3)


@pytest.mark.skipif(os.environ.get("SIMCSE_TEST_COMPILE") != "1", reason="inductor compile: set SIMCSE_TEST_COMPILE=1")
def test_compiled_inductor_matches_eager(tiny_model, small_corpus, monkeypatch):
    import torch._inductor.config as inductor_config

    monkeypatch.setattr(inductor_config, "fallback_random", True)  # eager's dropout draws, for comparison
    cfg = dict(max_steps=3, static_padding=True, max_seq_length=16)
    eager = _run(_cfg(tiny_model, small_corpus, **cfg))[1]
    snaps, losses = _run(_cfg(tiny_model, small_corpus, compile=True, **cfg))
    assert not any("compile" in e for s in snaps for e in s.events)
    np.testing.assert_allclose(losses, eager, rtol=1e-3)


# ----------------------------------------------------------------------- OOM
def test_out_of_memory_names_a_batch_that_fits(tiny_model, small_corpus, monkeypatch, tmp_path):
    real = SentenceEncoder.forward

    def small_gpu(self, input_ids, attention_mask):
        if input_ids.shape[0] > 8 and torch.is_grad_enabled():
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, input_ids, attention_mask)

    monkeypatch.setattr(SentenceEncoder, "forward", small_gpu)
    gen = train(_cfg(tiny_model, small_corpus, per_device_train_batch_size=16, output_dir=str(tmp_path / "run")))
    with pytest.raises(TrainingError) as e:
        list(gen)
    msg = str(e.value)
    assert "out of memory at batch size 16" in msg
    assert "--per_device_train_batch_size 4" in msg and "--grad_cache_chunk 8" in msg
    assert "last checkpoint is kept" in msg
