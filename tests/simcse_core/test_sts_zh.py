"""Chinese STS files (issue 12): the tab-separated ``sentence1, sentence2, score`` format
of the Chinese STS-B (``../shared/data/sts-b-zh/``, read in place, never copied into the
project), evaluated with the tiny model and through ``simcse eval``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from simcse_core.data import read_sts, read_sts_files
from simcse_core.errors import DataError

STS_ZH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sts-b-zh"
VALID_ZH = STS_ZH / "STS-B.valid.data"


def test_pair_score_lines_are_read(tmp_path):
    f = tmp_path / "pairs.data"
    f.write_text("一架飞机要起飞了。\t一架飞机正在起飞。\t5\n一个男人在吹笛子。\t一个人在弹吉他。\t1\n\n"
                 "猫在睡觉。\t狗在叫。\t0\n", encoding="utf-8")
    p = read_sts(f)
    assert p.sent1[0] == "一架飞机要起飞了。" and list(p.scores) == [5.0, 1.0, 0.0] and p.name == "pairs"


def test_a_header_still_means_a_table(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("sentence1\tsentence2\tscore\na\tb\t1\nc\td\t2\n", encoding="utf-8")
    assert list(read_sts(f).scores) == [1.0, 2.0]


def test_a_bad_pair_line_names_the_line(tmp_path):
    f = tmp_path / "bad.data"
    f.write_text("a\tb\t1\nc\td\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.data.*2.*expected 3"):
        read_sts(f)


@pytest.fixture(scope="module")
def sts_zh_rows(tmp_path_factory):
    """The first 24 rows of the Chinese STS-B dev split, in a temporary file."""
    if not VALID_ZH.is_file():
        pytest.skip(f"{VALID_ZH} is not here")
    rows = VALID_ZH.read_text(encoding="utf-8").splitlines()[:24]
    f = tmp_path_factory.mktemp("sts-zh") / "zh-dev.data"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return f


def test_the_chinese_sts_b_reads_in_place():
    if not STS_ZH.is_dir():
        pytest.skip(f"{STS_ZH} is not here")
    sets = read_sts_files(STS_ZH)
    assert set(sets) == {"STS-B.train", "STS-B.valid"}
    valid = sets["STS-B.valid"]
    assert len(valid.sent1) == 1458 and valid.scores.min() >= 0 and valid.scores.max() <= 5
    assert any("\u4e00" <= ch <= "\u9fff" for ch in valid.sent1[0])


def test_the_tiny_model_evaluates_chinese_pairs(tiny_model, sts_zh_rows):
    from simcse_core.metrics import evaluate_sts
    from simcse_core.model import load_model

    enc = load_model(tiny_model, "avg", max_seq_length=32)
    r = evaluate_sts(enc, read_sts(sts_zh_rows), batch_size=16)
    assert math.isfinite(r["spearman"])


def test_simcse_eval_accepts_a_folder_of_chinese_files(tiny_model, sts_zh_rows, capsys):
    from simcse_core.cli import main

    assert main(["eval", "--model_name_or_path", tiny_model, "--pooler_type", "avg", "--max_seq_length", "32",
                 "--eval_file", str(sts_zh_rows.parent), "--eval_file", str(sts_zh_rows)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {f"{sts_zh_rows.parent.name}/zh-dev", "zh-dev"}
    assert all(v is not None and math.isfinite(v) for v in out.values())


@pytest.fixture(scope="module")
def chinese_model(tmp_path_factory):
    """A local Chinese model folder of the kind a person brings: a small random BERT whose
    vocabulary holds the characters of the Chinese STS-B (one token per character, as
    Chinese BERTs tokenise), saved with safetensors and its tokenizer files."""
    if not VALID_ZH.is_file():
        pytest.skip(f"{VALID_ZH} is not here")
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("zh-model") / "tiny-chinese-bert"
    folder.mkdir()
    text = VALID_ZH.read_text(encoding="utf-8")
    chars = sorted({ch for ch in text if not ch.isspace() and not ch.isdigit()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"0123456789", *chars]
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True,
                      tokenize_chinese_chars=True).save_pretrained(folder)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    BertModel(cfg).save_pretrained(folder, safe_serialization=True)
    return str(folder)


def test_a_local_chinese_model_reads_chinese_trains_and_evaluates(chinese_model, sts_zh_rows, tmp_path, capsys):
    """With a model made for the language, a Chinese corpus is readable (no [UNK]
    warning, unlike with the default English model), trains, and evaluates on the
    Chinese STS-B through `simcse eval`."""
    from simcse_core.cli import main
    from simcse_core.vocab import THRESHOLD, load_tokenizer, unknown_share

    sentences = [s for row in VALID_ZH.read_text(encoding="utf-8").splitlines()[:200] for s in row.split("\t")[:2]]
    own = unknown_share(load_tokenizer(chinese_model), sentences, model_name="tiny-chinese-bert")
    english = unknown_share(load_tokenizer("default"), sentences, model_name="the default model")
    assert own.unk_token_share < 0.01 and own.message == ""
    assert english.unk_token_share > THRESHOLD and english.message
    corpus = tmp_path / "zh.txt"
    corpus.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--model_name_or_path", chinese_model, "--train_file", str(corpus), "--pooler_type", "avg",
                 "--max_steps", "3", "--per_device_train_batch_size", "8", "--max_seq_length", "32",
                 "--probe_size", "32", "--output_dir", str(out), "--quiet"]) == 0
    assert "[UNK]" not in capsys.readouterr().err
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[-1]["step"] == 3 and all(math.isfinite(r["loss"]) for r in records if r.get("loss") is not None)
    assert main(["eval", "--model_name_or_path", str(out / "model"), "--eval_file", str(sts_zh_rows)]) == 0
    score = json.loads(capsys.readouterr().out)["zh-dev"]
    assert score is not None and math.isfinite(score)
