"""SimCSE training as a generator of snapshots.

    gen = train(TrainConfig(...), control=TrainControl())
    for snap in gen:          # a Snapshot every `snapshot_every` steps, and at the end
        draw(snap)            # plain data: numpy arrays and Python scalars
    # or: gen.send({"temperature": 0.1}) at a yield; control.stop() from any thread

Unsupervised mode feeds each sentence twice through the encoder with dropout on (one
forward pass of 2N rows); the two outputs are a positive pair and every other sentence
of the batch is a negative. Supervised mode takes (sent0, sent1[, hard_neg]) rows as
the reference SimCSE does. AdamW with linear decay, no warm-up, no clipping by default,
bf16 autocast on CUDA.

The step (:class:`ContrastiveStep`) reads nothing back from the device: token ids are
tokenised once, gathered per batch into pinned memory and copied asynchronously on
CUDA; batch widths are rounded to buckets (``pad_to_multiple_of``, ``static_padding``)
so shapes repeat; the masked-negative count comes from the host-side mask; losses are
read back only at snapshot / checkpoint time (the per-step NaN check is CPU-only).
Options: ``compile`` (torch.compile; CUDA graphs on one GPU; eager fallback with a
``{"step": s, "compile": "fallback: ..."}`` event), ``grad_cache_chunk`` (gradient
cache, :mod:`simcse_core.gradcache`), and data parallelism under torchrun
(:mod:`simcse_core.distributed`)::

    torchrun --standalone --nproc_per_node=K -m simcse_core.cli train ...        # one node
    torchrun --nnodes=M --nproc_per_node=K --node_rank=R --rdzv_backend=c10d \
             --rdzv_endpoint=HOST0:29500 --rdzv_id=RUN -m simcse_core.cli train ...  # M nodes

Reproducibility: the batch order comes from a generator seeded with (seed, epoch);
snapshots (probe encoding with dropout for alignment) run under a forked RNG so they
never change the training's random stream. Same seed and config on the CPU therefore
give the same losses, with or without snapshots, and after resuming from a checkpoint.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import random
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import metrics as M
from . import distributed as D
from .config import TrainConfig
from .control import TrainControl
from .errors import ConfigError, TrainingError
from .gradcache import RngState, cached_backward, full_precision, split_rows
from .losses import chance_loss, debiased_info_nce, info_nce
from .model import SentenceEncoder, load_model, pick_device
from .runs import RunWriter, latest_checkpoint
from .snapshot import Snapshot


@dataclass
class TrainResult:
    """What the generator returns (``StopIteration.value``)."""

    steps: int
    stopped: bool
    output_dir: str | None
    model_dir: str | None
    last_loss: float


@dataclass
class _Data:
    """Pre-tokenised training data: token ids (S, L) int64 padded with pad_id, lengths (S,)."""

    columns: list[torch.Tensor]  # one (S, L) tensor per view: [text] or [sent0, sent1(, hard)]
    lengths: list[torch.Tensor]  # matching (S,) lengths
    texts: list[str]  # what the probe shows (text / sent0)
    labels: dict[str, list[str]] = field(default_factory=dict)
    summary: str = ""  # one line about the input (counts of sentences, empty lines, duplicates)

    @property
    def size(self) -> int:
        return self.columns[0].shape[0]


def _pretokenize(tokenizer: Any, sentences: list[str], max_len: int, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenise everything once (fast tokenizer, batched): (S, L) ids and (S,) lengths."""
    pad = tokenizer.pad_token_id or 0
    ids = torch.full((len(sentences), max_len), pad, dtype=torch.long)
    lens = torch.zeros(len(sentences), dtype=torch.long)
    for start in range(0, len(sentences), chunk):
        enc = tokenizer(sentences[start : start + chunk], truncation=True, max_length=max_len,
                        padding=False, return_attention_mask=False, return_token_type_ids=False)
        for k, row in enumerate(enc["input_ids"]):
            ids[start + k, : len(row)] = torch.as_tensor(row)
            lens[start + k] = len(row)
    return ids, lens


