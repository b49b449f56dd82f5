"""Run folders: what a training run leaves on disk, and how to read (or follow) one.

Layout::

    run/
      config.json            the TrainConfig
      probe.json             the fixed probe set: corpus ids, texts, label columns
      metrics.jsonl          one JSON object a snapshot, flushed as written
      snapshots/step_0000250.npz   probe embeddings (float16), last batch ids and
                                   cosine matrix, its two views (float32, normalised;
                                   batch_z1 / batch_z2, for the batch view) and
                                   false-negative marks, per-step losses
      checkpoints/step_0000250/    model/ (sentence-transformers folder),
                                   trainer_state.pt (optimizer, scheduler, RNG), state.json
      checkpoints/latest     name of the newest complete checkpoint
      model/                 the final model (sentence-transformers folder)

A headless ``simcse train`` on a GPU server writes this; the studio reads it with
:class:`RunReader` (``poll()`` returns what was appended since the last call).
Checkpoints are written to a temporary folder and renamed, so a kill mid-write leaves
the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SimCSEError
from .snapshot import Snapshot
from .messages import Msg
from .storage import NOTHING_CHANGED, RunLock, atomic_write_text, guarded_write


class RunError(SimCSEError):
    """A folder is not a readable run."""


def _atomic_write_text(path: Path, text: str, intact: Msg = NOTHING_CHANGED) -> None:
    atomic_write_text(path, text, intact)


def checkpoint_what(step: int) -> Msg:
    """"checkpoint step 40": what a failed checkpoint write names."""
    return Msg("checkpoint step {step}", step=step)


def snapshot_name(step: int) -> str:
    return f"step_{step:07d}"


def _step_of(path: Path) -> int:
    try:
        return int(path.name.split(".")[0].split("_")[1])
    except (IndexError, ValueError):
        return -1


class RunWriter:
    """Writes a run folder. Used by the trainer; not thread-shared.

    Holds the folder's :class:`~simcse_core.storage.RunLock` from construction to
    :meth:`close` (a second writer is refused before anything is touched). Every write
    goes through a temporary file or folder; a failing one (disk full) is removed and
    raises :class:`~simcse_core.errors.StorageError` saying which checkpoint is intact.
    ``last_checkpoint``: the step of the newest checkpoint this run wrote or resumed from."""

    def __init__(self, root: str | Path, config_dict: dict[str, Any], resume_step: int | None = None,
                 lock: RunLock | None = None) -> None:
        self.root = Path(root)
        self.lock = lock if lock is not None else RunLock(self.root)
        self.snap_dir = self.root / "snapshots"
        self.ckpt_dir = self.root / "checkpoints"
        self.last_checkpoint: int | None = resume_step
        self.kept_records = 0  # records already in the folder (a resumed run's, up to its checkpoint)
        self._fd: int | None = None
        try:
            self._open(config_dict, resume_step)
        except BaseException:
            self.close()
            raise

    def _open(self, config_dict: dict[str, Any], resume_step: int | None) -> None:
        try:
            self.snap_dir.mkdir(parents=True, exist_ok=True)
            self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunError("output_dir {folder}: cannot be created ({error})", folder=str(self.root),
                           error=e.strerror) from None
        self._clean_temporaries()
        _atomic_write_text(self.root / "config.json", json.dumps(config_dict, indent=2) + "\n", self.intact())
        self.metrics_path = self.root / "metrics.jsonl"
        if resume_step is not None:
            self._truncate_after(resume_step)
        elif self.metrics_path.exists():
            # a fresh run in an old folder: start the log anew, drop old snapshots
            self.metrics_path.unlink()
            for p in self.snap_dir.glob("step_*.npz"):
                p.unlink()
        self._fd = os.open(self.metrics_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _clean_temporaries(self) -> None:
        """What a killed writer left half-written (the lock says none is running now):
        temporary checkpoint folders, snapshot and text files, a half-swapped model."""
        final, tmp, old = self.root / "model", self.root / "model.tmp", self.root / "model.old"
        if old.is_dir() and not final.exists():
            os.replace(old, final)  # killed between the two renames: the previous model is back
        stale = [tmp, old, *self.ckpt_dir.glob("step_*.tmp"), *self.snap_dir.glob(".step_*.tmp.npz"),
                 *self.root.glob(".*.tmp"), *self.ckpt_dir.glob(".*.tmp")]
        for p in stale:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            elif p.exists():
                p.unlink(missing_ok=True)

    def intact(self) -> Msg:
        """What a failed write leaves intact, for its message."""
        if self.last_checkpoint is None:
            return Msg("no checkpoint of this run has been written yet")
        return Msg("the checkpoint of step {step} is intact", step=self.last_checkpoint)

    def guard(self, what: str | Msg, folder: Path, cleanup: Path | None = None) -> Any:
        """A :func:`~simcse_core.storage.guarded_write` whose message says what is intact."""
        return guarded_write(what, folder, self.intact(), cleanup)

    def _truncate_after(self, step: int) -> None:
        """On resume: forget records and snapshots past the checkpoint's step, and the
        "stopped" records (the resumed run goes on; its checkpoint holds the losses a
        stop record carried), so the folder reads as an uninterrupted run's."""
        if self.metrics_path.exists():
            keep, dropped = [], []
            for ln in self.metrics_path.read_text(encoding="utf-8").splitlines():
                rec = _parse(ln)
                if rec is None or rec["step"] > step:
                    continue
                (dropped if rec.get("stopped") else keep).append((ln, rec))
            _atomic_write_text(self.metrics_path, "".join(ln + "\n" for ln, _ in keep), self.intact())
            self.kept_records = len(keep)
            with_arrays = {int(r["step"]) for _, r in keep if r.get("has_arrays", True)}
            for _, rec in dropped:  # a stop snapshot's .npz (its step losses), unless a kept record owns it
                if int(rec["step"]) not in with_arrays:
                    (self.snap_dir / f"{snapshot_name(int(rec['step']))}.npz").unlink(missing_ok=True)
        for p in self.snap_dir.glob("step_*.npz"):
            if _step_of(p) > step:
                p.unlink()

    def write_probe(self, ids: np.ndarray, texts: list[str], columns: dict[str, list[str]]) -> None:
        _atomic_write_text(
            self.root / "probe.json",
            json.dumps({"ids": [int(i) for i in ids], "texts": texts, "columns": columns}, ensure_ascii=False) + "\n",
            self.intact(),
        )

    def append(self, snap: Snapshot) -> None:
        """Save the snapshot's arrays, then its metrics line (so a reader that sees the
        line always finds the arrays)."""
        arrays = snap.arrays()
        if arrays:
            if "probe_embeddings" in arrays:
                arrays["probe_embeddings"] = arrays["probe_embeddings"].astype(np.float16)
            if "batch_sim" in arrays:
                arrays["batch_sim"] = arrays["batch_sim"].astype(np.float16)
            final = self.snap_dir / f"{snapshot_name(snap.step)}.npz"
            tmp = self.snap_dir / f".{final.name}.tmp.npz"
            with self.guard(Msg("snapshot step {step}", step=snap.step), self.snap_dir, cleanup=tmp):
                np.savez(tmp, **arrays)
                os.replace(tmp, final)
        rec = snap.record()
        rec["has_arrays"] = bool(arrays)
        with self.guard(Msg("the metrics of step {step}", step=snap.step), self.root):
            self._append_line((json.dumps(rec) + "\n").encode("utf-8"))

    def _append_line(self, data: bytes) -> None:
        """One whole line or nothing: a failed write is cut back off the file."""
        if self._fd is None:
            raise RunError("{path}: the run writer is closed", path=str(self.metrics_path))
        start = os.fstat(self._fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
        except BaseException:
            try:
                os.ftruncate(self._fd, start)
            except OSError:
                pass
            raise

    def write_model(self, save: Callable[[Path], Any]) -> Path:
        """The final model: ``save(folder)`` into ``model.tmp/``, then swapped in for ``model/``."""
        final, tmp, old = self.root / "model", self.root / "model.tmp", self.root / "model.old"
        for p in (tmp, old):
            if p.exists():
                shutil.rmtree(p, ignore_errors=True)
        with self.guard(Msg("the final model"), self.root, cleanup=tmp):
            save(tmp)
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        return final

    def checkpoint_path(self, step: int) -> Path:
        return self.ckpt_dir / snapshot_name(step)

    def commit_checkpoint(self, tmp_dir: Path, step: int, keep: int) -> Path:
        """Rename a fully written temp folder into place, point ``latest`` at it and
        delete all but the newest ``keep`` checkpoints before it (later ones, left by a
        run resumed from an earlier checkpoint, are replaced when their step comes)."""
        final = self.checkpoint_path(step)
        with self.guard(checkpoint_what(step), self.ckpt_dir, cleanup=tmp_dir):
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp_dir, final)
            _atomic_write_text(self.ckpt_dir / "latest", final.name + "\n", self.intact())
        self.last_checkpoint = step
        done = sorted(p for p in self.ckpt_dir.glob("step_*")
                      if p.is_dir() and not p.name.endswith(".tmp") and 0 <= _step_of(p) < step)
        for old in done[: max(0, len(done) - (keep - 1))]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def new_checkpoint_dir(self, step: int) -> Path:
        tmp = self.ckpt_dir / f"{snapshot_name(step)}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        with self.guard(checkpoint_what(step), self.ckpt_dir, cleanup=tmp):
            tmp.mkdir()
        return tmp

    def close(self) -> None:
        """Close the metrics file and release the folder's lock (never raises)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass
        self.lock.release()


def _parse(line: str) -> dict[str, Any] | None:
    """A metrics line as a dict with an int ``step``; None for a torn or foreign line."""
    try:
        rec = json.loads(line)
        rec["step"] = int(rec["step"])
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return rec if isinstance(rec, dict) else None


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint of a run folder, or None."""
    ckpt = Path(run_dir) / "checkpoints"
    pointer = ckpt / "latest"
    if pointer.is_file():
        p = ckpt / pointer.read_text(encoding="utf-8").strip()
        if (p / "state.json").is_file():
            return p
    done = sorted(p for p in ckpt.glob("step_*") if p.is_dir() and (p / "state.json").is_file() and not p.name.endswith(".tmp"))
    return done[-1] if done else None


