"""Data-parallel SimCSE over several processes (DDP), one GPU (or CPU worker) each.

Launch (one node, K GPUs)::

    torchrun --standalone --nproc_per_node=K -m simcse_core.cli train --output_dir runs/ddp ...

Several nodes (run the same line on every node; ``--node_rank`` 0..M-1, the address
of node 0 reachable from all, the run folder on a shared file system if you resume)::

    torchrun --nnodes=M --nproc_per_node=K --node_rank=R \\
             --rdzv_backend=c10d --rdzv_endpoint=HOST0:29500 --rdzv_id=simcse1 \\
             -m simcse_core.cli train --output_dir /shared/runs/ddp ...

torchrun sets RANK / LOCAL_RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT; the trainer
calls :func:`init_from_env`, which uses NCCL on CUDA and gloo on the CPU.

How a step is split (global batch G = K x per_device_train_batch_size = K x n)::

    global ids (G,)            identical on every rank (seeded permutation)
    rank r takes ids[r*n:(r+1)*n]  -> local views z1_r, z2_r (n, H) with a graph
    all-gather -> Z1, Z2 (G, H), rank r's block replaced by its own z1_r, z2_r
    loss L(Z1, Z2) over the global batch (every rank computes the same number)

Only the local block carries a gradient, so rank r's backward yields
``g_r = sum_{i in block r} dL/dz_i * dz_i/dtheta``. The single-process gradient on the
global batch is ``g = sum_r g_r``. DDP *averages* gradients (divides by K), so the
trainer back-propagates ``K * L``: ``mean_r(K * g_r) = sum_r g_r = g``. The reference
SimCSE multiplies nothing and so trains on ``g / K`` (AdamW hides most of that, up to
its eps and gradient clipping); ``tests/simcse_core/test_distributed.py`` checks the
factor against one process on the same global batch.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits. ``world_size == 1``: no process group, plain training."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False  # we initialised the process group (and so destroy it)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def init_from_env(device_type: str) -> DistInfo:
    """Join the process group torchrun describes in the environment (or the one already
    initialised by the caller). One process: returns a disabled :class:`DistInfo`."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), False)
    if env_world_size() <= 1:
        return DistInfo()
    if not dist.is_available():  # pragma: no cover - every supported build has it
        raise RuntimeError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if device_type == "cuda" else "gloo"
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
        dist.init_process_group(backend, device_id=torch.device("cuda", local_rank))
    else:
        dist.init_process_group(backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, True)


def shutdown(info: DistInfo) -> None:
    if info.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def local_slice(global_ids: Any, info: DistInfo) -> Any:
    """This rank's contiguous block of the global batch: (G,) -> (G/K,)."""
    n = len(global_ids) // info.world_size
    return global_ids[info.rank * n : (info.rank + 1) * n]


def gather_keep_local(z: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """(n, H) local rows -> (K*n, H) rows of every rank in rank order; the local block is
    ``z`` itself (with its graph), the other blocks are constants (no gradient)."""
    if not info.enabled:
        return z
    z = z.contiguous()
    parts = [torch.empty_like(z) for _ in range(info.world_size)]
    dist.all_gather(parts, z.detach())
    parts[info.rank] = z
    return torch.cat(parts, dim=0)


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on some rank (a collective: all ranks call
    it at the same step). Used to agree on stopping; reads one number back (a sync)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def broadcast_object(obj: Any, info: DistInfo) -> Any:
    """Rank 0's ``obj`` on every rank (pickled; for small setup values only)."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def freeze_unused_parameters(encoder: torch.nn.Module, sample: torch.Tensor, pad_id: int) -> list[str]:
    """Parameters the training forward never reaches (e.g. BERT's pooler head when the
    sentence embedding is [CLS] or the mean): a probe forward/backward on ``sample``
    (B, L) finds them and they are frozen, so DDP needs no ``find_unused_parameters``
    graph walk every step. They get no gradient and no update either way; the RNG is
    left untouched. Returns their names."""
    was = encoder.training
    encoder.train()
    with torch.random.fork_rng(devices=[sample.device] if sample.device.type == "cuda" else []):
        z = encoder(sample, (sample != pad_id).long())
        z.float().sum().backward()
    unused = []
    for name, p in encoder.named_parameters():
        if p.requires_grad and p.grad is None:
            p.requires_grad_(False)
            unused.append(name)
        p.grad = None
    encoder.train(was)
    return unused


def wrap_ddp(encoder: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel around the encoder (buffers are constants: not broadcast)."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    import inspect

    ids = [device.index if device.index is not None else info.local_rank] if device.type == "cuda" else None
    newer = "forward_sync_buffers" in inspect.signature(DDP.__init__).parameters
    return DDP(encoder, device_ids=ids, **({"forward_sync_buffers": False} if newer else {"broadcast_buffers": False}))


@contextmanager
def maybe_no_sync(module: torch.nn.Module, skip_sync: bool) -> Iterator[None]:
    """DDP's ``no_sync()`` when ``skip_sync`` (gradient-cache chunks before the last one
    accumulate locally; the last chunk's backward all-reduces the sum)."""
    if skip_sync and hasattr(module, "no_sync"):
        with module.no_sync():  # type: ignore[operator]
            yield
    else:
        yield
