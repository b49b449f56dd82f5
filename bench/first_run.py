"""The first-run recipe: which start and settings make a first run visibly learn.

    python bench/first_run.py                        # every candidate, 100 steps each
    python bench/first_run.py --only chosen,default  # some candidates
    python bench/first_run.py --steps 30 --no-sts    # quicker, no STS-B dev
    python bench/first_run.py --json out.json        # also write the table as JSON

Every candidate trains on the demo corpus (1,624 sentences, 216 paraphrase groups) with
a probe that covers it, from the first-run preset (``resources/presets/first_run.json``)
with the candidate's overrides. Four criteria, within the first ``--steps`` steps (the
issue's "first ten minutes"):

1. ``start``: the step-0 loss is at least 25% of the chance loss (log N at batch N);
2. ``fall``: the loss at the end (mean of the last snapshot interval's step losses) is
   at most half the step-0 loss;
3. ``uniformity``: the probe's uniformity falls (improves) by at least 0.3;
4. ``meaning``: paraphrase retrieval (group recall@1 and MRR over the demo corpus's
   groups) ends no lower than it started.

STS-B dev Spearman (``../shared/data/sts-b/sts-dev.csv``) is measured at the start and
the end only (``eval_every`` past the end), as a second semantic measure. Prints the
table as markdown and as JSON. Record results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import machine_line

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simcse_core.config import TrainConfig  # noqa: E402
from simcse_core.presets import first_run_config  # noqa: E402
from simcse_core.trainer import train  # noqa: E402

STS_DEV = ROOT.parent / "shared" / "data" / "sts-b" / "sts-dev.csv"

# name -> (what it is, TrainConfig overrides on top of the first-run preset)
CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("packaged all-MiniLM-L6-v2, mean pooling, lr 3e-5",
                {"model_name_or_path": "default", "pooler_type": "avg", "learning_rate": 3e-5}),
    "scratch": ("random:default, [CLS] + MLP (train only), lr 3e-5",
                {"model_name_or_path": "random:default", "pooler_type": "cls", "mlp_only_train": True,
                 "learning_rate": 3e-5}),
    "reinit-all-avg": ("embeddings kept, 6 layers fresh, mean pooling",
                       {"model_name_or_path": "reinit:all:default", "pooler_type": "avg"}),
    "reinit-all-cls": ("embeddings kept, 6 layers fresh, [CLS] (no MLP)",
                       {"model_name_or_path": "reinit:all:default", "pooler_type": "cls_before_pooler"}),
    "reinit-all-cls-mlp": ("embeddings kept, 6 layers fresh, [CLS] + MLP (train only)",
                           {"model_name_or_path": "reinit:all:default", "pooler_type": "cls",
                            "mlp_only_train": True}),
    "reinit-4-cls": ("embeddings + layers 0-1 kept, top 4 fresh, [CLS]",
                     {"model_name_or_path": "reinit:4:default", "pooler_type": "cls_before_pooler"}),
    "reinit-2-cls": ("embeddings + layers 0-3 kept, top 2 fresh, [CLS]",
                     {"model_name_or_path": "reinit:2:default", "pooler_type": "cls_before_pooler"}),
    "reinit-all-cls-lr3e-5": ("embeddings kept, 6 layers fresh, [CLS], lr 3e-5",
                              {"model_name_or_path": "reinit:all:default", "pooler_type": "cls_before_pooler",
                               "learning_rate": 3e-5}),
    "reinit-1-cls": ("embeddings + layers 0-4 kept, top 1 fresh, [CLS]",
                     {"model_name_or_path": "reinit:1:default", "pooler_type": "cls_before_pooler"}),
    "reinit-1-cls-t0.1": ("embeddings + layers 0-4 kept, top 1 fresh, [CLS], t 0.1",
                          {"model_name_or_path": "reinit:1:default", "pooler_type": "cls_before_pooler", "temp": 0.1}),
    "reinit-1-cls-lr3e-5": ("embeddings + layers 0-4 kept, top 1 fresh, [CLS], lr 3e-5",
                            {"model_name_or_path": "reinit:1:default", "pooler_type": "cls_before_pooler",
                             "learning_rate": 3e-5}),
    "reinit-1-cls-freeze5": ("top 1 fresh, [CLS], embeddings + layers 0-4 frozen (only the fresh layer trains)",
                             {"model_name_or_path": "reinit:1:default", "pooler_type": "cls_before_pooler",
                              "freeze_layers": 5}),
    "reinit-1-cls-freeze5-lr3e-4": ("top 1 fresh, [CLS], layers 0-4 frozen, lr 3e-4",
                                    {"model_name_or_path": "reinit:1:default", "pooler_type": "cls_before_pooler",
                                     "freeze_layers": 5, "learning_rate": 3e-4}),
    "reinit-2-cls-freeze4": ("top 2 fresh, [CLS], embeddings + layers 0-3 frozen",
                             {"model_name_or_path": "reinit:2:default", "pooler_type": "cls_before_pooler",
                              "freeze_layers": 4}),
    "reinit-1-cls-mlp": ("top 1 fresh, [CLS] + a fresh MLP in training only (SimCSE's own head; probes skip it)",
                         {"model_name_or_path": "reinit:1:default", "pooler_type": "cls", "mlp_only_train": True}),
    "reinit-1-cls-warmup": ("top 1 fresh, [CLS], 30 warm-up steps",
                            {"model_name_or_path": "reinit:1:default", "pooler_type": "cls_before_pooler",
                             "warmup_steps": 30}),
    "reinit-1-cls-fn": ("top 1 fresh, [CLS], the demo corpus's paraphrase pairs removed as negatives",
                        {"model_name_or_path": "reinit:1:default", "pooler_type": "cls_before_pooler",
                         "fn_policy": "eliminate", "fn_pairs": "groups"}),
    "reinit-1-cls-mlp-fn": ("top 1 fresh, [CLS] + MLP in training only, paraphrase pairs removed as negatives",
                            {"model_name_or_path": "reinit:1:default", "pooler_type": "cls", "mlp_only_train": True,
                             "fn_policy": "eliminate", "fn_pairs": "groups"}),
    "reinit-1-cls-mlp-lr3e-5": ("top 1 fresh, [CLS] + MLP in training only, lr 3e-5",
                                {"model_name_or_path": "reinit:1:default", "pooler_type": "cls",
                                 "mlp_only_train": True, "learning_rate": 3e-5}),
    "reinit-1-cls-mlp-drop0.2": ("top 1 fresh, [CLS] + MLP in training only, dropout 0.2",
                                 {"model_name_or_path": "reinit:1:default", "pooler_type": "cls",
                                  "mlp_only_train": True, "dropout": 0.2}),
    "reinit-1-cls-mlp-b16": ("top 1 fresh, [CLS] + MLP in training only, batch 16 (one pass over the corpus)",
                             {"model_name_or_path": "reinit:1:default", "pooler_type": "cls", "mlp_only_train": True,
                              "per_device_train_batch_size": 16}),
    "reinit-1-cls-mlp-t0.1": ("top 1 fresh, [CLS] + MLP in training only, t 0.1",
                              {"model_name_or_path": "reinit:1:default", "pooler_type": "cls", "mlp_only_train": True,
                               "temp": 0.1}),
    "chosen": ("the shipped first_run.json as is", {}),
    "chosen-bf16": ("the shipped first_run.json with bf16 (bfloat16 autocast, on a CPU too)", {"bf16": True}),
}


def group_pairs() -> list[tuple[int, int]]:
    """Every pair of demo-corpus sentences sharing a paraphrase group, as corpus ids."""
    from simcse_core.data import load_default_corpus

    members: dict[str, list[int]] = {}
    for i, g in enumerate(load_default_corpus().columns["group"]):
        members.setdefault(g, []).append(i)
    return [(a, b) for ids in members.values() for k, a in enumerate(ids) for b in ids[k + 1:]]


def run_candidate(overrides: dict[str, Any], steps: int, sts: str | None, threads: int | None) -> dict[str, Any]:
    """Train one candidate; its step-0 and end figures, the loss curve and the time."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    if overrides.get("fn_pairs") == "groups":
        overrides = {**overrides, "fn_pairs": group_pairs()}
    cfg = dataclasses.replace(first_run_config(), **overrides)
    cfg = dataclasses.replace(cfg, max_steps=steps, output_dir=None, eval_file=sts,
                              eval_every=steps + 1).validate()
    t0 = time.perf_counter()
    first = last = None
    curve: list[list[float]] = []
    for snap in train(cfg):
        first = first or snap
        last = snap
        if snap.step_losses is not None:
            curve += snap.step_losses.tolist()
    assert first is not None and last is not None
    end_losses = last.step_losses[:, 1] if last.step_losses is not None and len(last.step_losses) else [last.loss]
    out = {"config": {k: v for k, v in cfg.to_dict().items() if k in overrides or k in (
        "model_name_or_path", "pooler_type", "learning_rate", "per_device_train_batch_size", "temp", "max_steps")},
        "steps": int(last.step), "seconds": round(time.perf_counter() - t0, 1),
        "chance": float(first.chance_loss), "loss0": float(first.loss), "loss_end": float(np.mean(end_losses)),
        "curve": curve}
    keys = ("uniformity", "alignment", "anisotropy", "group_recall_at_1", "group_mrr", "sts_spearman", "top1_acc")
    out["start"] = {k: _num(first.scalars.get(k)) for k in keys}
    out["end"] = {k: _num(last.scalars.get(k)) for k in keys}
    out["criteria"] = criteria(out)
    return out


