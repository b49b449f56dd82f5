"""Can the model read this corpus? The share of tokens its tokenizer turns into the
unknown token, and of characters outside its vocabulary.

A corpus in a script the model's vocabulary barely covers (Chinese with the default
English model: 244 CJK characters in its WordPiece vocabulary) still trains and plots,
but most of its words become ``[UNK]``, so every sentence looks alike to the model and
its neighbours mean little. :func:`unknown_share` measures that on a sample of
sentences; above :data:`THRESHOLD` its report carries a message saying what to do.
``simcse train`` and ``simcse encode`` print that message as a warning line, and the
studio shows it before training and when a corpus is opened.

    from simcse_core.vocab import load_tokenizer, unknown_share
    report = unknown_share(load_tokenizer("default"), sentences)
    if report.too_many:
        print(report.message)
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

THRESHOLD = 0.05  # above this share of unknown tokens (or characters) the report warns
SAMPLE = 2000  # sentences measured (a random sample of larger corpora, fixed seed)


@dataclass(frozen=True)
class VocabReport:
    """What share of a corpus the tokenizer cannot read.

    - ``unk_token_share``: unknown tokens / all tokens (special tokens not counted).
    - ``oov_char_share``: characters (whitespace not counted) that the tokenizer turns
      into the unknown token when alone / all such characters.
    - ``examples``: the most frequent unreadable characters, most frequent first (<= 10).
    - ``sentences``: how many sentences were measured; ``tokens``: how many tokens.
    - ``message``: "" when both shares are at most ``threshold``, else one paragraph
      saying so and what to do.
    """

    unk_token_share: float
    oov_char_share: float
    examples: tuple[str, ...] = ()
    sentences: int = 0
    tokens: int = 0
    threshold: float = THRESHOLD
    message: str = field(default="")

    @property
    def too_many(self) -> bool:
        """Whether either share is above the threshold (then ``message`` says so)."""
        return bool(self.message)


def load_tokenizer(spec: str = "default") -> Any:
    """The tokenizer of a model spec (``"default"``, a local Hugging Face or
    sentence-transformers folder, ``"random:..."``), loaded from local files only."""
    from .hf import auto_classes
    from .model import check_model_folder, resolve_model_path

    AutoTokenizer = auto_classes()[2]  # noqa: N806 - the class's own name

    folder, _random = resolve_model_path(spec)
    check_model_folder(folder)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)


def _sample(sentences: Sequence[str], sample: int | None, seed: int) -> list[str]:
    texts = [s for s in sentences if isinstance(s, str) and s.strip()]
    if sample is not None and len(texts) > sample:
        texts = random.Random(seed).sample(texts, sample)
    return texts


def unknown_share(tokenizer: Any, sentences: Sequence[str], sample: int | None = SAMPLE, *,
                  threshold: float = THRESHOLD, model_name: str = "the model", seed: int = 0) -> VocabReport:
    """Measure how much of ``sentences`` ``tokenizer`` turns into its unknown token.

    Args:
        tokenizer: a Hugging Face tokenizer (``unk_token_id`` None: every text is
            readable, e.g. byte-level BPE, and both shares are 0).
        sentences: the corpus (or any list of texts).
        sample: measure at most this many sentences (a seeded random sample); None: all.
        threshold: the share above which the report carries a ``message``.
        model_name: how the message names the model.
        seed: the sample's seed.
    """
    texts = _sample(sentences, sample, seed)
    unk = getattr(tokenizer, "unk_token_id", None)
    if not texts or unk is None:
        return VocabReport(0.0, 0.0, (), len(texts), 0, threshold)
    ids = tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
    n_tok = sum(len(x) for x in ids)
    n_unk = sum(sum(1 for t in x if t == unk) for x in ids)
    chars = Counter(c for t in texts for c in t if not c.isspace())
    distinct = sorted(chars)
    alone = tokenizer(distinct, add_special_tokens=False, truncation=False)["input_ids"] if distinct else []
    bad = [c for c, x in zip(distinct, alone) if unk in x]
    n_chars = sum(chars.values())
    n_bad = sum(chars[c] for c in bad)
    tok_share = n_unk / n_tok if n_tok else 0.0
    char_share = n_bad / n_chars if n_chars else 0.0
    examples = tuple(sorted(bad, key=lambda c: (-chars[c], c))[:10])
    message = ""
    if tok_share > threshold or char_share > threshold:
        message = (f"{model_name} cannot read much of this corpus: {tok_share:.0%} of its tokens become the unknown "
                   f"token and {char_share:.0%} of its characters are outside the model's vocabulary"
                   + (f" (e.g. {' '.join(examples[:6])})" if examples else "")
                   + ". Those sentences look alike to the model, so training, the maps and the neighbours "
                   "mean little. Load a model made for this language: any local Hugging Face or "
                   "sentence-transformers folder.")
    return VocabReport(tok_share, char_share, examples, len(texts), n_tok, threshold, message)


def run_vocab_report(config: Any, sample: int | None = SAMPLE) -> VocabReport:
    """:func:`unknown_share` of a run's sentences (``run_sentences(config)``, sent0 and
    sent1 in supervised mode) with its model's tokenizer (``config``: a
    :class:`~simcse_core.config.TrainConfig` or its dict). Raises what loading the
    tokenizer or reading the corpus raises (:class:`~simcse_core.errors.SimCSEError`)."""
    from .data import run_sentences

    get = config.get if isinstance(config, dict) else (lambda k, d=None: getattr(config, k, d))
    spec = str(get("model_name_or_path", "default") or "default")
    rs = run_sentences(config)
    name = "the default model" if spec.removeprefix("random:") in ("", "default") else f"model {spec}"
    return unknown_share(load_tokenizer(spec), list(rs.by_id) + list(rs.extra), sample, model_name=name)


def vocab_warning(config: Any = None, *, tokenizer: Any = None, sentences: Sequence[str] | None = None,
                  model_name: str = "the model") -> str:
    """The CLI's warning: the report's message for a run (``config``) or for
    ``tokenizer`` and ``sentences``; "" when the corpus is readable or when the check
    itself fails (the command then reports the failure in its own words)."""
    from .errors import SimCSEError

    try:
        if config is not None:
            return run_vocab_report(config).message
        return unknown_share(tokenizer, sentences or [], model_name=model_name).message
    except (SimCSEError, OSError, ValueError) as e:
        import logging

        logging.getLogger(__name__).debug("vocabulary check skipped: %s", e)
        return ""


__all__ = ["THRESHOLD", "SAMPLE", "VocabReport", "load_tokenizer", "unknown_share", "run_vocab_report", "vocab_warning"]
