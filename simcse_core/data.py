"""Reading the engine's input files: corpora, supervised triplets and STS pairs.

Every reader checks the file first (exists, is a file, is text, is UTF-8, is not
empty) and turns anything that goes wrong into a :class:`~simcse_core.errors.DataError`
whose one-line message names the file and, where it helps, the 1-based line. No raw
``UnicodeDecodeError``, ``csv.Error``, ``KeyError`` or JSON error escapes.

Formats:

- corpus (:func:`read_corpus`): ``.txt`` (one sentence a line; also any unknown
  extension), ``.csv`` / ``.tsv`` with a header row, ``.jsonl`` (one object a line).
- triplets (:func:`read_triplets`): supervised SimCSE's NLI csv/tsv with the header
  ``sent0,sent1[,hard_neg]``.
- STS pairs (:func:`read_sts`, :func:`read_senteval_sts`, :func:`read_sts_dir`):
  SentEval's STS-B files, a generic csv/tsv with ``sentence1,sentence2,score``, or
  SentEval's STS12-16 ``STS.input.<x>.txt`` / ``STS.gs.<x>.txt`` pairs.

This module never imports Qt.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from .errors import DataError
from .messages import Msg, alternatives, plural, series

PathLike = Union[str, "os.PathLike[str]"]
"""A file path: a ``str`` or a :class:`pathlib.Path` (any ``os.PathLike``)."""

# Column names taken as the text column of a csv/tsv/jsonl corpus, in order of preference
# (compared case-insensitively).
TEXT_COLUMN_CANDIDATES: tuple[str, ...] = ("text", "sentence", "sent0", "sentence1", "content")

# A column guessed as the text column (not named) is refused when it holds at most this
# many distinct values, none longer than LABEL_MAX_WORDS words: class labels, not sentences.
LABEL_MAX_DISTINCT = 20
LABEL_MAX_WORDS = 2

_BINARY_PROBE_BYTES = 8192
_UTF8_BOM = b"\xef\xbb\xbf"
_STS_INPUT_RE = re.compile(r"^STS\.input\.(.+)\.txt$")


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------


def _fail(path: PathLike, message: str | Msg, line: int | None = None, /, **values: Any) -> DataError:
    """Build a one-line DataError naming ``path`` (and ``line`` when given): ``message``
    is a template filled with ``values`` (see :mod:`simcse_core.messages`)."""
    what = (message if isinstance(message, Msg) else Msg(message, **values)).one_line()
    if line is not None:
        return DataError("{where}, line {line}: {message}", where=os.fspath(path), line=line, message=what)
    return DataError("{where}: {message}", where=os.fspath(path), message=what)


def _read_text(path: PathLike) -> str:
    """Return the decoded text of ``path`` (BOM removed) after the common checks."""
    p = Path(path)
    if not p.exists():
        raise _fail(path, "no such file")
    if p.is_dir():
        raise _fail(path, "is a directory, not a file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise _fail(path, "cannot be read ({error})", error=str(e.strerror or e)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(path, "is UTF-16 encoded; save it as UTF-8")
    if b"\x00" in data[:_BINARY_PROBE_BYTES]:
        raise _fail(path, "looks like a binary file (it contains NUL bytes), not a text file")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    if not data:
        raise _fail(path, "is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = data[e.start:e.start + 1].hex()
        raise _fail(path, "is not valid UTF-8 (byte 0x{byte}); save the file as UTF-8", line, byte=bad) from None
    if not text.strip():
        raise _fail(path, "is empty (only blank lines)")
    return text


def _lines(text: str) -> list[str]:
    """Split ``text`` into lines the way the csv module counts them (\\n, \\r\\n, \\r)."""
    return [ln.rstrip("\r\n") for ln in io.StringIO(text, newline="")]


def _csv_records(
    path: PathLike, text: str, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first line number, fields)`` for each csv record of ``text``.

    Tab-separated text is read with ``QUOTE_NONE`` (SentEval-style tsv files hold raw
    ``"``); comma-separated text with the csv module's usual quoting. Blank lines come
    out as empty lists.
    """
    if delimiter == "\t":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise _fail(path, "cannot be parsed as csv ({error})", start, error=str(e)) from None
        yield start, row


def _delimiter_for(path: PathLike, first_line: str | None = None) -> str:
    """Tab for ``.tsv``; comma for ``.csv``; otherwise guess from the header line."""
    suffix = Path(path).suffix.lower()
    if suffix == ".tsv":
        return "\t"
    if suffix == ".csv":
        return ","
    if first_line is not None and "\t" in first_line:
        return "\t"
    return ","


