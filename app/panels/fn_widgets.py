"""Widgets of the false-negative panel that hold no run state: the detector settings
form, the triage file buttons and the plot of negatives masked per step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from simcse_core.errors import SimCSEError

from app.i18n import N_, tr, tr_error
from app.panels.fn_detector import DetectorSettings, ReferenceSpec

REFERENCE_KINDS = (("none", N_("no reference model")),
                   ("start", N_("starting model (frozen, from the run config)")),
                   ("folder", N_("another local model folder…")))


def _cosine_spin(value: float, prefix: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(-1.0, 1.0)
    s.setDecimals(3)
    s.setSingleStep(0.01)
    s.setValue(value)
    s.setPrefix(prefix)
    return s


class DetectorForm(QGroupBox):
    """The detectors' switches and thresholds, the reference model (DCLR), and the
    "Scan probe set" button with its result lines (``scan_label``, ``pr_label``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Detectors"), parent)
        d = DetectorSettings()
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.use_threshold = QCheckBox(tr("cosine ≥"))
        self.use_threshold.setChecked(True)
        self.threshold = _cosine_spin(d.threshold or 0.85)
        form.addRow(self.use_threshold, self.threshold)
        self.use_duplicates = QCheckBox(tr("exact and near duplicates"))
        self.use_duplicates.setChecked(d.duplicates)
        form.addRow(self.use_duplicates)
        self.use_topk = QCheckBox(tr("FNC top-k"))
        self.use_topk.setChecked(True)
        self.use_topk.setToolTip(tr("False-negative cancellation (Huynh et al. 2022): among the anchor's k most "
                                 "similar sentences and at or above the score"))
        self.topk = QSpinBox()
        self.topk.setRange(1, 1000)
        self.topk.setValue(d.topk or 10)
        self.topk.setPrefix("k = ")
        self.topk_threshold = _cosine_spin(d.topk_threshold, "≥ ")
        form.addRow(self.use_topk, _row(self.topk, self.topk_threshold))
        self.ref_kind = QComboBox()
        for key, label in REFERENCE_KINDS:
            self.ref_kind.addItem(tr(label), key)
        self.ref_kind.setToolTip(tr("DCLR (Zhou et al. 2022): a negative whose cosine under a frozen reference model "
                                 "exceeds the threshold is a candidate"))
        self.ref_kind.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.ref_kind.setMinimumContentsLength(8)
        self.ref_kind.activated.connect(self._ref_kind_chosen)
        self.ref_threshold = _cosine_spin(d.ref_threshold, tr("ref ≥ "))
        form.addRow(tr("Reference:"), _row(self.ref_kind, self.ref_threshold, stretch_first=True))
        self.ref_folder = QLineEdit()
        self.ref_folder.setPlaceholderText(tr("reference model folder"))
        self.ref_folder.setVisible(False)
        form.addRow(self.ref_folder)
        self.scan_button = QPushButton(tr("Scan probe set"))
        self.scan_button.setToolTip(tr("Run the detectors over the whole probe set (in the background)"))
        self.batch_detect = QCheckBox(tr("every new batch"))
        self.batch_detect.setToolTip(tr("Run the detectors on every new snapshot's batch (in the background)"))
        self.batch_detect.setChecked(True)
        form.addRow(_row(self.scan_button, self.batch_detect, stretch_end=True))
        self.scan_label = QLabel("")
        self.scan_label.setWordWrap(True)
        form.addRow(self.scan_label)
        self.pr_label = QLabel("")
        self.pr_label.setWordWrap(True)
        form.addRow(self.pr_label)

    def settings(self) -> DetectorSettings:
        return DetectorSettings(
            threshold=self.threshold.value() if self.use_threshold.isChecked() else None,
            duplicates=self.use_duplicates.isChecked(),
            topk=self.topk.value() if self.use_topk.isChecked() else None,
            topk_threshold=self.topk_threshold.value(),
            ref_threshold=self.ref_threshold.value())

    def reference(self, config: dict[str, Any]) -> ReferenceSpec | None:
        """The reference model chosen, for a run of ``config`` (its starting model and
        pooler), or None."""
        kind = self.ref_kind.currentData()
        length = int(config.get("max_seq_length", 32))
        if kind == "folder":
            spec = self.ref_folder.text().strip()
            return ReferenceSpec(spec, "auto", length) if spec else None
        if kind == "start":
            return ReferenceSpec(str(config.get("model_name_or_path") or "default"),
                                 str(config.get("pooler_type", "auto")), length)
        return None

    def _ref_kind_chosen(self, _index: int) -> None:
        kind = self.ref_kind.currentData()
        self.ref_folder.setVisible(kind == "folder")
        if kind == "folder" and not self.ref_folder.text().strip():
            d = QFileDialog.getExistingDirectory(self, tr("Reference model folder"), str(Path.home()))
            if d:
                self.ref_folder.setText(d)


class TriageFiles(QWidget):
    """Export CSV… / Export JSON… / Import… buttons for the triage decisions. Calls
    ``export(path)``, ``import_(path) -> count``; ``folder()`` is where the dialogs
    start; ``say(text, kind)`` reports (a failure is said, never raised)."""

    def __init__(self, export: Callable[[str], Any], import_: Callable[[str], int],
                 folder: Callable[[], str | None], say: Callable[[str, str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.export, self.import_, self.folder, self.say = export, import_, folder, say
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        for text, slot in ((tr("Export CSV…"), lambda: self.export_dialog("csv")),
                           (tr("Export JSON…"), lambda: self.export_dialog("json")),
                           (tr("Import…"), self.import_dialog)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            row.addWidget(b)

    def export_dialog(self, kind: str) -> None:
        start = str(Path(self.folder() or Path.home()) / f"triage.{kind}")
        path, _f = QFileDialog.getSaveFileName(self, tr("Export triage decisions"), start,
                                               tr("CSV (*.csv)") if kind == "csv" else tr("JSON (*.json)"))
        if path:
            try:
                self.export(path)
            except (OSError, SimCSEError) as e:
                self.say(tr("export failed: {error}").format(error=tr_error(e)), "error")

    def import_dialog(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self, tr("Import triage decisions"), str(self.folder() or Path.home()),
                                               tr("Triage (*.csv *.json)"))
        if path:
            try:
                n = self.import_(path)
                self.say(tr("imported {n} decisions from {path}").format(n=n, path=path), "info")
            except (OSError, SimCSEError) as e:
                self.say(tr("import failed: {error}").format(error=tr_error(e)), "error")


class MaskedPlot(pg.PlotWidget):
    """Negatives masked per step (the run model's ``n_masked`` series): ``curve``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMaximumHeight(120)
        self.setMinimumHeight(80)
        pi = self.getPlotItem()
        pi.setTitle(tr("negatives masked per step (n_masked)"), size="8pt")
        pi.setLabel("bottom", tr("step"))
        pi.showGrid(x=True, y=True, alpha=0.25)
        self.curve = pi.plot([], [], pen=pg.mkPen("#d62728", width=1.5), symbol="o", symbolSize=4,
                             symbolBrush="#d62728", symbolPen=None)

    SYMBOLS = 300  # markers past this many points cost more than they show (a snapshot a step: 10,000 an hour)

    def show_series(self, x: np.ndarray, y: np.ndarray) -> None:
        self.curve.setSymbol("o" if len(x) <= self.SYMBOLS else None)
        self.curve.setData(np.array(x, dtype=np.float64), np.array(y, dtype=np.float64))


def _row(*widgets: QWidget, stretch_first: bool = False, stretch_end: bool = False) -> QHBoxLayout:
    row = QHBoxLayout()
    for k, w in enumerate(widgets):
        row.addWidget(w, 1 if stretch_first and k == 0 else 0)
    if stretch_end:
        row.addStretch(1)
    return row
