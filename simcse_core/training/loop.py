"""The step loop (:class:`TrainLoop`): setup, the steps, snapshots, checkpoints, live
changes, pause/stop, and the out-of-memory message. :func:`simcse_core.trainer.train`
runs one as a generator; the state a step changes is named on the object, not shared
between closures."""

from __future__ import annotations

import dataclasses
import gc
import math
import random
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import distributed as D
from ..config import TrainConfig
from ..control import LOADING_PHASE, TrainControl
from ..errors import ConfigError, TrainingError
from ..gradcache import RngState
from ..model import freeze_lower_layers, load_model
from ..precision import cpu_bf16_note, training_bf16
from ..runs import RunWriter
from ..snapshot import Snapshot
from ..storage import RunLock
from .checkpoints import read_checkpoint_state, resolve_checkpoint, write_checkpoint
from .health import divergence_error, diverged_at, health_problem, loss_problem, probe_problem, read_losses
from .inputs import FalseNegatives, load_train_data, probe_ids
from .probe import Probe
from .step import ContrastiveStep, compile_module, oom_advice

DDP_AGREE_EVERY = 10  # steps between the ranks' agreement on a stop request (a tiny all-reduce)


@dataclass
class TrainResult:
    """What the generator returns (``StopIteration.value``)."""

    steps: int
    stopped: bool
    output_dir: str | None
    model_dir: str | None
    last_loss: float


def linear_schedule(total: int, warmup: int):
    """Linear warm-up over ``warmup`` steps, then linear decay to 0 at ``total``."""

    def f(step: int) -> float:
        if warmup and step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return f


def first_events(step: int, data_summary: str, use_bf16: bool, device: torch.device) -> list[dict[str, Any]]:
    """What a run's first snapshot says once: the data's counts, and for bfloat16 asked on
    a CPU whether the processor does it in hardware."""
    events: list[dict[str, Any]] = [{"step": step, "data": data_summary}] if data_summary else []
    if use_bf16 and device.type == "cpu":
        events.append({"step": step, "precision": cpu_bf16_note()})
    return events


