"""Python's cycle collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed.
If that is a worker thread and the garbage holds Qt widgets (a closed window's menus, a
dialog), their C++ destructors run in the worker while the GUI thread paints: Qt and
shiboken then deadlock or crash (seen here: a QMenu destroyed from a corpus-reading
worker while the GUI thread painted a plot). So the studio turns automatic collection
off and collects from a QTimer on the GUI thread instead. Reference counting still frees
everything that is not in a cycle at once; only cycles wait for the timer.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadGC(QObject):
    """Disable automatic GC and collect on a GUI-thread timer (``interval_ms``)."""

    def __init__(self, interval_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> int:
        """Collect what the thresholds call for (cheap), like the automatic collector."""
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = gc.get_threshold()
        if c2 > t2:
            return gc.collect(2)
        if c1 > t1:
            return gc.collect(1)
        if c0 > t0:
            return gc.collect(0)
        return 0

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


_INSTANCE: MainThreadGC | None = None


def install(app: QObject, interval_ms: int = 1000) -> MainThreadGC:
    """Once per process: collect on ``app``'s (the GUI) thread from now on."""
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = MainThreadGC(interval_ms, parent=app)
    return _INSTANCE
