"""Python's cycle collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed.
If that is a worker thread and the garbage holds Qt widgets (a closed window's menus, a
dialog), their C++ destructors run in the worker while the GUI thread paints: Qt and
shiboken then deadlock or crash (seen here: a QMenu destroyed from a corpus-reading
worker while the GUI thread painted a plot). So the studio turns automatic collection
off and collects from a QTimer on the GUI thread instead. Reference counting still frees
everything that is not in a cycle at once; only cycles wait for the timer.

Full collections are the one costly part: once torch, transformers and a run are loaded,
about 650,000 objects are tracked and a full pass over them holds the GUI thread for about
half a second (measured by ``bench/soak.py``: its GUI timer's worst delays). So after each
full collection the survivors are frozen (``gc.freeze``: moved to a generation the
collector skips); the next full collection scans only what was created since. Garbage
cycles among frozen objects are found by a deep collection (unfreeze, collect) every
:data:`DEEP_EVERY_S` seconds, or at once by :func:`collect_all`.

Freed memory goes back to the system: with glibc, memory that the training thread, the
workers and the GUI thread free in small blocks can stay in malloc's arenas (the test frees
about 200 MB of small blocks from another thread: the resident size stays until a trim,
then falls by about 190 MB). Every :data:`TRIM_EVERY_S` seconds a short-lived thread calls
``malloc_trim(0)`` (ctypes releases the GIL during the call, so the GUI thread keeps
drawing); elsewhere than glibc this does nothing. (``bench/soak.py``: the hour's growth after
minute 5 went from +14.0 % to +11.6 % with this and the run model's smaller snapshots.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time

from PySide6.QtCore import QObject, QTimer


DEEP_EVERY_S = 600.0  # a full collection that also scans the frozen objects, at most this often
TRIM_EVERY_S = 60.0  # malloc_trim(0) in a thread this often (glibc)


# glibc mallopt() parameters (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 1024 * 1024  # blocks from this size on are mapped on their own and unmapped when freed
ARENA_MAX = 4  # malloc arenas for all threads together


def _libc_function(name: str, argtypes: list, restype):
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = argtypes, restype
    return fn


_MALLOC_TRIM = _libc_function("malloc_trim", [ctypes.c_size_t], ctypes.c_int)
_MALLOPT = _libc_function("mallopt", [ctypes.c_int, ctypes.c_int], ctypes.c_int)


def tune_malloc(mmap_threshold: int | None = MMAP_THRESHOLD, arena_max: int | None = ARENA_MAX) -> bool:
    """Keep glibc from holding on to the studio's large, short-lived arrays.

    glibc serves a block of 128 KiB or more with its own mapping, returned to the system
    when freed, but after the first such free it raises that threshold (up to 32 MiB) so
    later blocks of that size come from the heap of whichever thread allocates them.
    The studio frees megabyte arrays (probe matrices, frames, batch views) from threads
    other than the one that made them, each thread with its own arena (up to 8 a core):
    the holes they leave are reused only in part and the resident size creeps up. A
    fixed threshold (which also turns the adjustment off) sends every block of
    ``mmap_threshold`` or more to its own mapping, and ``arena_max`` caps the arenas.
    Call once, early, before worker threads start. True when glibc took the settings
    given (None: leave that one); False elsewhere (nothing changes).

    Not switched on in the studio: it slows real training. ``bench/malloc_training.py``
    (the packaged model, batch 32, interleaved rounds, 2026-12-02): with both settings
    training runs at 0.59 to 0.76 of glibc's default speed (the 1 MiB threshold maps and
    unmaps every activation tensor of a step, page faults on each), with the arena cap
    alone at 0.93 to 0.94. On the soak's tiny model the machine's spread hides any effect
    (``bench/soak.py --malloc`` runs the soak with each setting)."""
    if _MALLOPT is None:
        return False
    ok = True
    if mmap_threshold is not None:
        ok = bool(_MALLOPT(M_MMAP_THRESHOLD, int(mmap_threshold))) and ok
    if arena_max is not None:
        ok = bool(_MALLOPT(M_ARENA_MAX, int(arena_max))) and ok
    return ok


def trim_heap() -> bool:
    """Give memory that malloc holds free back to the system (glibc ``malloc_trim``; the
    GIL is released during the call). True when some was returned; False elsewhere."""
    return bool(_MALLOC_TRIM(0)) if _MALLOC_TRIM is not None else False


class MainThreadGC(QObject):
    """Disable automatic GC and collect on a GUI-thread timer (``interval_ms``)."""

    def __init__(self, interval_ms: int = 1000, parent: QObject | None = None,
                 deep_every_s: float = DEEP_EVERY_S, trim_every_s: float = TRIM_EVERY_S) -> None:
        super().__init__(parent)
        self.deep_every_s = deep_every_s
        self.trim_every_s = trim_every_s
        self._last_deep = self._last_trim = time.monotonic()
        self.trims = 0  # malloc_trim calls started (for tests and benchmarks)
        self._trimming: threading.Thread | None = None
        self.full_collections = 0  # (for tests and benchmarks)
        self.deep_collections = 0
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> int:
        """Collect what the thresholds call for (cheap), like the automatic collector;
        now and then hand freed memory back to the system (:func:`trim_heap`)."""
        self._maybe_trim()
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = gc.get_threshold()
        if c2 > t2:
            return self.collect_full()
        if c1 > t1:
            return gc.collect(1)
        if c0 > t0:
            return gc.collect(0)
        return 0

    def _maybe_trim(self) -> None:
        now = time.monotonic()
        if _MALLOC_TRIM is None or now - self._last_trim < self.trim_every_s:
            return
        if self._trimming is not None and self._trimming.is_alive():
            return
        self._last_trim = now
        self.trims += 1
        self._trimming = threading.Thread(target=trim_heap, name="malloc-trim", daemon=True)
        self._trimming.start()

    def collect_full(self) -> int:
        """A full collection of the objects created since the last one (a deep one, over
        every object, when :attr:`deep_every_s` has passed); the survivors are frozen."""
        now = time.monotonic()
        if now - self._last_deep >= self.deep_every_s:
            self._last_deep = now
            self.deep_collections += 1
            gc.unfreeze()
        self.full_collections += 1
        found = gc.collect(2)
        gc.freeze()  # survivors of a full collection are long-lived: later ones skip them
        return found

    def stop(self) -> None:
        self._timer.stop()
        collect_all()
        if self._was_enabled:
            gc.enable()


_INSTANCE: MainThreadGC | None = None


def collect_all() -> int:
    """Unfreeze and collect everything now (the frozen objects too); for tests, shutdown
    and moments where a pause does not matter."""
    gc.unfreeze()
    return gc.collect()


def install(app: QObject, interval_ms: int = 1000, tune: bool = False) -> MainThreadGC:
    """Once per process: collect on ``app``'s (the GUI) thread from now on (and, with
    ``tune``, :func:`tune_malloc` first; off by default, see its note)."""
    global _INSTANCE
    if _INSTANCE is None:
        if tune:
            tune_malloc()
        _INSTANCE = MainThreadGC(interval_ms, parent=app)
    return _INSTANCE
