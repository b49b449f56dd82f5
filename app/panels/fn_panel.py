"""False-negative inspection: detect, triage and act on suspected false negatives.

A *false negative* is a sentence the contrastive loss pushes away from an anchor
although it means the same thing (a paraphrase, an exact or near duplicate). This
panel

- runs the engine's detectors (:mod:`simcse_core.false_negatives`) on every new
  snapshot's batch (``detect_in_batch`` on ``batch_sim``) and, on request, over the
  probe set (``detect_all`` in a worker thread), optionally with a frozen reference
  model (DCLR) encoded in a worker too;
- lists the candidates in a sortable, filterable table (anchor text, candidate text,
  cosine, r_ij at the current temperature, reason, source/step, status);
- lets a person triage them from the keyboard (C confirm, R reject, U back to
  pending; up/down to move), kept in a :class:`~simcse_core.false_negatives.TriageBook`
  autosaved to the run folder on every decision;
- sends confirmed pairs to the running trainer (``send_live(fn_pairs=...,
  fn_policy=...)``), handled from the next step by the chosen policy (eliminate:
  left out of the denominator; attract: extra positives; none: inspect only);
- plots how many negatives were masked each step (``Snapshot.scalars["n_masked"]``);
- on a corpus with a ground-truth ``group`` column (the demo corpus), scores the probe
  scan with :func:`~simcse_core.false_negatives.precision_recall`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from simcse_core.errors import SimCSEError
from simcse_core.false_negatives import (
    REASONS,
    Candidate,
    PrecisionRecall,
    TriageBook,
    detect_all,
    detect_in_batch,
    precision_recall,
)
from simcse_core.snapshot import Snapshot

POLICIES = (("eliminate", "eliminate (leave out of the denominator)"),
            ("attract", "attract (count as extra positives)"),
            ("none", "none (inspect only)"))
STATUS_BRUSHES = {"confirmed": QBrush(QColor("#c9efc4")), "rejected": QBrush(QColor("#f6cdc9"))}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PAIR_ROLE = Qt.ItemDataRole.UserRole + 2
MAX_PROBE_WEIGHTS = 4096  # r_ij of probe candidates needs the P x P matrix: only up to this P
MAX_BATCH_CANDIDATES = 200  # per snapshot, highest cosine first (an untrained model flags everything)
MAX_ROWS = 50_000  # the table stops growing here (decided pairs are always kept)
BATCH_BUDGET_S = 0.05  # per event-loop turn when many snapshots arrive at once (a replayed run)


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


# =======================================================================================
# Models
# =======================================================================================


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


# =======================================================================================
# Workers (no Qt)
# =======================================================================================


@dataclass
class ScanResult:
    candidates: list[Candidate]
    weights: dict[tuple[int, int], float]
    ref_emb: np.ndarray | None
    ref_key: Any
    step: int | None
    temperature: float


def scan_probe(emb: np.ndarray | Callable[[], np.ndarray | None], ids: np.ndarray, texts: Sequence[str] | None, settings: dict[str, Any],
               temperature: float, step: int | None, ref_spec: dict[str, Any] | None = None,
               ref_emb: np.ndarray | None = None, ref_key: Any = None) -> ScanResult:
    """The probe-set scan (worker thread): encode with the reference model when asked
    (unless its embeddings are given), run ``detect_all``, and r_ij of each candidate
    at ``temperature`` among the anchor's probe-set negatives (P up to 4096). ``emb``
    may be a loader (the run model keeps some snapshots on disk); rows are
    re-normalised in float32 (the run model stores float16)."""
    if callable(emb):
        emb = emb()
        if emb is None:
            raise ValueError("the probe embeddings of this snapshot could not be read")
    emb = np.asarray(emb, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = emb / np.where(norms > 0, norms, 1.0)
    if ref_spec is not None and ref_emb is None and texts is not None:
        from simcse_core.model import load_model

        enc = load_model(ref_spec["spec"], pooler_type=ref_spec.get("pooler_type", "auto"),
                         max_seq_length=int(ref_spec.get("max_seq_length", 32)))
        ref_emb = enc.encode(list(texts), batch_size=128)
        del enc
    cands = detect_all(emb, ids, texts if settings.get("duplicates", True) else None,
                       ref_emb if ref_spec is not None else None,
                       threshold=settings.get("threshold"), topk=settings.get("topk"),
                       topk_threshold=settings.get("topk_threshold", 0.7),
                       ref_threshold=settings.get("ref_threshold", 0.85), duplicates=settings.get("duplicates", True),
                       step=step)
    weights: dict[tuple[int, int], float] = {}
    p = emb.shape[0]
    if cands and p <= MAX_PROBE_WEIGHTS and temperature > 0:
        from simcse_core.metrics import hardness_weights

        e = np.asarray(emb, dtype=np.float32)
        w = hardness_weights(e @ e.T, temperature).weights
        row_of = {int(v): r for r, v in enumerate(ids)}
        for c in cands:
            weights[c.pair] = float(w[row_of[c.anchor], row_of[c.candidate]])
    return ScanResult(cands, weights, ref_emb, ref_key, step, temperature)


# =======================================================================================
# The panel
# =======================================================================================


class _TriageKeys(QObject):
    """C / R / U on the table (up/down are the table's own)."""

    def __init__(self, panel: FalseNegativePanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if mods == Qt.KeyboardModifier.NoModifier:
                key = event.key()
                status = {Qt.Key.Key_C: "confirmed", Qt.Key.Key_R: "rejected", Qt.Key.Key_U: "pending"}.get(key)
                if status is not None:
                    self.panel.mark_current(status, advance=status != "pending")
                    return True
        return False


class FalseNegativePanel(QWidget):
    """The false-negative dock panel.

    Signals: ``candidates_changed(int)`` (rows in the table), ``scan_finished(object)``
    (the :class:`ScanResult`), ``decision_made(int, int, str)`` (anchor, candidate,
    status), ``precision_recall_changed(object)``, ``message(str)``.
    """

    candidates_changed = Signal(int)
    scan_finished = Signal(object)
    decision_made = Signal(int, int, str)
    precision_recall_changed = Signal(object)
    message = Signal(str)

    def __init__(self, selection: Any = None, send_live: Callable[..., bool] | None = None,
                 text_of: Callable[[int], str | None] | None = None,
                 is_training: Callable[[], bool] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection = selection
        self.send_live = send_live
        self.text_of: Callable[[int], str | None] = text_of or (lambda _i: None)
        self.is_training = is_training or (lambda: False)
        self.book = TriageBook()
        self.run_dir: str | None = None
        self.config: dict[str, Any] = {}
        self.probe_ids: np.ndarray | None = None
        self.probe_texts: list[str] | None = None
        self.probe_columns: dict[str, list[str]] | None = None
        # newest probe embeddings: (step, temperature, loader of the (P, D) matrix)
        self.probe_source: tuple[int, float, Callable[[], np.ndarray | None]] | None = None
        self.temperature = math.nan
        self.last_pr: PrecisionRecall | None = None
        self.last_scan: ScanResult | None = None
        self._ref_cache: tuple[Any, np.ndarray] | None = None
        self._scan_worker: Any = None
        self._queue: list[Snapshot] = []
        self._mask_steps: list[float] = []
        self._mask_values: list[float] = []
        self._queue_timer = QTimer(self)
        self._queue_timer.setSingleShot(True)
        self._queue_timer.setInterval(0)
        self._queue_timer.timeout.connect(self._drain)

        self.table_model = CandidateTableModel(self.book, lambda i: self.text_of(i), self)
        self.proxy = CandidateFilter(self)
        self.proxy.setSourceModel(self.table_model)
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)

        det = QGroupBox("Detectors")
        form = QFormLayout(det)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.use_threshold = QCheckBox("cosine ≥")
        self.use_threshold.setChecked(True)
        self.threshold = self._spin(0.85)
        form.addRow(self.use_threshold, self.threshold)
        self.use_duplicates = QCheckBox("exact and near duplicates")
        self.use_duplicates.setChecked(True)
        form.addRow(self.use_duplicates)
        self.use_topk = QCheckBox("FNC top-k")
        self.use_topk.setChecked(True)
        self.use_topk.setToolTip("False-negative cancellation (Huynh et al. 2022): among the anchor's k most "
                                 "similar sentences and at or above the score")
        krow = QHBoxLayout()
        self.topk = QSpinBox()
        self.topk.setRange(1, 1000)
        self.topk.setValue(10)
        self.topk.setPrefix("k = ")
        self.topk_threshold = self._spin(0.70)
        self.topk_threshold.setPrefix("≥ ")
        krow.addWidget(self.topk)
        krow.addWidget(self.topk_threshold)
        form.addRow(self.use_topk, krow)
        self.ref_kind = QComboBox()
        self.ref_kind.addItem("no reference model", "none")
        self.ref_kind.addItem("starting model (frozen, from the run config)", "start")
        self.ref_kind.addItem("another local model folder…", "folder")
        self.ref_kind.setToolTip("DCLR (Zhou et al. 2022): a negative whose cosine under a frozen reference model "
                                 "exceeds the threshold is a candidate")
        self.ref_kind.activated.connect(self._ref_kind_chosen)
        self.ref_threshold = self._spin(0.85)
        self.ref_threshold.setPrefix("ref ≥ ")
        rrow = QHBoxLayout()
        rrow.addWidget(self.ref_kind, 1)
        rrow.addWidget(self.ref_threshold)
        form.addRow("Reference:", rrow)
        self.ref_folder = QLineEdit()
        self.ref_folder.setPlaceholderText("reference model folder")
        self.ref_folder.setVisible(False)
        form.addRow(self.ref_folder)
        srow = QHBoxLayout()
        self.scan_button = QPushButton("Scan probe set")
        self.scan_button.setToolTip("Run the detectors over the whole probe set (in the background)")
        self.scan_button.clicked.connect(lambda: self.scan_probe_set())
        self.batch_detect = QCheckBox("detect in every new batch")
        self.batch_detect.setChecked(True)
        srow.addWidget(self.scan_button)
        srow.addWidget(self.batch_detect)
        srow.addStretch(1)
        form.addRow(srow)
        self.scan_label = QLabel("")
        self.scan_label.setWordWrap(True)
        form.addRow(self.scan_label)
        self.pr_label = QLabel("")
        self.pr_label.setWordWrap(True)
        form.addRow(self.pr_label)
        lay.addWidget(det)

        frow = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("filter sentences or ids…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.reason_filter = QComboBox()
        self.reason_filter.addItem("all reasons", "")
        for r in REASONS:
            self.reason_filter.addItem(r.replace("_", " "), r)
        self.reason_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_reason(self.reason_filter.currentData()))
        self.status_filter = QComboBox()
        self.status_filter.addItem("any status", "")
        for s in ("pending", "confirmed", "rejected"):
            self.status_filter.addItem(s, s)
        self.status_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_status(self.status_filter.currentData()))
        frow.addWidget(self.filter_edit, 1)
        frow.addWidget(self.reason_filter)
        frow.addWidget(self.status_filter)
        lay.addLayout(frow)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for c in range(2, len(CandidateTableModel.COLUMNS)):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("C: confirm · R: reject · U: back to pending · ↑/↓: move")
        self._keys = _TriageKeys(self)
        self.table.installEventFilter(self._keys)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        lay.addWidget(self.table, 3)

        trow = QHBoxLayout()
        for text, status in (("Confirm (C)", "confirmed"), ("Reject (R)", "rejected"), ("Pending (U)", "pending")):
            b = QPushButton(text)
            b.clicked.connect(lambda _c=False, s=status: self.mark_current(s, advance=False))
            trow.addWidget(b)
        trow.addStretch(1)
        trow.addWidget(QLabel("confirmed pairs:"))
        self.policy = QComboBox()
        for key, label in POLICIES:
            self.policy.addItem(label, key)
        self.policy.setToolTip("How later training steps handle confirmed pairs")
        self.policy.currentIndexChanged.connect(self._policy_changed)
        trow.addWidget(self.policy)
        lay.addLayout(trow)

        orow = QHBoxLayout()
        self.tau_plus = QDoubleSpinBox()
        self.tau_plus.setRange(0.0, 0.99)
        self.tau_plus.setSingleStep(0.01)
        self.tau_plus.setDecimals(3)
        self.tau_plus.setPrefix("τ+ = ")
        self.tau_plus.setToolTip("Debiased contrastive loss (Chuang et al. 2020): the class prior tau_plus; 0 = off. "
                                 "A training option: takes effect when the next run starts.")
        orow.addWidget(QLabel("debiased loss (next run):"))
        orow.addWidget(self.tau_plus)
        orow.addStretch(1)
        for text, fn in (("Export CSV…", lambda: self._export_dialog("csv")),
                         ("Export JSON…", lambda: self._export_dialog("json")),
                         ("Import…", self._import_dialog)):
            b = QPushButton(text)
            b.clicked.connect(fn)
            orow.addWidget(b)
        lay.addLayout(orow)

        self.counts_label = QLabel("")
        lay.addWidget(self.counts_label)

        self.mask_plot = pg.PlotWidget()
        self.mask_plot.setMaximumHeight(120)
        self.mask_plot.setMinimumHeight(80)
        pi = self.mask_plot.getPlotItem()
        pi.setTitle("negatives masked per step (n_masked)", size="8pt")
        pi.setLabel("bottom", "step")
        pi.showGrid(x=True, y=True, alpha=0.25)
        self.mask_curve = pi.plot([], [], pen=pg.mkPen("#d62728", width=1.5), symbol="o", symbolSize=4,
                                  symbolBrush="#d62728", symbolPen=None)
        lay.addWidget(self.mask_plot, 1)
        self._update_counts()

    @staticmethod
    def _spin(value: float) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(-1.0, 1.0)
        s.setDecimals(3)
        s.setSingleStep(0.01)
        s.setValue(value)
        return s

    # ------------------------------------------------------------------ settings
    def detector_settings(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold.value() if self.use_threshold.isChecked() else None,
            "duplicates": self.use_duplicates.isChecked(),
            "topk": self.topk.value() if self.use_topk.isChecked() else None,
            "topk_threshold": self.topk_threshold.value(),
            "ref_threshold": self.ref_threshold.value(),
        }

    def policy_value(self) -> str:
        return str(self.policy.currentData())

    def set_policy(self, policy: str) -> None:
        k = self.policy.findData(policy)
        if k >= 0:
            self.policy.setCurrentIndex(k)

    def config_overrides(self) -> dict[str, Any]:
        """What a new run's TrainConfig should take from this panel: ``tau_plus``, and
        when pairs are confirmed, ``fn_pairs`` and ``fn_policy``."""
        out: dict[str, Any] = {"tau_plus": float(self.tau_plus.value())}
        pairs = self.book.confirmed_pairs()
        if pairs:
            out["fn_pairs"] = [tuple(p) for p in pairs]
            out["fn_policy"] = self.policy_value()
        return out

    def _ref_kind_chosen(self, _index: int) -> None:
        kind = self.ref_kind.currentData()
        self.ref_folder.setVisible(kind == "folder")
        if kind == "folder" and not self.ref_folder.text().strip():
            d = QFileDialog.getExistingDirectory(self, "Reference model folder", str(Path.home()))
            if d:
                self.ref_folder.setText(d)

    def reference_spec(self) -> dict[str, Any] | None:
        kind = self.ref_kind.currentData()
        if kind == "none":
            return None
        if kind == "folder":
            spec = self.ref_folder.text().strip()
            if not spec:
                return None
            return {"spec": spec, "pooler_type": "auto", "max_seq_length": int(self.config.get("max_seq_length", 32))}
        return {"spec": str(self.config.get("model_name_or_path") or "default"),
                "pooler_type": str(self.config.get("pooler_type", "auto")),
                "max_seq_length": int(self.config.get("max_seq_length", 32))}

    # ------------------------------------------------------------------ run
    def clear(self, run_dir: str | None = None, config: dict[str, Any] | None = None) -> None:
        """A new run or another folder: forget candidates; the book is the run folder's
        ``triage.json`` when it has one, else the run config's confirmed ``fn_pairs``."""
        self._queue.clear()
        self.run_dir = run_dir
        self.config = dict(config or {})
        self.probe_ids = self.probe_texts = self.probe_columns = None
        self.probe_source = None
        self._ref_cache = None
        self.last_pr = None
        self.last_scan = None
        self.temperature = math.nan
        self._mask_steps, self._mask_values = [], []
        self.mask_curve.setData([], [])
        self.table_model.clear()
        self.scan_label.setText("")
        self.pr_label.setText("")
        book = TriageBook()
        if run_dir:
            try:
                book = TriageBook.load_from_run(run_dir)
            except SimCSEError as e:
                self.message.emit(f"triage of this run not loaded: {e}")
        if not len(book):
            for a, b in self.config.get("fn_pairs") or []:
                book.set(int(a), int(b), "confirmed", "config")
        self._set_book(book)
        policy = self.config.get("fn_policy")
        if policy and policy != "none":
            self.policy.blockSignals(True)
            self.set_policy(str(policy))
            self.policy.blockSignals(False)
        self._update_counts()

    def _set_book(self, book: TriageBook) -> None:
        self.book = book
        self.table_model.book = book
        self._add_book_rows()
        self.table_model.all_changed()

    def _add_book_rows(self) -> None:
        missing = [Candidate(d.anchor, d.candidate, math.nan, d.reason or "triage", None, "triage")
                   for d in self.book.decisions() if self.table_model.row_of((d.anchor, d.candidate)) is None]
        if missing:
            self.table_model.add(missing)
            self.candidates_changed.emit(len(self.table_model.rows))

    def set_probe(self, ids: np.ndarray | None, texts: list[str] | None, columns: dict[str, list[str]] | None) -> None:
        if ids is not None:
            self.probe_ids = np.asarray(ids, dtype=np.int64)
        if texts is not None:
            self.probe_texts = list(texts)
        if columns is not None:
            self.probe_columns = {k: list(v) for k, v in columns.items()}

    def set_probe_source(self, step: int, temperature: float, loader: Callable[[], np.ndarray | None]) -> None:
        """The newest probe embeddings when a snapshot keeps them on disk (``loader``
        runs in the scan's worker thread)."""
        self.probe_source = (int(step), float(temperature), loader)

    def add_snapshot(self, snap: Snapshot | None) -> None:
        """Queue a snapshot: in-batch detection and the n_masked curve (drained on the
        event loop so a replayed run of many snapshots never freezes the window)."""
        if snap is None:
            return
        self._queue.append(snap)
        if not self._queue_timer.isActive():
            self._queue_timer.start()

    def _drain(self) -> None:
        import time

        t0 = time.perf_counter()
        mask_changed = False
        added = 0
        while self._queue and time.perf_counter() - t0 < BATCH_BUDGET_S:
            snap = self._queue.pop(0)
            added += self._process(snap)
            n = snap.scalars.get("n_masked")
            if n is not None and n == n:
                self._mask_steps.append(float(snap.step))
                self._mask_values.append(float(n))
                mask_changed = True
        if mask_changed:
            self.mask_curve.setData(np.asarray(self._mask_steps), np.asarray(self._mask_values))
        if added:
            self.candidates_changed.emit(len(self.table_model.rows))
            self._update_counts()
        if self._queue:
            self._queue_timer.start()

    def flush(self) -> None:
        """Process every queued snapshot now (tests, and before a scan)."""
        while self._queue:
            self._drain()

    def _process(self, snap: Snapshot) -> int:
        self.temperature = float(snap.temperature)
        if snap.probe_ids is not None and self.probe_ids is None:
            self.probe_ids = np.asarray(snap.probe_ids, dtype=np.int64)
        if snap.probe_texts is not None or snap.probe_columns is not None:
            self.set_probe(None, snap.probe_texts, snap.probe_columns)
        if snap.probe_embeddings is not None:
            emb = snap.probe_embeddings
            self.probe_source = (int(snap.step), float(snap.temperature), lambda e=emb: e)
        if not self.batch_detect.isChecked() or snap.batch_sim is None or snap.batch_ids is None:
            return 0
        cands = self.detect_batch(snap)[:MAX_BATCH_CANDIDATES]
        return self._add_capped(cands)

    def _add_capped(self, cands: list[Candidate]) -> int:
        room = MAX_ROWS - len(self.table_model.rows)
        if room <= 0:
            cands = [c for c in cands if self.table_model.row_of(c.pair) is not None]
        elif len(cands) > room:
            known = [c for c in cands if self.table_model.row_of(c.pair) is not None]
            cands = known + [c for c in cands if self.table_model.row_of(c.pair) is None][:room]
        return self.table_model.add(cands)

    def detect_batch(self, snap: Snapshot) -> list[Candidate]:
        """``detect_in_batch`` on the snapshot's batch with the panel's settings."""
        s = self.detector_settings()
        ids = np.asarray(snap.batch_ids, dtype=np.int64)
        texts = None
        if s["duplicates"]:
            known = [self.text_of(int(i)) for i in ids]
            if all(t is not None for t in known):
                texts = known
        ref_sim = None
        if self._ref_cache is not None and self.probe_ids is not None:
            row_of = {int(v): r for r, v in enumerate(self.probe_ids)}
            if all(int(i) in row_of for i in ids):
                r = self._ref_cache[1][[row_of[int(i)] for i in ids]]
                ref_sim = r @ r.T
        return detect_in_batch(snap.batch_sim, ids, float(snap.temperature), threshold=s["threshold"],
                               k=s["topk"], topk_threshold=s["topk_threshold"], ref_sim=ref_sim,
                               ref_threshold=s["ref_threshold"], texts=texts, step=int(snap.step))

    def add_candidates(self, cands: Iterable[Candidate]) -> int:
        n = self.table_model.add(cands)
        if n:
            self.candidates_changed.emit(len(self.table_model.rows))
        self._update_counts()
        return n

    # ------------------------------------------------------------------ probe scan
    def scan_probe_set(self) -> bool:
        """Run ``detect_all`` over the newest probe embeddings in a worker thread.
        ``scan_finished(ScanResult)`` follows; returns False when there is nothing to scan."""
        self.flush()
        src = self.probe_source
        if src is None or self.probe_ids is None:
            self.scan_label.setText("no probe embeddings yet: start or open a run")
            return False
        if self._scan_worker is not None:
            self.scan_label.setText("a scan is already running…")
            return False
        step, temperature, loader = src
        ids = np.asarray(self.probe_ids, dtype=np.int64)
        texts = self.probe_texts
        if texts is None:
            known = [self.text_of(int(i)) for i in ids]
            texts = known if all(t is not None for t in known) else None  # type: ignore[assignment]
        ref = self.reference_spec()
        ref_key = None if ref is None else (ref["spec"], ref["pooler_type"], ref["max_seq_length"],
                                            ids.tobytes())
        ref_emb = self._ref_cache[1] if ref is not None and self._ref_cache and self._ref_cache[0] == ref_key else None
        if ref is not None and texts is None:
            self.scan_label.setText("the probe sentences are unknown: the reference model cannot encode them")
            ref = None
        self.scan_label.setText("scanning the probe set" + (" (encoding with the reference model)…"
                                                            if ref is not None and ref_emb is None else "…"))
        self.scan_button.setEnabled(False)
        self._scan_worker = create_worker(
            scan_probe, loader, ids, texts, self.detector_settings(), temperature, step, ref, ref_emb, ref_key,
            _connect={"returned": self._scan_done, "errored": self._scan_failed, "finished": self._scan_finished})
        return True

    def _scan_finished(self) -> None:
        self._scan_worker = None
        self.scan_button.setEnabled(True)

    def _scan_failed(self, exc: BaseException) -> None:
        msg = f"probe scan failed: {type(exc).__name__}: {exc}".splitlines()[0]
        self.scan_label.setText(msg)
        self.message.emit(msg)
        self.scan_finished.emit(None)

    def _scan_done(self, res: ScanResult) -> None:
        if res.ref_emb is not None and res.ref_key is not None:
            self._ref_cache = (res.ref_key, res.ref_emb)
        self.last_scan = res
        added = self._add_capped(list(res.candidates))
        self.table_model.set_weights(res.weights)
        self.scan_label.setText(f"probe scan at step {res.step}: {len(res.candidates)} candidate pairs "
                                f"({added} new)")
        self.last_pr = None
        cols = self.probe_columns or {}
        if "group" in cols and self.probe_ids is not None and len(cols["group"]) == len(self.probe_ids):
            groups = {int(i): g for i, g in zip(self.probe_ids, cols["group"])}
            pr = precision_recall(res.candidates, groups)
            self.last_pr = pr
            self.pr_label.setText(
                f"against the corpus's <b>group</b> column: precision {pr.precision:.2f} ({pr.tp} of "
                f"{pr.tp + pr.fp} pairs), recall {pr.recall:.2f} ({pr.tp} of {pr.n_true} true pairs), "
                f"F1 {pr.f1:.2f}")
            self.precision_recall_changed.emit(pr)
        else:
            self.pr_label.setText("")
        self.candidates_changed.emit(len(self.table_model.rows))
        self._update_counts()
        self.scan_finished.emit(res)

    # ------------------------------------------------------------------ triage
    def selected_pairs(self) -> list[tuple[int, int]]:
        sm = self.table.selectionModel()
        rows = sorted({i.row() for i in sm.selectedRows()}) if sm is not None else []
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [self.proxy.index(r, 0).data(PAIR_ROLE) for r in rows]

    def mark_current(self, status: str, advance: bool = False) -> int:
        """Mark the selected rows (or the current one) ``status``; with ``advance`` the
        cursor moves to the next row. Returns the number marked."""
        pairs = self.selected_pairs()
        if not pairs:
            return 0
        cur = self.table.currentIndex()
        self.mark(pairs, status)
        if advance and cur.isValid() and cur.row() + 1 < self.proxy.rowCount():
            nxt = self.proxy.index(cur.row() + 1, 0)
            self.table.selectionModel().setCurrentIndex(
                nxt, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        return len(pairs)

    def mark(self, pairs: Sequence[tuple[int, int]], status: str) -> None:
        """Record a decision on each pair, autosave, and send confirmed pairs to a
        running trainer (with the chosen policy)."""
        if status not in ("confirmed", "rejected", "pending"):
            raise ValueError(f"unknown status {status!r}")
        was_confirmed = set(self.book.confirmed_pairs())
        for a, b in pairs:
            n = self.table_model.row_of((a, b))
            reason = self.table_model.rows[n].reason if n is not None else ""
            self.book.set(int(a), int(b), status, reason, anchor_text=self.text_of(int(a)),
                          candidate_text=self.text_of(int(b)))
            self.table_model.pair_changed((a, b))
            self.decision_made.emit(int(a), int(b), status)
        self.autosave()
        self._update_counts()
        if status == "confirmed" and self.is_training() and self.send_live is not None:
            new = [(int(a), int(b)) for a, b in pairs if (min(a, b), max(a, b)) not in was_confirmed]
            if new:
                self.send_live(fn_pairs=new, fn_policy=self.policy_value())
        elif status != "confirmed" and self.is_training():
            undone = [p for p in pairs if (min(p), max(p)) in was_confirmed]
            if undone:
                self.message.emit("the running trainer keeps pairs it was sent; the change applies to the next run")

    def _policy_changed(self, _index: int) -> None:
        if self.is_training() and self.send_live is not None:
            self.send_live(fn_policy=self.policy_value())

    def autosave(self) -> bool:
        """Write triage.json and triage.csv into the run folder (atomic each)."""
        if not self.run_dir:
            return False
        try:
            self.book.save_to_run(self.run_dir)
        except OSError as e:
            self.message.emit(f"could not save the triage to {self.run_dir}: {e}")
            return False
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        pair = current.data(PAIR_ROLE)
        if pair is None or self.selection is None:
            return
        a, b = pair
        self.selection.highlight_pair((a, b))
        self.selection.select(a)

    # ------------------------------------------------------------------ files
    def export_csv(self, path: str | Path) -> Path:
        return self.book.to_csv(path)

    def export_json(self, path: str | Path) -> Path:
        return self.book.to_json(path)

    def import_file(self, path: str | Path) -> int:
        """Read decisions from a .csv or .json file (TriageBook format) and merge them
        into the book (a decision on a pair replaces the current one). Returns the count."""
        p = Path(path)
        book = TriageBook.from_json(p) if p.suffix.lower() == ".json" else TriageBook.from_csv(p)
        for d in book.decisions():
            self.book.set(d.anchor, d.candidate, d.status, d.reason, d.note, d.anchor_text, d.candidate_text)
        self._add_book_rows()
        self.table_model.all_changed()
        self.autosave()
        self._update_counts()
        if self.is_training() and self.send_live is not None and book.confirmed_pairs():
            self.send_live(fn_pairs=book.confirmed_pairs(), fn_policy=self.policy_value())
        return len(book)

    def _export_dialog(self, kind: str) -> None:
        start = str(Path(self.run_dir or Path.home()) / f"triage.{kind}")
        path, _f = QFileDialog.getSaveFileName(self, "Export triage decisions", start,
                                               "CSV (*.csv)" if kind == "csv" else "JSON (*.json)")
        if path:
            try:
                (self.export_csv if kind == "csv" else self.export_json)(path)
            except (OSError, SimCSEError) as e:
                self.message.emit(f"export failed: {e}")

    def _import_dialog(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self, "Import triage decisions", str(self.run_dir or Path.home()),
                                               "Triage (*.csv *.json)")
        if path:
            try:
                n = self.import_file(path)
                self.message.emit(f"imported {n} decisions from {path}")
            except (OSError, SimCSEError) as e:
                self.message.emit(f"import failed: {e}")

    def _update_counts(self) -> None:
        c = {s: len(self.book.pairs(s)) for s in ("confirmed", "rejected", "pending")}
        self.counts_label.setText(f"{len(self.table_model.rows)} candidate pairs · {c['confirmed']} confirmed · "
                                  f"{c['rejected']} rejected · keys: C confirm, R reject, U pending")
