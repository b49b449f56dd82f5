"""Checkpoints of a run: where to resume from, what a checkpoint restores, and writing
one (model, optimizer, schedule, RNG and the live-changed state)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..config import TrainConfig
from ..errors import ConfigError, TrainingError
from ..model import SentenceEncoder, load_model
from ..runs import RunWriter, checkpoint_what, latest_checkpoint


def resolve_checkpoint(config: TrainConfig) -> Path:
    """The checkpoint folder ``resume_from_checkpoint`` names ("latest": the newest
    complete one in ``output_dir``)."""
    spec = config.resume_from_checkpoint
    if spec in ("latest", "true", "True", "1"):
        if not config.output_dir:
            raise ConfigError("config field 'resume_from_checkpoint': 'latest' needs output_dir")
        ck = latest_checkpoint(config.output_dir)
        if ck is None:
            raise ConfigError("config field 'resume_from_checkpoint': no complete checkpoint in {folder}/checkpoints",
                              folder=config.output_dir)
        return ck
    p = Path(str(spec))
    if not (p / "state.json").is_file():
        raise ConfigError("config field 'resume_from_checkpoint': {folder} is not a checkpoint folder (no state.json)",
                          folder=str(p))
    return p


def read_checkpoint_state(checkpoint: Path, encoder: SentenceEncoder, config: TrainConfig) -> dict[str, Any]:
    """Load the checkpoint's weights into ``encoder`` and return its state.json (step,
    temperature, fn_pairs, fn_policy, lr_scale, total_steps)."""
    state = json.loads((checkpoint / "state.json").read_text(encoding="utf-8"))
    resumed = load_model(str(checkpoint / "model"), encoder.pooler_type, config.mlp_only_train, config.dropout,
                         config.max_seq_length, False, config.seed)
    bad = non_finite_parameter(resumed)
    if bad:
        raise TrainingError("checkpoint {checkpoint}: its weights are not finite ({parameter}); resume from an earlier "
                            "checkpoint", checkpoint=str(checkpoint), parameter=bad)
    encoder.load_state_dict(resumed.state_dict())
    del resumed
    return state


def non_finite_parameter(module: torch.nn.Module) -> str | None:
    """The name of the first parameter holding a NaN or an infinity, or None."""
    for name, p in module.named_parameters():
        if not bool(torch.isfinite(p.detach()).all()):
            return name
    return None


def write_checkpoint(writer: RunWriter, step: int, encoder: SentenceEncoder, optimizer: torch.optim.Optimizer,
                     scheduler: Any, config: TrainConfig, device: torch.device, state: dict[str, Any]) -> None:
    """Write checkpoint ``step`` atomically (a temporary folder, then committed)."""
    tmp = writer.new_checkpoint_dir(step)
    with writer.guard(checkpoint_what(step), writer.ckpt_dir, cleanup=tmp):
        encoder.save(tmp / "model", training_args=config.to_dict())
        ts = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng_cpu": torch.get_rng_state()}
        if device.type == "cuda":
            ts["rng_cuda"] = [torch.cuda.get_rng_state(device)]
        torch.save(ts, tmp / "trainer_state.pt")
        (tmp / "state.json").write_text(json.dumps({"step": step, **state}, indent=2) + "\n", encoding="utf-8")
    writer.commit_checkpoint(tmp, step, config.keep_checkpoints)


__all__ = ["non_finite_parameter", "read_checkpoint_state", "resolve_checkpoint", "write_checkpoint"]