def _header(path: PathLike, records: Iterator[tuple[int, list[str]]]) -> list[str]:
    """Consume and return the header row (leading blank lines skipped)."""
    for line, row in records:
        if not row or not any(cell.strip() for cell in row):
            continue
        names = []
        for i, cell in enumerate(row):
            name = cell.strip()
            names.append(name if name else f"column{i + 1}")
        lowered = [n.lower() for n in names]
        for n in names:
            if lowered.count(n.lower()) > 1:
                raise _fail(path, "the header names column {name!r} twice", line, name=n)
        return names
    raise _fail(path, "has no header row")


def _check_width(
    path: PathLike, line: int, row: list[str], header: list[str]
) -> None:
    """Raise when ``row`` does not have as many fields as ``header``."""
    if len(row) != len(header):
        count = plural(len(row), "{n:,} field", "{n:,} fields")
        if any("\n" in cell or "\r" in cell for cell in row):
            raise _fail(path, 'has {count}, but the header has {width} (an unmatched " quote?)', line,
                        count=count, width=len(header))
        raise _fail(path, "has {count}, but the header has {width}", line, count=count, width=len(header))


def _find_column(names: Sequence[str], wanted: str) -> int | None:
    """Index of ``wanted`` in ``names``: exact match first, then case-insensitive."""
    if wanted in names:
        return list(names).index(wanted)
    lowered = [n.lower() for n in names]
    if wanted.lower() in lowered:
        return lowered.index(wanted.lower())
    return None


def _columns_list(names: Iterable[str]) -> str | Msg:
    return ", ".join(repr(n) for n in names) or Msg("(none)")


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _parse_score(path: PathLike, raw: str, line: int) -> float:
    """Parse a gold score; DataError when it is not a finite float."""
    try:
        value = float(raw)
    except ValueError:
        raise _fail(path, "score {score!r} is not a number", line, score=raw.strip()) from None
    if not math.isfinite(value):
        raise _fail(path, "score {score!r} is not a finite number", line, score=raw.strip())
    return value


# ---------------------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------------------


def normalize_text(s: str) -> str:
    """Lower-case ``s``, replace punctuation (Unicode categories ``P*``) with spaces and
    collapse whitespace; used to find near-duplicate sentences.

    The text is NFKC-normalised first, so full-width letters and non-breaking spaces
    compare equal to their plain forms. ``"Hello, World!"`` -> ``"hello world"``.
    """
    s = unicodedata.normalize("NFKC", s).lower()
    s = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in s)
    return " ".join(s.split())


def near_duplicate_groups(sentences: Sequence[str]) -> list[list[int]]:
    """Groups (size >= 2) of indices into ``sentences`` whose :func:`normalize_text` is
    equal, in order of each group's first index; indices ascend within a group."""
    by_key: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        by_key.setdefault(normalize_text(s), []).append(i)
    return [idx for idx in by_key.values() if len(idx) >= 2]


# ---------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------


@dataclass
class Corpus:
    """Sentences for unsupervised training, with what was learned while reading them.

    - ``sentences``: the kept sentences (stripped of surrounding whitespace), file order.
    - ``path``: the file read, or ``None`` for an in-memory corpus.
    - ``text_column``: the csv/tsv/jsonl column the text came from (``None`` for .txt).
    - ``columns``: every other column of csv/tsv/jsonl rows, aligned with
      ``sentences``; values are strings (``""`` when missing).
    - ``lines``: 1-based source line of each kept sentence (for a csv record spanning
      several lines, its first line). Defaults to 1..n when not given.
    - ``n_empty``: empty / whitespace-only rows skipped.
    - ``n_duplicates``: rows that exactly repeat an earlier sentence, counted whether or
      not they were dropped.
    - ``duplicate_groups``: for each sentence occurring more than once in ``sentences``,
      the ascending indices of its copies (empty when duplicates were dropped).
    - ``n_dropped``: duplicates removed because ``drop_duplicates=True``.
    """

    sentences: list[str] = field(repr=False)
    path: str | None = None
    text_column: str | None = None
    columns: dict[str, list[str]] = field(default_factory=dict, repr=False)
    lines: list[int] = field(default_factory=list, repr=False)
    n_empty: int = 0
    n_duplicates: int = 0
    duplicate_groups: list[list[int]] = field(default_factory=list, repr=False)
    n_dropped: int = 0

    def __post_init__(self) -> None:
        if not self.lines and self.sentences:
            self.lines = list(range(1, len(self.sentences) + 1))

    def __len__(self) -> int:
        """Number of kept sentences."""
        return len(self.sentences)

    def summary(self) -> str:
        """One line for a person, e.g. ``"demo_corpus.csv: 1,560 sentences (column
        'text'), 3 empty lines skipped, 12 exact duplicates (kept: they become false
        negatives when they share a batch)"``."""
        return str(self.summary_msg())

    def summary_msg(self) -> Msg | str:
        """:meth:`summary` as a message the studio can show in its language."""
        name = Path(self.path).name if self.path else Msg("corpus")
        count = _sentences(len(self.sentences))
        if self.text_column is not None:
            head = Msg("{name}: {count} (column {column!r})", name=name, count=count, column=self.text_column)
        else:
            head = Msg("{name}: {count}", name=name, count=count)
        parts: list[Msg | str] = [head]
        if self.n_empty:
            parts.append(_skipped_empty(self.n_empty))
        if self.n_duplicates:
            dup = plural(self.n_duplicates, "{n:,} exact duplicate", "{n:,} exact duplicates")
            if self.n_dropped:
                parts.append(Msg("{count} dropped", count=dup))
            else:
                parts.append(Msg("{count} (kept: they become false negatives when they share a batch)", count=dup))
        return series(parts)


