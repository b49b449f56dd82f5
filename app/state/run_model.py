"""The studio's run model: everything known about one run, with no Qt in sight.

A :class:`RunModel` accumulates the snapshots of a run (live from the trainer, or read
from a run folder) into growing numpy series that the plot views draw in place. It
never imports Qt, so it can be tested (and reused by later views: timeline, sphere,
UMAP) without a display; the views take it and read from it, napari-style.

Series grow by amortised doubling (:class:`Series`): appending a point is O(1) and a
view gets ``x``/``y`` as array views without any copy or list conversion per frame.

Memory: every snapshot is kept (the timeline scrubs through all of them), so probe
embeddings are stored as float16 (half the bytes: 1.5 MB a snapshot at 2000 x 384);
:meth:`RunModel.probe_matrix` hands a float32 copy to whoever computes with them. A
run folder whose snapshots would not fit :data:`EAGER_BYTES` keeps them on disk and
:meth:`RunModel.probe_matrix` loads one on demand (a small LRU cache keeps the last
few).

Bounded history: at most :data:`MEMORY_SNAPSHOTS` snapshots keep their large arrays
(probe embeddings, the last batch's ``batch_sim``, ``batch_ids``, its views and
false-negative marks) in memory. When a
newer one arrives, the oldest resident snapshot whose ``snapshots/step_XXXXXXX.npz`` is
in the run folder drops them and gets a loader in ``lazy_probe`` (the same path as a
large run folder), so the timeline, UMAP, drift, lens and exports read it back from
disk; :meth:`RunModel.batch_arrays` reads its batch back. A snapshot not (yet) on disk
keeps its arrays. Scalars, series and per-step losses always stay in memory; the scalars
in one table (:class:`ScalarColumns`), not a dict per snapshot. Beyond the newest
:data:`KEEP_SNAPSHOT_OBJECTS`, a snapshot without arrays in memory is not even an object
any more: :class:`SnapshotHistory` keeps it as a row of numbers and rebuilds it when read
(an hour of training at a snapshot a step makes about 27,000 snapshots).
"""

from __future__ import annotations

import math
import sys
import threading
import zipfile
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simcse_core.metric_specs import series_keys
from simcse_core.snapshot import BATCH_VIEW_KEYS, Snapshot

# Scalars drawn over steps (one point per snapshot that carries a finite value): those the
# metric specs plot, compare or track (simcse_core.metric_specs; series_keys() is read
# again for each new RunModel, so a spec added at run time gets its series).
SERIES_KEYS = series_keys()


EAGER_BYTES = 512 * 1024 * 1024  # a run folder's probe embeddings (float16) loaded up front below this
LRU_SNAPSHOTS = 8  # on-demand probe matrices kept in memory
MEMORY_SNAPSHOTS = 32  # snapshots whose large arrays stay in memory (older ones: read back from the run folder)
KEEP_SNAPSHOT_OBJECTS = 256  # newest snapshots kept as objects (older ones: a row of numbers, see SnapshotHistory)
LARGE_ARRAYS = ("probe_embeddings", "batch_sim", "batch_ids", *BATCH_VIEW_KEYS)  # what an old snapshot leaves on disk


def snapshot_file(run_dir: str | Path, step: int) -> Path:
    """Where the trainer writes snapshot ``step``'s arrays in a run folder."""
    return Path(run_dir) / "snapshots" / f"step_{int(step):07d}.npz"


