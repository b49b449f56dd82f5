"""Where a run's snapshots come from. Every source has the same signals, so the
:class:`~app.runs.controller.RunController` treats live training, a preset's runs and a
run folder (replayed or followed) alike.

Signals of :class:`RunSource` (all on the GUI thread):

- ``begun(run_dir, config, label)``: a run begins (a preset emits it once per run): the
  controller clears the run model for it.
- ``probe(texts, columns)``: the probe set's sentences and label columns.
- ``snapshots(list)``: new snapshots, oldest first.
- ``lazy(dict)``: step -> loader of that snapshot's probe embeddings left on disk.
- ``restarted()``: a followed folder's writer started over: drop what was shown.
- ``config(dict)``: the run's config, when it is known later than ``begun``.
- ``progress(step, total, steps_per_sec)``, ``paused()``.
- ``status(text)``: what the source waits for before its first snapshot (the trainer's
  phase: loading the model, tokenising...; a followed folder not written yet).
- ``failed(message)``: one line; ``finished(object)``: the end (a TrainResult, a
  preset's folder, or a :class:`FolderEnd`), also after a stop or a failure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from superqt.utils import create_worker

from simcse_core.config import TrainConfig
from simcse_core.control import LOADING_PHASE
from simcse_core.errors import SimCSEError
from simcse_core.runs import RunReader

from app.i18n import language, tr, tr_match
from app.runs.preset_worker import PresetWorker
from app.runs.workers import ENGINE_PHASES, RunUpdate, TrainWorker, error_text, read_run_updates

log = logging.getLogger(__name__)

FOLLOW_MS = 500


@dataclass
class FolderEnd:
    """How reading a run folder ended: the folder's run finished (``done``), or a
    replay read what was there (``done`` False for a run still being written)."""

    path: str
    done: bool
    stopped: bool = False
    step: int = 0
    total: int = 0


class RunSource(QObject):
    """Base of the sources (see the module docstring for the signals)."""

    kind = "source"
    can_pause = False
    reading = False  # a folder read is under way (FolderSource)

    begun = Signal(str, object, str)
    probe = Signal(object, object)
    snapshots = Signal(object)
    lazy = Signal(object)
    restarted = Signal()
    config = Signal(object)
    progress = Signal(int, int, float)
    status = Signal(str)
    paused = Signal()
    failed = Signal(str)
    finished = Signal(object)

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Ask the source to stop (training: after the current step, checkpointing)."""

    def pause(self) -> None:
        """Pause before the next step (training sources)."""

    def resume(self) -> None:
        """Continue after a pause (training sources)."""

    def send(self, **changes: Any) -> bool:
        """Send changes to a running trainer from its next step; False when it has none."""
        return False

    @property
    def trains_here(self) -> bool:
        """Whether this source trains in this process (sharing the GIL and the cores)."""
        return False

    def wait(self, ms: int) -> bool:
        """Wait for a training thread to end (True when none is left)."""
        return True


class TrainingSource(RunSource):
    """A source that trains in this process in ``self.worker`` (a QThread with a
    :class:`~app.runs.workers.StudioControl` as ``control``)."""

    can_pause = True
    worker: Any

    def stop(self) -> None:
        self.worker.control.stop()

    def pause(self) -> None:
        self.worker.control.pause()

    def resume(self) -> None:
        self.worker.control.resume()

    def send(self, **changes: Any) -> bool:
        self.worker.control.update(**changes)
        return True

    @property
    def trains_here(self) -> bool:
        return self.worker.isRunning()

    def wait(self, ms: int) -> bool:
        return self.worker.wait(ms)


