"""Dropout as augmentation, seen: one sentence through the encoder K times with dropout.

Unsupervised SimCSE's only augmentation is the encoder's own dropout: the same sentence,
fed twice, comes out as two slightly different embeddings (two *views*), and the loss
pulls them together while pushing other sentences away (Gao et al. 2021, section 3).
:func:`dropout_views` shows that augmentation for one sentence: K views at dropout
probability p around its eval-mode embedding (the *centre*), their spread (mean cosine to
the centre) and the cosine of each positive pair. p = 0 collapses every view onto the
centre; the "same mask" setting gives the two copies of each pair one dropout mask, so
the pair is identical and the positive is trivial (the paper's Table 3: "fixed 0.1"
falls from 82.5 to 43.6 on STS-B).

The views are computed on a private copy of the encoder (:class:`DropoutViewer`); the
caller's model is never modified. Every dropout mask comes from the viewer's own
``torch.Generator``: nothing draws from torch's global generator, which a training
running in another thread of the same process uses (forking the global generator would
not protect that training: the generator is shared between threads). To that end the
copy runs in eval mode (no module draws a mask of its own), every ``nn.Dropout`` gets a
forward hook that applies the viewer's mask, and attention-probability dropout is applied
by an attention function registered with transformers' ``AttentionInterface`` under
:data:`ATTENTION_NAME` (eager attention with the viewer's mask). A model whose attention
does not go through that interface gets no attention-probability dropout here (its
hidden dropout still applies); ``DropoutViews.attention_dropout`` says which happened.

Views and centre are both the inference representation (the pooler's eval path: no MLP
with ``mlp_only_train``), so they live in one space.

Shapes: ``views`` (K, D) unit rows, the first K/2 being copy A of each pair and the last
K/2 copy B (pair i = rows i and i + K/2); ``centre`` (D,) unit; ``cos_to_centre`` (K,);
``pair_cos`` (K/2,).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .model import SentenceEncoder
from .hf import HF_IMPORT_LOCK

ATTENTION_NAME = "simcse_dropout_views"  # registered with transformers on first use

_LOCAL = threading.local()  # .source: the MaskSource of the passes running on this thread
_REGISTERED = threading.Lock()
_registered = False


class MaskSource:
    """Dropout masks from a private generator, at probability ``p``."""

    def __init__(self, p: float, device: torch.device) -> None:
        self.p = float(p)
        self.generator = torch.Generator(device=device)
        self.attention_calls = 0  # attention layers that applied a mask through the interface

    def reseed(self, seed: int) -> None:
        self.generator.manual_seed(int(seed))

    def drop(self, x: torch.Tensor) -> torch.Tensor:
        """Inverted dropout of ``x`` (any shape): zero each element with probability p,
        scale the rest by 1 / (1 - p)."""
        if self.p <= 0.0:
            return x
        if self.p >= 1.0:
            return torch.zeros_like(x)
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)


def _active() -> MaskSource | None:
    return getattr(_LOCAL, "source", None)


def _dropout_hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> Any:
    """Forward hook of every ``nn.Dropout`` of the copy (in eval mode: its output is its
    input): the viewer's mask while views are drawn, else nothing changes."""
    src = _active()
    if src is None or not inputs or not isinstance(inputs[0], torch.Tensor):
        return None
    return src.drop(inputs[0])


def _views_attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                     **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eager attention whose probability dropout uses the viewer's masks (the ``dropout``
    argument is 0 in eval mode and is ignored; the viewer's p applies)."""
    # query: (B, H, Lq, d); key, value: (B, Hkv, Lk, d)
    groups = query.shape[1] // key.shape[1]
    if groups > 1:
        key = key.repeat_interleave(groups, dim=1)  # (B, H, Lk, d)
        value = value.repeat_interleave(groups, dim=1)
    if scaling is None:
        scaling = query.shape[-1] ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling  # (B, H, Lq, Lk)
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask[..., : key.shape[-2]]
    probs = torch.softmax(scores, dim=-1)  # (B, H, Lq, Lk)
    src = _active()
    if src is not None:
        probs = src.drop(probs)
        src.attention_calls += 1
    out = torch.matmul(probs, value).transpose(1, 2).contiguous()  # (B, Lq, H, d)
    return out, probs