def _load_data(config: TrainConfig, tokenizer: Any) -> _Data:
    from .data import default_corpus_path, read_corpus, read_triplets

    if config.mode == "sup":
        if not config.train_file:
            raise ConfigError("config field 'train_file': supervised mode needs a csv with sent0,sent1[,hard_neg]")
        tr = read_triplets(config.train_file)
        views = [list(tr.sent0), list(tr.sent1)] + ([list(tr.hard_neg)] if tr.hard_neg else [])
        cols, lens = zip(*(_pretokenize(tokenizer, v, config.max_seq_length) for v in views))
        summary = f"{Path(config.train_file).name}: {len(tr):,} supervised rows" + (" with hard negatives" if tr.hard_neg else "")
        return _Data(list(cols), list(lens), list(tr.sent0), summary=summary)
    corpus = read_corpus(config.train_file or default_corpus_path(), text_column=config.text_column,
                         drop_duplicates=config.drop_duplicates)
    ids, lens = _pretokenize(tokenizer, list(corpus.sentences), config.max_seq_length)
    return _Data([ids], [lens], list(corpus.sentences), dict(corpus.columns), summary=corpus.summary())


def _linear_schedule(total: int, warmup: int):
    def f(step: int) -> float:
        if warmup and step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return f


class _FalseNegatives:
    """Confirmed false-negative pairs of corpus ids, turned into per-batch masks."""

    def __init__(self, pairs: list[tuple[int, int]] | None = None) -> None:
        self.partners: dict[int, set[int]] = {}
        for a, b in pairs or []:
            self.add(a, b)

    def add(self, a: int, b: int) -> None:
        if a == b:
            return
        self.partners.setdefault(int(a), set()).add(int(b))
        self.partners.setdefault(int(b), set()).add(int(a))

    def pairs(self) -> list[tuple[int, int]]:
        return sorted({(min(a, b), max(a, b)) for a, ps in self.partners.items() for b in ps})

    def mask(self, batch_ids: np.ndarray) -> np.ndarray | None:
        """(N, N) bool: True where sentence i and j of the batch are a confirmed pair."""
        if not self.partners:
            return None
        pos = {int(c): k for k, c in enumerate(batch_ids)}
        n = len(batch_ids)
        m = np.zeros((n, n), dtype=bool)
        hit = False
        for i, c in enumerate(batch_ids):
            for p in self.partners.get(int(c), ()):
                j = pos.get(p)
                if j is not None:
                    m[i, j] = True
                    hit = True
        return m if hit else None


def _probe_ids(size: int, n: int, seed: int) -> np.ndarray:
    """A fixed probe set: the first `size` of a seeded permutation, in corpus order."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n)[: min(size, n)]).astype(np.int64)


def _pad_multiple(config: TrainConfig, device: torch.device) -> int:
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
    The trainer sets ``temperature`` / ``fn_policy`` before each step (live changes).
    """

    def __init__(self, encoder: SentenceEncoder, data: _Data, config: TrainConfig, device: torch.device,
                 use_bf16: bool, fn: _FalseNegatives, dist_info: D.DistInfo | None = None) -> None:
        self.encoder = encoder
        self.data = data
        self.config = config
        self.device = device
        self.use_bf16 = use_bf16
        self.fn = fn
        self.dist = dist_info or D.DistInfo()
        self.pad_id = encoder.tokenizer.pad_token_id or 0
        self.lens = [np.asarray(v.numpy()) for v in data.lengths]
        self.multiple = _pad_multiple(config, device)
        self.temperature = float(config.temp)
        self.fn_policy = config.fn_policy
        self.fwd: torch.nn.Module | Any = encoder  # forward with a graph (DDP wrapper / compiled)
        self.fwd_no_grad: torch.nn.Module | Any = encoder  # forward without a graph
        self.last_views: tuple[torch.Tensor, torch.Tensor] | None = None  # (G, H) detached
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
        the gathered views (detached) for snapshots and the masked-negative count."""
        n = len(global_ids) // self.dist.world_size
        if self.config.mode == "unsup" and self.config.same_dropout_mask:
            z1 = z2 = D.gather_keep_local(z, self.dist)  # (G, H): one view, used twice
            hard = None
        else:
            z1 = D.gather_keep_local(z[:n], self.dist)  # (G, H)
            z2 = D.gather_keep_local(z[n : 2 * n], self.dist)  # (G, H)
            hard = D.gather_keep_local(z[2 * n :], self.dist) if z.shape[0] > 2 * n else None
        self.last_views = (z1.detach(), z2.detach())
        variant, t = self.config.loss_variant, self.temperature
        mask_np = self.fn.mask(global_ids) if self.fn_policy != "none" else None
        self.n_masked = 0
        if self.config.tau_plus > 0:
            return debiased_info_nce(z1, z2, t, self.config.tau_plus, variant)
        kw: dict[str, Any] = {"temperature": t, "variant": variant, "hard_negatives": hard,
                              "hard_negative_weight": self.config.hard_negative_weight}
        if mask_np is not None:
            mask = _to_device(torch.from_numpy(mask_np), self.device)
            if self.fn_policy == "eliminate":
                kw["fn_mask"] = mask
                self.n_masked = int(mask_np.sum()) * (4 if variant == "ntxent" else 1)  # counted on the host
            elif self.fn_policy == "attract":
                kw["attract_mask"] = mask
        return info_nce(z1, z2, **kw)

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


def _to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Host tensor -> device; on CUDA through pinned memory, asynchronously."""
    if device.type != "cuda":
        return t
    return t.pin_memory().to(device, non_blocking=True)