def _sentences(n: int) -> Msg:
    return plural(n, "{n:,} sentence", "{n:,} sentences")


def _skipped_empty(n: int) -> Msg:
    return Msg("{count} skipped", count=plural(n, "{n:,} empty line", "{n:,} empty lines"))


def _finish_corpus(
    path: PathLike,
    raw: list[tuple[int, str, dict[str, str]]],
    column_names: list[str],
    text_column: str | None,
    n_empty: int,
    drop_duplicates: bool,
    min_sentences: int,
) -> Corpus:
    """Count/group/drop duplicates over ``(line, sentence, other columns)`` rows and
    check that enough sentences remain."""
    seen: dict[str, list[int]] = {}
    sentences: list[str] = []
    lines: list[int] = []
    columns: dict[str, list[str]] = {name: [] for name in column_names}
    n_duplicates = 0
    for line, sentence, extra in raw:
        if sentence in seen:
            n_duplicates += 1
            if drop_duplicates:
                continue
            seen[sentence].append(len(sentences))
        else:
            seen[sentence] = [len(sentences)]
        sentences.append(sentence)
        lines.append(line)
        for name in column_names:
            columns[name].append(extra.get(name, ""))
    groups = [] if drop_duplicates else [idx for idx in seen.values() if len(idx) > 1]
    n_dropped = n_duplicates if drop_duplicates else 0
    if len(sentences) < min_sentences:
        notes: list[Msg | str] = []
        if n_empty:
            notes.append(_skipped_empty(n_empty))
        if n_dropped:
            notes.append(Msg("{count} dropped", count=plural(n_dropped, "{n:,} duplicate", "{n:,} duplicates")))
        if notes:
            raise _fail(path, "has only {count} ({notes}); at least {needed} are needed",
                        count=_sentences(len(sentences)), notes=series(notes), needed=min_sentences)
        raise _fail(path, "has only {count}; at least {needed} are needed",
                    count=_sentences(len(sentences)), needed=min_sentences)
    return Corpus(
        sentences=sentences,
        path=os.fspath(path),
        text_column=text_column,
        columns=columns,
        lines=lines,
        n_empty=n_empty,
        n_duplicates=n_duplicates,
        duplicate_groups=groups,
        n_dropped=n_dropped,
    )


