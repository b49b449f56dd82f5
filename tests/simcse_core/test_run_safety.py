"""Nothing lost, nothing run that was not asked for: run-folder locks, a full disk,
divergence (only finite checkpoints are kept), resume leaving no traces, Ctrl-C twice."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from simcse_core import TrainConfig, TrainControl
from simcse_core.cli import main
from simcse_core.errors import RunLockedError, StorageError, TrainingError
from simcse_core.model import load_model
from simcse_core.runs import RunReader, RunWriter, latest_checkpoint
from simcse_core.snapshot import Snapshot
from simcse_core.storage import RunLock
from simcse_core.training.checkpoints import non_finite_parameter
from simcse_core.trainer import train

ROOT = Path(__file__).resolve().parents[2]
TIMING = {"elapsed", "steps_per_sec"}


def _cfg(tiny_model, corpus, out, **kw) -> TrainConfig:
    base = dict(model_name_or_path=tiny_model, train_file=corpus, per_device_train_batch_size=8, max_steps=6,
                snapshot_every=2, probe_size=32, align_probe_size=16, checkpoint_every=2, seed=7,
                output_dir=str(out))
    base.update(kw)
    return TrainConfig(**base)


def _run(cfg, control=None):
    snaps = []
    gen = train(cfg, control)
    try:
        while True:
            snaps.append(next(gen))
    except StopIteration as e:
        return snaps, e.value


def _cli_args(tiny_model, corpus, out, *extra) -> list[str]:
    return ["train", "--model_name_or_path", tiny_model, "--train_file", corpus, "--per_device_train_batch_size", "8",
            "--probe_size", "32", "--output_dir", str(out), "--quiet", *extra]


def _leftovers(run: Path) -> list[str]:
    return sorted(p.name for p in run.rglob("*") if ".tmp" in p.name or p.name == "model.old")


# ----------------------------------------------------------------------------- locks
def test_a_second_writer_is_refused_and_a_reader_reads_the_locked_folder(tiny_model, small_corpus, tmp_path, capsys):
    run = tmp_path / "run"
    gen = train(_cfg(tiny_model, small_corpus, run, max_steps=4))
    first = next(gen)  # the run holds the folder now
    before = (run / "metrics.jsonl").read_bytes()
    with pytest.raises(RunLockedError, match=f"pid {os.getpid()} on .*started"):
        next(train(_cfg(tiny_model, small_corpus, run, max_steps=4, seed=1)))
    assert main(_cli_args(tiny_model, small_corpus, run, "--max_steps", "4")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"pid {os.getpid()}" in err and "being written by another run" in err
    assert (run / "metrics.jsonl").read_bytes() == before  # the refused runs touched nothing

    reader = RunReader(run)  # readers (--follow, the studio) need no lock
    assert [r["step"] for r in reader.poll()] == [first.step]
    rest = list(gen)
    assert [r["step"] for r in reader.poll()] == [s.step for s in rest]
    assert reader.finished()
    _run(_cfg(tiny_model, small_corpus, run, max_steps=2))  # released at the end: a new run may write


def test_a_killed_writer_does_not_block_the_next_run(tmp_path):
    folder = tmp_path / "run"
    code = ("import sys, time; from simcse_core.storage import RunLock; lock = RunLock(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(120)")
    child = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"pid {child.pid} "):
            RunLock(folder)
    finally:
        child.kill()  # SIGKILL: no clean-up ran; the kernel drops the lock
        child.wait(timeout=30)
    lock = RunLock(folder)
    assert lock.held
    lock.release()


# ------------------------------------------------------------------------- full disk
@contextmanager
def _small_disk(folder: Path, size: str):
    """A tmpfs of ``size`` at ``folder`` (root only); yields False where none can be mounted."""
    folder.mkdir(parents=True)
    mounted = False
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                 capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_disk_full_during_a_checkpoint_keeps_the_previous_one(tiny_model, small_corpus, tmp_path, monkeypatch):
    """20 MB: the step-2 checkpoint (about 12 MB) fits, step 4's does not."""
    with _small_disk(tmp_path / "disk", "20m") as mounted:
        if not mounted:  # not root: a write that fails as a full disk does
            import torch

            from simcse_core.training import checkpoints

            calls = {"n": 0}
            real_save = torch.save

            def save(obj, path, *a, **kw):
                calls["n"] += 1
                if calls["n"] == 2:
                    Path(path).write_bytes(b"partial")
                    raise OSError(errno.ENOSPC, "No space left on device")
                return real_save(obj, path, *a, **kw)

            monkeypatch.setattr(checkpoints.torch, "save", save)
        run = tmp_path / "disk" / "run"
        with pytest.raises(StorageError, match=r"^disk full while writing checkpoint step 4 in .*checkpoints; "
                                               r"the checkpoint of step 2 is intact$"):
            _run(_cfg(tiny_model, small_corpus, run))
        assert _leftovers(run) == []
        good = latest_checkpoint(run)
        assert good.name == "step_0000002" and load_model(str(good / "model")).dim == 32
        assert [r["step"] for r in RunReader(run).records()] == [0, 2, 4]


