"""The engine's messages in Chinese: its errors and the corpus summary are English
templates with their values (``simcse_core.messages.Msg``); the studio translates the
template (``app/i18n/zh_engine.py``) and fills in the same values, while ``str(e)``
stays the English text the CLI prints.

(a) A source scan of ``simcse_core``: every call of an error class, ``Msg``, ``_fail``
and ``plural`` gives its template as a string literal (never an f-string, ``%`` or
``.format``: those bake the values in, so the text can no longer be translated), names
every placeholder as a keyword, and has a Chinese entry with the same placeholders.
(b) Real bad inputs through the engine: the English is what it was; in Chinese the
studio's text is Chinese and keeps the file and field names. (c) The Setup panel's
corpus summary in Chinese.
"""

from __future__ import annotations

import ast
import copy
import pickle
import re
import string
from pathlib import Path

import pytest
from test_i18n import _name  # the called name of a call node

from app import i18n
from simcse_core.messages import Msg, plural

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "simcse_core"

# calls whose arguments at these positions are message templates (besides the error classes)
TEMPLATE_CALLS: dict[str, tuple[int, ...]] = {"Msg": (0,), "_fail": (1,), "plural": (1, 2)}
IMPLIED_VALUES = {"plural": {"n"}}  # values a helper passes itself
CJK = re.compile(r"[\u4e00-\u9fff]")


def _sources(root: Path = CORE) -> list[Path]:
    return sorted(root.rglob("*.py"))


def error_classes(paths: list[Path]) -> set[str]:
    """``SimCSEError`` and every class that derives from it (by name) in ``paths``."""
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in paths]
    names = {"SimCSEError"}
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names \
                        and any(_name(b) in names for b in node.bases):
                    names.add(node.name)
                    grew = True
    return names


def _has_words(template: str) -> bool:
    """Whether ``template`` has words outside its placeholders ("{where}: {message}" has none)."""
    return bool(re.search(r"[A-Za-z]{2,}", "".join(lit for lit, *_ in string.Formatter().parse(template))))


def _fields(template: str) -> list[tuple[str, str, str]]:
    """(name, conversion, spec) of each placeholder, sorted."""
    return sorted((name, conv or "", spec or "") for _, name, spec, conv in string.Formatter().parse(template)
                  if name is not None)


def scan(paths: list[Path], root: Path = ROOT) -> tuple[dict[str, str], list[str]]:
    """({template: first place}, problems) over the message calls in ``paths``: a
    template given as an f-string, ``%`` or ``.format()`` expression (or a ``+`` of
    strings) is a problem, so is a placeholder without its keyword value or a keyword
    value the template does not use."""
    calls = {name: (0,) for name in error_classes(paths)} | TEMPLATE_CALLS
    templates: dict[str, str] = {}
    problems: list[str] = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or _name(node.func) not in calls:
                continue
            name = _name(node.func)
            where = f"{path.relative_to(root)}:{node.lineno}"
            given = {k.arg for k in node.keywords if k.arg is not None} | IMPLIED_VALUES.get(name, set())
            open_values = any(k.arg is None for k in node.keywords)  # **values: not checkable here
            for i in calls[name]:
                if i >= len(node.args):
                    continue
                for arg in _branches(node.args[i]):
                    text = _baked(arg)
                    if text:
                        problems.append(f"{where}: {name}() gets {text}; give a template and its values as keywords")
                    elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        templates.setdefault(arg.value, where)
                        if not given and name != "plural":
                            continue  # plain text, shown as is
                        try:
                            used = {f[0] for f in _fields(arg.value)}
                        except ValueError as e:
                            problems.append(f"{where}: {arg.value!r} is not a template ({e})")
                            continue
                        if used - given and not open_values:
                            problems.append(f"{where}: {arg.value!r}: no value for {sorted(used - given)}")
                        if name != "plural" and given - used:
                            problems.append(f"{where}: {arg.value!r}: values {sorted(given - used)} are not used")
    return templates, problems


def _branches(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.IfExp):
        return _branches(node.body) + _branches(node.orelse)
    return [node]