class LiveSource(TrainingSource):
    """One run trained in this process by a :class:`~app.runs.workers.TrainWorker`."""

    kind = "training"

    def __init__(self, config: TrainConfig, torch_threads: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.train_config = config
        self.worker = TrainWorker(config, torch_threads=torch_threads, parent=self)
        w = self.worker
        w.snapshot.connect(lambda s: self.snapshots.emit([s]))
        w.progress.connect(self.progress.emit)
        w.status.connect(self.status.emit)
        w.paused_reached.connect(self.paused.emit)
        w.failed.connect(self.failed.emit)
        w.completed.connect(self._completed)

    def start(self) -> None:
        self.begun.emit(str(self.train_config.output_dir), self.train_config.to_dict(), "")
        self.worker.start()

    def _completed(self, result: Any) -> None:
        self.worker.wait(5000)
        self.finished.emit(result)



class PresetSource(TrainingSource):
    """A preset's runs, one after another, trained in this process."""

    kind = "preset"

    def __init__(self, preset: Any, output_root: str | Path, scale: Any = None, torch_threads: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.preset = preset
        self.worker = PresetWorker(preset, output_root, scale=scale, torch_threads=torch_threads, parent=self)
        self.n_runs = len(preset.runs)
        self.index = -1
        self.loading = 0  # the run being loaded (1-based), counted from the trainer's phases
        self.run_label = ""
        self.error: str | None = None
        w = self.worker
        w.run_started.connect(self._run_started)
        w.status.connect(self._status)
        w.snapshot.connect(lambda _label, s: self.snapshots.emit([s]))
        w.progress.connect(self.progress.emit)
        w.failed.connect(self._failed)
        w.completed.connect(self._completed)

    @property
    def folder(self) -> Path:
        return self.worker.folder

    def start(self) -> None:
        self.worker.start()

    def _run_started(self, index: int, label: str, run_dir: str, config: dict) -> None:
        self.index, self.run_label = index, label
        self.begun.emit(run_dir, config, f"{self.run_text(index)}: {self.preset.label_in(label, language())}")

    def run_text(self, index: int) -> str:
        """"preset NAME, run k of n" for the run of 0-based ``index``."""
        return tr("preset {name}, run {k} of {n}").format(name=self.preset.name, k=index + 1, n=self.n_runs)

    def _status(self, text: str) -> None:
        if text.startswith(LOADING_PHASE):  # the engine's first phase, once a run
            self.loading = min(self.n_runs, self.loading + 1)
        self.status.emit(f"{self.run_text(max(0, self.loading - 1))}: {tr_match(text, ENGINE_PHASES)}")

    def _failed(self, message: str) -> None:
        self.error = message
        self.failed.emit(tr("preset {name}: {error}").format(name=self.preset.name, error=message))

    def _completed(self, folder: str) -> None:
        self.worker.wait(5000)
        self.finished.emit(folder)



def open_reader(path: str) -> tuple[RunReader | None, bool]:
    """(a reader of the run folder ``path``, or None while it holds no run yet; whether
    the folder exists). Run in a worker: the folder may be on a slow shared drive."""
    try:
        return RunReader(path), True
    except SimCSEError:
        return None, Path(path).is_dir()


def waiting_text(path: str, exists: bool) -> str:
    """What a followed folder without a run yet is waiting for."""
    if not exists:
        return tr("waiting for the run folder {path} to appear (the run has not started yet)").format(path=path)
    return tr("waiting for the run in {path} to write its first files").format(path=path)


def _load_probe(reader: RunReader, step: int) -> Any:
    """One snapshot's probe embeddings from its run folder (called from workers)."""
    return reader.load_arrays(step).get("probe_embeddings")


class FolderSource(RunSource):
    """A run folder: replayed once (``follow`` False) or polled every 500 ms for what a
    ``simcse train`` process appends. Reads happen in a worker; one at a time.

    A followed folder that does not exist yet, or holds no run files yet (the studio was
    started before the remote job: the normal case), is waited for: ``status`` says so,
    and the run is picked up when its first files appear."""

    def __init__(self, path: str | Path, follow: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = str(path)
        self.follow = follow
        self.kind = "following" if follow else "replay"
        self.reader: RunReader | None = None
        try:
            self.reader = RunReader(path)
        except SimCSEError:
            if not follow:
                raise  # a replay of a folder that is not a run: the caller says it
        self._first = True
        self._need_probe = True
        self._job: Any = None
        self._stopped = False
        self._last_step = -1
        self._waiting_text = ""
        self._config_pending = False
        self._timer = QTimer(self)
        self._timer.setInterval(FOLLOW_MS)
        self._timer.timeout.connect(self.poll)

    @property
    def reading(self) -> bool:
        """A read of the folder is under way."""
        return self._job is not None

    @property
    def polling(self) -> bool:
        """The folder is being followed (polled every 500 ms) until its run finishes."""
        return self._timer.isActive()

    @property
    def waiting(self) -> bool:
        """Following a folder whose run has not written its first files yet."""
        return self.reader is None

    def start(self) -> None:
        if self.reader is None:
            self.begun.emit(self.path, {}, "following: " + self.path)
            self._say_waiting(waiting_text(self.path, Path(self.path).is_dir()))
        else:
            self._begin()
        self.poll()
        if self.follow:
            self._timer.start()

    def _begin(self) -> None:
        assert self.reader is not None
        try:
            config = self.reader.config
        except SimCSEError:  # config.json half-written: the first read brings it
            config, self._config_pending = {}, True
        self.begun.emit(self.path, config, (tr("following: {path}") if self.follow else tr("run: {path}")).format(path=self.path))

    def _say_waiting(self, text: str) -> None:
        if text != self._waiting_text:
            self._waiting_text = text
            self.status.emit(text)

    def stop(self) -> None:
        self._stopped = True
        self._timer.stop()

    def poll(self) -> None:
        if self._stopped or self._job is not None:
            return  # the previous read is still going
        if self.reader is None:
            self._job = create_worker(open_reader, self.path, _start_thread=False,
                                      _connect={"returned": self._opened, "errored": self._error,
                                                "finished": self._done})
            self._job.start()
            return
        self._job = create_worker(read_run_updates, self.reader, self._need_probe, self._first, _start_thread=False,
                                  _connect={"returned": self._update, "errored": self._error,
                                            "finished": self._done})
        self._job.start()

    def _done(self) -> None:
        self._job = None

    def _opened(self, out: tuple[RunReader | None, bool]) -> None:
        reader, exists = out
        if self._stopped:
            return
        if reader is None:
            self._say_waiting(waiting_text(self.path, exists))
            return
        self.reader = reader
        self._begin()  # the run is picked up: its config now, its records at the next poll

    def _error(self, exc: BaseException) -> None:
        if self._stopped:
            return
        self._timer.stop()
        self.failed.emit(error_text(exc))

    def _update(self, update: RunUpdate) -> None:
        if self._stopped:
            return
        first, self._first = self._first, False
        if update.probe:
            self._need_probe = False
            self.probe.emit(update.probe.get("texts"), update.probe.get("columns"))
        if update.config and (not first or self._config_pending):
            self._config_pending = False
            self.config.emit(dict(update.config))
        snaps = update.snapshots
        if snaps and snaps[0].step <= self._last_step:
            self.restarted.emit()  # the writer restarted or resumed (metrics.jsonl was truncated)
        if update.lazy_steps:
            self.lazy.emit({step: partial(_load_probe, self.reader, step) for step in update.lazy_steps})
        if snaps:
            self._last_step = snaps[-1].step
            self.snapshots.emit(snaps)
            last = snaps[-1]
            self.progress.emit(last.step, last.total_steps, float(last.scalars.get("steps_per_sec", 0.0)))
        if update.finished or not self.follow:
            self._timer.stop()
            last = snaps[-1] if snaps else None
            self.finished.emit(FolderEnd(self.path, bool(update.finished), bool(last is not None and last.stopped),
                                         last.step if last else 0, last.total_steps if last else 0))