def load_npz_member(path: str | Path, key: str) -> np.ndarray | None:
    """One array of a snapshot .npz (only its bytes are read), or None when the file or
    the member is missing (a run folder removed meanwhile). Safe in a worker."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return z[key] if key in z.files else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def load_npz_members(path: str | Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Those of ``keys`` a snapshot .npz has (one opening; only their bytes are read);
    empty when the file is missing or unreadable. Safe in a worker."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in keys if k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return {}


def load_npz_arrays(path: str | Path, skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """The arrays of one snapshot .npz except ``skip`` (an npz member is only read when
    asked for, so skipping the probe embeddings skips their bytes on disk)."""
    p = Path(path)
    if not p.is_file():
        return {}
    with np.load(p, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files if k not in skip}
    if "batch_sim" in out:
        out["batch_sim"] = out["batch_sim"].astype(np.float32)
    return out


class ProbeOnDisk:
    """The loader of one old snapshot's probe embeddings from its run folder (a few dozen
    bytes; a ``partial`` with its own ``Path`` cost about ten times that per snapshot)."""

    __slots__ = ("run_dir", "step")

    def __init__(self, run_dir: str | Path, step: int) -> None:
        # one string for the whole run, not one per snapshot
        self.run_dir, self.step = sys.intern(str(run_dir)), int(step)

    def __call__(self) -> np.ndarray | None:
        return load_npz_member(snapshot_file(self.run_dir, self.step), "probe_embeddings")


class ScalarColumns:
    """Every snapshot's scalars in one float64 table (a row a snapshot, a column a key),
    so a long run does not keep a dict of Python floats per snapshot (about 3 KB each at
    40 keys; 23,000 snapshots in an hour of training with a snapshot every step). A
    snapshot's ``scalars`` becomes a :class:`ScalarRow` reading its row. Rows are only
    appended; a key seen for the first time adds a column (absent in earlier rows)."""

    __slots__ = ("keys", "_values", "_present", "_n")

    def __init__(self, capacity: int = 256) -> None:
        self.keys: dict[str, int] = {}
        self._values = np.empty((capacity, 0), dtype=np.float64)
        self._present = np.zeros((capacity, 0), dtype=bool)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def _grow(self, rows: int, cols: int) -> None:
        cap = self._values.shape[0]
        while cap < rows:
            cap *= 2
        if cap == self._values.shape[0] and cols == self._values.shape[1]:
            return
        values = np.empty((cap, cols), dtype=np.float64)
        present = np.zeros((cap, cols), dtype=bool)
        n, c = self._n, self._values.shape[1]
        values[:n, :c] = self._values[:n]
        present[:n, :c] = self._present[:n]
        self._values, self._present = values, present  # readers of the old arrays still see their rows

    def append(self, scalars: Any) -> ScalarRow:
        """Store one snapshot's scalars; returns the row that reads them back."""
        for k in scalars:
            if k not in self.keys:
                self.keys[k] = len(self.keys)
        self._grow(self._n + 1, len(self.keys))
        i = self._n
        for k, v in scalars.items():
            j = self.keys[k]
            self._values[i, j] = float(v)
            self._present[i, j] = True
        self._n += 1
        return ScalarRow(self, i)

    def get(self, row: int, key: str) -> float | None:
        # the arrays are taken once: a worker reading while the GUI thread grows the table
        # sees old or new arrays, both holding this row (shapes checked for either)
        values, present, j = self._values, self._present, self.keys.get(key)
        if j is None or j >= min(values.shape[1], present.shape[1]) or not present[row, j]:
            return None
        return float(values[row, j])

    def row_keys(self, row: int) -> list[str]:
        present = self._present[row]
        return [k for k, j in list(self.keys.items()) if j < present.shape[0] and present[j]]


class ScalarRow(Mapping):
    """One snapshot's scalars, read-only, from a :class:`ScalarColumns` (a Mapping, so
    ``snap.scalars.get(k)``, ``dict(snap.scalars)`` and ``snap.alignment`` work as before)."""

    __slots__ = ("_table", "_row")

    def __init__(self, table: ScalarColumns, row: int) -> None:
        self._table, self._row = table, row

    def __getitem__(self, key: str) -> float:
        v = self._table.get(self._row, key)
        if v is None:
            raise KeyError(key)
        return v

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._table.get(self._row, key) is not None

    def __iter__(self):
        return iter(self._table.row_keys(self._row))

    def __len__(self) -> int:
        return len(self._table.row_keys(self._row))

    def __repr__(self) -> str:
        return f"ScalarRow({dict(self)!r})"