def _baked(node: ast.expr) -> str:
    """What is wrong with ``node`` as a template: a text with its values already in."""
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return "a % expression"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return "a sum of strings"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return f"a .{node.func.attr}() expression"
    return ""


def engine_templates() -> set[str]:
    """Every English template of the engine's messages (for the orphan check)."""
    return set(scan(_sources())[0])


# ----------------------------------------------------------------------------- (a) the scan
def test_every_engine_message_is_a_template():
    _, problems = scan(_sources())
    assert not problems, "\n".join(problems)


def test_every_engine_template_has_a_chinese_version():
    zh = i18n.tables()["zh"]
    templates = engine_templates()
    assert len(templates) > 150
    missing = sorted(t for t in templates if not zh.get(t, "").strip())
    assert not missing, "no Chinese for (app/i18n/zh_engine.py):\n" + "\n".join(repr(t) for t in missing)
    english = sorted(t for t in templates if _has_words(t) and not CJK.search(zh[t]))
    assert not english, "not translated:\n" + "\n".join(repr(t) for t in english)
    bad = [f"{t!r} -> {zh[t]!r}" for t in templates if _fields(t) != _fields(zh[t])]
    assert not bad, "placeholders differ:\n" + "\n".join(bad)


def test_the_engine_table_holds_engine_templates_only():
    from app.i18n import zh_engine

    assert set(zh_engine.TABLE) <= engine_templates()


def test_the_scan_finds_a_baked_message(tmp_path):
    f = tmp_path / "bad.py"
    f.write_text(
        "class OddError(ConfigError):\n    pass\n"
        "def make(p, n):\n"
        "    return OddError(f'{p}: no such file')\n"  # built, not raised
        "raise DataError('{path}: %s' % p)\n"
        "raise RunError('{path}: bad'.format(path=p))\n"
        "x = _fail(p, f'has {n} rows', 3)\n"
        "y = Msg('a ' + p)\n"
        "z = ModelError('{a} ok' if n else f'{n} no', a=1)\n"
        "fine = ConfigError('{path}: fine', path=p)\n"
        "plain = ConfigError('no values: shown as it is')\n"
        "short = TrainingError('{path} at {step}', path=p)\n"
        "extra = StorageError('{path}', path=p, step=2)\n"
        "count = plural(n, '{n:,} row', '{n:,} rows')\n",
        encoding="utf-8")
    core = tmp_path / "errors.py"
    core.write_text("class SimCSEError(Exception):\n    pass\nclass ConfigError(SimCSEError):\n    pass\n"
                    "class DataError(SimCSEError):\n    pass\nclass RunError(SimCSEError):\n    pass\n"
                    "class ModelError(SimCSEError):\n    pass\nclass TrainingError(SimCSEError):\n    pass\n"
                    "class StorageError(SimCSEError):\n    pass\n", encoding="utf-8")
    templates, problems = scan([core, f], root=tmp_path)
    lines = sorted(int(p.split(":")[1]) for p in problems)
    assert lines == [4, 5, 6, 7, 8, 9, 12, 13], problems
    assert any("OddError() gets an f-string" in p for p in problems)  # a subclass defined there
    assert {"{path}: fine", "no values: shown as it is", "{n:,} row", "{n:,} rows", "{a} ok"} <= set(templates)


# ----------------------------------------------------------------------------- messages
def test_a_message_is_its_english_text():
    m = Msg("{path}: has {count} ({why})", path="a {b}.csv", count=plural(1560, "{n:,} row", "{n:,} rows"),
            why=Msg("column {name!r} twice", name="x"))
    assert str(m) == "a {b}.csv: has 1,560 rows (column 'x' twice)"
    assert str(plural(1, "{n:,} row", "{n:,} rows")) == "1 row"
    assert str(Msg("plain {text}, as it is")) == "plain {text}, as it is"
    assert pickle.loads(pickle.dumps(m)) == m and hash(copy.deepcopy(m)) == hash(m)


