"""What the trainer hands out: plain data only (float32 numpy, Python scalars).

A :class:`Snapshot` crosses threads (trainer worker -> studio) and processes (a
headless ``simcse train`` writing a run folder -> a studio following it), so it never
holds a tensor or a model. Its scalar part is one line of ``metrics.jsonl``; its
arrays are one ``snapshots/step_XXXXXXX.npz``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .metric_specs import scalar_keys

# Scalars a snapshot may carry; every one is also a key of a metrics.jsonl record. The
# list, with what each means and where the studio shows it, is simcse_core.metric_specs.
SCALAR_KEYS = scalar_keys()
# The arrays a snapshot may carry (each one member of its .npz).
ARRAY_KEYS = ("probe_ids", "probe_embeddings", "batch_ids", "batch_sim", "batch_z1", "batch_z2", "batch_hard",
              "batch_fn", "step_losses")
BATCH_VIEW_KEYS = ("batch_z1", "batch_z2", "batch_hard", "batch_fn")  # what the batch view adds to batch_sim


@dataclass
class Snapshot:
    """One look at the run. Arrays (``None`` where not computed):

    - ``probe_embeddings``: (P, D) float32, L2-normalised, eval-mode embeddings of the
      fixed probe set (``probe_ids`` gives their corpus ids, constant over a run).
    - ``batch_ids``: (N,) int64 corpus ids of the last batch.
    - ``batch_sim``: (N, N) float32 cosine of first view i against second view j of
      the last batch (the logits times the temperature in the ``simcse`` layout).
    - ``batch_z1``, ``batch_z2``: (N, D) float32 L2-normalised first and second views of
      the last batch (the embeddings its loss was computed from), so the batch view can
      draw either layout (:func:`~simcse_core.losses.functional.batch_logits`).
    - ``batch_hard``: (N, D) float32 L2-normalised hard negatives (supervised runs with a
      third column), else None.
    - ``batch_fn``: (N, N) int8 the false-negative policy's marks on sentence pairs of
      the last batch: 1 removed from the denominators (eliminate), 2 counted as positives
      (attract), 0 otherwise; None when the loss got no mask.
    - ``step_losses``: (k, 2) float32 rows of (step, loss) since the previous snapshot;
      the last row is the loss of the last batch (the one the batch arrays describe).

    Scalars beyond the first six live in ``scalars`` (keys from :data:`SCALAR_KEYS`) and
    read as attributes too: ``snap.alignment``.
    """

    step: int
    total_steps: int
    epoch: float
    loss: float
    temperature: float
    lr: float
    scalars: dict[str, float] = field(default_factory=dict)
    probe_ids: np.ndarray | None = None
    probe_embeddings: np.ndarray | None = None
    batch_ids: np.ndarray | None = None
    batch_sim: np.ndarray | None = None
    batch_z1: np.ndarray | None = None
    batch_z2: np.ndarray | None = None
    batch_hard: np.ndarray | None = None
    batch_fn: np.ndarray | None = None
    step_losses: np.ndarray | None = None
    probe_texts: list[str] | None = None  # set on the first snapshot of a run (or resume)
    probe_columns: dict[str, list[str]] | None = None  # their label columns (topic, group...)
    done: bool = False
    stopped: bool = False  # True when the caller asked the run to stop
    device: str = "cpu"
    events: list[dict[str, Any]] = field(default_factory=list)  # e.g. temperature changes

    def __getattr__(self, name: str) -> Any:
        # snapshot.alignment etc. read from scalars (only called for missing attributes)
        scalars = self.__dict__.get("scalars", {})
        if name in scalars:
            return scalars[name]
        raise AttributeError(name)

    def record(self) -> dict[str, Any]:
        """The JSON-able metrics.jsonl line: every scalar (NaN -> None)."""
        out: dict[str, Any] = {
            "step": int(self.step),
            "total_steps": int(self.total_steps),
            "epoch": float(self.epoch),
            "loss": _clean(self.loss),
            "temperature": float(self.temperature),
            "lr": float(self.lr),
        }
        for k, v in self.scalars.items():
            out[k] = _clean(v)
        if self.done:
            out["done"] = True
        if self.stopped:
            out["stopped"] = True
        if self.events:
            out["events"] = self.events
        out["device"] = self.device
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays worth saving in a snapshot .npz."""
        out: dict[str, np.ndarray] = {}
        for f in ARRAY_KEYS:
            v = getattr(self, f)
            if v is not None:
                out[f] = v
        return out

    @classmethod
    def from_record(cls, rec: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> Snapshot:
        """Rebuild a snapshot from a metrics.jsonl line and (optionally) its .npz."""
        base = {"step", "total_steps", "epoch", "loss", "temperature", "lr", "done", "stopped", "events", "device"}
        scalars = {k: (math.nan if v is None else float(v)) for k, v in rec.items() if k not in base and isinstance(v, (int, float, type(None)))}
        arrays = arrays or {}
        return cls(
            step=int(rec["step"]),
            total_steps=int(rec.get("total_steps", rec["step"])),
            epoch=float(rec.get("epoch", 0.0)),
            loss=math.nan if rec.get("loss") is None else float(rec["loss"]),
            temperature=float(rec.get("temperature", math.nan)),
            lr=float(rec.get("lr", math.nan)),
            scalars=scalars,
            done=bool(rec.get("done", False)),
            stopped=bool(rec.get("stopped", False)),
            device=str(rec.get("device", "cpu")),
            events=list(rec.get("events", [])),
            **{k: arrays[k] for k in ARRAY_KEYS if k in arrays},
        )

    def replace(self, **kw: Any) -> Snapshot:
        return dataclasses.replace(self, **kw)


def _clean(v: Any) -> float | None:
    v = float(v)
    return None if not math.isfinite(v) else v