class TrainLoop:
    """One run, from loading the model to the last snapshot. Build it, then iterate
    :meth:`run` (a generator of :class:`Snapshot`, returning a :class:`TrainResult`).

    State the loop changes as it goes: ``step``, ``temperature``, ``fn_policy`` and
    ``lr_scale`` (live changes), ``pending_losses`` (step losses since the last
    snapshot, still on the device), ``events`` (what the next snapshot reports), ``stopped`` and ``compiled``.
    """

    def __init__(self, config: TrainConfig, control: TrainControl, device: torch.device,
                 dist_info: D.DistInfo) -> None:
        if dist_info.enabled and device.type == "cuda":
            device = torch.device("cuda", dist_info.local_rank)
        self.config, self.control, self.device, self.dist = config, control, device, dist_info
        self.main = dist_info.is_main
        self.use_bf16 = training_bf16(config.bf16, device)
        # one writer per run folder: a second run is refused before anything is loaded or touched
        self.lock = RunLock(config.output_dir) if self.main and config.output_dir else None
        try:
            self._load()
            self._resume()
            self._build_step()
            self._open_run()
        except BaseException:
            if self.lock is not None:
                self.lock.release()
            raise
        self.model_saved = False
        # the loop's state
        self.step = self.start_step
        self.t0 = time.perf_counter()
        self.last_eval = -10**9
        self.pending_losses: list[tuple[int, torch.Tensor]] = []
        self.last_loss: torch.Tensor | None = None
        self.events: list[dict[str, Any]] = []
        self.stopped = False
        self._perm_epoch: int | None = None
        self._perm: np.ndarray | None = None

    # ------------------------------------------------------------------ setup
    def _load(self) -> None:
        """Seeds, the model, the data and the batch arithmetic."""
        config, dist_info = self.config, self.dist
        torch.manual_seed(config.seed + dist_info.rank)  # ranks > 0: their own dropout stream
        random.seed(config.seed)
        np.random.seed(config.seed % (2**32))
        self.control.status(f"{LOADING_PHASE} ({config.model_name_or_path})")
        self.encoder = load_model(config.model_name_or_path, config.pooler_type, config.mlp_only_train,
                                  config.dropout, config.max_seq_length, config.allow_pickle, config.seed)
        freeze_lower_layers(self.encoder.backbone, config.freeze_layers)  # 0 (the default): none
        corpus = Path(config.train_file).name if config.train_file else "the demo corpus"
        self.control.status(f"reading and tokenising {corpus}")
        self.data = load_train_data(config, self.encoder.tokenizer)
        self.eval_pairs = None
        if config.eval_file and self.main:
            from ..data import read_sts

            self.eval_pairs = read_sts(config.eval_file)
        batch = config.per_device_train_batch_size  # per device; the global batch is K x this
        world = dist_info.world_size
        size = self.data.size
        if size < batch * world:
            if size < 2 * world:
                raise ConfigError("the corpus has {size} sentence(s); a contrastive batch needs 2 per device", size=size)
            batch = size // world  # a small corpus: one batch of everything
        self.batch = batch
        self.global_batch = batch * world
        self.steps_per_epoch = size // self.global_batch  # the last partial batch is dropped (fixed N)
        self.total = (config.max_steps if config.max_steps > 0
                      else max(1, math.ceil(config.num_train_epochs * self.steps_per_epoch)))
        if dist_info.enabled:  # one run folder for all ranks (the CLI's default name has the time in it)
            self.config = dataclasses.replace(config, output_dir=D.broadcast_object(config.output_dir, dist_info))

    def _resume(self) -> None:
        """The optimizer and schedule, and a checkpoint's weights, state and RNG when resuming."""
        config, device = self.config, self.device
        self.checkpoint = resolve_checkpoint(config) if config.resume_from_checkpoint else None
        state = read_checkpoint_state(self.checkpoint, self.encoder, config) if self.checkpoint else {}
        self.start_step = int(state.get("step", 0))
        self.encoder.to(device).train()
        self.optimizer = torch.optim.AdamW(self.encoder.parameters(), lr=config.learning_rate,
                                           weight_decay=config.weight_decay,
                                           fused=device.type in ("cuda", "cpu"))  # fused: ~4x faster step on 2 CPU cores
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, linear_schedule(self.total, config.warmup_steps))
        self.temperature = float(state.get("temperature", config.temp))
        self.fn = FalseNegatives(config.fn_pairs + [tuple(p) for p in state.get("fn_pairs", [])])
        self.fn_policy = state.get("fn_policy", config.fn_policy)
        self.lr_scale = float(state.get("lr_scale", 1.0))
        # what the checkpoint's step owed the next snapshot (losses and events since the last one)
        self.carried = ([(int(s), float(v)) for s, v in state.get("pending_losses", [])],
                        list(state.get("pending_events", [])))
        if self.checkpoint is None:
            return
        ts = torch.load(self.checkpoint / "trainer_state.pt", map_location="cpu", weights_only=True)
        self.optimizer.load_state_dict(ts["optimizer"])
        self.scheduler.load_state_dict(ts["scheduler"])
        if self.main:
            torch.set_rng_state(ts["rng_cpu"])
            if device.type == "cuda" and "rng_cuda" in ts:
                torch.cuda.set_rng_state(ts["rng_cuda"][0], device)
        else:  # rank 0's state was saved; the others re-seed their dropout stream
            torch.manual_seed(config.seed + self.dist.rank + 7919 * self.start_step)

    def _build_step(self) -> None:
        """The step computation: its loss (from the registry), DDP wrapping, compile."""
        config, device, dist_info = self.config, self.device, self.dist
        self.stepper = ContrastiveStep(self.encoder, self.data, config, device, self.use_bf16, self.fn, dist_info)
        self.setup_events = first_events(self.start_step, self.data.summary, self.use_bf16, device)
        if dist_info.enabled:
            pad_id = self.encoder.tokenizer.pad_token_id or 0
            D.freeze_unused_parameters(self.encoder, self.data.columns[0][:2, :8].to(device), pad_id)
            self.stepper.fwd = D.wrap_ddp(self.encoder, dist_info, device)  # fwd_no_grad stays the bare encoder
        self.eager_fwd, self.eager_no_grad = self.stepper.fwd, self.stepper.fwd_no_grad
        self.compiled = False
        if not config.compile:
            return
        self.control.status("compiling the model (torch.compile; the first steps are slow)")
        try:
            if config.grad_cache_chunk:
                import torch._inductor.config as inductor_config

                inductor_config.fallback_random = True  # both passes draw the same dropout masks
            self.stepper.fwd = compile_module(self.stepper.fwd, device, dist_info.enabled)
            self.stepper.fwd_no_grad = (self.stepper.fwd if not dist_info.enabled
                                        else compile_module(self.encoder, device, False))
            self.compiled = True
        except Exception as e:  # noqa: BLE001 - any failure: train eagerly and say so
            self.setup_events.append({"step": self.start_step, "compile": f"fallback: {error_reason(e)}"})

    def _open_run(self) -> None:
        """The run folder (main rank), the probe set, the device's name."""
        config = self.config
        self.writer = None
        if self.main and config.output_dir:
            self.writer = RunWriter(config.output_dir, config.to_dict(),
                                    resume_step=self.start_step if self.checkpoint else None, lock=self.lock)
        self.control.status(f"{self.data.size:,} sentences tokenised; choosing the probe set")
        ids = probe_ids(config.probe_size, self.data.size, config.seed)
        self.probe = Probe(self.encoder, self.data, ids, config, self.device, self.use_bf16, self.eval_pairs)
        if self.writer:
            self.writer.write_probe(ids, self.probe.texts, self.probe.columns)
        self.device_name = device_name(self.device)
        if self.dist.enabled:
            self.device_name = f"{self.device_name} x {self.dist.world_size} (DDP)"

    # ------------------------------------------------------------------ helpers
    def batch_ids_at(self, step: int) -> np.ndarray:
        """The global batch of a step: (G,) corpus ids, the same on every rank."""
        epoch, k = divmod(step, self.steps_per_epoch)
        if self._perm_epoch != epoch:  # one permutation an epoch, not one a step
            g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
            self._perm_epoch, self._perm = epoch, torch.randperm(self.data.size, generator=g).numpy()
        assert self._perm is not None
        return self._perm[k * self.global_batch : (k + 1) * self.global_batch].copy()

    def apply(self, changes: dict | None) -> list[dict[str, Any]]:
        """Live changes (from ``send`` or ``control.update``), taking effect from the
        next step; returns the events to report."""
        events: list[dict[str, Any]] = []
        if changes and self.dist.enabled:
            raise ConfigError("live changes (temperature, learning rate, false negatives) are not supported under DDP")
        for key, value in (changes or {}).items():
            if key == "temperature":
                if not float(value) > 0:
                    raise ConfigError("temperature must be > 0 (got {value})", value=value)
                self.temperature = float(value)
            elif key == "learning_rate":
                lr = self.config.learning_rate
                self.lr_scale = float(value) / lr if lr else 1.0
                for g in self.optimizer.param_groups:
                    g["lr"] = float(value) * self.scheduler.lr_lambdas[0](self.scheduler.last_epoch)
            elif key == "fn_pairs":
                for a, b in value:
                    self.fn.add(a, b)
                value = len(value)
            elif key == "fn_policy":
                self.fn_policy = str(value)
            else:
                raise ConfigError("cannot change {key!r} during training", key=key)
            events.append({"step": self.step + 1, key: value})
        return events

    def take_changes(self, sent: dict | None = None) -> list[dict[str, Any]]:
        """Apply what was sent at a yield, then what the control holds."""
        return self.apply(sent) + self.apply(self.control.take_changes())

    def check_finite(self, last_losses: list[tuple[int, Any]]) -> np.ndarray:
        """(k, 2) float32 (step, loss) rows; reads the losses back (snapshot time only).
        A non-finite loss raises :class:`TrainingError` naming the last good checkpoint."""
        losses = read_losses(last_losses)
        bad = loss_problem(losses)
        if bad:
            raise divergence_error(bad[0], bad[1], self.writer)
        return losses

    def snapshot(self, ids: np.ndarray | None, with_views: bool, with_probe: bool, done: bool = False,
                 stopped: bool = False, evaluate: bool = False) -> Snapshot:
        """A snapshot of now: the pending losses, the last batch (``with_views``), the
        probe (``with_probe``) and STS (``evaluate``)."""
        losses = self.check_finite(self.pending_losses)
        elapsed = time.perf_counter() - self.t0
        scalars: dict[str, float] = {
            "chance_loss": self.stepper.loss_fn.chance_loss(self.global_batch), "n_masked": float(self.stepper.n_masked),
            "elapsed": elapsed, "steps_per_sec": (self.step - self.start_step) / max(1e-9, elapsed)}
        if losses.size:
            scalars["loss_last"] = float(losses[-1, 1])
        sim = None
        views: dict[str, np.ndarray | None] = {}
        if with_views and self.stepper.last_views is not None:
            z1, z2 = self.stepper.last_views  # (G, H) each
            sim = self.probe.batch_similarity(z1, z2)  # (G, G)
            views = self.probe.batch_views(z1, z2, self.stepper.last_hard, self.stepper.last_fn)  # for the batch view
            scalars.update(self.probe.batch_scalars(sim, self.temperature))
            scalars.update({k: float(v) for k, v in self.stepper.last_metrics.items()})  # the loss's own metrics
        pe = None
        if with_probe:
            pe, probe_scalars = self.probe.measure(evaluate)
            scalars.update(probe_scalars)
            problem = probe_problem(pe, probe_scalars)
            if problem:
                raise divergence_error(problem, self.step, self.writer)
        return Snapshot(
            step=self.step, total_steps=self.total, epoch=self.step / self.steps_per_epoch,
            loss=float(losses[:, 1].mean()) if losses.size else math.nan, temperature=self.temperature,
            lr=float(self.optimizer.param_groups[0]["lr"]), scalars=scalars,
            probe_ids=self.probe.ids if pe is not None else None, probe_embeddings=pe,
            batch_ids=None if ids is None else np.asarray(ids, dtype=np.int64),
            batch_sim=None if sim is None else sim.astype(np.float32), **views,
            step_losses=losses, done=done, stopped=stopped, device=self.device_name, events=self.events,
        )

    def save_checkpoint(self, probed: bool = False) -> None:
        """A checkpoint of now, only if healthy (finite weights and, unless ``probed``
        by this step's snapshot, finite probe embeddings); it carries the losses and
        events the next snapshot is owed, so a resumed run's folder reads as one run's."""
        pending = self.check_finite(self.pending_losses)  # on every rank: all stop together
        if self.writer is None:
            return
        problem = health_problem(self.encoder, [] if probed else self.probe.texts, self.device, self.use_bf16,
                                 None if self.dist.enabled else self.stepper, self.batch_ids_at(self.step))
        if problem:
            raise divergence_error(problem, self.step, self.writer)
        write_checkpoint(self.writer, self.step, self.encoder, self.optimizer, self.scheduler, self.config,
                         self.device, {"temperature": self.temperature, "fn_pairs": [list(p) for p in self.fn.pairs()],
                                       "fn_policy": self.fn_policy, "lr_scale": self.lr_scale,
                                       "total_steps": self.total, "pending_losses": pending.tolist(),
                                       "pending_events": self.events})

    def save_model(self) -> None:
        if self.writer is not None:
            self.writer.write_model(lambda folder: self.encoder.save(folder, training_args=self.config.to_dict()))
            self.model_saved = True

    # ------------------------------------------------------------------ a step
    def run_step(self, ids: np.ndarray) -> torch.Tensor:
        """Forward/backward of one step; a failing compiled step is redone eagerly."""
        stepper = self.stepper
        stepper.temperature, stepper.fn_policy = self.temperature, self.fn_policy
        if not self.compiled:
            return stepper.step(ids)
        rng = RngState(self.device)
        try:
            if self.device.type == "cuda" and hasattr(torch, "compiler") and hasattr(torch.compiler, "cudagraph_mark_step_begin"):
                torch.compiler.cudagraph_mark_step_begin()
            return stepper.step(ids)
        except torch.cuda.OutOfMemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - compile errors come in many types
            self.compiled = False
            stepper.fwd, stepper.fwd_no_grad = self.eager_fwd, self.eager_no_grad
            self.optimizer.zero_grad(set_to_none=True)
            rng.restore()
            self.events.append({"step": self.step + 1, "compile": f"fallback: {error_reason(e)}"})
            return stepper.step(ids)

    def train_step(self, ids: np.ndarray) -> None:
        """One optimizer step on the global batch ``ids``."""
        loss = self.run_step(ids)
        if self.config.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(self.encoder.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        if self.lr_scale != 1.0:
            for g in self.optimizer.param_groups:
                g["lr"] *= self.lr_scale
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.pending_losses.append((self.step, loss))
        self.last_loss = loss
        if self.device.type == "cpu" and not torch.isfinite(loss):
            self.check_finite(self.pending_losses)  # raises TrainingError
        if self.control.on_step is not None:
            self.control.on_step(self.step, self.total, (self.step - self.start_step) / max(1e-9, time.perf_counter() - self.t0))

    def stop_requested(self) -> bool:
        """Pause here while paused; True when the run should stop (under DDP the ranks
        agree every few steps)."""
        if self.dist.enabled:
            return ((self.step - self.start_step) % DDP_AGREE_EVERY == 0
                    and D.any_rank(self.control.stop_requested, self.dist, self.device))
        if self.control.paused:
            self.control.wait_if_paused()
        return self.control.stop_requested

    # ------------------------------------------------------------------ the loop
    def run(self) -> Generator[Snapshot, dict | None, TrainResult]:
        oom: str | None = None
        try:
            yield from self._first_look()
            while self.step < self.total:
                if self.stop_requested():
                    self.stopped = True
                    break
                self.events += self.apply(self.control.take_changes())
                ids = self.batch_ids_at(self.step)
                self.train_step(ids)
                if self.step % self.config.snapshot_every == 0 or self.step >= self.total:
                    yield from self._snapshot_point(ids)
                elif self.step % self.config.checkpoint_every == 0:
                    self.save_checkpoint()  # checks the losses and the weights first
            if self.stopped and self.main:
                # Stop: no further step. A light snapshot (no probe re-encoding) and a checkpoint.
                snap = self.snapshot(None, with_views=False, with_probe=False, stopped=True)
                if not self.pending_losses:
                    snap.step_losses = None  # nothing new: no .npz (the step's own snapshot stays)
                self.save_checkpoint()
                self.save_model()
                if self.writer:
                    self.writer.append(snap)
                yield snap
            elif self.main and self.step >= self.total and not self.model_saved:
                self.save_model()  # resumed from the last step's checkpoint: the model was not written yet
        except torch.cuda.OutOfMemoryError as e:
            oom = str(e).strip().splitlines()[0] if str(e).strip() else "out of memory"
        finally:
            if self.writer:
                self.writer.close()
        if oom is not None:  # outside the except block, so the failed step's tensors (held by the traceback) are freed
            raise self._out_of_memory()
        model_dir = str(Path(self.config.output_dir) / "model") if self.config.output_dir else None
        last_loss = float(self.last_loss) if self.last_loss is not None else math.nan
        return TrainResult(self.step, self.stopped, self.config.output_dir, model_dir, last_loss)

    def _first_look(self) -> Generator[Snapshot, dict | None, None]:
        """The starting model on its first batch, no update (main rank: a snapshot)."""
        ids0 = self.batch_ids_at(self.step)
        self.control.status(f"step 0: the starting model on its first batch and the probe set "
                            f"({len(self.probe.ids):,} sentences)")
        self.stepper.temperature, self.stepper.fn_policy = self.temperature, self.fn_policy
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            l0 = self.stepper.look(ids0)
        self.stepper.n_masked = 0
        if not self.main:
            self.events = list(self.setup_events)
            return
        self.pending_losses, self.events = [(self.step, l0.detach())], self.setup_events
        try:
            first = self.snapshot(ids0, with_views=True, with_probe=True, evaluate=True)
        except TrainingError as e:
            if self.checkpoint is None:
                raise
            raise TrainingError("checkpoint {checkpoint}: {problem} (it was saved diverged); resume from an earlier one",
                                checkpoint=str(self.checkpoint), problem=diverged_at(e)) from None
        self.last_eval = self.step
        first.probe_texts, first.probe_columns = self.probe.texts, self.probe.columns
        losses, events = self.carried
        self.pending_losses = list(losses)
        if self.writer and not self.writer.kept_records:  # a resumed folder has its record of this step already
            self.writer.append(first)
        self.events = events + self.take_changes((yield first))

    def _snapshot_point(self, ids: np.ndarray) -> Generator[Snapshot, dict | None, None]:
        """Every ``snapshot_every`` steps and at the end: snapshot, checkpoint, yield."""
        last = self.step >= self.total
        if not self.main:  # the same (global) losses on every rank: all stop together on NaN
            self.check_finite(self.pending_losses)
            self.pending_losses, self.events = [], []
            return
        do_eval = self.eval_pairs is not None and (last or self.step - self.last_eval >= self.config.eval_every)
        snap = self.snapshot(ids, with_views=True, with_probe=True, done=last, evaluate=do_eval)
        if do_eval:
            self.last_eval = self.step
        self.pending_losses, self.events = [], []
        if self.writer:  # the record first: every step up to a checkpoint's has its record
            self.writer.append(snap)
        if self.step % self.config.checkpoint_every == 0 or last:
            self.save_checkpoint(probed=True)
        if last:
            self.save_model()
        self.events = self.take_changes((yield snap))

    def _out_of_memory(self) -> TrainingError:
        """Free what the failed step held, then probe for a batch that fits."""
        self.stepper.last_views = None
        self.optimizer.zero_grad(set_to_none=True)
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        return TrainingError(oom_advice(self.stepper, self.batch, self.stepper.width(self.config.max_seq_length)))


def error_reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


__all__ = ["TrainLoop", "TrainResult", "linear_schedule"]