def _compile(module: Any, device: torch.device, ddp: bool) -> Any:
    """torch.compile with static shapes: CUDA graphs ("reduce-overhead") on one GPU, the
    default mode under DDP (its gradient hooks run outside graphs) and on the CPU."""
    import torch._dynamo as dynamo

    for name in ("recompile_limit", "cache_size_limit"):  # one graph per padded width (<= 8) and grad mode
        if hasattr(dynamo.config, name):
            setattr(dynamo.config, name, max(getattr(dynamo.config, name), 24))
    mode = "reduce-overhead" if device.type == "cuda" and not ddp else None
    return torch.compile(module, mode=mode, dynamic=False)


def _oom_advice(stepper: ContrastiveStep, batch: int, width: int) -> str:
    """The out-of-memory message: probe halves of the batch for one that fits."""
    views = 2 if stepper.config.mode == "unsup" else len(stepper.data.columns)
    fit = batch // 2
    while fit >= 2 and not stepper.fits(fit, width):
        fit //= 2
    head = (f"CUDA ran out of memory at batch size {batch} ({views * batch} encoder rows of up to {width} tokens "
            "per device)")
    if fit >= 2:
        return (f"{head}. A forward/backward of {fit} sentences fits: use --per_device_train_batch_size {fit}, "
                f"or keep batch {batch} with --grad_cache_chunk {views * fit} (gradient cache: same loss, "
                "memory of one chunk). The last checkpoint is kept.")
    return (f"{head}; even 2 sentences do not fit: try a shorter max_seq_length or a smaller model. "
            "The last checkpoint is kept.")


def train(config: TrainConfig, control: TrainControl | None = None) -> Generator[Snapshot, dict | None, TrainResult]:
    """Run SimCSE training, yielding a :class:`Snapshot` at step 0, every
    ``snapshot_every`` steps and at the end (``done``) or on stop (``stopped``).

    Errors in the inputs raise :class:`~simcse_core.errors.SimCSEError` subclasses
    before the first step; a non-finite loss raises :class:`TrainingError` after the
    last good checkpoint has been kept. ``send(dict)`` at a yield or
    ``control.update(...)`` change temperature / learning_rate / fn_pairs / fn_policy
    from the next step.

    Under ``torchrun`` (WORLD_SIZE > 1) the run is data-parallel (see
    :mod:`simcse_core.distributed`): the global batch is K x per_device_train_batch_size,
    rank 0 alone writes the run folder and yields snapshots (other ranks yield nothing
    and return at the end), stop requests are agreed every few steps and live changes
    are refused.
    """
    config.validate()
    control = control or TrainControl()
    device = pick_device(config.device)
    dist_info = D.init_from_env(device.type)
    try:
        return (yield from _train(config, control, device, dist_info))
    finally:
        D.shutdown(dist_info)


_DDP_AGREE_EVERY = 10  # steps between the ranks' agreement on a stop request (a tiny all-reduce)


