"""Run controls: Train, Pause, Resume, Stop, Apply (live temperature / lr), Save model
as, and a progress bar with step, steps/s and ETA (and, before the first step, what the
run waits for: loading the model, tokenising, a followed folder not written yet). Also
the message bar that shows errors and notes in the window, with one-click actions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QStyle, QToolButton, QWidget

from app.i18n import tr

STATES = ("idle", "starting", "running", "pausing", "paused", "stopping", "viewing")


def format_eta(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class RunControls(QWidget):
    train_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()
    apply_clicked = Signal()
    save_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)

        style = self.style()
        SP = QStyle.StandardPixmap

        def button(text: str, tip: str, signal: Signal, icon: QStyle.StandardPixmap | None = None) -> QPushButton:
            b = QPushButton(text)
            if icon is not None:
                b.setIcon(style.standardIcon(icon))
            b.setToolTip(tip)
            b.clicked.connect(signal)
            lay.addWidget(b)
            return b

        self.train_button = button(tr("Train"), tr("Start a new run with the setup on the left (a new run folder)"),
                                   self.train_clicked, SP.SP_MediaPlay)
        self.train_button.setObjectName("trainButton")
        self.pause_button = button(tr("Pause"), tr("Pause before the next step (the snapshot in progress completes)"),
                                   self.pause_clicked, SP.SP_MediaPause)
        self.resume_button = button(tr("Resume"), tr("Continue a paused run"), self.resume_clicked, SP.SP_MediaSeekForward)
        self.stop_button = button(tr("Stop"), tr("Stop after the current step; a checkpoint and the model are saved"),
                                  self.stop_clicked, SP.SP_MediaStop)
        self.apply_button = button(tr("Apply t / lr"), tr("Send the temperature and learning rate of the setup panel "
                                   "to the running trainer (from the next step; marked on the plots)"),
                                   self.apply_clicked)
        self.save_button = button(tr("Save model as…"), tr("Copy the run's model (final, or the latest checkpoint) "
                                  "as a sentence-transformers folder"), self.save_clicked, SP.SP_DialogSaveButton)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat(tr("ready"))
        self.progress.setMinimumWidth(140)  # the window fits 1366 px with its docks
        lay.addWidget(self.progress, 1)
        self.step = 0
        self.total = 0
        self.set_state("idle", can_save=False)

    def set_state(self, state: str, can_save: bool | None = None) -> None:
        if state not in STATES:
            raise ValueError(state)
        self.state = state
        busy = state in ("starting", "running", "pausing", "paused", "stopping")
        self.train_button.setEnabled(not busy)
        self.pause_button.setEnabled(state == "running")
        self.resume_button.setEnabled(state in ("paused", "pausing"))
        self.stop_button.setEnabled(state in ("starting", "running", "pausing", "paused"))
        self.apply_button.setEnabled(state in ("running", "pausing", "paused"))
        if can_save is not None:
            self._can_save = can_save
        self.save_button.setEnabled(self._can_save and state in ("idle", "paused", "viewing"))
        if state == "starting":  # the trainer's phases follow (set_status)
            self.set_status(tr("loading model and data"))
        elif state == "paused":
            self.progress.setFormat(tr("paused at step {step} / {total}").format(step=f"{self.step:,}", total=f"{self.total:,}"))
        elif state == "stopping":
            self.progress.setFormat(tr("stopping at step {step}…").format(step=f"{self.step:,}"))

    def set_progress(self, step: int, total: int, steps_per_sec: float, prefix: str = "") -> None:
        """Step, steps/s and ETA (``prefix``: e.g. "run 1 of 2" while a preset trains)."""
        self.step, self.total = int(step), int(total)
        if self.progress.maximum() != max(1, total):
            self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(step, max(1, total)))
        eta = (total - step) / steps_per_sec if steps_per_sec > 0 else math.nan
        self.progress.setFormat((f"{prefix} · " if prefix else "")
                                + tr("step {step} / {total} · {speed} steps/s · ETA {eta}").format(
                                    step=f"{step:,}", total=f"{total:,}", speed=f"{steps_per_sec:.2f}",
                                    eta=format_eta(eta)))
        self.progress.setToolTip("")

    def set_status(self, text: str) -> None:
        """What the run waits for before its next step (``text`` in the bar: a busy bar
        would hide it in most styles)."""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(text + "…")
        self.progress.setToolTip(text)

    @property
    def progress_text(self) -> str:
        return self.progress.format()


class MessageBar(QFrame):
    """An in-window message strip (errors in red, notes in blue) with a close button."""

    COLORS = {"error": ("#fdecea", "#b71c1c"), "warning": ("#fff4e5", "#8a4b00"), "info": ("#e8f1fb", "#0d47a1"),
              "ok": ("#e8f5e9", "#1b5e20")}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.label, 1)
        self.actions_box = QHBoxLayout()
        self.actions_box.setSpacing(4)
        lay.addLayout(self.actions_box)
        self.action_buttons: list[QPushButton] = []
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip(tr("Dismiss"))
        close.clicked.connect(self.hide)
        lay.addWidget(close)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error",
                     actions: Sequence[tuple[str, Callable[[], Any]]] = ()) -> None:
        """Show ``text``; ``actions``: (label, callable) buttons beside it (one click
        runs the callable and dismisses the message)."""
        self._set_actions(actions)
        bg, fg = self.COLORS.get(kind, self.COLORS["info"])
        self.kind = kind
        self.setStyleSheet(f"#messageBar {{ background: {bg}; border: 1px solid {fg}; border-radius: 4px; }}"
                           f"#messageBar QLabel {{ color: {fg}; }}")
        prefix = tr("Error: ") if kind == "error" else ""
        self.label.setText(prefix + text)
        self.show()

    def _set_actions(self, actions: Sequence[tuple[str, Callable[[], Any]]]) -> None:
        for b in self.action_buttons:
            self.actions_box.removeWidget(b)
            b.deleteLater()
        self.action_buttons = []
        for label, slot in actions:
            b = QPushButton(label)
            b.setObjectName("messageAction")
            b.clicked.connect(lambda _c=False, f=slot: (self.hide(), f()))
            self.actions_box.addWidget(b)
            self.action_buttons.append(b)

    def action(self, label: str) -> QPushButton | None:
        """The action button whose text starts with ``label``, or None."""
        return next((b for b in self.action_buttons if b.text().startswith(label)), None)

    @property
    def text(self) -> str:
        return self.label.text()


def bind_run_controls(controls: RunControls, runs: Any, run_label: QLabel, device_label: QLabel,
                      chosen_device: Callable[[], str], background: Callable[[], str] = lambda: "") -> None:
    """Make the run bar, the run label and the device label follow the run controller
    (``runs``: :class:`~app.runs.controller.RunController`), whichever source is active:
    live training, a preset, a replayed or a followed run folder. ``background()``: work
    the window does meanwhile, added to what a starting run waits for (UMAP compiling)."""

    def on_state(state: str) -> None:
        controls.set_state(state, can_save=runs.can_save() if state in ("idle", "viewing") else None)
        if state == "starting":
            device_label.setText(tr("device: {device} (starting…)").format(device=chosen_device()))
            on_status(tr("starting the training thread"))

    def on_status(text: str) -> None:
        if controls.state in ("paused", "pausing", "stopping"):
            return
        more = background() if controls.state == "starting" else ""
        controls.set_status(text + (f" · {more}" if more else ""))

    def on_begun(kind: str, label: str) -> None:
        run_label.setText(label if kind in ("preset", "replay", "following") else tr("run: {label}").format(label=label))
        starting = kind in ("training", "preset")
        device_label.setText((tr("device: {device} (starting…)") if starting else tr("device: {device}")).format(
            device=chosen_device()))

    def on_progress(step: int, total: int, sps: float) -> None:
        if controls.state in ("running", "pausing", "stopping", "viewing"):
            controls.set_progress(step, total, sps, runs.progress_label)
            if controls.state == "stopping":
                controls.set_state("stopping")
        device = runs.model.device
        if device:
            device_label.setText(tr("device: {device}").format(device=device))

    def on_finished(end: Any) -> None:
        last = runs.model.latest
        bar = controls.progress
        if last is not None:
            controls.set_progress(last.step, last.total_steps, float(last.scalars.get("steps_per_sec", 0.0)))
            done = tr("stopped at step {step} / {total}") if last.stopped else tr("finished at step {step} / {total}")
            bar.setFormat(done.format(step=f"{last.step:,}", total=f"{last.total_steps:,}"))
        elif runs.last_error is not None:
            bar.setFormat(tr("failed"))
        if bar.maximum() == 0:
            bar.setRange(0, 1)

    runs.state_changed.connect(on_state)
    runs.status.connect(on_status)
    runs.run_begun.connect(on_begun)
    runs.progress.connect(on_progress)
    runs.run_finished.connect(on_finished)
