"""The Qt-free RunModel: growing series and snapshot accumulation."""

from __future__ import annotations

import math

import numpy as np

from app.state.run_model import RunModel, Series
from simcse_core.snapshot import Snapshot


def test_series_grows_by_doubling_and_keeps_points():
    s = Series(capacity=4)
    for i in range(10):
        s.append(i, i * i)
    assert len(s) == 10 and s.capacity == 16
    np.testing.assert_array_equal(s.x, np.arange(10))
    np.testing.assert_array_equal(s.y, np.arange(10) ** 2)
    s.extend(np.arange(10, 40), np.zeros(30))
    assert len(s) == 40 and s.capacity == 64
    assert s.last == (39.0, 0.0)
    s.clear()
    assert len(s) == 0 and s.last is None


def _snap(step: int, **scalars) -> Snapshot:
    return Snapshot(step=step, total_steps=10, epoch=0.0, loss=scalars.pop("loss", 1.0), temperature=0.05, lr=3e-5,
                    scalars=scalars, step_losses=np.array([[step, 1.5]], dtype=np.float32))


def test_run_model_accumulates_every_snapshot():
    m = RunModel()
    seen = []
    m.subscribe(seen.append)
    m.add(_snap(0, chance_loss=math.log(8), alignment=0.2, uniformity=-1.0, top1_acc=0.5))
    m.add(_snap(2, chance_loss=math.log(8), sts_spearman=80.0))  # no alignment: no trajectory point
    m.add(_snap(4, alignment=0.1, uniformity=-2.0, top1_acc=float("nan")))
    assert [s.step for s in m.snapshots] == [0, 2, 4] and len(seen) == 3
    np.testing.assert_array_equal(m.series["loss"].x, [0, 2, 4])
    np.testing.assert_array_equal(m.series["top1_acc"].x, [0])  # NaN skipped
    np.testing.assert_array_equal(m.series["sts_spearman"].y, [80.0])
    np.testing.assert_array_equal(m.trajectory.x, [-1.0, -2.0])
    np.testing.assert_array_equal(m.trajectory_steps.y, [0, 4])
    np.testing.assert_array_equal(m.step_loss.x, [0, 2, 4])
    assert math.isclose(m.chance_loss, math.log(8))
    m.clear()
    assert m.snapshots == [] and len(m.series["loss"]) == 0 and seen[-1] is None
