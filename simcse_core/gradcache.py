"""Gradient cache (Gao et al. 2021, "Scaling Deep Contrastive Learning Batch Size under
Memory Limited Setup"; sentence-transformers' CachedMultipleNegativesRankingLoss):
a contrastive loss over a large batch with the activation memory of one chunk.

    rows  (R, L)   the encoder input of the whole step (unsup: 2N rows, both views;
                   sup: 2N or 3N rows: sent0, sent1[, hard_neg]), split in chunks of c rows
    1. z = [embed(chunk) for chunk] without a graph            -> (R, H), RNG state saved
                                                                  before each chunk
    2. loss = loss_fn(z) on a leaf copy of z; backward          -> dloss/dz (R, H)
    3. for each chunk: restore its RNG state (same dropout masks), embed with a graph,
       backward (z_chunk * dloss/dz_chunk).sum()                -> parameter gradients

Step 3's gradients sum to the gradient of ``loss_fn(embed(rows))`` because the loss
depends on the parameters only through z (chain rule), provided each chunk's second
forward is the same function as its first: deterministic kernels and the same dropout
masks. Without restoring the RNG the second pass draws new masks and the gradient is
that of a different loss (``test_gradcache.py`` checks both). Cost: one extra forward
per step; peak activation memory is that of one chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

import torch


class RngState:
    """The CPU generator's state and, on CUDA, the current device's (dropout draws)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cpu = torch.get_rng_state()
        self.cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda, self.device)


def full_precision(z: torch.Tensor) -> torch.Tensor:
    """bf16/fp16 embeddings -> float32; float32/float64 kept (float64 in exactness tests)."""
    return z if z.dtype in (torch.float32, torch.float64) else z.float()


def cached_backward(
    embed: Callable[[torch.Tensor], torch.Tensor],
    chunks: Sequence[torch.Tensor],
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    device: torch.device,
    loss_scale: float = 1.0,
    sync_context: Callable[[bool], AbstractContextManager] | None = None,
    embed_no_grad: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Accumulate into the parameters' ``.grad`` the gradient of
    ``loss_scale * loss_fn(cat(embed(c) for c in chunks))``, one chunk's graph at a time.

    Args:
        embed: (c, L) input rows -> (c, H) embeddings, with autograd (train mode).
        chunks: the step's input rows, in order (their concatenation is the batch).
        loss_fn: (R, H) embeddings -> scalar loss (may all-gather across ranks).
        loss_scale: multiplies the loss before backward (DDP: the world size).
        sync_context: ``sync_context(is_last_chunk)`` wraps each chunk's backward
            (DDP: ``no_sync()`` for all but the last chunk).
        embed_no_grad: the function for pass 1 (default ``embed``), e.g. the bare
            module instead of its DDP wrapper.

    Returns:
        (loss, z): the unscaled loss and the (R, H) embeddings, both detached.
    """
    first = embed_no_grad or embed
    states: list[RngState] = []
    parts: list[torch.Tensor] = []
    with torch.no_grad():
        for rows in chunks:  # pass 1: (c, L) -> (c, H), no activations kept
            states.append(RngState(device))
            parts.append(full_precision(first(rows)).clone())  # clone: a CUDA-graph output is reused
    z = torch.cat(parts).requires_grad_(True)  # (R, H) leaf

    loss = loss_fn(z)  # pass 2: the full-batch loss, graph only from z
    (loss * loss_scale if loss_scale != 1.0 else loss).backward()
    cached = z.grad  # (R, H) d(scaled loss)/dz
    assert cached is not None

    after = RngState(device)  # where the stream stands after pass 1 (as without caching)
    offset = 0
    for k, (rows, state) in enumerate(zip(chunks, states)):  # pass 3: chunk by chunk
        c = rows.shape[0]
        state.restore()  # the chunk's dropout masks of pass 1
        ctx = sync_context(k == len(chunks) - 1) if sync_context is not None else nullcontext()
        with ctx:
            zc = full_precision(embed(rows))  # (c, H), with a graph
            torch.autograd.backward(zc, grad_tensors=cached[offset : offset + c].to(zc.dtype))
        offset += c
    after.restore()
    return loss.detach(), z.detach()


def split_rows(rows: torch.Tensor, chunk: int) -> list[torch.Tensor]:
    """(R, L) -> chunks of at most ``chunk`` rows (views, no copy)."""
    return list(rows.split(max(1, int(chunk)), dim=0))
