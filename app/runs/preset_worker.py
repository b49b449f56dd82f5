"""The thread that trains a preset's runs one after another (the engine's
:func:`~simcse_core.presets.run_preset`), handing snapshots over as plain data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from simcse_core.errors import SimCSEError

from app.runs.workers import StudioControl, error_text

log = logging.getLogger(__name__)


class PresetWorker(QThread):
    """Runs ``run_preset(preset, output_root, control, scale=...)`` in its own thread.

    Signals (queued to the GUI thread): ``run_started(index, label, run_dir, config)``,
    ``snapshot(label, Snapshot)``, ``progress(step, total, steps_per_sec)``,
    ``status(text)`` (the trainer's phase before a run's first step),
    ``failed(message)``, ``completed(folder)`` (the preset's output folder; also after
    a stop or a failure, with what was written)."""

    run_started = Signal(int, str, str, object)
    snapshot = Signal(str, object)
    progress = Signal(int, int, float)
    status = Signal(str)
    failed = Signal(str)
    completed = Signal(str)

    def __init__(self, preset: Any, output_root: str | Path, scale: Any = None, torch_threads: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.preset = preset
        self.output_root = Path(output_root)
        self.scale = scale
        self.torch_threads = torch_threads
        self.control = StudioControl(on_step=lambda s, t, sps: self.progress.emit(s, t, sps),
                                     on_status=self.status.emit)
        self.folder = preset.folder(self.output_root)
        self.error: str | None = None
        self.results: list[Any] = []

    def run(self) -> None:  # the training thread
        from simcse_core.presets import run_preset

        if self.torch_threads:
            import torch

            torch.set_num_threads(int(self.torch_threads))
        labels = [r.label for r in self.preset.runs]
        current = None
        gen = None
        try:
            configs = dict(self.preset.configs(self.output_root))
            gen = run_preset(self.preset, self.output_root, self.control, scale=self.scale)
            while True:
                label, snap = next(gen)
                if label != current:
                    current = label
                    cfg = configs[label]
                    self.run_started.emit(labels.index(label), label, str(cfg.output_dir), cfg.to_dict())
                self.snapshot.emit(label, snap)
        except StopIteration as stop:
            self.results = list(stop.value or [])
        except SimCSEError as e:
            self.error = error_text(e)
        except Exception as e:  # a bug or the OS: say it, keep the trace in the log
            log.exception("preset run failed")
            self.error = error_text(e)
        finally:
            if gen is not None:
                gen.close()
        if self.error is not None:
            self.failed.emit(self.error)
        self.completed.emit(str(self.folder))
