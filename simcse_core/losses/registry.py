"""The losses a run can select by name: the one list the config, the CLI and the studio
read (``TrainConfig.loss_variant``, ``--loss_variant``, the setup panel's loss box).

Adding a loss: write its file (a :class:`~simcse_core.losses.base.ContrastiveLoss`
subclass), add one line to :data:`_BUILTIN` below, and test it. Tests and plug-ins may
also register a class at run time: ``LOSSES["mine"] = MyLoss`` (or
:func:`register_loss`).

This module imports no torch: a built-in loss's class is imported on first use, so the
studio can list the choices (:func:`loss_choices`) and the config can check a name
without loading torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from .base import ContrastiveLoss


@dataclass(frozen=True)
class LossEntry:
    """Where a loss lives and what it is, in one line."""

    target: str  # "package.module:ClassName", imported on first use
    description: str  # one line for menus and --help


# name -> entry. The name is what config.json's "loss_variant" holds.
_BUILTIN: dict[str, LossEntry] = {
    "simcse": LossEntry("simcse_core.losses.simcse:SimCSELoss",
                        "reference SimCSE: N x N logits, first view vs second, N-1 negatives (chance log N)"),
    "ntxent": LossEntry("simcse_core.losses.ntxent:NTXentLoss",
                        "NT-Xent (SimCLR, the seed's batch): 2N x 2N over both views, 2N-2 negatives "
                        "(chance log(2N-1)); unsupervised only"),
}


class LossRegistry(MutableMapping):
    """name -> loss class (a ``MutableMapping[str, type[ContrastiveLoss]]``), in
    registration order; built-in classes are imported on first access."""

    def __init__(self, entries: dict[str, LossEntry]) -> None:
        self._entries = dict(entries)
        self._classes: dict[str, type[ContrastiveLoss]] = {}

    def __getitem__(self, name: str) -> type[ContrastiveLoss]:
        if name not in self._classes:
            entry = self._entries[name]  # KeyError for an unknown name
            module, _, attr = entry.target.partition(":")
            self._classes[name] = getattr(importlib.import_module(module), attr)
        return self._classes[name]

    def __setitem__(self, name: str, cls: type[ContrastiveLoss]) -> None:
        self.register(name, cls)

    def register(self, name: str, cls: type[ContrastiveLoss], description: str | None = None) -> None:
        """Make ``cls`` selectable as ``name`` (``description``: one line; by default
        the first line of its docstring)."""
        self._entries[name] = LossEntry(f"{cls.__module__}:{cls.__qualname__}", description or _first_line(cls.__doc__))
        self._classes[name] = cls

    def __delitem__(self, name: str) -> None:
        del self._entries[name]
        self._classes.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def description(self, name: str) -> str:
        return self._entries[name].description


LOSSES = LossRegistry(_BUILTIN)
"""The selectable losses: name -> class."""


def register_loss(name: str, cls: type[ContrastiveLoss], description: str | None = None) -> None:
    """Make ``cls`` selectable as ``loss_variant=name`` (``description``: one line; by
    default the first line of its docstring)."""
    LOSSES.register(name, cls, description)


def loss_names() -> tuple[str, ...]:
    """The names a config may select, in registration order."""
    return tuple(LOSSES)


def loss_choices() -> list[tuple[str, str]]:
    """(name, one-line description) of every selectable loss, for menus."""
    return [(name, LOSSES.description(name)) for name in LOSSES]


def check_loss_config(config: Any) -> None:
    """Raise :class:`ConfigError` unless ``config.loss_variant`` names a registered loss
    that accepts the config's mode and ``loss_options``."""
    name = config.loss_variant
    if name not in LOSSES:
        raise ConfigError("config field 'loss_variant': must be one of {choices} (got {name!r})",
                          choices=", ".join(LOSSES), name=name)
    options = getattr(config, "loss_options", None)
    if options is not None and not isinstance(options, dict):
        raise ConfigError("config field 'loss_options': must be an object of loss settings (got {options!r})",
                          options=options)
    LOSSES[name].check_config(config)


def build_loss(config: Any) -> ContrastiveLoss:
    """The loss object a run trains with (checked first)."""
    check_loss_config(config)
    try:
        return LOSSES[config.loss_variant].from_config(config)
    except (TypeError, ValueError) as e:
        raise ConfigError("config field 'loss_options': {loss}: {error}", loss=config.loss_variant,
                          error=str(e)) from None


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n")[0].strip()


__all__ = ["LOSSES", "LossEntry", "LossRegistry", "build_loss", "check_loss_config", "loss_choices", "loss_names",
           "register_loss"]
