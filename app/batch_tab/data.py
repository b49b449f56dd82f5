"""What the batch view shows, as data (no Qt): the job a snapshot's batch becomes, the
work done on it in a worker, and the numbers the tab draws.

:func:`capture` runs on the GUI thread: it picks the snapshot (the shown one, or the
newest before it that has a batch) and takes its arrays if they are in memory, else
the paths of the run folder's snapshot files to read. :func:`compute` runs in a worker
on that plain data only: it reads what is on disk, builds the
:class:`~simcse_core.batch_matrix.BatchMatrix` of every layout the arrays allow, and the
sentence orders. A run folder written before the snapshot carried the views has only
the N x N cosines (``batch_sim``): the reference layout is drawn from them and the 2N
layout is not available (:attr:`BatchShown.note` says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simcse_core.batch_matrix import BatchMatrix, batch_matrix, cluster_order, cosine_batch_matrix, loss_settings
from simcse_core.snapshot import BATCH_VIEW_KEYS

from app.i18n import N_, tr
from app.state.run_model import load_npz_members, snapshot_file

LOOKBACK = 8  # snapshots tried backwards for one with a batch (a stop snapshot has none)
BATCH_KEYS = ("batch_ids", "batch_sim", *BATCH_VIEW_KEYS)
ORDERS = ("position", "cluster")
OLD_RUN_NOTE = (N_("this run folder's snapshots carry only the N x N cosines (written before the batch view): "
                "the 2N x 2N layout needs a newer run"))


@dataclass
class Candidate:
    """One snapshot the job may show: its index, step, temperature, the loss the trainer
    reported for its last batch, and its batch arrays (in memory) or their file."""

    index: int
    step: int
    temperature: float
    reported_loss: float
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    path: Path | None = None


@dataclass
class BatchJob:
    """What the worker gets: candidates newest first, the run's loss settings."""

    request: int
    candidates: list[Candidate]
    trained_layout: str = "simcse"
    hard_negative_weight: float = 0.0
    tau_plus: float = 0.0
    loss_variant: str = "simcse"


@dataclass
class BatchShown:
    """One snapshot's batch, ready to draw: ``matrices`` by layout (``"simcse"`` always,
    ``"ntxent"`` when the snapshot carries both views), ``orders`` (N,) sentence orders
    by name (:data:`ORDERS`), the batch's corpus ``ids`` (N,), the run's temperature t
    and the loss the trainer reported for this batch."""

    request: int
    index: int
    step: int
    temperature: float
    reported_loss: float
    ids: np.ndarray
    matrices: dict[str, BatchMatrix]
    orders: dict[str, np.ndarray]
    trained_layout: str
    loss_variant: str
    tau_plus: float = 0.0
    note: str = ""

    @property
    def n(self) -> int:
        return int(len(self.ids))


def reported_loss(snap: Any) -> float:
    """The loss the trainer reported for a snapshot's last batch: the last row of its
    step losses (the step whose batch the snapshot carries), else ``loss_last``."""
    sl = snap.step_losses
    if sl is not None and len(sl):
        row = np.asarray(sl, dtype=np.float64).reshape(-1, 2)[-1]
        if int(row[0]) == int(snap.step):
            return float(row[1])
    v = snap.scalars.get("loss_last") if snap.scalars else None
    return math.nan if v is None else float(v)


def capture(model: Any, index: int, request: int) -> BatchJob | None:
    """The job for snapshot ``index`` (-1: the newest) of run model ``model``, on the GUI
    thread: arrays taken from memory (references, not copies), files only named."""
    snaps = model.snapshots
    if not snaps:
        return None
    i = index if 0 <= index < len(snaps) else len(snaps) - 1
    layout, hw, tau_plus = loss_settings(model.config or {})
    job = BatchJob(request, [], layout, hw, tau_plus, str((model.config or {}).get("loss_variant") or "simcse"))
    for j in range(i, max(-1, i - LOOKBACK - 1), -1):
        snap = snaps[j]
        cand = Candidate(j, int(snap.step), float(snap.temperature), reported_loss(snap))
        if snap.batch_sim is not None and snap.batch_ids is not None:
            cand.arrays = {k: getattr(snap, k) for k in BATCH_KEYS if getattr(snap, k) is not None}
        elif model.run_dir:
            cand.path = snapshot_file(model.run_dir, snap.step)
        else:
            continue
        job.candidates.append(cand)
        if cand.arrays:
            break  # in memory: nothing older is needed
    return job


def compute(job: BatchJob) -> BatchShown | None:
    """In a worker: the first candidate with a batch, as a :class:`BatchShown`."""
    for cand in job.candidates:
        arrays = cand.arrays or (load_npz_members(cand.path, BATCH_KEYS) if cand.path is not None else {})
        if "batch_sim" in arrays and "batch_ids" in arrays:
            return build(job, cand, arrays)
    return None


def build(job: BatchJob, cand: Candidate, arrays: dict[str, np.ndarray]) -> BatchShown:
    """The matrices and orders of one snapshot's batch arrays."""
    t = cand.temperature
    fn = arrays.get("batch_fn")
    ids = np.asarray(arrays["batch_ids"], dtype=np.int64)
    z1, z2 = arrays.get("batch_z1"), arrays.get("batch_z2")
    matrices: dict[str, BatchMatrix] = {}
    note = ""
    if z1 is not None and z2 is not None:
        for layout in ("simcse", "ntxent"):
            matrices[layout] = batch_matrix(z1, z2, t, layout, fn_marks=fn, hard=arrays.get("batch_hard"),
                                            hard_negative_weight=job.hard_negative_weight)
        cluster = cluster_order(z1, z2)
    else:
        sim = np.asarray(arrays["batch_sim"], dtype=np.float32)  # (N, N) cos(z1_i, z2_j)
        matrices["simcse"] = cosine_batch_matrix(sim, t, fn)
        cluster = cluster_order(sim, sim.T)  # the rows of cosines as the sentences' features
        note = tr(OLD_RUN_NOTE)
    orders = {"position": np.arange(len(ids)), "cluster": cluster}
    return BatchShown(job.request, cand.index, cand.step, t, cand.reported_loss, ids, matrices, orders,
                      job.trained_layout, job.loss_variant, job.tau_plus, note)


__all__ = ["BATCH_KEYS", "LOOKBACK", "OLD_RUN_NOTE", "ORDERS", "BatchJob", "BatchShown", "Candidate", "build",
           "capture", "compute", "reported_loss"]