def test_disk_full_from_the_cli_is_one_line_and_exit_2(tiny_model, small_corpus, tmp_path, capsys, monkeypatch):
    with _small_disk(tmp_path / "disk", "3m") as mounted:
        if not mounted:
            from simcse_core import model as model_module

            def full(*a, **kw):
                raise OSError(errno.ENOSPC, "No space left on device")

            monkeypatch.setattr(model_module.SentenceEncoder, "save", full)
        run = tmp_path / "disk" / "run"
        assert main(_cli_args(tiny_model, small_corpus, run, "--max_steps", "4")) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("simcse train: error: disk full while writing checkpoint step 4 in ")  # the last step (checkpoint_every 250)
        assert err.endswith("no checkpoint of this run has been written yet") and "\n" not in err
        assert "Traceback" not in err and _leftovers(run) == []


def _snap(step: int) -> Snapshot:
    return Snapshot(step=step, total_steps=4, epoch=0.0, loss=1.0, temperature=0.05, lr=1e-5,
                    probe_embeddings=np.ones((4, 3), np.float32), step_losses=np.array([[step, 1.0]], np.float32))


def _enospc(*a, **kw):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_for_snapshots_metrics_and_the_model(tmp_path, monkeypatch):
    from simcse_core import runs

    run = tmp_path / "run"
    writer = RunWriter(run, {"x": 1})
    writer.append(_snap(0))
    size = (run / "metrics.jsonl").stat().st_size
    with monkeypatch.context() as m:
        m.setattr(runs.np, "savez", lambda path, **arrays: (Path(path).write_bytes(b"half"), _enospc()))
        with pytest.raises(StorageError, match=r"^disk full while writing snapshot step 2 in .*snapshots; no checkpoint"):
            writer.append(_snap(2))
    with monkeypatch.context() as m:
        m.setattr(runs.os, "write", lambda fd, data: (os.ftruncate(fd, os.fstat(fd).st_size), _enospc()))
        with pytest.raises(StorageError, match=r"^disk full while writing the metrics of step 2 in "):
            writer.append(_snap(2))
    assert (run / "metrics.jsonl").stat().st_size == size  # no torn line
    writer.last_checkpoint = 2

    def half_model(folder: Path) -> None:
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
        _enospc()

    with pytest.raises(StorageError, match=r"^disk full while writing the final model in .*; the checkpoint of step 2 is intact"):
        writer.write_model(half_model)
    writer.close()
    assert _leftovers(run) == [] and not (run / "model").exists()
    assert [r["step"] for r in RunReader(run).records()] == [0]


# --------------------------------------------------------------------------- NaN/inf
def _checkpoints(run: Path) -> list[Path]:
    return sorted(p for p in (run / "checkpoints").glob("step_*") if p.is_dir())


