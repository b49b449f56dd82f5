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

Reproducibility: the batch order comes from a generator seeded with (seed, epoch);
snapshots (probe encoding with dropout for alignment) run under a forked RNG so they
never change the training's random stream. Same seed and config on the CPU therefore
give the same losses, with or without snapshots, and after resuming from a checkpoint.
"""

from __future__ import annotations

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
from .config import TrainConfig
from .control import TrainControl
from .errors import ConfigError, TrainingError
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
        return _Data(list(cols), list(lens), list(tr.sent0))
    corpus = read_corpus(config.train_file or default_corpus_path(), text_column=config.text_column,
                         drop_duplicates=config.drop_duplicates)
    ids, lens = _pretokenize(tokenizer, list(corpus.sentences), config.max_seq_length)
    return _Data([ids], [lens], list(corpus.sentences), dict(corpus.columns))


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


def train(config: TrainConfig, control: TrainControl | None = None) -> Generator[Snapshot, dict | None, TrainResult]:
    """Run SimCSE training, yielding a :class:`Snapshot` at step 0, every
    ``snapshot_every`` steps and at the end (``done``) or on stop (``stopped``).

    Errors in the inputs raise :class:`~simcse_core.errors.SimCSEError` subclasses
    before the first step; a non-finite loss raises :class:`TrainingError` after the
    last good checkpoint has been kept. ``send(dict)`` at a yield or
    ``control.update(...)`` change temperature / learning_rate / fn_pairs / fn_policy
    from the next step.
    """
    config.validate()
    control = control or TrainControl()
    device = pick_device(config.device)
    use_bf16 = device.type == "cuda" if config.bf16 is None else bool(config.bf16 and device.type == "cuda")

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    np.random.seed(config.seed % (2**32))

    encoder = load_model(config.model_name_or_path, config.pooler_type, config.mlp_only_train,
                         config.dropout, config.max_seq_length, config.allow_pickle, config.seed)
    data = _load_data(config, encoder.tokenizer)
    eval_pairs = None
    if config.eval_file:
        from .data import read_sts

        eval_pairs = read_sts(config.eval_file)

    batch = config.per_device_train_batch_size
    if data.size < batch:
        if data.size < 2:
            raise ConfigError(f"the corpus has {data.size} sentence(s); a contrastive batch needs 2")
        batch = data.size  # a small corpus: one batch of everything
    steps_per_epoch = data.size // batch  # the last partial batch is dropped (fixed N)
    total = config.max_steps if config.max_steps > 0 else max(1, math.ceil(config.num_train_epochs * steps_per_epoch))
    variant = config.loss_variant

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
                                  fused=device.type == "cuda")
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _linear_schedule(total, config.warmup_steps))
    temperature = float(state.get("temperature", config.temp))
    fn = _FalseNegatives(config.fn_pairs + [tuple(p) for p in state.get("fn_pairs", [])])
    fn_policy = state.get("fn_policy", config.fn_policy)
    lr_scale = float(state.get("lr_scale", 1.0))
    if ckpt is not None:
        ts = torch.load(ckpt / "trainer_state.pt", map_location="cpu", weights_only=True)
        optimizer.load_state_dict(ts["optimizer"])
        scheduler.load_state_dict(ts["scheduler"])
        torch.set_rng_state(ts["rng_cpu"])
        if device.type == "cuda" and "rng_cuda" in ts:
            torch.cuda.set_rng_state_all(ts["rng_cuda"])

    writer = RunWriter(config.output_dir, config.to_dict(), resume_step=start_step if ckpt else None) if config.output_dir else None
    probe_ids = _probe_ids(config.probe_size, data.size, config.seed)
    probe_texts = [data.texts[i] for i in probe_ids]
    probe_cols = {k: [v[i] for i in probe_ids] for k, v in data.labels.items()}
    if writer:
        writer.write_probe(probe_ids, probe_texts, probe_cols)
    align_ids = probe_ids[np.random.default_rng(config.seed + 1).permutation(len(probe_ids))[: config.align_probe_size]]
    device_name = _device_name(device)

    def batch_ids_at(step: int) -> np.ndarray:
        epoch, k = divmod(step, steps_per_epoch)
        g = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
        perm = torch.randperm(data.size, generator=g)
        return perm[k * batch : (k + 1) * batch].numpy()

    def forward(ids: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Embed a batch: (N, H) first views, (N, H) second views, (N, H) hard negatives."""
        idx = torch.as_tensor(ids)
        views = []
        for col, lens in zip(data.columns, data.lengths):
            width = int(lens[idx].max())
            views.append(col[idx, :width])
        n = len(ids)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            if config.mode == "unsup":
                x = views[0]
                if config.same_dropout_mask:
                    inp = x.to(device, non_blocking=True)
                    z1 = encoder(inp, (inp != pad_id).long())
                    return z1.float(), z1.float(), None
                inp = torch.cat([x, x]).to(device, non_blocking=True)  # (2N, L): each sentence twice
                z = encoder(inp, (inp != pad_id).long()).float()  # (2N, H), two dropout masks
                return z[:n], z[n:], None
            width = max(v.shape[1] for v in views)
            inp = torch.cat([torch.nn.functional.pad(v, (0, width - v.shape[1]), value=pad_id) for v in views])
            inp = inp.to(device, non_blocking=True)
            z = encoder(inp, (inp != pad_id).long()).float()  # (kN, H)
            return z[:n], z[n : 2 * n], (z[2 * n :] if len(views) > 2 else None)

    pad_id = encoder.tokenizer.pad_token_id or 0

    def loss_of(z1: torch.Tensor, z2: torch.Tensor, hard: torch.Tensor | None, ids: np.ndarray) -> tuple[torch.Tensor, int]:
        mask_np = fn.mask(ids) if fn_policy != "none" else None
        mask = torch.as_tensor(mask_np, device=z1.device) if mask_np is not None else None
        if config.tau_plus > 0:
            return debiased_info_nce(z1, z2, temperature, config.tau_plus, variant), 0
        kw: dict[str, Any] = {"temperature": temperature, "variant": variant, "hard_negatives": hard,
                              "hard_negative_weight": config.hard_negative_weight}
        n_masked = 0
        if mask is not None and fn_policy == "eliminate":
            kw["fn_mask"] = mask
            n_masked = int(mask.sum()) * (4 if variant == "ntxent" else 1)
        elif mask is not None and fn_policy == "attract":
            kw["attract_mask"] = mask
        return info_nce(z1, z2, **kw), n_masked

    def apply(changes: dict | None) -> list[dict[str, Any]]:
        nonlocal temperature, fn_policy, lr_scale
        events: list[dict[str, Any]] = []
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

    def snapshot(z1: torch.Tensor | None, z2: torch.Tensor | None, ids: np.ndarray | None, last_losses: list[tuple[int, torch.Tensor]],
                 with_probe: bool, events: list[dict[str, Any]], done: bool = False, stopped: bool = False,
                 evaluate: bool = False) -> Snapshot:
        losses = np.array([[s, float(v)] for s, v in last_losses], dtype=np.float32).reshape(-1, 2)
        if losses.size and not np.all(np.isfinite(losses[:, 1])):
            bad = int(losses[~np.isfinite(losses[:, 1])][0, 0])
            raise TrainingError(
                f"the loss became {losses[~np.isfinite(losses[:, 1])][0, 1]} at step {bad}; training stopped. "
                "The last good checkpoint is kept. Try a lower learning rate or a higher temperature."
            )
        scalars: dict[str, float] = {"chance_loss": chance_loss(batch, variant), "n_masked": float(n_masked_last),
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
            ts["rng_cuda"] = torch.cuda.get_rng_state_all()
        torch.save(ts, tmp / "trainer_state.pt")
        (tmp / "state.json").write_text(json.dumps({
            "step": step, "temperature": temperature, "fn_pairs": [list(p) for p in fn.pairs()],
            "fn_policy": fn_policy, "lr_scale": lr_scale, "total_steps": total}, indent=2) + "\n", encoding="utf-8")
        writer.commit_checkpoint(tmp, step, config.keep_checkpoints)

    # --- the loop -------------------------------------------------------------------
    step = start_step
    t0 = time.perf_counter()
    n_masked_last = 0
    last_eval = -10**9
    pending_losses: list[tuple[int, torch.Tensor]] = []
    events: list[dict[str, Any]] = []
    stopped = False
    try:
        # the first look: the starting model on its first batch, no update
        ids0 = batch_ids_at(step)
        with torch.no_grad(), torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            z1, z2, hard = forward(ids0)
            l0, _ = loss_of(z1, z2, hard, ids0)
        first = snapshot(z1, z2, ids0, [(step, l0.detach())], True, [], evaluate=True)
        last_eval = step
        first.probe_texts, first.probe_columns = probe_texts, probe_cols
        if writer:
            writer.append(first)
        events = apply((yield first)) + apply(control.take_changes())

        while step < total:
            if control.paused:
                control.wait_if_paused()
            if control.stop_requested:
                stopped = True
                break
            events += apply(control.take_changes())
            ids = batch_ids_at(step)
            z1, z2, hard = forward(ids)
            loss, n_masked_last = loss_of(z1, z2, hard, ids)
            loss.backward()
            if config.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(encoder.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            if lr_scale != 1.0:
                for g in optimizer.param_groups:
                    g["lr"] *= lr_scale
            optimizer.zero_grad(set_to_none=True)
            step += 1
            pending_losses.append((step, loss.detach()))
            if device.type == "cpu" and not torch.isfinite(loss):
                snapshot(None, None, None, pending_losses, False, [])  # raises TrainingError
            if control.on_step is not None:
                control.on_step(step, total, (step - start_step) / max(1e-9, time.perf_counter() - t0))
            last = step >= total
            if step % config.snapshot_every == 0 or last:
                do_eval = eval_pairs is not None and (last or step - last_eval >= config.eval_every)
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
                snapshot(None, None, None, pending_losses, False, [])  # NaN check before saving
                save_checkpoint()

        if stopped:
            # Stop: no further step. A light snapshot (no probe re-encoding) and a checkpoint.
            snap = snapshot(None, None, None, pending_losses, False, events, stopped=True)
            save_checkpoint()
            if writer:
                encoder.save(Path(config.output_dir) / "model", training_args=config.to_dict())  # type: ignore[arg-type]
                writer.append(snap)
            yield snap
    except torch.cuda.OutOfMemoryError:
        raise TrainingError(
            f"CUDA ran out of memory at batch size {batch}; try a smaller per_device_train_batch_size "
            f"(e.g. {max(2, batch // 2)}) or a shorter max_seq_length. The last checkpoint is kept."
        ) from None
    finally:
        if writer:
            writer.close()
    last_loss = float(pending_losses[-1][1]) if pending_losses else math.nan
    model_dir = str(Path(config.output_dir) / "model") if config.output_dir else None
    return TrainResult(step, stopped, config.output_dir, model_dir, last_loss)


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
