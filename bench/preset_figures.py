"""The bundled presets' figures: each run's start and end, beside the paper's direction.

    python bench/preset_figures.py                         # every bundled preset
    python bench/preset_figures.py --only temperature_tour # one preset
    python bench/preset_figures.py --preset my_tour.json   # a preset file of your own
    python bench/preset_figures.py --steps 30              # shorter runs (a quick look)

Each run of a preset trains exactly as ``simcse preset`` would (its base and overrides,
the demo corpus, no run folder), with STS-B dev Spearman x 100
(``../shared/data/sts-b/sts-dev.csv``) measured at step 0 and at the end only. For each
run: the loss (first snapshot; mean step loss of the last snapshot interval), the chance
line, uniformity, alignment, anisotropy and top-1 of the probe, paraphrase retrieval
over the demo corpus's groups (group recall@1), STS-B dev, and the seconds it took.
Prints one markdown table per preset and one JSON line with everything; record the
figures in docs/presets.md (beside the paper's) and the machine in docs/benchmarks.md.
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

from simcse_core.presets import Preset, list_presets, load_preset  # noqa: E402
from simcse_core.trainer import train  # noqa: E402

STS_DEV = ROOT.parent / "shared" / "data" / "sts-b" / "sts-dev.csv"
KEYS = ("uniformity", "alignment", "anisotropy", "top1_acc", "group_recall_at_1", "sts_spearman")


def _num(v: Any) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def run_figures(cfg: Any, sts: str | None, steps: int | None) -> dict[str, Any]:
    """Train one run of a preset (no run folder); its start and end figures."""
    over: dict[str, Any] = {"output_dir": None, "eval_file": sts}
    if steps:
        over["max_steps"] = steps
    cfg = dataclasses.replace(cfg, **over)
    cfg = dataclasses.replace(cfg, eval_every=cfg.max_steps + 1).validate()  # STS at the start and the end
    t0 = time.perf_counter()
    first = last = None
    for snap in train(cfg):
        first = first or snap
        last = snap
    assert first is not None and last is not None
    end = last.step_losses[:, 1] if last.step_losses is not None and len(last.step_losses) else [last.loss]
    return {"steps": int(last.step), "seconds": round(time.perf_counter() - t0, 1),
            "chance": float(first.scalars.get("chance_loss", float("nan"))), "loss0": float(first.loss),
            "loss_end": float(np.mean(end)),
            "start": {k: _num(first.scalars.get(k)) for k in KEYS},
            "end": {k: _num(last.scalars.get(k)) for k in KEYS}}


def _f(v: float | None, fmt: str) -> str:
    return "n/a" if v is None else fmt.format(v)


def markdown(name: str, runs: dict[str, dict[str, Any]]) -> str:
    cols = [("loss", None, "{:.2f}"), ("uniformity", "uniformity", "{:.2f}"), ("alignment", "alignment", "{:.3f}"),
            ("anisotropy", "anisotropy", "{:.2f}"), ("top-1", "top1_acc", "{:.2f}"),
            ("group R@1", "group_recall_at_1", "{:.3f}"), ("STS-B dev", "sts_spearman", "{:.1f}")]
    head = f"| {name} | " + " | ".join(f"{c} 0 -> end" for c, _, _ in cols) + " | chance | s |"
    lines = [head, "|" + "---|" * (len(cols) + 3)]
    for label, r in runs.items():
        cells = []
        for _, key, fmt in cols:
            if key is None:
                cells.append(f"{r['loss0']:.2f} -> {r['loss_end']:.2f}")
            else:
                cells.append(f"{_f(r['start'][key], fmt)} -> {_f(r['end'][key], fmt)}")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {r['chance']:.2f} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated bundled preset names (default: all but first_run)")
    ap.add_argument("--preset", action="append", default=[], help="a preset file (repeatable)")
    ap.add_argument("--steps", type=int, default=None, help="steps per run (default: the preset's)")
    ap.add_argument("--no-sts", action="store_true", help="skip STS-B dev")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    presets: list[Preset] = [load_preset(p) for p in args.preset]
    if args.only or not presets:
        wanted = args.only.split(",") if args.only else None
        presets += [p for p in list_presets() if (p.name in wanted if wanted else p.name != "first_run")]
    sts = None if args.no_sts or not STS_DEV.is_file() else str(STS_DEV)
    print(f"# {machine_line()}", flush=True)
    out: dict[str, dict[str, Any]] = {}
    for preset in presets:
        runs: dict[str, dict[str, Any]] = {}
        for label, cfg in preset.configs():
            runs[label] = r = run_figures(cfg, sts, args.steps)
            print(f"{preset.name} / {label}: loss {r['loss0']:.2f} -> {r['loss_end']:.2f}, "
                  f"uniformity {_f(r['start']['uniformity'], '{:.2f}')} -> {_f(r['end']['uniformity'], '{:.2f}')}, "
                  f"STS {_f(r['start']['sts_spearman'], '{:.1f}')} -> {_f(r['end']['sts_spearman'], '{:.1f}')}, "
                  f"{r['seconds']:.0f} s", flush=True)
        out[preset.name] = runs
        print()
        print(markdown(preset.name, runs), flush=True)
        print()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
