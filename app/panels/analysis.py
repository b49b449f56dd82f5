"""Wiring of the temperature lens and the false-negative panel into the main window.

``install(window)`` creates both dock panels (right dock area, tabified; objectNames
``lensDock`` and ``fnDock``), connects them to ``window.model`` (every snapshot added,
live or replayed from a run folder; ``None`` when the run is cleared),
``window.selection`` and ``window.send_live``, and adds toggle actions to the View
menu. Sentences for corpus ids come from the probe set and, for batch sentences
outside it, from the run's corpus read once in a worker thread.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QScrollArea
from superqt.utils import create_worker

from simcse_core.snapshot import Snapshot

from app.panels.fn_panel import FalseNegativePanel
from app.panels.lens_panel import LensPanel

log = logging.getLogger(__name__)


def read_corpus_texts(config: dict[str, Any]) -> list[str]:
    """The sentences of a run's corpus, indexed by corpus id (as the trainer reads it)."""
    from simcse_core.data import default_corpus_path, read_corpus, read_triplets

    if config.get("mode") == "sup":
        return list(read_triplets(config["train_file"]).sent0)
    corpus = read_corpus(config.get("train_file") or default_corpus_path(), text_column=config.get("text_column"),
                         drop_duplicates=bool(config.get("drop_duplicates", False)))
    return list(corpus.sentences)


class SentenceIndex(QObject):
    """corpus id -> sentence: the probe texts at once, the whole corpus once read.

    ``changed()`` is emitted when more sentences became known."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.probe: dict[int, str] = {}
        self.corpus: list[str] | None = None
        self._config_key: Any = None
        self._worker: Any = None
        self._request = 0

    def __call__(self, corpus_id: int) -> str | None:
        t = self.probe.get(int(corpus_id))
        if t is not None:
            return t
        c = self.corpus
        if c is not None and 0 <= int(corpus_id) < len(c):
            return c[int(corpus_id)]
        return None

    def clear(self) -> None:
        self.probe = {}

    def set_probe(self, ids: np.ndarray | None, texts: list[str] | None) -> None:
        if ids is None or texts is None or len(ids) != len(texts):
            return
        self.probe = {int(i): t for i, t in zip(ids, texts)}
        self.changed.emit()

    def load_corpus(self, config: dict[str, Any]) -> None:
        """Read the run's corpus in a worker (once per corpus)."""
        if not config:
            return
        key = (config.get("mode"), config.get("train_file"), config.get("text_column"), config.get("drop_duplicates"))
        if key == self._config_key and (self.corpus is not None or self._worker is not None):
            return
        self._config_key = key
        self.corpus = None
        self._request += 1
        req = self._request
        self._worker = create_worker(read_corpus_texts, dict(config), _connect={
            "returned": lambda texts, r=req: self._loaded(r, texts),
            "errored": lambda e, r=req: self._failed(r, e)})

    def _loaded(self, request: int, texts: list[str]) -> None:
        if request != self._request:
            return
        self._worker = None
        self.corpus = texts
        self.changed.emit()

    def _failed(self, request: int, exc: BaseException) -> None:
        if request == self._request:
            self._worker = None
            log.info("corpus texts not available for the analysis panels: %s", exc)


