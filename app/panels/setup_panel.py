"""The setup panel: what to train, on what, and how (one TrainConfig).

The fields come from one table, :data:`app.panels.setup_fields.FIELDS`: the layout,
:meth:`SetupPanel.config`, :meth:`SetupPanel.values` / :meth:`SetupPanel.set_values`
(the settings) and :meth:`SetupPanel.reset_to_defaults` are derived from it. Every
field has a tooltip saying what it does in the SimCSE recipe and its reference value.
The corpus is read by the engine in a worker thread; the panel shows a preview of the
first rows and the counts, or the engine's error message in red, and the engine's
message when the model's tokenizer cannot read much of it (``vocab_message``).

A replayed or followed run's settings are shown read-only (:meth:`SetupPanel.show_run_config`,
with a banner); the person's own setup comes back with :meth:`SetupPanel.show_own_setup`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
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

from app.i18n import tr
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
    values_from_config,
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
    own_setup_shown = Signal()

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
        self.vocab_message = ""
        self._own: dict[str, Any] | None = None  # the person's setup while a run's is shown
        self._running = False
        self._filling = False  # set_values is writing the fields
        self._corpus_request = 0
        self._corpus_worker: Any = None
        self._build()
        self.reset_to_defaults()

    # ---------------------------------------------------------------- building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.addWidget(self._build_banner())
        forms: dict[str, QFormLayout] = {}
        for group, title in GROUPS:
            box = QGroupBox(tr(title))
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
            forms[f.group].addRow("" if f.kind == "check" else tr(f.label), self._row(f, w))
            if f.attr == "text_column":  # the corpus's preview goes under its fields
                self._add_corpus_rows(forms[f.group])
        if "corpus_path" in self.browse_buttons:
            self.corpus_path.editingFinished.connect(self._corpus_edited)
            self.text_column.editingFinished.connect(self._corpus_edited)
        if "model_kind" in self.widgets:
            self.model_kind.currentIndexChanged.connect(self._model_kind_changed)
            self.model_kind.currentIndexChanged.connect(self._model_changed)
        if "model_folder" in self.widgets:
            self.model_folder.editingFinished.connect(self._model_changed)

    def _build_banner(self) -> QWidget:
        """The strip saying that a run's settings are shown (hidden otherwise)."""
        self.run_banner = QFrame()
        self.run_banner.setObjectName("runSettingsBanner")
        self.run_banner.setStyleSheet("#runSettingsBanner { background: #e8f1fb; border: 1px solid #0d47a1; "
                                      "border-radius: 4px; } #runSettingsBanner QLabel { color: #0d47a1; }")
        lay = QVBoxLayout(self.run_banner)
        lay.setContentsMargins(8, 6, 8, 6)
        self.run_banner_label = QLabel()
        self.run_banner_label.setWordWrap(True)
        lay.addWidget(self.run_banner_label)
        row = QHBoxLayout()
        self.own_setup_button = QPushButton(tr("Back to my setup"))
        self.own_setup_button.setToolTip(tr("Show your own setup again (the run's settings stay in its folder)"))
        self.own_setup_button.clicked.connect(self.show_own_setup)
        self.use_run_button = QPushButton(tr("Use these settings"))
        self.use_run_button.setToolTip(tr("Make the run's settings your setup (editable), e.g. to train it again"))
        self.use_run_button.clicked.connect(self.use_run_settings)
        row.addWidget(self.own_setup_button)
        row.addWidget(self.use_run_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.run_banner.hide()
        return self.run_banner

    def _row(self, f: SetupField, w: QWidget) -> QWidget:
        """The field's widget, with a Browse button beside a path."""
        if f.browse is None:
            return w
        button = QPushButton("…")
        button.setToolTip(tr("Browse: {what}").format(what=tr(f.browse[1])))
        button.setFixedWidth(max(30, button.sizeHint().height() + 6))
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
        self.vocab_label = QLabel()
        self.vocab_label.setObjectName("vocabWarning")
        self.vocab_label.setWordWrap(True)
        self.vocab_label.setStyleSheet("color: #b45309; font-weight: 600;")
        self.vocab_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.vocab_label.hide()
        p = self.preview = QTableWidget(0, 1)
        p.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        p.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        p.verticalHeader().setVisible(False)
        p.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        p.horizontalHeader().setStretchLastSection(True)
        p.setWordWrap(False)
        p.setMaximumHeight(170)
        p.setToolTip(tr("The first rows of the corpus as the engine reads them"))
        form.addRow(self.corpus_summary)
        form.addRow(self.corpus_error_label)
        form.addRow(self.vocab_label)
        form.addRow(p)

    def _browse(self, f: SetupField, edit: QLineEdit) -> None:
        assert f.browse is not None
        how, title, pattern = f.browse
        title, pattern = tr(title), tr(pattern)
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

    def set_values(self, v: dict[str, Any], read_corpus: bool = True) -> None:
        """Fill the panel from a (possibly partial, possibly stale) values dict
        (``read_corpus`` False: a corpus file that is not on this machine is shown, not read)."""
        self._filling = True
        try:
            for f in self.fields:
                if f.key in v and f.attr != "corpus_path":
                    write_value(f, self.widgets[f.key], v[f.key])
        finally:
            self._filling = False
        self._model_kind_changed()
        corpus = v.get("train_file")
        if corpus and "corpus_path" in self.browse_buttons:
            if read_corpus or Path(str(corpus)).is_file():
                self.set_corpus(str(corpus))
            else:
                self.corpus_path.setText(str(corpus))
                self.corpus_summary.setText(tr("the run's corpus (not on this machine)"))
                self.corpus_error_label.hide()
                self.vocab_label.hide()
                self.preview.setRowCount(0)

    def apply_config(self, config: TrainConfig | dict[str, Any]) -> None:
        """Fill the panel from a TrainConfig (or its dict): a recipe such as the first run's."""
        d = config.to_dict() if isinstance(config, TrainConfig) else dict(config)
        self.set_values(values_from_config(d))

    # ---------------------------------------------------------------- a run's settings
    @property
    def showing_run(self) -> bool:
        """A replayed or followed run's settings are shown (read-only)."""
        return self._own is not None

    def show_run_config(self, config: dict[str, Any], label: str) -> None:
        """Show a run's settings, read-only, with a banner; the person's own setup is
        kept and comes back with :meth:`show_own_setup` (or on Train)."""
        if not config:
            return
        if self._own is None:
            self._own = self.values()
        self.set_values(values_from_config(config), read_corpus=False)
        self.run_banner_label.setText(tr("<b>The settings of the shown run</b> (read-only): {label}").format(label=label))
        self.run_banner.show()
        self._apply_enabled()

    def show_own_setup(self) -> None:
        """Leave a run's settings: the person's own setup again, editable."""
        own, self._own = self._own, None
        self.run_banner.hide()
        self._apply_enabled()
        if own is not None:
            self.set_values(own)
            self.own_setup_shown.emit()

    def use_run_settings(self) -> None:
        """The shown run's settings become the person's setup (editable)."""
        self._own = None
        self.run_banner.hide()
        self._apply_enabled()
        if self.corpus_path.text().strip():
            self.set_corpus(self.corpus_path.text().strip())

    def own_values(self) -> dict[str, Any]:
        """The person's setup (what the settings store), also while a run's is shown."""
        return dict(self._own) if self._own is not None else self.values()

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
        self._running = running
        self._apply_enabled()

    def _apply_enabled(self) -> None:
        """Training: only the live fields are editable; a run's settings: none is."""
        read_only = self.showing_run
        for f in self.fields:
            on = not read_only and (f.live or not self._running)
            self.widgets[f.key].setEnabled(on)
            button = self.browse_buttons.get(f.attr)
            if button is not None:
                button.setEnabled(on)
        if not (self._running or read_only):
            self._model_kind_changed()

    # ---------------------------------------------------------------- model
    def _model_kind_changed(self) -> None:
        if "model_kind" not in self.widgets or "model_folder" not in self.browse_buttons:
            return
        is_folder = self.model_kind.currentData() == "folder"
        self.model_folder.setEnabled(is_folder)
        self.browse_buttons["model_folder"].setEnabled(is_folder)

    def _model_changed(self) -> None:
        """Another model: its tokenizer measures the corpus again (in the worker)."""
        path = self.corpus_path.text().strip()
        if (self._filling or self.showing_run or not path or self.corpus_error
                or self.corpus_preview is None or self.corpus_preview.model == self.model_spec()):
            return
        self.set_corpus(path)

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
        self.corpus_summary.setText(tr("reading…"))
        self.corpus_error_label.hide()
        column = self.text_column.text().strip() or None
        model = self.model_spec() if "model_kind" in self.widgets else None
        # a bound method, not a lambda: Qt drops the connection if the panel is deleted first
        self._corpus_worker = create_worker(preview_job, request, path, column, model,
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
            tr("<b>{n}</b> sentences · {empty} empty lines · {dup} duplicates").format(
                n=f"{preview.n_sentences:,}", empty=f"{preview.n_empty:,}", dup=f"{preview.n_duplicates:,}")
            + f"<br><span style='color:#666'>{preview.summary}</span>")
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
        self.vocab_message = preview.vocab_message
        self.vocab_label.setText(preview.vocab_message)
        self.vocab_label.setVisible(bool(preview.vocab_message))
        self.corpus_checked.emit(True)

    def _corpus_failed(self, failure: str) -> None:
        self.corpus_preview, self.corpus_error = None, failure
        self.vocab_message = ""
        self.vocab_label.hide()
        self.corpus_summary.setText("")
        self.corpus_error_label.setText(self.corpus_error)
        self.corpus_error_label.show()
        self.preview.clear()
        self.preview.setRowCount(0)
        self.preview.hide()
        self.corpus_checked.emit(False)


def preview_job(request: int, path: str, column: str | None,
                model: str | None = None) -> tuple[int, CorpusPreview | None, str]:
    """(request, preview or None, the engine's error line): the corpus preview (and,
    with ``model``, its vocabulary check) as a worker's job whose failure comes back as
    data (shown in red by the panel)."""
    try:
        return request, read_corpus_preview(path, column, model=model), ""
    except Exception as e:  # shown in the panel, never lost
        return request, None, error_text(e)
