"""Finding sentences for the embedding tab: the probe texts, the run's corpus outside
the probe set, and typed sentences encoded with the run's model.

:class:`SentenceSearch` keeps the corpus state (read once, in a worker, on the first
search) and hands every job plain data captured on the GUI thread: a copy of the run's
config, the probe texts as a frozenset, the corpus as tuples (never mutated), the model
spec. Which sentences a run uses is :func:`simcse_core.data.run_sentences`'s answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.embedding_tab.geometry import corpus_matches, corpus_outside_probe, search_texts
from app.embedding_tab.job_thread import JobThread
from app.i18n import tr, tr_error

CHANNELS = ("corpus", "corpus_search", "encode")

_ENCODERS: dict[str, Any] = {}  # the job thread's own: one loaded model at a time


# ---------------------------------------------------------------- worker jobs (no Qt)
def read_corpus_outside_probe(config: dict[str, Any], probe_texts: frozenset[str]
                              ) -> tuple[tuple[tuple[str, ...], tuple[str, ...]] | None, str]:
    """((the run's sentences outside the probe set, casefolded copies), "") or (None, why
    not). Supervised runs: every sentence of the triplets; no file: the demo corpus."""
    from simcse_core.data import run_sentences
    from simcse_core.errors import DataError

    try:
        sentences = run_sentences(config).all_texts
    except DataError as e:
        return None, tr_error(e)
    texts, folded = corpus_outside_probe(sentences, set(probe_texts))
    return (tuple(texts), tuple(folded)), ""


def encode_sentence(text: str, spec: str, kw: dict[str, Any]) -> tuple[str, np.ndarray]:
    """(text, its unit vector (D,) float32) under the model ``spec`` (kept loaded)."""
    from simcse_core.model import load_model

    key = f"{spec}|{sorted(kw.items())}"
    enc = _ENCODERS.get(key)
    if enc is None:
        _ENCODERS.clear()  # one model in memory at a time
        enc = load_model(spec, **kw)
        _ENCODERS[key] = enc
    return text, enc.encode([text], normalize=True)[0].astype(np.float32)


def model_for_step(config: dict[str, Any], run_dir: str | None, step: int) -> tuple[str, dict[str, Any], str]:
    """(model spec, load_model kwargs, label) of a run's model at ``step``: its saved
    final model past step 0 when there is one, else the starting model."""
    from simcse_core.runs import final_model_path

    cfg = config or {}
    path = final_model_path(run_dir) if run_dir else None
    if step > 0 and path is not None:
        return (str(path), {"max_seq_length": int(cfg.get("max_seq_length", 32))},
                tr("the run's model ({name})").format(name=f"{path.parent.name}/{path.name}"))
    kw = {"pooler_type": cfg.get("pooler_type", "auto"), "mlp_only_train": bool(cfg.get("mlp_only_train", False)),
          "max_seq_length": int(cfg.get("max_seq_length", 32)), "seed": int(cfg.get("seed", 42))}
    spec = str(cfg.get("model_name_or_path", "default"))
    return spec, kw, tr("the starting model ({spec})").format(spec=spec)


# ---------------------------------------------------------------- GUI side
class SentenceSearch(QObject):
    """Search and typed-sentence encoding, on a shared :class:`JobThread`.

    Signals: ``corpus_hits(query, list[str])`` (corpus sentences outside the probe set
    containing the latest query), ``corpus_read()`` (the corpus was read, or found
    unavailable), ``encoded(text, vector (D,), label)``, ``failed(message)``.
    """

    corpus_hits = Signal(str, object)
    corpus_read = Signal()
    encoded = Signal(str, object, str)
    failed = Signal(str)

    def __init__(self, jobs: JobThread, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.generation = 0
        self.query = ""  # the latest query searched
        self.corpus_texts: tuple[str, ...] | None = None
        self.corpus_folded: tuple[str, ...] = ()
        self.corpus_state = ""  # "" | "reading" | "read" | "unavailable: <why>"
        self._labels: dict[str, str] = {}  # model spec -> label shown
        jobs.done.connect(self._done)
        jobs.failed.connect(self._failed)

    def reset(self, generation: int) -> None:
        """A new run: forget its corpus."""
        self.generation = generation
        self.corpus_texts, self.corpus_folded, self.corpus_state = None, (), ""

    def find(self, probe_texts: list[str], query: str, config: dict[str, Any]) -> list[int]:
        """Probe rows whose text contains ``query`` (case-insensitive, at most 200), now;
        the corpus hits arrive later as ``corpus_hits`` (the corpus is read on the first
        search with a query)."""
        rows = search_texts(probe_texts, query)
        q = query.strip()
        self.query = q
        if q:
            if self.corpus_texts is None and not self.corpus_state:
                self.corpus_state = "reading"
                self.jobs.submit("corpus", read_corpus_outside_probe, dict(config or {}), frozenset(probe_texts),
                                 token=("corpus", self.generation))
            if self.corpus_texts is not None:
                self.jobs.submit("corpus_search", corpus_matches, self.corpus_texts, self.corpus_folded, q,
                                 token=("corpus_search", self.generation, q))
        return rows

    def status(self, query: str, rows: list[int], extra: list[str] | None) -> str:
        """The line under the search box."""
        msg = tr("{n} probe sentence(s) contain “{query}”").format(n=len(rows), query=query) + (
            tr(" (first 200)") if len(rows) >= 200 else "")
        if extra:
            msg += tr("; {n} more in the corpus outside the probe set (＋: click one to embed it)").format(
                n=f"{len(extra)}{'+' if len(extra) >= 100 else ''}")
        elif extra is None and self.corpus_state in ("reading", "read"):
            msg += tr("; searching the corpus…")
        elif self.corpus_state.startswith("unavailable"):
            msg += tr("; corpus unavailable: {why}").format(why=self.corpus_state.removeprefix("unavailable: "))
        return msg

    def encode(self, text: str, spec: str, kw: dict[str, Any], label: str) -> None:
        """Encode ``text`` with model ``spec`` in the worker; ``encoded`` follows."""
        self._labels[spec] = label
        self.jobs.submit("encode", encode_sentence, text, spec, dict(kw), token=("encode", self.generation, spec))

    def _done(self, channel: str, token: Any, result: Any) -> None:
        if channel not in CHANNELS or token[1] != self.generation or result is None:
            return
        if channel == "corpus":
            prepared, why = result
            if prepared is not None:
                self.corpus_texts, self.corpus_folded = prepared
            self.corpus_state = "read" if prepared is not None else f"unavailable: {why}"
            self.corpus_read.emit()
        elif channel == "corpus_search":
            if token[2] == self.query:  # a newer query supersedes it
                self.corpus_hits.emit(token[2], list(result))
        elif channel == "encode":
            text, vec = result
            self.encoded.emit(text, vec, self._labels.get(token[2], token[2]))

    def _failed(self, channel: str, token: Any, message: str) -> None:
        if channel not in CHANNELS:
            return
        if channel == "corpus":
            self.corpus_state = f"unavailable: {message}"
        self.failed.emit(tr("sentence search failed: {error}").format(error=message))


class SearchPresenter:
    """Shows a :class:`SentenceSearch` in the neighbour panel: the results list (probe
    rows, then corpus hits marked ＋) and the status line."""

    def __init__(self, search: SentenceSearch, panel: Any, probe_texts: Callable[[], list[str]],
                 config: Callable[[], dict[str, Any]]) -> None:
        self.finder = search
        self.panel = panel
        self.probe_texts = probe_texts
        self.config = config
        self.rows: list[int] = []  # the probe rows of the latest search
        search.corpus_read.connect(self._corpus_read)
        search.corpus_hits.connect(self._corpus_hits)
        search.failed.connect(panel.status.setText)

    def search(self, query: str) -> list[int]:
        texts = self.probe_texts()
        self.rows = self.finder.find(texts, query, self.config())
        self.panel.show_results(self.rows, texts)
        if query.strip():
            self.panel.status.setText(self.finder.status(query.strip(), self.rows, None))
        return self.rows

    def encode(self, text: str, config: dict[str, Any], run_dir: str | None, step: int | None) -> bool:
        """Encode ``text`` with the run's model at ``step`` (None: no run shown)."""
        text = text.strip()
        if not text or step is None:
            self.panel.status.setText(tr("type a sentence to embed (a run must be shown)"))
            return False
        spec, kw, label = model_for_step(config, run_dir, step)
        self.panel.status.setText(tr("encoding with {model}…").format(model=label))
        self.finder.encode(text, spec, kw, label)
        return True

    def _corpus_read(self) -> None:
        if self.finder.query:
            self.search(self.finder.query)

    def _corpus_hits(self, query: str, hits: list[str]) -> None:
        self.panel.show_results(self.rows, self.probe_texts(), hits)
        self.panel.status.setText(self.finder.status(query, self.rows, hits))
