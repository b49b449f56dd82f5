"""Frames a second of the embedding views' in-place redraw at 20,000 points.

Synthetic clustered unit vectors (20k x 64, 8 topics) go through the studio's own
views offscreen. Each frame moves every point a little and redraws in place
(``setData`` with the colouring's shared per-point brushes, then a forced
``repaint()``), as a live run or the timeline does:

- ``map``: one 2D view (the Hammer map's ``MapView``) alone;
- ``whole tab``: the whole embedding tab (:meth:`EmbeddingTab.redraw_now`: Hammer, S1
  circle + vMF curve, UMAP, and the sphere's 2D fallback) and a repaint of the tab.

Each is measured idle and with a training run going in a ``TrainWorker`` (torch 1
thread, as the studio does on <= 2 cores).

    python bench/views_fps.py                    # default model for the training load
    python bench/views_fps.py --points 10000 --seconds 5 --model random:default

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


def synthetic(P: int, D: int, seed: int = 0):
    import numpy as np

    from simcse_core.snapshot import Snapshot

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, D))
    labels = np.arange(P) % 8
    X = centres[labels] + 0.6 * rng.standard_normal((P, D))
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    snap = Snapshot(step=0, total_steps=1, epoch=0.0, loss=1.0, temperature=0.05, lr=3e-5,
                    probe_ids=np.arange(P, dtype=np.int64), probe_embeddings=X,
                    probe_texts=[f"sentence {i}" for i in range(P)],
                    probe_columns={"topic": [f"topic {t}" for t in labels]})
    return snap


def measure(args: argparse.Namespace) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("SIMCSE_STUDIO_NO_GL", "1")  # offscreen has no GL: measure the 2D path
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.state.run_model import RunModel
    from app.training_tab.plots import configure_pyqtgraph
    from app.state.selection import Selection
    from app.embedding_tab import EmbeddingTab
    from app.state.view_state import ViewState

    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    model, sel = RunModel(), Selection()
    views = EmbeddingTab(model, ViewState(umap_enabled=False), sel)
    views.resize(1400, 900)
    views.show()
    model.add(synthetic(args.points, 64))
    t0 = time.perf_counter()
    while views.drawn_index is None and time.perf_counter() - t0 < 60:
        app.processEvents()
        time.sleep(0.01)
    frame = views.frames[0]
    rng = np.random.default_rng(1)
    # UMAP-like layout so the UMAP view draws too
    views.umap[0] = (frame.hammer * 5 + rng.normal(size=frame.hammer.shape)).astype(np.float32)
    views.redraw_now()
    rows, brushes, _ = views.shown_rows()
    hv = views.hammer_view
    base = frame.hammer[rows].copy()
    xyz0 = frame.xyz.copy()

    def pump() -> None:
        loop = QEventLoop()
        QTimer.singleShot(0, loop.quit)
        loop.exec()

    def bench_map(seconds: float) -> float:
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < seconds:
            xy = base + rng.normal(scale=0.01, size=base.shape).astype(np.float32)
            hv.set_points(rows, xy, brushes)
            hv.repaint()
            pump()  # queued signals (snapshots, progress) still get handled
            n += 1
        return n / (time.perf_counter() - t)

    # two frames to alternate between (frames are computed in a worker in the studio:
    # only drawing is measured here)
    from dataclasses import replace

    from simcse_core.projection import hammer, lambert_azimuthal

    xyz = xyz0 + rng.normal(scale=0.02, size=xyz0.shape).astype(np.float32)
    xyz /= np.linalg.norm(xyz, axis=1, keepdims=True)
    other = replace(frame, xyz=xyz, hammer=hammer(xyz).astype(np.float32),
                    lambert=lambert_azimuthal(xyz).astype(np.float32), circle=frame.circle[::-1].copy())
    pair = [frame, other]

    def bench_all(seconds: float) -> float:
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < seconds:
            views.frames[0] = pair[n % 2]
            views.redraw_now()
            views.repaint()
            pump()
            n += 1
        return n / (time.perf_counter() - t)

    out = {"points": args.points, "drawn": int(rows.size), "seconds": args.seconds, "cpu_count": os.cpu_count()}
    out["idle_map_fps"] = round(bench_map(args.seconds), 1)
    out["idle_all_fps"] = round(bench_all(args.seconds), 1)
    if args.model:
        from app.runs.workers import TrainWorker
        from simcse_core.config import TrainConfig

        tmp = Path(tempfile.mkdtemp(prefix="views-fps-"))
        cfg = TrainConfig(model_name_or_path=args.model, train_file=None, per_device_train_batch_size=args.batch,
                          max_steps=100_000, snapshot_every=5, probe_size=256, align_probe_size=128,
                          checkpoint_every=10**9, device="cpu", output_dir=str(tmp / "run"))
        worker = TrainWorker(cfg, torch_threads=1 if (os.cpu_count() or 1) <= 2 else None)
        steps: list[int] = []
        worker.progress.connect(lambda s, _t, _r: steps.append(s))
        worker.start()
        t = time.perf_counter()
        while not steps and time.perf_counter() - t < 180:
            pump()
            time.sleep(0.02)
        s0 = steps[-1] if steps else 0
        t1 = time.perf_counter()
        out["training_map_fps"] = round(bench_map(args.seconds), 1)
        out["training_all_fps"] = round(bench_all(args.seconds), 1)
        pump()
        out["train_steps_per_sec"] = round(((steps[-1] if steps else 0) - s0) / (time.perf_counter() - t1), 2)
        worker.control.stop()
        while worker.isRunning():
            pump()
            worker.wait(100)
    views.shutdown()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=20_000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--model", default="default", help="model trained meanwhile ('' to skip the training run)")
    p.add_argument("--batch", type=int, default=32)
    args = p.parse_args(argv)
    r = measure(args)
    print(f"Embedding views redraw, {r['points']:,} points ({r['drawn']:,} drawn), offscreen, {r['cpu_count']} cores\n")
    print("| view | idle fps | training fps |")
    print("|---|---|---|")
    print(f"| one 2D map (setData + repaint) | {r['idle_map_fps']} | {r.get('training_map_fps', '–')} |")
    print(f"| whole tab (4 views + repaint) | {r['idle_all_fps']} | {r.get('training_all_fps', '–')} |")
    print()
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
