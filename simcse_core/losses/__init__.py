"""Contrastive losses on embeddings, one per file (shapes in comments):

- :func:`info_nce` (``info_nce.py``): SimCSE's N x N layout or NT-Xent's 2N x 2N, with
  false-negative elimination (``fn_mask``), attraction (``attract_mask``) and hard
  negatives.
- :func:`debiased_info_nce` (``debiased.py``): Chuang et al. 2020.
"""

from .debiased import debiased_info_nce
from .info_nce import chance_loss, cosine_matrix, count_masked, expand_pair_mask, info_nce, interleave

__all__ = [
    "info_nce",
    "debiased_info_nce",
    "chance_loss",
    "cosine_matrix",
    "count_masked",
    "expand_pair_mask",
    "interleave",
]