def test_errors_keep_their_english_and_pickle():
    from simcse_core.errors import ConfigError, RunLockedError, SimCSEError

    e = ConfigError("config field {name!r}: {why} (got {value!r})", name="temp", why=Msg("must be > 0"), value=-1)
    assert str(e) == "config field 'temp': must be > 0 (got -1)" and e.args == (str(e),)
    assert str(SimCSEError("already {formatted}")) == "already {formatted}"
    for err in (e, RunLockedError("run folder {folder} is busy", folder="/x")):
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and str(again) == str(err) and again.msg == err.msg
        assert str(copy.copy(err)) == str(err)
    with pytest.raises(ConfigError) as info:
        try:
            {}["x"]
        except KeyError:
            raise ConfigError("{path}: no such file", path="p") from None
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_tr_msg_translates_templates_not_values():
    m = Msg("{path}: no such file", path="no such file.csv")
    try:
        i18n.set_language("zh")
        assert i18n.tr_msg(m) == i18n.tr("{path}: no such file").format(path="no such file.csv")
        assert "no such file.csv" in i18n.tr_msg(m) and CJK.search(i18n.tr_msg(m))
        assert i18n.tr_msg("a plain string") == "a plain string"
        assert i18n.tr_error(ValueError("boom")) == "boom"
    finally:
        i18n.set_language("en")
    assert i18n.tr_msg(m) == "no such file.csv: no such file"


# ----------------------------------------------------------------------------- (b) real errors
def _chinese(e: BaseException) -> str:
    i18n.set_language("zh")
    try:
        return i18n.tr_error(e)
    finally:
        i18n.set_language("en")


def _english_words(text: str, *allowed: str) -> list[str]:
    """English words left in ``text`` once the allowed names (paths, fields) are removed
    (acronyms such as JSON or CSV are names too)."""
    for a in allowed:
        text = text.replace(a, " ")
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if not w.isupper()]


def test_a_missing_corpus_in_both_languages(tmp_path):
    from simcse_core.data import read_corpus
    from simcse_core.errors import DataError

    path = tmp_path / "missing_corpus.csv"
    with pytest.raises(DataError) as info:
        read_corpus(path)
    assert str(info.value) == f"{path}: no such file"
    zh = _chinese(info.value)
    assert CJK.search(zh) and str(path) in zh and not _english_words(zh, str(path)), zh


