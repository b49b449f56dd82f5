"""File > Explore a corpus…: choose the corpus file and the model that embeds it."""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QWidget)

from app.i18n import tr


class ExploreDialog(QDialog):
    """A corpus (.txt one sentence a line, .csv/.tsv with a text column, .jsonl), an
    optional text column and a model (a local folder, or ``default``)."""

    def __init__(self, corpus: str = "", model: str = "default", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Explore a corpus"))
        form = QFormLayout(self)
        form.addRow(QLabel(tr("Every sentence is embedded once (kept in a cache beside the corpus), laid out on a "
                              "map and indexed for search. A million sentences take about an hour on a laptop CPU; "
                              "a cancelled encode resumes.")))
        self.corpus = QLineEdit(corpus)
        form.addRow(tr("corpus"), self._with_browse(self.corpus, self._browse_corpus))
        self.text_column = QLineEdit()
        self.text_column.setPlaceholderText(tr("found by itself (csv, tsv, jsonl)"))
        form.addRow(tr("text column"), self.text_column)
        self.model = QLineEdit(model)
        self.model.setToolTip(tr("a model folder, default (the packaged model), or a run folder: the corpus under the "
                                 "run's start and trained model, before and after"))
        form.addRow(tr("model"), self._with_browse(self.model, self._browse_model))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @staticmethod
    def _with_browse(edit: QLineEdit, slot) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        b = QPushButton(tr("Browse…"))
        b.clicked.connect(slot)
        row.addWidget(b)
        return w

    def _browse_corpus(self) -> None:
        p, _f = QFileDialog.getOpenFileName(self, tr("Corpus"), self.corpus.text(),
                                            tr("Sentences (*.txt *.csv *.tsv *.jsonl);;All files (*)"))
        if p:
            self.corpus.setText(p)

    def _browse_model(self) -> None:
        p = QFileDialog.getExistingDirectory(self, tr("Model folder"), self.model.text())
        if p:
            self.model.setText(p)

    def chosen(self) -> tuple[str, str, str | None]:
        """(corpus, model, text column or None)."""
        return (self.corpus.text().strip(), self.model.text().strip() or "default",
                self.text_column.text().strip() or None)
