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