class SnapshotHistory(Sequence):
    """A run's snapshots in order, bounded in memory: a list as far as readers go
    (``len``, ``h[i]``, ``h[-1]``, slices, iteration, ``reversed``).

    The newest :data:`KEEP_SNAPSHOT_OBJECTS` are the :class:`Snapshot` objects as added;
    an older one, once its large arrays have left memory (the run model's trim: they are
    in the run folder), is kept as one row of numbers (step, total steps, epoch, loss,
    temperature, learning rate, done / stopped, its scalars' table row: about 60 bytes
    against about 500 for the object with its per-step losses) and rebuilt on access: a
    new :class:`Snapshot` each time, its ``scalars`` the shared table's row, its arrays
    ``None`` (the probe through the run model's ``lazy_probe``, the batch through
    :meth:`RunModel.batch_arrays`), ``step_losses`` ``None`` (the run model's
    ``step_loss`` series keeps every step's loss; ``loss_last`` stays in the scalars).
    A snapshot that keeps its arrays (not in a run folder) stays an object.

    Appended on the GUI thread; read from workers too (the columns are replaced whole
    when they grow, so a reader sees old or new arrays, both holding its row)."""

    __slots__ = ("_table", "_cols", "_flags", "_n", "_objects", "_order", "keep", "probe_ids", "device")
    _DONE, _STOPPED = 1, 2

    def __init__(self, table: ScalarColumns, keep: int | None = None) -> None:
        self._table = table
        self._cols = np.empty((64, 7), dtype=np.float64)  # step, total, epoch, loss, temperature, lr, table row
        self._flags = np.zeros(64, dtype=np.uint8)
        self._n = 0
        self._objects: dict[int, Snapshot] = {}
        self._order: deque[int] = deque()  # indices of objects not yet looked at for release, oldest first
        self.keep = KEEP_SNAPSHOT_OBJECTS if keep is None else int(keep)
        self.probe_ids: np.ndarray | None = None  # shared by rebuilt snapshots
        self.device = ""

    def __len__(self) -> int:
        return self._n

    def append(self, snap: Snapshot) -> None:
        """Add the newest snapshot (its ``scalars`` already a row of the shared table)."""
        i = self._n
        if i == len(self._flags):
            cols = np.empty((2 * i, 7), dtype=np.float64)
            flags = np.zeros(2 * i, dtype=np.uint8)
            cols[:i], flags[:i] = self._cols[:i], self._flags[:i]
            self._cols, self._flags = cols, flags
        row = snap.scalars._row if isinstance(snap.scalars, ScalarRow) else -1
        self._cols[i] = (snap.step, snap.total_steps, snap.epoch, snap.loss, snap.temperature, snap.lr, row)
        self._flags[i] = (self._DONE if snap.done else 0) | (self._STOPPED if snap.stopped else 0)
        self._objects[i] = snap
        self._order.append(i)
        self._n = i + 1

    def release(self) -> None:
        """Keep as rows the objects older than the newest :attr:`keep` that hold no large
        arrays any more (call after the run model's trim)."""
        while len(self._order) > max(1, self.keep):
            i = self._order.popleft()
            snap = self._objects[i]
            if all(getattr(snap, k) is None for k in LARGE_ARRAYS) and isinstance(snap.scalars, ScalarRow):
                del self._objects[i]  # else it keeps its arrays and stays an object

    def steps(self, indices: Any = None) -> np.ndarray:
        """(k,) int64 steps of the snapshots at ``indices`` (all when None), read from the
        columns: no snapshot is rebuilt (a curve over every snapshot asks for thousands)."""
        cols = self._cols
        col = cols[: self._n, 0] if indices is None else cols[np.asarray(indices, dtype=np.int64), 0]
        return col.astype(np.int64)

    def objects(self) -> list[Snapshot]:
        """The snapshots kept as objects (every one that holds arrays is among them)."""
        return list(self._objects.values())

    def object_count(self) -> int:
        return len(self._objects)

    def _at(self, i: int) -> Snapshot:
        obj = self._objects.get(i)
        if obj is not None:
            return obj
        cols, flags = self._cols, self._flags
        step, total, epoch, loss, temperature, lr, row = cols[i]
        return Snapshot(step=int(step), total_steps=int(total), epoch=float(epoch), loss=float(loss),
                        temperature=float(temperature), lr=float(lr), scalars=ScalarRow(self._table, int(row)),
                        probe_ids=self.probe_ids, done=bool(flags[i] & self._DONE),
                        stopped=bool(flags[i] & self._STOPPED), device=self.device, events=[])

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(self._n))]
        i = int(index)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("snapshot index out of range")
        return self._at(i)

    def __iter__(self) -> Iterator[Snapshot]:
        for i in range(self._n):
            yield self._at(i)

    def __reversed__(self) -> Iterator[Snapshot]:
        for i in range(self._n - 1, -1, -1):
            yield self._at(i)

    def __repr__(self) -> str:
        return f"SnapshotHistory({self._n} snapshots, {len(self._objects)} as objects)"


