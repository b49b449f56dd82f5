"""Which sentences a run uses, by corpus id: :class:`SentenceIndex`.

Panels and views show sentences for the corpus ids of snapshots (``batch_ids``,
``probe_ids``). The probe texts arrive with the first snapshot; a batch sentence
outside the probe set needs the run's corpus, read once in a worker thread through
the engine's one answer to "which sentences does this run use"
(:func:`simcse_core.data.run_sentences`), so the studio numbers sentences exactly as
the trainer does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

log = logging.getLogger(__name__)

# The config fields that decide a run's corpus ids (see ``run_sentences``).
CORPUS_KEYS = ("mode", "train_file", "text_column", "drop_duplicates")


def read_corpus_texts(config: Any) -> list[str]:
    """The sentences of a run's corpus, indexed by corpus id (as the trainer reads
    them). ``config``: a TrainConfig or its dict. Runs in a worker thread."""
    from simcse_core.data import run_sentences

    return run_sentences(config).by_id


def read_corpus_job(request: int, config: Any) -> tuple[int, list[str] | None, str]:
    """(request, sentences or None, failure line): :func:`read_corpus_texts` as a
    worker's job whose failure comes back as data."""
    try:
        return request, read_corpus_texts(config), ""
    except Exception as e:  # logged by the index; the panels show ids meanwhile
        return request, None, f"{type(e).__name__}: {e}"


def corpus_key(config: Any) -> tuple[Any, ...]:
    """What identifies a run's corpus: two configs with the same key number their
    sentences alike."""
    get = config.get if isinstance(config, dict) else (lambda k: getattr(config, k, None))
    return tuple(get(k) for k in CORPUS_KEYS)


class SentenceIndex(QObject):
    """corpus id -> sentence: the probe texts at once, the whole corpus once read.

    Call it with a corpus id (``index(17)``) for the sentence, or None while unknown.
    ``changed()`` is emitted on the GUI thread when more sentences became known.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.probe: dict[int, str] = {}
        self.corpus: list[str] | None = None
        self._key: tuple[Any, ...] | None = None
        self._worker: Any = None
        self._request = 0

    def __call__(self, corpus_id: int) -> str | None:
        cid = int(corpus_id)
        t = self.probe.get(cid)
        if t is not None:
            return t
        c = self.corpus
        if c is not None and 0 <= cid < len(c):
            return c[cid]
        return None

    @property
    def loading(self) -> bool:
        """Whether a corpus read is under way."""
        return self._worker is not None

    def clear(self) -> None:
        """Forget the probe texts (a new run; the corpus stays until another is read)."""
        self.probe = {}

    def set_probe(self, ids: np.ndarray | Sequence[int] | None, texts: Sequence[str] | None) -> None:
        """The probe set's sentences (``ids`` and ``texts`` aligned)."""
        if ids is None or texts is None or len(ids) != len(texts):
            return
        self.probe = {int(i): t for i, t in zip(ids, texts)}
        self.changed.emit()

    def load_corpus(self, config: Any) -> None:
        """Read the run's corpus in a worker (once per corpus: a config with the same
        :func:`corpus_key` as the last one read or being read does nothing)."""
        if not config:
            return
        key = corpus_key(config)
        if key == self._key and (self.corpus is not None or self._worker is not None):
            return
        self._key = key
        self.corpus = None
        self._request += 1
        job = dict(config) if isinstance(config, dict) else config  # the worker gets its own copy of a dict
        # a bound method, not a lambda: Qt drops the connection if the index is deleted first
        self._worker = create_worker(read_corpus_job, self._request, job, _connect={"returned": self._loaded})

    def _loaded(self, out: tuple[int, list[str] | None, str]) -> None:
        request, texts, failure = out
        if request != self._request:
            return  # another corpus was asked for meanwhile
        self._worker = None
        if texts is None:
            log.info("corpus texts not available: %s", failure)
            return
        self.corpus = texts
        self.changed.emit()
