"""The explore map's UMAP at 100,000 points, in the window's worker thread, with the GUI
thread's timer watched (issue 16: record the time; timer p99 under 50 ms throughout).

    python bench/explore_umap.py                  # 100,000 x 384, fit on 20,000
    python bench/explore_umap.py --rows 30000

Synthetic clustered unit rows (as bench/neighbours.py). The layout runs in a
:class:`~app.embedding_tab.job_thread.JobThread` as the explore window runs it (``--where
process``: in a child process, :mod:`simcse_core.layout_process`; ``thread``: in the thread),
its progress arriving as signals; a 10 ms QTimer on the GUI thread records how late each
tick is. Prints one JSON object: seconds (fit, placing the rest), progress updates, and
the timer's delays (p50, p99, max) over the whole layout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from bench_common import machine_line
from neighbours import synthetic

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=20_000)
    ap.add_argument("--where", choices=("process", "thread"), default="process",
                    help="the UMAP in a child process (as the explore window runs it above 10,000 rows) or in the "
                         "worker thread itself (as before, and at or below 10,000 rows)")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if (os.cpu_count() or 1) <= 2:
        os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.embedding_tab.job_thread import JobThread
    from simcse_core.explore import LAYOUT_CHUNK, iter_layout_2d
    from simcse_core.layout_process import iter_layout_2d_process
    from simcse_core.steps import drive
    from simcse_core.projection import warm_up_umap

    print(f"# {machine_line()}, {args.rows:,} x 384, UMAP fit on {args.sample:,}", file=sys.stderr, flush=True)
    app = QApplication.instance() or QApplication([])
    X = synthetic(args.rows, 384)
    warm_up_umap()  # numba compiles once per machine (disk cache); not part of the layout's time
    delays: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        if last[0]:
            delays.append(max(0.0, (now - last[0]) * 1000 - 10))
        last[0] = now

    def job():
        box: list[tuple[int, int]] = []
        t0 = time.perf_counter()
        if args.where == "process":
            gen = iter_layout_2d_process(X, sample=args.sample, chunk=LAYOUT_CHUNK)
        else:
            gen = iter_layout_2d(X, sample=args.sample)
        gen_result = drive(gen, box.append)
        return gen_result, [b for b in box if b[0] > 0], time.perf_counter() - t0

    jobs = JobThread("bench-umap")
    result: list = []
    jobs.done.connect(lambda _c, _t, r: result.append(r))
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    t0 = time.perf_counter()
    jobs.submit("umap", job)
    while not result:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    timer.stop()
    jobs.shutdown()
    layout, progress, seconds = result[0]
    d = np.array(delays)
    out = {"rows": args.rows, "sample": args.sample, "where": args.where, "seconds": round(seconds, 1),
           "wall_s": round(time.perf_counter() - t0, 1), "progress_updates": len(progress),
           "finite": bool(np.isfinite(layout).all()),
           "timer_ms": {"ticks": int(d.size), "p50": round(float(np.percentile(d, 50)), 1),
                        "p99": round(float(np.percentile(d, 99)), 1), "max": round(float(d.max()), 1)}}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