def final_model_path(run_dir: str | Path) -> Path | None:
    """The run's saved model: ``model/`` when finished, else the latest checkpoint's."""
    run_dir = Path(run_dir)
    if (run_dir / "model" / "modules.json").is_file():
        return run_dir / "model"
    ck = latest_checkpoint(run_dir)
    return ck / "model" if ck is not None else None


class RunReader:
    """Reads a run folder, once or incrementally (``poll``) while another process
    writes it. Never raises on a half-written last line: it waits for the newline."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise RunError("run folder {folder}: no such folder", folder=str(self.root))
        if not (self.root / "config.json").is_file() and not (self.root / "metrics.jsonl").is_file():
            raise RunError("run folder {folder}: no config.json or metrics.jsonl (not a run folder)",
                           folder=str(self.root))
        self._offset = 0
        self._records: list[dict[str, Any]] = []
        self._probe: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        p = self.root / "config.json"
        try:
            return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RunError("{path}: not valid JSON ({error})", path=str(p), error=str(e)) from None

    def probe(self) -> dict[str, Any] | None:
        """{"ids": [...], "texts": [...], "columns": {...}} or None before it is written."""
        if self._probe is None:
            p = self.root / "probe.json"
            if p.is_file():
                try:
                    self._probe = json.loads(p.read_text(encoding="utf-8"))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    return None  # being written; try again later
        return self._probe

    def poll(self) -> list[dict[str, Any]]:
        """New complete metrics records since the last call (in order). A record file
        that shrank (the run was resumed and truncated) is re-read from the start."""
        path = self.root / "metrics.jsonl"
        if not path.is_file():
            return []
        size = path.stat().st_size
        if size < self._offset:
            self._offset, self._records = 0, []
        with open(path, "rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        new: list[dict[str, Any]] = []
        for n, raw in enumerate(chunk[: end + 1].splitlines()):
            if not raw.strip():
                continue
            try:
                new.append(json.loads(raw))
            except json.JSONDecodeError:
                raise RunError("{path}: line {line} is not JSON", path=str(path), line=len(self._records) + n + 1) from None
        self._offset += end + 1
        self._records.extend(new)
        return new

    def records(self) -> list[dict[str, Any]]:
        self.poll()
        return list(self._records)

    def snapshot_steps(self) -> list[int]:
        return sorted(int(p.stem.split("_")[1]) for p in (self.root / "snapshots").glob("step_*.npz"))

    def load_arrays(self, step: int) -> dict[str, np.ndarray]:
        p = self.root / "snapshots" / f"{snapshot_name(step)}.npz"
        if not p.is_file():
            return {}
        with np.load(p, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
        for k in ("probe_embeddings", "batch_sim"):
            if k in out:
                out[k] = out[k].astype(np.float32)
        return out

    def snapshot(self, record: dict[str, Any], with_arrays: bool = True) -> Snapshot:
        arrays = self.load_arrays(int(record["step"])) if with_arrays and record.get("has_arrays", True) else {}
        return Snapshot.from_record(record, arrays)

    def finished(self) -> bool:
        return any(r.get("done") or r.get("stopped") for r in self._records)
