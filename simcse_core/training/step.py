"""One training step's computation (:class:`ContrastiveStep`), apart from the optimizer,
and what it needs: batch-width buckets, host-to-device copies, torch.compile, and the
out-of-memory advice."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import distributed as D
from ..config import TrainConfig
from ..gradcache import cached_backward, full_precision, split_rows
from ..losses import build_loss
from ..losses.base import ContrastiveLoss
from ..messages import Msg
from ..model import SentenceEncoder
from .inputs import FalseNegatives, TrainData


def pad_multiple(config: TrainConfig, device: torch.device) -> int:
    """Batch widths are rounded up to this so shapes repeat (few kernels / graphs): 8 on
    CUDA or when compiled (coarser for long max lengths: at most 8 widths), 1 on eager CPU
    (where padding is pure extra work)."""
    if config.pad_to_multiple_of:
        return config.pad_to_multiple_of
    if device.type != "cuda" and not config.compile:
        return 1
    return max(8, -(-config.max_seq_length // 64) * 8) if config.compile else 8


class ContrastiveStep:
    """One training step's computation, apart from the optimizer: token ids -> device ->
    encoder -> (all-gather) -> loss -> backward (plain or gradient cache).

    ``global_ids`` is the step's global batch (G,) of corpus ids; with DDP (``dist``
    enabled) this rank encodes its block of G/K and the loss runs over all G. Shapes::

        rows   (V*n, W)  V views (unsup 2, or 1 with same_dropout_mask; sup 2 or 3)
                         of the n local sentences, width W (padded to a bucket)
        z      (V*n, H)  embeddings -> z1, z2[, hard] (n, H) -> gathered (G, H)

    Nothing here reads a device value back to the host (no sync inside the step).
    The trainer sets ``temperature`` / ``fn_policy`` before each step (live changes);
    the loss object (``loss_fn``) comes from the registry by ``config.loss_variant``.
    """

    def __init__(self, encoder: SentenceEncoder, data: TrainData, config: TrainConfig, device: torch.device,
                 use_bf16: bool, fn: FalseNegatives, dist_info: D.DistInfo | None = None,
                 loss_fn: ContrastiveLoss | None = None) -> None:
        self.encoder = encoder
        self.data = data
        self.config = config
        self.device = device
        self.use_bf16 = use_bf16
        self.fn = fn
        self.dist = dist_info or D.DistInfo()
        self.pad_id = encoder.tokenizer.pad_token_id or 0
        self.lens = [np.asarray(v.numpy()) for v in data.lengths]
        self.multiple = pad_multiple(config, device)
        self.loss_fn = loss_fn if loss_fn is not None else build_loss(config)  # chosen by name (the registry)
        self.temperature = float(config.temp)
        self.fn_policy = config.fn_policy
        self.fwd: torch.nn.Module | Any = encoder  # forward with a graph (DDP wrapper / compiled)
        self.fwd_no_grad: torch.nn.Module | Any = encoder  # forward without a graph
        self.last_views: tuple[torch.Tensor, torch.Tensor] | None = None  # (G, H) detached
        self.last_hard: torch.Tensor | None = None  # (G, H) detached hard negatives (sup), or None
        self.last_fn: np.ndarray | None = None  # (G, G) int8 host: 1 removed (eliminate), 2 attracted
        self.last_metrics: dict[str, torch.Tensor] = {}  # the loss's extra () scalars, detached
        self.n_masked = 0

    # ------------------------------------------------------------------ inputs
    def width(self, longest: int) -> int:
        if self.config.static_padding:
            return self.config.max_seq_length
        m = self.multiple
        return min(self.config.max_seq_length, -(-int(longest) // m) * m)

    def rows(self, global_ids: np.ndarray) -> torch.Tensor:
        """(V*n, W) int64 token ids of this rank's sentences on the device. On CUDA the
        gather lands in pinned memory and the copy is asynchronous."""
        ids = np.asarray(D.local_slice(global_ids, self.dist))
        idx = torch.as_tensor(ids)
        views = self.data.columns[:1] if self.config.mode == "unsup" else self.data.columns
        lens = self.lens[:1] if self.config.mode == "unsup" else self.lens
        w = self.width(max(int(ln[ids].max()) for ln in lens))  # host numpy: no sync
        pinned = self.device.type == "cuda"
        out = torch.empty((len(views) * len(ids), w), dtype=torch.long, pin_memory=pinned)
        for k, col in enumerate(views):  # (n, W) each, written in place
            torch.index_select(col[:, :w], 0, idx, out=out[k * len(ids) : (k + 1) * len(ids)])
        x = out.to(self.device, non_blocking=pinned)
        if self.config.mode == "unsup" and not self.config.same_dropout_mask:
            x = torch.cat([x, x])  # (2n, W): each sentence twice, two dropout masks
        return x

    def embed(self, rows: torch.Tensor, module: Any = None) -> torch.Tensor:
        """(r, W) ids -> (r, H) float32 embeddings (float64 for a float64 model)."""
        module = self.fwd if module is None else module
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.use_bf16):
            return full_precision(module(rows, (rows != self.pad_id).long()))

    # -------------------------------------------------------------------- loss
    def loss(self, z: torch.Tensor, global_ids: np.ndarray) -> torch.Tensor:
        """(V*n, H) local embeddings -> the loss over the global batch (scalar). Keeps
        the gathered views (detached) for snapshots, the loss's extra metrics and the
        masked-negative count."""
        n = len(global_ids) // self.dist.world_size
        if self.config.mode == "unsup" and self.config.same_dropout_mask:
            z1 = z2 = D.gather_keep_local(z, self.dist)  # (G, H): one view, used twice
            hard = None
        else:
            z1 = D.gather_keep_local(z[:n], self.dist)  # (G, H)
            z2 = D.gather_keep_local(z[n : 2 * n], self.dist)  # (G, H)
            hard = D.gather_keep_local(z[2 * n :], self.dist) if z.shape[0] > 2 * n else None  # (G, H) or None
        self.last_views = (z1.detach(), z2.detach())
        self.last_hard = None if hard is None else hard.detach()
        masks = self._false_negative_masks(global_ids)
        out = self.loss_fn(z1, z2, hard, temperature=self.temperature, **masks)
        self.last_metrics = {k: v.detach() for k, v in out.metrics.items()}
        return out.loss

    def _false_negative_masks(self, global_ids: np.ndarray) -> dict[str, torch.Tensor]:
        """The confirmed pairs of this batch as the loss's ``fn_mask`` (eliminate) or
        ``attract_mask`` (attract), (G, G) bool on the device; sets ``n_masked`` from
        the host-side mask (no sync) and ``last_fn`` (the pairs as the batch view marks
        them: 1 removed, 2 attracted; None when the loss got no mask)."""
        self.n_masked = 0
        self.last_fn = None
        if self.fn_policy == "none" or not self.loss_fn.uses_false_negatives:
            return {}
        mask_np = self.fn.mask(global_ids)  # (G, G) bool or None
        if mask_np is None:
            return {}
        mask = to_device(torch.from_numpy(mask_np), self.device)
        if self.fn_policy == "eliminate":
            self.n_masked = self.loss_fn.removed_negatives(mask_np)
            self.last_fn = mask_np.astype(np.int8)
            return {"fn_mask": mask}
        if self.fn_policy == "attract":
            self.last_fn = mask_np.astype(np.int8) * 2
            return {"attract_mask": mask}
        return {}

    LAST_STATE = ("last_views", "last_hard", "last_fn", "last_metrics", "n_masked")

    def keep_last(self) -> tuple[Any, ...]:
        """What the last step left for the snapshot (views, hard negatives, false-negative
        marks, metrics, masked count), to put back with :meth:`restore_last` after a
        look at another batch (the health check before a checkpoint)."""
        return tuple(getattr(self, name) for name in self.LAST_STATE)

    def restore_last(self, kept: tuple[Any, ...]) -> None:
        for name, value in zip(self.LAST_STATE, kept):
            setattr(self, name, value)

    # -------------------------------------------------------------------- step
    def look(self, global_ids: np.ndarray) -> torch.Tensor:
        """The loss without a graph (the first snapshot's look at the starting model)."""
        with torch.no_grad():
            return self.loss(self.embed(self.rows(global_ids), self.encoder), global_ids)

    def step(self, global_ids: np.ndarray) -> torch.Tensor:
        """Forward and backward of one global batch; gradients land in ``.grad`` (DDP:
        all-reduced, equal to one process's gradient on the global batch). Returns the
        loss, detached (not read back)."""
        rows = self.rows(global_ids)
        scale = float(self.dist.world_size)  # DDP averages; see distributed.py for the factor
        chunk = self.config.grad_cache_chunk
        if chunk and chunk < rows.shape[0]:
            sync = (lambda last: D.maybe_no_sync(self.fwd, not last)) if self.dist.enabled else None
            loss, _ = cached_backward(
                self.embed, split_rows(rows, chunk), lambda z: self.loss(z, global_ids), self.device,
                loss_scale=scale, sync_context=sync,
                embed_no_grad=lambda r: self.embed(r, self.fwd_no_grad))
            return loss
        loss = self.loss(self.embed(rows), global_ids)
        (loss * scale if scale != 1.0 else loss).backward()
        return loss.detach()

    def fits(self, sentences: int, width: int) -> bool:
        """Whether a forward/backward of ``sentences`` sentences (all views) at ``width``
        fits in memory; a probe for the out-of-memory message (RNG untouched, no DDP)."""
        views = 2 if self.config.mode == "unsup" else len(self.data.columns)
        rows = torch.full((views * sentences, width), 1000, dtype=torch.long, device=self.device)
        try:
            with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
                self.embed(rows, self.encoder).sum().backward()
            return True
        except torch.cuda.OutOfMemoryError:
            return False
        finally:
            del rows
            self.encoder.zero_grad(set_to_none=True)
            if self.device.type == "cuda":
                torch.cuda.empty_cache()


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Host tensor -> device; on CUDA through pinned memory, asynchronously."""
    if device.type != "cuda":
        return t
    return t.pin_memory().to(device, non_blocking=True)


def compile_module(module: Any, device: torch.device, ddp: bool) -> Any:
    """torch.compile with static shapes: CUDA graphs ("reduce-overhead") on one GPU, the
    default mode under DDP (its gradient hooks run outside graphs) and on the CPU."""
    import torch._dynamo as dynamo

    for name in ("recompile_limit", "cache_size_limit"):  # one graph per padded width (<= 8) and grad mode
        if hasattr(dynamo.config, name):
            setattr(dynamo.config, name, max(getattr(dynamo.config, name), 24))
    mode = "reduce-overhead" if device.type == "cuda" and not ddp else None
    return torch.compile(module, mode=mode, dynamic=False)


def oom_advice(stepper: ContrastiveStep, batch: int, width: int) -> Msg:
    """The out-of-memory message: probe halves of the batch for one that fits."""
    views = 2 if stepper.config.mode == "unsup" else len(stepper.data.columns)
    fit = batch // 2
    while fit >= 2 and not stepper.fits(fit, width):
        fit //= 2
    head = Msg("CUDA ran out of memory at batch size {batch} ({rows} encoder rows of up to {width} tokens per device)",
               batch=batch, rows=views * batch, width=width)
    if fit >= 2:
        return Msg("{head}. A forward/backward of {fit} sentences fits: use --per_device_train_batch_size {fit}, or "
                   "keep batch {batch} with --grad_cache_chunk {chunk} (gradient cache: same loss, memory of one "
                   "chunk). The last checkpoint is kept.", head=head, fit=fit, batch=batch, chunk=views * fit)
    return Msg("{head}; even 2 sentences do not fit: try a shorter max_seq_length or a smaller model. The last "
               "checkpoint is kept.", head=head)


__all__ = ["ContrastiveStep", "compile_module", "oom_advice", "pad_multiple", "to_device"]
