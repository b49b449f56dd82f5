"""The tour's highlight: a thick rounded frame drawn over the window around the view a
chapter is about.

:class:`Highlight` is a child of the main window that paints only a frame (no fill: the
view stays readable under it) and lets every mouse event through to the widgets below.
The tour sets its rectangle (window coordinates) and keeps it in step as docks and tabs
move; a rectangle of None hides it.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

COLOUR = "#f57c00"  # the tour's colour: the frame and the panel's border
PEN = 4  # px
MARGIN = 4  # px outside the framed view


class Highlight(QWidget):
    """A mouse-transparent frame over ``parent`` (the main window)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("tourHighlight")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.framed: QRect | None = None  # the view's rectangle, window coordinates
        self.hide()

    def frame(self, rect: QRect | None) -> None:
        """Frame ``rect`` (window coordinates; None: hide)."""
        parent = self.parentWidget()
        if rect is None or rect.isEmpty() or parent is None:
            self.framed = None
            self.hide()
            return
        self.framed = QRect(rect)
        around = rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN).intersected(parent.rect())
        if around != self.geometry():
            self.setGeometry(around)
        self.show()
        self.raise_()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(COLOUR), PEN))
        p.setBrush(Qt.BrushStyle.NoBrush)
        half = PEN / 2
        p.drawRoundedRect(QRectF(self.rect()).adjusted(half, half, -half, -half), 8, 8)
        p.end()


__all__ = ["COLOUR", "Highlight"]
