"""The run controller: the only writer of the studio's run model.

Live training, a preset's runs, a replayed run folder and a followed one are
:mod:`sources <app.runs.sources>` with the same signals. The controller holds at most
one active source and decides, once for all of them:

- **reset**: a source's ``begun`` clears the run model and sets the view state back to
  "follow the newest snapshot" (a timeline scrubbed in the previous run must not hide
  the new one);
- **throttling**: snapshots go into the model as they come (no point is lost), and
  ``redraw`` is emitted at most every :data:`REDRAW_MS` ms, so the newest state wins;
- **state**: ``state_changed`` (idle, starting, running, pausing, paused, stopping,
  viewing) and ``progress`` drive the run bar and the Train button whichever source runs.

Signals: ``state_changed(str)``, ``progress(step, total, steps_per_sec)``,
``run_begun(kind, label)``, ``snapshot_received(Snapshot)`` (live and preset sources),
``run_updated()`` (a folder brought new records), ``run_finished(object)`` (TrainResult
or None for training, the preset's folder for presets, FolderEnd for folders),
``preset_finished(folder)``, ``message(text, kind)``, ``redraw()``, ``model_saved(path)``,
``status(text)`` (what the run waits for before its first snapshot: the trainer's phase,
a followed folder not written yet; also in :attr:`RunController.status_text`) and
``run_config(dict)`` (the shown run's config, when a run begins and when it is known later).

Faults reach the window as one-line ``message`` s, never a traceback: a followed folder
removed (polling stops, what was shown stays), the run's model folder removed
(:meth:`RunController.model_folder`, checked with each batch of snapshots and before
saving or embedding), a model copy that fails.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker, qthrottled

from simcse_core.config import TrainConfig
from simcse_core.errors import SimCSEError
from simcse_core.runs import final_model_path

from app.i18n import tr, tr_match
from app.runs.sources import FolderEnd, FolderSource, LiveSource, PresetSource, RunSource
from app.runs.workers import ENGINE_PHASES, copy_model, error_text
from app.shell.settings import new_run_dir
from app.state.run_model import RunModel
from app.state.view_state import ViewState

log = logging.getLogger(__name__)

REDRAW_MS = 200  # at most 5 plot redraws a second: curves need no more, and a long run's grid costs 20-30 ms
BUSY_STATES = ("starting", "running", "pausing", "paused", "stopping")


class RunController(QObject):
    """Starts, opens, follows and stops runs; feeds the run model (see the module doc)."""

    state_changed = Signal(str)
    progress = Signal(int, int, float)
    run_begun = Signal(str, str)
    snapshot_received = Signal(object)
    run_updated = Signal()
    run_finished = Signal(object)
    preset_finished = Signal(str)
    message = Signal(str, str)
    redraw = Signal()
    model_saved = Signal(str)
    status = Signal(str)
    run_config = Signal(object)

    def __init__(self, model: RunModel, view_state: ViewState, runs_root: str | Path,
                 torch_threads: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view_state = view_state
        self.runs_root = Path(runs_root)
        self.torch_threads = torch_threads
        self.source: RunSource | None = None
        self.state = "idle"
        self.label = ""
        self.step = 0
        self.total = 0
        self.steps_per_sec = 0.0
        self.status_text = ""
        self.progress_label = ""  # "run 1 of 2" while a preset trains
        self.last_error: str | None = None
        self._applied: dict[str, float] = {}
        self._save_job: Any = None
        self._model_seen: Path | None = None  # the run's model folder, last seen on disk
        self._model_gone_said = False
        self._redraw = qthrottled(self.redraw.emit, timeout=REDRAW_MS, leading=True, parent=self)

    # ------------------------------------------------------------------ queries
    @property
    def training(self) -> bool:
        """A run or a preset trains in this process, from start until its end is handled
        (a late queued snapshot of a finished run can never land in the next run)."""
        return self.source is not None and self.source.kind in ("training", "preset")

    @property
    def busy(self) -> bool:
        return self.state in BUSY_STATES

    @property
    def following(self) -> bool:
        return isinstance(self.source, FolderSource) and self.source.follow

    def trainer_running(self) -> bool:
        """Whether a training thread runs in this process now (UMAP rests meanwhile)."""
        return self.source is not None and self.source.trains_here

    def can_save(self) -> bool:
        return bool(self.model.run_dir and final_model_path(self.model.run_dir) is not None)

    def _refuse_if_training(self) -> bool:
        if self.training:
            preset = self.source is not None and self.source.kind == "preset"
            self.message.emit(tr("a preset is training; stop it first") if preset
                              else tr("a run is training; stop it first"), "error")
            return True
        return False

    # ------------------------------------------------------------------ starting
    def start_training(self, config: TrainConfig) -> bool:
        """Train ``config`` in a new run folder (one under ``runs_root`` when it names
        none). False, with a message, when it cannot start."""
        if self._refuse_if_training():
            return False
        try:
            if not config.output_dir:
                config.output_dir = str(new_run_dir(self.runs_root))
            config.validate()
        except (SimCSEError, TypeError, ValueError) as e:
            self.message.emit(error_text(e), "error")
            return False
        self._applied = {}
        return self._attach(LiveSource(config, torch_threads=self.torch_threads, parent=self), "starting")

    def run_preset(self, preset: Any, output_root: str | Path | None = None, scale: Any = None) -> PresetSource | None:
        """Train a preset's runs one after another; each run is shown as it trains."""
        if self._refuse_if_training():
            return None
        try:
            preset.validate()
        except SimCSEError as e:
            self.message.emit(error_text(e), "error")
            return None
        root = Path(output_root) if output_root else self.runs_root / "presets"
        src = PresetSource(preset, root, scale=scale, torch_threads=self.torch_threads, parent=self)
        self._applied = {}
        return src if self._attach(src, "starting") else None

    def open_run(self, path: str | Path, follow: bool = False) -> bool:
        """Show a run folder: replay it, or with ``follow`` poll it for what a ``simcse
        train`` process appends."""
        if self._refuse_if_training():
            return False
        try:
            src = FolderSource(path, follow=follow, parent=self)
        except SimCSEError as e:
            self.message.emit(error_text(e), "error")
            return False
        return self._attach(src, "viewing")

    def _attach(self, src: RunSource, state: str) -> bool:
        self._detach()
        self.source = src
        self.last_error = None
        src.begun.connect(lambda run_dir, config, label, s=src: self._begun(s, run_dir, config, label))
        src.probe.connect(lambda texts, cols, s=src: self._mine(s) and self.model.set_probe(texts, cols))
        src.config.connect(lambda cfg, s=src: self._mine(s) and self._config(cfg))
        src.status.connect(lambda text, s=src: self._mine(s) and self._status(text))
        src.lazy.connect(lambda loaders, s=src: self._mine(s) and self.model.lazy_probe.update(loaders))
        src.restarted.connect(lambda s=src: self._mine(s) and self._restart())
        src.snapshots.connect(lambda snaps, s=src: self._snapshots(s, snaps))
        src.progress.connect(lambda a, b, c, s=src: self._progress(s, a, b, c))
        src.paused.connect(lambda s=src: self._paused(s))
        src.failed.connect(lambda m, s=src: self._failed(s, m))
        src.finished.connect(lambda end, s=src: self._finished(s, end))
        self.step, self.total, self.steps_per_sec = 0, 0, 0.0
        self.status_text, self.progress_label = "", ""
        self._set_state(state)
        src.start()
        return True

    def _detach(self) -> None:
        src = self.source
        if isinstance(src, FolderSource):
            src.stop()
        self.source = None

    def _mine(self, src: RunSource) -> bool:
        return src is self.source

    # ------------------------------------------------------------------ source events
    def _begun(self, src: RunSource, run_dir: str, config: dict[str, Any], label: str) -> None:
        if not self._mine(src):
            return
        self.label = label
        self._model_seen, self._model_gone_said = None, False
        self.model.clear(run_dir=run_dir, config=config)
        self.view_state.reset_for_new_run()
        if isinstance(src, PresetSource):
            self.progress_label = tr("run {k} of {n}").format(k=src.index + 1, n=src.n_runs)
        self.run_begun.emit(src.kind, label or run_dir)
        self.run_config.emit(dict(config or {}))
        self.redraw.emit()

    def _config(self, config: dict[str, Any]) -> None:
        self.model.config = dict(config)
        self.run_config.emit(dict(config))

    def _status(self, text: str) -> None:
        text = tr_match(text, ENGINE_PHASES)  # the engine's phases, in the studio's language
        self.status_text = text
        self.status.emit(text)

    def _restart(self) -> None:
        texts, cols = self.model.probe_texts, self.model.probe_columns
        self.model.clear(run_dir=self.model.run_dir, config=self.model.config)
        self.model.set_probe(texts, cols)

    def _snapshots(self, src: RunSource, snaps: list[Any]) -> None:
        if not self._mine(src):
            return
        for s in snaps:
            self.model.add(s)
        last = snaps[-1]
        if self.state == "starting":
            self._set_state("running")
        self._progress(src, last.step, last.total_steps, float(last.scalars.get("steps_per_sec", 0.0)))
        self._redraw()
        self.model_folder(say_again=False)  # removed between snapshots: said once
        if isinstance(src, FolderSource):
            self.run_updated.emit()
        else:
            for s in snaps:
                self.snapshot_received.emit(s)

    def _progress(self, src: RunSource, step: int, total: int, sps: float) -> None:
        if not self._mine(src) or self.state == "starting":
            return
        self.step, self.total, self.steps_per_sec = int(step), int(total), float(sps)
        self.progress.emit(self.step, self.total, self.steps_per_sec)

    def _paused(self, src: RunSource) -> None:
        if self._mine(src) and self.state in ("pausing", "running"):
            self._set_state("paused")

    def _failed(self, src: RunSource, message: str) -> None:
        if not self._mine(src):
            return
        self.last_error = message
        if isinstance(src, FolderSource):
            self.message.emit(message, "error")
            return
        note = tr(" The run folder keeps its last checkpoint.") if self.can_save() else ""
        self.message.emit(message + note, "error")

    def _finished(self, src: RunSource, end: Any) -> None:
        if not self._mine(src):
            return
        if isinstance(src, FolderSource):
            if isinstance(end, FolderEnd) and end.done and src.follow:
                self.message.emit(tr("the followed run has finished"), "info")
            self._set_state("viewing")
            self.redraw.emit()
            self.run_updated.emit()
            self.run_finished.emit(end)
            return
        self.source = None  # the training thread has ended: a new run may start
        self._set_state("idle")
        self.redraw.emit()
        self.run_finished.emit(end)
        if isinstance(src, PresetSource):
            self.preset_finished.emit(str(end))

    # ------------------------------------------------------------------ control
    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

    def pause(self) -> None:
        if self.source is not None and self.source.can_pause and self.state == "running":
            self.source.pause()
            self._set_state("pausing")

    def resume(self) -> None:
        if self.source is not None and self.source.can_pause and self.state in ("paused", "pausing"):
            self.source.resume()
            self._set_state("running")
            self.progress.emit(self.step, self.total, self.steps_per_sec)

    def stop(self) -> None:
        """Stop training after the current step (it checkpoints), or stop following."""
        src = self.source
        if src is None:
            return
        if isinstance(src, FolderSource):
            src.stop()
            self._set_state("viewing")
        elif self.state in ("starting", "running", "pausing", "paused"):
            src.stop()
            self._set_state("stopping")

    def send_live(self, **changes: Any) -> bool:
        """Send changes to the running trainer from its next step: temperature=,
        learning_rate=, fn_pairs= (confirmed false-negative corpus-id pairs),
        fn_policy=. False (with a status message) when nothing trains."""
        if not self.training or self.source is None:
            self.message.emit(tr("no run is training: nothing to apply"), "info")
            return False
        self.source.send(**changes)
        for k in ("temperature", "learning_rate"):
            if k in changes:
                self._applied[k] = float(changes[k])
        return True

    def applied(self, key: str, default: float) -> float:
        """The value last sent for ``key`` (temperature, learning_rate), else ``default``."""
        return self._applied.get(key, default)

    # ------------------------------------------------------------------ model saving
    def model_folder(self, say_again: bool = True) -> Path | None:
        """The run's saved model now (``model/``, else the latest checkpoint's), or None.
        When a model folder seen before is gone (removed by hand while the run is shown),
        a message names it (once unless ``say_again``); the snapshots shown are kept."""
        run_dir = self.model.run_dir
        path = final_model_path(run_dir) if run_dir else None
        if path is not None:
            self._model_seen, self._model_gone_said = path, False
        elif self._model_seen is not None and (say_again or not self._model_gone_said):
            self._model_gone_said = True
            self.message.emit(tr("the model folder {path} was removed; what was shown is kept, but the run has no "
                                 "model to save (typed sentences use the starting model)").format(path=self._model_seen),
                              "error")
        return path

    def save_model_to(self, dest: str) -> bool:
        """Copy the run's model (final, else the latest checkpoint's) to ``dest`` in a worker."""
        seen = self._model_seen
        src = self.model_folder()
        if src is None:
            if seen is None:
                text = (tr("this run has no saved model or checkpoint yet ({folder})").format(folder=self.model.run_dir)
                        if self.model.run_dir else tr("this run has no saved model or checkpoint yet"))
                self.message.emit(text, "error")
            return False
        self._save_job = create_worker(copy_model, str(src), dest, _connect={
            "returned": self._model_copied, "errored": lambda e: self.message.emit(error_text(e), "error")})
        return True

    def _model_copied(self, path: str) -> None:
        self.message.emit(tr("model saved as a sentence-transformers folder: {path}").format(path=path), "ok")
        self.model_saved.emit(path)

    # ------------------------------------------------------------------ closing
    def shutdown(self, wait_ms: int = 60_000) -> None:
        """The studio closes: stop the source and wait (bounded) for its thread."""
        self._redraw.cancel()
        src = self.source
        if src is None:
            return
        src.stop()
        if not src.wait(wait_ms):
            log.warning("the training thread did not stop within %d s", wait_ms // 1000)