def _register_attention() -> None:
    global _registered
    with _REGISTERED:
        if _registered:
            return
        with HF_IMPORT_LOCK:  # transformers' lazy imports are not thread-safe (simcse_core/hf.py)
            from transformers import AttentionInterface
            from transformers.masking_utils import AttentionMaskInterface, eager_mask

        AttentionInterface.register(ATTENTION_NAME, _views_attention)
        AttentionMaskInterface.register(ATTENTION_NAME, eager_mask)  # an additive float mask
        _registered = True


@dataclass(frozen=True)
class DropoutViews:
    """K dropout views of one sentence (see the module doc for the shapes)."""

    views: np.ndarray  # (K, D) float32 unit rows; pair i = rows i and i + K/2
    centre: np.ndarray  # (D,) float32 unit: the eval-mode embedding
    cos_to_centre: np.ndarray  # (K,) cosine of each view to the centre
    pair_cos: np.ndarray  # (K/2,) cosine between the two copies of each pair
    p: float
    same_mask: bool
    attention_dropout: bool  # attention-probability dropout was applied too

    @property
    def k(self) -> int:
        return int(self.views.shape[0])

    @property
    def spread(self) -> float:
        """Mean cosine of the views to the centre (1: no spread)."""
        return float(self.cos_to_centre.mean())

    @property
    def positive_cosine(self) -> float:
        """Mean cosine between the two copies of a pair (what the loss's positive sees)."""
        return float(self.pair_cos.mean())


