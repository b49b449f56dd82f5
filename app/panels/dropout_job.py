"""The dropout-view panel's work, without Qt: which saved weights stand for the shown
step, and one job that draws a sentence's dropout views with them.

The studio never hands the live training model across threads. The views are drawn
with weights read from disk, in the job's thread: the starting model (step 0), a
checkpoint of the run, or its final model. :func:`weights_for_step` picks the newest of
them at or before the shown step and says which it is (``Weights.label``), so the panel
can tell the person exactly which weights it used. A loaded model stays cached (one at
a time) so moving the sliders costs forward passes only.

:class:`DropoutRequest` is captured on the GUI thread (plain data: texts, numbers, the
snapshot's probe embeddings or a loader of them); :func:`run_dropout_job` answers it
with a :class:`DropoutResult`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simcse_core.dropout_views import DropoutViewer, DropoutViews, nearest_other, polar_projection

from app.i18n import tr

_LOCK = threading.Lock()  # one job at a time holds the cached model
_VIEWER: dict[Any, DropoutViewer] = {}  # key -> the loaded model's viewer (at most one)


@dataclass(frozen=True)
class Weights:
    """Saved weights to draw views with: ``spec`` and ``kw`` for
    :func:`simcse_core.model.load_model`, the step they are from, and a label."""

    spec: str
    kw: dict[str, Any]
    step: int
    label: str

    @property
    def key(self) -> tuple[Any, ...]:
        path = Path(self.spec)
        stamp = (path / "modules.json").stat().st_mtime_ns if (path / "modules.json").is_file() else 0
        return self.spec, tuple(sorted(self.kw.items())), stamp


def saved_steps(run_dir: str | None, final_step: int | None) -> list[tuple[int, Path, str]]:
    """(step, model folder, what) of every model the run folder holds: its complete
    checkpoints and, when ``final_step`` is given (the run finished), its final model."""
    out: list[tuple[int, Path, str]] = []
    if not run_dir:
        return out
    root = Path(run_dir)
    for ck in sorted((root / "checkpoints").glob("step_*")):
        parts = ck.name.split("_")
        if ck.name.endswith(".tmp") or len(parts) != 2 or not parts[1].isdigit():
            continue
        if (ck / "state.json").is_file() and (ck / "model" / "modules.json").is_file():
            out.append((int(parts[1]), ck / "model", tr("checkpoint")))
    if final_step is not None and (root / "model" / "modules.json").is_file():
        out.append((int(final_step), root / "model", tr("final model")))
    return out


def weights_for_step(config: dict[str, Any], run_dir: str | None, step: int, final_step: int | None = None) -> Weights:
    """The newest weights saved at or before ``step``: the run's checkpoint of that step
    or its final model (``final_step``: the last step of a finished run, else None),
    else an earlier checkpoint, else the starting model (which is step 0's exactly)."""
    cfg = config or {}
    length = int(cfg.get("max_seq_length", 32))
    best: tuple[int, Path, str] | None = None
    for saved in saved_steps(run_dir, final_step):
        if saved[0] <= step and (best is None or saved[0] >= best[0]):
            best = saved
    if best is not None and best[0] > 0:
        at, folder, what = best
        kw = {"pooler_type": "auto", "mlp_only_train": bool(cfg.get("mlp_only_train", False)), "max_seq_length": length}
        exact = "" if at == step else tr(", the newest saved at or before the shown step {step}").format(step=step)
        return Weights(str(folder), kw, at, tr("weights of step {step} ({what})").format(step=at, what=what + exact))
    kw = {"pooler_type": cfg.get("pooler_type", "auto"), "mlp_only_train": bool(cfg.get("mlp_only_train", False)),
          "max_seq_length": length, "seed": int(cfg.get("seed", 42))}
    spec = str(cfg.get("model_name_or_path", "default"))
    exact = "" if step == 0 else tr("; no weights saved at or before the shown step {step}").format(step=step)
    return Weights(spec, kw, 0, tr("weights of step 0 (the starting model {spec})").format(spec=spec + exact))


@dataclass(frozen=True)
class DropoutRequest:
    """One dropout-view job, captured on the GUI thread."""

    serial: int  # the panel's request number: the newest wins
    text: str
    probe_row: int | None  # the sentence's row in the probe set, if it is in it
    k: int
    p: float
    same_mask: bool
    seed: int
    step: int  # the shown step
    config: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None
    final_step: int | None = None
    probe: Any = None  # (P, D) probe embeddings of the shown snapshot, or a loader of them, or None


@dataclass(frozen=True)
class DropoutResult:
    """What the panel draws: the views, their 2-D positions (views, then the nearest
    other sentence when known), the nearest other sentence at the shown step, and the
    weights used."""

    serial: int
    views: DropoutViews
    xy: np.ndarray  # (K, 2), or (K + 1, 2) with the nearest other sentence last
    nearest_row: int  # probe row of the nearest other sentence, -1 when unknown
    nearest_cos: float  # its cosine to the sentence at the shown step (the snapshot's embeddings)
    centre_vs_snapshot: float  # cosine between the views' centre and the snapshot's embedding
    weights: Weights


def load_viewer(weights: Weights) -> DropoutViewer:
    """A viewer of ``weights``, loaded once (the previous model is dropped)."""
    from simcse_core.model import load_model

    key = weights.key
    viewer = _VIEWER.get(key)
    if viewer is None:
        _VIEWER.clear()
        viewer = DropoutViewer(load_model(weights.spec, **weights.kw))
        _VIEWER[key] = viewer
    return viewer


def _probe_matrix(probe: Any) -> np.ndarray | None:
    e = probe() if callable(probe) else probe
    return None if e is None else np.asarray(e, dtype=np.float32)


def run_dropout_job(req: DropoutRequest) -> DropoutResult:
    """Draw the request's views (worker thread)."""
    with _LOCK:
        weights = weights_for_step(req.config, req.run_dir, req.step, req.final_step)
        views = load_viewer(weights).views(req.text, k=req.k, p=req.p, same_mask=req.same_mask, seed=req.seed)
    emb = _probe_matrix(req.probe) if req.probe_row is not None else None
    row, cos, agree, extra = -1, float("nan"), float("nan"), None
    if emb is not None and req.probe_row is not None and 0 <= req.probe_row < emb.shape[0]:
        row, cos = nearest_other(emb, req.probe_row)
        own = emb[req.probe_row] / max(float(np.linalg.norm(emb[req.probe_row])), 1e-12)
        agree = float(own @ views.centre)
        if row >= 0:
            extra = (emb[row] / max(float(np.linalg.norm(emb[row])), 1e-12))[None, :]
    xy = polar_projection(views.views, views.centre, extra)
    if extra is not None:  # at its angle at the shown step (the weights may be of another step)
        r = float(np.linalg.norm(xy[-1]))
        xy[-1] = (xy[-1] / r if r > 1e-12 else np.array([1.0, 0.0])) * float(np.arccos(np.clip(cos, -1.0, 1.0)))
    return DropoutResult(req.serial, views, xy, row, cos, agree, weights)


__all__ = ["DropoutRequest", "DropoutResult", "Weights", "load_viewer", "run_dropout_job", "saved_steps",
           "weights_for_step"]
