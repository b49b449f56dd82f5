"""Time a warm-started UMAP refresh of the probe set, as the studio does it.

After ``warm_up_umap`` (numba compiled or loaded from the disk cache), a
``UmapTracker`` gets a cold fit of ``--points`` clustered unit vectors, then
``--refreshes`` warm refreshes of slightly moved copies (a snapshot later in
training). Optionally (``--load``) a busy thread of torch matmuls (1 thread) runs
meanwhile, standing in for the trainer.

    python bench/umap_refresh.py                 # 5000 x 384, 5 refreshes
    python bench/umap_refresh.py --load          # with a training-like load

Prints a markdown table and one JSON line (seconds: warm-up, cold, each refresh).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=5000)
    p.add_argument("--dims", type=int, default=384)
    p.add_argument("--refreshes", type=int, default=5)
    p.add_argument("--load", action="store_true", help="run a 1-thread torch matmul loop meanwhile")
    args = p.parse_args(argv)
    if (os.cpu_count() or 1) <= 2:
        os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # as the studio does
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from simcse_core.projection import UmapTracker, warm_up_umap

    t = time.perf_counter()
    warm = warm_up_umap()
    warm_s = time.perf_counter() - t
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((12, args.dims))
    labels = np.arange(args.points) % 12
    X = centres[labels] + 0.8 * rng.standard_normal((args.points, args.dims))

    def unit(A):
        return (A / np.linalg.norm(A, axis=1, keepdims=True)).astype(np.float32)

    stop = threading.Event()
    if args.load:
        import torch

        torch.set_num_threads(1)

        def busy():
            a = torch.randn(512, 512)
            while not stop.is_set():
                a = torch.tanh(a @ a) * 0.5

        threading.Thread(target=busy, daemon=True).start()
    tr = UmapTracker()
    t = time.perf_counter()
    tr.update(unit(X))
    cold = time.perf_counter() - t
    warm_times = []
    for _ in range(args.refreshes):
        X = X + 0.05 * rng.standard_normal(X.shape)
        t = time.perf_counter()
        tr.update(unit(X))
        warm_times.append(time.perf_counter() - t)
        assert tr.last_mode == "warm"
    stop.set()
    r = {"points": args.points, "dims": args.dims, "load": args.load, "cpu_count": os.cpu_count(),
         "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default"), "warm_up_s": round(warm_s, 2),
         "warm_up": {k: round(v, 2) for k, v in warm.items()}, "cold_s": round(cold, 2),
         "refresh_s": [round(x, 3) for x in warm_times], "refresh_median_s": round(float(np.median(warm_times)), 3),
         "refresh_max_s": round(max(warm_times), 3), "last_timings": {k: round(v, 3) for k, v in tr.timings.items()}}
    print(f"Warm-started UMAP refresh, {args.points:,} x {args.dims} ({'with' if args.load else 'no'} training-like load)\n")
    print("| warm-up s | cold fit s | refresh median s | refresh max s |")
    print("|---|---|---|---|")
    print(f"| {r['warm_up_s']} | {r['cold_s']} | {r['refresh_median_s']} | {r['refresh_max_s']} |")
    print()
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
