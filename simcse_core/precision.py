"""The number format of encoding: float32, or bfloat16 matrix products where the device has
them in hardware and they give the same embeddings (issue 16: encoding speed).

Under ``torch.autocast(..., dtype=torch.bfloat16)`` the linear layers and attention multiply
in bfloat16 (8 bits of mantissa, sums kept in float32) while LayerNorm, softmax and the
pooling stay in float32. On a processor with bfloat16 instructions (x86 AVX512-BF16 or AMX,
as in AMD Zen 4 and Intel Sapphire Rapids and later; a CUDA GPU from Ampere on) that is
about 1.8 x the float32 speed for a MiniLM on 2 CPU cores; without them PyTorch emulates
bfloat16 and it is slower than float32, so ``auto`` never picks it there.

``auto`` (:func:`choose_precision`) also checks the model itself before taking bfloat16:
a sample of the corpus (the shortest, the longest and evenly spaced lengths between) is
encoded both ways, and bfloat16 is used only when every sampled sentence's two embeddings
have a cosine of at least :data:`BF16_MIN_COSINE` (the bar the issue sets for a float32
runtime). all-MiniLM-L6-v2 on 2,000 wiki10k sentences: lowest cosine 0.99993, mean
0.999986, 99.4 % of the 10 nearest neighbours the same (docs/benchmarks.md).

No Qt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported where it is used: the CLI's parser reads PRECISIONS without it
    import torch

PRECISIONS = ("auto", "float32", "bfloat16")
BF16_MIN_COSINE = 0.999  # lowest cosine to float32, over the sample, for auto to take bfloat16
SAMPLE = 48  # sentences the auto check encodes both ways


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices in hardware (not emulated)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        try:
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        except TypeError:  # a PyTorch without the argument
            return bool(torch.cuda.is_bf16_supported())
        except (AssertionError, RuntimeError):  # no CUDA driver
            return False
    if device.type == "cpu":
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)
    return False


def training_bf16(asked: bool | None, device: torch.device | str) -> bool:
    """Whether training runs under bfloat16 autocast (``TrainConfig.bf16``): by default
    (None) on CUDA only; when asked (True) on CUDA or a CPU (about 1.5 x float32's steps a
    second with hardware bfloat16, slower without: :func:`cpu_bf16_note` says which);
    never on other devices."""
    import torch

    kind = torch.device(device).type
    if asked is None:
        return kind == "cuda"
    return bool(asked) and kind in ("cuda", "cpu")


def cpu_bf16_note() -> str:
    """One line on bfloat16 training on this CPU: in hardware, or emulated (slower)."""
    if native_bf16("cpu"):
        return "bfloat16 autocast on the CPU (this processor has bfloat16 instructions)"
    return "bfloat16 autocast on the CPU is emulated here (no AVX512-BF16 or AMX): slower than float32"


def check_precision(value: str, field: str = "precision") -> str:
    """``value`` if it is one of :data:`PRECISIONS`, else a ConfigError naming ``field``."""
    if value not in PRECISIONS:
        from .errors import ConfigError

        raise ConfigError("{field}: must be one of {choices} (got {value!r})", field=field,
                          choices=", ".join(PRECISIONS), value=value)
    return value


@contextlib.contextmanager
def autocast_for(precision: str, device: torch.device) -> Iterator[None]:
    """bfloat16 autocast on a CPU or CUDA device when ``precision`` is ``bfloat16``;
    nothing otherwise (float32; other devices)."""
    import torch

    on = precision == "bfloat16" and device.type in ("cpu", "cuda")
    with torch.autocast(device.type if on else "cpu", dtype=torch.bfloat16, enabled=on):
        yield


@dataclass(frozen=True)
class PrecisionChoice:
    """What encoding uses (``dtype``: float32 or bfloat16), why (``reason``: asked, no
    hardware bfloat16, checked, below the bar) and, when a check ran, the lowest cosine
    between the two formats over ``sample`` sentences."""

    dtype: str
    reason: str
    lowest_cosine: float | None = None
    sample: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "reason": self.reason, "lowest_cosine": self.lowest_cosine,
                "sample": self.sample}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PrecisionChoice | None:
        """The choice recorded by :meth:`as_dict`; None when ``d`` is not one."""
        if not isinstance(d, dict) or d.get("dtype") not in ("float32", "bfloat16"):
            return None
        low = d.get("lowest_cosine")
        return cls(str(d["dtype"]), str(d.get("reason", "")), None if low is None else float(low),
                   int(d.get("sample") or 0))


def precision_note(choice: PrecisionChoice) -> str:
    """One line for a terminal: the precision used and why."""
    if choice.dtype == "bfloat16":
        why = "as asked" if choice.reason == "asked" else "the processor has them"
        if choice.lowest_cosine is None:
            return f"bfloat16 matrix products ({why})"
        return (f"bfloat16 matrix products ({why}; on {choice.sample} sentences of the corpus the lowest cosine to "
                f"float32 is {choice.lowest_cosine:.5f})")
    if choice.reason == "below the bar":
        return (f"float32 (bfloat16 gave a lowest cosine to float32 of {choice.lowest_cosine:.5f} on {choice.sample} "
                f"sentences, under {BF16_MIN_COSINE})")
    if choice.reason == "no hardware bfloat16":
        return "float32 (this device has no hardware bfloat16)"
    return "float32"


def sample_rows(sentences: Sequence[str], count: int = SAMPLE) -> list[int]:
    """Up to ``count`` rows spread over the sentences' lengths: the shortest, the longest
    and evenly spaced between (long sentences are where bfloat16 errors add up)."""
    n = len(sentences)
    if n <= count:
        return list(range(n))
    order = np.argsort([len(s) for s in sentences], kind="stable")
    picks = np.unique(np.linspace(0, n - 1, count).round().astype(np.int64))
    return [int(order[p]) for p in picks]


def choose_precision(encoder: Any, sentences: Sequence[str], requested: str = "auto",
                     count: int = SAMPLE) -> PrecisionChoice:
    """The precision to encode ``sentences`` with on the encoder's device (see the module
    note). ``requested`` float32 or bfloat16 is taken as asked (bfloat16 still measured
    on the sample, for the record); ``auto`` takes bfloat16 only on hardware that has
    it and when the sample's lowest cosine is at least :data:`BF16_MIN_COSINE`."""
    check_precision(requested)
    if requested == "float32":
        return PrecisionChoice("float32", "asked")
    if encoder.device.type not in ("cpu", "cuda") or (requested == "auto" and not native_bf16(encoder.device)):
        return PrecisionChoice("float32", "no hardware bfloat16")  # (autocast_for runs bfloat16 on CPU and CUDA only)
    rows = sample_rows(sentences, count)
    if not rows:
        return PrecisionChoice("bfloat16" if requested == "bfloat16" else "float32", "no sentences to check")
    texts = [sentences[i] for i in rows]
    ref = encoder.encode(texts, batch_size=len(texts), precision="float32").astype(np.float64)
    low = encoder.encode(texts, batch_size=len(texts), precision="bfloat16").astype(np.float64)
    cos = np.sum(ref * low, axis=1) / np.maximum(np.linalg.norm(ref, axis=1) * np.linalg.norm(low, axis=1), 1e-12)
    lowest = round(float(cos.min()), 6)
    if requested == "bfloat16":
        return PrecisionChoice("bfloat16", "asked", lowest, len(rows))
    if lowest >= BF16_MIN_COSINE:
        return PrecisionChoice("bfloat16", "checked", lowest, len(rows))
    return PrecisionChoice("float32", "below the bar", lowest, len(rows))


__all__ = ["BF16_MIN_COSINE", "PRECISIONS", "PrecisionChoice", "autocast_for", "check_precision", "choose_precision",
           "cpu_bf16_note", "native_bf16", "precision_note", "sample_rows", "training_bf16"]
