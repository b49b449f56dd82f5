"""Cosine nearest neighbours over a whole corpus (explore mode, issue 16).

Below :data:`EXACT_BELOW` rows the search is exact: the query against every row, in
chunks (a few milliseconds a query at 100,000 x 384). Above, an approximate index from
faiss (Meta's similarity-search library, CPU wheels for Linux, macOS and Windows): an
inverted file (IVF) of ``nlist`` k-means cells over the unit rows, its vectors stored as
float16 (half the memory of float32; a million x 384 is 768 MB), searched in the
``nprobe`` cells nearest the query. Why IVF and not a graph (HNSW): graphs are slow to
build on a laptop (measured here on 2 cores, ``bench/neighbours.py --graphs``: a minute
for 100,000 rows with faiss, two with usearch, and more than linear in the rows), while an
IVF trains its cells on a sample and adds rows at the speed of a matrix product; both
answer well under the 10 ms goal (figures in docs/benchmarks.md).

``nprobe`` is chosen by measurement, not guessed: :meth:`NeighbourIndex.tune` raises it
until recall@k against exact search on a sample of the corpus's own rows reaches the
target (0.95 by default), and the index keeps the measured recall (the studio shows it).

The index is saved beside the embedding cache (``neighbours.faiss`` in faiss's own
binary format, no pickle, plus ``neighbours.json``) and reloaded when the cache is
reopened. No Qt.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np

from .steps import drive

EXACT_BELOW = 50_000  # rows under which search is exact
CHUNK = 65_536  # rows read (and converted to float32) at a time
INDEX_FILE = "neighbours.faiss"
INFO_FILE = "neighbours.json"


def _unit(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    return X / np.maximum(np.linalg.norm(X, axis=-1, keepdims=True), 1e-12)


def exact_search(X: np.ndarray, Q: np.ndarray, k: int, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``X`` (N, D; any float dtype, a memory map is fine) with the
    highest cosine to each query of ``Q`` (q, D): (ids (q, k) int64, cosines (q, k)
    float32), best first; read a ``chunk`` of rows at a time."""
    Qn = _unit(np.atleast_2d(Q))
    n = len(X)
    k = min(int(k), n)
    best_s = np.full((len(Qn), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(Qn), 0), dtype=np.int64)
    for start in range(0, n, chunk):
        S = Qn @ _unit(X[start:start + chunk]).T  # (q, c)
        kk = min(k, S.shape[1])
        part = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
        best_s = np.concatenate([best_s, np.take_along_axis(S, part, axis=1)], axis=1)
        best_i = np.concatenate([best_i, part + start], axis=1)
        if best_s.shape[1] > k:
            keep = np.argpartition(-best_s, k - 1, axis=1)[:, :k]
            best_s, best_i = np.take_along_axis(best_s, keep, axis=1), np.take_along_axis(best_i, keep, axis=1)
    order = np.argsort(-best_s, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, axis=1), np.take_along_axis(best_s, order, axis=1)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each row of ``truth`` (q, k) found in the same row of ``found``."""
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k].tolist()) & set(t.tolist())) / k for f, t in zip(found, truth)]))


class NeighbourIndex:
    """Cosine neighbours of the rows of ``X``: exact, or faiss IVF (see the module note).
    Build with :meth:`build`; ``search(Q, k)`` answers; ``recall`` is the measured
    recall@``recall_k`` of the approximate search (1.0 for exact)."""

    def __init__(self, X: np.ndarray, index: Any = None, nprobe: int = 0, recall: float = 1.0,
                 recall_k: int = 10, build_s: float = 0.0) -> None:
        self.X, self.index, self.recall, self.recall_k, self.build_s = X, index, recall, recall_k, build_s
        self.nprobe = 0
        if index is not None:
            self.set_nprobe(nprobe or 16)

    @property
    def exact(self) -> bool:
        return self.index is None

    @property
    def kind(self) -> str:
        return "exact" if self.exact else f"faiss IVF{self.index.nlist},SQfp16 nprobe {self.nprobe}"

    def set_nprobe(self, nprobe: int) -> None:
        self.nprobe = int(max(1, min(nprobe, self.index.nlist)))
        self.index.nprobe = self.nprobe

    # ------------------------------------------------------------------ build
    @classmethod
    def iter_build(cls, X: np.ndarray, *, exact_below: int = EXACT_BELOW, nlist: int | None = None, seed: int = 0,
                   threads: int | None = None) -> Generator[tuple[int, int], None, NeighbourIndex]:
        """An index over the rows of ``X`` (N, D), as a generator yielding (rows added, N)
        (a caller may stop between chunks). Exact below ``exact_below`` rows; else trains
        ``nlist`` cells (default about sqrt(N)) on a sample of 64 a cell, adds the rows a
        chunk at a time and tunes ``nprobe`` to recall@10 >= 0.95; returns the index."""
        n = len(X)
        if n < exact_below:
            yield n, n
            return cls(X)
        import faiss

        if threads:
            faiss.omp_set_num_threads(int(threads))
        t0 = time.perf_counter()
        d = int(X.shape[1])
        nlist = int(nlist or max(16, min(65_536, int(math.sqrt(n)))))
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(n, size=min(n, 64 * nlist), replace=False))
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_fp16,
                                              faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = int(seed)
        index.train(_unit(X[sample]))
        yield 0, n
        for start in range(0, n, CHUNK):
            index.add(_unit(X[start:start + CHUNK]))
            yield min(n, start + CHUNK), n
        out = cls(X, index)
        out.tune(seed=seed)
        out.build_s = time.perf_counter() - t0
        return out

    @classmethod
    def build(cls, X: np.ndarray, *, progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None, **kw: Any) -> NeighbourIndex | None:
        """:meth:`iter_build` run to its end (``progress(done, N)`` at each step); None
        when ``should_stop()`` said so between chunks."""
        return drive(cls.iter_build(X, **kw), None if progress is None else (lambda step: progress(*step)),
                     should_stop)

    def tune(self, target: float = 0.95, k: int = 10, sample: int = 200, seed: int = 0) -> float:
        """Raise ``nprobe`` (doubling from 8) until recall@k on ``sample`` of the corpus's
        own rows as queries reaches ``target``; returns the recall measured."""
        if self.exact:
            return 1.0
        rng = np.random.default_rng(seed + 1)
        rows = rng.choice(len(self.X), size=min(sample, len(self.X)), replace=False)
        Q = _unit(self.X[np.sort(rows)])
        truth, _ = exact_search(self.X, Q, k)
        nprobe = 8
        while True:
            self.set_nprobe(nprobe)
            found, _ = self.search(Q, k)
            self.recall, self.recall_k = recall_at(found, truth), k
            if self.recall >= target or nprobe >= self.index.nlist:
                return self.recall
            nprobe *= 2

    # ------------------------------------------------------------------ search
    def search(self, Q: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """(ids (q, k) int64, cosines (q, k) float32) of the ``k`` nearest rows to each
        query, best first (ids -1 / cosine -inf where fewer than k were found)."""
        Qn = _unit(np.atleast_2d(Q))
        if self.exact:
            return exact_search(self.X, Qn, k)
        sims, ids = self.index.search(Qn, int(k))
        return ids.astype(np.int64), sims.astype(np.float32)

    def neighbours_of(self, rows: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest other rows of corpus rows ``rows`` (the row itself left out)."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        ids, sims = self.search(np.asarray(self.X[rows], dtype=np.float32), k + 1)
        out_i = np.full((len(rows), k), -1, dtype=np.int64)
        out_s = np.full((len(rows), k), -np.inf, dtype=np.float32)
        for r, (row, i, s) in enumerate(zip(rows, ids, sims)):
            keep = i != row
            out_i[r], out_s[r] = i[keep][:k], s[keep][:k]
        return out_i, out_s

    # ------------------------------------------------------------------ files
    def save(self, folder: str | Path) -> None:
        """Write the index beside an embedding cache (nothing to write for exact search
        but its info); a failed write raises StorageError naming the folder."""
        from .errors import StorageError
        from .storage import atomic_write_text

        folder = Path(folder)
        info = {"kind": "exact" if self.exact else "ivf-sqfp16", "rows": int(len(self.X)), "nprobe": self.nprobe,
                "recall": self.recall, "recall_k": self.recall_k, "build_s": round(self.build_s, 2)}
        if not self.exact:
            import faiss

            tmp = folder / (INDEX_FILE + ".tmp")
            try:
                faiss.write_index(self.index, str(tmp))
                tmp.replace(folder / INDEX_FILE)
            except (OSError, RuntimeError) as e:
                tmp.unlink(missing_ok=True)
                raise StorageError("{folder}: the neighbour index cannot be saved ({error})", folder=str(folder),
                                   error=str(getattr(e, "strerror", None) or e).splitlines()[0]) from None
        atomic_write_text(folder / INFO_FILE, json.dumps(info, indent=1))

    @classmethod
    def load(cls, folder: str | Path, X: np.ndarray) -> NeighbourIndex | None:
        """The index saved in ``folder`` for these rows, or None when there is none or it
        was built over another number of rows."""
        folder = Path(folder)
        try:
            info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(info, dict) or info.get("rows") != len(X):
            return None
        if info.get("kind") == "exact":
            return cls(X)
        import faiss

        try:
            index = faiss.read_index(str(folder / INDEX_FILE))
        except RuntimeError:
            return None
        if index.ntotal != len(X):
            return None
        return cls(X, index, nprobe=int(info.get("nprobe", 16)), recall=float(info.get("recall", math.nan)),
                   recall_k=int(info.get("recall_k", 10)), build_s=float(info.get("build_s", 0.0)))


__all__ = ["EXACT_BELOW", "NeighbourIndex", "exact_search", "recall_at"]
