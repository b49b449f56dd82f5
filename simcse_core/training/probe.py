"""What a snapshot measures beyond the loss: the last batch's cosine statistics and the
fixed probe set's geometry (uniformity, anisotropy, dropout alignment) and STS.

Probe encoding runs under a forked RNG so it never changes the training's random
stream: the same seed gives the same losses with or without snapshots."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import metrics as M
from ..config import TrainConfig
from ..model import SentenceEncoder
from .inputs import TrainData


class Probe:
    """The fixed probe set of a run and the measurements taken on it.

    ``ids`` (P,) corpus ids in corpus order; ``texts`` / ``columns`` their sentences and
    label columns; ``align_ids`` the subset encoded twice (dropout) for alignment."""

    def __init__(self, encoder: SentenceEncoder, data: TrainData, ids: np.ndarray, config: TrainConfig,
                 device: torch.device, use_bf16: bool, eval_pairs: Any = None) -> None:
        self.encoder, self.data, self.device, self.use_bf16 = encoder, data, device, use_bf16
        self.eval_pairs = eval_pairs
        self.ids = ids
        self.texts = [data.texts[i] for i in ids]
        self.columns = {k: [v[i] for i in ids] for k, v in data.labels.items()}
        order = np.random.default_rng(config.seed + 1).permutation(len(ids))
        self.align_ids = ids[order[: config.align_probe_size]]
        self.pad_id = encoder.tokenizer.pad_token_id or 0

    @staticmethod
    def batch_similarity(z1: torch.Tensor, z2: torch.Tensor) -> np.ndarray:
        """(G, H), (G, H) views -> (G, G) float64 cosines, first view i against second view j."""
        a = M.l2_normalize(z1.detach().float().cpu().numpy())  # (G, H)
        b = M.l2_normalize(z2.detach().float().cpu().numpy())  # (G, H)
        return a @ b.T

    @staticmethod
    def batch_views(z1: torch.Tensor, z2: torch.Tensor, hard: torch.Tensor | None = None,
                    fn: np.ndarray | None = None) -> dict[str, np.ndarray | None]:
        """What the snapshot carries for the batch view: the (G, H) views (and hard
        negatives) as float32 L2-normalised host copies (``batch_z1``, ``batch_z2``,
        ``batch_hard``) and the (G, G) false-negative marks (``batch_fn``). Float32, not
        float16: on a near-collapsed model (cosines 0.6 to 0.995) float16 views moved an
        8-sentence batch's loss by up to 3e-4; the view must agree with it to 1e-4."""
        def host(z: torch.Tensor) -> np.ndarray:
            return M.l2_normalize(z.detach().float().cpu().numpy()).astype(np.float32)  # (G, H)

        return {"batch_z1": host(z1), "batch_z2": host(z2), "batch_hard": None if hard is None else host(hard),
                "batch_fn": fn}

    @staticmethod
    def batch_scalars(sim: np.ndarray, temperature: float) -> dict[str, float]:
        """Top-1 accuracy, positive/negative cosines and hardness of the last batch."""
        return M.batch_metrics(sim, temperature)

    def measure(self, evaluate: bool) -> tuple[np.ndarray, dict[str, float]]:
        """(P, D) probe embeddings and their scalars (with STS when ``evaluate``)."""
        scalars: dict[str, float] = {}
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            pe = self.encoder.encode(self.texts, batch_size=256, precision="bfloat16" if self.use_bf16 else "float32")
            scalars["uniformity"] = M.uniformity(pe)
            scalars["anisotropy"] = M.anisotropy(pe)
            scalars["alignment"] = self.dropout_alignment()
            if "group" in self.columns:  # paraphrase groups (the demo corpus): a quality curve at every snapshot
                r = M.group_retrieval(pe, self.columns["group"], self.texts)
                scalars["group_recall_at_1"], scalars["group_mrr"] = r["recall_at_1"], r["mrr"]
            if evaluate and self.eval_pairs is not None:
                r = M.evaluate_sts(self.encoder, self.eval_pairs)
                scalars["sts_spearman"], scalars["sts_alignment"], scalars["sts_uniformity"] = (
                    r["spearman"], r["alignment"], r["uniformity"])
        return pe, scalars

    @torch.no_grad()
    def dropout_alignment(self, chunk: int = 128) -> float:
        """Alignment of the probe's two dropout views (the positive pairs the loss trains
        on): mean ||z1 - z2||^2 of normalised embeddings, encoder in train mode."""
        encoder, data, ids = self.encoder, self.data, self.align_ids
        was = encoder.training
        encoder.train()
        total, count = 0.0, 0
        try:
            for s in range(0, len(ids), chunk):
                idx = torch.as_tensor(ids[s : s + chunk])
                width = int(data.lengths[0][idx].max())
                x = data.columns[0][idx, :width]  # (n, W)
                inp = torch.cat([x, x]).to(self.device)  # (2n, W): two dropout masks
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.use_bf16):
                    z = encoder(inp, (inp != self.pad_id).long()).float()  # (2n, H)
                z = torch.nn.functional.normalize(z, dim=-1)
                n = len(idx)
                total += float(((z[:n] - z[n:]) ** 2).sum(1).sum())
                count += n
        finally:
            encoder.train(was)
        return total / max(1, count)


__all__ = ["Probe"]
