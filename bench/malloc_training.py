"""Does glibc malloc tuning slow real training? (issue 13: before the studio turns it on)

    python bench/malloc_training.py                  # 2 rounds of each setting
    python bench/malloc_training.py --rounds 3 --steps 80

``app.shell.main_thread_gc.tune_malloc`` fixes glibc's mapping threshold at 1 MiB and caps
the arenas at 4, which keeps the studio's resident memory from creeping (the soak), but on a
real model a 1 MiB threshold maps and unmaps every activation tensor of a training step.
This trains the packaged model (all-MiniLM-L6-v2, mean pooling) on the demo corpus, batch
``--batch``, length 32, a snapshot every 10 steps (probe 512), each setting in its own
process, the settings interleaved round by round (the machine is shared: a slow minute hits
every setting alike), and reports steps a second over the steps after the first 10 (model
load and warm-up left out), with each setting's ratio to glibc's default of the same round.
Prints one JSON object; record it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench_common import machine_line

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("default", "tuned", "mmap", "arenas")

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from app.shell.main_thread_gc import tune_malloc
setting = {setting!r}
if setting == "tuned": tune_malloc()
elif setting == "mmap": tune_malloc(arena_max=None)
elif setting == "arenas": tune_malloc(mmap_threshold=None)
import torch
torch.set_num_threads({threads})
from simcse_core.config import TrainConfig
from simcse_core.trainer import train
cfg = TrainConfig(model_name_or_path="default", pooler_type="avg", per_device_train_batch_size={batch},
                  max_seq_length=32, max_steps={steps}, snapshot_every=10, probe_size=512, device="cpu",
                  output_dir=None, seed=1).validate()
marks = {{}}
for snap in train(cfg):
    marks[snap.step] = time.perf_counter()
first = min(s for s in marks if s >= 10)
last = max(marks)
print(json.dumps({{"steps_per_s": (last - first) / (marks[last] - marks[first])}}))
"""


def run(setting: str, args: argparse.Namespace) -> float:
    code = CHILD.format(root=str(ROOT), setting=setting, threads=args.threads, batch=args.batch, steps=args.steps)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["steps_per_s"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--settings", default=",".join(SETTINGS))
    args = ap.parse_args(argv)
    settings = args.settings.split(",")
    print(f"# {machine_line()}", file=sys.stderr, flush=True)
    rows: list[dict] = []
    t0 = time.perf_counter()
    for r in range(args.rounds):
        base = None
        for s in settings:
            rate = run(s, args)
            base = rate if s == "default" else base
            rows.append({"round": r, "setting": s, "steps_per_s": round(rate, 3),
                         "vs_default": round(rate / base, 3) if base else None})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    summary = {s: round(sum(x["vs_default"] for x in rows if x["setting"] == s and x["vs_default"]) /
                        max(1, sum(1 for x in rows if x["setting"] == s and x["vs_default"])), 3) for s in settings}
    print(json.dumps({"machine": machine_line(), "batch": args.batch, "steps": args.steps, "rows": rows,
                      "mean_ratio_to_default": summary, "seconds": round(time.perf_counter() - t0, 1)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
