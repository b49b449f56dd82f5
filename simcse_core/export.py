"""Exports from a run folder into formats other tools read.

- :func:`export_metrics_csv`: ``metrics.jsonl`` as one CSV table (spreadsheets, pandas).
- :func:`export_projector`: the TensorBoard Embedding Projector format (``tensors.tsv``,
  ``metadata.tsv``, ``projector_config.pbtxt``); also loadable at projector.tensorflow.org.
- :func:`export_npy`: ``embeddings.npy`` (float32) and ``metadata.csv`` (numpy, pandas).
- :func:`export_model`: the run's model as a sentence-transformers folder.

Bad input raises :class:`~simcse_core.runs.RunError` (the run folder, a step) or
:class:`~simcse_core.errors.DataError` (the destination), with a one-line message
naming the file or step.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .messages import Msg
from .runs import RunError, RunReader, final_model_path, snapshot_name


# ------------------------------------------------------------------ helpers
def _reader(run_dir: str | Path) -> RunReader:
    return RunReader(run_dir)  # RunError when it is not a run folder


def _atomic_write(path: Path, data: str | bytes) -> Path:
    """Write ``path`` via a temp file in the same folder and a rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise _unwritable(path, e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise _unwritable(path, e) from None
    return path


def _unwritable(path: Path, e: OSError) -> DataError:
    return DataError("{path}: cannot be written ({error})", path=str(path), error=str(e.strerror or e))


def _cell(v: Any) -> str:
    """A CSV cell: numbers as Python writes them (round-trips exactly), None and NaN as
    empty, booleans as true/false, lists and objects as JSON."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False)


def _one_line(text: Any) -> str:
    """Tabs and line breaks would break a TSV row: replace them with spaces."""
    s = str(text)
    for ch in ("\r\n", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"):
        s = s.replace(ch, " ")
    return s


def _steps_with_arrays(reader: RunReader) -> list[int]:
    return reader.snapshot_steps()


def _load_probe(reader: RunReader) -> dict[str, Any]:
    p = reader.root / "probe.json"
    if not p.is_file():
        raise RunError("{path}: no such file (the run has not written its probe set yet)", path=str(p))
    try:
        probe = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunError("{path}: not valid JSON ({error})", path=str(p), error=str(e)) from None
    if not isinstance(probe, dict) or not isinstance(probe.get("texts"), list):
        raise RunError("{path}: no 'texts' list (not a probe file)", path=str(p))
    cols = probe.get("columns") or {}
    if not isinstance(cols, dict):
        raise RunError("{path}: 'columns' must be an object of label lists", path=str(p))
    n = len(probe["texts"])
    for k, v in cols.items():
        if not isinstance(v, list):
            raise RunError("{path}: column '{column}' has no values for {n} texts", path=str(p), column=k, n=n)
        if len(v) != n:
            raise RunError("{path}: column '{column}' has {count} values for {n} texts", path=str(p), column=k,
                           count=len(v), n=n)
    ids = probe.get("ids")
    if ids is not None and not isinstance(ids, list):
        raise RunError("{path}: 'ids' has no values for {n} texts", path=str(p), n=n)
    if ids is not None and len(ids) != n:
        raise RunError("{path}: 'ids' has {count} values for {n} texts", path=str(p), count=len(ids), n=n)
    probe["columns"] = cols
    return probe


def probe_embeddings(run_dir: str | Path, step: int | None = None) -> tuple[int, np.ndarray, dict[str, Any]]:
    """``(step, (P, D) float32 embeddings, probe)`` of a snapshot; ``step=None``: the
    last snapshot that saved arrays. ``probe`` is probe.json: ids, texts, columns."""
    reader = _reader(run_dir)
    steps = _steps_with_arrays(reader)
    if step is None:
        if not steps:
            raise RunError("{path}: no snapshot with embeddings yet", path=str(reader.root / "snapshots"))
        step = steps[-1]
    step = int(step)
    path = reader.root / "snapshots" / f"{snapshot_name(step)}.npz"
    if not path.is_file():
        have = ", ".join(str(s) for s in steps[-8:]) or Msg("none")
        raise RunError("{path}: no snapshot at step {step} (snapshots with embeddings: {have})", path=str(reader.root),
                       step=step, have=have)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "probe_embeddings" not in z.files:
                raise RunError("{path}: step {step} has no probe embeddings", path=str(path), step=step)
            emb = np.asarray(z["probe_embeddings"], dtype=np.float32)
            snap_ids = np.asarray(z["probe_ids"]) if "probe_ids" in z.files else None
    except RunError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise RunError("{path}: step {step} cannot be read ({kind}: {error})", path=str(path), step=step,
                       kind=type(e).__name__, error=str(e)) from None
    if emb.ndim != 2:
        raise RunError("{path}: step {step}: probe embeddings have shape {shape}, expected (P, D)", path=str(path),
                       step=step, shape=str(emb.shape))
    probe = _load_probe(reader)
    if len(probe["texts"]) != emb.shape[0]:
        raise RunError("{path}: step {step} has {n} embeddings for {texts} probe texts in {probe}", path=str(path),
                       step=step, n=emb.shape[0], texts=len(probe["texts"]), probe=str(reader.root / "probe.json"))
    if snap_ids is not None and probe.get("ids") is not None and [int(i) for i in snap_ids] != [int(i) for i in probe["ids"]]:
        raise RunError("{path}: step {step}: probe ids differ from {probe}", path=str(path), step=step,
                       probe=str(reader.root / "probe.json"))
    return step, emb, probe


def _label_columns(probe: dict[str, Any], label_columns: list[str] | tuple[str, ...] | None, where: Path) -> list[str]:
    cols = probe["columns"]
    if label_columns is None:
        return list(cols)
    missing = [c for c in label_columns if c not in cols]
    if missing:
        have = ", ".join(cols) or Msg("none")
        raise RunError("{path}: no label column(s) {missing} (columns: {have})", path=str(where / "probe.json"),
                       missing=", ".join(missing), have=have)
    return list(label_columns)


# -------------------------------------------------------------------- metrics
def export_metrics_csv(run_dir: str | Path, path: str | Path) -> Path:
    """``metrics.jsonl`` -> CSV: one row a record, the union of keys as columns (``step``
    first, the rest sorted). Missing values and NaN are empty cells; ``events`` (a list)
    is JSON-encoded. Returns ``path``."""
    reader = _reader(run_dir)
    metrics = reader.root / "metrics.jsonl"
    if not metrics.is_file():
        raise RunError("{path}: no such file (the run has not logged a snapshot yet)", path=str(metrics))
    records = reader.records()  # RunError naming the line on a corrupt record
    for n, r in enumerate(records):
        if not isinstance(r, dict):
            raise RunError("{path}: record {n} is not a JSON object", path=str(metrics), n=n + 1)
    keys: set[str] = set()
    for r in records:
        keys.update(r)
    columns = (["step"] if "step" in keys or not keys else []) + sorted(keys - {"step"})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in records:
        w.writerow([_cell(r.get(k)) for k in columns])
    return _atomic_write(Path(path), buf.getvalue())


# ------------------------------------------------------------------ projector
def _pbtxt_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def export_projector(run_dir: str | Path, step: int | None, out_dir: str | Path,
                     label_columns: list[str] | tuple[str, ...] | None = None,
                     tensor_name: str | None = None) -> dict[str, Path]:
    """The probe embeddings of one snapshot in the TensorBoard projector format:

    - ``tensors.tsv``: one row per probe sentence, tab-separated floats;
    - ``metadata.tsv``: the text (tabs and line breaks replaced by spaces) and the
      label columns (all of probe.json's, or ``label_columns``); with more than one
      column the first row is a header, with the text alone there is none (the
      projector's convention);
    - ``projector_config.pbtxt``: ``embeddings { tensor_name tensor_path metadata_path }``
      with paths relative to ``out_dir`` (point TensorBoard's ``--logdir`` at it, or
      load the two .tsv files at projector.tensorflow.org).

    ``step=None``: the last snapshot. Returns the three paths by kind."""
    step, emb, probe = probe_embeddings(run_dir, step)
    root = Path(run_dir)
    cols = _label_columns(probe, label_columns, root)
    out = Path(out_dir)
    buf = io.StringIO()
    np.savetxt(buf, emb, fmt="%.9g", delimiter="\t")  # 9 significant digits: float32 round-trips
    rows = buf.getvalue()
    header = ["text", *cols]
    lines = []
    if cols:
        lines.append("\t".join(_one_line(h) for h in header))
    for i, text in enumerate(probe["texts"]):
        cells = [_one_line(text)] + [_one_line(probe["columns"][c][i]) for c in cols]
        # the projector reads an empty single-column line as a missing row: keep one space
        lines.append("\t".join(cells) if (cols or cells[0]) else " ")
    name = tensor_name or f"{root.resolve().name} step {step}"
    pbtxt = ("embeddings {\n"
             f"  tensor_name: {_pbtxt_string(name)}\n"
             f"  tensor_path: {_pbtxt_string('tensors.tsv')}\n"
             f"  metadata_path: {_pbtxt_string('metadata.tsv')}\n"
             "}\n")
    return {
        "tensors": _atomic_write(out / "tensors.tsv", rows),
        "metadata": _atomic_write(out / "metadata.tsv", "".join(ln + "\n" for ln in lines)),
        "config": _atomic_write(out / "projector_config.pbtxt", pbtxt),
    }


def export_npy(run_dir: str | Path, step: int | None, out_dir: str | Path,
               label_columns: list[str] | tuple[str, ...] | None = None) -> dict[str, Path]:
    """``embeddings.npy`` ((P, D) float32, rows L2-normalised as the trainer saved them)
    and ``metadata.csv`` (``id`` = corpus row id, ``text``, the label columns), one row
    per probe sentence in the same order. ``step=None``: the last snapshot."""
    step, emb, probe = probe_embeddings(run_dir, step)
    cols = _label_columns(probe, label_columns, Path(run_dir))
    out = Path(out_dir)
    buf = io.BytesIO()
    np.save(buf, emb.astype(np.float32), allow_pickle=False)
    ids = probe.get("ids") or list(range(len(probe["texts"])))
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(["id", "text", *cols])
    for i, t in enumerate(probe["texts"]):
        w.writerow([int(ids[i]), t, *(probe["columns"][c][i] for c in cols)])
    return {
        "embeddings": _atomic_write(out / "embeddings.npy", buf.getvalue()),
        "metadata": _atomic_write(out / "metadata.csv", text.getvalue()),
    }


# ---------------------------------------------------------------------- model
def export_model(run_dir: str | Path, dest: str | Path, overwrite: bool = False) -> Path:
    """Copy the run's model (``model/`` when the run finished, else its latest
    checkpoint's) to ``dest`` as a sentence-transformers folder:
    ``SentenceTransformer(dest)`` loads it, and so does ``AutoModel.from_pretrained``.

    The copy goes to a temporary folder beside ``dest`` and is renamed into place, so
    ``dest`` is either absent or complete. A non-empty ``dest`` is refused unless
    ``overwrite=True``. Returns ``dest``."""
    reader = _reader(run_dir)
    src = final_model_path(reader.root)
    if src is None or not src.is_dir():
        raise RunError("{path}: no model yet (neither model/ nor a complete checkpoint)", path=str(reader.root))
    if not (src / "modules.json").is_file():
        raise RunError("{path}: no modules.json (not a sentence-transformers folder)", path=str(src))
    dest = Path(dest).expanduser()
    try:
        src_real, dest_real = src.resolve(), dest.resolve()
    except OSError as e:
        raise DataError("{path}: cannot be resolved ({error})", path=str(dest), error=str(e.strerror or e)) from None
    if dest_real == src_real or src_real in dest_real.parents:
        raise DataError("{path}: is the run's model folder or inside it; choose another destination", path=str(dest))
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise DataError("{path}: exists and is not a folder", path=str(dest))
        if any(dest.iterdir()) and not overwrite:
            raise DataError("{path}: folder is not empty (pass overwrite=True to replace it)", path=str(dest))
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"))
    except OSError as e:
        raise _unwritable(dest.parent, e) from None
    old: Path | None = None
    try:
        shutil.copytree(src, tmp, dirs_exist_ok=True)
        if dest.exists():
            old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".old"))
            os.rmdir(old)
            os.replace(dest, old)  # moved aside, deleted once the new one is in place
        os.replace(tmp, dest)
    except (OSError, shutil.Error) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not dest.exists():
            os.replace(old, dest)  # put the previous one back
        raise DataError("{path}: the model could not be copied ({error})", path=str(dest), error=str(e)) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return dest
