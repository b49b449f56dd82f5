"""Shared fixtures: a tiny random BERT with the default model's vocabulary, data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
STS_DEV = DATA / "sts-b" / "sts-dev.csv"
WIKI = DATA / "corpus" / "wiki10k.txt"


def make_tiny_model(folder: Path, seed: int = 0, hidden: int = 32, layers: int = 2) -> Path:
    """A BERT with 2 layers, hidden 32 and the default model's tokenizer, saved as a
    local Hugging Face folder (safetensors)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from simcse_core.model import default_model_path

    cfg = BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                     intermediate_size=2 * hidden, max_position_embeddings=128, hidden_dropout_prob=0.1,
                     attention_probs_dropout_prob=0.1)
    torch.manual_seed(seed)
    model = BertModel(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True, trust_remote_code=False).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def sts_dev() -> Path:
    """SentEval's STS-B dev split from ../shared/data."""
    return STS_DEV


@pytest.fixture(scope="session")
def wiki10k() -> Path:
    """10,000 Wikipedia sentences from ../shared/data (a sample of SimCSE's corpus)."""
    return WIKI


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    return str(make_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-bert"))


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> str:
    """200 lines of the demo corpus as a csv (fast training tests)."""
    from simcse_core.data import default_corpus_path

    src = default_corpus_path().read_text(encoding="utf-8").splitlines()
    p = tmp_path_factory.mktemp("corpus") / "small.csv"
    p.write_text("\n".join(src[:201]) + "\n", encoding="utf-8")
    return str(p)


@pytest.fixture
def topic_corpus(tmp_path) -> Path:
    """A csv of 200 short sentences in 5 topics of 40 (text, topic), in a folder of the
    test's own (explore mode writes its cache beside the corpus)."""
    words = ["river", "mountain", "guitar", "violin", "bread", "cheese", "train", "station", "stock", "market"]
    lines = ["text,topic"] + [f"the {words[2 * t]} and the {words[2 * t + 1]} number {i},t{t}"
                              for t in range(5) for i in range(40)]
    p = tmp_path / "corpus.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p
