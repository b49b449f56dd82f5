"""Does UMAP in a separate process let training run faster than UMAP in a thread?

UMAP's numba epochs hold the GIL, which the trainer needs between torch operations. A
process of its own would not share the GIL, at the price of a second interpreter (its
own numba compilation, ~0.5 GB) and a copy of the probe matrix per layout. This script
trains in the main thread (the engine's ``train()`` generator, 1 torch thread) and
measures steps/s in interleaved phases, one after the other in the same run:

- ``none``: no UMAP (the baseline);
- ``thread``: warm UMAP refreshes back to back in a thread of this process (what the
  studio does, before its rest between layouts);
- ``process``: the same refreshes back to back in a spawned process (the matrix sent
  through a pipe for every layout, the layout sent back).

    python bench/umap_process.py                       # small random BERT, fast steps
    python bench/umap_process.py --model default --seconds 60

Prints a markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def probe_matrix(n: int, d: int = 384, seed: int = 0) -> np.ndarray:
    """A clustered unit-row matrix like a probe set's embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, d))
    X = centres[rng.integers(0, 12, n)] + 0.8 * rng.normal(size=(n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def _child(conn) -> None:  # noqa: ANN001 - a multiprocessing Connection
    """The UMAP process: one tracker, a layout per matrix received, until None."""
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    from simcse_core.projection import UmapTracker

    tracker = UmapTracker()
    while True:
        X = conn.recv()
        if X is None:
            return
        t0 = time.perf_counter()
        layout = tracker.update(X)
        conn.send((layout, time.perf_counter() - t0))


class ThreadUmap:
    def __init__(self, X: np.ndarray) -> None:
        from simcse_core.projection import UmapTracker

        self.X, self.tracker = X, UmapTracker()
        self.tracker.update(X)  # cold fit and numba compilation before measuring
        self.layouts, self._stop, self._t = 0, threading.Event(), None

    def start(self) -> None:
        self.layouts, self._stop = 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tracker.update(self.X)
            self.layouts += 1

    def stop(self) -> None:
        self._stop.set()
        self._t.join()


class ProcessUmap:
    def __init__(self, X: np.ndarray) -> None:
        ctx = mp.get_context("spawn")
        self.X = X
        self.conn, child = ctx.Pipe()
        t0 = time.perf_counter()
        self.proc = ctx.Process(target=_child, args=(child,), daemon=True)
        self.proc.start()
        self.conn.send(X)
        self.conn.recv()  # cold fit and numba compilation in the child
        self.startup_s = time.perf_counter() - t0
        self.layouts, self._stop, self._t = 0, threading.Event(), None

    def start(self) -> None:
        self.layouts, self._stop = 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)  # waits on the pipe (GIL released)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.conn.send(self.X)
            self.conn.recv()
            self.layouts += 1

    def stop(self) -> None:
        self._stop.set()
        self._t.join()

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(10)


def small_bert(folder: Path) -> str:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from simcse_core.model import default_model_path

    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=30522, hidden_size=128, num_hidden_layers=4, num_attention_heads=2,
                         intermediate_size=512)).save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True).save_pretrained(folder)
    return str(folder)


def measure(args: argparse.Namespace) -> dict:
    import torch

    from simcse_core.config import TrainConfig
    from simcse_core.trainer import train

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="umap-process-"))
    model = small_bert(tmp / "small-bert") if args.model == "small" else args.model
    cfg = TrainConfig(model_name_or_path=model, train_file=None, per_device_train_batch_size=args.batch,
                      max_seq_length=32, max_steps=1_000_000, snapshot_every=args.snapshot_every,
                      probe_size=128, align_probe_size=64, checkpoint_every=10**9, device="cpu",
                      output_dir=str(tmp / "run"))
    gen = train(cfg)
    next(gen)  # step 0
    X = probe_matrix(args.probe_size)
    helpers = {"thread": ThreadUmap(X), "process": ProcessUmap(X)}
    out: dict = {"model": args.model, "batch": args.batch, "probe_size": args.probe_size,
                 "seconds": args.seconds, "cpu_count": os.cpu_count(),
                 "process_startup_s": round(helpers["process"].startup_s, 1)}
    rows: dict[str, list] = {"none": [], "thread": [], "process": []}
    for _round in range(args.rounds):
        for name in ("none", "thread", "process"):
            h = helpers.get(name)
            if h is not None:
                h.start()
            s0 = next(gen).step
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < args.seconds:
                s1 = next(gen).step
            t1 = time.perf_counter()
            if h is not None:
                h.stop()
            rows[name].append({"steps_per_sec": round((s1 - s0) / (t1 - t0), 3),
                               "layouts_per_sec": round((h.layouts if h else 0) / (t1 - t0), 3)})
    helpers["process"].close()
    gen.close()
    for name, r in rows.items():
        out[name] = {"steps_per_sec": [x["steps_per_sec"] for x in r],
                     "layouts_per_sec": [x["layouts_per_sec"] for x in r]}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="small", help="small (a 4-layer random BERT) | default | a folder")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--probe-size", type=int, default=1000)
    p.add_argument("--snapshot-every", type=int, default=2)
    p.add_argument("--seconds", type=float, default=25.0)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    r = measure(args)
    base = float(np.mean(r["none"]["steps_per_sec"])) or float("nan")
    print(f"Training beside UMAP: thread or process ({r['model']}, batch {r['batch']}, probe {r['probe_size']}, "
          f"{r['cpu_count']} cores; process start-up {r['process_startup_s']} s)\n")
    print("| UMAP | steps/s (per round) | vs none | layouts/s |")
    print("|---|---|---|---|")
    for k in ("none", "thread", "process"):
        v = r[k]
        print(f"| {k} | {', '.join(map(str, v['steps_per_sec']))} | {np.mean(v['steps_per_sec']) / base:.2f}x "
              f"| {', '.join(map(str, v['layouts_per_sec']))} |")
    print()
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
