"""The false-negative candidate table: one row per unordered pair of corpus ids.

:class:`CandidateTableModel` merges detections (batch, probe scan, triage file) into
rows and reads each row's status from a :class:`~simcse_core.false_negatives.TriageBook`;
:class:`CandidateFilter` is what the table shows: the rows filtered (sentence text or
id, reason, status) and sorted in numpy (a Python ``lessThan`` in a
QSortFilterProxyModel blocked the GUI thread for seconds at 50,000 rows);
:class:`TriageKeys` turns C / R / U on the table into decisions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import QHeaderView, QTableView
from superqt.utils import qthrottled

from simcse_core.false_negatives import REASONS, Candidate, TriageBook

from app.i18n import N_, tr

STATUS_BRUSHES = {"confirmed": QBrush(QColor("#c9efc4")), "rejected": QBrush(QColor("#f6cdc9"))}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PAIR_ROLE = Qt.ItemDataRole.UserRole + 2
KEY_FIELDS = {0: 0, 1: 1, 2: 2, 3: 3, 5: 4}  # table column -> column of CandidateTableModel.keys
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


# what the table and its filters show for the engine's statuses and detector reasons (keys)
STATUS_NAMES = {"pending": N_("pending"), "confirmed": N_("confirmed"), "rejected": N_("rejected")}
REASON_NAMES = {"threshold": N_("threshold"), "duplicate": N_("duplicate"), "near_duplicate": N_("near duplicate"),
                "topk": N_("top-k"), "reference": N_("reference")}


def reason_text(reason: str) -> str:
    """A candidate's reasons ("threshold+topk") as shown, in the studio's language."""
    return " + ".join(tr(REASON_NAMES.get(r, r.replace("_", " "))) for r in reason.split("+"))


class CandidateTableModel(QAbstractTableModel):
    """Candidates, one row per unordered pair; status comes from the triage book.
    Signal ``changed()`` once after each change of its rows (what :class:`CandidateFilter`
    re-sorts on: once per batch, not once per row)."""

    changed = Signal()
    COLUMNS = (N_("anchor"), N_("candidate"), N_("cosine"), "r_ij", N_("reason"), N_("source / step"), N_("status"))

    def __init__(self, book: TriageBook, text_of: Callable[[int], str | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.book = book
        self.text_of = text_of
        self.rows: list[CandidateRow] = []
        self._index: dict[tuple[int, int], int] = {}
        self.keys = np.zeros((0, len(KEY_FIELDS)))  # (capacity, 5) numeric sort keys per row (see KEY_FIELDS)

    # --------------------------------------------------------------- Qt API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return tr(self.COLUMNS[section])
        return None

    def status(self, row: CandidateRow) -> str:
        return self.book.status(row.anchor, row.candidate) or "pending"

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        return self.cell(index.row(), index.column(), role)

    def cell(self, row: int, col: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """What :meth:`data` gives for ``row``, ``col`` and ``role``."""
        r = self.rows[row]
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
                return reason_text(r.reason)
            if col == 5:
                return r.source if r.step is None else f"{r.source} @ {r.step}"
            if col == 6:
                return tr(STATUS_NAMES.get(self.status(r), self.status(r)))
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
                return self.text_of(cid) or tr("sentence {id} (text unknown)").format(id=cid)
            if col == 2 and r.ref_cosine is not None:
                return f"reference model cosine {r.ref_cosine:.3f}"
            if col == 4:
                return tr("detected by: ") + reason_text(r.reason)
            if col == 5:
                return r.source if r.step is None else f"{r.source}, step {r.step}"
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
        self.keys = np.zeros((0, len(KEY_FIELDS)))
        self.endResetModel()
        self.changed.emit()

    def _store_keys(self, n: int) -> None:
        """Row ``n``'s numeric sort keys into :attr:`keys` (unknown: -inf; step None: -1)."""
        if n >= len(self.keys):
            grown = np.zeros((max(1024, 2 * len(self.keys), n + 1), len(KEY_FIELDS)))
            grown[: len(self.keys)] = self.keys
            self.keys = grown
        r = self.rows[n]
        cos = r.cosine if r.cosine == r.cosine else -math.inf
        w = -math.inf if r.weight is None or not r.weight == r.weight else float(r.weight)
        self.keys[n] = (r.anchor, r.candidate, cos, w, -1 if r.step is None else r.step)

    def column_keys(self, column: int) -> np.ndarray | None:
        """The numeric sort keys of ``column`` for every row (None for a text column)."""
        k = KEY_FIELDS.get(column)
        return None if k is None else self.keys[: len(self.rows), k]

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
                self._store_keys(n)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(self.COLUMNS) - 1))
        if new:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for k, row in enumerate(new):
                self.rows.append(row)
                self._index[row.pair] = first + k
                self._store_keys(first + k)
            self.endInsertRows()
        if new or changed:
            self.changed.emit()
        return len(new)

    def set_weights(self, weights: dict[tuple[int, int], float]) -> None:
        if not weights:
            return
        for k, row in enumerate(self.rows):
            w = weights.get(row.pair)
            if w is not None:
                row.weight = float(w)
                self._store_keys(k)
        self.dataChanged.emit(self.index(0, 3), self.index(len(self.rows) - 1, 3))
        self.changed.emit()

    def pair_changed(self, pair: tuple[int, int]) -> None:
        n = self.row_of(pair)
        if n is not None:
            self.dataChanged.emit(self.index(n, 0), self.index(n, len(self.COLUMNS) - 1))
            self.changed.emit()

    def all_changed(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.COLUMNS) - 1))
            self.changed.emit()

    def add_capped(self, cands: list[Candidate]) -> int:
        """:meth:`add`, but past :data:`MAX_ROWS` only pairs already listed are updated."""
        room = MAX_ROWS - len(self.rows)
        if room <= 0:
            cands = [c for c in cands if self.row_of(c.pair) is not None]
        elif len(cands) > room:
            known = [c for c in cands if self.row_of(c.pair) is not None]
            cands = known + [c for c in cands if self.row_of(c.pair) is None][:room]
        return self.add(cands)


