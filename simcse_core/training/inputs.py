"""What a run trains on, prepared once: the sentences (from
:func:`simcse_core.data.run_sentences`, the one answer to "which sentences does this
run use") tokenised into id matrices, the fixed probe set, and the confirmed
false-negative pairs as per-batch masks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..config import TrainConfig
from ..errors import ConfigError


@dataclass
class TrainData:
    """Pre-tokenised training data: token ids (S, L) int64 padded with pad_id, lengths (S,)."""

    columns: list[torch.Tensor]  # one (S, L) tensor per view: [text] or [sent0, sent1(, hard)]
    lengths: list[torch.Tensor]  # matching (S,) lengths
    texts: list[str]  # what the probe shows (text / sent0)
    labels: dict[str, list[str]] = field(default_factory=dict)
    summary: str = ""  # one line about the input (counts of sentences, empty lines, duplicates)

    @property
    def size(self) -> int:
        return self.columns[0].shape[0]


def pretokenize(tokenizer: Any, sentences: list[str], max_len: int, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenise everything once (fast tokenizer, batched): (S, L) ids and (S,) lengths."""
    pad = tokenizer.pad_token_id or 0
    ids = torch.full((len(sentences), max_len), pad, dtype=torch.long)
    lens = torch.zeros(len(sentences), dtype=torch.long)
    for start in range(0, len(sentences), chunk):
        enc = tokenizer(sentences[start : start + chunk], truncation=True, max_length=max_len,
                        padding=False, return_attention_mask=False, return_token_type_ids=False)
        for k, row in enumerate(enc["input_ids"]):
            ids[start + k, : len(row)] = torch.as_tensor(row)
            lens[start + k] = len(row)
    return ids, lens


def load_train_data(config: TrainConfig, tokenizer: Any) -> TrainData:
    """The run's sentences (:func:`~simcse_core.data.run_sentences`), tokenised: one
    column (unsup) or sent0, sent1[, hard_neg] (sup, each a column of the same rows)."""
    from ..data import run_sentences

    if config.mode == "sup" and not config.train_file:
        raise ConfigError("config field 'train_file': supervised mode needs a csv with sent0,sent1[,hard_neg]")
    rs = run_sentences(config)
    n = len(rs.by_id)
    views = [rs.by_id] + [rs.extra[k : k + n] for k in range(0, len(rs.extra), n)]  # sup: sent1[, hard_neg]
    cols, lens = zip(*(pretokenize(tokenizer, v, config.max_seq_length) for v in views))
    return TrainData(list(cols), list(lens), list(rs.by_id), dict(rs.columns), summary=rs.summary)


def probe_ids(size: int, n: int, seed: int) -> np.ndarray:
    """A fixed probe set: the first `size` of a seeded permutation, in corpus order."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n)[: min(size, n)]).astype(np.int64)


class FalseNegatives:
    """Confirmed false-negative pairs of corpus ids, turned into per-batch masks."""

    def __init__(self, pairs: list[tuple[int, int]] | None = None) -> None:
        self.partners: dict[int, set[int]] = {}
        for a, b in pairs or []:
            self.add(a, b)

    def add(self, a: int, b: int) -> None:
        if a == b:
            return
        self.partners.setdefault(int(a), set()).add(int(b))
        self.partners.setdefault(int(b), set()).add(int(a))

    def pairs(self) -> list[tuple[int, int]]:
        return sorted({(min(a, b), max(a, b)) for a, ps in self.partners.items() for b in ps})

    def mask(self, batch_ids: np.ndarray) -> np.ndarray | None:
        """(N, N) bool: True where sentence i and j of the batch are a confirmed pair."""
        if not self.partners:
            return None
        pos = {int(c): k for k, c in enumerate(batch_ids)}
        n = len(batch_ids)
        m = np.zeros((n, n), dtype=bool)
        hit = False
        for i, c in enumerate(batch_ids):
            for p in self.partners.get(int(c), ()):
                j = pos.get(p)
                if j is not None:
                    m[i, j] = True
                    hit = True
        return m if hit else None


__all__ = ["TrainData", "FalseNegatives", "load_train_data", "pretokenize", "probe_ids"]