def _train(config: TrainConfig, control: TrainControl, device: torch.device,
           dist_info: D.DistInfo) -> Generator[Snapshot, dict | None, TrainResult]:
    if dist_info.enabled and device.type == "cuda":
        device = torch.device("cuda", dist_info.local_rank)
    main = dist_info.is_main
    use_bf16 = device.type == "cuda" if config.bf16 is None else bool(config.bf16 and device.type == "cuda")

    torch.manual_seed(config.seed + dist_info.rank)  # ranks > 0: their own dropout stream
    random.seed(config.seed)
    np.random.seed(config.seed % (2**32))

    encoder = load_model(config.model_name_or_path, config.pooler_type, config.mlp_only_train,
                         config.dropout, config.max_seq_length, config.allow_pickle, config.seed)
    data = _load_data(config, encoder.tokenizer)
    eval_pairs = None
    if config.eval_file and main:
        from .data import read_sts

        eval_pairs = read_sts(config.eval_file)

    batch = config.per_device_train_batch_size  # per device; the global batch is K x this
    world = dist_info.world_size
    if data.size < batch * world:
        if data.size < 2 * world:
            raise ConfigError(f"the corpus has {data.size} sentence(s); a contrastive batch needs 2 per device")
        batch = data.size // world  # a small corpus: one batch of everything
    global_batch = batch * world
    steps_per_epoch = data.size // global_batch  # the last partial batch is dropped (fixed N)
    total = config.max_steps if config.max_steps > 0 else max(1, math.ceil(config.num_train_epochs * steps_per_epoch))
    variant = config.loss_variant
    if dist_info.enabled:  # one run folder for all ranks (the CLI's default name has the time in it)
        config = dataclasses.replace(config, output_dir=D.broadcast_object(config.output_dir, dist_info))

    # --- resume -----------------------------------------------------------------
    start_step = 0
    state: dict[str, Any] = {}
    ckpt = None
    if config.resume_from_checkpoint:
        ckpt = _resolve_checkpoint(config)
        state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
        start_step = int(state["step"])
        resumed = load_model(str(ckpt / "model"), encoder.pooler_type, config.mlp_only_train, config.dropout,
                             config.max_seq_length, False, config.seed)
        encoder.load_state_dict(resumed.state_dict())
        del resumed

    encoder.to(device).train()
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay,
                                  fused=device.type in ("cuda", "cpu"))  # fused: one kernel, ~4x faster step on 2 CPU cores
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _linear_schedule(total, config.warmup_steps))
    temperature = float(state.get("temperature", config.temp))
    fn = _FalseNegatives(config.fn_pairs + [tuple(p) for p in state.get("fn_pairs", [])])
    fn_policy = state.get("fn_policy", config.fn_policy)
    lr_scale = float(state.get("lr_scale", 1.0))
    if ckpt is not None:
        ts = torch.load(ckpt / "trainer_state.pt", map_location="cpu", weights_only=True)
        optimizer.load_state_dict(ts["optimizer"])
        scheduler.load_state_dict(ts["scheduler"])
        if main:
            torch.set_rng_state(ts["rng_cpu"])
            if device.type == "cuda" and "rng_cuda" in ts:
                torch.cuda.set_rng_state(ts["rng_cuda"][0], device)
        else:  # rank 0's state was saved; the others re-seed their dropout stream
            torch.manual_seed(config.seed + dist_info.rank + 7919 * start_step)

    pad_id = encoder.tokenizer.pad_token_id or 0
    stepper = ContrastiveStep(encoder, data, config, device, use_bf16, fn, dist_info)
    setup_events: list[dict[str, Any]] = [{"step": start_step, "data": data.summary}] if data.summary else []
    if dist_info.enabled:
        D.freeze_unused_parameters(encoder, data.columns[0][:2, :8].to(device), pad_id)
        stepper.fwd = D.wrap_ddp(encoder, dist_info, device)  # stepper.fwd_no_grad stays the bare encoder
    eager_fwd, eager_no_grad = stepper.fwd, stepper.fwd_no_grad
    compiled = False
    if config.compile:
        try:
            if config.grad_cache_chunk:
                import torch._inductor.config as inductor_config

                inductor_config.fallback_random = True  # both passes draw the same dropout masks
            stepper.fwd = _compile(stepper.fwd, device, dist_info.enabled)
            stepper.fwd_no_grad = stepper.fwd if not dist_info.enabled else _compile(encoder, device, False)
            compiled = True
        except Exception as e:  # noqa: BLE001 - any failure: train eagerly and say so
            setup_events.append({"step": start_step, "compile": f"fallback: {_reason(e)}"})

    writer = None
    if main and config.output_dir:
        writer = RunWriter(config.output_dir, config.to_dict(), resume_step=start_step if ckpt else None)
    probe_ids = _probe_ids(config.probe_size, data.size, config.seed)
    probe_texts = [data.texts[i] for i in probe_ids]
    probe_cols = {k: [v[i] for i in probe_ids] for k, v in data.labels.items()}
    if writer:
        writer.write_probe(probe_ids, probe_texts, probe_cols)
    align_ids = probe_ids[np.random.default_rng(config.seed + 1).permutation(len(probe_ids))[: config.align_probe_size]]
    device_name = _device_name(device)
    if dist_info.enabled:
        device_name = f"{device_name} x {world} (DDP)"

    perm_cache: dict[str, Any] = {"epoch": None, "perm": None}

    def batch_ids_at(step: int) -> np.ndarray:
        """The global batch of a step: (G,) corpus ids, the same on every rank."""
        epoch, k = divmod(step, steps_per_epoch)
        if perm_cache["epoch"] != epoch:  # one permutation an epoch, not one a step
            g = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
            perm_cache["epoch"], perm_cache["perm"] = epoch, torch.randperm(data.size, generator=g).numpy()
        return perm_cache["perm"][k * global_batch : (k + 1) * global_batch].copy()

    def apply(changes: dict | None) -> list[dict[str, Any]]:
        nonlocal temperature, fn_policy, lr_scale
        events: list[dict[str, Any]] = []
        if changes and dist_info.enabled:
            raise ConfigError("live changes (temperature, learning rate, false negatives) are not supported under DDP")
        for key, value in (changes or {}).items():
            if key == "temperature":
                if not float(value) > 0:
                    raise ConfigError(f"temperature must be > 0 (got {value})")
                temperature = float(value)
            elif key == "learning_rate":
                lr_scale = float(value) / config.learning_rate if config.learning_rate else 1.0
                for g in optimizer.param_groups:
                    g["lr"] = float(value) * scheduler.lr_lambdas[0](scheduler.last_epoch)
            elif key == "fn_pairs":
                for a, b in value:
                    fn.add(a, b)
                value = len(value)
            elif key == "fn_policy":
                fn_policy = str(value)
            else:
                raise ConfigError(f"cannot change {key!r} during training")
            events.append({"step": step + 1, key: value})
        return events

    def check_finite(last_losses: list[tuple[int, torch.Tensor]]) -> np.ndarray:
        """(k, 2) float32 (step, loss) rows; reads the losses back (snapshot time only)."""
        losses = np.array([[s, float(v)] for s, v in last_losses], dtype=np.float32).reshape(-1, 2)
        if losses.size and not np.all(np.isfinite(losses[:, 1])):
            bad = int(losses[~np.isfinite(losses[:, 1])][0, 0])
            raise TrainingError(
                f"the loss became {losses[~np.isfinite(losses[:, 1])][0, 1]} at step {bad}; training stopped. "
                "The last good checkpoint is kept. Try a lower learning rate or a higher temperature."
            )
        return losses

    def snapshot(z1: torch.Tensor | None, z2: torch.Tensor | None, ids: np.ndarray | None, last_losses: list[tuple[int, torch.Tensor]],
                 with_probe: bool, events: list[dict[str, Any]], done: bool = False, stopped: bool = False,
                 evaluate: bool = False) -> Snapshot:
        losses = check_finite(last_losses)
        scalars: dict[str, float] = {"chance_loss": chance_loss(global_batch, variant), "n_masked": float(n_masked_last),
                                     "elapsed": time.perf_counter() - t0,
                                     "steps_per_sec": (step - start_step) / max(1e-9, time.perf_counter() - t0)}
        if losses.size:
            scalars["loss_last"] = float(losses[-1, 1])
        loss = float(losses[:, 1].mean()) if losses.size else math.nan
        sim = None
        if z1 is not None and z2 is not None:
            sim = M.l2_normalize(z1.detach().float().cpu().numpy()) @ M.l2_normalize(z2.detach().float().cpu().numpy()).T
            scalars.update(M.batch_metrics(sim, temperature))
        pe = None
        if with_probe:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                pe = encoder.encode(probe_texts, batch_size=256, bf16=use_bf16)
                scalars["uniformity"] = M.uniformity(pe)
                scalars["anisotropy"] = M.anisotropy(pe)
                scalars["alignment"] = _dropout_alignment(encoder, data, align_ids, device, pad_id, use_bf16)
                if evaluate and eval_pairs is not None:
                    r = M.evaluate_sts(encoder, eval_pairs)
                    scalars["sts_spearman"], scalars["sts_alignment"], scalars["sts_uniformity"] = (
                        r["spearman"], r["alignment"], r["uniformity"])
        return Snapshot(
            step=step, total_steps=total, epoch=step / steps_per_epoch, loss=loss, temperature=temperature,
            lr=float(optimizer.param_groups[0]["lr"]), scalars=scalars,
            probe_ids=probe_ids if pe is not None else None, probe_embeddings=pe,
            batch_ids=None if ids is None else np.asarray(ids, dtype=np.int64),
            batch_sim=None if sim is None else sim.astype(np.float32),
            step_losses=losses, done=done, stopped=stopped, device=device_name, events=events,
        )

    def save_checkpoint() -> None:
        if writer is None:
            return
        tmp = writer.new_checkpoint_dir(step)
        encoder.save(tmp / "model", training_args=config.to_dict())
        ts = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng_cpu": torch.get_rng_state()}
        if device.type == "cuda":
            ts["rng_cuda"] = [torch.cuda.get_rng_state(device)]
        torch.save(ts, tmp / "trainer_state.pt")
        (tmp / "state.json").write_text(json.dumps({
            "step": step, "temperature": temperature, "fn_pairs": [list(p) for p in fn.pairs()],
            "fn_policy": fn_policy, "lr_scale": lr_scale, "total_steps": total}, indent=2) + "\n", encoding="utf-8")
        writer.commit_checkpoint(tmp, step, config.keep_checkpoints)

    def run_step(ids: np.ndarray) -> torch.Tensor:
        """Forward/backward of one step; a failing compiled step is redone eagerly."""
        nonlocal compiled
        stepper.temperature, stepper.fn_policy = temperature, fn_policy
        if not compiled:
            return stepper.step(ids)
        rng = RngState(device)
        try:
            if device.type == "cuda" and hasattr(torch, "compiler") and hasattr(torch.compiler, "cudagraph_mark_step_begin"):
                torch.compiler.cudagraph_mark_step_begin()
            return stepper.step(ids)
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - compile errors come in many types
            compiled = False
            stepper.fwd, stepper.fwd_no_grad = eager_fwd, eager_no_grad
            optimizer.zero_grad(set_to_none=True)
            rng.restore()
            events.append({"step": step + 1, "compile": f"fallback: {_reason(e)}"})
            return stepper.step(ids)

    # --- the loop -------------------------------------------------------------------
    step = start_step
    t0 = time.perf_counter()
    n_masked_last = 0
    last_eval = -10**9
    pending_losses: list[tuple[int, torch.Tensor]] = []
    events: list[dict[str, Any]] = []
    stopped = False
    oom: str | None = None
    z1 = z2 = None
    try:
        # the first look: the starting model on its first batch, no update
        ids0 = batch_ids_at(step)
        stepper.temperature, stepper.fn_policy = temperature, fn_policy
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            l0 = stepper.look(ids0)
        n_masked_last = 0
        if main:
            z1, z2 = stepper.last_views  # type: ignore[misc]
            first = snapshot(z1, z2, ids0, [(step, l0.detach())], True, setup_events, evaluate=True)
            last_eval = step
            first.probe_texts, first.probe_columns = probe_texts, probe_cols
            if writer:
                writer.append(first)
            events = apply((yield first)) + apply(control.take_changes())
        else:
            events = list(setup_events)

        while step < total:
            if dist_info.enabled:
                if (step - start_step) % _DDP_AGREE_EVERY == 0 and D.any_rank(control.stop_requested, dist_info, device):
                    stopped = True
                    break
            else:
                if control.paused:
                    control.wait_if_paused()
                if control.stop_requested:
                    stopped = True
                    break
            events += apply(control.take_changes())
            ids = batch_ids_at(step)
            loss = run_step(ids)
            n_masked_last = stepper.n_masked
            if config.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(encoder.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            if lr_scale != 1.0:
                for g in optimizer.param_groups:
                    g["lr"] *= lr_scale
            optimizer.zero_grad(set_to_none=True)
            step += 1
            pending_losses.append((step, loss))
            if device.type == "cpu" and not torch.isfinite(loss):
                check_finite(pending_losses)  # raises TrainingError
            if control.on_step is not None:
                control.on_step(step, total, (step - start_step) / max(1e-9, time.perf_counter() - t0))
            last = step >= total
            if step % config.snapshot_every == 0 or last:
                if not main:  # the same (global) losses on every rank: all stop together on NaN
                    check_finite(pending_losses)
                    pending_losses, events = [], []
                    continue
                do_eval = eval_pairs is not None and (last or step - last_eval >= config.eval_every)
                z1, z2 = stepper.last_views  # type: ignore[misc]
                snap = snapshot(z1, z2, ids, pending_losses, True, events, done=last, evaluate=do_eval)
                if do_eval:
                    last_eval = step
                pending_losses, events = [], []
                if step % config.checkpoint_every == 0 or last:
                    save_checkpoint()
                if last and writer:
                    encoder.save(Path(config.output_dir) / "model", training_args=config.to_dict())  # type: ignore[arg-type]
                if writer:
                    writer.append(snap)
                events = apply((yield snap)) + apply(control.take_changes())
            elif step % config.checkpoint_every == 0:
                check_finite(pending_losses)  # NaN check before saving
                save_checkpoint()

        if stopped:
            # Stop: no further step. A light snapshot (no probe re-encoding) and a checkpoint.
            if main:
                snap = snapshot(None, None, None, pending_losses, False, events, stopped=True)
                save_checkpoint()
                if writer:
                    encoder.save(Path(config.output_dir) / "model", training_args=config.to_dict())  # type: ignore[arg-type]
                    writer.append(snap)
                yield snap
    except torch.cuda.OutOfMemoryError as e:
        oom = str(e).strip().splitlines()[0] if str(e).strip() else "out of memory"
    finally:
        if writer:
            writer.close()
    if oom is not None:
        # outside the except block, so the failed step's tensors (held by the traceback) are freed
        z1 = z2 = None
        stepper.last_views = None
        optimizer.zero_grad(set_to_none=True)
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        raise TrainingError(_oom_advice(stepper, batch, stepper.width(config.max_seq_length)))
    last_loss = float(pending_losses[-1][1]) if pending_losses else math.nan
    model_dir = str(Path(config.output_dir) / "model") if config.output_dir else None
    return TrainResult(step, stopped, config.output_dir, model_dir, last_loss)


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


@torch.no_grad()
def _dropout_alignment(encoder: SentenceEncoder, data: _Data, ids: np.ndarray, device: torch.device, pad_id: int,
                       bf16: bool, chunk: int = 128) -> float:
    """Alignment of the probe's two dropout views (the positive pairs the loss trains
    on): mean ||z1 - z2||^2 of normalised embeddings, encoder in train mode."""
    was = encoder.training
    encoder.train()
    total, count = 0.0, 0
    try:
        for s in range(0, len(ids), chunk):
            idx = torch.as_tensor(ids[s : s + chunk])
            width = int(data.lengths[0][idx].max())
            x = data.columns[0][idx, :width]
            inp = torch.cat([x, x]).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                z = encoder(inp, (inp != pad_id).long()).float()
            z = torch.nn.functional.normalize(z, dim=-1)
            n = len(idx)
            total += float(((z[:n] - z[n:]) ** 2).sum(1).sum())
            count += n
    finally:
        encoder.train(was)
    return total / max(1, count)


def _resolve_checkpoint(config: TrainConfig) -> Path:
    spec = config.resume_from_checkpoint
    if spec in ("latest", "true", "True", "1"):
        if not config.output_dir:
            raise ConfigError("config field 'resume_from_checkpoint': 'latest' needs output_dir")
        ck = latest_checkpoint(config.output_dir)
        if ck is None:
            raise ConfigError(f"config field 'resume_from_checkpoint': no complete checkpoint in {config.output_dir}/checkpoints")
        return ck
    p = Path(str(spec))
    if not (p / "state.json").is_file():
        raise ConfigError(f"config field 'resume_from_checkpoint': {p} is not a checkpoint folder (no state.json)")
    return p


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type
