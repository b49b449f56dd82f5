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
    assert len(m.snapshots) == 0 and len(m.series["loss"]) == 0 and seen[-1] is None


def test_live_run_keeps_a_bounded_number_of_probe_matrices(tmp_path):
    """More snapshots than the bound: at most N probe matrices (and batches) stay in
    memory; an old one reads back from the run folder equal to its float16 original."""
    from app.state import run_model as rm
    from simcse_core.runs import RunWriter

    rng = np.random.default_rng(0)
    writer = RunWriter(tmp_path, {"probe_size": 50})
    m = RunModel(memory_snapshots=4)
    m.clear(run_dir=str(tmp_path))
    originals, batches = {}, {}
    for step in range(12):
        emb = rng.standard_normal((50, 16)).astype(np.float32)
        sim = rng.uniform(-1, 1, (8, 8)).astype(np.float32)
        snap = _snap(step)
        snap.probe_ids = np.arange(50)
        snap.probe_embeddings, snap.batch_sim, snap.batch_ids = emb, sim, np.arange(8) + step
        writer.append(snap)  # the trainer writes the arrays before the snapshot reaches the studio
        originals[step], batches[step] = emb.astype(np.float16), sim.astype(np.float16)
        m.add(snap)
        assert m.resident_count() <= 4
    writer.close()
    assert m.resident_count() == 4 and m.probe_bytes() == 4 * 50 * 16 * 2
    assert sorted(m.lazy_probe) == list(range(8)) and m.probe_indices() == list(range(12))
    assert all(s.batch_sim is None for s in m.snapshots[:8]) and m.snapshots[-1].batch_sim is not None
    for i in (0, 5, 11):
        X = m.probe_matrix(i)
        assert X.dtype == np.float32
        np.testing.assert_array_equal(X, originals[i].astype(np.float32))
    sim, ids = m.batch_arrays(2)
    np.testing.assert_array_equal(sim, batches[2].astype(np.float32))
    np.testing.assert_array_equal(ids, np.arange(8) + 2)
    assert len(m.series["loss"]) == 12 and len(m.step_loss) == 12  # scalars all kept
    # a snapshot not on disk (no run folder) keeps its arrays
    m2 = RunModel(memory_snapshots=2)
    for step in range(5):
        snap = _snap(step)
        snap.probe_embeddings = np.ones((3, 4), dtype=np.float32)
        m2.add(snap)
    assert m2.resident_count() == 5 and not m2.lazy_probe
    # the folder removed: an old snapshot cannot come back, and says so with None
    import shutil
    shutil.rmtree(tmp_path / "snapshots")
    assert m.probe_matrix(1) is None and m.batch_arrays(1) == (None, None)
    assert rm.MEMORY_SNAPSHOTS >= 8


def test_probe_indices_follow_new_snapshots_loaders_and_clears():
    """probe_indices() is kept incrementally (it is asked for every snapshot): it must equal
    a full scan after appends, after loaders arrive for snapshots seen without a probe (a
    followed run), after trimming to disk, and after a clear."""
    import numpy as np

    from app.state.run_model import RunModel
    from simcse_core.snapshot import Snapshot

    def snap(step, probe):
        return Snapshot(step=step, total_steps=100, epoch=0.0, loss=1.0, temperature=0.05, lr=1e-4,
                        probe_ids=np.arange(4) if probe else None,
                        probe_embeddings=np.ones((4, 3), np.float32) if probe else None)

    def full_scan(m):
        return [i for i in range(len(m.snapshots)) if m.has_probe(i)]

    m = RunModel()
    for k in range(6):
        m.add(snap(k, probe=k % 2 == 0))
        assert m.probe_indices() == full_scan(m) == [i for i in range(k + 1) if i % 2 == 0]
    m.lazy_probe[3] = lambda: np.ones((4, 3), np.float32)  # snapshot 3's probe arrives from its file
    assert m.probe_indices() == full_scan(m) == [0, 2, 3, 4]
    m.clear()
    assert m.probe_indices() == []
    m.add(snap(7, probe=True))
    assert m.probe_indices() == [0]


def test_snapshot_scalars_live_in_one_table_and_read_as_before(tmp_path):
    """A long run keeps no dict per snapshot: each snapshot's scalars become a row of the
    model's table; reading them (get, in, attributes, dict, the JSON record) is unchanged,
    keys that appear later are absent from earlier rows, and NaN stays NaN (present)."""
    m = RunModel()
    given = [dict(chance_loss=math.log(8), alignment=0.2), dict(alignment=float("nan"), sts_spearman=80.0),
             dict(uniformity=-2.0)]
    for i, sc in enumerate(given):
        m.add(_snap(i, **sc))
    for snap, sc in zip(m.snapshots, given):
        assert type(snap.scalars) is not dict
        got = dict(snap.scalars)
        assert got.keys() == sc.keys()
        for k, v in sc.items():
            assert (math.isnan(got[k]) and math.isnan(v)) or got[k] == v
        assert "uniformity" in snap.scalars or "uniformity" not in sc
        assert snap.scalars.get("never") is None
    assert m.snapshots[0].alignment == 0.2 and m.snapshots[2].uniformity == -2.0
    assert "sts_spearman" not in m.snapshots[0].scalars  # a column added later is absent before
    rec = m.snapshots[1].record()
    assert rec["sts_spearman"] == 80.0 and rec["alignment"] is None  # NaN -> null, as from a dict
    # many rows: the table grows, earlier rows keep their values
    for i in range(3, 600):
        m.add(_snap(i, alignment=i / 1000.0))
    assert m.snapshots[300].alignment == 0.3 and m.snapshots[0].alignment == 0.2
    m.clear()
    m.add(_snap(0, top1_acc=0.5))
    assert dict(m.snapshots[0].scalars) == {"top1_acc": 0.5}


