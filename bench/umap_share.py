"""Training speed while the embedding tab refreshes UMAP beside it, in one process.

UMAP's numba epochs hold the GIL, and the trainer needs it between torch ops. The studio
therefore lets UMAP take at most 1 / (1 + UMAP_REST) of the time while a trainer runs in
the same process (one layout, then a rest of UMAP_REST x its time). This script trains
the given model in a ``TrainWorker`` (1 torch thread, as the studio on <= 2 cores) with
frequent snapshots, feeding an ``EmbeddingTab`` (UMAP every snapshot) exactly as the
main window does, and measures steps/s in phases, one after the other in the same run:

- ``hidden``: the embedding tab hidden (no UMAP: the baseline);
- ``rest 0``: tab shown, UMAP back to back (the behaviour before the rest);
- ``rest 2``: tab shown, the studio's default UMAP_REST.

    python bench/umap_share.py                    # a small random BERT: fast steps, as on a GPU
    python bench/umap_share.py --model default --seconds 60

The default trainer is a 4-layer, hidden-128 BERT with random weights and the default
model's vocabulary, so steps and snapshots come quickly (as on a GPU, where UMAP would
otherwise run back to back); on 2 cores the packaged MiniLM spends most of its time
encoding the probe set and UMAP hardly competes.

Prints a markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def small_bert(folder: Path) -> str:
    """A 4-layer, hidden-128 BERT with random weights and the default vocabulary."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from simcse_core.model import default_model_path

    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=30522, hidden_size=128, num_hidden_layers=4, num_attention_heads=2,
                         intermediate_size=512)).save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True, trust_remote_code=False).save_pretrained(folder)
    return str(folder)


def measure(args: argparse.Namespace) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("SIMCSE_STUDIO_NO_GL", "1")
    if (os.cpu_count() or 1) <= 2:
        os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    import app.embedding_tab.controller as emb
    from app.state.run_model import RunModel
    from app.training_tab.plots import configure_pyqtgraph
    from app.state.selection import Selection
    from app.embedding_tab import EmbeddingTab
    from app.state.view_state import ViewState
    from app.runs.workers import TrainWorker
    from simcse_core.config import TrainConfig

    qapp = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    default_rest = emb.UMAP_REST
    model, sel = RunModel(), Selection()
    trainer: list = []  # the worker, once made: UMAP rests while it runs
    views = EmbeddingTab(model, ViewState(umap_every=1), sel,
                         trainer_running=lambda: bool(trainer) and trainer[0].isRunning())
    views.resize(1200, 800)
    views.start_warmup()
    tmp = Path(tempfile.mkdtemp(prefix="umap-share-"))
    model_spec = small_bert(tmp / "small-bert") if args.model == "small" else args.model
    cfg = TrainConfig(model_name_or_path=model_spec, train_file=None, per_device_train_batch_size=args.batch,
                      max_seq_length=32, max_steps=1_000_000, snapshot_every=args.snapshot_every,
                      probe_size=args.probe_size, align_probe_size=128, checkpoint_every=10**9, device="cpu",
                      output_dir=str(tmp / "run"))
    worker = TrainWorker(cfg, torch_threads=1 if (os.cpu_count() or 1) <= 2 else None)
    trainer.append(worker)
    steps: list[tuple[float, int]] = []
    worker.snapshot.connect(model.add)
    worker.progress.connect(lambda s, _t, _r: steps.append((time.monotonic(), s)))
    layouts: list[tuple[float, float]] = []  # (arrival, seconds it took)
    views.umap_updated.connect(lambda _i: layouts.append((time.monotonic(), views.controller.umap_timings[-1]["total"])))

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            loop = QEventLoop()
            QTimer.singleShot(20, loop.quit)
            loop.exec()

    def phase(seconds: float) -> dict:
        pump(2.0)  # settle after the switch
        t0, n0 = time.monotonic(), len(layouts)
        s0 = steps[-1][1] if steps else 0
        pump(seconds)
        t1 = time.monotonic()
        s1 = steps[-1][1] if steps else 0
        umap_s = sum(d for _t, d in layouts[n0:])
        return {"steps_per_sec": round((s1 - s0) / (t1 - t0), 3), "layouts": len(layouts) - n0,
                "umap_share": round(umap_s / (t1 - t0), 2)}

    worker.start()
    while not steps:
        pump(0.2)
    while views.controller.umap_jobs.busy:
        pump(0.2)  # numba warm-up (cached on disk after the first launch)
    out: dict = {"model": args.model, "batch": args.batch, "probe_size": args.probe_size,
                 "snapshot_every": args.snapshot_every, "seconds": args.seconds, "cpu_count": os.cpu_count()}
    views.hide()
    out["hidden"] = phase(args.seconds)
    views.show()
    emb.UMAP_REST = 0.0
    out["rest 0"] = phase(args.seconds)
    emb.UMAP_REST = default_rest
    out[f"rest {default_rest:g}"] = phase(args.seconds)
    worker.control.stop()
    while worker.isRunning():
        pump(0.1)
    views.shutdown()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="small", help="small (a 4-layer random BERT) | default | a folder")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--probe-size", type=int, default=1000)
    p.add_argument("--snapshot-every", type=int, default=2)
    p.add_argument("--seconds", type=float, default=30.0)
    args = p.parse_args(argv)
    r = measure(args)
    base = r["hidden"]["steps_per_sec"] or float("nan")
    print(f"Training beside UMAP refreshes ({r['model']}, batch {r['batch']}, probe {r['probe_size']}, "
          f"snapshot every {r['snapshot_every']} steps, {r['cpu_count']} cores)\n")
    print("| phase | steps/s | vs hidden | UMAP layouts | UMAP share of the time |")
    print("|---|---|---|---|---|")
    for k in [k for k in r if k == "hidden" or k.startswith("rest")]:
        v = r[k]
        print(f"| {k} | {v['steps_per_sec']} | {v['steps_per_sec'] / base:.2f}x | {v['layouts']} | {v['umap_share']} |")
    print()
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