def _num(v: Any) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def criteria(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The four criteria, each with its measured value, threshold and whether it passes."""
    start = r["loss0"] / r["chance"]
    fall = 1.0 - r["loss_end"] / r["loss0"] if r["loss0"] > 0 else 0.0
    s0, end = r["start"], r["end"]
    du = (s0["uniformity"] or 0.0) - (end["uniformity"] or 0.0)
    d_recall = (end["group_recall_at_1"] or 0.0) - (s0["group_recall_at_1"] or 0.0)
    d_mrr = (end["group_mrr"] or 0.0) - (s0["group_mrr"] or 0.0)
    return {
        "start": {"value": start, "need": ">= 0.25", "ok": start >= 0.25},
        "fall": {"value": fall, "need": ">= 0.50", "ok": fall >= 0.5},
        "uniformity": {"value": du, "need": ">= 0.30", "ok": du >= 0.3},
        "meaning": {"value": min(d_recall, d_mrr), "need": ">= 0", "ok": d_recall >= 0 and d_mrr >= 0},
    }


def _f(v: float | None, fmt: str = "{:.3f}") -> str:
    return "n/a" if v is None else fmt.format(v)


def _span(r: dict[str, Any], key: str, fmt: str = "{:.3f}") -> str:
    return f"{_f(r['start'][key], fmt)} -> {_f(r['end'][key], fmt)}"


def markdown(results: dict[str, dict[str, Any]]) -> str:
    head = ("| candidate | loss 0 / chance | loss end | fall | uniformity 0 -> end | group R@1 0 -> end | "
            "group MRR 0 -> end | STS-B dev 0 -> end | criteria met | s |")
    lines = [head, "|" + "---|" * 10]
    for name, r in results.items():
        c = r["criteria"]
        met = " ".join(k if v["ok"] else f"~~{k}~~" for k, v in c.items())
        lines.append(
            f"| {name} | {r['loss0']:.3f} / {r['chance']:.2f} ({100 * c['start']['value']:.0f}%) | "
            f"{r['loss_end']:.3f} | {100 * c['fall']['value']:.0f}% | {_span(r, 'uniformity', '{:.2f}')} | "
            f"{_span(r, 'group_recall_at_1')} | {_span(r, 'group_mrr')} | {_span(r, 'sts_spearman', '{:.1f}')} | "
            f"{met} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated candidate names (default: all): " + ", ".join(CANDIDATES))
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--no-sts", action="store_true", help="skip STS-B dev (start and end)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--json", help="also write the results (with loss curves) to this file")
    args = ap.parse_args(argv)
    names = args.only.split(",") if args.only else list(CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        ap.error(f"unknown candidate(s) {', '.join(unknown)}")
    sts = None if args.no_sts or not STS_DEV.is_file() else str(STS_DEV)
    print(f"# {machine_line()}, {args.steps} steps", flush=True)
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        results[name] = run_candidate(CANDIDATES[name][1], args.steps, sts, args.threads)
        r = results[name]
        print(f"{name}: loss {r['loss0']:.3f} -> {r['loss_end']:.3f} (chance {r['chance']:.2f}), "
              f"unif {_span(r, 'uniformity', '{:.2f}')}, R@1 {_span(r, 'group_recall_at_1')}, "
              f"MRR {_span(r, 'group_mrr')}, sts {_span(r, 'sts_spearman', '{:.1f}')}, {r['seconds']:.0f} s",
              flush=True)
    print()
    print(markdown(results))
    table = {n: {k: v for k, v in r.items() if k != "curve"} for n, r in results.items()}
    print()
    print(json.dumps(table, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
