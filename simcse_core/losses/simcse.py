"""SimCSE's loss as the reference implementation computes it (the N x N layout).

References:
    Gao, Yao, Chen 2021, "SimCSE: Simple Contrastive Learning of Sentence Embeddings"
    (princeton-nlp/SimCSE, ``simcse/models.py``, ``cl_forward``).

Relation to other losses: equals sentence-transformers' MultipleNegativesRankingLoss with
scale 1/t on (s, s) pairs; :class:`~simcse_core.losses.ntxent.NTXentLoss` adds the
same-view negatives.
"""

from __future__ import annotations

from .info_nce_loss import InfoNCELoss


class SimCSELoss(InfoNCELoss):
    """Cross-entropy of cos(z1_i, z2_j) / t with labels arange(N): N anchors, N-1
    negatives each, one direction; chance level log N. Supervised mode appends the
    anchor-vs-hard-negative block (N x 2N logits). Settings as in
    :class:`~simcse_core.losses.info_nce.InfoNCELoss`.

    Shapes::

        z1, z2, hard   (N, D)
        logits         (N, N), or (N, 2N) with hard negatives
        labels         (N,)  arange(N)
    """

    variant = "simcse"


__all__ = ["SimCSELoss"]