class DropoutViewer:
    """Draws dropout views with a private copy of ``encoder`` (its backbone deep-copied,
    its tokenizer shared read-only). Build it once per model and call :meth:`views` as
    often as needed; use it from one thread at a time."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        _register_attention()
        backbone = copy.deepcopy(encoder.backbone)
        backbone.set_attn_implementation(ATTENTION_NAME)
        enc = SentenceEncoder(backbone, encoder.tokenizer, encoder.pooler_type, encoder.mlp_only_train,
                              encoder.max_seq_length, source=encoder.source)
        if encoder.mlp is not None:
            enc.mlp = copy.deepcopy(encoder.mlp)
        enc.eval()  # nothing draws its own mask: the hooks and the attention function apply the viewer's
        for module in enc.modules():
            if isinstance(module, nn.Dropout):
                module.register_forward_hook(_dropout_hook)
        self.encoder = enc

    @torch.no_grad()
    def views(self, text: str, k: int = 32, p: float = 0.1, same_mask: bool = False, seed: int = 0) -> DropoutViews:
        """``k`` (even, >= 2) views of ``text`` at dropout probability ``p`` (0 <= p < 1),
        as k/2 pairs; ``same_mask``: both copies of a pair share one mask. ``seed`` fixes
        the masks (the same seed at another p moves the same views)."""
        k, p = int(k), float(p)
        if k < 2 or k % 2:
            raise ValueError(f"k: an even number of views >= 2 (got {k})")
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p: a dropout probability in [0, 1) (got {p})")
        enc = self.encoder
        dev = enc.device
        tok = enc.tokenize([text])
        ids, mask = tok["input_ids"].to(dev), tok["attention_mask"].to(dev)  # (1, L)
        centre = nn.functional.normalize(enc(ids, mask).float(), dim=-1)[0]  # (D,)
        half = k // 2
        ids_h, mask_h = ids.repeat(half, 1), mask.repeat(half, 1)  # (K/2, L): one row per pair
        seeds = np.random.SeedSequence(int(seed)).generate_state(2)
        src = MaskSource(p, dev)
        _LOCAL.source = src
        try:
            src.reseed(int(seeds[0]))
            copy_a = enc(ids_h, mask_h).float()  # (K/2, D)
            src.reseed(int(seeds[0] if same_mask else seeds[1]))  # same seed, same shapes: the same masks
            copy_b = enc(ids_h, mask_h).float()  # (K/2, D)
        finally:
            _LOCAL.source = None
        a = nn.functional.normalize(copy_a, dim=-1)
        b = nn.functional.normalize(copy_b, dim=-1)
        views = torch.cat([a, b], dim=0)  # (K, D)
        return DropoutViews(
            views=views.cpu().numpy().astype(np.float32),
            centre=centre.cpu().numpy().astype(np.float32),
            cos_to_centre=(views @ centre).cpu().numpy().astype(np.float64),
            pair_cos=(a * b).sum(-1).cpu().numpy().astype(np.float64),
            p=p, same_mask=bool(same_mask), attention_dropout=src.attention_calls > 0)


def dropout_views(encoder: SentenceEncoder, text: str, k: int = 32, p: float = 0.1, same_mask: bool = False,
                  seed: int = 0) -> DropoutViews:
    """``k`` dropout views of ``text`` at probability ``p`` around its eval-mode embedding
    (a fresh :class:`DropoutViewer`; keep one for repeated calls)."""
    return DropoutViewer(encoder).views(text, k, p, same_mask, seed)


def nearest_other(embeddings: np.ndarray, row: int) -> tuple[int, float]:
    """(row, cosine) of the sentence nearest to ``embeddings[row]`` among the others of
    the (P, D) matrix (rows normalised here); (-1, nan) when there is no other."""
    e = np.asarray(embeddings, dtype=np.float64)
    if e.shape[0] < 2:
        return -1, float("nan")
    n = np.linalg.norm(e, axis=1, keepdims=True)
    e = e / np.where(n > 0, n, 1.0)
    cos = e @ e[row]  # (P,)
    cos[row] = -np.inf
    j = int(np.argmax(cos))
    return j, float(cos[j])


def polar_projection(views: np.ndarray, centre: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
    """2-D positions of unit vectors around ``centre``: each at its angle to the centre
    (radians: the distance on the sphere, exact), in the direction its tangent component
    takes in the plane of the views' two main tangent directions (PCA). ``views`` (K, D),
    ``extra`` (M, D) more vectors placed in the same plane; returns (K + M, 2). A view on
    the centre sits at the origin."""
    v = np.asarray(views, dtype=np.float64)
    c = np.asarray(centre, dtype=np.float64)
    pts = v if extra is None else np.vstack([v, np.asarray(extra, dtype=np.float64)])
    cos = pts @ c  # (K + M,)
    tangent = pts - cos[:, None] * c[None, :]  # (K + M, D)
    angle = np.arctan2(np.linalg.norm(tangent, axis=1), cos)  # exact near 0, unlike arccos
    tv = tangent[: len(v)]
    basis = _plane(tv if np.abs(tv).max(initial=0.0) > 1e-12 else tangent, c)  # (2, D)
    flat = tangent @ basis.T  # (K + M, 2)
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    direction = np.divide(flat, norm, out=np.zeros_like(flat), where=norm > 1e-12)
    return direction * angle[:, None]


def _plane(tangent: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Two orthonormal directions of largest spread of the tangent vectors (D > 2), or
    an arbitrary pair orthogonal to the centre when they have none."""
    d = centre.shape[0]
    if np.abs(tangent).max(initial=0.0) > 1e-12:
        _, _, vt = np.linalg.svd(tangent, full_matrices=False)
        basis = vt[:2]
        if basis.shape[0] == 2:
            return basis
    q, _ = np.linalg.qr(np.column_stack([centre, np.eye(d)[:, : min(d, 3)]]))
    return q[:, 1:3].T


__all__ = ["ATTENTION_NAME", "DropoutViewer", "DropoutViews", "MaskSource", "dropout_views", "nearest_other",
           "polar_projection"]
