"""Background jobs for the embedding views: one thread, newest request wins.

A :class:`JobThread` runs jobs submitted on named *channels* ("frame", "kmeans",
"drift", "encode", "umap"...). Each channel holds at most one pending job: submitting
again replaces the pending one (the newest request wins; a scrubbed-past snapshot is
never projected). A job may be a generator: every value it yields is emitted as
``yielded`` and, between yields, the job is abandoned when a newer job arrived on its
channel. A plain job's result is always delivered (a superseded frame is still worth
caching), and the receiver decides whether it is still current. Results cross to the GUI thread as queued signals carrying plain data.

The GUI owns the thread; :meth:`JobThread.shutdown` drops pending jobs and waits for
the running one (a UMAP fit cannot be interrupted mid-way).
"""

from __future__ import annotations

import inspect
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal

from simcse_core.errors import SimCSEError

from app.i18n import tr_error

log = logging.getLogger(__name__)


class JobThread(QThread):
    """Signals (queued to the GUI thread):

    - ``done(channel, token, result)``: a job returned (generators: their return value).
    - ``yielded(channel, token, value)``: a generator job yielded a partial result.
    - ``failed(channel, token, message)``: a job raised (traceback in the log).
    - ``idle()``: no job is running or pending.
    """

    done = Signal(str, object, object)
    yielded = Signal(str, object, object)
    failed = Signal(str, object, str)
    idle = Signal()

    def __init__(self, name: str, priorities: tuple[str, ...] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.priorities = tuple(priorities)
        self._cond = threading.Condition()
        self._pending: dict[str, tuple[Callable[..., Any], tuple, Any]] = {}
        self._serial: dict[str, int] = {}
        self._stop = False
        self._busy = False
        self.before: Callable[[], None] | None = None  # run once in the thread first (thread env)

    # ------------------------------------------------------------- GUI side
    def submit(self, channel: str, fn: Callable[..., Any], *args: Any, token: Any = None) -> None:
        """Queue ``fn(*args)`` on ``channel``, replacing a pending job there."""
        with self._cond:
            if self._stop:
                return
            self._pending[channel] = (fn, args, token)
            self._serial[channel] = self._serial.get(channel, 0) + 1
            self._cond.notify()
        if not self.isRunning():
            self.start(QThread.Priority.LowPriority)

    def cancel(self, channel: str | None = None) -> None:
        """Drop pending jobs (of one channel, or all); a running generator job stops at
        its next yield."""
        with self._cond:
            for ch in [channel] if channel else list(self._pending):
                self._pending.pop(ch, None)
                self._serial[ch] = self._serial.get(ch, 0) + 1

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._busy or bool(self._pending)

    def shutdown(self, wait_ms: int = 120_000) -> bool:
        with self._cond:
            self._stop = True
            self._pending.clear()
            for ch in self._serial:
                self._serial[ch] += 1
            self._cond.notify_all()
        if self.isRunning():
            return self.wait(wait_ms)
        return True

    # ------------------------------------------------------------- thread side
    def _next(self) -> tuple[str, Callable[..., Any], tuple, Any, int] | None:
        with self._cond:
            while not self._pending and not self._stop:
                self._busy = False
                self._cond.wait(0.5)
            if self._stop:
                return None
            order = [c for c in self.priorities if c in self._pending] + \
                    [c for c in self._pending if c not in self.priorities]
            ch = order[0]
            fn, args, token = self._pending.pop(ch)
            self._busy = True
            return ch, fn, args, token, self._serial[ch]

    def _stale(self, channel: str, serial: int) -> bool:
        with self._cond:
            return self._stop or self._serial.get(channel) != serial

    def run(self) -> None:  # the worker thread
        if self.before is not None:
            try:
                self.before()
            except Exception:
                log.exception("job thread set-up failed")
        while True:
            job = self._next()
            if job is None:
                return
            ch, fn, args, token, serial = job
            try:
                out = fn(*args)
                if inspect.isgenerator(out):
                    try:
                        while True:
                            value = next(out)
                            self.yielded.emit(ch, token, value)  # computed: worth keeping
                            if self._stale(ch, serial):
                                out.close()
                                break
                    except StopIteration as stop:
                        if not self._stale(ch, serial):
                            self.done.emit(ch, token, stop.value)
                elif not self._stop:
                    self.done.emit(ch, token, out)  # still worth caching if superseded
            except SimCSEError as e:  # an expected failure (a missing file, a bad model): one line
                log.info("job %s: %s", ch, e)
                self.failed.emit(ch, token, tr_error(e))
            except Exception as e:  # a job's bug must not kill the thread
                log.error("job %s failed:\n%s", ch, traceback.format_exc())
                self.failed.emit(ch, token, f"{type(e).__name__}: {e}")
            with self._cond:
                empty = not self._pending
            if empty:
                self.idle.emit()
