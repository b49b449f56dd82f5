"""Contrastive losses on embeddings, one per file (shapes in comments).

Selectable losses (the trainer takes one by name, ``TrainConfig.loss_variant``):

- :class:`SimCSELoss` (``simcse.py``): the reference N x N layout.
- :class:`NTXentLoss` (``ntxent.py``): SimCLR's 2N x 2N layout.

Both take ``tau_plus`` (the debiased loss of Chuang et al. 2020, ``debiased.py``) and
``hard_negative_weight``. The protocol they follow is :class:`ContrastiveLoss`
(``base.py``); the list of names is :data:`LOSSES` (``registry.py``), with
:func:`loss_choices` for menus. The formulas, as functions tested in float64, are in
``functional.py`` (:func:`info_nce`, and :func:`batch_logits`: the logits and labels
it is the cross-entropy of, which the studio's batch view draws) and ``debiased.py`` (:func:`debiased_info_nce`).

Importing this package loads no torch until a loss or a function is used, so the
studio can list the choices cheaply.
"""

from __future__ import annotations

import importlib
from typing import Any

from .registry import LOSSES, build_loss, check_loss_config, loss_choices, loss_names, register_loss

_LAZY = {
    "ContrastiveLoss": ".base",
    "LossOutput": ".base",
    "InfoNCELoss": ".info_nce_loss",
    "SimCSELoss": ".simcse",
    "NTXentLoss": ".ntxent",
    "info_nce": ".functional",
    "batch_logits": ".functional",
    "BatchLogits": ".functional",
    "chance_loss": ".functional",
    "cosine_matrix": ".functional",
    "count_masked": ".functional",
    "expand_pair_mask": ".functional",
    "interleave": ".functional",
    "debiased_info_nce": ".debiased",
}


def __getattr__(name: str) -> Any:  # the torch-backed names, imported on first use
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "LOSSES",
    "build_loss",
    "check_loss_config",
    "loss_choices",
    "loss_names",
    "register_loss",
    *_LAZY,
]
