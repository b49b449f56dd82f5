"""The GUI-thread collector: full collections freeze their survivors (so the next one
does not rescan hundreds of thousands of long-lived objects), and garbage cycles among
frozen objects are still found by a deep collection."""

from __future__ import annotations

import gc
import weakref

from app.shell import main_thread_gc
from app.shell.main_thread_gc import MainThreadGC


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def make_cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_a_full_collection_freezes_survivors_and_collects_new_cycles(qapp):
    collector = MainThreadGC(interval_ms=10**6, deep_every_s=10**9)
    try:
        keep = [Node() for _ in range(100)]  # long-lived
        collector.collect_full()
        frozen = gc.get_freeze_count()
        assert frozen >= len(keep)  # the survivors left the scanned generations
        assert not any(gc.is_tracked(n) and n in gc.get_objects(generation=2) for n in keep[:3])
        dead = make_cycle()  # garbage created after the freeze
        assert dead() is not None
        collector.collect_full()
        assert dead() is None  # found without a deep collection
        assert collector.full_collections == 2 and collector.deep_collections == 0
    finally:
        collector.stop()


def test_garbage_among_frozen_objects_waits_for_the_deep_collection(qapp):
    collector = MainThreadGC(interval_ms=10**6, deep_every_s=10**9)
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        collector.collect_full()  # a and b are alive: frozen
        del a, b  # now a garbage cycle among frozen objects
        collector.collect_full()
        assert ref() is not None  # skipped: frozen
        collector.deep_every_s = 0.0
        collector.collect_full()  # a deep one: unfreezes first
        assert ref() is None
        assert collector.deep_collections == 1
        ref2 = make_cycle()
        gc.freeze()
        main_thread_gc.collect_all()
        assert ref2() is None and gc.get_freeze_count() == 0
    finally:
        collector.stop()


def _rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def test_freed_memory_goes_back_to_the_system(qapp):
    """Small blocks freed by another thread stay in malloc's arena (the resident size does
    not fall) until trim_heap(); the collector's timer starts a trim every trim_every_s."""
    import sys
    import threading
    import time

    import pytest

    if not sys.platform.startswith("linux") or main_thread_gc._MALLOC_TRIM is None:
        pytest.skip("malloc_trim is glibc's")
    kept: list[bytearray] = []

    def churn() -> None:  # about 200 MB of small blocks, a few survivors pinning pages
        blocks = [bytearray(700) for _ in range(300_000)]
        kept.extend(blocks[::97])

    t = threading.Thread(target=churn)
    t.start()
    t.join()
    before = _rss_mb()
    assert main_thread_gc.trim_heap() is True
    after = _rss_mb()
    assert before - after > 50, (before, after)  # measured here: 253 -> 61 MB

    collector = MainThreadGC(interval_ms=10**6, deep_every_s=10**9, trim_every_s=0.05)
    try:
        collector.collect()
        assert collector.trims == 0  # not yet due
        time.sleep(0.06)
        collector.collect()
        assert collector.trims == 1
        collector._trimming.join(5)
        assert not collector._trimming.is_alive()
    finally:
        collector.stop()



_MAPPED = r"""
import ctypes, sys
import numpy as np
from app.shell.main_thread_gc import tune_malloc

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "tuned":
    assert tune_malloc() is True
np.ones(2**18).sum()  # a 2 MiB array made and freed
before = libc.mallinfo2().hblkhd  # bytes in blocks mapped on their own
again = np.ones(2**18)
print((libc.mallinfo2().hblkhd - before) / 2**20)
"""


def test_tuned_malloc_keeps_megabyte_arrays_in_their_own_mappings():
    """glibc's default: once a 2 MiB block mapped on its own is freed, its threshold rises
    and the next 2 MiB array comes from a heap (where freed holes stay resident). After
    :func:`tune_malloc` the threshold stays at 1 MiB: the next array is mapped on its own
    again (and unmapped when freed). Read from glibc's own counters (mallinfo2)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    if not sys.platform.startswith("linux") or main_thread_gc._MALLOPT is None:
        pytest.skip("mallopt is glibc's")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "QT_QPA_PLATFORM": "offscreen"}

    def mapped_mib(mode: str) -> float:
        out = subprocess.run([sys.executable, "-c", _MAPPED, mode], env=env, capture_output=True, text=True,
                             timeout=120, check=True)
        return float(out.stdout.split()[-1])

    assert mapped_mib("plain") < 0.5  # from the heap
    assert mapped_mib("tuned") >= 2.0  # its own mapping
