"""Encoding throughput: the engine's encoder against sentence-transformers' ``encode`` on
the same model, sentences and device, in the same run (issue 16: at least 1.5x).

    python bench/encode_throughput.py                      # 2,000 wiki10k sentences
    python bench/encode_throughput.py --batches 8,16,32 --sentences 5000

Both are timed at every batch size of ``--batches`` (interleaved, each ``--repeats`` times,
the best kept: the machine is shared), the engine in each of ``--precisions`` (float32;
bfloat16 products, :mod:`simcse_core.precision`), plus the engine as shipped: the batch it
picks for the device (:func:`simcse_core.model.encode_batch_size`) and the precision
``auto`` picks for these sentences (what ``simcse encode`` and the explore window use). The
engine as shipped is then compared with sentence-transformers at ``--batch`` (128, the batch
the issue measured it at) and at sentence-transformers' own best batch here.
``--st-bf16`` also times sentence-transformers under the same bfloat16 autocast (not its
default; it shows where the speed comes from). ``--int8`` adds PyTorch's dynamic int8
quantisation of the engine's linear layers (measured, not offered: its cosines are too low).
Every variant's embeddings are compared with sentence-transformers' float32 ones at the
first batch: the mean and the lowest cosine of the same sentence, and the share of each
sentence's 10 nearest neighbours (exact, float64) that stay the same (``overlap10``); the
float16 rounding of the cache alone is given as ``float16_storage_overlap10``. Prints one
JSON object; record it in docs/benchmarks.md.
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
WIKI = ROOT.parent / "shared" / "data" / "corpus" / "wiki10k.txt"


def best_of(fn, repeats: int) -> tuple[float, np.ndarray]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def knn10(emb: np.ndarray) -> np.ndarray:
    """Each row's 10 nearest other rows by cosine, exact, in float64."""
    x = emb.astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1, kind="stable")[:, :10]


def overlap10(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b)]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=128, help="the batch the issue measured sentence-transformers at")
    ap.add_argument("--batches", default="16,32,64,128", help="batch sizes to time both at")
    ap.add_argument("--precisions", default="float32,bfloat16", help="the engine's precisions to time at every batch")
    ap.add_argument("--st-bf16", action="store_true", help="also sentence-transformers under bfloat16 autocast")
    ap.add_argument("--int8", action="store_true", help="also PyTorch dynamic int8 (not offered: cosines too low)")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer

    from simcse_core.model import default_model_path, encode_batch_size, load_model
    from simcse_core.precision import choose_precision, native_bf16

    sentences = [s for s in WIKI.read_text(encoding="utf-8").splitlines() if s.strip()][: args.sentences]
    folder = default_model_path()
    print(f"# {machine_line()}, {len(sentences)} wiki10k sentences, "
          f"max length {args.max_length}, {args.threads} threads", file=sys.stderr, flush=True)
    st = SentenceTransformer(str(folder), device="cpu", trust_remote_code=False)
    st.max_seq_length = args.max_length
    enc = load_model("default", "auto", max_seq_length=args.max_length)
    auto = encode_batch_size(enc.device)
    t0 = time.perf_counter()
    choice = choose_precision(enc, sentences, "auto")
    check_s = time.perf_counter() - t0
    batches = sorted({int(b) for b in args.batches.split(",")} | {auto, args.batch})
    runs: dict = {}
    for b in batches:  # interleaved: a slow minute of the shared machine hits both alike
        runs[f"st@{b}"] = (lambda b=b: st.encode(sentences, batch_size=b, normalize_embeddings=True,
                                                  convert_to_numpy=True))
        for p in args.precisions.split(","):
            runs[f"engine-{p}@{b}"] = (lambda b=b, p=p: enc.encode(sentences, batch_size=b, precision=p))
    if args.st_bf16:
        def st_bf16() -> np.ndarray:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return st.encode(sentences, batch_size=auto, normalize_embeddings=True, convert_to_numpy=True)

        runs[f"st-bf16-autocast@{auto}"] = st_bf16
    if args.int8:
        import copy
        import warnings

        from torch.ao.quantization import quantize_dynamic

        int8 = copy.deepcopy(enc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            int8.backbone = quantize_dynamic(int8.backbone, {torch.nn.Linear}, dtype=torch.qint8)
        runs[f"engine-int8@{auto}"] = lambda: int8.encode(sentences, batch_size=auto)
    out: dict = {"sentences": len(sentences), "threads": args.threads, "engine_batch_for_device": auto,
                 "native_bf16": native_bf16("cpu"), "auto_precision": choice.as_dict(),
                 "auto_check_seconds": round(check_s, 2), "variants": {}}
    ref = ref_nn = None
    for name, fn in runs.items():
        seconds, emb = best_of(fn, args.repeats)
        emb = np.asarray(emb, dtype=np.float32)
        if ref is None:
            ref, ref_nn = emb, knn10(emb)
            out["float16_storage_overlap10"] = round(overlap10(knn10(emb.astype(np.float16)), ref_nn), 4)
        cos = np.sum(emb.astype(np.float64) * ref, axis=1)
        row = {"seconds": round(seconds, 2), "sentences_per_s": round(len(sentences) / seconds, 1),
               "cosine_mean": round(float(cos.mean()), 6), "cosine_min": round(float(cos.min()), 6),
               "overlap10": round(overlap10(knn10(emb), ref_nn), 4)}
        out["variants"][name] = row
        print(name, json.dumps(row), file=sys.stderr, flush=True)
    rate = {k: v["sentences_per_s"] for k, v in out["variants"].items()}
    st_best = max((k for k in rate if k.startswith("st@")), key=rate.get)
    shipped = f"engine-{choice.dtype}@{auto}"
    if shipped in rate:
        engine = rate[shipped]
        out["engine_as_shipped"] = {
            "variant": shipped,
            "vs_st_at_batch": {"batch": args.batch, "ratio": round(engine / rate[f"st@{args.batch}"], 2)},
            "vs_st_at_its_best_batch": {"batch": int(st_best.split("@")[1]),
                                        "ratio": round(engine / rate[st_best], 2)},
        }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
