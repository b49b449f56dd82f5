"""Neighbour search at explore-mode scale: build time, query time and recall@10 against
exact search (issue 16: 1M x 384, < 10 ms a query at recall@10 >= 0.95).

    python bench/neighbours.py                    # 1,000,000 x 384, the shipped index
    python bench/neighbours.py --rows 100000 --graphs   # also HNSW graphs (faiss, usearch) to compare
                                                        # (--graphs needs `pip install usearch`)

Synthetic, clustered data (unit rows around 2,000 random centres, as sentence embeddings
gather by topic; uniform random vectors are the worst case of every index and unlike
any corpus). Queries: 200 corpus rows moved slightly (a typed query lands near, not on,
a corpus sentence). Exact search in the same run is the baseline of both recall and
speed. Prints one JSON object; record the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from bench_common import machine_line

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simcse_core.neighbours import NeighbourIndex, exact_search, recall_at  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def synthetic(n: int, d: int, seed: int = 0) -> np.ndarray:
    """(n, d) float16 unit rows around 2,000 centres, made a chunk at a time."""
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((2000, d)).astype(np.float32)
    X = np.empty((n, d), dtype=np.float16)
    for s in range(0, n, 100_000):
        m = min(n, s + 100_000) - s
        B = C[rng.integers(0, len(C), m)] + 0.6 * rng.standard_normal((m, d)).astype(np.float32)
        X[s:s + m] = B / np.linalg.norm(B, axis=1, keepdims=True)
    return X


def timed_queries(fn, Q: np.ndarray) -> tuple[np.ndarray, float]:
    """Answers one query at a time (as typed search does); (ids, median ms)."""
    ids, ts = [], []
    for q in Q:
        t = time.perf_counter()
        i, _ = fn(q[None])
        ts.append(time.perf_counter() - t)
        ids.append(i[0])
    return np.array(ids), float(np.median(ts) * 1000)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--graphs", action="store_true", help="also build HNSW graphs (faiss, usearch) to compare")
    args = ap.parse_args(argv)
    print(f"# {machine_line()}, {args.rows:,} x {args.dim}", file=sys.stderr, flush=True)
    base = rss_mb()
    X = synthetic(args.rows, args.dim)
    rng = np.random.default_rng(1)
    Q = X[rng.choice(len(X), args.queries, replace=False)].astype(np.float32)
    Q += 0.05 * rng.standard_normal(Q.shape).astype(np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    out: dict = {"rows": args.rows, "dim": args.dim, "embeddings_mb": round(X.nbytes / 2**20)}
    t = time.perf_counter()
    truth, _ = exact_search(X, Q, 10)
    out["exact_batch_s"] = round(time.perf_counter() - t, 2)
    _, out["exact_ms_per_query"] = timed_queries(lambda q: exact_search(X, q, 10), Q[:20])
    print(json.dumps(out), file=sys.stderr, flush=True)
    t = time.perf_counter()
    index = NeighbourIndex.build(X, exact_below=0, threads=args.threads)
    out["ivf"] = {"kind": index.kind, "build_s": round(time.perf_counter() - t, 1),
                  "tuned_recall": round(index.recall, 3)}
    found, ms = timed_queries(index.search, Q)
    out["ivf"].update(query_ms_median=round(ms, 3), recall_at_10=round(recall_at(found, truth), 3),
                      rss_mb_with_embeddings_and_index=round(rss_mb() - base))
    print(json.dumps(out), file=sys.stderr, flush=True)
    if args.graphs:
        import faiss
        from usearch.index import Index

        Xf = X.astype(np.float32)
        t = time.perf_counter()
        g = faiss.IndexHNSWFlat(args.dim, 32, faiss.METRIC_INNER_PRODUCT)
        g.hnsw.efConstruction = 64
        g.add(Xf)
        out["faiss_hnsw32"] = {"build_s": round(time.perf_counter() - t, 1)}
        g.hnsw.efSearch = 64
        found, ms = timed_queries(lambda q: g.search(q, 10)[::-1], Q)
        out["faiss_hnsw32"].update(query_ms_median=round(ms, 3), recall_at_10=round(recall_at(found, truth), 3))
        t = time.perf_counter()
        u = Index(ndim=args.dim, metric="cos", dtype="f16", connectivity=16, expansion_add=128)
        u.add(np.arange(len(Xf)), Xf, threads=args.threads)
        out["usearch_hnsw16_f16"] = {"build_s": round(time.perf_counter() - t, 1)}
        u.expansion_search = 64
        found, ms = timed_queries(lambda q: (np.array([u.search(q[0], 10).keys]), None), Q)
        out["usearch_hnsw16_f16"].update(query_ms_median=round(ms, 3), recall_at_10=round(recall_at(found, truth), 3))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
