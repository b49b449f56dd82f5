"""Training throughput: the engine against a naive SimCSE loop, in one run, same device.

    python bench/train_throughput.py                       # CPU: packaged model, batch 64, len 32
    python bench/train_throughput.py --variants naive,engine,mnrl --steps 30
    python bench/train_throughput.py --full                 # GPU: MiniLM-L6 and BERT-base shapes (random
                                                            # weights), batch 64 and 512, len 32, all variants,
                                                            # plus encoding (batch 1024)
    python bench/train_throughput.py --variants engine,engine-compile --encode

Variants:
    naive   the seed formulation: HF AutoModel (eager attention), tokenise every batch,
            fp32, batch [a,a,b,b], 2N x 2N cosine / t with the diagonal at -1e12, CE.
    mnrl    sentence-transformers MultipleNegativesRankingLoss on (s, s) pairs, fp32,
            tokenising each step (its own fit loop is not used: one manual step).
    engine  simcse_core.trainer.train: pre-tokenised ids, SDPA, one forward of 2N rows,
            the reference N x N loss (bf16 autocast and fused AdamW on CUDA).
    engine-compile  the same with compile=True (CUDA graphs on CUDA) and static padding
            (one shape); the warm-up steps include the compilation.
    engine-gc  the engine with the gradient cache, chunks of N rows (2 chunks a step):
            the price of the extra forward.
    engine-bf16  the engine with bf16=True: bfloat16 autocast on a CPU too (on CUDA the
            engine's default already); fast only on a processor with bfloat16 instructions.

--encode also times encoding: the engine's SentenceEncoder.encode (bf16 on CUDA)
against sentence-transformers' SentenceTransformer.encode (fp32), same model and
sentences, batch 1024 on CUDA and 128 on the CPU.

Each variant runs `--warmup` steps untimed, then `--steps` timed steps on the same
sentences (wiki10k from ../shared). Reports steps/s, sentences/s (sentences per batch x
steps/s; each sentence is encoded twice in every variant) and peak memory, plus the
engine's ratio to the naive loop. Record results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WIKI = ROOT.parent / "shared" / "data" / "corpus" / "wiki10k.txt"

import torch  # noqa: E402

SHAPES = {
    # hidden, layers, heads, intermediate
    "minilm": (384, 6, 12, 1536),
    "bert-base": (768, 12, 12, 3072),
}


def model_folder(shape: str, tmp: Path) -> str:
    """'default' is the packaged all-MiniLM-L6-v2; other shapes get random weights with
    its vocabulary, saved as a local folder (as the GPU anchor does)."""
    from simcse_core.model import default_model_path

    if shape == "default":
        return str(default_model_path())
    from transformers import AutoTokenizer, BertConfig, BertModel

    h, layers, heads, inter = SHAPES[shape]
    folder = tmp / shape
    if not folder.exists():
        torch.manual_seed(0)
        BertModel(BertConfig(vocab_size=30522, hidden_size=h, num_hidden_layers=layers, num_attention_heads=heads,
                             intermediate_size=inter)).save_pretrained(folder)
        AutoTokenizer.from_pretrained(str(default_model_path()), trust_remote_code=False).save_pretrained(folder)
    return str(folder)


def sentences(n: int) -> list[str]:
    lines = [ln.strip() for ln in WIKI.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return lines[:n]


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (Linux: KiB)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _steps_per_second(step, warmup: int, steps: int, device: torch.device) -> float:
    """Run ``step(k)`` for warm-up then timed steps; steps/s of the timed ones."""
    for k in range(warmup):
        step(k)
    _sync(device)
    start = time.perf_counter()
    for k in range(warmup, warmup + steps):
        step(k)
    _sync(device)
    return steps / (time.perf_counter() - start)


def run_naive(folder: str, sents: list[str], batch: int, max_len: int, warmup: int, steps: int, device: torch.device) -> float:
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager", trust_remote_code=False).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5)
    t = 0.05

    def step(k: int) -> None:
        chunk = sents[(k * batch) % (len(sents) - batch):][:batch]
        doubled = [s for s in chunk for _ in range(2)]  # [a, a, b, b, ...]
        enc = tok(doubled, padding=True, truncation=True, max_length=max_len, return_tensors="pt").to(device)
        out = model(**enc).last_hidden_state[:, 0]  # (2N, H) [CLS]
        y = torch.nn.functional.normalize(out, dim=1)
        sim = y @ y.T - torch.eye(len(doubled), device=device) * 1e12
        labels = torch.arange(len(doubled), device=device) ^ 1
        loss = torch.nn.functional.cross_entropy(sim / t, labels)
        loss.backward()
        opt.step()
        opt.zero_grad()
        float(loss)  # the naive loop reads its loss every step

    return _steps_per_second(step, warmup, steps, device)


def run_mnrl(folder: str, sents: list[str], batch: int, max_len: int, warmup: int, steps: int, device: torch.device) -> float:
    from sentence_transformers import SentenceTransformer, losses

    model = SentenceTransformer(folder, device=str(device), trust_remote_code=False)
    model.max_seq_length = max_len
    loss_fn = losses.MultipleNegativesRankingLoss(model, scale=20.0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-5)
    model.train()

    def step(k: int) -> None:
        chunk = sents[(k * batch) % (len(sents) - batch):][:batch]
        feats = [model.tokenize(chunk), model.tokenize(chunk)]
        feats = [{kk: (v.to(device) if torch.is_tensor(v) else v) for kk, v in f.items()} for f in feats]
        loss = loss_fn(feats, None)
        loss.backward()
        opt.step()
        opt.zero_grad()
        float(loss)

    return _steps_per_second(step, warmup, steps, device)


def run_engine(folder: str, sents: list[str], batch: int, max_len: int, warmup: int, steps: int, device: torch.device,
               compile_: bool = False, grad_cache: bool = False, bf16: bool | None = None) -> float:
    from simcse_core import TrainConfig, TrainControl
    from simcse_core.trainer import train

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "c.txt"
        corpus.write_text("\n".join(sents) + "\n", encoding="utf-8")
        times: list[float] = []

        def on_step(step: int, total: int, sps: float) -> None:
            times.append(time.perf_counter())

        cfg = TrainConfig(model_name_or_path=folder, train_file=str(corpus), per_device_train_batch_size=batch,
                          max_seq_length=max_len, max_steps=warmup + steps, snapshot_every=10**9, probe_size=2,
                          align_probe_size=2, checkpoint_every=10**9, device=device.type, pooler_type="cls_before_pooler",
                          bf16=bf16)
        if compile_:
            cfg.compile = True
            cfg.static_padding = True  # one shape: no recompilation inside the timed steps
        if grad_cache:
            cfg.grad_cache_chunk = batch  # 2N rows in two chunks
        for snap in train(cfg, TrainControl(on_step=on_step)):
            for e in snap.events:
                if "compile" in e:
                    print(f"# engine-compile: {e['compile']}", flush=True)
    _sync(device)
    # steps between the end of the last warm-up step and the end of the last step
    return steps / (times[-1] - times[warmup - 1])


def run_engine_compile(*a, **k) -> float:
    return run_engine(*a, compile_=True, **k)


def run_engine_gc(*a, **k) -> float:
    return run_engine(*a, grad_cache=True, **k)


def run_engine_bf16(*a, **k) -> float:
    return run_engine(*a, bf16=True, **k)


RUNNERS = {"naive": run_naive, "mnrl": run_mnrl, "engine": run_engine, "engine-compile": run_engine_compile,
           "engine-gc": run_engine_gc, "engine-bf16": run_engine_bf16}


def run_encode(folder: str, sents: list[str], batch: int, max_len: int, device: torch.device, repeats: int = 2) -> list[dict]:
    """Sentences/s of the engine's encode and of sentence-transformers' encode (best of
    ``repeats``, after one untimed warm-up batch each)."""
    from sentence_transformers import SentenceTransformer

    from simcse_core.model import load_model

    enc = load_model(folder, "cls_before_pooler", max_seq_length=max_len).to(device)
    st = SentenceTransformer(folder, device=str(device), trust_remote_code=False)
    st.max_seq_length = max_len
    precision = "bfloat16" if device.type == "cuda" else "float32"
    name = "engine-encode-bf16" if precision == "bfloat16" else "engine-encode"
    fns = {name: lambda: enc.encode(sents, batch_size=batch, precision=precision),
           "st-encode-fp32": lambda: st.encode(sents, batch_size=batch, convert_to_numpy=True)}
    out = []
    for name, fn in fns.items():
        if name.startswith("engine"):
            enc.encode(sents[:batch], batch_size=batch, precision=precision)
        else:
            st.encode(sents[:batch], batch_size=batch)
        best = 0.0
        for _ in range(repeats):
            _sync(device)
            t = time.perf_counter()
            fn()
            _sync(device)
            best = max(best, len(sents) / (time.perf_counter() - t))
        out.append({"variant": name, "batch": batch, "sentences": len(sents), "sentences_per_s": best})
    del enc, st
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--shape", default="default", help="comma list of default,minilm,bert-base")
    ap.add_argument("--batch", default="64", help="comma list of batch sizes")
    ap.add_argument("--max-len", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2, help="alternate the variants this many times; report the best")
    ap.add_argument("--variants", default="naive,engine")
    ap.add_argument("--json", help="append results as JSON lines to this file")
    ap.add_argument("--encode", action="store_true", help="also time encoding: engine vs sentence-transformers")
    ap.add_argument("--encode-batch", type=int, default=0, help="encode batch (default 1024 on CUDA, 128 on CPU)")
    ap.add_argument("--encode-n", type=int, default=0, help="sentences to encode (default 20000 on CUDA, 512 on CPU)")
    ap.add_argument("--full", action="store_true",
                    help="the GPU set: --device cuda --shape minilm,bert-base --batch 64,512 --warmup 10 --steps 30 "
                         "--variants naive,mnrl,engine,engine-compile,engine-gc --encode")
    args = ap.parse_args()
    if args.full:
        args.device = "cuda" if torch.cuda.is_available() else args.device
        args.shape, args.batch, args.warmup, args.steps = "minilm,bert-base", "64,512", 10, 30
        args.variants, args.encode = "naive,mnrl,engine,engine-compile,engine-gc", True

    device = torch.device(args.device)
    variants = args.variants.split(",")
    rows: list[dict] = []
    enc_rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shape.split(","):
            folder = model_folder(shape, Path(tmp))
            for batch in (int(b) for b in args.batch.split(",")):
                sents = sentences(max(2000, batch * (args.warmup + args.steps + 2)))
                best: dict[str, float] = {}
                for _ in range(args.repeats):  # interleaved, so drift on a shared machine hits all alike
                    for v in variants:
                        gc.collect()
                        if device.type == "cuda":
                            torch.cuda.reset_peak_memory_stats()
                        sps = RUNNERS[v](folder, sents, batch, args.max_len, args.warmup, args.steps, device)
                        best[v] = max(best.get(v, 0.0), sps)
                        rows.append({"shape": shape, "batch": batch, "variant": v, "steps_per_s": sps,
                                     "sentences_per_s": sps * batch, "peak_mb": _peak_mb(device)})
                        print(json.dumps(rows[-1]), flush=True)
                for v in best:
                    if v != "naive" and "naive" in best:
                        print(f"# {shape} batch {batch}: {v} / naive = {best[v] / best['naive']:.2f}x")
            if args.encode:
                eb = args.encode_batch or (1024 if device.type == "cuda" else 128)
                en = args.encode_n or (20000 if device.type == "cuda" else 512)
                for r in run_encode(folder, sentences(min(en, 10000)) * max(1, -(-en // 10000)), eb, args.max_len, device):
                    enc_rows.append({"shape": shape, **r})
                    print(json.dumps(enc_rows[-1]), flush=True)
    info = {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch": torch.__version__, "device": str(device),
            "threads": torch.get_num_threads()}
    print("| shape | batch | variant | steps/s | sentences/s | peak MB |")
    print("|---|---|---|---|---|---|")
    best_rows: dict[tuple, dict] = {}
    for r in rows:
        key = (r["shape"], r["batch"], r["variant"])
        if key not in best_rows or r["steps_per_s"] > best_rows[key]["steps_per_s"]:
            best_rows[key] = r
    for r in best_rows.values():
        print(f"| {r['shape']} | {r['batch']} | {r['variant']} | {r['steps_per_s']:.2f} | {r['sentences_per_s']:.1f} | {r['peak_mb']:.0f} |")
    if enc_rows:
        print("\n| shape | encoder | batch | sentences/s |")
        print("|---|---|---|---|")
        for r in enc_rows:
            print(f"| {r['shape']} | {r['variant']} | {r['batch']} | {r['sentences_per_s']:.1f} |")
    print(json.dumps(info))
    if args.json:
        with open(args.json, "a", encoding="utf-8") as f:
            for r in rows + [{"kind": "encode", **e} for e in enc_rows]:
                f.write(json.dumps({**info, **r}) + "\n")


if __name__ == "__main__":
    main()
