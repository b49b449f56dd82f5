"""simcse_core: the SimCSE training and encoding engine (no Qt here, ever).

Public API::

    from simcse_core import TrainConfig, TrainControl, train, load_model
    from simcse_core import batch_logits    # a batch's logits and labels, either layout
    from simcse_core.losses import info_nce, debiased_info_nce
    from simcse_core import metrics, data, runs

See the README and docs/engine.md.
"""

from __future__ import annotations

from .config import TrainConfig
from .control import TrainControl
from .errors import ConfigError, DataError, ModelError, SimCSEError, TrainingError
from .snapshot import Snapshot

__version__ = "0.1.0"

__all__ = [
    "TrainConfig",
    "TrainControl",
    "Snapshot",
    "SimCSEError",
    "DataError",
    "ModelError",
    "ConfigError",
    "TrainingError",
    "train",
    "load_model",
    "batch_logits",
]


def __getattr__(name: str):  # lazy: importing simcse_core stays cheap (no torch until needed)
    if name == "train":
        from .trainer import train

        return train
    if name == "load_model":
        from .model import load_model

        return load_model
    if name == "batch_logits":
        from .losses.functional import batch_logits

        return batch_logits
    raise AttributeError(name)
