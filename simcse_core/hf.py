"""One lock around importing from transformers.

transformers resolves its names lazily (``transformers.AutoConfig`` imports its module on
first access), and that is not safe from two threads at once: the studio reads a
corpus's vocabulary in a worker while the trainer thread loads the model, and one of them
got ``ImportError: cannot import name 'AutoConfig' from 'transformers'``. Every import from
transformers in the engine goes through :data:`HF_IMPORT_LOCK` (or :func:`auto_classes`).
"""

from __future__ import annotations

import threading
from typing import Any

HF_IMPORT_LOCK = threading.RLock()


def auto_classes() -> tuple[Any, Any, Any]:
    """``(AutoConfig, AutoModel, AutoTokenizer)``, imported under the lock."""
    with HF_IMPORT_LOCK:
        from transformers import AutoConfig, AutoModel, AutoTokenizer
    return AutoConfig, AutoModel, AutoTokenizer
