"""DDP on the CPU (gloo, 2 processes on 127.0.0.1): one step's loss and gradients equal
one process's on the same global batch (float64, dropout off so both see the same
function), and a short ``torchrun -m simcse_core.cli train`` smoke run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from simcse_core import TrainConfig
from simcse_core import distributed as D
from simcse_core.model import load_model
from simcse_core.trainer import ContrastiveStep, _Data, _FalseNegatives, _pretokenize

SENTS = [f"sentence {i} is about topic {i % 3} with {'some ' * (i % 4)}words" for i in range(12)]
IDS = np.array([4, 9, 0, 11, 2, 7, 5, 1], dtype=np.int64)  # the global batch: 8 = 2 ranks x 4

VARIANTS = {
    "unsup-simcse": dict(),
    "unsup-ntxent": dict(loss_variant="ntxent"),
    "sup-hard-negatives": dict(mode="sup", hard_negative_weight=0.3),
    "fn-eliminate": dict(fn_policy="eliminate", fn_pairs=[(4, 0), (2, 1)]),  # pairs across the ranks' blocks
    "debiased": dict(tau_plus=0.1),
    "same-dropout-mask": dict(same_dropout_mask=True),
    "gradcache": dict(grad_cache_chunk=3),  # 8 local rows -> chunks 3, 3, 2 under no_sync
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stepper(model: str, info: D.DistInfo, **kw) -> ContrastiveStep:
    cfg = TrainConfig(model_name_or_path=model, max_seq_length=16, pooler_type="cls", dropout=0.0, seed=1, **kw)
    enc = load_model(model, "cls", dropout=0.0, max_seq_length=16, seed=1).double().train()
    views = [SENTS] if cfg.mode == "unsup" else [SENTS, [s + " too" for s in SENTS], [s[::-1] for s in SENTS]]
    cols, lens = zip(*(_pretokenize(enc.tokenizer, v, 16) for v in views))
    st = ContrastiveStep(enc, _Data(list(cols), list(lens), SENTS), cfg, torch.device("cpu"), False,
                         _FalseNegatives(cfg.fn_pairs), info)
    if info.enabled:  # as the trainer does it
        D.freeze_unused_parameters(enc, st.data.columns[0][:2, :8], st.pad_id)
        st.fwd = D.wrap_ddp(enc, info, torch.device("cpu"))
    return st


def _one_step(st: ContrastiveStep) -> dict[str, torch.Tensor]:
    st.encoder.zero_grad(set_to_none=True)
    loss = st.step(IDS)
    out = {n: p.grad.detach().clone() for n, p in st.encoder.named_parameters() if p.grad is not None}
    out["__loss__"] = loss.detach().reshape(1)
    return out


def _worker(rank: int, world: int, port: int, model: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        info = D.DistInfo(rank, world, 0, False)
        for name, kw in VARIANTS.items():
            torch.save(_one_step(_stepper(model, info, **kw)), Path(out_dir) / f"{name}.rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_ddp_step_equals_one_process_on_the_global_batch(tiny_model, tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), tiny_model, str(tmp_path)), nprocs=2, join=True)
    for name, kw in VARIANTS.items():
        single = _one_step(_stepper(tiny_model, D.DistInfo(), **kw))
        overall = max(float(v.abs().max()) for v in single.values())
        for rank in (0, 1):
            got = torch.load(tmp_path / f"{name}.rank{rank}.pt", weights_only=True)
            assert got.keys() == single.keys(), name
            for k, want in single.items():
                # relative to the tensor, with a floor for gradients that are 0 up to rounding
                # (e.g. attention key biases: softmax ignores a shift shared by all keys)
                scale = max(float(want.abs().max()), 1e-4 * overall)
                err = float((got[k] - want).abs().max()) / scale
                assert err < 1e-10, f"{name} rank {rank} {k}: relative error {err:.2e}"


def test_the_gradient_is_the_sum_of_the_ranks_blocks(tiny_model):
    """The algebra behind the factor, in one process: with only block r's embeddings
    carrying gradient, g_0 + g_1 = g. DDP averages (g_0 + g_1) / 2 = g / 2, so each rank
    back-propagates 2 * L (the reference SimCSE multiplies nothing and trains on g / K)."""
    single = _one_step(_stepper(tiny_model, D.DistInfo()))
    k = "backbone.encoder.layer.1.output.dense.weight"
    st = _stepper(tiny_model, D.DistInfo())
    z = st.embed(st.rows(IDS))  # (16, H): first views of the 8 sentences, then their second views
    param = dict(st.encoder.named_parameters())[k]
    halves = []
    for block in (slice(0, 4), slice(4, 8)):  # rank 0's and rank 1's sentences
        keep = torch.zeros(16, 1, dtype=z.dtype)
        keep[block] = 1
        keep[8 + block.start : 8 + block.stop] = 1
        zz = z * keep + (z * (1 - keep)).detach()  # only this block carries gradient
        halves.append(torch.autograd.grad(st.loss(zz, IDS), [param], retain_graph=True)[0])
    assert float(single[k].abs().max()) > 0
    torch.testing.assert_close(halves[0] + halves[1], single[k], rtol=1e-10, atol=1e-14)
    assert not torch.allclose(halves[0], single[k] / 2, rtol=1e-3)  # the blocks differ: not a plain halving


@pytest.mark.skipif(shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(),
                    reason="torchrun not installed")
def test_torchrun_cli_smoke(tiny_model, small_corpus, tmp_path):
    torchrun = str(Path(sys.executable).parent / "torchrun") if (Path(sys.executable).parent / "torchrun").exists() \
        else shutil.which("torchrun")
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1")
    cmd = [torchrun, "--nnodes=1", "--nproc_per_node=2", "--rdzv-backend=c10d",
           f"--rdzv-endpoint=127.0.0.1:{_free_port()}",
           "-m", "simcse_core.cli", "train", "--model_name_or_path", tiny_model, "--train_file", small_corpus,
           "--output_dir", str(out), "--max_steps", "3", "--per_device_train_batch_size", "4", "--snapshot_every", "2",
           "--probe_size", "16", "--device", "cpu", "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("done after 3 steps") == 1  # rank 0 alone reports
    recs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in recs] == [0, 2, 3]
    assert recs[-1]["chance_loss"] == pytest.approx(np.log(8))  # the global batch: 2 x 4
    assert "DDP" in recs[-1]["device"]
    with np.load(out / "snapshots" / "step_0000003.npz") as z:
        assert z["batch_sim"].shape == (8, 8)
    assert (out / "model" / "modules.json").is_file()
