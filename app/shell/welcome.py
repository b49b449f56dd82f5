"""The welcome: shown on the first launch (no saved settings) and from Help > Welcome.

Three lines on what the studio shows, then the ways in: watch SimCSE learn (the
first-run recipe), fine-tune the pretrained model on my corpus, open or follow a run,
presets; and a "show at start" check box (saved in the settings). The dialog is not
modal: it never blocks the window, and each choice is a callable the window gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.i18n import N_, tr

INTRO = N_(
    "<p><b>SimCSE Studio</b> trains a sentence encoder with SimCSE and shows it learning, step by step:</p>"
    "<ul style='margin-left:-20px'>"
    "<li><b>Training</b>: the contrastive loss against its chance line, in-batch accuracy, the cosines of "
    "positives and negatives, alignment and uniformity.</li>"
    "<li><b>Embedding space</b>: the probe sentences on the sphere and in UMAP, moving snapshot by "
    "snapshot; click a point for its neighbours.</li>"
    "<li><b>Panels</b>: the temperature lens (which negatives the loss pushes) and the false negatives "
    "(paraphrases treated as negatives).</li></ul>"
)


@dataclass
class Choice:
    """One way in: a button's text, its explanation and what it does."""

    key: str
    title: str
    detail: str
    action: Callable[[], Any] | None
    enabled: bool = True


class WelcomeDialog(QDialog):
    """The welcome (see the module doc). ``choices``: :class:`Choice` s, one button each
    (the dialog closes when one is chosen, then its action runs). ``show_at_start``:
    the check box's initial state; ``on_show_at_start(bool)`` is called when it changes."""

    def __init__(self, choices: list[Choice], show_at_start: bool,
                 on_show_at_start: Callable[[bool], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeDialog")
        self.setWindowTitle(tr("Welcome to SimCSE Studio"))
        self.setModal(False)
        self.buttons: dict[str, QPushButton] = {}
        lay = QVBoxLayout(self)
        intro = QLabel(tr(INTRO))
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(intro)
        for c in choices:
            lay.addLayout(self._choice_row(c))
        bottom = QHBoxLayout()
        self.show_at_start = QCheckBox(tr("Show this welcome at start"))
        self.show_at_start.setChecked(show_at_start)
        self.show_at_start.toggled.connect(on_show_at_start)
        bottom.addWidget(self.show_at_start)
        bottom.addStretch(1)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.close)
        bottom.addWidget(close)
        lay.addLayout(bottom)
        self.setMinimumWidth(560)
        self.chosen: str | None = None

    def _choice_row(self, c: Choice) -> QHBoxLayout:
        row = QHBoxLayout()
        b = QPushButton(c.title)
        b.setObjectName(f"welcome_{c.key}")
        b.setMinimumWidth(230)
        b.setEnabled(c.enabled and c.action is not None)
        b.clicked.connect(lambda _c=False, ch=c: self.choose(ch))
        self.buttons[c.key] = b
        text = QLabel(c.detail)
        text.setWordWrap(True)
        text.setStyleSheet("color: #444;")
        row.addWidget(b, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(text, 1)
        return row

    def choose(self, c: Choice) -> None:
        """Close, then do ``c`` (a file dialog it opens is not stacked on the welcome)."""
        self.chosen = c.key
        self.close()
        if c.action is not None:
            c.action()
