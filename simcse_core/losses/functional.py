"""InfoNCE for SimCSE, in the two layouts people mean by "the SimCSE loss", as functions
(the selectable loss objects built on them: :mod:`simcse_core.losses.info_nce_loss`).

References:
    Gao, Yao, Chen 2021, "SimCSE: Simple Contrastive Learning of Sentence Embeddings"
    (reference implementation: princeton-nlp/SimCSE, ``cl_forward``).
    Chen et al. 2020, "A Simple Framework for Contrastive Learning" (NT-Xent).
    Huynh et al. 2022, "Boosting Contrastive Self-Supervised Learning with False
    Negative Cancellation" (elimination and attraction of false negatives).

Relation to other losses: ``variant="simcse"`` equals sentence-transformers'
MultipleNegativesRankingLoss with scale 1/temperature on (s, s) pairs.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F


def cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N, D), (M, D) -> (N, M) cosine similarities."""
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T


def interleave(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """(N, D), (N, D) -> (2N, D) rows [z1_0, z2_0, z1_1, z2_1, ...] (the seed's [a,a,b,b])."""
    return torch.stack([z1, z2], dim=1).reshape(-1, z1.shape[-1])


def expand_pair_mask(mask: torch.Tensor) -> torch.Tensor:
    """An N x N sentence-pair mask -> the 2N x 2N interleaved-views mask (every view of
    sentence i against every view of sentence j)."""
    return mask.repeat_interleave(2, dim=0).repeat_interleave(2, dim=1)


def simcse_logits(
    z1: torch.Tensor,
    z2: torch.Tensor,
    temperature: float,
    hard_negatives: torch.Tensor | None = None,
    hard_negative_weight: float = 0.0,
) -> torch.Tensor:
    """Reference layout: (N, N) cos(z1_i, z2_j) / t, or (N, 2N) with the hard-negative
    block cos(z1_i, h_j) / t appended and ``hard_negative_weight`` added to that
    block's diagonal (each anchor's own hard negative), as supervised SimCSE does."""
    logits = cosine_matrix(z1, z2) / temperature  # (N, N); positives on the diagonal
    if hard_negatives is not None:
        hard = cosine_matrix(z1, hard_negatives) / temperature  # (N, N)
        if hard_negative_weight:
            hard = hard + hard_negative_weight * torch.eye(hard.shape[0], device=hard.device, dtype=hard.dtype)
        logits = torch.cat([logits, hard], dim=1)  # (N, 2N)
    return logits


def ntxent_logits(z1: torch.Tensor, z2: torch.Tensor, temperature: float,
                  diagonal: float = float("-inf")) -> torch.Tensor:
    """Seed / SimCLR layout: (2N, 2N) cosines of the interleaved views over t, with the
    diagonal (each view against itself) set to ``diagonal`` (-inf; the seed pushes it to
    -1e12 before dividing by t). Positive of row i is i XOR 1."""
    z = interleave(z1, z2)  # (2N, D)
    logits = cosine_matrix(z, z) / temperature  # (2N, 2N)
    eye = torch.eye(logits.shape[0], dtype=torch.bool, device=logits.device)
    return logits.masked_fill(eye, diagonal)


def positive_index(n: int, variant: str, device: torch.device | None = None) -> torch.Tensor:
    """Labels: arange(N) for simcse, [1, 0, 3, 2, ...] for ntxent (2N rows)."""
    if variant == "simcse":
        return torch.arange(n, device=device)
    return torch.arange(2 * n, device=device) ^ 1


def _full_mask(mask: torch.Tensor | None, rows: int, cols: int, n: int, variant: str) -> torch.Tensor | None:
    """Bring a user mask to the logits' shape (rows, cols); N x N masks are expanded."""
    if mask is None:
        return None
    mask = mask.to(torch.bool)
    if variant == "ntxent" and mask.shape == (n, n):
        mask = expand_pair_mask(mask)
    if mask.shape == (rows, cols):
        return mask
    if variant == "simcse" and mask.shape == (n, n) and cols == 2 * n:
        # in-batch block only; the hard-negative block stays
        return torch.cat([mask, torch.zeros_like(mask)], dim=1)
    raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit logits of shape ({rows}, {cols})")


class BatchLogits(NamedTuple):
    """What :func:`batch_logits` returns (unpacks as ``logits, labels``).

    - ``logits``: (rows, cols) cosine / t with the mask applied: -inf (or the chosen
      ``diagonal``) on each view against itself (ntxent) and -inf on the negatives
      ``fn_mask`` removes. simcse: (N, N), or (N, 2N) with hard negatives; ntxent:
      (2N, 2N), rows and columns [a1, a2, b1, b2, ...].
    - ``labels``: (rows,) int64, the column of each row's positive: arange(N) for
      simcse, [1, 0, 3, 2, ...] (i XOR 1) for ntxent.
    """

    logits: Any
    labels: Any


def batch_logits(
    z1: Any,
    z2: Any,
    temperature: float,
    variant: str = "simcse",
    *,
    fn_mask: Any = None,
    hard_negatives: Any = None,
    hard_negative_weight: float = 0.0,
    diagonal: float = float("-inf"),
) -> BatchLogits:
    """The logits and labels of one batch in either InfoNCE layout: the matrix the
    trainer's loss is the cross-entropy of (:func:`info_nce` computes its loss from
    this function's output), and the one the studio's batch view draws.

    Args:
        z1, z2: (N, D) the two views (torch tensors, or numpy arrays: then the result
            is numpy too, float16 inputs computed in float32). Normalised here.
        temperature: t; logits are cos / t (1/t is the scale, 20 at t 0.05).
        variant: ``"simcse"`` (N x N, labels arange(N)) or ``"ntxent"`` (2N x 2N over
            the interleaved views, the diagonal masked, labels i XOR 1).
        fn_mask: bool, N x N sentence pairs (or the logits' shape): negatives set to
            -inf (false-negative elimination); a row's positive is never masked.
        hard_negatives, hard_negative_weight: simcse only, as in :func:`info_nce`.
        diagonal: the value of the masked diagonal in the ntxent layout (-inf, or the
            seed's -1e12 / t: pass ``-1e12 / temperature``).

    Returns:
        :class:`BatchLogits` (logits, labels).
    """
    if variant not in ("simcse", "ntxent"):
        raise ValueError(f"variant must be 'simcse' or 'ntxent', got {variant!r}")
    if not isinstance(z1, torch.Tensor):  # numpy in, numpy out
        out = batch_logits(_as_tensor(z1), _as_tensor(z2), temperature, variant,
                           fn_mask=None if fn_mask is None else torch.as_tensor(np.asarray(fn_mask, dtype=bool)),
                           hard_negatives=None if hard_negatives is None else _as_tensor(hard_negatives),
                           hard_negative_weight=hard_negative_weight, diagonal=diagonal)
        return BatchLogits(out.logits.numpy(), out.labels.numpy())
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f"z1 and z2 must both be (N, D); got {tuple(z1.shape)} and {tuple(z2.shape)}")
    n = z1.shape[0]
    if variant == "simcse":
        logits = simcse_logits(z1, z2, temperature, hard_negatives, hard_negative_weight)  # (N, N|2N)
    else:
        if hard_negatives is not None:
            raise ValueError("hard negatives are supported in the simcse layout only")
        logits = ntxent_logits(z1, z2, temperature, diagonal)  # (2N, 2N)
    rows, cols = logits.shape
    labels = positive_index(n, variant, logits.device)  # (rows,)
    mask = _full_mask(fn_mask, rows, cols, n, variant)
    if mask is not None:
        mask = mask.to(logits.device)
        pos = F.one_hot(labels, cols).to(torch.bool)  # (rows, cols)
        logits = logits.masked_fill(mask & ~pos, float("-inf"))
    return BatchLogits(logits, labels)