class Series:
    """A growing (x, y) float32 series with amortised-doubling storage.

    float32 because a long run keeps every point of about 20 series (one a snapshot,
    ``bench/soak.py``: 27,000 snapshots an hour): half the memory of float64, steps exact
    up to 16.7 million, and plotted values to 7 digits. ``x`` and ``y`` are views of the
    filled part (no copy); they stay valid until the next append that has to grow the
    buffer, so take them anew each frame.
    """

    __slots__ = ("_x", "_y", "_n")
    DTYPE = np.float32

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(max(1, capacity), dtype=self.DTYPE)
        self._y = np.empty(max(1, capacity), dtype=self.DTYPE)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return self._x.shape[0]

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    def _reserve(self, n: int) -> None:
        if n <= self._x.shape[0]:
            return
        cap = self._x.shape[0]
        while cap < n:
            cap *= 2
        for name in ("_x", "_y"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=self.DTYPE)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def append(self, x: float, y: float) -> None:
        self._reserve(self._n + 1)
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1

    def extend(self, xs: np.ndarray | Iterable[float], ys: np.ndarray | Iterable[float]) -> None:
        xs = np.asarray(xs, dtype=np.float64).ravel()
        ys = np.asarray(ys, dtype=np.float64).ravel()
        if xs.shape != ys.shape:
            raise ValueError(f"x and y differ in length ({xs.shape[0]} vs {ys.shape[0]})")
        k = xs.shape[0]
        if k == 0:
            return
        self._reserve(self._n + k)
        self._x[self._n : self._n + k] = xs
        self._y[self._n : self._n + k] = ys
        self._n += k

    def clear(self) -> None:
        self._n = 0

    @property
    def last(self) -> tuple[float, float] | None:
        return None if self._n == 0 else (float(self._x[self._n - 1]), float(self._y[self._n - 1]))


