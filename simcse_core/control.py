"""A thread-safe remote control for a running :func:`simcse_core.trainer.train`.

The trainer checks it between steps, so Stop takes effect within one step and a
change (temperature, learning rate, false-negative pairs) applies from the next step.
The same changes can also be passed with ``generator.send(dict)`` at a yield.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

CHANGEABLE = ("temperature", "learning_rate", "fn_pairs", "fn_policy")


# The first phase of every run a trainer reports through ``status`` (a preset's runs each
# begin with it, which is how a watcher knows the next run is loading).
LOADING_PHASE = "loading the model"


class TrainControl:
    def __init__(self, on_step: Callable[[int, int, float], None] | None = None,
                 on_status: Callable[[str], None] | None = None) -> None:
        """``on_step(step, total_steps, steps_per_sec)`` is called after every step from
        the training thread; keep it cheap (it must not touch Qt widgets).
        ``on_status(text)`` is called, from the training thread too, as the trainer enters
        each phase before its first step ("loading the model …", "tokenising 1,624
        sentences", "encoding the probe set …"): what a person waits for."""
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._pending: dict[str, Any] = {}
        self.on_step = on_step
        self.on_status = on_status

    # ---------------------------------------------------------------- caller side
    def stop(self) -> None:
        """Ask the run to stop after the current step (it checkpoints, then returns)."""
        self._stop.set()
        self._running.set()  # a paused run must wake up to stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def update(self, **changes: Any) -> None:
        """Queue changes for the next step: temperature=, learning_rate=, fn_pairs=
        (pairs of corpus ids to add to the confirmed false negatives), fn_policy=."""
        bad = set(changes) - set(CHANGEABLE)
        if bad:
            raise ValueError(f"cannot change {', '.join(sorted(bad))} during training")
        with self._lock:
            if "fn_pairs" in changes:
                pairs = list(self._pending.get("fn_pairs", [])) + [tuple(map(int, p)) for p in changes.pop("fn_pairs")]
                self._pending["fn_pairs"] = pairs
            self._pending.update(changes)

    # --------------------------------------------------------------- trainer side
    def status(self, text: str) -> None:
        """The trainer enters a phase (calls ``on_status``; a failing hook is ignored)."""
        if self.on_status is not None:
            try:
                self.on_status(text)
            except Exception:  # noqa: BLE001 - a display hook must never stop training
                pass

    def take_changes(self) -> dict[str, Any]:
        with self._lock:
            out, self._pending = self._pending, {}
        return out

    def wait_if_paused(self, timeout: float | None = None) -> None:
        self._running.wait(timeout)
