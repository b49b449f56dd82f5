"""The loss protocol: what the trainer needs from a loss, and nothing more.

A loss is an object built from a run's :class:`~simcse_core.config.TrainConfig`
(:meth:`ContrastiveLoss.from_config`) and called on the embeddings of one global
batch::

    loss_fn = SimCSELoss.from_config(config)          # or registry.build_loss(config)
    out = loss_fn(z1, z2, hard, temperature=0.05)     # z1, z2 (N, D); hard (N, D) or None
    out.loss.backward()                               # () scalar
    loss_fn.chance_loss(64)                           # log 64 for the N x N layout

The temperature is an argument of each call because the person may change it while the
run goes on; everything else a loss needs is a setting fixed at construction and
reported by :meth:`ContrastiveLoss.config_dict` (saved with the run, like
sentence-transformers' ``get_config_dict``).

Settings come from the config: a constructor parameter named like a
:class:`~simcse_core.config.TrainConfig` field (``hard_negative_weight``, ``tau_plus``)
reads that field; any other parameter reads ``config.loss_options[name]`` (CLI:
``--loss_option name=value``), so a new loss with new settings needs no new config field.
"""

from __future__ import annotations

import dataclasses
import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from ..errors import ConfigError
from ..messages import Msg


@dataclass
class LossOutput:
    """What one call of a loss returns.

    - ``loss``: () scalar with its graph (the trainer calls ``backward`` on it).
    - ``metrics``: extra () scalars for the snapshot, detached, keyed by a metric spec
      key (:mod:`simcse_core.metric_specs`); read back to the host at snapshot time only.
    """

    loss: torch.Tensor
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)


class ContrastiveLoss(ABC):
    """Base class of the losses the trainer can select by name (see
    :mod:`simcse_core.losses.registry`).

    Class attributes a loss sets:

    - ``modes``: the training modes it supports (``"unsup"``: two dropout views;
      ``"sup"``: sent0/sent1 rows, maybe with hard negatives).
    - ``uses_false_negatives``: whether it honours ``fn_mask`` / ``attract_mask``
      (confirmed false-negative pairs); when False the trainer passes none.
    """

    modes: ClassVar[tuple[str, ...]] = ("unsup", "sup")
    uses_false_negatives: ClassVar[bool] = False

    # ------------------------------------------------------------------ the loss
    @abstractmethod
    def __call__(
        self,
        z1: torch.Tensor,
        z2: torch.Tensor,
        hard: torch.Tensor | None = None,
        *,
        temperature: float,
        fn_mask: torch.Tensor | None = None,
        attract_mask: torch.Tensor | None = None,
    ) -> LossOutput:
        """Args:
            z1, z2: (N, D) embeddings of the two views of N sentences (not normalised).
            hard: (N, D) hard negatives (supervised mode with a third column) or None.
            temperature: t > 0; logits are cos / t.
            fn_mask, attract_mask: (N, N) bool on the embeddings' device, sentence i
                against sentence j of the batch: confirmed false negatives to remove from
                the denominators / to count as extra positives. Only passed to losses
                with ``uses_false_negatives``.
        """

    @abstractmethod
    def chance_loss(self, batch_size: int) -> float:
        """The loss of a model that cannot tell sentences apart, at ``batch_size`` N
        (the chance line of the loss plot)."""

    def removed_negatives(self, pair_mask: np.ndarray) -> int:
        """How many denominator entries an (N, N) host-side ``fn_mask`` removes, counted
        without touching the device (the snapshot's ``n_masked``). 0 by default."""
        return 0

    # ------------------------------------------------------------------ settings
    def config_dict(self) -> dict[str, Any]:
        """The loss's settings (its constructor's parameters and their values)."""
        return {name: getattr(self, name) for name in _parameters(type(self))}

    @classmethod
    def from_config(cls, config: Any) -> ContrastiveLoss:
        """Build the loss from a :class:`~simcse_core.config.TrainConfig`: each
        constructor parameter from ``config.loss_options`` if set there, else from the
        config field of the same name, else its default."""
        options: Mapping[str, Any] = getattr(config, "loss_options", None) or {}
        kwargs: dict[str, Any] = {}
        for name in _parameters(cls):
            if name in options:
                kwargs[name] = options[name]
            elif name in _config_fields(config):
                kwargs[name] = getattr(config, name)
        return cls(**kwargs)

    @classmethod
    def check_config(cls, config: Any) -> None:
        """Raise :class:`ConfigError` naming the field when ``config`` does not suit
        this loss: an unsupported mode, or a ``loss_options`` key it does not take."""
        if config.mode not in cls.modes:
            raise ConfigError("config field 'loss_variant': {loss} does not support {mode} mode (it supports "
                              "{modes}) (got {loss!r})", loss=config.loss_variant, mode=config.mode,
                              modes=", ".join(cls.modes))
        unknown = sorted(set(getattr(config, "loss_options", None) or {}) - set(_parameters(cls)))
        if unknown:
            takes = ", ".join(_parameters(cls)) or Msg("no options")
            raise ConfigError("config field 'loss_options': {loss} takes {takes} (got {unknown})",
                              loss=config.loss_variant, takes=takes, unknown=", ".join(unknown))


def _parameters(cls: type) -> list[str]:
    """Names of the keyword parameters of ``cls.__init__`` (its settings)."""
    sig = inspect.signature(cls.__init__)
    return [p.name for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _config_fields(config: Any) -> set[str]:
    if dataclasses.is_dataclass(config):
        return {f.name for f in dataclasses.fields(config)}
    return set(vars(config))


__all__ = ["ContrastiveLoss", "LossOutput"]
