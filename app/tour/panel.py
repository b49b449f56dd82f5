"""The tour's panel: a small card floating over the main window with the chapter's
title, text, "Try this" line, a note when no run is shown, and Back / Next / Close.

It is a child of the main window (so a grab of the window shows it), placed by the tour
where it does not cover the framed view; the person can drag it anywhere by its
background. It knows nothing of chapters' targets: :class:`~app.tour.tour.StudioTour`
fills it and listens to its signals.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.i18n import tr
from app.tour.chapters import Chapter
from app.tour.highlight import COLOUR

WIDTH, MIN_WIDTH = 440, 320  # px: as wide as the room beside the framed view allows, within these


class TourPanel(QFrame):
    """The card (see the module doc). Signals: ``back_requested``, ``next_requested``,
    ``close_requested`` (its three buttons)."""

    back_requested = Signal()
    next_requested = Signal()
    close_requested = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("tourPanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"#tourPanel {{ background: #fffaf2; border: 2px solid {COLOUR}; border-radius: 8px; }}"
                           "#tourPanel QLabel { background: transparent; border: none; }")
        self.setCursor(Qt.CursorShape.SizeAllCursor)
        self.moved_by_hand = False
        self._drag: QPoint | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.setSpacing(6)
        self.counter = self._label("tourCounter", "color: #8a5a00; font-size: 11px;")
        self.title = self._label("tourTitle", "font-size: 15px; font-weight: bold;")
        self.text = self._label("tourText", "")
        self.try_this = self._label("tourTry", "")
        self.try_this.setStyleSheet("#tourTry { background: #fdebd0; border-radius: 4px; padding: 5px; }")
        self.note = self._label("tourNote", "color: #666; font-style: italic;")
        lay.addWidget(self.counter)
        lay.addWidget(self.title)
        self.content = QWidget()  # text, "Try this" and note: scrolls when the window is too low for them
        self.content.setObjectName("tourContent")
        col = QVBoxLayout(self.content)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)
        for w in (self.text, self.try_this, self.note):
            col.addWidget(w)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("tourScroll")
        self.scroll.setWidgetResizable(False)  # sized by fit(), from the labels' heights for the width (their
        # minimum size hints assume another width, which would leave gaps or a needless scroll bar)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setStyleSheet("#tourScroll, #tourContent { background: transparent; }")
        self.scroll.setWidget(self.content)
        lay.addWidget(self.scroll)
        row = QHBoxLayout()
        self.back_button = QPushButton(tr("← Back"))
        self.back_button.setObjectName("tourBack")
        self.next_button = QPushButton(tr("Next →"))
        self.next_button.setObjectName("tourNext")
        self.next_button.setDefault(True)
        self.close_button = QPushButton(tr("Close tour"))
        self.close_button.setObjectName("tourClose")
        for b in (self.back_button, self.next_button, self.close_button):
            b.setCursor(Qt.CursorShape.ArrowCursor)
        self.back_button.clicked.connect(self.back_requested)
        self.next_button.clicked.connect(self.next_requested)
        self.close_button.clicked.connect(self.close_requested)
        row.addWidget(self.back_button)
        row.addWidget(self.next_button)
        row.addStretch(1)
        row.addWidget(self.close_button)
        lay.addLayout(row)
        self.fit(WIDTH, 10_000)
        self.hide()

    def fit(self, width: int, max_height: int) -> None:
        """``width`` px wide, as high as its text needs but at most ``max_height`` (the
        text scrolls then)."""
        self.setFixedWidth(width)
        margins = self.layout().contentsMargins()
        border = self.width() - self.contentsRect().width()  # the styled border, both sides
        inner = width - border - margins.left() - margins.right()
        col = self.content.layout()
        need = max(col.totalHeightForWidth(inner), 1)
        self.content.setFixedSize(inner, need)
        self.scroll.setFixedHeight(need)
        total = self._height(width)
        if total > max_height:  # the text scrolls: narrower by the scroll bar, so higher
            bar = self.scroll.verticalScrollBar().sizeHint().width()
            self.content.setFixedSize(inner - bar, max(col.totalHeightForWidth(inner - bar), 1))
            self.scroll.setFixedHeight(max(60, need - (total - max_height)))
            total = self._height(width)
        self.setFixedHeight(total)

    def _height(self, width: int) -> int:
        h = self.layout().totalHeightForWidth(width)
        return h if h > 0 else self.layout().totalSizeHint().height()

    def _label(self, name: str, style: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        label.setCursor(Qt.CursorShape.ArrowCursor)
        if style:
            label.setStyleSheet(style)
        return label

    def show_chapter(self, index: int, total: int, chapter: Chapter, note: str) -> None:
        """Fill the card with chapter ``index`` (0-based) of ``total``; ``note``: a line
        under the text ("" for none)."""
        self.counter.setText(tr("Tour · chapter {n} of {total}").format(n=index + 1, total=total))
        self.title.setText(chapter.title)
        self.text.setText(chapter.text)
        self.try_this.setText(tr("<b>Try this:</b> {what}").format(what=chapter.try_this))
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.back_button.setEnabled(index > 0)
        self.next_button.setText(tr("Finish ✓") if index == total - 1 else tr("Next →"))
        self.scroll.verticalScrollBar().setValue(0)

    # ------------------------------------------------------------------ dragging
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt naming
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt naming
        parent = self.parentWidget()
        if self._drag is not None and parent is not None:
            to = self.mapToParent(event.position().toPoint() - self._drag)
            r = parent.rect()
            self.move(min(max(to.x(), 0), max(0, r.width() - self.width())),
                      min(max(to.y(), 0), max(0, r.height() - self.height())))
            self.moved_by_hand = True
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt naming
        self._drag = None
        super().mouseReleaseEvent(event)


__all__ = ["MIN_WIDTH", "WIDTH", "TourPanel"]
