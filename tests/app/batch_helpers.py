"""Synthetic batches for the batch-view tests and screenshots: clustered unit vectors as
the two views, and the loss of each layout computed here in float64 from the formula
(not through the engine), as the trainer would have reported it."""

from __future__ import annotations

import numpy as np

from simcse_core.snapshot import Snapshot


def clustered_views(n: int, d: int = 48, clusters: int = 6, seed: int = 0,
                    noise: float = 1.2) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) float32 unit views: sentences around ``clusters`` centres, the second view
    the first plus ``noise`` (1.2: positives at cosine about 0.6, a loss well above 0)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    which = rng.integers(0, clusters, size=n)
    z1 = centres[which] * 0.55 + rng.normal(size=(n, d))
    z2 = z1 + noise * rng.normal(size=(n, d))
    z1 /= np.linalg.norm(z1, axis=1, keepdims=True)
    z2 /= np.linalg.norm(z2, axis=1, keepdims=True)
    return z1.astype(np.float32), z2.astype(np.float32)


def ref_logits(z1: np.ndarray, z2: np.ndarray, t: float, layout: str,
               removed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """float64 (logits with -inf on masked cells, labels) from the formula."""
    a, b = z1.astype(np.float64), z2.astype(np.float64)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    n = len(a)
    if layout == "simcse":
        logits, labels = a @ b.T / t, np.arange(n)
        if removed is not None:
            logits[removed & ~np.eye(n, dtype=bool)] = -np.inf
        return logits, labels
    z = np.empty((2 * n, a.shape[1]))
    z[0::2], z[1::2] = a, b
    logits = z @ z.T / t
    np.fill_diagonal(logits, -np.inf)
    labels = np.array([r + 1 if r % 2 == 0 else r - 1 for r in range(2 * n)])
    if removed is not None:
        big = np.kron(removed, np.ones((2, 2), dtype=bool)).astype(bool)
        big[np.arange(2 * n), labels] = False
        logits[big] = -np.inf
    return logits, labels


def ref_row_ce(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(R,) -log softmax(row)[label], float64."""
    top = logits.max(1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(logits - top).sum(1))
    return lse - logits[np.arange(len(labels)), labels]


def batch_snapshot(step: int, z1: np.ndarray, z2: np.ndarray, t: float, layout: str, ids: np.ndarray,
                   fn: np.ndarray | None = None, views: bool = True) -> Snapshot:
    """A snapshot carrying this batch, its step loss the float64 loss of ``layout``."""
    removed = None if fn is None else fn == 1
    loss = float(ref_row_ce(*ref_logits(z1, z2, t, layout, removed)).mean())
    extra = dict(batch_z1=z1, batch_z2=z2, batch_fn=fn) if views else {}
    return Snapshot(step=step, total_steps=100, epoch=0.0, loss=loss, temperature=t, lr=1e-5,
                    scalars={"loss_last": loss}, batch_ids=np.asarray(ids, dtype=np.int64),
                    batch_sim=(z1 @ z2.T).astype(np.float32),
                    step_losses=np.array([[step, loss]], dtype=np.float32), **extra)
