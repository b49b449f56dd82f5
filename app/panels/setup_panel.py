"""The setup panel: what to train, on what, and how (one TrainConfig).

The fields come from one table, :data:`app.panels.setup_fields.FIELDS`: the layout,
:meth:`SetupPanel.config`, :meth:`SetupPanel.values` / :meth:`SetupPanel.set_values`
(the settings) and :meth:`SetupPanel.reset_to_defaults` are derived from it. Every
field has a tooltip saying what it does in the SimCSE recipe and its reference value.
The corpus is read by the engine in a worker thread; the panel shows a preview of the
first rows and the counts, or the engine's error message in red.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
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
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from simcse_core.config import TrainConfig

from app.panels.setup_fields import (
    FIELDS,
    GROUPS,
    MODEL_KINDS,
    STUDIO_SNAPSHOT_EVERY,
    SetupField,
    changed_signal,
    make_widget,
    parse_number,
    read_value,
    write_value,
)
from app.runs.workers import CorpusPreview, error_text, read_corpus_preview

__all__ = ["MODEL_KINDS", "STUDIO_SNAPSHOT_EVERY", "SetupPanel"]


class SetupPanel(QWidget):
    """Form for a :class:`TrainConfig`, built from ``fields`` (default
    :data:`~app.panels.setup_fields.FIELDS`). Each field's widget is the attribute
    named by its ``attr`` (``panel.temp``, ``panel.lr``...) and ``widgets[key]``.

    Signals: ``corpus_checked(ok)`` when a corpus read ends; ``changed()`` on any edit.
    """

    corpus_checked = Signal(bool)
    changed = Signal()

    # fields the studio reads by name (their widgets' types, for readers of the code)
    model_kind: QComboBox
    model_folder: QLineEdit
    corpus_path: QLineEdit
    text_column: QLineEdit
    temp: QDoubleSpinBox
    lr: QLineEdit
    batch: QSpinBox
    dropout: QDoubleSpinBox
    loss_variant: QComboBox
    tau_plus: QDoubleSpinBox
    device: QComboBox
    mlp_only_train: QCheckBox

    def __init__(self, parent: QWidget | None = None, *, fields: Sequence[SetupField] = FIELDS) -> None:
        super().__init__(parent)
        self.fields = tuple(fields)
        self.widgets: dict[str, QWidget] = {}  # values() key -> widget
        self.browse_buttons: dict[str, QPushButton] = {}  # path fields' attr -> Browse button
        self.corpus_preview: CorpusPreview | None = None
        self.corpus_error: str | None = None
        self._corpus_request = 0
        self._corpus_worker: Any = None
        self._build()
        self.reset_to_defaults()

    # ---------------------------------------------------------------- building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        forms: dict[str, QFormLayout] = {}
        for group, title in GROUPS:
            box = QGroupBox(title)
            box.setObjectName(f"{group}Group")
            forms[group] = QFormLayout(box)
            forms[group].setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            outer.addWidget(box)
        outer.addStretch(1)
        for f in self.fields:
            w = make_widget(f)
            setattr(self, f.attr, w)
            self.widgets[f.key] = w
            changed_signal(w).connect(self.changed)
            forms[f.group].addRow("" if f.kind == "check" else f.label, self._row(f, w))
            if f.attr == "text_column":  # the corpus's preview goes under its fields
                self._add_corpus_rows(forms[f.group])
        if "corpus_path" in self.browse_buttons:
            self.corpus_path.editingFinished.connect(self._corpus_edited)
            self.text_column.editingFinished.connect(self._corpus_edited)
        if "model_kind" in self.widgets:
            self.model_kind.currentIndexChanged.connect(self._model_kind_changed)

    def _row(self, f: SetupField, w: QWidget) -> QWidget:
        """The field's widget, with a Browse button beside a path."""
        if f.browse is None:
            return w
        button = QPushButton("Browse…")
        button.clicked.connect(lambda _c=False, field=f, edit=w: self._browse(field, edit))
        self.browse_buttons[f.attr] = button
        row = QWidget()
        row.setToolTip(f.tip)
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(w, 1)
        lay.addWidget(button)
        return row

    def _add_corpus_rows(self, form: QFormLayout) -> None:
        self.corpus_summary = QLabel()
        self.corpus_summary.setWordWrap(True)
        self.corpus_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.corpus_error_label = QLabel()
        self.corpus_error_label.setObjectName("corpusError")
        self.corpus_error_label.setWordWrap(True)
        self.corpus_error_label.setStyleSheet("color: #c62828; font-weight: 600;")
        self.corpus_error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.corpus_error_label.hide()
        p = self.preview = QTableWidget(0, 1)
        p.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        p.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        p.verticalHeader().setVisible(False)
        p.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        p.horizontalHeader().setStretchLastSection(True)
        p.setWordWrap(False)
        p.setMaximumHeight(170)
        p.setToolTip("The first rows of the corpus as the engine reads them")
        form.addRow(self.corpus_summary)
        form.addRow(self.corpus_error_label)
        form.addRow(p)

    def _browse(self, f: SetupField, edit: QLineEdit) -> None:
        assert f.browse is not None
        how, title, pattern = f.browse
        if how == "dir":
            chosen = QFileDialog.getExistingDirectory(self, title, edit.text())
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, title, edit.text(), pattern)
        if chosen:
            edit.setText(chosen)
            edit.editingFinished.emit()  # as if typed (the corpus is read again)

    # ---------------------------------------------------------------- values
    def reset_to_defaults(self) -> None:
        """The reference recipe with the packaged model and the demo corpus."""
        ref = TrainConfig()
        self.set_values({f.key: f.reference(ref) for f in self.fields})

    def values(self) -> dict[str, Any]:
        """The panel as a JSON-able dict (what the settings store)."""
        return {f.key: read_value(f, self.widgets[f.key]) for f in self.fields}

    def set_values(self, v: dict[str, Any]) -> None:
        """Fill the panel from a (possibly partial, possibly stale) values dict."""
        for f in self.fields:
            if f.key in v and f.attr != "corpus_path":
                write_value(f, self.widgets[f.key], v[f.key])
        self._model_kind_changed()
        corpus = v.get("train_file")
        if corpus and "corpus_path" in self.browse_buttons:
            self.set_corpus(str(corpus))

    def learning_rate(self) -> float:
        """The typed learning rate (NaN when it is not a number)."""
        return parse_number(self.lr.text())

    def model_spec(self) -> str:
        kind = self.model_kind.currentData()
        if kind == "folder":
            return self.model_folder.text().strip()
        return str(kind)

    def config(self) -> TrainConfig:
        """A TrainConfig from the panel (``output_dir`` is left for the caller)."""
        v = self.values()
        kwargs = {f.config_key: f.config_value(v[f.key]) for f in self.fields if f.config_key}
        return TrainConfig(model_name_or_path=self.model_spec(), **kwargs)

    def set_running(self, running: bool) -> None:
        """While training only the live-changeable fields (temperature, lr) stay enabled."""
        live = {self.widgets[f.key] for f in self.fields if f.live}
        keep = live | {self.preview}
        for box in self.findChildren(QGroupBox):
            for w in box.findChildren(QWidget):
                if w not in keep and not any(w.isAncestorOf(k) for k in live):
                    w.setEnabled(not running)
        if not running:
            self._model_kind_changed()

    # ---------------------------------------------------------------- model
    def _model_kind_changed(self) -> None:
        if "model_kind" not in self.widgets or "model_folder" not in self.browse_buttons:
            return
        is_folder = self.model_kind.currentData() == "folder"
        self.model_folder.setEnabled(is_folder)
        self.browse_buttons["model_folder"].setEnabled(is_folder)

    # ---------------------------------------------------------------- corpus
    def _corpus_edited(self) -> None:
        path = self.corpus_path.text().strip()
        if path and (self.corpus_preview is None or self.corpus_preview.path != path or self.corpus_error):
            self.set_corpus(path)

    def set_corpus(self, path: str) -> None:
        """Show ``path`` and read it in a worker; ``corpus_checked`` fires when done."""
        if self.corpus_path.text() != path:
            self.corpus_path.setText(path)
        self._corpus_request += 1
        request = self._corpus_request
        self.corpus_summary.setText("reading…")
        self.corpus_error_label.hide()
        column = self.text_column.text().strip() or None
        # a bound method, not a lambda: Qt drops the connection if the panel is deleted first
        self._corpus_worker = create_worker(preview_job, request, path, column,
                                            _connect={"returned": self._corpus_returned})

    def _corpus_returned(self, out: tuple[int, CorpusPreview | None, str]) -> None:
        request, preview, failure = out
        if request != self._corpus_request:
            return  # a newer file was chosen meanwhile
        if preview is None:
            self._corpus_failed(failure)
        else:
            self._corpus_read(preview)

    def _corpus_read(self, preview: CorpusPreview) -> None:
        self.corpus_preview, self.corpus_error = preview, None
        self.corpus_error_label.hide()
        self.corpus_summary.setText(
            f"<b>{preview.n_sentences:,}</b> sentences · {preview.n_empty:,} empty lines · "
            f"{preview.n_duplicates:,} duplicates<br><span style='color:#666'>{preview.summary}</span>")
        self.preview.clear()
        self.preview.setColumnCount(len(preview.headers))
        self.preview.setHorizontalHeaderLabels(preview.headers)
        self.preview.setRowCount(len(preview.rows))
        for r, row in enumerate(preview.rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.preview.setItem(r, c, item)
        self.preview.setColumnWidth(0, 260)
        self.preview.show()
        self.corpus_checked.emit(True)

    def _corpus_failed(self, failure: str) -> None:
        self.corpus_preview, self.corpus_error = None, failure
        self.corpus_summary.setText("")
        self.corpus_error_label.setText(self.corpus_error)
        self.corpus_error_label.show()
        self.preview.clear()
        self.preview.setRowCount(0)
        self.preview.hide()
        self.corpus_checked.emit(False)


def preview_job(request: int, path: str, column: str | None) -> tuple[int, CorpusPreview | None, str]:
    """(request, preview or None, the engine's error line): the corpus preview as a
    worker's job whose failure comes back as data (shown in red by the panel)."""
    try:
        return request, read_corpus_preview(path, column), ""
    except Exception as e:  # shown in the panel, never lost
        return request, None, error_text(e)