def test_a_csv_without_its_column(tmp_path):
    from simcse_core.data import read_corpus
    from simcse_core.errors import DataError

    path = tmp_path / "labels.csv"
    path.write_text("label,score\npos,1\nneg,2\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_corpus(path, text_column="sentence")
    assert str(info.value) == f"{path}: has no column 'sentence'; available columns: 'label', 'score'"
    zh = _chinese(info.value)
    assert CJK.search(zh) and str(path) in zh and "'sentence'" in zh and "'label', 'score'" in zh
    assert not _english_words(zh, str(path), "'sentence'", "'label', 'score'"), zh


def test_a_short_corpus_counts_in_chinese(tmp_path):
    from simcse_core.data import read_corpus
    from simcse_core.errors import DataError

    path = tmp_path / "short.txt"
    path.write_text("one sentence\n\n\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_corpus(path)
    assert str(info.value) == f"{path}: has only 1 sentence (2 empty lines skipped); at least 2 are needed"
    zh = _chinese(info.value)
    assert CJK.search(zh) and "1" in zh and "2" in zh and not _english_words(zh, str(path)), zh


def test_a_bad_config_field(tmp_path):
    from simcse_core.config import TrainConfig
    from simcse_core.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        TrainConfig(temp=-0.5).validate()
    assert str(info.value) == "config field 'temp': the temperature must be > 0 (reference 0.05) (got -0.5)"
    zh = _chinese(info.value)
    assert CJK.search(zh) and "'temp'" in zh and "-0.5" in zh and "0.05" in zh
    assert not _english_words(zh, "'temp'"), zh
    with pytest.raises(ConfigError) as info:
        TrainConfig(pooler_type="max").validate()
    zh = _chinese(info.value)
    assert "'pooler_type'" in zh and "cls_before_pooler" in zh and "'max'" in zh and CJK.search(zh)
    assert not _english_words(zh, "'pooler_type'", "auto, cls, cls_before_pooler, avg", "'max'"), zh


def test_an_unreadable_model_folder(tmp_path):
    from simcse_core.errors import ModelError
    from simcse_core.model import load_model

    folder = tmp_path / "my_model"
    folder.mkdir()
    (folder / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError) as info:
        load_model(str(folder))
    english = str(info.value)
    assert english.startswith(f"model folder {folder}: config.json is not valid JSON (")
    zh = _chinese(info.value)
    reason = english.split("(", 1)[1].rsplit(")", 1)[0]  # json's own words stay as they are
    assert CJK.search(zh) and str(folder) in zh and "config.json" in zh and reason in zh
    assert not _english_words(zh, str(folder), "config.json", reason), zh


def test_a_preset_run_error_names_the_run(tmp_path):
    from simcse_core.errors import ConfigError
    from simcse_core.presets import Preset

    with pytest.raises(ConfigError) as info:
        Preset.from_dict({"name": "p", "runs": [{"label": "hot", "overrides": {"temp": 0}}]}, source="p.json")
    assert str(info.value) == ("p.json, run 'hot': config field 'temp': the temperature must be > 0 "
                               "(reference 0.05) (got 0)")
    zh = _chinese(info.value)
    assert "p.json" in zh and "'hot'" in zh and "'temp'" in zh and CJK.search(zh)
    assert not _english_words(zh, "p.json", "'hot'", "'temp'"), zh


def test_a_diverged_checkpoint_message():
    from simcse_core.training.health import divergence_error, diverged_at

    e = divergence_error(Msg("the loss became {value}", value=float("nan")), 40, None)
    assert str(e) == ("the loss became nan at step 40; training stopped. No run folder is written by this "
                      "process. Try a lower learning rate or a higher temperature.")
    assert str(diverged_at(e)) == "the loss became nan at step 40"
    zh = _chinese(e)
    assert "40" in zh and "nan" in zh and CJK.search(zh) and not _english_words(zh, "nan"), zh


# ----------------------------------------------------------------------------- (c) the Setup panel
def test_the_corpus_summary_in_chinese(tmp_path):
    from app.runs.workers import read_corpus_preview
    from simcse_core.data import read_corpus

    path = tmp_path / "mini_corpus.csv"
    path.write_text("text,label\nA cat sat.,x\n\nA dog ran.,y\nA cat sat.,x\n", encoding="utf-8")
    english = read_corpus(path).summary()
    assert english == ("mini_corpus.csv: 3 sentences (column 'text'), 1 empty line skipped, 1 exact duplicate "
                       "(kept: they become false negatives when they share a batch)")
    assert read_corpus_preview(str(path)).summary == english
    i18n.set_language("zh")
    try:
        zh = read_corpus_preview(str(path)).summary
    finally:
        i18n.set_language("en")
    assert zh != english and CJK.search(zh) and "mini_corpus.csv" in zh and "'text'" in zh
    assert not _english_words(zh, "mini_corpus.csv", "'text'"), zh


def test_the_setup_panel_shows_the_summary_in_chinese(qtbot, tmp_path):
    from app.panels.setup_panel import SetupPanel

    path = tmp_path / "mini_corpus.csv"
    path.write_text("text\nA cat sat.\nA dog ran.\nA dog ran.\n", encoding="utf-8")
    bad = tmp_path / "missing.csv"
    i18n.set_language("zh")
    try:
        panel = SetupPanel()
        qtbot.addWidget(panel)
        for p in (path, bad):
            panel.set_corpus(str(p))
            qtbot.waitUntil(lambda p=p: (panel.corpus_preview is not None and panel.corpus_preview.path == str(p))
                            or (panel.corpus_error is not None and str(p) in panel.corpus_error), timeout=30_000)
            if p == path:
                summary = panel.corpus_summary.text()
    finally:
        i18n.set_language("en")
    shown = summary.split("<span style='color:#666'>", 1)[1]
    assert shown.startswith("mini_corpus.csv：3 个句子（列 'text'）") and "1 个完全重复" in shown, shown
    assert not _english_words(re.sub(r"<[^>]*>", " ", shown), "mini_corpus.csv", "'text'"), shown
    error = panel.corpus_error  # the red line under the corpus field
    assert error == f"{bad}：文件不存在", error
