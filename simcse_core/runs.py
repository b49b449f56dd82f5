"""Run folders: what a training run leaves on disk, and how to read (or follow) one.

Layout::

    run/
      config.json            the TrainConfig
      probe.json             the fixed probe set: corpus ids, texts, label columns
      metrics.jsonl          one JSON object a snapshot, flushed as written
      snapshots/step_0000250.npz   probe embeddings (float16), last batch ids and
                                   cosine matrix, per-step losses
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
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SimCSEError
from .snapshot import Snapshot


class RunError(SimCSEError):
    """A folder is not a readable run."""


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def snapshot_name(step: int) -> str:
    return f"step_{step:07d}"


class RunWriter:
    """Writes a run folder. Used by the trainer; not thread-shared."""

    def __init__(self, root: str | Path, config_dict: dict[str, Any], resume_step: int | None = None) -> None:
        self.root = Path(root)
        self.snap_dir = self.root / "snapshots"
        self.ckpt_dir = self.root / "checkpoints"
        try:
            self.snap_dir.mkdir(parents=True, exist_ok=True)
            self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunError(f"output_dir {self.root}: cannot be created ({e.strerror})") from None
        _atomic_write_text(self.root / "config.json", json.dumps(config_dict, indent=2) + "\n")
        self.metrics_path = self.root / "metrics.jsonl"
        if resume_step is not None:
            self._truncate_after(resume_step)
        elif self.metrics_path.exists():
            # a fresh run in an old folder: start the log anew, drop old snapshots
            self.metrics_path.unlink()
            for p in self.snap_dir.glob("step_*.npz"):
                p.unlink()
        self._metrics = open(self.metrics_path, "a", encoding="utf-8")

    def _truncate_after(self, step: int) -> None:
        """On resume: forget records and snapshots past the checkpoint's step."""
        if self.metrics_path.exists():
            keep = [ln for ln in self.metrics_path.read_text(encoding="utf-8").splitlines()
                    if ln.strip() and _record_step(ln) <= step]
            _atomic_write_text(self.metrics_path, "".join(ln + "\n" for ln in keep))
        for p in self.snap_dir.glob("step_*.npz"):
            if int(p.stem.split("_")[1]) > step:
                p.unlink()

    def write_probe(self, ids: np.ndarray, texts: list[str], columns: dict[str, list[str]]) -> None:
        _atomic_write_text(
            self.root / "probe.json",
            json.dumps({"ids": [int(i) for i in ids], "texts": texts, "columns": columns}, ensure_ascii=False) + "\n",
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
            np.savez(tmp, **arrays)
            os.replace(tmp, final)
        rec = snap.record()
        rec["has_arrays"] = bool(arrays)
        self._metrics.write(json.dumps(rec) + "\n")
        self._metrics.flush()

    def checkpoint_path(self, step: int) -> Path:
        return self.ckpt_dir / snapshot_name(step)

    def commit_checkpoint(self, tmp_dir: Path, step: int, keep: int) -> Path:
        """Rename a fully written temp folder into place, point ``latest`` at it and
        delete all but the newest ``keep`` checkpoints."""
        final = self.checkpoint_path(step)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp_dir, final)
        _atomic_write_text(self.ckpt_dir / "latest", final.name + "\n")
        done = sorted(p for p in self.ckpt_dir.glob("step_*") if p.is_dir() and not p.name.endswith(".tmp"))
        for old in done[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def new_checkpoint_dir(self, step: int) -> Path:
        tmp = self.ckpt_dir / f"{snapshot_name(step)}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        return tmp

    def close(self) -> None:
        if not self._metrics.closed:
            self._metrics.close()


def _record_step(line: str) -> int:
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return 1 << 62


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
            raise RunError(f"run folder {self.root}: no such folder")
        if not (self.root / "config.json").is_file() and not (self.root / "metrics.jsonl").is_file():
            raise RunError(f"run folder {self.root}: no config.json or metrics.jsonl (not a run folder)")
        self._offset = 0
        self._records: list[dict[str, Any]] = []
        self._probe: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        p = self.root / "config.json"
        try:
            return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RunError(f"{p}: not valid JSON ({e})") from None

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
                raise RunError(f"{path}: line {len(self._records) + n + 1} is not JSON") from None
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
