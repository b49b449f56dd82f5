"""Synthetic snapshots for the embedding-view tests: clustered unit vectors that
drift a little from one snapshot to the next."""

from __future__ import annotations

import numpy as np

from simcse_core.snapshot import Snapshot

TOPICS = ["sport", "music", "science", "food"]


def clustered(P: int = 240, D: int = 16, n_snaps: int = 4, seed: int = 0, spread: float = 0.35,
              batch: int = 8) -> list[Snapshot]:
    """``n_snaps`` snapshots of ``P`` probe points in ``len(TOPICS)`` clusters in D dims;
    the first carries texts and a ``topic`` column; each carries a last batch (the
    first ``batch`` probe ids) with a cosine matrix."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(TOPICS), D))
    labels = np.arange(P) % len(TOPICS)
    noise = rng.standard_normal((P, D))
    ids = np.arange(1000, 1000 + P, dtype=np.int64)
    texts = [f"sentence {i} about {TOPICS[labels[i]]}" for i in range(P)]
    snaps = []
    for s in range(n_snaps):
        X = centres[labels] + spread * noise + 0.25 * s * rng.standard_normal((P, D))
        X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
        sim = (X[:batch] @ X[:batch].T).astype(np.float32)
        snap = Snapshot(step=10 * s, total_steps=10 * (n_snaps - 1), epoch=0.0, loss=1.0, temperature=0.05,
                        lr=3e-5, probe_ids=ids, probe_embeddings=X, batch_ids=ids[:batch].copy(), batch_sim=sim,
                        done=s == n_snaps - 1)
        if s == 0:
            snap.probe_texts = texts
            snap.probe_columns = {"topic": [TOPICS[i] for i in labels]}
        snaps.append(snap)
    return snaps