@pytest.mark.parametrize("kw, step", [(dict(learning_rate=1e6), 1), (dict(temp=1e-40), 0)])
def test_divergence_before_any_good_checkpoint_keeps_none_and_says_so(kw, step, tiny_model, small_corpus, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(TrainingError, match=rf"became (nan|inf).* at step {step}; .*No checkpoint was kept"):
        _run(_cfg(tiny_model, small_corpus, run, snapshot_every=1, checkpoint_every=1, **kw))
    assert _checkpoints(run) == [] and latest_checkpoint(run) is None


def test_divergence_keeps_only_finite_checkpoints_and_resuming_works(tiny_model, small_corpus, tmp_path):
    """The step that blows the weights up (to about 7e5) has a finite loss, and its
    weights even encode the probe finitely; the next batch's loss is NaN, so that
    checkpoint is not kept either."""
    run = tmp_path / "run"
    control = TrainControl()

    def on_step(step, total, sps):
        if step == 2:
            control.update(learning_rate=1e6)  # from step 3

    control.on_step = on_step
    with pytest.raises(TrainingError, match=r"became nan at step 3; .*last good checkpoint is step 2 "):
        _run(_cfg(tiny_model, small_corpus, run, max_steps=8, snapshot_every=4, checkpoint_every=1), control)
    assert [p.name for p in _checkpoints(run)] == ["step_0000001", "step_0000002"]
    for ck in _checkpoints(run):
        enc = load_model(str(ck / "model"))
        assert non_finite_parameter(enc) is None and np.isfinite(enc.encode(["still fine", "and this"])).all()
    snaps, result = _run(_cfg(tiny_model, small_corpus, run, max_steps=8, snapshot_every=4, checkpoint_every=1,
                              resume_from_checkpoint="latest"))
    assert snaps[0].step == 2 and result.steps == 8 and np.isfinite(snaps[-1].probe_embeddings).all()


# ------------------------------------------------------------------------- resume
def _folder(run: Path) -> tuple[list[dict], dict[str, dict[str, np.ndarray]]]:
    recs = [{k: v for k, v in r.items() if k not in TIMING} for r in RunReader(run).records()]
    arrays = {}
    for p in sorted((run / "snapshots").glob("*.npz")):
        with np.load(p, allow_pickle=False) as z:
            arrays[p.name] = {k: z[k] for k in z.files}
    return recs, arrays


def test_a_stopped_killed_and_resumed_run_reads_as_an_uninterrupted_one(tiny_model, small_corpus, tmp_path):
    kw = dict(max_steps=10, snapshot_every=2, checkpoint_every=3)
    _run(_cfg(tiny_model, small_corpus, tmp_path / "whole", **kw))

    run = tmp_path / "pieces"
    control = TrainControl(on_step=lambda step, total, sps: step == 5 and control.stop())
    snaps, result = _run(_cfg(tiny_model, small_corpus, run, **kw), control)  # stopped at 5, between snapshots
    assert result.stopped and result.steps == 5
    gen = train(_cfg(tiny_model, small_corpus, run, resume_from_checkpoint="latest", **kw))
    for snap in gen:
        if snap.step == 8:
            gen.close()  # killed after step 8's record; its last checkpoint is step 6
            break
    assert latest_checkpoint(run).name == "step_0000006"
    _run(_cfg(tiny_model, small_corpus, run, resume_from_checkpoint="latest", **kw))

    whole_recs, whole_arrays = _folder(tmp_path / "whole")
    recs, arrays = _folder(run)
    assert [r["step"] for r in recs] == [0, 2, 4, 6, 8, 10]  # one record a step: no repeats, no stop records
    assert len(recs) == len(whole_recs)
    for a, b in zip(recs, whole_recs):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], float):
                assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-6), (a["step"], k)
            else:
                assert a[k] == b[k], (a["step"], k)
    assert arrays.keys() == whole_arrays.keys()
    for name, got in arrays.items():
        assert got.keys() == whole_arrays[name].keys(), name
        for k, v in got.items():
            np.testing.assert_allclose(v.astype(np.float64), whole_arrays[name][k].astype(np.float64),
                                       rtol=1e-5, atol=1e-3 if v.dtype == np.float16 else 1e-6, err_msg=f"{name}:{k}")
    assert _leftovers(run) == []


# --------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_once_says_how_to_quit_and_twice_quits_at_once(tiny_model, small_corpus, tmp_path):
    run = tmp_path / "run"
    args = _cli_args(tiny_model, small_corpus, run, "--max_steps", "100000", "--snapshot_every", "20",
                     "--checkpoint_every", "20")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "simcse_core.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    said = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if "press Ctrl-C again" in line:
                said.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.time() + 120
        while not (run / "metrics.jsonl").is_file() or (run / "metrics.jsonl").stat().st_size == 0:
            assert proc.poll() is None and time.time() < deadline, "\n".join(lines)
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert said.wait(30), "\n".join(lines)
        proc.send_signal(signal.SIGINT)
        t0 = time.time()
        rc = proc.wait(timeout=30)
        quit_s = time.time() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    text = "\n".join(lines)
    assert "stopping after this step; press Ctrl-C again to quit without saving" in text
    assert rc == 130 and "quit without saving" in lines[-1] and "Traceback" not in text, text
    assert quit_s < 10
    ck = latest_checkpoint(run)  # whatever was saved is whole
    assert ck is None or json.loads((ck / "state.json").read_text())["step"] > 0
