"""The InfoNCE family as a selectable loss: the shared body of
:class:`~simcse_core.losses.simcse.SimCSELoss` and :class:`~simcse_core.losses.ntxent.NTXentLoss`.

References:
    Gao, Yao, Chen 2021 (SimCSE); Chen et al. 2020 (NT-Xent); Chuang et al. 2020
    (debiased contrastive loss, ``tau_plus``); Huynh et al. 2022 (false-negative
    elimination and attraction). Formulas in :mod:`simcse_core.losses.functional`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from .base import ContrastiveLoss, LossOutput
from .debiased import debiased_info_nce
from .functional import chance_loss, info_nce


class InfoNCELoss(ContrastiveLoss):
    """InfoNCE in one of the two layouts (``variant``), as a selectable loss; the
    subclasses :class:`~simcse_core.losses.simcse.SimCSELoss` and
    :class:`~simcse_core.losses.ntxent.NTXentLoss` fix the layout.

    Args:
        hard_negative_weight: logit added to each anchor's own hard negative (sup mode
            with a hard_neg column; the reference's ``hard_negative_weight``).
        tau_plus: class prior of the debiased loss (Chuang et al. 2020); > 0 replaces
            the negatives' sum by its debiased estimate (:func:`~simcse_core.losses.debiased.debiased_info_nce`,
            which takes no false-negative masks); 0 is plain InfoNCE.
    """

    variant: ClassVar[str] = "simcse"
    uses_false_negatives = True

    def __init__(self, hard_negative_weight: float = 0.0, tau_plus: float = 0.0) -> None:
        if not 0.0 <= tau_plus < 1.0:
            raise ValueError(f"tau_plus must be in [0, 1), got {tau_plus}")
        self.hard_negative_weight = float(hard_negative_weight)
        self.tau_plus = float(tau_plus)

    def __call__(self, z1: torch.Tensor, z2: torch.Tensor, hard: torch.Tensor | None = None, *,
                 temperature: float, fn_mask: torch.Tensor | None = None,
                 attract_mask: torch.Tensor | None = None) -> LossOutput:
        # z1, z2: (N, D) the two views; hard: (N, D) or None
        if self.tau_plus > 0:
            return LossOutput(debiased_info_nce(z1, z2, temperature, self.tau_plus, self.variant))  # ()
        loss = info_nce(z1, z2, temperature, self.variant, fn_mask=fn_mask, hard_negatives=hard,
                        hard_negative_weight=self.hard_negative_weight, attract_mask=attract_mask)  # ()
        return LossOutput(loss)

    def chance_loss(self, batch_size: int) -> float:
        return chance_loss(batch_size, self.variant)

    def removed_negatives(self, pair_mask: np.ndarray) -> int:
        if self.tau_plus > 0:
            return 0  # the debiased loss keeps every negative
        per_pair = 4 if self.variant == "ntxent" else 1  # ntxent: every view of i against every view of j
        return int(np.asarray(pair_mask, dtype=bool).sum()) * per_pair


__all__ = ["InfoNCELoss"]