def test_old_snapshots_keep_a_small_loader_that_reads_their_probe_back(tmp_path):
    from app.state.run_model import ProbeOnDisk, snapshot_file

    run = tmp_path / "run"
    m = RunModel(memory_snapshots=2)
    m.clear(run_dir=str(run))
    embs = []
    for i in range(5):
        e = np.random.default_rng(i).standard_normal((6, 4)).astype(np.float32)
        embs.append(e)
        path = snapshot_file(run, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, probe_embeddings=e)
        m.add(Snapshot(step=i, total_steps=5, epoch=0.0, loss=1.0, temperature=0.05, lr=1e-5,
                       probe_ids=np.arange(6), probe_embeddings=e))
    assert m.resident_count() == 2 and sorted(m.lazy_probe) == [0, 1, 2]
    assert all(type(f) is ProbeOnDisk for f in m.lazy_probe.values())
    for i in range(5):
        np.testing.assert_allclose(m.probe_matrix(i), embs[i], atol=2e-3)  # float16 in memory


def test_old_snapshots_are_rows_not_objects_and_read_back_the_same(tmp_path):
    """Beyond the newest `keep`, a snapshot whose arrays are on disk is kept as a row of
    numbers and rebuilt when read: its step, loss, temperature, lr, flags and scalars
    equal what was added, its probe and batch come back from the run folder, and the
    history reads as a list (negative indices, slices, reversed). A snapshot that is not
    on disk stays an object with its arrays. The memory a snapshot leaves is measured."""
    import tracemalloc

    from simcse_core.runs import RunWriter

    rng = np.random.default_rng(1)
    writer = RunWriter(tmp_path, {"probe_size": 20})
    m = RunModel(memory_snapshots=2)
    m.clear(run_dir=str(tmp_path))
    m.snapshots.keep = 4
    given, probes = [], {}
    for step in range(0, 40, 2):
        snap = _snap(step, alignment=step / 100.0, uniformity=-step / 10.0, loss=3.0 - step / 20.0)
        snap.temperature, snap.lr, snap.stopped = 0.05 + step / 1000.0, 1e-4 * (step + 1), step == 20
        snap.probe_ids = np.arange(20)
        snap.probe_embeddings = rng.standard_normal((20, 8)).astype(np.float32)
        snap.batch_sim, snap.batch_ids = rng.uniform(-1, 1, (4, 4)).astype(np.float32), np.arange(4) + step
        writer.append(snap)
        probes[step] = snap.probe_embeddings.astype(np.float16)
        given.append((step, snap.loss, snap.temperature, snap.lr, snap.stopped))
        m.add(snap)
    writer.close()
    h = m.snapshots
    assert len(h) == 20 and h.object_count() == 4  # the newest four stay objects
    assert h[0] is not h[0]  # an old one is rebuilt on each read
    assert h[-1] is h[19] and h[-1].probe_embeddings is not None
    for i, (step, loss, temp, lr, stopped) in enumerate(given):
        s = h[i]
        assert (s.step, s.loss, s.temperature, s.lr, s.stopped) == (step, loss, temp, lr, stopped)
        assert s.alignment == step / 100.0 and s.uniformity == -step / 10.0
        assert s.total_steps == 10 and s.probe_ids is m.probe_ids or i >= 16
    assert [s.step for s in h[2:5]] == [4, 6, 8] and [s.step for s in reversed(h)][:2] == [38, 36]
    assert h.steps([0, 19, 3]).tolist() == [0, 38, 6] and h.steps().tolist() == list(range(0, 40, 2))
    assert m.probe_indices() == list(range(20)) and m.resident_count() == 2
    np.testing.assert_array_equal(m.probe_matrix(3), probes[6].astype(np.float32))
    sim, ids = m.batch_arrays(1)
    assert sim.shape == (4, 4) and list(ids) == [2, 3, 4, 5]
    assert len(m.step_loss) == 20 and len(m.series["alignment"]) == 20  # every point kept
    # not on disk: stays an object with its arrays
    m2 = RunModel(memory_snapshots=1)
    m2.snapshots.keep = 2
    for step in range(6):
        snap = _snap(step)
        snap.probe_embeddings = np.ones((3, 4), dtype=np.float32)
        m2.add(snap)
    assert m2.snapshots.object_count() == 6 and m2.resident_count() == 6
    # what a snapshot of 20 scalars costs in memory (its table row, series points, history
    # row; measured here: about 410 B as a row, about 960 B kept as an object)
    big = RunModel(memory_snapshots=1)
    big.clear(run_dir=str(tmp_path))
    big.snapshots.keep = 8
    big.add(_snap(0, **{f"k{j}": 0.5 for j in range(20)}))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for step in range(1, 4001):
        big.add(_snap(step, **{f"k{j}": 0.5 for j in range(20)}))
    per = (tracemalloc.get_traced_memory()[0] - before) / 4000
    tracemalloc.stop()
    assert big.snapshots.object_count() <= 8 + 1
    assert per < 600, per


def test_series_keep_float32_points_with_exact_steps():
    """A long run keeps every point of about 20 series: float32 halves them, and steps stay
    exact up to 2**24 (16.7 million)."""
    s = Series()
    s.extend(np.array([0, 2**24 - 1, 2**24]), np.array([0.1, 3.25, -2.0]))
    assert s.x.dtype == np.float32 and s.y.dtype == np.float32
    assert s.x.tolist() == [0, 2**24 - 1, 2**24]
    assert abs(float(s.y[0]) - 0.1) < 1e-8 and s.last == (float(2**24), -2.0)
    assert s._x.nbytes + s._y.nbytes == 2 * 4 * s.capacity
