"""The false-negative candidate table: one row per unordered pair of corpus ids.

:class:`CandidateTableModel` merges detections (batch, probe scan, triage file) into
rows and reads each row's status from a :class:`~simcse_core.false_negatives.TriageBook`;
:class:`CandidateFilter` sorts and filters it (sentence text or id, reason, status);
:class:`TriageKeys` turns C / R / U on the table into decisions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent

from simcse_core.false_negatives import REASONS, Candidate, TriageBook

STATUS_BRUSHES = {"confirmed": QBrush(QColor("#c9efc4")), "rejected": QBrush(QColor("#f6cdc9"))}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PAIR_ROLE = Qt.ItemDataRole.UserRole + 2
MAX_ROWS = 50_000  # the table stops growing here (decided pairs are always kept)
TRIAGE_KEYS = {Qt.Key.Key_C: "confirmed", Qt.Key.Key_R: "rejected", Qt.Key.Key_U: "pending"}


def _reason_key(r: str) -> int:
    return REASONS.index(r) if r in REASONS else len(REASONS)


def _merge_reasons(a: str, b: str) -> str:
    parts = {p for p in (a + "+" + b).split("+") if p}
    return "+".join(sorted(parts, key=lambda p: (_reason_key(p), p)))


@dataclass
class CandidateRow:
    """One table row: an unordered pair with what the detectors said last."""

    anchor: int
    candidate: int
    cosine: float
    weight: float | None  # r_ij at the temperature of the detection
    reason: str
    source: str  # "batch", "probe", "batch+probe", "triage"
    step: int | None
    ref_cosine: float | None = None

    @property
    def pair(self) -> tuple[int, int]:
        a, b = self.anchor, self.candidate
        return (a, b) if a <= b else (b, a)


class CandidateTableModel(QAbstractTableModel):
    """Candidates, one row per unordered pair; status comes from the triage book."""

    COLUMNS = ("anchor", "candidate", "cosine", "r_ij", "reason", "source / step", "status")

    def __init__(self, book: TriageBook, text_of: Callable[[int], str | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.book = book
        self.text_of = text_of
        self.rows: list[CandidateRow] = []
        self._index: dict[tuple[int, int], int] = {}

    # --------------------------------------------------------------- Qt API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def status(self, row: CandidateRow) -> str:
        return self.book.status(row.anchor, row.candidate) or "pending"

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{r.anchor}: {self.text_of(r.anchor) or '?'}"
            if col == 1:
                return f"{r.candidate}: {self.text_of(r.candidate) or '?'}"
            if col == 2:
                return "–" if not r.cosine == r.cosine else f"{r.cosine:.3f}"
            if col == 3:
                return "–" if r.weight is None or not r.weight == r.weight else f"{r.weight:.3g}"
            if col == 4:
                return r.reason
            if col == 5:
                return r.source if r.step is None else f"{r.source} @ {r.step}"
            if col == 6:
                return self.status(r)
        elif role == SORT_ROLE:
            if col in (0, 1):
                return float(r.anchor if col == 0 else r.candidate)
            if col == 2:
                return r.cosine if r.cosine == r.cosine else -math.inf
            if col == 3:
                return -math.inf if r.weight is None or not r.weight == r.weight else float(r.weight)
            if col == 4:
                return r.reason
            if col == 5:
                return float(-1 if r.step is None else r.step)
            if col == 6:
                return self.status(r)
        elif role == Qt.ItemDataRole.BackgroundRole:
            return STATUS_BRUSHES.get(self.status(r))
        elif role == Qt.ItemDataRole.ToolTipRole:
            if col in (0, 1):
                cid = r.anchor if col == 0 else r.candidate
                return self.text_of(cid) or f"sentence {cid} (text unknown)"
            if col == 2 and r.ref_cosine is not None:
                return f"reference model cosine {r.ref_cosine:.3f}"
        elif role == PAIR_ROLE:
            return (r.anchor, r.candidate)
        elif role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # --------------------------------------------------------------- content
    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self._index = {}
        self.endResetModel()

    def row_of(self, pair: tuple[int, int]) -> int | None:
        a, b = int(pair[0]), int(pair[1])
        return self._index.get((a, b) if a <= b else (b, a))

    def add(self, cands: Iterable[Candidate], source: str | None = None) -> int:
        """Merge candidates (one row per unordered pair; the latest detection's cosine,
        weight and step win; reasons and sources are merged). Returns rows added."""
        new: list[CandidateRow] = []
        changed: set[int] = set()
        pending: dict[tuple[int, int], CandidateRow] = {}
        for c in cands:
            src = source or c.source
            key = c.pair
            n = self._index.get(key)
            row = self.rows[n] if n is not None else pending.get(key)
            if row is None:
                row = CandidateRow(int(c.anchor), int(c.candidate), float(c.cosine), c.weight, c.reason, src, c.step,
                                   c.ref_cosine)
                pending[key] = row
                new.append(row)
                continue
            row.reason = _merge_reasons(row.reason, c.reason)
            if src not in row.source.split("+"):
                row.source = "+".join(sorted(set(row.source.split("+")) - {"triage"} | {src}))
            # the latest detection wins; within one step the first orientation seen stays
            # (a batch matrix is not symmetric: r of a->b and of b->a differ)
            same_way = (int(c.anchor), int(c.candidate)) == (row.anchor, row.candidate)
            newer = c.step is not None and (row.step is None or c.step > row.step)
            if (newer or (same_way and (c.step is None or c.step == row.step))) and c.cosine == c.cosine:
                row.anchor, row.candidate = int(c.anchor), int(c.candidate)
                row.cosine = float(c.cosine)
                if c.step is not None:
                    row.step = c.step
                row.weight = c.weight if c.weight is not None else (row.weight if not newer else None)
            elif row.weight is None and c.weight is not None:
                row.weight = c.weight
            if c.ref_cosine is not None:
                row.ref_cosine = c.ref_cosine
            if n is not None:
                changed.add(n)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(self.COLUMNS) - 1))
        if new:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for k, row in enumerate(new):
                self.rows.append(row)
                self._index[row.pair] = first + k
            self.endInsertRows()
        return len(new)

    def set_weights(self, weights: dict[tuple[int, int], float]) -> None:
        if not weights:
            return
        for k, row in enumerate(self.rows):
            w = weights.get(row.pair)
            if w is not None:
                row.weight = float(w)
        self.dataChanged.emit(self.index(0, 3), self.index(len(self.rows) - 1, 3))

    def pair_changed(self, pair: tuple[int, int]) -> None:
        n = self.row_of(pair)
        if n is not None:
            self.dataChanged.emit(self.index(n, 0), self.index(n, len(self.COLUMNS) - 1))

    def all_changed(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.COLUMNS) - 1))

    def add_capped(self, cands: list[Candidate]) -> int:
        """:meth:`add`, but past :data:`MAX_ROWS` only pairs already listed are updated."""
        room = MAX_ROWS - len(self.rows)
        if room <= 0:
            cands = [c for c in cands if self.row_of(c.pair) is not None]
        elif len(cands) > room:
            known = [c for c in cands if self.row_of(c.pair) is not None]
            cands = known + [c for c in cands if self.row_of(c.pair) is None][:room]
        return self.add(cands)


class CandidateFilter(QSortFilterProxyModel):
    """Text filter (anchor or candidate sentence, or id) and reason filter."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.reason = ""
        self.status = ""
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "text", text.strip().lower()))

    def set_reason(self, reason: str) -> None:
        self._refilter(lambda: setattr(self, "reason", reason or ""))

    def set_status(self, status: str) -> None:
        self._refilter(lambda: setattr(self, "status", status or ""))

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10 (invalidateFilter is deprecated there)
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        m = self.sourceModel()
        assert isinstance(m, CandidateTableModel)
        r = m.rows[source_row]
        if self.reason and self.reason not in r.reason.split("+"):
            return False
        if self.status and m.status(r) != self.status:
            return False
        if self.text:
            hay = " ".join([str(r.anchor), str(r.candidate), m.text_of(r.anchor) or "", m.text_of(r.candidate) or ""])
            if self.text not in hay.lower():
                return False
        return True

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if isinstance(a, str) or isinstance(b, str):
            return str(a) < str(b)
        return float(a) < float(b)


class TriageKeys(QObject):
    """C / R / U on a table (up/down are the table's own): calls ``mark(status)``."""

    def __init__(self, mark: Callable[[str], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mark = mark

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            status = TRIAGE_KEYS.get(event.key()) if mods == Qt.KeyboardModifier.NoModifier else None
            if status is not None:
                self.mark(status)
                return True
        return False
