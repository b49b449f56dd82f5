"""Plot titles that never widen their plot.

pyqtgraph's title (a ``LabelItem``) sets its minimum width to the width of its text, so a
long title makes the plot wider than its cell; with a locked aspect or a fixed range the
picture is then cut off (the sphere's 2D map showed a sliver at common window sizes).
:class:`FittedTitle` takes the title's place: it may shrink to any width, and when the
plot is narrower than the text it shows the text elided with "…" (the full title in the
tooltip). Presentation mode's scaling and every ``setTitle`` go through it unchanged.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

_TAG = re.compile(r"<[^>]+>")
PADDING_PX = 8.0


def plain_text(text: str) -> str:
    """The text of a title without its HTML tags and entities."""
    return html.unescape(_TAG.sub("", str(text)))


def _point_size(size: Any, default: float = 11.0) -> float:
    try:
        return float(str(size).replace("pt", "").strip())
    except ValueError:
        return default


class FittedTitle(pg.LabelItem):
    """A plot title that fits: minimum width 0, elided to the width it gets.

    ``text`` (and ``full_text``) stay what was set, whatever is shown; ``shown_text``
    is what is drawn (the same when it fits)."""

    def __init__(self, text: str = " ", **args: Any) -> None:
        self.full_text = self.shown_text = text
        self._fitting = True  # no fitting before the item exists
        super().__init__(text, **args)
        self._fitting = False

    def setText(self, text: str, **args: Any) -> None:  # noqa: N802 - pyqtgraph's name
        if not self._fitting:
            self.full_text = text
            self.shown_text = text
        super().setText(text, **args)
        if not self._fitting:
            self.fit()

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph's name
        super().updateMin()
        self.setMinimumWidth(0)  # never push the plot wider than its cell

    def resizeEvent(self, ev: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(ev)
        self.fit()

    def fit(self) -> None:
        """Show ``full_text``, elided when wider than this item."""
        if self._fitting:
            return
        width = self.size().width()
        if width <= 0 or not self.isVisible():
            return
        full = self.full_text
        font = QFont()
        font.setPointSizeF(_point_size(self.opts.get("size")))
        if self.opts.get("bold"):
            font.setBold(True)
        metrics = QFontMetricsF(font)
        plain = plain_text(full)
        if metrics.horizontalAdvance(plain) + PADDING_PX <= width:
            shown = full
            self.setToolTip("")
        else:
            shown = html.escape(metrics.elidedText(plain, Qt.TextElideMode.ElideRight, width - PADDING_PX))
            self.setToolTip(plain)
        if shown != self.shown_text:
            self.shown_text = shown
            self._fitting = True
            try:
                super().setText(shown)
            finally:
                self._fitting = False
                self.text = full  # what was set; pyqtgraph and exports read it


def fit_titles(plot_item: pg.PlotItem) -> FittedTitle:
    """Give ``plot_item`` a :class:`FittedTitle` in place of its title label (keeping its
    text, size and visibility). Returns the new title."""
    old = plot_item.titleLabel
    if isinstance(old, FittedTitle):
        return old
    new = FittedTitle(old.text or " ", **dict(old.opts))
    new.setParentItem(plot_item)
    new.setVisible(old.isVisible())
    new.setMaximumHeight(old.maximumHeight())
    plot_item.layout.removeItem(old)
    old.setParentItem(None)
    if old.scene() is not None:
        old.scene().removeItem(old)
    plot_item.titleLabel = new
    plot_item.layout.addItem(new, 0, 1)
    return new
