"""The worker side of the explore window: what lives in the job thread, never on the GUI thread.

:class:`ExploreSession` holds the live encoder and the neighbour index (a faiss object)
of a prepared corpus; its methods are what the window submits as jobs, and each hands
back plain data (numpy arrays, lists, numbers): the :class:`ExploreView` once the corpus
is ready, neighbours of a typed query or of a sentence, cluster ids and their labels.
No Qt here.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simcse_core.clusters import cluster_table, density_clusters, kmeans_clusters
from simcse_core.precision import PrecisionChoice
from simcse_core.explore import BeforeAfter, ExploreData, Progress, before_after, export_rows, prepare, run_models


@dataclass
class ExploreView:
    """What the window draws and lists: texts, label columns, the map, the index's kind
    and measured recall, the cache folder. Plain data, made once per corpus."""

    texts: list[str]
    columns: dict[str, list[str]]
    layout: np.ndarray  # (N, 2) float32
    index_kind: str
    recall: float
    recall_k: int
    folder: str
    info: dict[str, Any] = field(default_factory=dict)
    # before and after (the model is a run folder): the start model's map, and each
    # sampled sentence's neighbourhood overlap between the start and the trained model
    # each label column as (distinct values by count, most common first; (N,) int codes into
    # them), made in the worker: a million strings take seconds to sort
    codes: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    before_layout: np.ndarray | None = None
    changed_rows: np.ndarray | None = None  # sampled rows, lowest overlap first
    changed_overlap: np.ndarray | None = None
    k: int = 10
    precision: PrecisionChoice | None = None  # the number format the rows were encoded in

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def compared(self) -> bool:
        return self.before_layout is not None


@dataclass
class Clusters:
    """Cluster ids (N,) int (-1: none), their table (largest first: id, size, label,
    terms, examples) and the method that made them."""

    ids: np.ndarray
    table: list[dict]
    method: str


def column_codes(values: list[str]) -> tuple[list[str], np.ndarray]:
    """A label column as (its distinct values, most common first; (N,) int64 codes)."""
    names, inverse, counts = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True,
                                       return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return [str(n) for n in names[order]], rank[inverse.reshape(-1)].astype(np.int64)


class ExploreSession:
    """One corpus being explored (see the module note). ``stop`` (a threading.Event)
    cancels :meth:`prepare` between chunks."""

    def __init__(self, corpus: str | Path, model: str, **options: Any) -> None:
        self.corpus, self.model, self.options = str(corpus), str(model), options
        self.stop = threading.Event()
        self.data: ExploreData | None = None  # the (trained) model's
        self.before: ExploreData | None = None  # the start model's, when ``model`` is a run folder
        self.run = run_models(model)  # (start spec, seed, trained folder) or None

    # ------------------------------------------------------------ jobs (worker thread)
    def prepare(self) -> Generator[Progress, None, ExploreView | None]:
        """Read, encode, lay out and index (yields Progress); the view, or None when stopped."""
        if self.run is not None:
            start, seed, trained = self.run
            ba: BeforeAfter | None = yield from before_after(self.corpus, start, trained, before_seed=seed,
                                                             should_stop=self.stop.is_set, **self.options)
            if ba is None:
                return None
            self.data, self.before = ba.after, ba.before
            order = np.argsort(ba.overlap, kind="stable")
            extra = {"before_layout": np.asarray(ba.before.layout, dtype=np.float32), "changed_rows": ba.rows[order],
                     "changed_overlap": ba.overlap[order], "k": ba.k}
            layout = ba.after_layout
        else:
            data = yield from prepare(self.corpus, self.model, should_stop=self.stop.is_set, **self.options)
            if data is None:
                return None
            self.data, extra, layout = data, {}, data.layout
        data, ix = self.data, self.data.index
        return ExploreView(data.texts, data.columns, np.asarray(layout, dtype=np.float32), ix.kind,
                           float(ix.recall), int(ix.recall_k), str(data.folder), dict(data.info),
                           codes={name: column_codes(values) for name, values in data.columns.items()},
                           precision=data.precision, **extra)

    def search_text(self, query: str, k: int = 20) -> tuple[str, np.ndarray, np.ndarray]:
        """(query, ids (k,), cosines (k,)) of the sentences nearest a typed query."""
        data = self._ready()
        q = data.encoder.encode([query], batch_size=1, precision=data.precision.dtype)  # as the rows
        ids, sims = data.index.search(q, k)
        keep = ids[0] >= 0
        return query, ids[0][keep], sims[0][keep]

    def neighbours(self, row: int, k: int = 20) -> tuple[int, np.ndarray, np.ndarray]:
        """(row, ids (k,), cosines (k,)) of the sentences nearest corpus row ``row``."""
        ids, sims = self._ready().index.neighbours_of(np.array([row]), k)
        keep = ids[0] >= 0
        return row, ids[0][keep], sims[0][keep]

    def neighbours_both(self, row: int, k: int = 10) -> tuple[int, np.ndarray, np.ndarray]:
        """(row, the start model's k nearest rows, the trained model's) of corpus row ``row``."""
        if self.before is None:
            raise RuntimeError("no start model to compare with")
        before, _ = self.before.index.neighbours_of(np.array([row]), k)
        after, _ = self._ready().index.neighbours_of(np.array([row]), k)
        return row, before[0], after[0]

    def cluster(self, method: str, k: int = 12, min_size: int = 25) -> Clusters:
        """k-means on the embeddings (``k`` clusters) or HDBSCAN on the map (clusters of at
        least ``min_size``), with keyword labels and example sentences."""
        data = self._ready()
        if method == "kmeans":
            ids = kmeans_clusters(np.asarray(data.X, dtype=np.float32), int(k))
            X = data.X
        else:
            ids = density_clusters(data.layout, int(min_size))
            X = data.X
        return Clusters(ids, cluster_table(data.texts, ids, top=3, examples=3, X=X), method)

    def filter_rows(self, column: str | None, value: str | None, text: str) -> np.ndarray:
        """(N,) bool: rows whose ``column`` equals ``value`` (when both are given) and whose
        text contains ``text`` (case-insensitive; all rows when empty)."""
        data = self._ready()
        keep = np.ones(len(data.texts), dtype=bool)
        if column and value is not None and column in data.columns:
            keep &= np.asarray(data.columns[column], dtype=object) == value
        needle = text.strip().casefold()
        if needle:
            keep &= np.fromiter((needle in t.casefold() for t in data.texts), dtype=bool, count=len(data.texts))
        return keep

    def export(self, path: str, rows: np.ndarray, clusters: Clusters | None, k: int = 10,
               chunk: int = 4096) -> Generator[tuple[int, int], None, tuple[str, int]]:
        """Write the rows with their columns, map position, cluster and ``k`` nearest
        neighbours to a .csv or .parquet file; yields (rows with neighbours found, rows)."""
        data = self._ready()
        rows = np.asarray(rows, dtype=np.int64)
        nb = np.full((len(rows), k), -1, dtype=np.int64)
        cos = np.full((len(rows), k), np.nan, dtype=np.float32)
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            nb[start:start + len(part)], cos[start:start + len(part)] = data.index.neighbours_of(part, k)
            yield min(len(rows), start + chunk), len(rows)
        labels = None if clusters is None else {r["id"]: r["label"] for r in clusters.table}
        n = export_rows(path, rows, data.texts, data.columns, data.layout, None if clusters is None else clusters.ids,
                        labels, nb, cos)
        return path, n

    def _ready(self) -> ExploreData:
        if self.data is None:
            raise RuntimeError("the corpus is not prepared yet")
        return self.data


__all__ = ["Clusters", "ExploreSession", "ExploreView", "column_codes"]
