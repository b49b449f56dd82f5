"""Corpora the model cannot read: the share of [UNK] tokens and unreadable characters,
and the warnings of `simcse train` and `simcse encode` (issue 14, defect 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simcse_core.cli import main
from simcse_core.data import read_sts
from simcse_core.vocab import THRESHOLD, load_tokenizer, run_vocab_report, unknown_share

ZH_STS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sts-b-zh" / "STS-B.train.data"
ZH = ["一架飞机要起飞了。", "一个男人在吹一支大笛子。", "一个人正把切碎的奶酪撒在比萨饼上。", "三个人在下棋。",
      "一个男人在弹大提琴。", "一些人在打篮球。", "一个女人在切洋葱。", "一只猫在床上睡觉。", "两个孩子在草地上玩耍。",
      "一个男人在骑自行车。"] * 3


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("default")


def zh_sentences() -> list[str]:
    if not ZH_STS.is_file():
        return ZH
    return [line.split("\t")[0] for line in ZH_STS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_chinese_sts_is_mostly_unknown_to_the_default_model(tokenizer):
    r = unknown_share(tokenizer, zh_sentences(), sample=2000)
    assert r.unk_token_share > THRESHOLD and r.oov_char_share > THRESHOLD
    assert r.too_many and "Hugging Face or sentence-transformers folder" in r.message
    assert r.examples and all(tokenizer.unk_token_id in tokenizer(c, add_special_tokens=False)["input_ids"]
                              for c in r.examples)
    assert f"{r.unk_token_share:.0%}" in r.message


def test_english_sts_and_the_demo_corpus_are_readable(tokenizer, sts_dev):
    pairs = read_sts(sts_dev)
    r = unknown_share(tokenizer, pairs.sent1 + pairs.sent2)
    assert r.unk_token_share < THRESHOLD and r.oov_char_share < THRESHOLD and not r.too_many and r.message == ""
    assert r.tokens > 1000
    demo = run_vocab_report({"model_name_or_path": "default"})
    assert demo.unk_token_share < 0.01 and demo.message == ""


def test_shares_are_counted_exactly():
    class Toy:  # one token per character; "x" is unknown
        unk_token_id = 0

        def __call__(self, texts, add_special_tokens=False, truncation=False):
            return {"input_ids": [[0 if c == "x" else 1 for c in t if not c.isspace()] for t in texts]}

    r = unknown_share(Toy(), ["ab x", "xxab", "abab"], sample=None)
    assert r.unk_token_share == pytest.approx(3 / 11) and r.oov_char_share == pytest.approx(3 / 11)
    assert r.examples == ("x",) and r.sentences == 3
    none = unknown_share(type("NoUnk", (), {"unk_token_id": None})(), ["anything"])
    assert none.unk_token_share == 0 and none.message == ""


def test_cli_train_and_encode_warn(tiny_model, tmp_path, capsys):
    zh = tmp_path / "zh.txt"
    zh.write_text("\n".join(ZH) + "\n", encoding="utf-8")
    assert main(["train", "--model_name_or_path", tiny_model, "--train_file", str(zh), "--output_dir",
                 str(tmp_path / "run"), "--max_steps", "1", "--per_device_train_batch_size", "4",
                 "--probe_size", "8", "--snapshot_every", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "simcse train: warning:" in err and "unknown token" in err
    assert main(["encode", "--model_name_or_path", tiny_model, "--input", str(zh), "--output",
                 str(tmp_path / "zh.npy")]) == 0
    err = capsys.readouterr().err
    assert "simcse encode: warning:" in err and "Hugging Face" in err
    en = tmp_path / "en.txt"
    en.write_text("a man is playing a guitar\nthree people play chess\na cat sleeps on the bed\n", encoding="utf-8")
    assert main(["encode", "--model_name_or_path", tiny_model, "--input", str(en), "--output",
                 str(tmp_path / "en.npy")]) == 0
    assert "warning" not in capsys.readouterr().err
