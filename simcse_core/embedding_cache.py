"""Embeddings of a whole corpus, cached on disk: computed once, reopened at once, resumed
after a cancel (groundwork for exploring a large corpus, issue 16).

A cache is a folder holding ``embeddings.f16.npy`` (an (N, D) float16 array, memory-mapped:
a million sentences x 384 dims is 768 MB on disk and nothing in memory until read) and
``manifest.json``: what the rows are embeddings *of* (the model's fingerprint, its pooling
and maximum length, the corpus file's SHA-256 and sentence count) and how many rows are
written (``done``). Rows are written in corpus order, a chunk at a time; the manifest is
replaced atomically after each chunk, so a cancelled or killed encode resumes at the last
whole chunk, and a cache whose manifest does not match what is asked for is never used
(a changed corpus or model starts a new cache). The manifest also records the number
format the rows are encoded in (``precision``: float32 or bfloat16 and the check's lowest
cosine, :mod:`simcse_core.precision`), decided before the first row and kept for every
later chunk, so a resumed cache never mixes the two; opening with ``precision="auto"``
takes either, opening with ``float32`` or ``bfloat16`` takes only a cache in that format
(a cache written before the format was recorded is float32).

    key = cache_key(model_folder, "avg", 128, corpus_path, len(sentences))
    cache = EmbeddingCache.open(default_cache_dir(corpus_path, key), key, n=len(sentences), dim=384)
    encode_into(encoder, sentences, cache, progress=..., should_stop=...)
    X = cache.array()  # (N, D) float16, read-only memory map

No Qt; the studio runs :func:`encode_into` in a worker.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import StorageError
from .precision import PrecisionChoice, check_precision, choose_precision
from .storage import atomic_write_text

FORMAT = 1
MANIFEST = "manifest.json"
EMBEDDINGS = "embeddings.f16.npy"
CHUNK = 2048  # sentences encoded (and committed) at a time: progress and resume points
_MODEL_FILES = (".json", ".safetensors", ".txt", ".model")  # what identifies a model folder's weights and tokenizer


def file_sha256(path: str | Path, block: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(block):
            h.update(data)
    return h.hexdigest()


def model_fingerprint(folder: str | Path) -> str:
    """SHA-256 over a model folder's configuration, weight and tokenizer files (names and
    contents, sub-folders included): the same weights give the same fingerprint wherever
    the folder lies; any changed weight gives another."""
    root = Path(folder)
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file() and q.suffix in _MODEL_FILES):
        h.update(p.relative_to(root).as_posix().encode("utf-8") + b"\0")
        h.update(file_sha256(p).encode("ascii"))
    return h.hexdigest()


def model_identity(spec: str, seed: int = 42) -> str:
    """What identifies a model spec's weights: the folder's :func:`model_fingerprint`; for
    ``random:`` and ``reinit:`` specs (weights drawn from ``seed`` on load, as a run's
    start model) that fingerprint hashed with the spec and the seed."""
    from .model import parse_reinit, resolve_model_path

    rest, reinit = parse_reinit(spec)
    folder, random_init = resolve_model_path(rest)
    fp = model_fingerprint(folder)
    if reinit is None and not random_init:
        return fp
    return hashlib.sha256(f"{fp}|{str(spec).strip()}|seed={int(seed)}".encode("utf-8")).hexdigest()


def cache_key(model_folder: str | Path, pooler_type: str, max_seq_length: int, corpus: str | Path,
              count: int, text_column: str | None = None, model_id: str | None = None) -> dict[str, Any]:
    """What a cache's rows are embeddings of (compared in full when a cache is reopened);
    ``model_id`` (:func:`model_identity`) in place of the folder's fingerprint."""
    return {"format": FORMAT, "model": model_id or model_fingerprint(model_folder), "pooler_type": str(pooler_type),
            "max_seq_length": int(max_seq_length), "corpus_sha256": file_sha256(corpus), "count": int(count),
            "text_column": text_column}


def default_cache_dir(corpus: str | Path, key: dict[str, Any]) -> Path:
    """``<corpus>.simcse-cache/<key hash>/`` beside the corpus (one folder per model and
    settings, so several models' embeddings of one corpus coexist)."""
    p = Path(corpus)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    return p.parent / f"{p.name}.simcse-cache" / digest


