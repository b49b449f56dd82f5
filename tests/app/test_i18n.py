"""English and Simplified Chinese (issue 12): every string the studio shows has both versions.

The scan reads the source (no imports): (a) string literals handed to Qt's text-setting
calls must go through ``tr()``; (b) every literal given to ``tr()`` or marked with ``N_()``
anywhere in ``app/`` (the tour's too) has a Chinese entry, not empty and not the English
unless listed in :data:`SAME_IN_BOTH`; (c) no table entry is orphaned (the engine's message
templates count as used: ``test_i18n_engine.py``); (d) each entry keeps
the English text's ``{placeholders}``. (e) builds the real window in Chinese.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from app import i18n

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"

# call name -> which positional arguments are user-visible (None: all) and which keywords
_ALL = None
TEXT_CALLS: dict[str, tuple[tuple[int, ...] | None, tuple[str, ...]]] = {
    # methods
    "setText": ((0,), ()), "setToolTip": ((0,), ()), "setWindowTitle": ((0,), ()),
    "setPlaceholderText": ((0,), ()), "setTitle": ((0,), ("title",)), "setStatusTip": ((0,), ()),
    "setWhatsThis": ((0,), ()), "setLabel": ((1,), ("text",)), "setLabelText": ((0,), ()),
    "addAction": ((0, 1), ()), "addMenu": ((0, 1), ()), "show_message": ((0,), ("text",)),
    "show_status": ((0,), ()), "showMessage": ((0,), ()),
    "setHorizontalHeaderLabels": ((0,), ()), "setVerticalHeaderLabels": ((0,), ()), "setHeaderLabels": ((0,), ()),
    "addItem": ((0,), ()), "addItems": ((0,), ()), "insertItem": ((1,), ()), "setItemText": ((1,), ()),
    "addTab": ((1, 2), ()), "insertTab": ((2, 3), ()), "setTabText": ((1,), ()), "setTabToolTip": ((1,), ()),
    "add_dock": ((1,), ("title",)), "add_action": ((1,), ("text", "tooltip")),
    "setInformativeText": ((0,), ()), "setDetailedText": ((0,), ()), "addButton": ((0,), ()),
    "setSuffix": ((0,), ()), "setPrefix": ((0,), ()), "setSpecialValueText": ((0,), ()), "setFormat": ((0,), ()),
    "information": ((1, 2), ()), "warning": ((1, 2), ()), "critical": ((1, 2), ()), "question": ((1, 2), ()),
    "getOpenFileName": ((1,), ("caption",)), "getSaveFileName": ((1,), ("caption",)),
    "getExistingDirectory": ((1,), ("caption",)), "getText": ((1, 2), ()), "getItem": ((1, 2), ()),
    "getInt": ((1, 2), ()), "getDouble": ((1, 2), ()), "addRow": ((0,), ()), "_say": ((0,), ()),
    # constructors
    "QLabel": ((0,), ("text",)), "QPushButton": ((0, 1), ("text",)), "QCheckBox": ((0,), ("text",)),
    "QRadioButton": ((0,), ("text",)), "QToolButton": ((), ("text",)), "QAction": ((0, 1), ("text",)),
    "QGroupBox": ((0,), ("title",)), "QMenu": ((0,), ("title",)), "QTableWidgetItem": ((0,), ()),
    "QListWidgetItem": ((0,), ()), "QMessageBox": ((1, 2), ("text",)), "TextItem": ((0,), ("text",)),
    "LabelItem": ((0,), ("text",)), "QDockWidget": ((0,), ()), "_tree": ((0,), ()),
}
# keyword arguments that are user-visible text whatever the call
TEXT_KEYWORDS = {"tooltip", "tip", "title", "placeholder", "label", "caption"}

# entries allowed to read the same in both languages: technical names and symbols
SAME_IN_BOTH = {
    "InfoNCE", "UMAP", "PCA", "SimCSE Studio", "S1", "Hammer", "k-means", "NaN", "dropout", "BERT", "CSV", "PNG",
    "SVG", "GIF", "MP4", "JSON", "t", "t'", "FNC top-k", "logit = cos / t",
}


def _sources() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "i18n" not in p.parts)


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _is_marker(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) in ("tr", "N_")


# shown as they are: keys a combo box is matched by (the colour-by choices "none" and "k-means")
SHOWN_AS_KEYS = {"none", "k-means"}


def _words(text: str) -> bool:
    """Whether ``text`` has words to translate (HTML tags and entities are not words)."""
    return text not in SHOWN_AS_KEYS and bool(re.search(r"[A-Za-z]{2,}", re.sub(r"<[^>]*>|&\w+;", "", text)))


def _bare_text(node: ast.AST) -> list[ast.AST]:
    """String literals with words in ``node`` that are not inside a ``tr()``/``N_()``
    call (the arguments of ``.format()`` on a ``tr()`` result are values, not text)."""
    found: list[ast.AST] = []

    def visit(n: ast.AST) -> None:
        if _is_marker(n):
            return
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "format" \
                and _is_marker(n.func.value):
            return
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            if _words(n.value):
                found.append(n)
            return
        if isinstance(n, ast.JoinedStr):
            if any(isinstance(v, ast.Constant) and _words(str(v.value)) for v in n.values):
                found.append(n)
                return
        if isinstance(n, (ast.Lambda, ast.Dict, ast.Subscript, ast.Compare)):
            return
        if isinstance(n, ast.Call):  # a call's own arguments are not text unless it is a text call
            for a in [n.func]:
                visit(a)
            return
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(node)
    return found


def unwrapped_texts(path: Path) -> list[str]:
    """``file:line: text`` for every literal handed to a text-setting call without tr()."""
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        spec = TEXT_CALLS.get(_name(node.func))
        args: list[ast.AST] = []
        if spec is not None:
            positions, keywords = spec
            if _name(node.func) == "setLabel" and len(node.args) == 1:  # an AxisItem's setLabel(text)
                positions = (0,)
            args += [a for i, a in enumerate(node.args) if positions is None or i in positions]
            args += [k.value for k in node.keywords if k.arg in keywords]
        args += [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS and (spec is None or k.arg not in spec[1])]
        for a in args:
            for lit in _bare_text(a):
                text = lit.value if isinstance(lit, ast.Constant) else ast.unparse(lit)
                out.append(f"{path.relative_to(ROOT)}:{lit.lineno}: {text!r}")
    return out


def marked_texts() -> dict[str, str]:
    """{English text: first place} for every literal in ``tr("...")`` or ``N_("...")`` in app/."""
    found: dict[str, str] = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if _is_marker(node) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def dynamic_texts() -> set[str]:
    """English texts the studio translates through ``tr(variable)``: the engine's metric
    labels and titles and the loss descriptions (the engine stays English-only)."""
    from simcse_core import metric_specs
    from simcse_core.losses import registry

    out: set[str] = set()
    for spec in metric_specs.METRIC_SPECS:
        if spec.has_series:
            out |= {t for t in (spec.label, spec.axis, spec.title, spec.compare_title) if t}
    for cell in metric_specs.PLOT_CELLS:
        out |= {t for t in (cell.title, cell.y_label, cell.empty_note) if t}
    out |= {description for _name, description in registry.loss_choices()}
    return out


def _placeholders(text: str) -> list[str]:
    return sorted(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)


# ----------------------------------------------------------------------------- tests
def test_every_shown_literal_goes_through_tr():
    bad = [line for p in _sources() for line in unwrapped_texts(p)]
    assert not bad, "wrap these in tr() (app/i18n):\n" + "\n".join(bad)


def test_every_text_has_a_chinese_version():
    zh = i18n.tables()["zh"]
    texts = set(marked_texts()) | dynamic_texts()
    missing = sorted(t for t in texts if not zh.get(t, "").strip())
    assert not missing, "no Chinese for:\n" + "\n".join(repr(t) for t in missing)
    same = sorted(t for t in texts if zh[t] == t and t not in SAME_IN_BOTH)
    assert not same, "Chinese equals the English (list it in SAME_IN_BOTH if intended):\n" + "\n".join(same)


def test_no_orphaned_table_entries():
    from test_i18n_engine import engine_templates  # the engine's message templates (zh_engine.py)

    used = set(marked_texts()) | dynamic_texts() | engine_templates()
    orphans = sorted(k for k in i18n.tables()["zh"] if k not in used)
    assert not orphans, "table entries no longer used (remove them):\n" + "\n".join(repr(t) for t in orphans)


def test_placeholders_match():
    bad = [f"{k!r} -> {v!r}" for k, v in i18n.tables()["zh"].items() if _placeholders(k) != _placeholders(v)]
    assert not bad, "\n".join(bad)


def test_tables_do_not_repeat_a_key():
    seen: dict[str, str] = {}
    dup = []
    for path in sorted((APP / "i18n").glob("zh_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for k in node.keys:
                    if isinstance(k, ast.Constant):
                        if k.value in seen:
                            dup.append(f"{k.value!r}: {seen[k.value]} and {path.name}")
                        seen[k.value] = path.name
    assert not dup, "\n".join(dup)


def test_the_scan_finds_an_unwrapped_text(tmp_path):
    f = tmp_path / "x.py"
    f.write_text('b.setToolTip("Hello there")\nb.setText(tr("Fine"))\nb.setText(f"{x:.3f}")\n'
                 'm.addItem("Shown", "key")\nm.setText(tr("a {n}").format(n="word"))\n'
                 'QLabel(f"run {n}")\nctx.add_action("file", "Open", tooltip="Opens")\n')
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        assert [line.split(": ", 1)[1] for line in unwrapped_texts(f)] == [
            "'Hello there'", "'Shown'", "\"f'run {n}'\"", "'Open'", "'Opens'"]
    finally:
        ROOT = old


def test_tr_follows_the_language():
    try:
        assert i18n.set_language("zh") == "zh"
        assert i18n.tr("Training") == "训练"
        assert i18n.tr("no such text") == "no such text"
        assert i18n.set_language("xx") == "en"
        assert i18n.tr("Training") == "Training"
    finally:
        i18n.set_language("en")


def test_choose_language_prefers_the_saved_choice(monkeypatch):
    try:
        monkeypatch.setattr(i18n, "system_language", lambda: "zh")
        assert i18n.choose_language("") == "zh"
        assert i18n.choose_language("en") == "en"
        monkeypatch.setattr(i18n, "system_language", lambda: "en")
        assert i18n.choose_language("zh") == "zh"
    finally:
        i18n.set_language("en")


def test_the_window_in_chinese(make_window):
    i18n.set_language("zh")
    try:
        w = make_window(restore=False)
        tabs = w.tabs
        assert [tabs.tabText(i) for i in range(tabs.count())] == ["训练", "嵌入空间", "批次"]
        assert [tabs.tabBar().tabData(i) for i in range(tabs.count())] == ["Training", "Embedding space", "Batch"]
        titles = [a.text() for a in w.menuBar().actions()]
        assert "视图(&V)" in titles and "帮助(&H)" in titles
        assert all(not re.search(r"[A-Za-z]{3,}", t.replace("&", "")) for t in titles), titles
        assert w.setup_dock.windowTitle() == "设置" and w.controls.train_button.text() == "训练"
        menu = w.language_menu
        assert menu.menu.title() == "语言" and menu.actions["zh"].isChecked() and not menu.actions["en"].isChecked()
        menu.actions["en"].trigger()  # saved for the next start; this window stays Chinese
        assert w.settings.language() == "en" and "下次启动" in w.message_bar.text
        assert tabs.tabText(0) == "训练"
        presets = next(a.menu() for a in w.menuBar().actions() if a.text().startswith("预设"))
        shown = [a.text() for a in presets.actions() if a.text()]
        assert any("温度之旅" in t for t in shown) and any("从零开始" in t for t in shown), shown
    finally:
        i18n.set_language("en")


def test_the_window_in_english_by_default(make_window):
    w = make_window(restore=False)
    assert w.tabs.tabText(0) == "Training" and w.language_menu.actions["en"].isChecked()
    assert w.settings.language() == ""


def test_the_unreadable_corpus_warning_in_both_languages():
    """The [UNK] warning a Chinese corpus gets with an English model: in English the
    studio's words are the engine's; in Chinese they are Chinese, with the same figures."""
    from app.runs.workers import vocab_message
    from simcse_core.vocab import load_tokenizer, unknown_share

    sentences = ["今天天气很好，我们去公园散步吧。", "这是一个中文句子，用来测试词表。"] * 5
    engine = unknown_share(load_tokenizer("default"), sentences, model_name="the default model").message
    assert engine and vocab_message("default", sentences) == engine
    i18n.set_language("zh")
    try:
        zh = vocab_message("default", sentences)
    finally:
        i18n.set_language("en")
    share = re.search(r"(\d+)% of its tokens", engine).group(1)
    assert zh.startswith("默认模型读不懂") and f"{share}% 的词元" in zh and "[UNK]" in zh


def test_help_pages_say_they_are_in_english(qtbot, tmp_path):
    """The Help pages are the project's English docs: in Chinese the viewer says so, in
    Chinese, above the page; in English there is no such note."""
    from app.shell.help import DocViewer

    page = tmp_path / "page.md"
    page.write_text("# A page\n\nSome text.\n", encoding="utf-8")
    english = DocViewer(page)
    qtbot.addWidget(english)
    assert not hasattr(english, "language_note")
    i18n.set_language("zh")
    try:
        chinese = DocViewer(page)
        qtbot.addWidget(chinese)
        note = chinese.language_note.text()
        assert "英文" in note and not re.search(r"[A-Za-z]{3,}", note), note
        assert "Some text." in chinese.browser.toPlainText()
    finally:
        i18n.set_language("en")