class PacedInserts(QObject):
    """In-batch detections arrive once a snapshot; the table takes them in one insert
    (one re-sort of up to :data:`MAX_ROWS` rows) at most every ``interval_ms``, on the
    trailing edge, so a snapshot every step costs the GUI thread little. ``inserted(n)``
    follows an insert that added or updated rows."""

    inserted = Signal(int)

    def __init__(self, table: CandidateTableModel, interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.pending: list[Candidate] = []
        self._paced = qthrottled(self.flush, timeout=interval_ms, leading=False, parent=self)

    def add(self, cands: Iterable[Candidate]) -> None:
        self.pending.extend(cands)
        self._paced()

    def flush(self) -> None:
        """Insert what waits now."""
        self._paced.cancel()
        cands, self.pending = self.pending, []
        if cands:
            self.inserted.emit(self.table.add_capped(cands))

    def clear(self) -> None:
        self._paced.cancel()
        self.pending = []


class CandidateFilter(QAbstractTableModel):
    """What the table shows of a :class:`CandidateTableModel`: its rows filtered (text
    of the anchor or candidate sentence or an id, reason, status) and sorted, both
    computed in numpy over every row at once (no per-comparison Python call, so 50,000
    rows re-sort in milliseconds). Sorting is stable (ties keep the order they were
    found in), unknown values sort lowest. Selections and the current row follow their
    pairs through every re-sort and refilter (persistent indexes)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.reason = ""
        self.status = ""
        self.sort_column = -1
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._source: CandidateTableModel | None = None
        self._order = np.zeros(0, dtype=np.int64)  # shown row -> source row (-1: a row about to go)
        self._pos = np.zeros(0, dtype=np.int64)  # source row -> shown row (-1: filtered out)
        self._text_ok = np.zeros(0, dtype=bool)  # text filter result per source row (cached)
        self.refreshes = 0

    def setSourceModel(self, model: CandidateTableModel) -> None:  # noqa: N802 - Qt naming
        self._source = model
        model.changed.connect(self.refresh)
        model.modelReset.connect(self._source_reset)
        self._source_reset()

    def sourceModel(self) -> CandidateTableModel | None:  # noqa: N802 - Qt naming
        return self._source

    # --------------------------------------------------------------- Qt API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(CandidateTableModel.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return None if self._source is None else self._source.headerData(section, orientation, role)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if self._source is None or not 0 <= row < len(self._order):
            return None
        src = int(self._order[row])
        return self._source.cell(src, index.column(), role) if src >= 0 else None

    def mapToSource(self, index: QModelIndex | QPersistentModelIndex) -> QModelIndex:  # noqa: N802 - Qt naming
        if self._source is None or not index.isValid() or not 0 <= index.row() < len(self._order):
            return QModelIndex()
        src = int(self._order[index.row()])
        return self._source.index(src, index.column()) if src >= 0 else QModelIndex()

    def mapFromSource(self, index: QModelIndex | QPersistentModelIndex) -> QModelIndex:  # noqa: N802 - Qt naming
        if not index.isValid() or not 0 <= index.row() < len(self._pos) or self._pos[index.row()] < 0:
            return QModelIndex()
        return self.index(int(self._pos[index.row()]), index.column())

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column, self.sort_order = int(column), order
        self.refresh()

    # --------------------------------------------------------------- filters
    def set_text(self, text: str) -> None:
        self.text = text.strip().lower()
        self._text_ok = np.zeros(0, dtype=bool)
        self.refresh()

    def set_reason(self, reason: str) -> None:
        self.reason = reason or ""
        self.refresh()

    def set_status(self, status: str) -> None:
        self.status = status or ""
        self.refresh()

    def texts_changed(self) -> None:
        """Sentences became known: the text filter looks at every row again (at the
        next refresh)."""
        self._text_ok = np.zeros(0, dtype=bool)

    def _text_mask(self, m: CandidateTableModel) -> np.ndarray:
        have = len(self._text_ok)
        if have < len(m.rows):
            text = self.text
            new = np.fromiter((text in " ".join([str(r.anchor), str(r.candidate), m.text_of(r.anchor) or "",
                                                 m.text_of(r.candidate) or ""]).lower() for r in m.rows[have:]),
                              dtype=bool, count=len(m.rows) - have)
            self._text_ok = np.concatenate([self._text_ok, new])
        return self._text_ok

    def accepted(self) -> np.ndarray:
        """Source rows that pass the filters, in source order."""
        m = self._source
        if m is None or not m.rows:
            return np.zeros(0, dtype=np.int64)
        ok = np.ones(len(m.rows), dtype=bool)
        if self.reason:
            ok &= np.fromiter((self.reason in r.reason.split("+") for r in m.rows), dtype=bool, count=len(m.rows))
        if self.status:
            ok &= np.fromiter((m.status(r) == self.status for r in m.rows), dtype=bool, count=len(m.rows))
        if self.text:
            ok &= self._text_mask(m)
        return np.flatnonzero(ok)

    def ordered(self) -> np.ndarray:
        """The source rows to show, filtered and sorted (see the class doc)."""
        rows = self.accepted()
        m = self._source
        if m is None or self.sort_column < 0 or len(rows) < 2:
            return rows
        key = sort_keys(m, self.sort_column)[rows]
        if self.sort_order == Qt.SortOrder.DescendingOrder:
            key = -key
        return rows[np.lexsort((rows, key))]

    # --------------------------------------------------------------- updates
    def _source_reset(self) -> None:
        self.beginResetModel()
        self._order = np.zeros(0, dtype=np.int64)
        self._pos = np.zeros(0, dtype=np.int64)
        self._text_ok = np.zeros(0, dtype=bool)
        self.endResetModel()
        self.refresh()

    def refresh(self) -> None:
        """Recompute the shown rows: new rows are inserted at the end, then one layout
        change moves every row to its sorted place (persistent indexes follow their
        source rows), then rows no longer shown go from the end."""
        m = self._source
        if m is None:
            return
        self.refreshes += 1
        new = self.ordered()
        n_old, n_new = len(self._order), len(new)
        if n_new > n_old:
            self.beginInsertRows(QModelIndex(), n_old, n_new - 1)
            self._order = np.concatenate([self._order, np.full(n_new - n_old, -1, dtype=np.int64)])
            self.endInsertRows()
        padded = np.concatenate([new, np.full(max(0, n_old - n_new), -1, dtype=np.int64)])
        pos = np.full(len(m.rows), -1, dtype=np.int64)
        pos[new] = np.arange(n_new)
        if not np.array_equal(padded, self._order):
            self.layoutAboutToBeChanged.emit()
            before = self.persistentIndexList()
            after = []
            for p in before:
                src = int(self._order[p.row()]) if 0 <= p.row() < len(self._order) else -1
                row = int(pos[src]) if 0 <= src < len(pos) else -1
                after.append(self.index(row, p.column()) if row >= 0 else QModelIndex())
            self._order, self._pos = padded, pos
            self.changePersistentIndexList(before, after)
            self.layoutChanged.emit()
        self._pos = pos
        if n_new < n_old:
            self.beginRemoveRows(QModelIndex(), n_new, n_old - 1)
            self._order = new
            self.endRemoveRows()
        self._order = new
        if n_new:
            self.dataChanged.emit(self.index(0, 0), self.index(n_new - 1, self.columnCount() - 1))


def sort_keys(m: CandidateTableModel, column: int) -> np.ndarray:
    """One float per source row to sort ``column`` by (unknown values: -inf; the
    reason and status columns by rank of their text)."""
    keys = m.column_keys(column)
    if keys is not None:
        return keys
    texts = [r.reason if column == 4 else m.status(r) for r in m.rows]
    _uniq, rank = np.unique(np.array(texts, dtype=str), return_inverse=True)
    return rank.astype(np.float64)


TEXT_COLUMNS = (0, 1)
MIN_TEXT_CHARS = 30  # the anchor and candidate columns show at least this many characters
TEXT_SAMPLE = "123: Yesterday I sprained my ankle during a run"  # what a cell's text is like
COLUMN_SAMPLES = {2: "0.000", 3: "0.00e-00", 4: "threshold+topk", 5: "batch @ 00000", 6: "confirmed"}
SHOWN_FIRST = (0, 1, 2, 6)  # visual order: the sentences, cosine and status first (the rest scrolls)


class ColumnFitter(QObject):
    """Sizes a candidate table's columns whenever the table is resized or its font
    changes: number and status columns as wide as their text (header included), the
    anchor and candidate columns sharing the rest, each at least
    :data:`MIN_TEXT_CHARS` characters wide (the table scrolls sideways past that).
    Every cell's full text is in its tooltip. ``fit()`` does it now."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self.table = table
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        for visual, logical in enumerate(SHOWN_FIRST):
            header.moveSection(header.visualIndex(logical), visual)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.installEventFilter(self)
        self.fit()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() in (QEvent.Type.Resize, QEvent.Type.FontChange, QEvent.Type.Show):
            self.fit()
        return False

    def min_text_width(self) -> int:
        fm = self.table.fontMetrics()
        return int(fm.horizontalAdvance(TEXT_SAMPLE[:MIN_TEXT_CHARS]) * 1.1) + 2 * CELL_PADDING

    def fit(self) -> None:
        t = self.table
        fm = t.fontMetrics()
        header = t.horizontalHeader()
        hfm = header.fontMetrics()
        model = t.model()
        fixed = 0
        for col, sample in COLUMN_SAMPLES.items():
            title = str(model.headerData(col, Qt.Orientation.Horizontal) or "") if model is not None else ""
            w = max(fm.horizontalAdvance(sample), hfm.horizontalAdvance(title) + SORT_ARROW) + 2 * CELL_PADDING
            t.setColumnWidth(col, w)
            fixed += w
        avail = t.viewport().width()
        text_w = max(self.min_text_width(), (avail - fixed) // len(TEXT_COLUMNS))
        for col in TEXT_COLUMNS:
            t.setColumnWidth(col, text_w)


CELL_PADDING = 6  # px each side of a cell's text (the style's margin and a little air)
SORT_ARROW = 16  # px the header's sort indicator takes


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