class AnalysisDocks(QObject):
    """Keeps the two panels in step with the window's run model."""

    def __init__(self, window: Any, lens: LensPanel, fn: FalseNegativePanel, texts: SentenceIndex) -> None:
        super().__init__(window)
        self.window = window
        self.lens = lens
        self.fn = fn
        self.texts = texts
        self._probe_ids: np.ndarray | None = None
        model = window.model
        model.subscribe(self._on_model)
        texts.changed.connect(self._texts_changed)
        if getattr(window, "selection", None) is not None:
            window.selection.step_changed.connect(self._on_step_changed)
        # a run already in the model (install after a run was opened)
        self._on_model(None, reset=False)
        for s in model.snapshots:
            self._on_model(s)

    def _on_model(self, snap: Snapshot | None, reset: bool = True) -> None:
        model = self.window.model
        if snap is None:
            self._probe_ids = None
            self.texts.clear()
            if reset:
                self.lens.clear()
            self.fn.clear(run_dir=model.run_dir, config=model.config)
            self.texts.load_corpus(model.config)
            return
        if self._probe_ids is None:
            pid = snap.probe_ids if snap.probe_ids is not None else getattr(model, "probe_ids", None)
            if pid is not None:
                self._probe_ids = np.asarray(pid, dtype=np.int64)
                self.fn.set_probe(self._probe_ids, None, None)
        if self._probe_ids is not None and not self.texts.probe and model.probe_texts is not None:
            self.texts.set_probe(self._probe_ids, model.probe_texts)
            self.fn.set_probe(self._probe_ids, model.probe_texts, model.probe_columns)
        if model.config and not self.fn.config:
            self.fn.config = dict(model.config)
            self.texts.load_corpus(model.config)
        lazy = self._lazy_probe_loader(snap)
        if self.window.selection.snapshot_index < 0:
            self.lens.set_snapshot(snap)
            if lazy is not None and self._probe_ids is not None:
                self.lens.set_probe(self._probe_ids, lazy, float(snap.temperature))
        self.fn.add_snapshot(snap)
        if lazy is not None:
            self.fn.set_probe_source(snap.step, snap.temperature, lazy)

    def _lazy_probe_loader(self, snap: Snapshot) -> Any:
        """For a snapshot whose probe embeddings stay on disk (the run model's
        ``lazy_probe``): a loader through ``RunModel.probe_matrix`` (thread-safe)."""
        model = self.window.model
        if snap.probe_embeddings is not None or snap.step not in getattr(model, "lazy_probe", {}):
            return None
        index = next((i for i in range(len(model.snapshots) - 1, -1, -1) if model.snapshots[i] is snap), None)
        if index is None:
            return None
        return lambda m=model, i=index: m.probe_matrix(i)

    def _on_step_changed(self, index: int) -> None:
        snaps = self.window.model.snapshots
        if not snaps:
            return
        snap = snaps[index] if 0 <= index < len(snaps) else snaps[-1]
        if snap.batch_sim is None:
            for s in reversed(snaps[: snaps.index(snap) + 1]):
                if s.batch_sim is not None:
                    snap = s
                    break
        self.lens.set_snapshot(snap)

    def _texts_changed(self) -> None:
        self.lens.refresh_texts()
        self.fn.table_model.all_changed()


def install(window: QMainWindow) -> tuple[LensPanel, FalseNegativePanel]:
    """Create the "Temperature lens" and "False negatives" docks on ``window`` (a
    MainWindow: ``model``, ``selection``, ``send_live``, ``training``). Installing
    twice returns the panels already there."""
    if getattr(window, "lens_dock", None) is not None:
        return window.lens_panel, window.fn_panel  # type: ignore[attr-defined]
    texts = SentenceIndex(window)
    send_live = getattr(window, "send_live", None)
    selection = getattr(window, "selection", None)
    lens = LensPanel(selection=selection, send_live=send_live, text_of=texts)
    fn = FalseNegativePanel(selection=selection, send_live=send_live, text_of=texts,
                            is_training=lambda: bool(getattr(window, "training", False)))
    docks = []
    for panel, title, name in ((lens, "Temperature lens", "lensDock"), (fn, "False negatives", "fnDock")):
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        scroll = QScrollArea()  # the panels' own minimum sizes must not widen the window
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(panel)
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        docks.append(dock)
    window.tabifyDockWidget(docks[0], docks[1])
    docks[0].raise_()
    view_menu = _find_menu(window, "&View")
    if view_menu is not None:
        view_menu.addSeparator()
        for dock in docks:
            view_menu.addAction(dock.toggleViewAction())
    show = getattr(window, "show_message", None)
    if callable(show):
        fn.message.connect(lambda text: show(text, "info"))
    window.lens_panel, window.fn_panel = lens, fn  # type: ignore[attr-defined]
    window.lens_dock, window.fn_dock = docks  # type: ignore[attr-defined]
    window._analysis_docks = AnalysisDocks(window, lens, fn, texts)  # type: ignore[attr-defined]
    return lens, fn


def _find_menu(window: QMainWindow, title: str) -> QMenu | None:
    for action in window.menuBar().actions():
        menu = action.menu()
        if menu is not None and action.text() == title:
            return menu  # type: ignore[return-value]
    return None
