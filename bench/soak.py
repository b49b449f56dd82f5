"""Soak: the studio open for a long training run; does memory stay flat and the GUI responsive?

A real studio window (offscreen, or under Xvfb when DISPLAY is set) trains a tiny random
BERT (2 layers, hidden 32, the default model's tokenizer) on the demo corpus with a
snapshot every step, the embedding tab shown with UMAP on, the temperature-lens and
false-negative docks shown side by side, and the training tab, the batch tab and the
dropout-views dock brought up for a few seconds each minute. A 10 ms QTimer on the GUI thread measures its delays (as
``bench/gui_latency.py`` does); every minute the resident memory (psutil when installed,
else ``/proc/self/status`` VmRSS) and that minute's timer p99 are sampled.

    python bench/soak.py                 # the full hour
    python bench/soak.py --minutes 10    # a shorter soak

Checks (the exit status is 1 when one fails): resident memory after minute 5 grows by
at most 10 % over its minute-5 value; the timer's p99 is under 50 ms in every minute.
Prints one line per minute and, at the end, one JSON line with everything.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

INTERVAL_MS = 10
GROWTH_LIMIT = 0.10
P99_LIMIT_MS = 50.0
BASELINE_MINUTE = 5


def malloc_mb() -> dict[str, float]:
    """Where the resident memory is, by glibc's counters (mallinfo2, all arenas): ``used``
    (blocks in use from the heaps), ``free`` (freed but kept in the heaps: fragmentation
    that malloc_trim could not return), ``mapped`` (blocks mapped on their own); and
    ``py`` (Python's small-object blocks, sys.getallocatedblocks() x 64 B, a rough size).
    Empty elsewhere than glibc."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                    "fsmblks", "uordblks", "fordblks", "keepcost")]

    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    fn.restype = MallInfo2
    m = fn()
    mb = 2**20
    return {"used": round(m.uordblks / mb, 1), "free": round(m.fordblks / mb, 1), "mapped": round(m.hblkhd / mb, 1),
            "py": round(sys.getallocatedblocks() * 64 / mb, 1)}


def rss_mb() -> float:
    """This process's resident memory in MB."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def make_tiny_model(folder: Path) -> Path:
    """A random 2-layer, hidden-32 BERT with the default model's tokenizer (as the tests')."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from simcse_core.model import default_model_path

    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    BertModel(cfg).save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True).save_pretrained(folder)
    return folder


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(np.asarray(values), q)), 2) if values else float("nan")


def check(minutes: list[dict]) -> dict:
    """The soak's verdict from the per-minute samples."""
    base = next((m["rss_mb"] for m in minutes if m["minute"] == BASELINE_MINUTE), None)
    later = [m["rss_mb"] for m in minutes if m["minute"] > BASELINE_MINUTE]
    growth = (max(later) / base - 1.0) if base and later else None
    worst = max((m["p99_ms"] for m in minutes), default=float("nan"))
    return {"rss_minute5_mb": base, "rss_growth_after_minute5": None if growth is None else round(growth, 4),
            "growth_ok": growth is None or growth <= GROWTH_LIMIT, "worst_p99_ms": worst,
            "p99_ok": bool(minutes) and all(m["p99_ms"] < P99_LIMIT_MS for m in minutes)}


def _window(tmp: Path, threads: int, batch_fn: bool):
    from PySide6.QtCore import QSettings, Qt

    from app.shell.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
                     runs_root=tmp / "runs", torch_threads=threads, restore=False)
    win.show()
    win.splitDockWidget(win.lens_dock, win.fn_dock, Qt.Orientation.Vertical)  # both docks visible
    win.lens_dock.show()
    win.fn_dock.show()
    if not batch_fn:  # the dock stays shown; it just does not scan every snapshot's batch
        win.fn_panel.detectors.batch_detect.setChecked(False)
    win.view_state.umap_enabled = True
    win.show_embedding_views()
    return win


