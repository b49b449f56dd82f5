"""NT-Xent, SimCLR's loss (the 2N x 2N layout), which is also the seed's formulation of
SimCSE (bojone/SimCSE: the batch [a, a, b, b, ...], the diagonal pushed to -1e12).

References:
    Chen, Kornblith, Norouzi, Hinton 2020, "A Simple Framework for Contrastive Learning
    of Visual Representations" (NT-Xent).

Relation to other losses: :class:`~simcse_core.losses.simcse.SimCSELoss` keeps only the
cross-view block (no same-view negatives) and one direction.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .info_nce_loss import InfoNCELoss


class NTXentLoss(InfoNCELoss):
    """Cross-entropy over the 2N x 2N cosines of both views' interleaved rows / t, the
    diagonal masked, labels i XOR 1: 2N anchors, 2N-2 negatives each (same-view ones
    included); chance level log(2N-1). Unsupervised mode only. Settings as in
    :class:`~simcse_core.losses.info_nce.InfoNCELoss` (``hard_negative_weight`` unused).

    Shapes::

        z1, z2    (N, D)
        z         (2N, D)   rows [z1_0, z2_0, z1_1, z2_1, ...]
        logits    (2N, 2N)  diagonal -inf
        labels    (2N,)     [1, 0, 3, 2, ...]
    """

    variant = "ntxent"
    modes = ("unsup",)

    @classmethod
    def check_config(cls, config: Any) -> None:
        if config.mode == "sup":
            raise ConfigError("config field 'loss_variant': ntxent is the unsupervised 2N x 2N layout; "
                              "use simcse in sup mode (got {loss!r})", loss=config.loss_variant)
        super().check_config(config)


__all__ = ["NTXentLoss"]
