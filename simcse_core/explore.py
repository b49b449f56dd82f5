"""Explore a corpus with a model: every sentence embedded, laid out on a 2D map, indexed
for neighbour search (issue 16). The studio's explore window runs :func:`prepare` in a
worker; ``simcse encode --cache`` makes the same cache ahead of time.

    for step in (gen := prepare("corpus.csv", "my-model/")):
        print(step)            # Progress(stage, done, total, eta_s)
    # the generator's return value (StopIteration.value) is an ExploreData

Stages, each resumable or reused from the cache folder (see
:mod:`simcse_core.embedding_cache`): ``read`` the corpus (its label columns kept),
``encode`` the sentences not yet in the cache, ``layout`` (UMAP, cosine, fitted on a
sample of at most :data:`LAYOUT_SAMPLE` rows, the rest placed by the fitted model in
chunks; above :data:`~simcse_core.layout_process.PROCESS_ABOVE` rows in a child process
that a stop ends at once; saved as ``layout.f32.npy``), ``index`` (:class:`~simcse_core.neighbours.NeighbourIndex`,
saved beside). A stop between chunks (``should_stop``) ends the generator early with
``None``; what was done stays in the cache. No Qt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .embedding_cache import (EMBEDDINGS, EmbeddingCache, cache_key, cache_precision, encode_into, model_identity,
                              writable_cache_dir)
from .errors import SimCSEError
from .layout_process import PROCESS_ABOVE, iter_layout_2d_process
from .neighbours import NeighbourIndex
from .precision import PrecisionChoice
from .steps import drive

LAYOUT_SAMPLE = 20_000  # rows UMAP is fitted on; the rest are placed by the fitted model
LAYOUT_CHUNK = 20_000  # rows placed at a time
LAYOUT_FILE = "layout.f32.npy"
LAYOUT_INFO = "layout.json"


@dataclass
class Progress:
    """One step of :func:`prepare`: ``stage`` (read, encode, layout, index), rows done of
    ``total``, seconds left (None until a rate is known) and a note (resumed, cached)."""

    stage: str
    done: int
    total: int
    eta_s: float | None = None
    note: str = ""


@dataclass
class ExploreData:
    """A corpus ready to explore: ``texts`` and their label ``columns``, embeddings ``X``
    (N, D) float16 (a read-only memory map of the cache), the 2D ``layout`` (N, 2)
    float32, the neighbour ``index``, the cache ``folder`` and what it was made from."""

    texts: list[str]
    columns: dict[str, list[str]]
    X: np.ndarray
    layout: np.ndarray
    index: NeighbourIndex
    folder: Path
    info: dict[str, Any] = field(default_factory=dict)
    encoder: Any = None  # the loaded encoder (typed queries are embedded with it)
    # the number format of the rows (typed queries are embedded the same way)
    precision: PrecisionChoice = field(default_factory=lambda: PrecisionChoice("float32", "asked"))

    def __len__(self) -> int:
        return len(self.texts)


class _Rate:
    """Seconds left from the rows done since the stage began (None in the first second)."""

    def __init__(self, start: int) -> None:
        self.t0, self.start = time.monotonic(), start

    def eta(self, done: int, total: int) -> float | None:
        dt = time.monotonic() - self.t0
        if dt < 1.0 or done <= self.start:
            return None
        return (total - done) * dt / (done - self.start)


def iter_layout_2d(X: np.ndarray, *, sample: int = LAYOUT_SAMPLE, chunk: int = LAYOUT_CHUNK,
                   seed: int = 0) -> Generator[tuple[int, int], None, np.ndarray]:
    """(N, 2) float32 UMAP map (cosine) of the rows of ``X``, as a generator: fitted on
    all rows up to ``sample``, else on ``sample`` rows drawn with ``seed``, the other rows
    then placed by the fitted model ``chunk`` at a time. Yields (rows placed, N) after the
    fit and after each chunk (a caller may stop between); returns the map."""
    from .projection import import_umap

    umap = import_umap()
    n = len(X)
    if n < 3:
        return np.zeros((n, 2), dtype=np.float32)
    reducer = umap.UMAP(n_neighbors=min(15, n - 1), min_dist=0.1, metric="cosine", random_state=seed,
                        n_jobs=1, low_memory=True, verbose=False)  # seeded: one thread anyway
    if n <= sample:
        out = reducer.fit_transform(np.asarray(X, dtype=np.float32)).astype(np.float32)
        yield n, n
        return out
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, size=sample, replace=False))
    out = np.empty((n, 2), dtype=np.float32)
    out[fit_rows] = reducer.fit_transform(np.asarray(X[fit_rows], dtype=np.float32))
    placed = np.zeros(n, dtype=bool)
    placed[fit_rows] = True
    done = sample
    yield done, n
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk))
        rows = rows[~placed[rows]]
        if rows.size:
            out[rows] = reducer.transform(np.asarray(X[rows], dtype=np.float32))
            done += rows.size
            yield done, n
    return out


def layout_2d(X: np.ndarray, *, sample: int = LAYOUT_SAMPLE, chunk: int = LAYOUT_CHUNK, seed: int = 0,
              progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> np.ndarray | None:
    """:func:`iter_layout_2d` run to its end: ``progress(done, N)`` at each step; None
    when ``should_stop()`` said so between steps."""
    return drive(iter_layout_2d(X, sample=sample, chunk=chunk, seed=seed),
                 None if progress is None else (lambda step: progress(*step)), should_stop)


def _staged(gen: Generator[tuple[int, int], None, Any], stage: str, stop: Callable[[], bool],
            box: list) -> Generator[Progress, None, bool]:
    """Yield a :class:`Progress` of ``stage`` for each (done, total) of ``gen``, with the
    time left; its result goes into ``box``. False when ``stop()`` ended it early."""
    rate = _Rate(0)
    while True:
        try:
            done, total = next(gen)
        except StopIteration as e:
            box.append(e.value)
            return True
        yield Progress(stage, done, total, rate.eta(done, total))
        if stop():
            gen.close()
            return False


def _save_layout(folder: Path, layout: np.ndarray, info: dict[str, Any]) -> None:
    from .errors import StorageError
    from .storage import atomic_write_text

    tmp = folder / (LAYOUT_FILE + ".tmp.npy")
    try:
        np.save(tmp, layout)
        tmp.replace(folder / LAYOUT_FILE)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StorageError("{folder}: the map cannot be saved ({error})", folder=str(folder),
                           error=e.strerror or str(e)) from None
    atomic_write_text(folder / LAYOUT_INFO, json.dumps(info))


def _cached_layout(folder: Path, n: int, sample: int, seed: int) -> np.ndarray | None:
    try:
        info = json.loads((folder / LAYOUT_INFO).read_text(encoding="utf-8"))
        if info != {"rows": n, "sample": sample, "seed": seed, "method": "umap-cosine"}:
            return None
        arr = np.load(folder / LAYOUT_FILE, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return arr if arr.shape == (n, 2) and np.isfinite(arr).all() else None


def prepare(corpus: str | Path, model: str = "default", *, text_column: str | None = None,
            cache_dir: str | Path | None = None, pooler_type: str = "auto", max_seq_length: int = 128,
            batch_size: int | None = None, device: str = "auto", allow_pickle: bool = False,
            precision: str = "auto", layout_sample: int = LAYOUT_SAMPLE, seed: int = 0,
            exact_below: int | None = None, model_seed: int = 42, should_stop: Callable[[], bool] | None = None
            ) -> Generator[Progress, None, ExploreData | None]:
    """Read, encode, lay out and index a corpus for exploring (see the module note).
    ``model`` may be a run's start model (``reinit:1:default``, ``random:default``): its
    weights are drawn from ``model_seed`` as the run drew them. ``batch_size`` None: sized
    for the device (:func:`~simcse_core.model.encode_batch_size`: 512 on a GPU, 32 on a CPU).
    ``precision``: :data:`~simcse_core.precision.PRECISIONS` (auto: bfloat16 where the
    device has it and a sample of the corpus gives the same embeddings; recorded in the
    cache, and typed queries are embedded the same way). Yields :class:`Progress`;
    returns the :class:`ExploreData` (None when stopped).
    Bad input raises :class:`~simcse_core.errors.SimCSEError` naming the file or field."""
    from .data import read_corpus
    from .model import encode_batch_size, load_model, parse_reinit, pick_device, resolve_model_path

    stop = should_stop or (lambda: False)
    corpus = Path(corpus)
    yield Progress("read", 0, 1)
    data = read_corpus(corpus, text_column=text_column, min_sentences=1)
    n = len(data)
    yield Progress("read", 1, 1, note=f"{n:,} sentences")
    folder_model, _ = resolve_model_path(parse_reinit(model)[0])
    enc = load_model(model, pooler_type, max_seq_length=max_seq_length, allow_pickle=allow_pickle, seed=model_seed)
    enc.to(pick_device(device))
    if batch_size is None:  # sized for the device: a GPU takes far larger batches than a CPU gains from
        batch_size = encode_batch_size(enc.device)
    key = cache_key(folder_model, enc.pooler_type, enc.max_seq_length, corpus, n, text_column,
                    model_id=model_identity(model, model_seed))
    where = Path(cache_dir) if cache_dir else writable_cache_dir(corpus, key)
    info = {"corpus": str(corpus.resolve()), "text_column": data.text_column, "model": str(folder_model.resolve()),
            "model_spec": str(model)}
    cache = EmbeddingCache.open(where, key, n, enc.dim, info, precision=precision)
    rate = _Rate(cache.done)
    state = "resumed" if 0 < cache.done < n else ("cached" if cache.complete else "")
    yield Progress("encode", cache.done, n, note=state)
    steps: list[Progress] = []

    def encoded(done: int, total: int) -> None:
        steps.append(Progress("encode", done, total, rate.eta(done, total)))

    gen_stop = {"hit": False}

    def stop_between() -> bool:
        gen_stop["hit"] = stop()
        return gen_stop["hit"]

    while not cache.complete:  # one chunk per call, so progress reaches the caller as it happens
        encode_into(enc, data.sentences, cache, batch_size=batch_size, progress=encoded,
                    should_stop=stop_between, max_chunks=1)
        yield from steps
        steps.clear()
        if gen_stop["hit"]:
            cache.close()
            return None
    cache.close()
    X = cache.array()
    layout = _cached_layout(where, n, layout_sample, seed)
    if layout is None:
        yield Progress("layout", 0, n)
        box: list = []
        if n > PROCESS_ABOVE:  # a child process: stopped at once, never stalls the studio's threads
            layout_gen = iter_layout_2d_process(where / EMBEDDINGS, n, sample=layout_sample, chunk=LAYOUT_CHUNK,
                                                seed=seed)
        else:
            layout_gen = iter_layout_2d(X, sample=layout_sample, seed=seed)
        if not (yield from _staged(layout_gen, "layout", stop, box)):
            return None
        layout = box[0]
        _save_layout(where, layout, {"rows": n, "sample": layout_sample, "seed": seed, "method": "umap-cosine"})
    else:
        yield Progress("layout", n, n, note="cached")
    index = NeighbourIndex.load(where, X)
    if index is None:
        yield Progress("index", 0, n)
        kw = {} if exact_below is None else {"exact_below": exact_below}
        box = []
        if not (yield from _staged(NeighbourIndex.iter_build(X, seed=seed, **kw), "index", stop, box)):
            return None
        index = box[0]
        index.save(where)
    else:
        yield Progress("index", n, n, note="cached")
    return ExploreData(list(data.sentences), dict(data.columns), X, layout, index, where, info, enc,
                       cache_precision(enc, data.sentences, cache))


@dataclass
class BeforeAfter:
    """One corpus under two models (a run's start and its trained model): both prepared,
    the after map aligned onto the before map (``after_layout``: rotation, scale and
    shift), and for the sentences in ``rows`` (all up to ``sample``, else a seeded
    sample) ``overlap``: the share of their ``k`` nearest neighbours the two models
    agree on (1: the same neighbours; about k/N: unrelated)."""

    before: ExploreData
    after: ExploreData
    after_layout: np.ndarray
    rows: np.ndarray
    overlap: np.ndarray
    k: int

    def changed_most(self, n: int = 50) -> np.ndarray:
        """The rows whose neighbourhoods changed most (lowest overlap first)."""
        return self.rows[np.argsort(self.overlap, kind="stable")[:n]]


def before_after(corpus: str | Path, before_model: str, after_model: str, *, before_seed: int = 42, k: int = 10,
                 sample: int = 20_000, chunk: int = 4096, should_stop: Callable[[], bool] | None = None,
                 **options: Any) -> Generator[Progress, None, BeforeAfter | None]:
    """Prepare ``corpus`` under both models (stages as :func:`prepare`, the note saying
    which model), then measure each sampled sentence's neighbourhood change (stage
    ``compare``). Returns the :class:`BeforeAfter`, or None when stopped."""
    from .projection import knn_overlap, procrustes

    stop = should_stop or (lambda: False)
    before = yield from _labelled(prepare(corpus, before_model, model_seed=before_seed, should_stop=stop, **options),
                                  "before")
    if before is None:
        return None
    after = yield from _labelled(prepare(corpus, after_model, should_stop=stop, **options), "after")
    if after is None:
        return None
    n = len(before)
    rows = np.arange(n) if n <= sample else np.sort(np.random.default_rng(0).choice(n, sample, replace=False))
    overlap = np.empty(len(rows))
    yield Progress("compare", 0, len(rows))
    for start in range(0, len(rows), chunk):
        if stop():
            return None
        part = rows[start:start + chunk]
        nb_b, _ = before.index.neighbours_of(part, k)
        nb_a, _ = after.index.neighbours_of(part, k)
        overlap[start:start + len(part)] = knn_overlap(nb_b, nb_a)
        yield Progress("compare", min(len(rows), start + chunk), len(rows))
    aligned, *_ = procrustes(after.layout, before.layout)
    return BeforeAfter(before, after, aligned.astype(np.float32), rows, overlap, int(k))


def run_models(folder: str | Path) -> tuple[str, int, str] | None:
    """For a run folder (its ``config.json`` and a saved model or checkpoint): (the start
    model spec, the run's seed, the trained model folder); None for any other folder."""
    from .runs import final_model_path

    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    trained = final_model_path(folder)
    if not isinstance(config, dict) or "model_name_or_path" not in config or trained is None:
        return None
    return str(config["model_name_or_path"]), int(config.get("seed", 42)), str(trained)


def _labelled(gen: Generator[Progress, None, Any], which: str) -> Generator[Progress, None, Any]:
    """The steps of ``gen`` with ``which`` (before / after) as their note's first word."""
    while True:
        try:
            step = next(gen)
        except StopIteration as e:
            return e.value
        step.note = f"{which} {step.note}".strip()
        yield step


def run_prepare(gen: Generator[Progress, None, ExploreData | None],
                on_progress: Callable[[Progress], None] | None = None) -> ExploreData | None:
    """Drive :func:`prepare` to its end; its result."""
    return drive(gen, on_progress)




def export_rows(path: str | Path, rows: np.ndarray, texts: list[str], columns: dict[str, list[str]],
                layout: np.ndarray, clusters: np.ndarray | None = None, cluster_labels: dict[int, str] | None = None,
                neighbours: np.ndarray | None = None, neighbour_cosines: np.ndarray | None = None) -> int:
    """Write corpus rows ``rows`` to ``path`` (.csv, or .parquet with pyarrow installed):
    ``row`` (the corpus row), ``text``, every label column, ``x`` and ``y`` on the map,
    ``cluster`` and ``cluster_label`` when clustered, and ``neighbours`` (the nearest rows,
    space-separated) with ``neighbour_cosines`` when given. Returns the rows written.
    Raises :class:`~simcse_core.errors.StorageError` naming the file when it cannot be
    written, SimCSEError for an unknown format or a missing pyarrow."""
    import csv

    from .errors import StorageError

    path = Path(path)
    rows = np.asarray(rows, dtype=np.int64)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise SimCSEError("{path}: export to .csv or .parquet", path=str(path))
    table: dict[str, list[Any]] = {"row": rows.tolist(), "text": [texts[i] for i in rows]}
    for name, values in columns.items():
        table[name] = [values[i] for i in rows]
    table["x"] = layout[rows, 0].astype(float).round(5).tolist()
    table["y"] = layout[rows, 1].astype(float).round(5).tolist()
    if clusters is not None:
        table["cluster"] = clusters[rows].astype(int).tolist()
        names = cluster_labels or {}
        table["cluster_label"] = [names.get(int(c), "") for c in clusters[rows]]
    if neighbours is not None:
        table["neighbours"] = [" ".join(str(int(j)) for j in nb if j >= 0) for nb in neighbours]
        if neighbour_cosines is not None:
            table["neighbour_cosines"] = [" ".join(f"{c:.4f}" for c, j in zip(cs, nb) if j >= 0)
                                          for cs, nb in zip(neighbour_cosines, neighbours)]
    tmp = path.with_name(path.name + ".tmp")
    try:
        if suffix == ".parquet":
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise SimCSEError("{path}: Parquet needs pyarrow (pip install pyarrow); CSV works without it",
                                  path=str(path)) from None
            pq.write_table(pa.table(table), tmp)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(list(table))
                w.writerows(zip(*table.values()))
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StorageError("{path}: the export cannot be written ({error})", path=str(path),
                           error=e.strerror or str(e)) from None
    return int(rows.size)


__all__ = ["BeforeAfter", "ExploreData", "LAYOUT_SAMPLE", "Progress", "before_after", "export_rows", "iter_layout_2d",
           "layout_2d", "prepare", "run_models", "run_prepare"]