def _detect_text_column(
    path: PathLike, header: list[str], rows: list[tuple[int, list[str]]]
) -> int:
    """Pick the text column: a well-known name, else the longest mostly-text column."""
    lowered = [n.lower() for n in header]
    for cand in TEXT_COLUMN_CANDIDATES:
        if cand in lowered:
            return lowered.index(cand)
    best, best_len = -1, -1.0
    for j in range(len(header)):
        values = [row[j].strip() for _, row in rows if row[j].strip()]
        if not values:
            continue
        numeric = sum(1 for v in values if _is_number(v))
        if numeric * 2 >= len(values):
            continue
        mean_len = sum(len(v) for v in values) / len(values)
        if mean_len > best_len:
            best, best_len = j, mean_len
    if best < 0:
        raise _fail(path, "cannot tell which column holds the text (columns: {columns}); name it with text_column",
                    columns=_columns_list(header))
    distinct = sorted({row[best].strip() for _, row in rows if row[best].strip()})
    if _looks_like_labels(distinct):
        shown = ", ".join(repr(v) for v in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
        raise _fail(path, "has no text column: column {column!r} looks like labels ({count}: {shown}); if it "
                    "really holds the text, name it with text_column (columns: {columns})",
                    column=header[best], shown=shown, columns=_columns_list(header),
                    count=plural(len(distinct), "{n:,} distinct short value", "{n:,} distinct short values"))
    return best


def _looks_like_labels(distinct: Sequence[str]) -> bool:
    return len(distinct) <= LABEL_MAX_DISTINCT and all(len(v.split()) <= LABEL_MAX_WORDS for v in distinct)


def _read_corpus_csv(
    path: PathLike, text: str, delimiter: str, text_column: str | None
) -> tuple[list[tuple[int, str, dict[str, str]]], list[str], str, int]:
    records = _csv_records(path, text, delimiter)
    header = _header(path, records)
    rows: list[tuple[int, list[str]]] = []
    n_empty = 0
    for line, row in records:
        if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
            n_empty += 1
            continue
        _check_width(path, line, row, header)
        rows.append((line, row))
    if text_column is not None:
        j = _find_column(header, text_column)
        if j is None:
            raise _fail(path, "has no column {column!r}; available columns: {columns}",
                        column=text_column, columns=_columns_list(header))
    else:
        j = _detect_text_column(path, header, rows)
    others = [(k, name) for k, name in enumerate(header) if k != j]
    raw: list[tuple[int, str, dict[str, str]]] = []
    for line, row in rows:
        sentence = row[j].strip()
        if not sentence:
            n_empty += 1
            continue
        raw.append((line, sentence, {name: row[k].strip() for k, name in others}))
    return raw, [name for _, name in others], header[j], n_empty


def _scalar_str(value: object) -> str | None:
    """String form of a JSON scalar; ``None`` for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _read_corpus_jsonl(
    path: PathLike, text: str, text_column: str | None
) -> tuple[list[tuple[int, str, dict[str, str]]], list[str], str, int]:
    key = text_column
    raw: list[tuple[int, str, dict[str, str]]] = []
    column_names: dict[str, None] = {}
    n_empty = 0
    for line, content in enumerate(_lines(text), start=1):
        if not content.strip():
            n_empty += 1
            continue
        try:
            obj = json.loads(content)
        except json.JSONDecodeError as e:
            raise _fail(path, "is not valid JSON ({error}, column {column})", line, error=e.msg, column=e.colno) from None
        except RecursionError:
            raise _fail(path, "is not valid JSON (nested too deeply)", line) from None
        if not isinstance(obj, dict):
            raise _fail(path, "holds a JSON {kind}, not an object", line, kind=type(obj).__name__)
        if key is None:
            # The first object decides: 'text', else another well-known name.
            key = "text"
            lowered = {str(k).lower(): k for k in obj}
            for cand in TEXT_COLUMN_CANDIDATES:
                if cand in lowered:
                    key = lowered[cand]
                    break
        if key not in obj:
            raise _fail(path, "has no field {key!r}; its fields: {fields}", line, key=key, fields=_columns_list(obj.keys()))
        value = obj[key]
        if isinstance(value, (list, dict)):
            raise _fail(path, "field {key!r} is a JSON {kind}, not text", line, key=key, kind=type(value).__name__)
        sentence = (_scalar_str(value) or "").strip()
        if not sentence:
            n_empty += 1
            continue
        extra: dict[str, str] = {}
        for k, v in obj.items():
            if k == key:
                continue
            s = _scalar_str(v)
            if s is not None:
                extra[k] = s.strip()
                column_names.setdefault(k, None)
        raw.append((line, sentence, extra))
    return raw, list(column_names), key or "text", n_empty


def read_corpus(
    path: PathLike,
    text_column: str | None = None,
    drop_duplicates: bool = False,
    min_sentences: int = 2,
) -> Corpus:
    """Read a training corpus.

    ``.csv`` / ``.tsv`` need a header row; the text column is ``text_column`` or the
    first of ``text``, ``sentence``, ``sent0``, ``sentence1``, ``content`` present
    (case-insensitive), else the mostly non-numeric column with the longest mean
    length. ``.jsonl`` holds one object a line with the text in ``text_column`` or
    ``text``. A guessed (not named) column that looks like class labels (at most 20
    distinct values of one or two words) is refused: name it to use it anyway. Anything
    else is one sentence a line. Sentences are stripped; empty rows
    are skipped and counted; exact duplicates are counted and grouped, and removed when
    ``drop_duplicates`` is true.

    Raises :class:`DataError` (naming the file and line) on any problem, including
    fewer than ``min_sentences`` sentences left.
    """
    text = _read_text(path)
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv"):
        raw, names, col, n_empty = _read_corpus_csv(
            path, text, "\t" if suffix == ".tsv" else ",", text_column
        )
    elif suffix == ".jsonl":
        raw, names, col, n_empty = _read_corpus_jsonl(path, text, text_column)
    else:
        raw, names, n_empty = [], [], 0
        col = None
        for line, content in enumerate(_lines(text), start=1):
            sentence = content.strip()
            if sentence:
                raw.append((line, sentence, {}))
            else:
                n_empty += 1
    return _finish_corpus(path, raw, names, col, n_empty, drop_duplicates, min_sentences)


def default_corpus_path() -> Path:
    """The demo corpus shipped in the ``resources`` package (``demo_corpus.csv``)."""
    import resources  # the repository's top-level data package; imported lazily

    return Path(resources.__file__).parent / "demo_corpus.csv"


def load_default_corpus(**kw: object) -> Corpus:
    """``read_corpus(default_corpus_path(), **kw)``."""
    return read_corpus(default_corpus_path(), **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RunSentences:
    """The sentences one training run uses, numbered as the trainer numbers them.

    - ``by_id``: corpus id -> sentence (the ids in ``Snapshot.batch_ids`` and
      ``probe_ids``): the corpus's sentences (unsup), or each row's ``sent0`` (sup).
    - ``extra``: sentences the run also trains on that have no corpus id of their own
      (sup: ``sent1`` and ``hard_neg``); empty for unsupervised runs.
    - ``columns``: the corpus's label columns, aligned with ``by_id`` (unsup only).
    - ``summary``: one line for the person (counts, duplicates, the file's name).
    """

    by_id: list[str]
    extra: list[str]
    columns: dict[str, list[str]]
    summary: str

    @property
    def all_texts(self) -> list[str]:
        """Every sentence the run trains on (``by_id`` then ``extra``)."""
        return self.by_id + self.extra


def run_sentences(config: Any) -> RunSentences:
    """The one answer to "which sentences does this run use": from a
    :class:`~simcse_core.config.TrainConfig` or its dict (``mode``, ``train_file``,
    ``text_column``, ``drop_duplicates``). No file means the demo corpus. Raises
    :class:`DataError` naming the file, as the readers do."""
    get = config.get if isinstance(config, dict) else (lambda k, d=None: getattr(config, k, d))
    mode = get("mode", "unsup") or "unsup"
    train_file = get("train_file", None)
    if mode == "sup":
        if not train_file:
            raise DataError("supervised mode needs a csv with sent0,sent1[,hard_neg] (config field 'train_file')")
        tr = read_triplets(train_file)
        extra = list(tr.sent1) + (list(tr.hard_neg) if tr.hard_neg else [])
        summary = f"{Path(train_file).name}: {len(tr):,} supervised rows" + (" with hard negatives" if tr.hard_neg else "")
        return RunSentences(list(tr.sent0), extra, {}, summary)
    corpus = read_corpus(train_file or default_corpus_path(), text_column=get("text_column", None),
                         drop_duplicates=bool(get("drop_duplicates", False)))
    return RunSentences(list(corpus.sentences), [], {k: list(v) for k, v in corpus.columns.items()}, corpus.summary())


# ---------------------------------------------------------------------------------------
# Triplets (supervised SimCSE)
# ---------------------------------------------------------------------------------------


@dataclass
class Triplets:
    """Supervised SimCSE rows: anchor ``sent0``, positive ``sent1`` and, when the file
    has the column, a hard negative ``hard_neg`` (else ``None``); ``lines`` holds each
    row's 1-based source line."""

    sent0: list[str] = field(repr=False)
    sent1: list[str] = field(repr=False)
    hard_neg: list[str] | None = field(repr=False)
    path: str | None
    lines: list[int] = field(repr=False)

    def __len__(self) -> int:
        """Number of rows."""
        return len(self.sent0)


def read_triplets(path: PathLike) -> Triplets:
    """Read supervised SimCSE's NLI csv (or tsv) with header ``sent0,sent1[,hard_neg]``
    (names case-insensitive, other columns ignored, blank lines skipped).

    Raises :class:`DataError` naming the file (and line) when a column is missing, a
    row has the wrong number of fields or an empty ``sent0`` / ``sent1`` / ``hard_neg``,
    or fewer than 2 rows remain.
    """
    text = _read_text(path)
    first = next((ln for ln in _lines(text) if ln.strip()), "")
    records = _csv_records(path, text, _delimiter_for(path, first))
    header = _header(path, records)
    lowered = [n.lower() for n in header]
    missing = [c for c in ("sent0", "sent1") if c not in lowered]
    if missing:
        raise _fail(path, "has no column {column} (a triplet file needs sent0,sent1[,hard_neg]); available "
                    "columns: {columns}", column=alternatives([repr(m) for m in missing]),
                    columns=_columns_list(header))
    i0, i1 = lowered.index("sent0"), lowered.index("sent1")
    ih = lowered.index("hard_neg") if "hard_neg" in lowered else None
    sent0: list[str] = []
    sent1: list[str] = []
    hard: list[str] = []
    lines: list[int] = []
    for line, row in records:
        if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
            continue
        _check_width(path, line, row, header)
        wanted = [("sent0", i0), ("sent1", i1)] + ([("hard_neg", ih)] if ih is not None else [])
        values = []
        for name, k in wanted:
            v = row[k].strip()
            if not v:
                raise _fail(path, "{column} is empty", line, column=name)
            values.append(v)
        sent0.append(values[0])
        sent1.append(values[1])
        if ih is not None:
            hard.append(values[2])
        lines.append(line)
    if len(sent0) < 2:
        raise _fail(path, "has only {count}; at least 2 are needed", count=plural(len(sent0), "{n:,} row", "{n:,} rows"))
    return Triplets(
        sent0=sent0,
        sent1=sent1,
        hard_neg=hard if ih is not None else None,
        path=os.fspath(path),
        lines=lines,
    )


# ---------------------------------------------------------------------------------------
# STS pairs
# ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class StsPairs:
    """Sentence pairs with gold similarity scores (``scores``: float64, shape (n,)).

    ``name`` labels the set in reports (the file stem, or ``<x>`` for SentEval's
    ``STS.input.<x>.txt``); ``n_skipped`` counts pairs left out for lack of a gold
    score. Equality is identity (``scores`` is an array); the repr omits the data."""

    sent1: list[str] = field(repr=False)
    sent2: list[str] = field(repr=False)
    scores: np.ndarray = field(repr=False)
    path: str | None
    name: str
    n_skipped: int = 0

    def __len__(self) -> int:
        """Number of scored pairs."""
        return len(self.sent1)


def _make_pairs(
    path: PathLike,
    name: str,
    s1: list[str],
    s2: list[str],
    scores: list[float],
    n_skipped: int,
) -> StsPairs:
    if len(s1) < 2:
        count = plural(len(s1), "{n:,} scored pair", "{n:,} scored pairs")
        if n_skipped:
            raise _fail(path, "has only {count} ({skipped} without a gold score skipped); at least 2 are needed",
                        count=count, skipped=plural(n_skipped, "{n:,} pair", "{n:,} pairs"))
        raise _fail(path, "has only {count}; at least 2 are needed", count=count)
    return StsPairs(
        sent1=s1,
        sent2=s2,
        scores=np.asarray(scores, dtype=np.float64),
        path=os.fspath(path),
        name=name,
        n_skipped=n_skipped,
    )


def _is_stsb_line(line: str) -> bool:
    fields = line.split("\t")
    return len(fields) >= 7 and _is_number(fields[4])


def _pairs_from(path: PathLike, name: str, rows: Iterable[tuple[int, str, str, str]],
                empty: Callable[[bool], str] = lambda first: f"sentence{1 if first else 2}") -> StsPairs:
    """STS pairs from ``(line, raw score, sentence1, sentence2)`` rows: a row with no
    score is skipped (counted), an empty sentence is an error naming the line
    (``empty(first)`` names the column)."""
    s1: list[str] = []
    s2: list[str] = []
    scores: list[float] = []
    n_skipped = 0
    for line, raw_score, a, b in rows:
        if not raw_score:
            n_skipped += 1
            continue
        score = _parse_score(path, raw_score, line)
        if not a or not b:
            raise _fail(path, "{column} is empty", line, column=empty(not a))
        s1.append(a)
        s2.append(b)
        scores.append(score)
    return _make_pairs(path, name, s1, s2, scores, n_skipped)


def _tab_rows(path: PathLike, text: str, width: int, what: Msg,
              pick: Callable[[list[str]], tuple[str, str, str]]) -> Iterator[tuple[int, str, str, str]]:
    """(line, score, sentence1, sentence2) of each non-blank tab-separated line with at
    least (``width`` > 0) or exactly (``width`` < 0) ``abs(width)`` fields."""
    for line, content in enumerate(_lines(text), start=1):
        if not content.strip():
            continue
        fields = content.split("\t")
        if (len(fields) < width) if width > 0 else (len(fields) != -width):
            raise _fail(path, "has {count}; {expected}", line, expected=what,
                        count=plural(len(fields), "{n:,} tab-separated field", "{n:,} tab-separated fields"))
        score, a, b = pick(fields)
        yield line, score.strip(), a.strip(), b.strip()


def _read_stsb(path: PathLike, text: str, name: str) -> StsPairs:
    """SentEval's STS-B: genre, file, year, id, score, sentence1, sentence2 (tab, no
    header, no quoting); extra trailing fields are ignored."""
    what = Msg("STS-B lines have 7 (genre, file, year, id, score, sentence1, sentence2)")
    return _pairs_from(path, name, _tab_rows(path, text, 7, what, lambda f: (f[4], f[5], f[6])))


def _is_pair_score_line(line: str) -> bool:
    fields = line.split("\t")
    return len(fields) == 3 and _is_number(fields[2].strip()) and bool(fields[0].strip()) and bool(fields[1].strip())


def _read_pair_score(path: PathLike, text: str, name: str) -> StsPairs:
    """sentence1, sentence2, score a line (tab, no header, no quoting): e.g. the Chinese
    STS-B of text2vec (``STS-B.valid.data``)."""
    what = Msg("expected 3 (sentence1, sentence2, score)")
    return _pairs_from(path, name, _tab_rows(path, text, -3, what, lambda f: (f[2], f[0], f[1])))


def _read_sts_table(path: PathLike, text: str, name: str) -> StsPairs:
    """A csv/tsv with a header naming sentence1/sent1, sentence2/sent2, score/label."""
    first = next((ln for ln in _lines(text) if ln.strip()), "")
    records = _csv_records(path, text, _delimiter_for(path, first))
    header = _header(path, records)
    lowered = [n.lower() for n in header]

    def pick(*names: str) -> int | None:
        for n in names:
            if n in lowered:
                return lowered.index(n)
        return None

    i1, i2, isc = pick("sentence1", "sent1"), pick("sentence2", "sent2"), pick("score", "label")
    if i1 is None or i2 is None or isc is None:
        raise _fail(path, "is not a recognised STS file: expected SentEval STS-B lines (genre, file, year, id, "
                    "score, sentence1, sentence2) or a header with sentence1, sentence2, score; available "
                    "columns: {columns}", columns=_columns_list(header))

    def rows() -> Iterator[tuple[int, str, str, str]]:
        for line, row in records:
            if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                continue
            _check_width(path, line, row, header)
            yield line, row[isc].strip(), row[i1].strip(), row[i2].strip()

    return _pairs_from(path, name, rows(), empty=lambda first: header[i1] if first else header[i2])


def read_sts(path: PathLike, name: str | None = None) -> StsPairs:
    """Read an STS evaluation file, detecting its format:

    1. SentEval STS-B (``sts-dev.csv`` ...): tab-separated, no header, no quoting; the
       first line has >= 7 fields and field 5 is a number. Score is field 5, the
       sentences fields 6 and 7; extra fields are ignored.
    2. A csv/tsv whose header names ``sentence1``/``sent1``, ``sentence2``/``sent2`` and
       ``score``/``label`` (case-insensitive).
    3. ``STS.input.<x>.txt``: read with the ``STS.gs.<x>.txt`` beside it
       (:func:`read_senteval_sts`).
    4. Tab-separated ``sentence1, sentence2, score`` lines without a header (the first
       line has exactly 3 fields and the third is a number), e.g. the Chinese STS-B
       (``STS-B.valid.data``). Any language: the text is read as UTF-8.

    Rows without a gold score are skipped and counted in ``n_skipped``. ``name``
    defaults to the file stem (``<x>`` for ``STS.input.<x>.txt``). Raises
    :class:`DataError` naming the file and line on malformed input.
    """
    p = Path(path)
    m = _STS_INPUT_RE.match(p.name)
    if m:
        gs = p.with_name(f"STS.gs.{m.group(1)}.txt")
        return read_senteval_sts(path, gs, name=name or m.group(1))
    text = _read_text(path)
    label = name or p.stem
    first = next((ln for ln in _lines(text) if ln.strip()), "")
    if _is_stsb_line(first):
        return _read_stsb(path, text, label)
    if _is_pair_score_line(first):
        return _read_pair_score(path, text, label)
    return _read_sts_table(path, text, label)


STS_FILE_SUFFIXES = (".data", ".csv", ".tsv", ".txt")


def read_sts_files(folder: PathLike) -> dict[str, StsPairs]:
    """Every STS file in ``folder`` (suffix in :data:`STS_FILE_SUFFIXES`, each read with
    :func:`read_sts`; a SentEval ``STS.gs.<x>.txt`` goes with its input file), keyed by
    file stem in sorted order: e.g. ``sts-b-zh/`` gives ``STS-B.train`` and ``STS-B.valid``.
    Raises :class:`DataError` when the folder is missing or holds no such file."""
    d = Path(folder)
    if not d.is_dir():
        raise _fail(folder, Msg("no such folder") if not d.exists() else Msg("is a file, not a folder"))
    files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in STS_FILE_SUFFIXES
                   and not p.name.startswith("STS.gs."))
    if not files:
        raise _fail(folder, "holds no STS file ({suffixes})", suffixes=", ".join(STS_FILE_SUFFIXES))
    out: dict[str, StsPairs] = {}
    for p in files:
        pairs = read_sts(p)
        out[pairs.name] = pairs
    return out


def read_senteval_sts(
    input_path: PathLike, gs_path: PathLike, name: str | None = None
) -> StsPairs:
    """Read SentEval's STS12-16 layout: ``input_path`` holds ``sentence1<TAB>sentence2``
    a line (extra fields ignored), ``gs_path`` one gold score a line; an empty gold line
    means "no gold score" and the pair is skipped (counted in ``n_skipped``).

    ``name`` defaults to ``<x>`` for ``STS.input.<x>.txt``, else the input file's stem.
    Raises :class:`DataError` when the line counts differ (naming both files) or a line
    is malformed (naming the file and line).
    """
    ip = Path(input_path)
    if name is None:
        m = _STS_INPUT_RE.match(ip.name)
        name = m.group(1) if m else ip.stem
    inputs = _lines(_read_text(input_path))
    if not Path(gs_path).exists():
        raise _fail(gs_path, "no such file (the gold scores for {input})", input=os.fspath(input_path))
    golds = _lines(_read_text(gs_path))
    # Tolerate trailing blank lines (an editor artefact) in either file.
    while inputs and not inputs[-1].strip():
        inputs.pop()
    while len(golds) > len(inputs) and not golds[-1].strip():
        golds.pop()
    if len(inputs) != len(golds):
        raise DataError("{input} has {count} but {gold} has {gold_count}; they must match line for line",
                        input=os.fspath(input_path), count=plural(len(inputs), "{n:,} line", "{n:,} lines"),
                        gold=os.fspath(gs_path), gold_count=plural(len(golds), "{n:,} line", "{n:,} lines"))
    s1: list[str] = []
    s2: list[str] = []
    scores: list[float] = []
    n_skipped = 0
    for line, (content, gold) in enumerate(zip(inputs, golds), start=1):
        fields = content.split("\t")
        if len(fields) < 2:
            raise _fail(input_path, "has no tab between sentence1 and sentence2", line)
        if not gold.strip():
            n_skipped += 1
            continue
        score = _parse_score(gs_path, gold, line)
        a, b = fields[0].strip(), fields[1].strip()
        if not a or not b:
            raise _fail(input_path, "{column} is empty", line, column=f"sentence{1 if not a else 2}")
        s1.append(a)
        s2.append(b)
        scores.append(score)
    return _make_pairs(input_path, name, s1, s2, scores, n_skipped)


def read_sts_dir(folder: PathLike) -> dict[str, StsPairs]:
    """Read every ``STS.input.<x>.txt`` in ``folder`` with its ``STS.gs.<x>.txt``
    (SentEval's STS12-16 layout), keyed by ``<x>`` in sorted order.

    Raises :class:`DataError` when the folder is missing, holds no input files, or an
    input file has no gold file beside it.
    """
    d = Path(folder)
    if not d.exists():
        raise _fail(folder, "no such folder")
    if not d.is_dir():
        raise _fail(folder, "is a file, not a folder")
    found: list[tuple[str, Path]] = []
    for p in d.iterdir():
        m = _STS_INPUT_RE.match(p.name)
        if m and p.is_file():
            found.append((m.group(1), p))
    if not found:
        raise _fail(folder, "holds no STS.input.<name>.txt files")
    result: dict[str, StsPairs] = {}
    for key, p in sorted(found):
        gs = d / f"STS.gs.{key}.txt"
        if not gs.is_file():
            raise _fail(p, "has no gold-score file {name} beside it", name=gs.name)
        result[key] = read_senteval_sts(p, gs, name=key)
    return result
