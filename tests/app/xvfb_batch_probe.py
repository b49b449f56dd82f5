"""Run under Xvfb by test_xvfb_batch.py: the real studio window on two run folders made
here, batch 64 and batch 512 of the demo corpus, whose last batch's two views are two
dropout passes of the packaged model (all-MiniLM-L6-v2, train mode), trained-with
layout ntxent at t = 0.05 with a few false-negative pairs removed. For each it shows the
Batch tab, clicks a row, hovers a cell, and saves PNGs of the tab (and of the window) in
several choices of layout, values and order; it reports what it drew as one JSON line.

usage: xvfb_batch_probe.py OUT_DIR TMP_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from xvfb_common import finish, studio, wait
from PySide6.QtWidgets import QApplication

T = 0.05




def dropout_views(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Two train-mode (dropout) passes of the packaged model: (N, H) float32 unit rows."""
    import torch

    from simcse_core.model import load_model

    torch.manual_seed(0)
    enc = load_model("default", max_seq_length=32)
    enc.train()
    tok = enc.tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
    out = []
    with torch.no_grad():
        for _ in range(2):
            z = torch.cat([enc(tok["input_ids"][i:i + 128], tok["attention_mask"][i:i + 128])
                           for i in range(0, len(texts), 128)])
            out.append(torch.nn.functional.normalize(z.float(), dim=-1).numpy())
    return out[0], out[1]


def make_run(root: Path, n: int) -> tuple[Path, float]:
    """A run folder whose two snapshots carry batch ``n`` (ids 0..n-1 of the demo
    corpus); returns (folder, the loss written as the last step's)."""
    from simcse_core.batch_matrix import batch_matrix
    from simcse_core.config import TrainConfig
    from simcse_core.data import default_corpus_path, run_sentences
    from simcse_core.runs import RunWriter
    from simcse_core.snapshot import Snapshot

    cfg = TrainConfig(train_file=str(default_corpus_path()), per_device_train_batch_size=n, loss_variant="ntxent",
                      temp=T, output_dir=str(root), fn_policy="eliminate")
    texts = list(run_sentences(cfg).by_id)[:n]  # corpus ids 0..n-1, as the trainer numbers them
    z1, z2 = dropout_views(texts)
    fn = np.zeros((n, n), dtype=np.int8)
    sims = np.triu(z1 @ z1.T, 1)
    for k in np.argsort(sims.ravel())[::-1][:3]:  # the three most similar pairs: confirmed false negatives
        i, j = divmod(int(k), n)
        fn[i, j] = fn[j, i] = 1
    loss = batch_matrix(z1, z2, T, "ntxent", fn_marks=fn).loss
    writer = RunWriter(root, cfg.to_dict())
    probe = np.arange(min(n, 64))
    writer.write_probe(probe, texts[: len(probe)], {})
    for step, done in ((0, False), (10, True)):
        writer.append(Snapshot(step=step, total_steps=10, epoch=step / 10, loss=loss, temperature=T, lr=3e-5,
                               scalars={"loss_last": loss, "top1_acc": 1.0}, probe_ids=probe,
                               probe_embeddings=z1[: len(probe)], batch_ids=np.arange(n), batch_sim=z1 @ z2.T,
                               batch_z1=z1, batch_z2=z2, batch_fn=fn,
                               step_losses=np.array([[step, loss]], dtype=np.float32), done=done))
    writer.close()
    return root, float(loss)


def shoot(app: QApplication, w: Any, name: str, out: str, row: int, cell: tuple[int, int]) -> dict[str, Any]:
    tab = w.batch_tab
    tab.select_row(row)
    tab.view.hovered.emit(*cell)
    wait(app, 0.6)
    tab.grab().save(os.path.join(out, f"{name}.png"))
    d = tab.display
    return {"shape": list(d.image.shape), "masked": int(np.isnan(d.image).sum()), "marks": int(len(d.mark_cells)),
            "outlines": int(len(d.outline_cells)), "hover": tab.hover_label.text(), "row": tab.row_label.text(),
            "levels": list(d.levels), "values": d.values}


def main() -> int:
    out, tmp = sys.argv[1:3]
    app, w = studio(tmp, geometry=(1920, 1080))
    report: dict[str, Any] = {}
    for n in (64, 512):
        run, loss = make_run(Path(tmp) / f"batch{n}", n)
        w.open_run(str(run))
        wait(app, 60, lambda: w.model.finished)
        w.tabs.setCurrentWidget(w.batch_tab)
        tab = w.batch_tab
        wait(app, 60, lambda: tab.shown is not None and tab.shown.n == n and tab.shown.step == 10
             and not tab.feed.busy)
        wait(app, 20, lambda: not w.context.sentences.loading)
        report[f"loss-{n}"] = [loss, tab.shown.matrices["ntxent"].loss if tab.shown is not None else None]
        rows = 2 * n
        tab.set_choices(layout="ntxent", values="cosine", order="position")
        w.lens_panel.set_t_prime(0.1)
        report[f"ntxent-cosine-{n}"] = shoot(app, w, f"batch{n}-ntxent-cosine", out, 6, (6, 9))
        w.grab().save(os.path.join(out, f"window-batch{n}.png"))
        report[f"outlines-{n}"] = [tab.view.outlines_shown]
        tab.view.plot.vb.setRange(xRange=(0, 48), yRange=(0, 48), padding=0)  # zoomed on the first 24 sentences
        report[f"outlines-{n}"].append(tab.view.outlines_shown)
        shoot(app, w, f"batch{n}-ntxent-cosine-zoomed", out, 6, (6, 9))
        tab.set_choices(order="cluster")
        tab.view.plot.vb.autoRange(padding=0.01)
        shoot(app, w, f"batch{n}-ntxent-cosine-cluster", out, rows // 3, (rows // 3, rows // 3 + 3))
        tab.set_choices(values="log-probability")
        shoot(app, w, f"batch{n}-ntxent-log-probability-cluster", out, rows // 3, (rows // 3, rows // 3 + 3))
        tab.set_choices(values="probability")
        report[f"ntxent-probability-cluster-{n}"] = shoot(app, w, f"batch{n}-ntxent-probability-cluster", out,
                                                          rows // 3, (rows // 3, rows // 3 + 1))
        tab.set_choices(layout="simcse", values="logit", order="position")
        report[f"simcse-logit-{n}"] = shoot(app, w, f"batch{n}-simcse-logit", out, 3, (3, 7))
    finish(app, w, report)


if __name__ == "__main__":
    sys.exit(main())
