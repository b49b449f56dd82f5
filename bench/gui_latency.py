"""How responsive is the studio's GUI thread while training runs on the CPU?

A 10 ms QTimer runs on the GUI thread of a real studio window (live plots, throttled
redraws) while the trainer runs in its worker thread. Each tick's delay is its actual
interval minus 10 ms; over ``--seconds`` (default 30) we report p50 / p99 / max. An
idle baseline (same window, no training) comes first.

    python bench/gui_latency.py                       # default model, batch 64
    python bench/gui_latency.py --model random:default --seconds 10
    python bench/gui_latency.py --compare             # torch's default threads vs 1 thread
    python bench/gui_latency.py --with-umap           # + the embedding tab shown and UMAP
                                                      #   refreshes of 5000 points back to back

Prints a markdown table and one JSON line per configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import qt_app

INTERVAL_MS = 10


def _stats(delays_ms: list[float]) -> dict[str, float]:
    import numpy as np

    if not delays_ms:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    a = np.asarray(delays_ms)
    return {"n": int(a.size), "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p99_ms": round(float(np.percentile(a, 99)), 2), "max_ms": round(float(a.max()), 2)}


def measure(args: argparse.Namespace) -> dict:
    qt_app()
    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer

    from app.shell.main_window import MainWindow
    from simcse_core.config import TrainConfig

    import torch

    tmp = Path(tempfile.mkdtemp(prefix="gui-latency-"))
    win = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
                     runs_root=tmp / "runs", torch_threads=args.torch_threads or None, restore=False)
    win.show()

    # time the GUI thread's own work per snapshot and per redraw (to tell it from GIL waits)
    gui_cost: dict[str, list[float]] = {"snapshot_ms": [], "redraw_ms": []}

    def timed(fn, key):
        def wrapper(*a):
            t = time.perf_counter()
            try:
                return fn(*a)
            finally:
                gui_cost[key].append((time.perf_counter() - t) * 1000.0)
        return wrapper

    win.plots.refresh = timed(win.plots.refresh, "redraw_ms")
    win.model.add = timed(win.model.add, "snapshot_ms")

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(INTERVAL_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def run_for(seconds: float) -> list[float]:
        ticks.clear()
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        timer.start()
        loop.exec()  # the real event loop: signals, throttled redraws, the timer
        timer.stop()
        iv = [(b - a) * 1000.0 for a, b in zip(ticks, ticks[1:])]
        return [max(0.0, x - INTERVAL_MS) for x in iv]

    umap_stats: dict = {}
    if args.with_umap:
        import numpy as np

        from simcse_core.projection import UmapTracker

        if (os.cpu_count() or 1) <= 2:
            os.environ.setdefault("NUMBA_NUM_THREADS", "1")
        win.show_embedding_views()  # the embedding tab draws (and UMAPs) the live probe set too
        jobs = win.embedding.controller.umap_jobs
        rng = np.random.default_rng(0)
        P, D = args.umap_points, 384
        base = (rng.standard_normal((12, D))[np.arange(P) % 12] + 0.8 * rng.standard_normal((P, D)))
        tracker = UmapTracker()
        refresh_s: list[float] = []
        umap_on = [False]

        def umap_job():
            X = base + 0.05 * rng.standard_normal(base.shape)
            X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
            t = time.perf_counter()
            tracker.update(X)
            return time.perf_counter() - t, tracker.last_mode

        def umap_done(ch, _tok, res):
            if ch != "bench-umap":
                return
            if res[1] == "warm":
                refresh_s.append(res[0])
            if umap_on[0]:
                jobs.submit("bench-umap", umap_job)

        jobs.done.connect(umap_done)
        win.embedding.start_warmup()
        umap_on[0] = True
        jobs.submit("bench-umap", umap_job)  # the cold fit, before the measurement
        while tracker.n_updates < 2:
            loop = QEventLoop()
            QTimer.singleShot(50, loop.quit)
            loop.exec()
        umap_stats = {"umap_points": P, "refresh_s": refresh_s}

    run_for(1.5)  # warm-up: first paint, the setup panel's corpus read
    idle = _stats(run_for(args.idle_seconds)) if args.idle_seconds > 0 else None

    cfg = TrainConfig(model_name_or_path=args.model, train_file=None, per_device_train_batch_size=args.batch,
                      max_steps=100_000, snapshot_every=args.snapshot_every, probe_size=args.probe_size,
                      align_probe_size=min(args.probe_size, 256), checkpoint_every=10**9, device="cpu",
                      output_dir=str(tmp / "runs" / "bench"))
    steps: list[int] = []
    t_start = time.perf_counter()
    assert win.start_training(cfg), win.message_bar.text
    first_step: list[float] = []

    def on_progress(step: int, total: int, sps: float) -> None:
        steps.append(step)
        if not first_step:
            first_step.append(time.perf_counter())

    win.runs.source.worker.progress.connect(on_progress)
    while not first_step and win.training:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    if not win.training:
        raise SystemExit(f"training did not start: {win.message_bar.text}")
    load_s = first_step[0] - t_start
    step0 = steps[-1] if steps else 0
    snaps0 = len(win.model.snapshots)
    redraws0 = win.plots.redraws
    busy = _stats(run_for(args.seconds))
    steps_done = (steps[-1] if steps else 0) - step0
    snaps = len(win.model.snapshots) - snaps0
    redraws = win.plots.redraws - redraws0
    if args.with_umap:
        umap_on[0] = False
        rs = umap_stats.pop("refresh_s")
        umap_stats.update(umap_refreshes=len(rs), umap_refresh_median_s=round(float(np.median(rs)), 3) if rs else None,
                          umap_refresh_max_s=round(max(rs), 3) if rs else None)
    win.close()  # stops the trainer and waits for its thread
    return {
        "model": args.model, "batch": args.batch, "seconds": args.seconds,
        "torch_threads": args.torch_threads or torch.get_num_threads(),
        "torch_threads_setting": args.torch_threads or "default", "cpu_count": os.cpu_count(),
        "idle": idle, "training": busy, "train_steps": steps_done,
        "steps_per_sec": round(steps_done / args.seconds, 3), "snapshots": snaps, "redraws": redraws,
        "load_s": round(load_s, 1),
        "gui_ms_per_snapshot_max": round(max(gui_cost["snapshot_ms"], default=0.0), 2),
        "gui_ms_per_redraw_max": round(max(gui_cost["redraw_ms"], default=0.0), 2),
        "with_umap": bool(args.with_umap), **umap_stats,
    }


def table(results: list[dict]) -> str:
    rows = ["| torch threads | phase | ticks | p50 delay ms | p99 delay ms | max delay ms | train steps/s | snapshots | redraws |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if r.get("idle"):
            i = r["idle"]
            idle = "UMAP only (no training)" if r.get("with_umap") else "idle"
            rows.append(f"| {r['torch_threads_setting']} | {idle} | {i['n']} | {i['p50_ms']} | {i['p99_ms']} | {i['max_ms']} | – | – | – |")
        t = r["training"]
        phase = "training + UMAP" if r.get("with_umap") else "training"
        rows.append(f"| {r['torch_threads_setting']} | {phase} | {t['n']} | {t['p50_ms']} | {t['p99_ms']} | {t['max_ms']} "
                    f"| {r['steps_per_sec']} | {r['snapshots']} | {r['redraws']} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=30.0, help="measurement window while training (default 30)")
    p.add_argument("--idle-seconds", type=float, default=3.0, help="idle baseline before training (0: skip)")
    p.add_argument("--model", default="default", help="default | random:default | a folder")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--snapshot-every", type=int, default=5)
    p.add_argument("--probe-size", type=int, default=512)
    p.add_argument("--torch-threads", type=int, default=0, help="0: torch's default; N: torch.set_num_threads(N) in the trainer")
    p.add_argument("--with-umap", action="store_true",
                   help="show the embedding tab and run UMAP refreshes back to back in its UMAP thread meanwhile")
    p.add_argument("--umap-points", type=int, default=5000, help="points of the background UMAP (--with-umap)")
    p.add_argument("--compare", action="store_true", help="run torch's default threads and 1 thread, each in a fresh process")
    args = p.parse_args(argv)

    if args.compare:
        results = []
        for threads in (0, 1):
            cmd = [sys.executable, __file__, "--seconds", str(args.seconds), "--idle-seconds", str(args.idle_seconds),
                   "--model", args.model, "--batch", str(args.batch), "--snapshot-every", str(args.snapshot_every),
                   "--probe-size", str(args.probe_size), "--torch-threads", str(threads)]
            if args.with_umap:
                cmd += ["--with-umap", "--umap-points", str(args.umap_points)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
            results.append(json.loads(line))
    else:
        results = [measure(args)]
    print(f"GUI thread timer delay (10 ms QTimer; model {args.model}, batch {args.batch}, {args.seconds:g} s)\n")
    print(table(results))
    print()
    for r in results:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
