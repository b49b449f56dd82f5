"""The Help menu: the welcome, the documentation (the project's ``docs/*.md`` and
README, shown in the studio), the keyboard shortcuts (read from the window's actions,
so the list is never stale) and About.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (QDialog, QLabel, QMessageBox, QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout,
                               QWidget)

from app.i18n import N_, language, tr

ROOT = Path(__file__).resolve().parents[2]
DOCS = (  # (menu text, path relative to the project)
    (N_("Using the studio"), "docs/studio.md"),
    (N_("The engine and the simcse command"), "docs/engine.md"),
    (N_("Presets"), "docs/presets.md"),
    (N_("Benchmarks"), "docs/benchmarks.md"),
    (N_("How the code is built"), "docs/architecture.md"),
    ("README", "README.md"),
)
# keys that are not menu actions (they act in a focused widget)
PANEL_KEYS = (
    ("C / R / U", N_("false negatives table: confirm, reject, back to pending (then the next row)")),
    ("↑ / ↓", N_("false negatives table: previous / next row")),
    (N_("double-click"), N_("a plot: back to its full span after a zoom")),
)
ABOUT = N_("<b>SimCSE Studio</b><p>Watch SimCSE training happen, step by step: a sentence encoder learns to "
            "tell sentences apart from two dropout views of each sentence.</p>")
CITATION = "<p>Gao, Yao and Chen, <i>SimCSE: Simple Contrastive Learning of Sentence Embeddings</i>, EMNLP 2021.</p>"


class DocViewer(QDialog):
    """A documentation page (Markdown) in a browser; links to other pages open here."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("docViewer")
        self.resize(820, 640)
        lay = QVBoxLayout(self)
        if language() != "en":  # the pages are written in English; say so in the studio's language
            self.language_note = QLabel(tr("These pages are in English only. The studio's menus, messages and the "
                                           "tour (Help > Tour) are translated."))
            self.language_note.setObjectName("docLanguageNote")
            self.language_note.setWordWrap(True)
            lay.addWidget(self.language_note)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        lay.addWidget(self.browser)
        self.path = path
        self.open(path)

    def open(self, path: Path) -> None:  # type: ignore[override]
        self.path = path
        self.setWindowTitle(tr("SimCSE Studio: {name}").format(name=path.name))
        try:
            self.browser.setMarkdown(path.read_text(encoding="utf-8"))
        except OSError:
            self.browser.setMarkdown(tr("# Not installed here\n\n`{path}` is not on this machine: the documentation "
                                        "is in the project's `docs/` folder.").format(path=path))

    def _link(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
            return
        target = (self.path.parent / url.path()).resolve()
        if target.suffix == ".md" and target.is_file():
            self.open(target)


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(keys, what) for every action with a shortcut, sorted by what, then the panels' keys."""
    rows = {}
    for a in actions:
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows[keys] = a.text().replace("&", "").rstrip("…").strip() or a.toolTip()
    return sorted(((k, v) for k, v in rows.items()), key=lambda kv: kv[1].lower()) + [(tr(k), tr(v)) for k, v in PANEL_KEYS]


class ShortcutsDialog(QDialog):
    """A table of the keyboard shortcuts."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle(tr("Keyboard shortcuts"))
        lay = QVBoxLayout(self)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels([tr("keys"), tr("does")])
        self.table.verticalHeader().setVisible(False)
        for r, (keys, what) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(keys))
            self.table.setItem(r, 1, QTableWidgetItem(what))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table)
        self.resize(560, 420)


class HelpMenu:
    """Fills the Help menu through the context (``ctx``); ``welcome`` shows the welcome."""

    def __init__(self, ctx: Any, welcome: Callable[[], Any], tour: Callable[[], Any] | None = None) -> None:
        self.ctx = ctx
        self.open_dialogs: list[QDialog] = []
        ctx.add_action("help", tr("&Welcome…"), welcome, name="helpWelcome")
        if tour is not None:  # the tour (app/tour): six chapters, each opening its view
            ctx.add_action("help", tr("&Tour"), tour, name="helpTour")
        ctx.add_separator("help")
        for text, rel in DOCS:
            ctx.add_action("help", tr(text), lambda _c=False, p=ROOT / rel: self.show_doc(p))
        ctx.add_separator("help")
        ctx.add_action("help", tr("&Keyboard shortcuts"), self.show_shortcuts, shortcut="F1", name="helpShortcuts")
        ctx.add_action("help", tr("&About SimCSE Studio"), self.about)

    def _keep(self, dlg: QDialog) -> QDialog:
        self.open_dialogs = [d for d in self.open_dialogs if d.isVisible()] + [dlg]
        dlg.show()
        return dlg

    def show_doc(self, path: Path) -> DocViewer:
        return self._keep(DocViewer(path, self.ctx.dialog_parent))  # type: ignore[return-value]

    def show_shortcuts(self) -> ShortcutsDialog:
        actions = self.ctx.dialog_parent.findChildren(QAction)
        return self._keep(ShortcutsDialog(shortcut_rows(actions), self.ctx.dialog_parent))  # type: ignore[return-value]

    def about(self) -> None:  # pragma: no cover - a modal dialog
        QMessageBox.about(self.ctx.dialog_parent, tr("About SimCSE Studio"), tr(ABOUT) + CITATION)