def _as_tensor(a: Any) -> torch.Tensor:
    """A numpy array as a CPU tensor: float16 -> float32, float32 / float64 kept."""
    a = np.asarray(a)
    if a.dtype != np.float64:
        a = a.astype(np.float32, copy=False)
    return torch.from_numpy(np.ascontiguousarray(a))


def info_nce(
    z1: torch.Tensor,
    z2: torch.Tensor,
    temperature: float = 0.05,
    variant: str = "simcse",
    fn_mask: torch.Tensor | None = None,
    hard_negatives: torch.Tensor | None = None,
    hard_negative_weight: float = 0.0,
    attract_mask: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Contrastive cross-entropy over cosine similarities / temperature.

    Args:
        z1, z2: (N, D) embeddings of the two views (unsup: two dropout passes of the
            same sentences; sup: sent0 and sent1). Need not be normalised.
        temperature: t; the logits are cos / t (0.05 in SimCSE, scale 20).
        variant: ``"simcse"`` (N x N cross-view logits, labels arange(N), N-1 negatives
            per anchor, one direction) or ``"ntxent"`` (2N x 2N over both views, the
            diagonal masked, labels i XOR 1, 2N-2 negatives per anchor: numerically the
            seed's batch-[a,a,b,b] formulation with ``- eye * 1e12``).
        fn_mask: bool, N x N (sentence pairs) or the logits' shape (N x N / N x 2N for
            simcse, 2N x 2N interleaved for ntxent). True entries are removed from the
            denominator (false-negative elimination). The positive is never removed.
        hard_negatives: (N, D) for supervised SimCSE; appends the anchor-vs-hard block.
        hard_negative_weight: added to the logit of each anchor's own hard negative.
        attract_mask: bool, same shapes as ``fn_mask``; True entries count as extra
            positives (false-negative attraction): the anchor's loss is the mean of
            -log softmax over its positive and these, with the denominator unchanged.
        reduction: ``"mean"`` or ``"none"`` (per-anchor losses).

    Returns:
        The mean loss (scalar), or (rows,) per-anchor losses.
    """
    # the matrix the batch view draws: cos / t, the diagonal and fn_mask at -inf
    logits, labels = batch_logits(z1, z2, temperature, variant, fn_mask=fn_mask, hard_negatives=hard_negatives,
                                  hard_negative_weight=hard_negative_weight)  # (rows, cols), (rows,)
    n = z1.shape[0]
    rows, cols = logits.shape
    pos = F.one_hot(labels, cols).to(torch.bool)  # (rows, cols)
    log_prob = logits.log_softmax(dim=-1)  # (rows, cols)
    amask = _full_mask(attract_mask, rows, cols, n, variant)
    if amask is None:
        per_anchor = -log_prob.gather(1, labels[:, None]).squeeze(1)  # (rows,)
    else:
        positives = pos | (amask & torch.isfinite(logits))  # (rows, cols)
        pos_log_prob = log_prob.masked_fill(~positives, 0.0)
        per_anchor = -pos_log_prob.sum(1) / positives.sum(1)  # mean over each anchor's positives
    if reduction == "none":
        return per_anchor
    return per_anchor.mean()


def count_masked(fn_mask: torch.Tensor | None, n: int, variant: str) -> int:
    """How many negatives ``fn_mask`` removes from the denominators (diagonal ignored)."""
    if fn_mask is None:
        return 0
    mask = fn_mask.to(torch.bool)
    if variant == "ntxent" and mask.shape == (n, n):
        mask = expand_pair_mask(mask)
    rows = mask.shape[0]
    labels = positive_index(n, variant, mask.device)
    keep = mask.clone()
    keep[torch.arange(rows, device=mask.device), labels] = False
    if variant == "ntxent":
        keep.fill_diagonal_(False)
    return int(keep.sum())


def chance_loss(n: int, variant: str = "simcse") -> float:
    """Loss of a model that cannot tell sentences apart: log N (simcse) or log(2N-1)."""
    return math.log(n) if variant == "simcse" else math.log(2 * n - 1)

