"""How fast does the temperature lens react to the t' slider?

A batch of N (default 512) sentences gives an N x N cross-view cosine matrix. The lens
shows r_ij at the training t and at a what-if t'. Moving the slider means: one
``metrics.hardness_weights`` call at the new t' (the training t is cached), the batch
histograms, and the selected anchor's sorted table. The target is under 50 ms on
2 CPU cores. We report the median (and p90) of ``--runs`` (default 50) such updates,
each at a fresh t' so nothing is served from the cache, next to the cold cost (both
temperatures computed) and the cost of selecting another anchor (all cached).

    python bench/lens_speed.py                 # N=512, float32 matrix
    python bench/lens_speed.py --n 1024 --dtype float64

Prints a markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from simcse_core import false_negatives as F  # noqa: E402


def realistic_sim(n: int, dim: int = 384, seed: int = 0, dtype: str = "float32") -> np.ndarray:
    """Cross-view cosines of a batch: clustered unit vectors (a few near paraphrases),
    the second view a slightly perturbed copy of the first (dropout noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n // 8, dim))
    z = centres[rng.integers(0, len(centres), n)] + 1.5 * rng.normal(size=(n, dim))
    z1 = z + 0.1 * rng.normal(size=(n, dim))
    z2 = z + 0.1 * rng.normal(size=(n, dim))
    z1 /= np.linalg.norm(z1, axis=1, keepdims=True)
    z2 /= np.linalg.norm(z2, axis=1, keepdims=True)
    return (z1 @ z2.T).astype(dtype)


def _ms(times: list[float]) -> dict[str, float]:
    a = np.asarray(times) * 1e3
    return {"median_ms": round(float(np.median(a)), 2), "p90_ms": round(float(np.percentile(a, 90)), 2),
            "min_ms": round(float(a.min()), 2)}


def measure(n: int, runs: int, dtype: str, t: float = 0.05, bins: int = 20) -> dict:
    sim = realistic_sim(n, dtype=dtype)
    ids = np.arange(n)
    F.clear_lens_cache()
    # warm-up (imports, scipy's logsumexp)
    F.batch_lens_histograms(sim, t, 0.2, bins)
    F.clear_lens_cache()

    cold = []
    for r in range(max(5, runs // 5)):
        F.clear_lens_cache()
        t0 = time.perf_counter()
        F.batch_lens_histograms(sim, t, 0.1 + 0.001 * r, bins)
        F.lens(sim, t, 0.1 + 0.001 * r, anchor=0, ids=ids)
        cold.append(time.perf_counter() - t0)

    F.clear_lens_cache()
    F.lens(sim, t, 0.3, anchor=0, ids=ids)  # t cached from here on
    update = []
    rng = np.random.default_rng(1)
    for r in range(runs):
        tp = float(10 ** rng.uniform(-3, 0.5)) + 1e-7 * r  # a fresh t' every time
        t0 = time.perf_counter()
        F.batch_lens_histograms(sim, t, tp, bins)
        F.lens(sim, t, tp, anchor=r % n, ids=ids)
        update.append(time.perf_counter() - t0)

    anchor = []
    for r in range(runs):
        t0 = time.perf_counter()
        F.lens(sim, t, tp, anchor=(7 * r) % n, ids=ids)
        anchor.append(time.perf_counter() - t0)

    return {"n": n, "dtype": dtype, "runs": runs, "threads": os.environ.get("OMP_NUM_THREADS", "default"),
            "cores": os.cpu_count(), "new_t_prime": _ms(update), "cold_both_t": _ms(cold),
            "other_anchor": _ms(anchor), "target_ms": 50.0,
            "ok": statistics.median(update) * 1e3 < 50.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = ap.parse_args(argv)
    res = measure(args.n, args.runs, args.dtype)
    print(f"| N={res['n']} {res['dtype']} ({res['cores']} cores) | median ms | p90 ms | min ms |")
    print("|---|---|---|---|")
    for k, label in (("new_t_prime", "new t' (histograms + anchor table)"), ("cold_both_t", "cold (t and t')"),
                     ("other_anchor", "another anchor (cached)")):
        m = res[k]
        print(f"| {label} | {m['median_ms']} | {m['p90_ms']} | {m['min_ms']} |")
    print(f"target: new t' under {res['target_ms']:.0f} ms -> {'OK' if res['ok'] else 'TOO SLOW'}")
    print(json.dumps(res))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
