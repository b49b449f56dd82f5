"""Tests for simcse_core.data: corpus, triplet and STS readers and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simcse_core.data import (
    Corpus,
    StsPairs,
    near_duplicate_groups,
    normalize_text,
    read_corpus,
    read_senteval_sts,
    read_sts,
    read_sts_dir,
    read_triplets,
)
from simcse_core.errors import DataError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
STSB_DEV = SHARED_DATA / "sts-b" / "sts-dev.csv"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def assert_message(exc: pytest.ExceptionInfo, *fragments: str) -> str:
    """Check the DataError message is one line and contains every fragment."""
    msg = str(exc.value)
    assert "\n" not in msg
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"
    return msg


# ---------------------------------------------------------------------------------------
# Corpus: formats
# ---------------------------------------------------------------------------------------


def test_txt_counts_empty_lines_and_line_numbers(tmp_path: Path) -> None:
    p = write(tmp_path / "c.txt", "  first one  \n\nsecond\n   \t \nthird\n")
    c = read_corpus(p)
    assert c.sentences == ["first one", "second", "third"]
    assert c.lines == [1, 3, 5]
    assert c.n_empty == 2
    assert c.text_column is None
    assert c.columns == {}
    assert c.path == str(p)
    assert len(c) == 3
    assert c.n_duplicates == 0 and c.duplicate_groups == [] and c.n_dropped == 0


def test_unknown_extension_is_one_sentence_a_line_and_crlf(tmp_path: Path) -> None:
    p = write(tmp_path / "c.dat", "a,b,c\r\nd\te\r\n")
    c = read_corpus(p)
    assert c.sentences == ["a,b,c", "d\te"]
    assert c.lines == [1, 2]


def test_utf8_bom_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbftext,topic\nhello,x\nworld,y\n")
    c = read_corpus(p)
    assert c.text_column == "text"
    assert c.sentences == ["hello", "world"]
    assert c.columns == {"topic": ["x", "y"]}


def test_csv_columns_lines_and_quoted_fields(tmp_path: Path) -> None:
    text = (
        "id,Text,topic\n"
        '1,"Hello, world",greeting\n'
        ",,\n"  # empty row
        '2,"a ""quoted"" word",misc\n'
        '3,"spans\ntwo lines",misc\n'
        "4,last one,\n"
    )
    c = read_corpus(write(tmp_path / "c.csv", text))
    assert c.text_column == "Text"  # detected case-insensitively, original spelling kept
    assert c.sentences == ["Hello, world", 'a "quoted" word', "spans\ntwo lines", "last one"]
    assert c.lines == [2, 4, 5, 7]
    assert c.n_empty == 1
    assert c.columns == {"id": ["1", "2", "3", "4"], "topic": ["greeting", "misc", "misc", ""]}


def test_csv_detection_prefers_candidate_order(tmp_path: Path) -> None:
    # 'sentence' comes before 'content' in the candidate list, whatever the column order.
    text = "content,sentence\nlong long long content here,short a\nmore content here,short b\n"
    c = read_corpus(write(tmp_path / "c.csv", text))
    assert c.text_column == "sentence"
    assert c.sentences == ["short a", "short b"]
    assert c.columns == {"content": ["long long long content here", "more content here"]}


def test_csv_detection_falls_back_to_longest_text_column(tmp_path: Path) -> None:
    text = (
        "label,title,body,score\n"
        "1,Cats,Cats are small domesticated carnivorous mammals.,0.5\n"
        "0,Dogs,Dogs were the first species to be domesticated.,1.5\n"
        "1,Owls,,2.5\n"
    )
    c = read_corpus(write(tmp_path / "c.csv", text))
    assert c.text_column == "body"
    assert len(c) == 2
    assert c.n_empty == 1
    assert c.columns["title"] == ["Cats", "Dogs"]
    assert c.columns["score"] == ["0.5", "1.5"]


def test_csv_detection_skips_mostly_numeric_columns(tmp_path: Path) -> None:
    text = "code,name\n1234567890123,ab cd ef\n9876543210987,gh ij kl\n"  # (one-word values: labels)
    c = read_corpus(write(tmp_path / "c.csv", text))
    assert c.text_column == "name"


def test_csv_named_text_column(tmp_path: Path) -> None:
    text = "text,other\nx1,other one\nx2,other two\n"
    c = read_corpus(write(tmp_path / "c.csv", text), text_column="other")
    assert c.text_column == "other"
    assert c.sentences == ["other one", "other two"]
    assert c.columns == {"text": ["x1", "x2"]}


def test_tsv_raw_quotes_kept(tmp_path: Path) -> None:
    text = 'sentence\tgroup\nsay " hi " now\ta\n"odd start\tb\n'
    c = read_corpus(write(tmp_path / "c.tsv", text))
    assert c.text_column == "sentence"
    assert c.sentences == ['say " hi " now', '"odd start']
    assert c.columns == {"group": ["a", "b"]}
    assert c.lines == [2, 3]


def test_jsonl_text_columns_and_blank_lines(tmp_path: Path) -> None:
    rows = [
        {"text": "alpha", "topic": "t1", "n": 3, "flag": True, "tags": ["x"]},
        {"text": "beta", "group": "g"},
        {"text": "   "},
    ]
    body = "\n".join(json.dumps(r) for r in rows[:2]) + "\n\n" + json.dumps(rows[2]) + "\n"
    c = read_corpus(write(tmp_path / "c.jsonl", body))
    assert c.text_column == "text"
    assert c.sentences == ["alpha", "beta"]
    assert c.lines == [1, 2]
    assert c.n_empty == 2  # the blank line and the whitespace-only text
    assert c.columns == {
        "topic": ["t1", ""],
        "n": ["3", ""],
        "flag": ["true", ""],
        "group": ["", "g"],
    }


def test_jsonl_named_field(tmp_path: Path) -> None:
    body = '{"body": "one", "text": "x"}\n{"body": "two", "text": "y"}\n'
    c = read_corpus(write(tmp_path / "c.jsonl", body), text_column="body")
    assert c.sentences == ["one", "two"]
    assert c.columns == {"text": ["x", "y"]}


# ---------------------------------------------------------------------------------------
# Corpus: duplicates and summary
# ---------------------------------------------------------------------------------------

DUP_TEXT = "a\nb\n a \nc\nb\na\n\n"


def test_duplicates_counted_and_grouped(tmp_path: Path) -> None:
    c = read_corpus(write(tmp_path / "d.txt", DUP_TEXT))
    assert c.sentences == ["a", "b", "a", "c", "b", "a"]
    assert c.n_duplicates == 3
    assert c.duplicate_groups == [[0, 2, 5], [1, 4]]
    assert c.n_dropped == 0
    assert c.n_empty == 1
    assert c.summary() == (
        "d.txt: 6 sentences, 1 empty line skipped, 3 exact duplicates "
        "(kept: they become false negatives when they share a batch)"
    )


def test_duplicates_dropped(tmp_path: Path) -> None:
    c = read_corpus(write(tmp_path / "d.txt", DUP_TEXT), drop_duplicates=True)
    assert c.sentences == ["a", "b", "c"]
    assert c.lines == [1, 2, 4]
    assert c.n_duplicates == 3
    assert c.n_dropped == 3
    assert c.duplicate_groups == []
    assert "3 exact duplicates dropped" in c.summary()


def test_duplicates_dropped_keeps_columns_aligned(tmp_path: Path) -> None:
    text = "text,g\nx,1\ny,2\nx,3\nz,4\n"
    c = read_corpus(write(tmp_path / "d.csv", text), drop_duplicates=True)
    assert c.sentences == ["x", "y", "z"]
    assert c.columns == {"g": ["1", "2", "4"]}
    assert c.lines == [2, 3, 5]


def test_summary_csv_format(tmp_path: Path) -> None:
    unique = "".join(f"sentence number {i}\n" for i in range(1548))
    text = "text\n" + unique + "\n\n\n" + "sentence number 7\n" * 12
    c = read_corpus(write(tmp_path / "demo_corpus.csv", text))
    assert len(c) == 1560
    assert c.summary() == (
        "demo_corpus.csv: 1,560 sentences (column 'text'), 3 empty lines skipped, "
        "12 exact duplicates (kept: they become false negatives when they share a batch)"
    )


def test_in_memory_corpus_defaults() -> None:
    c = Corpus(sentences=["x", "y"])
    assert c.lines == [1, 2]
    assert c.summary() == "corpus: 2 sentences"


# ---------------------------------------------------------------------------------------
# Corpus: errors
# ---------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        read_corpus(tmp_path / "nope.txt")
    assert_message(exc, "nope.txt", "no such file")


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "folder.txt"
    d.mkdir()
    with pytest.raises(DataError) as exc:
        read_corpus(d)
    assert_message(exc, "folder.txt", "is a directory, not a file")


def test_binary_file(tmp_path: Path) -> None:
    p = tmp_path / "model.bin"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "model.bin", "looks like a binary file")


def test_not_utf8_names_line(tmp_path: Path) -> None:
    p = tmp_path / "latin1.txt"
    p.write_bytes("first\nsecond\ncaf\u00e9 au lait\nfourth\n".encode("latin-1"))
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "latin1.txt", "line 3", "UTF-8")


def test_empty_file(tmp_path: Path) -> None:
    p = write(tmp_path / "empty.txt", "")
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "empty.txt", "is empty")


def test_blank_only_file_is_empty(tmp_path: Path) -> None:
    p = write(tmp_path / "blank.txt", "\n  \n\n")
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "blank.txt", "is empty")


def test_one_sentence_only(tmp_path: Path) -> None:
    p = write(tmp_path / "one.txt", "only this\n\n")
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "one.txt", "only 1 sentence", "at least 2")


def test_too_few_after_dropping_duplicates(tmp_path: Path) -> None:
    p = write(tmp_path / "same.txt", "x\nx\nx\n")
    assert len(read_corpus(p)) == 3
    with pytest.raises(DataError) as exc:
        read_corpus(p, drop_duplicates=True)
    assert_message(exc, "same.txt", "2 duplicates dropped")
    assert len(read_corpus(p, drop_duplicates=True, min_sentences=1)) == 1


def test_missing_named_column_lists_columns(tmp_path: Path) -> None:
    p = write(tmp_path / "c.csv", "body,topic\nx,1\ny,2\n")
    with pytest.raises(DataError) as exc:
        read_corpus(p, text_column="text")
    assert_message(exc, "c.csv", "'text'", "'body'", "'topic'")


def test_undetectable_text_column(tmp_path: Path) -> None:
    p = write(tmp_path / "nums.csv", "a,b\n1,2\n3,4\n")
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "nums.csv", "text_column", "'a'", "'b'")


def test_csv_wrong_field_count_names_line(tmp_path: Path) -> None:
    p = write(tmp_path / "c.csv", "text,topic\nfine,1\nalso fine,2\ntoo,many,fields\n")
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "c.csv", "line 4", "3 fields")


def test_csv_unclosed_quote_names_line(tmp_path: Path) -> None:
    p = write(tmp_path / "q.csv", 'text,topic\nfine,1\n"broken,2\nnext,3\n')
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "q.csv", "line 3", "quote")


def test_malformed_jsonl_line(tmp_path: Path) -> None:
    p = write(tmp_path / "c.jsonl", '{"text": "ok"}\n{"text": "ok2"}\n{"text": oops}\n')
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "c.jsonl", "line 3", "JSON")


def test_jsonl_missing_field_and_non_object(tmp_path: Path) -> None:
    p = write(tmp_path / "m.jsonl", '{"text": "ok"}\n{"body": "no text"}\n')
    with pytest.raises(DataError) as exc:
        read_corpus(p)
    assert_message(exc, "m.jsonl", "line 2", "'text'", "'body'")
    p2 = write(tmp_path / "n.jsonl", '{"text": "ok"}\n["a list"]\n')
    with pytest.raises(DataError) as exc:
        read_corpus(p2)
    assert_message(exc, "n.jsonl", "line 2")


# ---------------------------------------------------------------------------------------
# Triplets
# ---------------------------------------------------------------------------------------


def test_triplets_with_hard_neg(tmp_path: Path) -> None:
    text = (
        "sent0,sent1,hard_neg\n"
        '"A man, smiling.",A man is happy.,A man is sad.\n'
        "\n"
        "Two dogs run.,Animals move.,Cats sleep.\n"
    )
    t = read_triplets(write(tmp_path / "nli.csv", text))
    assert len(t) == 2
    assert t.sent0 == ["A man, smiling.", "Two dogs run."]
    assert t.sent1 == ["A man is happy.", "Animals move."]
    assert t.hard_neg == ["A man is sad.", "Cats sleep."]
    assert t.lines == [2, 4]
    assert t.path == str(tmp_path / "nli.csv")


def test_triplets_without_hard_neg_tsv_case_insensitive(tmp_path: Path) -> None:
    text = 'SENT0\tSent1\nhe said " yes "\tagreed\nsecond\tpair\n'
    t = read_triplets(write(tmp_path / "pairs.tsv", text))
    assert t.hard_neg is None
    assert t.sent0 == ['he said " yes "', "second"]
    assert t.sent1 == ["agreed", "pair"]


def test_triplets_errors(tmp_path: Path) -> None:
    p = write(tmp_path / "bad.csv", "premise,hypothesis\na,b\nc,d\n")
    with pytest.raises(DataError) as exc:
        read_triplets(p)
    assert_message(exc, "bad.csv", "'sent0'", "'premise'", "'hypothesis'")

    p = write(tmp_path / "empty_s1.csv", "sent0,sent1\na,b\nc,\n")
    with pytest.raises(DataError) as exc:
        read_triplets(p)
    assert_message(exc, "empty_s1.csv", "line 3", "sent1")

    p = write(tmp_path / "empty_hn.csv", "sent0,sent1,hard_neg\na,b,c\nd,e, \n")
    with pytest.raises(DataError) as exc:
        read_triplets(p)
    assert_message(exc, "empty_hn.csv", "line 3", "hard_neg")

    p = write(tmp_path / "width.csv", "sent0,sent1\na,b\nc,d,e\n")
    with pytest.raises(DataError) as exc:
        read_triplets(p)
    assert_message(exc, "width.csv", "line 3")


# ---------------------------------------------------------------------------------------
# STS
# ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not STSB_DEV.is_file(), reason="shared STS-B data not present")
def test_real_stsb_dev() -> None:
    s = read_sts(STSB_DEV)
    assert isinstance(s, StsPairs)
    assert len(s) == 1500
    assert s.name == "sts-dev"
    assert s.n_skipped == 0
    assert s.scores.dtype == np.float64 and s.scores.shape == (1500,)
    assert s.scores.min() >= 0.0 and s.scores.max() <= 5.0
    assert s.sent1[0] == "a man with a hard hat is dancing ."
    assert s.scores[0] == 5.0
    # Line 268 of the file: a sentence with raw double quotes, read intact.
    assert s.sent2[267] == 'a woman is standing by a pillar where " u2 " is written .'
    assert s.scores[267] == pytest.approx(4.2)


def test_stsb_format_extra_fields_and_name(tmp_path: Path) -> None:
    text = (
        'main\tf\t2012\t0001\t4.5\ta " quoted " one .\tanother .\n'
        "main\tf\t2012\t0002\t1\tthird .\tfourth .\textra\tfields\n"
    )
    s = read_sts(write(tmp_path / "sts-mini.csv", text), name="mini")
    assert s.name == "mini"
    assert s.sent1 == ['a " quoted " one .', "third ."]
    assert s.sent2 == ["another .", "fourth ."]
    assert s.scores.tolist() == [4.5, 1.0]


def test_stsb_malformed_score_names_line(tmp_path: Path) -> None:
    text = (
        "g\tf\t2012\t1\t4.5\ta\tb\n"
        "g\tf\t2012\t2\t3.0\tc\td\n"
        "g\tf\t2012\t3\tfive\te\tf\n"
    )
    with pytest.raises(DataError) as exc:
        read_sts(write(tmp_path / "sts-bad.csv", text))
    assert_message(exc, "sts-bad.csv", "line 3", "'five'")


def test_generic_sts_csv(tmp_path: Path) -> None:
    text = (
        "id,Sentence1,sentence2,Score\n"
        '1,"A cat, sitting.",A cat sits.,4.8\n'
        "2,A dog.,A car.,0.2\n"
        "3,No score.,Here.,\n"
    )
    s = read_sts(write(tmp_path / "my_pairs.csv", text))
    assert s.name == "my_pairs"
    assert s.sent1 == ["A cat, sitting.", "A dog."]
    assert s.sent2 == ["A cat sits.", "A car."]
    assert s.scores.tolist() == [4.8, 0.2]
    assert s.n_skipped == 1


def test_generic_sts_tsv_sent1_label(tmp_path: Path) -> None:
    text = 'sent1\tsent2\tlabel\nsay " x\ty\t1\nz\tw\t0\n'
    s = read_sts(write(tmp_path / "p.tsv", text))
    assert s.sent1 == ['say " x', "z"]
    assert s.scores.tolist() == [1.0, 0.0]


def test_generic_sts_errors(tmp_path: Path) -> None:
    p = write(tmp_path / "nan.csv", "sentence1,sentence2,score\na,b,1\nc,d,nan\n")
    with pytest.raises(DataError) as exc:
        read_sts(p)
    assert_message(exc, "nan.csv", "line 3")

    p = write(tmp_path / "cols.csv", "first,second,sim\na,b,1\nc,d,2\n")
    with pytest.raises(DataError) as exc:
        read_sts(p)
    assert_message(exc, "cols.csv", "'first'", "'sim'")

    p = write(tmp_path / "one.csv", "sentence1,sentence2,score\na,b,1\n")
    with pytest.raises(DataError) as exc:
        read_sts(p)
    assert_message(exc, "one.csv", "at least 2")


def _senteval(folder: Path, key: str, inputs: str, golds: str) -> Path:
    write(folder / f"STS.gs.{key}.txt", golds)
    return write(folder / f"STS.input.{key}.txt", inputs)


def test_senteval_sts_skips_missing_gold(tmp_path: Path) -> None:
    inp = _senteval(
        tmp_path,
        "headlines",
        'a man runs .\ta man is running .\nno gold\there\nsaid " no "\trefused\n',
        "4.2\n\n1\n",
    )
    s = read_senteval_sts(inp, tmp_path / "STS.gs.headlines.txt")
    assert s.name == "headlines"
    assert len(s) == 2
    assert s.n_skipped == 1
    assert s.sent1 == ["a man runs .", 'said " no "']
    assert s.sent2 == ["a man is running .", "refused"]
    assert s.scores.tolist() == [4.2, 1.0]
    # read_sts finds the gold file beside an STS.input file.
    s2 = read_sts(inp)
    assert s2.sent1 == s.sent1 and s2.n_skipped == 1 and s2.name == "headlines"


def test_senteval_sts_errors(tmp_path: Path) -> None:
    inp = _senteval(tmp_path, "mismatch", "a\tb\nc\td\ne\tf\n", "1\n2\n")
    with pytest.raises(DataError) as exc:
        read_sts(inp)
    assert_message(exc, "STS.input.mismatch.txt", "STS.gs.mismatch.txt")

    inp = _senteval(tmp_path, "badgold", "a\tb\nc\td\n", "1\nhigh\n")
    with pytest.raises(DataError) as exc:
        read_sts(inp)
    assert_message(exc, "STS.gs.badgold.txt", "line 2", "'high'")

    inp = _senteval(tmp_path, "notab", "a\tb\nc d\n", "1\n2\n")
    with pytest.raises(DataError) as exc:
        read_sts(inp)
    assert_message(exc, "STS.input.notab.txt", "line 2")


def test_read_sts_dir(tmp_path: Path) -> None:
    _senteval(tmp_path, "b-set", "a\tb\nc\td\n", "1\n2\n")
    _senteval(tmp_path, "a-set", "e\tf\ng\th\ni\tj\n", "0\n\n5\n")
    write(tmp_path / "README.txt", "not an sts file\n")
    result = read_sts_dir(tmp_path)
    assert list(result) == ["a-set", "b-set"]
    assert len(result["a-set"]) == 2 and result["a-set"].n_skipped == 1
    assert result["b-set"].scores.tolist() == [1.0, 2.0]

    lonely = tmp_path / "lonely"
    lonely.mkdir()
    write(lonely / "STS.input.x.txt", "a\tb\nc\td\n")
    with pytest.raises(DataError) as exc:
        read_sts_dir(lonely)
    assert_message(exc, "STS.input.x.txt", "STS.gs.x.txt")

    with pytest.raises(DataError) as exc:
        read_sts_dir(tmp_path / "absent")
    assert_message(exc, "absent")


# ---------------------------------------------------------------------------------------
# Normalisation and near duplicates
# ---------------------------------------------------------------------------------------


def test_normalize_text() -> None:
    assert normalize_text("  Hello,   World!  ") == "hello world"
    assert normalize_text("a man is dancing .") == normalize_text("A man is dancing.")
    assert normalize_text("well-known \u201cquotes\u201d") == "well known quotes"
    assert normalize_text("tab\tand\nnewline") == "tab and newline"
    assert normalize_text("\uff21\uff22\u00a0c") == "ab c"  # full-width letters, NBSP
    assert normalize_text("price $5 + 3") == "price $5 + 3"  # symbols are not punctuation


def test_near_duplicate_groups() -> None:
    sentences = [
        "A man is dancing.",
        "Something else",
        "a man is dancing .",
        "something else!",
        "unique",
        "A MAN, is dancing",
    ]
    assert near_duplicate_groups(sentences) == [[0, 2, 5], [1, 3]]
    assert near_duplicate_groups(["x", "y"]) == []
    assert near_duplicate_groups([]) == []
