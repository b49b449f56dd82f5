"""Debiased contrastive loss (Chuang, Robinson, Lin, Torralba, Jegelka 2020,
"Debiased Contrastive Learning", NeurIPS).

Some in-batch "negatives" share the anchor's class (false negatives). With a class
prior ``tau_plus`` the negatives' term is corrected:

    g = max{ (1 / (1 - tau_plus)) * [ mean_neg exp(s/t) - tau_plus * exp(s_pos/t) ],  exp(-1/t) }
    L = -log( exp(s_pos/t) / (exp(s_pos/t) + M * g) ),  M the number of negatives.

With ``tau_plus = 0`` it is InfoNCE (up to the clamp). Computed in log space (shifted
by each row's max logit) so small temperatures do not overflow.
"""

from __future__ import annotations


import torch

from .functional import batch_logits


def debiased_info_nce(
    z1: torch.Tensor,
    z2: torch.Tensor,
    temperature: float = 0.05,
    tau_plus: float = 0.1,
    variant: str = "simcse",
    reduction: str = "mean",
) -> torch.Tensor:
    """Args: z1, z2 (N, D) views; tau_plus the class prior in [0, 1); variant as in
    :func:`~simcse_core.losses.info_nce` (N-1 or 2N-2 negatives per anchor).
    Returns the mean loss, or per-anchor losses (rows,) with ``reduction="none"``."""
    if not 0.0 <= tau_plus < 1.0:
        raise ValueError(f"tau_plus must be in [0, 1), got {tau_plus}")
    logits, labels = batch_logits(z1, z2, temperature, variant)  # (N, N) or (2N, 2N), (rows,)
    rows, cols = logits.shape
    pos_mask = torch.zeros_like(logits, dtype=torch.bool)
    pos_mask[torch.arange(rows, device=logits.device), labels] = True
    neg_mask = ~pos_mask & torch.isfinite(logits)  # excludes the -inf self entries of ntxent
    m_neg = neg_mask.sum(1).to(logits.dtype)  # (rows,) negatives per anchor: N-1 or 2N-2

    shift = logits.masked_fill(~torch.isfinite(logits), float("-inf")).amax(1, keepdim=True).detach()  # (rows, 1)
    e = torch.exp(logits - shift).masked_fill(~torch.isfinite(logits), 0.0)  # (rows, cols), exp(s/t - shift)
    pos = e.gather(1, labels[:, None]).squeeze(1)  # (rows,)
    neg_mean = (e * neg_mask).sum(1) / m_neg  # (rows,)
    g = (neg_mean - tau_plus * pos) / (1.0 - tau_plus)
    floor = torch.exp(-1.0 / temperature - shift.squeeze(1))  # exp(-1/t), shifted like the rest
    g = torch.maximum(g, floor)
    log_pos = logits.gather(1, labels[:, None]).squeeze(1) - shift.squeeze(1)
    per_anchor = -(log_pos - torch.log(pos + m_neg * g))
    if reduction == "none":
        return per_anchor
    return per_anchor.mean()


__all__ = ["debiased_info_nce"]