def soak(args: argparse.Namespace) -> dict:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if (os.cpu_count() or 1) <= 2:
        os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QDockWidget

    from app.shell import main_thread_gc
    from simcse_core.config import TrainConfig

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    collector = main_thread_gc.install(app)  # as app/main.py does; malloc per --malloc:
    if args.malloc == "tuned":
        main_thread_gc.tune_malloc()
    elif args.malloc == "arenas":
        main_thread_gc.tune_malloc(mmap_threshold=None)
    elif args.malloc == "mmap":
        main_thread_gc.tune_malloc(arena_max=None)
    tmp = Path(args.workdir or tempfile.mkdtemp(prefix="soak-"))
    model = make_tiny_model(tmp / "tiny-bert")
    win = _window(tmp, args.torch_threads, not args.no_batch_fn)

    delays: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        if last[0]:
            delays.append(max(0.0, (now - last[0]) * 1000.0 - INTERVAL_MS))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(INTERVAL_MS)
    timer.timeout.connect(tick)

    def run_for(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    cfg = TrainConfig(model_name_or_path=str(model), train_file=None, per_device_train_batch_size=args.batch,
                      max_steps=10**7, snapshot_every=1, probe_size=args.probe_size,
                      align_probe_size=min(args.probe_size, 128), checkpoint_every=args.checkpoint_every,
                      max_seq_length=32, device="cpu", output_dir=str(tmp / "runs" / "soak"))
    if not win.start_training(cfg):
        raise SystemExit(f"training did not start: {win.message_bar.text}")
    timer.start()
    t0 = time.perf_counter()
    tracing, traced_from_snapshots = False, 0
    early = None
    minutes: list[dict] = []
    ctrl = win.embedding.controller
    for minute in range(1, args.minutes + 1):
        t_minute = time.perf_counter()
        delays.clear()
        last[0] = 0.0
        run_for(args.minute_seconds - 3 * args.plots_seconds)
        win.show_training_plots()  # the plot grid draws for a few seconds each minute
        run_for(args.plots_seconds)
        win.show_batch()  # and the batch matrix
        run_for(args.plots_seconds)
        win.show_embedding_views()
        dropout = win.findChild(QDockWidget, "dropoutDock")
        dropout.raise_()  # and the dropout views (tabbed with the false-negative dock)
        run_for(args.plots_seconds)
        win.fn_dock.raise_()
        if not win.training:
            raise SystemExit(f"training ended early: {win.message_bar.text}")
        m = win.model
        row = {"minute": minute, "rss_mb": round(rss_mb(), 1), "p99_ms": percentile(delays, 99),
               "p50_ms": percentile(delays, 50), "max_ms": round(max(delays, default=0.0), 1),
               "ticks": len(delays), "step": win.runs.step, "snapshots": len(m.snapshots),
               "probe_in_memory": m.resident_count(), "lazy": len(m.lazy_probe),
               "frames": len(ctrl.frames), "umap_layouts": len(ctrl.umap),
               "fn_rows": len(win.fn_panel.table_model.rows), "gc_objects": len(gc.get_objects()), "trims": collector.trims,
               "malloc_mb": malloc_mb(),
               "wall_s": round(time.perf_counter() - t_minute, 1)}
        minutes.append(row)
        print(json.dumps(row), flush=True)
        if args.trace_memory and minute == args.trace_from:  # from now on (the first minutes fill bounded caches)
            import tracemalloc

            tracemalloc.start(args.trace_memory)
            tracing = True
            traced_from_snapshots = len(win.model.snapshots)
        if tracing and minute == args.trace_compare:
            early = (tracemalloc.take_snapshot(), len(win.model.snapshots), minute)
    if tracing and early is not None:
        late = tracemalloc.take_snapshot()
        grown = late.compare_to(early[0], "traceback")
        n_snaps = len(win.model.snapshots) - early[1]
        total = sum(d.size_diff for d in grown)
        print(f"traced memory grew {total / 2**20:.2f} MB from minute {early[2]} to the end, over {n_snaps} "
              f"snapshots ({total / max(1, n_snaps):.0f} B a snapshot); where:", file=sys.stderr)
        for d in sorted(grown, key=lambda d: -d.size_diff)[:30]:
            print(f"{d.size_diff / 2**10:10.1f} KB {d.count_diff:+8d} blocks", file=sys.stderr)
            for line in d.traceback.format()[-8:]:
                print("    " + line, file=sys.stderr)
    if tracing:  # what was allocated after minute 2 and is still alive, by where (--trace-memory)
        traced = tracemalloc.take_snapshot()
        kept = traced.statistics("traceback")
        n_snaps = len(win.model.snapshots) - traced_from_snapshots
        print(f"alive, allocated after minute {args.trace_from}: {sum(s.size for s in kept) / 2**20:.1f} MB "
              f"over {n_snaps} snapshots ({sum(s.size for s in kept) / max(1, n_snaps):.0f} B a snapshot)",
              file=sys.stderr)
        for stat in traced.statistics("filename")[:12]:
            print(f"{stat.size / 2**20:8.2f} MB {stat.count:8d} blocks  {stat.traceback[0].filename}", file=sys.stderr)
        for stat in kept[:25]:
            print(f"{stat.size / 2**20:8.2f} MB {stat.count:8d} blocks", file=sys.stderr)
            for line in stat.traceback.format():
                print("    " + line, file=sys.stderr)
    timer.stop()
    elapsed = time.perf_counter() - t0
    win.close()
    collector.stop()
    verdict = check(minutes)
    return {"minutes": args.minutes, "malloc": args.malloc, "elapsed_s": round(elapsed, 1), "cpu_count": os.cpu_count(),
            "probe_size": args.probe_size, "batch": args.batch, "torch_threads": args.torch_threads,
            "batch_fn": not args.no_batch_fn,
            "rss_mb": [r["rss_mb"] for r in minutes], "p99_ms": [r["p99_ms"] for r in minutes],
            "per_minute": minutes, **verdict}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=int, default=60, help="how long to train with the studio open (default 60)")
    p.add_argument("--probe-size", type=int, default=300)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--torch-threads", type=int, default=1)
    p.add_argument("--plots-seconds", type=float, default=5.0, help="seconds a minute the training tab, the batch tab and the dropout dock are each shown")
    p.add_argument("--no-batch-fn", action="store_true",
                   help="turn off the false-negative panel's in-batch detection (its dock stays shown)")
    p.add_argument("--minute-seconds", type=float, default=60.0, help=argparse.SUPPRESS)  # quick trials
    p.add_argument("--trace-memory", type=int, default=0, metavar="FRAMES",
                   help="trace Python allocations from --trace-from on (tracemalloc, FRAMES deep) and print where the "
                        "living ones were made")
    p.add_argument("--trace-from", type=int, default=2, metavar="MINUTE", help="the minute tracing starts (default 2)")
    p.add_argument("--trace-compare", type=int, default=0, metavar="MINUTE",
                   help="with --trace-memory: also take a snapshot at this minute and print, at the end, where the "
                        "traced memory grew since (growth, not churn: what replaced bounded caches nets out)")
    p.add_argument("--malloc", choices=("tuned", "mmap", "arenas", "default"), default="default",
                   help="glibc malloc: glibc's default (as the studio runs), tune_malloc's 1 MiB mapping "
                        "threshold and 4 arenas (tuned), the threshold only (mmap) or the arena cap only (arenas); "
                        "see app/shell/main_thread_gc.py")
    p.add_argument("--workdir", default="", help="folder for the model and the run (default: a new temp folder)")
    args = p.parse_args(argv)
    result = soak(args)
    print(json.dumps(result))
    return 0 if result["growth_ok"] and result["p99_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