def user_cache_root() -> Path:
    """Where caches go when the corpus's own folder cannot be written (a read-only share,
    an installed package): ``$XDG_CACHE_HOME/simcse-studio/embeddings`` (``~/.cache/...``)."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "simcse-studio" / "embeddings"


def writable_cache_dir(corpus: str | Path, key: dict[str, Any]) -> Path:
    """:func:`default_cache_dir` when the corpus's folder can be written, else the same
    name under :func:`user_cache_root` (the corpus's path hashed in, so two corpora of one
    name do not meet)."""
    import os

    p = Path(corpus).resolve()
    if os.access(p.parent, os.W_OK):
        return default_cache_dir(p, key)
    where = hashlib.sha256(str(p).encode("utf-8")).hexdigest()[:8]
    return user_cache_root() / f"{p.name}-{where}" / default_cache_dir(p, key).name


class EmbeddingCache:
    """One cache folder (see the module note). Use :meth:`open`."""

    def __init__(self, folder: Path, key: dict[str, Any], n: int, dim: int, done: int,
                 info: dict[str, Any] | None = None, precision: PrecisionChoice | None = None,
                 asked: str = "auto") -> None:
        self.folder, self.key, self.n, self.dim, self.done = folder, key, n, dim, done
        self.info = dict(info or {})  # where the rows came from (corpus path, model folder): for a reader, not compared
        self.precision = precision  # the number format the rows are encoded in; None until it is chosen
        self.asked = asked  # the precision asked for (PRECISIONS): what choosing it starts from
        self._rows: np.memmap | None = None

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, folder: str | Path, key: dict[str, Any], n: int, dim: int,
             info: dict[str, Any] | None = None, precision: str = "auto") -> EmbeddingCache:
        """The cache in ``folder`` if its manifest matches ``key`` and the shape (resuming
        at its ``done``) and its rows are in the ``precision`` asked for (``auto``: any);
        else a new, empty one there (an old one is replaced). ``info`` (the corpus path,
        text column, model folder) is written to the manifest for whoever opens the folder
        later (the studio); it does not decide reuse."""
        folder = Path(folder)
        check_precision(precision)
        old = read_manifest(folder)
        if old is not None and old.get("key") == key and old.get("shape") == [n, dim] \
                and (folder / EMBEDDINGS).is_file():
            done = int(old.get("done", 0))
            recorded = PrecisionChoice.from_dict(old.get("precision"))
            if recorded is None and done > 0:  # written before the format was recorded: float32
                recorded = PrecisionChoice("float32", "asked")
            if precision == "auto" or recorded is None or recorded.dtype == precision:
                return cls(folder, key, n, dim, done, info or old.get("info"), recorded, precision)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / MANIFEST).unlink(missing_ok=True)  # no manifest: the old rows are never read as the new
            np.lib.format.open_memmap(folder / EMBEDDINGS, mode="w+", dtype=np.float16, shape=(n, dim)).flush()
        except OSError as e:
            raise StorageError("{folder}: the embedding cache cannot be written ({error})", folder=str(folder),
                               error=e.strerror or str(e)) from None
        cache = cls(folder, key, n, dim, 0, info, asked=precision)
        cache._commit()
        return cache

    @property
    def complete(self) -> bool:
        return self.done >= self.n

    # ------------------------------------------------------------------ rows
    def write(self, start: int, rows: np.ndarray) -> None:
        """Rows ``start:start + len(rows)`` (float32 or float16), then ``done`` moves to
        their end once they are on disk. Rows are written in order (``start == done``)."""
        if start != self.done:
            raise ValueError(f"rows must follow the {self.done} written (got start {start})")
        if self._rows is None:
            self._rows = np.load(self.folder / EMBEDDINGS, mmap_mode="r+")
        end = start + len(rows)
        self._rows[start:end] = np.asarray(rows, dtype=np.float16)
        self._rows.flush()
        self.done = end
        self._commit()

    def array(self) -> np.ndarray:
        """The written rows, (done, D) float16, a read-only memory map."""
        return np.load(self.folder / EMBEDDINGS, mmap_mode="r")[: self.done]

    def close(self) -> None:
        self._rows = None

    def set_precision(self, choice: PrecisionChoice) -> None:
        """Record the number format the rows are (to be) encoded in."""
        self.precision = choice
        self._commit()

    def _commit(self) -> None:
        atomic_write_text(self.folder / MANIFEST, json.dumps(
            {"key": self.key, "shape": [self.n, self.dim], "done": self.done, "dtype": "float16", "info": self.info,
             "precision": None if self.precision is None else self.precision.as_dict()}, indent=1))


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """A cache folder's manifest, or None when it is missing or unreadable."""
    try:
        obj = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def encode_into(encoder: Any, sentences: Sequence[str], cache: EmbeddingCache, *, batch_size: int | None = None,
                chunk: int | None = None, progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] | None = None, max_chunks: int | None = None) -> bool:
    """Encode the rows ``cache`` still lacks, a ``chunk`` at a time, committing each;
    (:data:`CHUNK` by default) ``progress(done, total)`` after each chunk; stops between chunks when
    ``should_stop()`` says so, or after ``max_chunks`` chunks. True when the cache is
    complete. The precision is the one the cache records, else chosen now
    (:func:`cache_precision`)."""
    total = len(sentences)
    if total != cache.n:
        raise ValueError(f"{total} sentences for a cache of {cache.n} rows")
    dtype = "float32" if cache.complete else cache_precision(encoder, sentences, cache).dtype
    chunk = CHUNK if chunk is None else chunk
    chunks = 0
    while not cache.complete:
        if (should_stop is not None and should_stop()) or (max_chunks is not None and chunks >= max_chunks):
            return False
        chunks += 1
        start = cache.done
        end = min(total, start + max(1, int(chunk)))
        cache.write(start, encoder.encode(list(sentences[start:end]), batch_size=batch_size, precision=dtype))
        if progress is not None:
            progress(cache.done, total)
    return True


def cache_precision(encoder: Any, sentences: Sequence[str], cache: EmbeddingCache) -> PrecisionChoice:
    """The number format of ``cache``'s rows: the one it records (a resumed cache keeps
    it), else chosen by :func:`~simcse_core.precision.choose_precision` for the precision
    asked when it was opened, over a sample of ``sentences``, and recorded."""
    if cache.precision is None:
        cache.set_precision(choose_precision(encoder, sentences, cache.asked))
    assert cache.precision is not None
    return cache.precision


__all__ = ["CHUNK", "cache_precision", "EmbeddingCache", "cache_key", "default_cache_dir", "encode_into", "file_sha256",
           "model_fingerprint", "model_identity", "read_manifest", "user_cache_root", "writable_cache_dir"]
