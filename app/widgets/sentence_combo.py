"""A combo box of sentences, each item "key · the sentence (shortened)", its data the key
(a corpus id or a probe row). Used by the temperature lens (its anchor) and the dropout
views (their sentence); a click in a view selects the same sentence here without
re-triggering the panel (:meth:`SentenceCombo.show_key` blocks the signals)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtWidgets import QComboBox, QWidget

from app.i18n import tr

ITEM_CHARS = 70  # characters of a sentence shown in an item


def short(text: str | None, n: int = 90) -> str:
    """``text`` on one line, cut to ``n`` characters (with an ellipsis)."""
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class SentenceCombo(QComboBox):
    """Sentences by key; ``on_chosen(key)`` when the person picks one."""

    def __init__(self, tooltip: str, on_chosen: Callable[[int], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip(tooltip)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(10)
        self.activated.connect(lambda index: self._chosen(index, on_chosen))

    def _chosen(self, index: int, on_chosen: Callable[[int], None]) -> None:
        key = self.itemData(index)
        if key is not None:
            on_chosen(int(key))

    def fill(self, items: Iterable[tuple[int, str | None]], current: int | None = None) -> None:
        """Replace the items by ``(key, sentence)`` pairs (an unknown sentence is said so)
        and show ``current``; no signal is emitted."""
        self.blockSignals(True)
        self.clear()
        for key, text in items:
            self.addItem(f"{int(key)} · {short(text, ITEM_CHARS) or tr('(text unknown)')}", int(key))
        self.blockSignals(False)
        self.show_key(current)

    def show_key(self, key: int | None) -> None:
        """Show the item of ``key`` (none when None or absent); no signal is emitted."""
        self.blockSignals(True)
        self.setCurrentIndex(-1 if key is None else self.findData(int(key)))
        self.blockSignals(False)


__all__ = ["SentenceCombo", "short"]
