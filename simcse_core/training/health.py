"""Divergence: whether a run is still healthy, and the one-line message when it is not.

A run diverges when a step's loss is not finite, or when the probe set encodes to
NaN (huge weights after a far too large learning rate: the loss can stay finite for a
step while alignment and uniformity are already NaN). A checkpoint is written only
after :func:`health_problem` finds finite weights and finite probe embeddings, so every
kept checkpoint resumes; the message names the last good one or says there is none.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..errors import TrainingError
from ..messages import Msg
from ..runs import RunWriter
from .checkpoints import non_finite_parameter

HEALTH_PROBE = 16  # probe sentences encoded before a checkpoint that has no snapshot


def read_losses(pending: list[tuple[int, Any]]) -> np.ndarray:
    """(k, 2) float32 (step, loss) rows; reads device losses back."""
    return np.array([[s, float(v)] for s, v in pending], dtype=np.float32).reshape(-1, 2)


def loss_problem(losses: np.ndarray) -> tuple[Msg, int] | None:
    """("the loss became nan", step) for the first non-finite loss, or None."""
    if losses.size and not np.all(np.isfinite(losses[:, 1])):
        bad = losses[~np.isfinite(losses[:, 1])][0]
        return Msg("the loss became {value}", value=bad[1]), int(bad[0])
    return None


def probe_problem(pe: np.ndarray | None, scalars: dict[str, float]) -> Msg | None:
    """What is wrong with a snapshot's probe measurements, or None."""
    bad = {k: scalars[k] for k in ("alignment", "uniformity") if k in scalars and not math.isfinite(scalars[k])}
    if bad or (pe is not None and not np.isfinite(pe).all()):
        if bad:
            return Msg("the probe embeddings became nan ({detail})", detail=", ".join(f"{k} {v}" for k, v in bad.items()))
        return Msg("the probe embeddings became nan")
    return None


def health_problem(encoder: Any, texts: list[str], device: torch.device, use_bf16: bool,
                   stepper: Any = None, next_ids: np.ndarray | None = None) -> Msg | None:
    """Before a checkpoint: non-finite weights, a few probe sentences encoding to NaN,
    or (``stepper``, ``next_ids``) a NaN loss on the next batch, which is the first
    thing a run resumed from this checkpoint computes (weights near 1e6 can encode
    finitely yet give a NaN loss on other sentences)."""
    bad = non_finite_parameter(encoder)
    if bad:
        return Msg("the weights became non-finite ({parameter})", parameter=bad)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        if texts:
            pe = encoder.encode(texts[:HEALTH_PROBE], batch_size=HEALTH_PROBE,
                                precision="bfloat16" if use_bf16 else "float32")
            if not np.isfinite(pe).all():
                return Msg("the probe embeddings became nan")
        if stepper is not None and next_ids is not None:
            kept = stepper.keep_last()
            try:
                loss = float(stepper.look(next_ids))
            finally:
                stepper.restore_last(kept)
            if not math.isfinite(loss):
                return Msg("the loss on the next batch became {value}", value=loss)
    return None


def divergence_error(what: Msg, step: int, writer: RunWriter | None) -> TrainingError:
    """The one line for a diverged run: what, when, and which checkpoint is kept. Its
    message's values hold ``what`` and ``step`` (:func:`diverged_at`)."""
    if writer is None:
        kept = Msg("No run folder is written by this process.")
    elif writer.last_checkpoint is None:
        kept = Msg("No checkpoint was kept in {folder}: the run diverged before its first good one.",
                   folder=str(writer.ckpt_dir))
    else:
        n = writer.last_checkpoint
        kept = Msg("The last good checkpoint is step {step} ({folder}); resume from it.", step=n,
                   folder=str(writer.checkpoint_path(n)))
    return TrainingError("{what} at step {step}; training stopped. {kept} Try a lower learning rate or a higher "
                         "temperature.", what=what, step=step, kept=kept)


def diverged_at(e: TrainingError) -> Msg | str:
    """"the loss became nan at step 40": what a :func:`divergence_error` says went wrong
    and when (the part of its message before the first ";")."""
    values = e.msg.values
    if "what" in values and "step" in values:
        return Msg("{what} at step {step}", what=values["what"], step=values["step"])
    return str(e).split(";")[0]


__all__ = ["divergence_error", "diverged_at", "health_problem", "loss_problem", "probe_problem", "read_losses"]
