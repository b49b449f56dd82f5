"""False-negative inspection: detect, triage and act on suspected false negatives.

A *false negative* is a sentence the contrastive loss pushes away from an anchor
although it means the same thing (a paraphrase, an exact or near duplicate). This
panel

- has the engine's detectors (:mod:`simcse_core.false_negatives`) run on every new
  snapshot's batch (``detect_in_batch`` on ``batch_sim``) and, on request, over the
  probe set (``detect_all``), optionally with a frozen reference model (DCLR): all in
  worker threads (:mod:`app.panels.fn_detector`), never on the GUI thread;
- lists the candidates in a sortable, filterable table (:mod:`app.panels.fn_table`:
  anchor text, candidate text, cosine, r_ij at the current temperature, reason,
  source/step, status);
- lets a person triage them from the keyboard (C confirm, R reject, U back to
  pending; up/down to move), kept in a :class:`~simcse_core.false_negatives.TriageBook`
  autosaved to the run folder on every decision;
- sends confirmed pairs to the running trainer (``ctx.runs.send_live(fn_pairs=...,
  fn_policy=...)``), handled from the next step by the chosen policy (eliminate:
  left out of the denominator; attract: extra positives; none: inspect only);
- plots how many negatives were masked each step (the run model's ``n_masked`` series);
- on a corpus with a ground-truth ``group`` column (the demo corpus), scores the probe
  scan with :func:`~simcse_core.false_negatives.precision_recall`.

The debiased loss's class prior (tau_plus) is a loss setting: it lives in the setup
panel with the other loss fields.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from simcse_core.errors import SimCSEError
from simcse_core.false_negatives import REASONS, Candidate, PrecisionRecall, TriageBook, precision_recall
from simcse_core.snapshot import Snapshot

from app.i18n import N_, tr, tr_error
from app.panels.fn_detector import BatchJob, FalseNegativeDetector, ScanJob, ScanResult
from app.panels.fn_table import (
    PAIR_ROLE,
    STATUS_BRUSHES,
    STATUS_NAMES,
    CandidateFilter,
    CandidateTableModel,
    ColumnFitter,
    PacedInserts,
    TriageKeys,
    reason_text,
)
from app.panels.fn_widgets import DetectorForm, MaskedPlot, TriageFiles

if TYPE_CHECKING:
    from app.shell.context import StudioContext
    from app.state.run_model import RunModel

__all__ = ["FalseNegativePanel", "POLICIES", "STATUS_BRUSHES"]

POLICIES = (("eliminate", N_("eliminate (leave out of the denominator)")),
            ("attract", N_("attract (count as extra positives)")),
            ("none", N_("none (inspect only)")))
MASKED_KEY = "n_masked"  # the run model's series of negatives masked per snapshot
LIVE_MS = 1000  # during a run: candidate inserts and the n_masked curve at most this often


class FalseNegativePanel(QWidget):
    """The false-negative dock panel, for the studio context ``ctx``.

    Signals: ``candidates_changed(int)`` (rows in the table), ``scan_finished(object)``
    (the :class:`~app.panels.fn_detector.ScanResult`, or None when the scan failed),
    ``decision_made(int, int, str)`` (anchor, candidate, status),
    ``precision_recall_changed(object)``.

    Parts: ``detectors`` (:class:`~app.panels.fn_widgets.DetectorForm`), ``detector``
    (:class:`~app.panels.fn_detector.FalseNegativeDetector`: the workers), ``table``,
    ``proxy``, ``table_model``, ``policy``, ``mask_plot``.
    """

    candidates_changed = Signal(int)
    scan_finished = Signal(object)
    decision_made = Signal(int, int, str)
    precision_recall_changed = Signal(object)

    def __init__(self, ctx: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.text_of = ctx.sentences
        self.book = TriageBook()
        self.run_dir: str | None = None
        self.config: dict[str, Any] = {}
        self.temperature = math.nan
        self.last_pr: PrecisionRecall | None = None
        self.last_scan: ScanResult | None = None
        self.detector = FalseNegativeDetector(self)
        self.detector.detected.connect(self._detected)
        self.detector.failed.connect(lambda text: ctx.show_message(text, "info"))
        self.detector.scan_done.connect(self._scan_done)
        self.detector.scan_failed.connect(self._scan_failed)
        self.detector.scan_ended.connect(lambda: self.detectors.scan_button.setEnabled(True))
        self._mask_timer = QTimer(self)  # many snapshots in a row: one redraw a LIVE_MS
        self._mask_timer.setSingleShot(True)
        self._mask_timer.setInterval(LIVE_MS)
        self._mask_timer.timeout.connect(self._draw_masked)
        self.table_model = CandidateTableModel(self.book, lambda i: self.text_of(i), self)
        self.proxy = CandidateFilter(self)
        self.proxy.setSourceModel(self.table_model)
        self.inserts = PacedInserts(self.table_model, LIVE_MS, self)  # one insert a LIVE_MS
        self.inserts.inserted.connect(self._inserted)
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        self.detectors = DetectorForm()
        self.detectors.scan_button.clicked.connect(lambda: self.scan_probe_set())
        lay.addWidget(self.detectors)
        lay.addLayout(self._filter_row())
        lay.addWidget(self._build_table(), 3)
        lay.addLayout(self._triage_row())
        self.files = TriageFiles(self.export_file, self.import_file, lambda: self.run_dir,
                                 lambda text, kind: self.ctx.show_message(text, kind))
        lay.addWidget(self.files)
        self.counts_label = QLabel("")
        self.counts_label.setWordWrap(True)
        lay.addWidget(self.counts_label)
        self.mask_plot = MaskedPlot()
        self.mask_curve = self.mask_plot.curve
        lay.addWidget(self.mask_plot, 1)
        self._update_counts()

    def _filter_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(tr("filter sentences or ids…"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.reason_filter = QComboBox()
        self.reason_filter.addItem(tr("all reasons"), "")
        for r in REASONS:
            self.reason_filter.addItem(reason_text(r), r)
        self.reason_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_reason(self.reason_filter.currentData()))
        self.status_filter = QComboBox()
        self.status_filter.addItem(tr("any status"), "")
        for s in ("pending", "confirmed", "rejected"):
            self.status_filter.addItem(tr(STATUS_NAMES[s]), s)
        self.status_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_status(self.status_filter.currentData()))
        row.addWidget(self.filter_edit, 1)
        row.addWidget(self.reason_filter)
        row.addWidget(self.status_filter)
        return row

    def _build_table(self) -> QTableView:
        t = self.table = QTableView()
        t.setModel(self.proxy)
        t.setSortingEnabled(True)
        t.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(20)
        self.column_fitter = ColumnFitter(t)  # sentences get the width (>= 30 characters), full text on hover
        t.setToolTip(tr("C: confirm · R: reject · U: back to pending · ↑/↓: move"))
        self._keys = TriageKeys(lambda status: self.mark_current(status, advance=status != "pending"), self)
        t.installEventFilter(self._keys)
        t.selectionModel().currentRowChanged.connect(self._current_changed)
        return t

    def _triage_row(self) -> QVBoxLayout:
        rows = QVBoxLayout()
        row = QHBoxLayout()
        for text, status in ((tr("Confirm (C)"), "confirmed"), (tr("Reject (R)"), "rejected"), (tr("Pending (U)"), "pending")):
            b = QPushButton(text)
            b.clicked.connect(lambda _c=False, s=status: self.mark_current(s, advance=False))
            row.addWidget(b)
        row.addStretch(1)
        rows.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("confirmed pairs:")))
        self.policy = QComboBox()
        for key, label in POLICIES:
            self.policy.addItem(tr(label), key)
        self.policy.setToolTip(tr("How later training steps handle confirmed pairs"))
        self.policy.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.policy.setMinimumContentsLength(12)
        self.policy.currentIndexChanged.connect(self._policy_changed)
        row.addWidget(self.policy, 1)
        rows.addLayout(row)
        return rows

    # ------------------------------------------------------------------ settings
    def policy_value(self) -> str:
        return str(self.policy.currentData())

    def set_policy(self, policy: str) -> None:
        k = self.policy.findData(policy)
        if k >= 0:
            self.policy.setCurrentIndex(k)

    def config_overrides(self) -> dict[str, Any]:
        """What a new run's TrainConfig takes from this panel: when pairs are confirmed,
        ``fn_pairs`` and ``fn_policy`` (the debiased loss's ``tau_plus`` is the setup
        panel's)."""
        pairs = self.book.confirmed_pairs()
        if not pairs:
            return {}
        return {"fn_pairs": [tuple(p) for p in pairs], "fn_policy": self.policy_value()}

    # ------------------------------------------------------------------ run
    def clear(self, run_dir: str | None = None, config: dict[str, Any] | None = None) -> None:
        """A new run or another folder: forget candidates; the book is the run folder's
        ``triage.json`` when it has one, else the run config's confirmed ``fn_pairs``."""
        self.detector.clear()
        self.inserts.clear()
        self._mask_timer.stop()
        self.run_dir = run_dir
        self.config = dict(config or {})
        self.last_pr = None
        self.last_scan = None
        self.temperature = math.nan
        self.mask_plot.show_series(np.zeros(0), np.zeros(0))
        self.table_model.clear()
        self.detectors.scan_label.setText("")
        self.detectors.pr_label.setText("")
        book = TriageBook()
        if run_dir:
            try:
                book = TriageBook.load_from_run(run_dir)
            except SimCSEError as e:
                self.ctx.show_message(tr("triage of this run not loaded: {error}").format(error=tr_error(e)), "info")
        if not len(book):
            for a, b in self.config.get("fn_pairs") or []:
                book.set(int(a), int(b), "confirmed", "config")
        self.set_book(book)
        policy = self.config.get("fn_policy")
        if policy and policy != "none":
            self.policy.blockSignals(True)
            self.set_policy(str(policy))
            self.policy.blockSignals(False)

    def set_config(self, config: dict[str, Any]) -> None:
        """The run's config, when it becomes known after :meth:`clear` (an opened folder)."""
        self.config = dict(config)

    def set_book(self, book: TriageBook) -> None:
        """Show ``book``'s decisions (its pairs get rows) instead of the current ones."""
        self.book = book
        self.table_model.book = book
        self._add_book_rows()
        self.table_model.all_changed()
        self._update_counts()

    def _add_book_rows(self) -> None:
        missing = [Candidate(d.anchor, d.candidate, math.nan, d.reason or "triage", None, "triage")
                   for d in self.book.decisions() if self.table_model.row_of((d.anchor, d.candidate)) is None]
        if missing:
            self.table_model.add(missing)
            self.candidates_changed.emit(len(self.table_model.rows))

    def refresh_texts(self) -> None:
        """More sentences became known (the corpus was read): redraw the table."""
        self.proxy.texts_changed()
        self.table_model.all_changed()

    # ------------------------------------------------------------------ batches
    @property
    def idle(self) -> bool:
        """No batch detection queued or running, none waiting for the table."""
        if self.detector.busy:
            return False
        self.inserts.flush()  # a test or a finished run: no need to wait for the paced insert
        return True

    def add_snapshot(self, snap: Snapshot | None) -> None:
        """A snapshot was added to the run model: its batch goes to the detector's
        worker (the job captures the arrays, the settings and the batch's sentences
        here), and the n_masked curve is redrawn from the run model."""
        if snap is None:
            return
        self.temperature = float(snap.temperature)
        if not self._mask_timer.isActive():
            self._mask_timer.start()
        if self.detectors.batch_detect.isChecked() and snap.batch_sim is not None and snap.batch_ids is not None:
            self.detector.submit(self.batch_job(snap))

    def batch_job(self, snap: Snapshot) -> BatchJob:
        """The in-batch detection job of ``snap`` with the panel's settings."""
        settings = self.detectors.settings()
        ids = np.asarray(snap.batch_ids, dtype=np.int64)
        texts = None
        if settings.duplicates:
            known = [self.text_of(int(i)) for i in ids]
            if all(t is not None for t in known):
                texts = [str(t) for t in known]
        ref_rows = None
        if self.detector.ref_cache is not None:
            ref_rows = self.detector.reference_rows(self.ctx.run_model.probe_rows(ids))
        assert snap.batch_sim is not None
        return BatchJob(int(snap.step), float(snap.temperature), snap.batch_sim, ids, settings, texts, ref_rows)

    def _detected(self, cands: list[Candidate]) -> None:
        self.inserts.add(cands)

    def _inserted(self, n: int) -> None:
        if n:
            self.candidates_changed.emit(len(self.table_model.rows))
            self._update_counts()

    def _draw_masked(self) -> None:
        series = self.ctx.run_model.series.get(MASKED_KEY)
        if series is not None:
            self.mask_plot.show_series(series.x, series.y)

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
        form = self.detectors
        if self.detector.scanning:
            form.scan_label.setText(tr("a scan is already running…"))
            return False
        job, note = make_scan_job(self.ctx.run_model, self.text_of, form, self.config, self.detector.ref_cache)
        form.scan_label.setText(note)
        if job is None:
            return False
        self.detector.scan(job)
        form.scan_button.setEnabled(False)
        return True

    def _scan_failed(self, msg: str) -> None:
        self.detectors.scan_label.setText(msg)
        self.ctx.show_message(msg, "info")
        self.scan_finished.emit(None)

    def _scan_done(self, res: ScanResult) -> None:
        self.last_scan = res
        added = self.table_model.add_capped(list(res.candidates))
        self.table_model.set_weights(res.weights)
        self.detectors.scan_label.setText(tr("probe scan at step {step}: {n} candidate pairs ({added} new)").format(
            step=res.step, n=len(res.candidates), added=added))
        self.last_pr = None
        self.detectors.pr_label.setText("")
        model = self.ctx.run_model
        groups = (model.probe_columns or {}).get("group")
        if groups is not None and model.probe_ids is not None and len(groups) == len(model.probe_ids):
            pr = self.last_pr = precision_recall(res.candidates, {int(i): g for i, g in zip(model.probe_ids, groups)})
            self.detectors.pr_label.setText(pr_html(pr))
            self.precision_recall_changed.emit(pr)
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
        runs = self.ctx.runs
        if status == "confirmed" and runs.training:
            new = [(int(a), int(b)) for a, b in pairs if (min(a, b), max(a, b)) not in was_confirmed]
            if new:
                runs.send_live(fn_pairs=new, fn_policy=self.policy_value())
        elif status != "confirmed" and runs.training and any((min(p), max(p)) in was_confirmed for p in pairs):
            self.ctx.show_message(tr("the running trainer keeps pairs it was sent; the change applies to the next run"),
                                  "info")

    def _policy_changed(self, _index: int) -> None:
        if self.ctx.runs.training:
            self.ctx.runs.send_live(fn_policy=self.policy_value())

    def autosave(self) -> bool:
        """Write triage.json and triage.csv into the run folder (atomic each)."""
        if not self.run_dir:
            return False
        try:
            self.book.save_to_run(self.run_dir)
        except OSError as e:
            self.ctx.show_message(tr("could not save the triage to {folder}: {error}").format(folder=self.run_dir, error=e),
                                  "info")
            return False
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        pair = current.data(PAIR_ROLE) if current.isValid() else None
        if pair is None:
            return
        self.ctx.selection.highlight_pair(pair)
        self.ctx.selection.select(pair[0])

    # ------------------------------------------------------------------ files
    def export_csv(self, path: str | Path) -> Path:
        return self.book.to_csv(path)

    def export_json(self, path: str | Path) -> Path:
        return self.book.to_json(path)

    def export_file(self, path: str | Path) -> Path:
        """Write the decisions as .json when ``path`` says so, else as .csv."""
        return self.export_json(path) if str(path).lower().endswith(".json") else self.export_csv(path)

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
        if self.ctx.runs.training and book.confirmed_pairs():
            self.ctx.runs.send_live(fn_pairs=book.confirmed_pairs(), fn_policy=self.policy_value())
        return len(book)

    def _update_counts(self) -> None:
        c = {s: len(self.book.pairs(s)) for s in ("confirmed", "rejected", "pending")}
        self.counts_label.setText(tr("{n} candidate pairs · {confirmed} confirmed · {rejected} rejected · keys: "
                                     "C confirm, R reject, U pending").format(n=len(self.table_model.rows),
                                                                              confirmed=c["confirmed"],
                                                                              rejected=c["rejected"]))


# ---------------------------------------------------------------------- scans (GUI thread)
def newest_probe(model: RunModel) -> tuple[int, float, Any] | None:
    """(step, temperature, (P, D) embeddings or their loader) of the run model's newest
    snapshot with probe embeddings."""
    for snap in reversed(model.snapshots):
        if snap.probe_embeddings is not None:
            return int(snap.step), float(snap.temperature), snap.probe_embeddings
        loader = model.lazy_probe.get(snap.step)
        if loader is not None:
            return int(snap.step), float(snap.temperature), loader
    return None


def make_scan_job(model: RunModel, text_of: Callable[[int], str | None], form: DetectorForm,
                  config: dict[str, Any], ref_cache: tuple[Any, np.ndarray] | None) -> tuple[ScanJob | None, str]:
    """The probe scan of the run model's newest probe embeddings with the form's
    settings (data captured now, on the GUI thread), and a line for the person; the
    job is None when there is nothing to scan."""
    src = newest_probe(model)
    if src is None or model.probe_ids is None:
        return None, tr("no probe embeddings yet: start or open a run")
    step, temperature, embeddings = src
    ids = np.array(model.probe_ids, dtype=np.int64)
    texts = list(model.probe_texts) if model.probe_texts is not None else None
    if texts is None:
        known = [text_of(int(i)) for i in ids]
        texts = [str(t) for t in known] if all(t is not None for t in known) else None
    ref = form.reference(config or model.config)
    note = tr("scanning the probe set…")
    if ref is not None and texts is None:
        note = tr("the probe sentences are unknown: the reference model cannot encode them; scanning without it…")
        ref = None
    ref_key = None if ref is None else (ref, ids.tobytes())
    ref_emb = ref_cache[1] if ref is not None and ref_cache is not None and ref_cache[0] == ref_key else None
    if ref is not None and ref_emb is None:
        note = tr("scanning the probe set (encoding with the reference model)…")
    return ScanJob(embeddings, ids, texts, form.settings(), temperature, step, ref, ref_emb, ref_key), note


def pr_html(pr: PrecisionRecall) -> str:
    return tr("against the corpus's <b>group</b> column: precision {precision} ({tp} of {found} pairs), recall "
              "{recall} ({tp} of {n_true} true pairs), F1 {f1}").format(
        precision=f"{pr.precision:.2f}", tp=pr.tp, found=pr.tp + pr.fp, recall=f"{pr.recall:.2f}", n_true=pr.n_true,
        f1=f"{pr.f1:.2f}")