@dataclass
class RunModel:
    """Everything the studio knows about the current run.

    - ``snapshots``: every snapshot received, in order; the newest ``memory_snapshots``
      keep their arrays, older ones read them back from the run folder (module note).
    - ``series[key]``: one point per snapshot with a finite ``key`` (see
      :data:`SERIES_KEYS`); ``step_loss``: every per-step loss (from ``step_losses``).
    - ``trajectory``: (uniformity, alignment) points with their steps (paper Figure 2).
    - ``events``: temperature / learning-rate changes as the trainer reported them.
    - ``probe_texts`` / ``probe_columns``: the fixed probe set (first snapshot or probe.json).

    Listeners added with :meth:`subscribe` are called with the snapshot after it is
    added (or with ``None`` after :meth:`clear`); they run on the caller's thread.
    """

    snapshots: SnapshotHistory = field(init=False)  # every snapshot, bounded in memory (SnapshotHistory)
    series: dict[str, Series] = field(default_factory=lambda: {k: Series() for k in series_keys()})
    step_loss: Series = field(default_factory=lambda: Series(1024))
    trajectory: Series = field(default_factory=Series)  # x = uniformity, y = alignment
    trajectory_steps: Series = field(default_factory=Series)  # x = index, y = step
    events: list[dict[str, Any]] = field(default_factory=list)
    probe_texts: list[str] | None = None
    probe_columns: dict[str, list[str]] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None
    chance_loss: float = math.nan
    batch_size: int = 0
    device: str = ""
    total_steps: int = 0
    generation: int = 0  # bumped by clear(): views use it to drop what they drew
    probe_ids: np.ndarray | None = None  # (P,) corpus ids of the probe set (constant over a run)
    # step -> callable returning that snapshot's (P, D) probe embeddings, for snapshots
    # whose arrays stay on disk (``Snapshot.probe_embeddings`` is None for them)
    lazy_probe: dict[int, Callable[[], np.ndarray | None]] = field(default_factory=dict, repr=False)
    memory_snapshots: int = MEMORY_SNAPSHOTS  # snapshots whose large arrays stay in memory
    _resident: deque = field(default_factory=deque, repr=False)  # indices of snapshots holding arrays
    _lru: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _scalars: ScalarColumns = field(default_factory=ScalarColumns, repr=False)  # every snapshot's scalars
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _listeners: list[Callable[[Snapshot | None], None]] = field(default_factory=list, repr=False)
    _probe_rows: tuple[np.ndarray, dict[int, int]] | None = field(default=None, repr=False)
    # probe_indices(), kept up to date incrementally: (generation, snapshots scanned, lazy
    # loaders seen, indices with a probe, scanned indices without one)
    _probe_scan: tuple[int, int, int, list[int], list[int]] = field(default_factory=lambda: (-1, 0, 0, [], []), repr=False)

    def __post_init__(self) -> None:
        self.snapshots = SnapshotHistory(self._scalars)

    # ------------------------------------------------------------------ corpus ids
    def probe_row(self, corpus_id: int) -> int | None:
        """The probe row of a corpus id (None when the sentence is not in the probe set).
        The one map from corpus ids to probe rows for the whole studio."""
        if self.probe_ids is None:
            return None
        rows = self._probe_rows
        if rows is None or rows[0] is not self.probe_ids:
            rows = (self.probe_ids, {int(c): i for i, c in enumerate(self.probe_ids)})
            self._probe_rows = rows
        return rows[1].get(int(corpus_id))

    def probe_rows(self, corpus_ids: Any) -> np.ndarray:
        """Probe rows of several corpus ids, -1 where a sentence is not in the probe set."""
        return np.array([(-1 if (r := self.probe_row(int(c))) is None else r) for c in np.ravel(corpus_ids)],
                        dtype=np.int64)

    # ------------------------------------------------------------------ events
    def subscribe(self, fn: Callable[[Snapshot | None], None]) -> None:
        self._listeners.append(fn)

    def _emit(self, snap: Snapshot | None) -> None:
        for fn in list(self._listeners):
            fn(snap)

    # ------------------------------------------------------------------ state
    @property
    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    @property
    def last_step(self) -> int:
        return self.snapshots[-1].step if self.snapshots else -1

    @property
    def finished(self) -> bool:
        s = self.latest
        return bool(s is not None and (s.done or s.stopped))

    def clear(self, run_dir: str | None = None, config: dict[str, Any] | None = None) -> None:
        """Forget everything (a new run starts, or a followed run was restarted)."""
        self._scalars = ScalarColumns()
        self.snapshots = SnapshotHistory(self._scalars, keep=self.snapshots.keep)
        for s in self.series.values():
            s.clear()
        self.step_loss.clear()
        self.trajectory.clear()
        self.trajectory_steps.clear()
        self.events = []
        self.probe_texts = None
        self.probe_columns = None
        self.config = dict(config or {})
        self.run_dir = run_dir
        self.chance_loss = math.nan
        self.batch_size = 0
        self.device = ""
        self.total_steps = 0
        self.probe_ids = None
        self.lazy_probe = {}
        self._resident = deque()
        with self._lock:
            self._lru.clear()
        self.generation += 1
        self._emit(None)

    def set_probe(self, texts: list[str] | None, columns: dict[str, list[str]] | None) -> None:
        if texts is not None:
            self.probe_texts = list(texts)
        if columns is not None:
            self.probe_columns = {k: list(v) for k, v in columns.items()}

    def add(self, snap: Snapshot) -> None:
        """Append one snapshot: every scalar goes into its series (no point is lost).

        Its probe embeddings are converted to float16 in place (see the module note)."""
        if snap.probe_embeddings is not None and snap.probe_embeddings.dtype != np.float16:
            snap.probe_embeddings = np.asarray(snap.probe_embeddings).astype(np.float16)
        if snap.probe_ids is not None and self.probe_ids is None:
            self.probe_ids = np.asarray(snap.probe_ids, dtype=np.int64)
            self.snapshots.probe_ids = self.probe_ids
        if snap.probe_texts is not None or snap.probe_columns is not None:
            self.set_probe(snap.probe_texts, snap.probe_columns)
        step = float(snap.step)
        values = dict(snap.scalars)
        snap.scalars = self._scalars.append(values)  # one table row instead of a dict (see ScalarColumns)
        self.device = snap.device or self.device
        self.snapshots.device = self.device
        self.snapshots.append(snap)
        values.update(loss=snap.loss, lr=snap.lr, temperature=snap.temperature)
        for key, series in self.series.items():
            v = values.get(key)
            if v is not None and math.isfinite(float(v)):
                series.append(step, float(v))
        if snap.step_losses is not None and len(snap.step_losses):
            sl = np.asarray(snap.step_losses, dtype=np.float64).reshape(-1, 2)
            ok = np.isfinite(sl[:, 1])
            self.step_loss.extend(sl[ok, 0], sl[ok, 1])
        else:  # a record without arrays (a followed run): its last step's loss
            v = values.get("loss_last", snap.loss)
            if v is not None and math.isfinite(float(v)):
                self.step_loss.append(step, float(v))
        a, u = values.get("alignment"), values.get("uniformity")
        if a is not None and u is not None and math.isfinite(float(a)) and math.isfinite(float(u)):
            self.trajectory.append(float(u), float(a))
            self.trajectory_steps.append(len(self.trajectory_steps), step)
        c = values.get("chance_loss")
        if c is not None and math.isfinite(float(c)):
            self.chance_loss = float(c)
        if snap.batch_sim is not None:
            self.batch_size = int(snap.batch_sim.shape[0])
        self.events.extend(snap.events or [])
        self.total_steps = int(snap.total_steps)
        if any(getattr(snap, k) is not None for k in LARGE_ARRAYS):
            self._resident.append(len(self.snapshots) - 1)
            self._trim()
        self.snapshots.release()
        self._emit(snap)

    def _trim(self) -> None:
        """Drop the large arrays of the oldest resident snapshots beyond
        :attr:`memory_snapshots` whose arrays are in the run folder (see the module note)."""
        while len(self._resident) > max(1, self.memory_snapshots):
            i = self._resident.popleft()
            snap = self.snapshots[i]
            path = snapshot_file(self.run_dir, snap.step) if self.run_dir else None
            if path is None or not path.is_file():
                continue  # not on disk: it keeps its arrays (it is no longer counted)
            if snap.probe_embeddings is not None:
                self.lazy_probe[snap.step] = ProbeOnDisk(self.run_dir, snap.step)
            for key in LARGE_ARRAYS:  # the loader is in place before the array goes (workers)
                setattr(snap, key, None)
            if snap.probe_ids is not None and self.probe_ids is not None \
                    and snap.probe_ids is not self.probe_ids and np.array_equal(snap.probe_ids, self.probe_ids):
                snap.probe_ids = self.probe_ids  # one shared copy of the constant ids

    def resident_count(self) -> int:
        """How many snapshots hold probe embeddings in memory now."""
        return sum(1 for s in self.snapshots.objects() if s.probe_embeddings is not None)

    def batch_arrays(self, index: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(batch_sim (B, B) float32, batch_ids (B,)) of snapshot ``index``: from memory,
        else read back from the run folder (an old snapshot); (None, None) when it has
        none or its file is gone. Reads a file: call it from a worker for old snapshots."""
        if not -len(self.snapshots) <= index < len(self.snapshots):
            return None, None
        snap = self.snapshots[index]
        sim, ids = snap.batch_sim, snap.batch_ids
        if sim is None and self.run_dir:
            path = snapshot_file(self.run_dir, snap.step)
            sim, ids = load_npz_member(path, "batch_sim"), load_npz_member(path, "batch_ids")
        return (None if sim is None else np.asarray(sim, dtype=np.float32)), ids

    def batch_views(self, index: int) -> dict[str, np.ndarray]:
        """Snapshot ``index``'s last-batch arrays for the batch view: ``batch_ids``,
        ``batch_sim`` (float32) and those of them it has among ``batch_z1``,
        ``batch_z2`` (float32), ``batch_hard`` and ``batch_fn``; from memory, else read
        back from the run folder (call it from a worker for old snapshots). Empty when
        it has no batch (a run folder older than the views has no ``batch_z1``)."""
        if not -len(self.snapshots) <= index < len(self.snapshots):
            return {}
        snap = self.snapshots[index]
        keys = ("batch_ids", "batch_sim", *BATCH_VIEW_KEYS)
        out = {k: getattr(snap, k) for k in keys if getattr(snap, k) is not None}
        if snap.batch_sim is None and self.run_dir:
            path = snapshot_file(self.run_dir, snap.step)
            out = load_npz_members(path, keys)
        if "batch_sim" not in out or "batch_ids" not in out:
            return {}
        out["batch_sim"] = np.asarray(out["batch_sim"], dtype=np.float32)
        return out

    def extend(self, snaps: Iterable[Snapshot]) -> None:
        for s in snaps:
            self.add(s)

    # ------------------------------------------------------------------ probe arrays
    def has_probe(self, index: int) -> bool:
        """Whether snapshot ``index`` has probe embeddings (in memory or on disk)."""
        if not -len(self.snapshots) <= index < len(self.snapshots):
            return False
        snap = self.snapshots[index]
        return snap.probe_embeddings is not None or snap.step in self.lazy_probe

    def probe_indices(self) -> list[int]:
        """Indices of the snapshots that have probe embeddings, in order.

        Called for every snapshot, so it does not rescan the run: having a probe never
        ends within a run (a snapshot whose arrays leave memory gets its loader first),
        so only new snapshots are scanned, and those seen without a probe are looked at
        again when loaders were added (a followed run's files)."""
        gen, scanned, n_lazy, have, without = self._probe_scan
        if gen != self.generation or scanned > len(self.snapshots):
            gen, scanned, n_lazy, have, without = self.generation, 0, 0, [], []
        if without and len(self.lazy_probe) != n_lazy:
            found = [i for i in without if self.has_probe(i)]
            if found:
                have = sorted(have + found)
                gone = set(found)
                without = [i for i in without if i not in gone]
        for i in range(scanned, len(self.snapshots)):
            (have if self.has_probe(i) else without).append(i)
        self._probe_scan = (gen, len(self.snapshots), len(self.lazy_probe), have, without)
        return list(have)

    def probe_matrix(self, index: int) -> np.ndarray | None:
        """Snapshot ``index``'s probe embeddings as a new (P, D) float32 array, or None.

        Thread-safe (workers call it): a snapshot kept on disk is read through its
        loader and cached (the last :data:`LRU_SNAPSHOTS`)."""
        snaps = self.snapshots
        if not -len(snaps) <= index < len(snaps):
            return None
        snap = snaps[index]
        emb = snap.probe_embeddings
        if emb is not None:
            return np.asarray(emb, dtype=np.float32)
        loader = self.lazy_probe.get(snap.step)
        if loader is None:
            return None
        with self._lock:
            hit = self._lru.get(snap.step)
            if hit is not None:
                self._lru.move_to_end(snap.step)
                return hit.astype(np.float32)
        arr = loader()
        if arr is None:
            return None
        arr16 = np.asarray(arr).astype(np.float16)
        with self._lock:
            self._lru[snap.step] = arr16
            while len(self._lru) > LRU_SNAPSHOTS:
                self._lru.popitem(last=False)
        return arr16.astype(np.float32)

    def probe_bytes(self) -> int:
        """Bytes held by the in-memory probe embeddings of all snapshots."""
        return sum(int(s.probe_embeddings.nbytes) for s in self.snapshots.objects() if s.probe_embeddings is not None)

    def event_steps(self, key: str) -> list[float]:
        """Steps at which ``key`` (``temperature`` or ``learning_rate``) was changed."""
        return [float(e["step"]) for e in self.events if key in e and "step" in e]
