"""The setup panel: what to train, on what, and how (one TrainConfig).

Every field has a tooltip saying what it does in the SimCSE recipe and its reference
default. The corpus is read by the engine in a worker thread; the panel shows a
preview of the first rows and the counts, or the engine's error message in red.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
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

from simcse_core.config import LOSS_VARIANTS, MODES, POOLERS, TrainConfig
from simcse_core.data import default_corpus_path

from app.runs.workers import CorpusPreview, error_text, read_corpus_preview

MODEL_KINDS = {
    "default": "Default: all-MiniLM-L6-v2 (packaged)",
    "random:default": "Random init of the default (from scratch)",
    "folder": "Local folder…",
}

TIPS = {
    "model": "The encoder to fine-tune. The default is all-MiniLM-L6-v2 (6 layers, 384 dims, mean pooling), "
             "packaged with the studio. 'Random init' keeps its architecture and tokenizer with fresh weights: "
             "training from scratch shows the geometry move (collapse, then spreading over the sphere). "
             "A local folder may be a Hugging Face or sentence-transformers model (safetensors).",
    "corpus": "Training sentences: .txt (one a line), .csv/.tsv with a header (column 'text' or similar), "
              "or .jsonl. Unsupervised SimCSE feeds each sentence twice; the two dropout views are the "
              "positive pair, the other sentences of the batch the negatives. Reference: 1M Wikipedia "
              "sentences. Empty lines are skipped; exact duplicates become false negatives when they share a batch.",
    "text_column": "The csv/tsv/jsonl column holding the text. Empty: detected ('text', 'sentence', 'sent0'...).",
    "mode": "unsup: dropout is the only augmentation (a sentence and itself are the positive pair). "
            "sup: rows of (sent0, sent1[, hard_neg]) such as NLI entailment pairs with contradictions "
            "as hard negatives. Reference: unsup.",
    "temp": "Temperature t of InfoNCE: logits are cos/t. Small t concentrates the gradient on the hardest "
            "negatives (more uniform, less tolerant of false negatives); large t weighs every negative alike. "
            "Reference 0.05. Can be changed while training (Apply).",
    "batch": "Sentences per batch N: each has N-1 in-batch negatives (simcse layout) or 2N-2 (ntxent). "
             "The chance loss is log N. Reference 64 (insensitive from 64 to 512 if the learning rate is tuned).",
    "lr": "Peak learning rate of AdamW, decayed linearly to 0, no warm-up. Reference 3e-5 for BERT-base "
          "(unsup). Can be changed while training (Apply).",
    "max_steps": "Optimizer steps to run; 0 uses the epochs below instead. A short run (a few hundred steps) "
                 "is enough to watch the geometry move.",
    "epochs": "Passes over the corpus (used when steps is 0). Reference: 1 epoch of 1M sentences.",
    "max_len": "Sentences are truncated to this many tokens. Reference 32 (short sentences train faster).",
    "pooler": "How a sentence vector is taken from the token outputs. auto: the model's own (mean pooling for "
              "the default MiniLM, cls for a plain BERT). cls: [CLS] with SimCSE's MLP (dense + tanh); "
              "cls_before_pooler: [CLS] without the MLP; avg: mean over tokens. Reference for BERT: cls with "
              "the MLP in training only.",
    "mlp_only_train": "Use the MLP on top of [CLS] in training only and evaluate without it (the reference "
                      "unsup recipe: cls in training, cls_before_pooler at test). Only with pooler cls.",
    "dropout": "Hidden and attention dropout p: the two dropout masks are SimCSE's only augmentation. "
               "Reference 0.1 (the model's own). p=0 makes the positive pair identical and the space "
               "collapses (paper Table 3: 0.0 -> 71.1, 0.1 -> 82.5 STS-B dev).",
    "loss_variant": "simcse: the reference N x N logits (first view vs second view, N-1 negatives, chance log N). "
                    "ntxent: SimCLR's 2N x 2N layout with same-view negatives too (2N-2 negatives, chance "
                    "log(2N-1)). Reference: simcse.",
    "device": "Where to train. auto picks cuda, then mps, then cpu. Reference: one GPU with bf16/fp16.",
    "seed": "Seeds the batch order, dropout masks and probe set: the same seed and config give the same "
            "losses on the CPU. Reference 42.",
    "snapshot_every": "Every so many steps the trainer encodes the probe set and sends a snapshot (geometry, "
                      "alignment, uniformity, last batch's cosines). Smaller: finer plots, slower training. "
                      "The paper's Figure 2 uses a point every 10 steps.",
    "probe_size": "Sentences of the fixed probe set encoded at each snapshot (alignment, uniformity, anisotropy "
                  "and the later sphere/UMAP views). Larger: smoother estimates, slower snapshots.",
    "eval_file": "Optional STS file (e.g. STS-B dev: score and two sentences). Spearman x 100 of the cosine "
                 "with the gold scores is computed every 'eval every' steps, as SimCSE selects its model on "
                 "STS-B dev every 125 steps. The default model starts near 86.7 on STS-B dev.",
    "eval_every": "Steps between STS evaluations (reference 125).",
}


def _with_tip(w: QWidget, key: str) -> QWidget:
    w.setToolTip(TIPS[key])
    w.setWhatsThis(TIPS[key])
    return w



STUDIO_SNAPSHOT_EVERY = 5  # steps between snapshots in the studio (headless default: 25)

class SetupPanel(QWidget):
    """Form for a :class:`TrainConfig`. ``corpus_checked(ok)`` fires when a corpus read ends."""

    corpus_checked = Signal(bool)
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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

        # --- model and data
        data_box = QGroupBox("Model and data")
        form = QFormLayout(data_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.model_kind = QComboBox()
        for key, label in MODEL_KINDS.items():
            self.model_kind.addItem(label, key)
        self.model_folder = QLineEdit()
        self.model_folder.setPlaceholderText("a Hugging Face or sentence-transformers folder")
        self.model_browse = QPushButton("Browse…")
        self.model_browse.clicked.connect(self._browse_model)
        self.model_kind.currentIndexChanged.connect(self._model_kind_changed)
        row = QHBoxLayout()
        row.addWidget(self.model_folder, 1)
        row.addWidget(self.model_browse)
        form.addRow("Model", _with_tip(self.model_kind, "model"))
        form.addRow("", self._wrap(row, "model"))

        self.corpus_path = QLineEdit()
        self.corpus_path.editingFinished.connect(self._corpus_edited)
        corpus_browse = QPushButton("Browse…")
        corpus_browse.clicked.connect(self._browse_corpus)
        row = QHBoxLayout()
        row.addWidget(self.corpus_path, 1)
        row.addWidget(corpus_browse)
        form.addRow("Corpus", self._wrap(row, "corpus"))
        self.text_column = QLineEdit()
        self.text_column.setPlaceholderText("auto")
        self.text_column.editingFinished.connect(self._corpus_edited)
        form.addRow("Text column", _with_tip(self.text_column, "text_column"))

        self.corpus_summary = QLabel()
        self.corpus_summary.setWordWrap(True)
        self.corpus_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.corpus_error_label = QLabel()
        self.corpus_error_label.setObjectName("corpusError")
        self.corpus_error_label.setWordWrap(True)
        self.corpus_error_label.setStyleSheet("color: #c62828; font-weight: 600;")
        self.corpus_error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.corpus_error_label.hide()
        self.preview = QTableWidget(0, 1)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.preview.verticalHeader().setVisible(False)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.preview.horizontalHeader().setStretchLastSection(True)
        self.preview.setWordWrap(False)
        self.preview.setMaximumHeight(170)
        self.preview.setToolTip("The first rows of the corpus as the engine reads them")
        form.addRow(self.corpus_summary)
        form.addRow(self.corpus_error_label)
        form.addRow(self.preview)

        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        form.addRow("Mode", _with_tip(self.mode, "mode"))
        self.eval_file = QLineEdit()
        self.eval_file.setPlaceholderText("none")
        eval_browse = QPushButton("Browse…")
        eval_browse.clicked.connect(self._browse_eval)
        row = QHBoxLayout()
        row.addWidget(self.eval_file, 1)
        row.addWidget(eval_browse)
        form.addRow("STS eval file", self._wrap(row, "eval_file"))
        outer.addWidget(data_box)

        # --- recipe
        recipe = QGroupBox("Recipe")
        form = QFormLayout(recipe)
        self.temp = QDoubleSpinBox()
        self.temp.setDecimals(4)
        self.temp.setRange(0.0001, 10.0)
        self.temp.setSingleStep(0.01)
        form.addRow("Temperature", _with_tip(self.temp, "temp"))
        self.batch = QSpinBox()
        self.batch.setRange(2, 65536)
        form.addRow("Batch size", _with_tip(self.batch, "batch"))
        self.lr = QLineEdit()
        v = QDoubleValidator(0.0, 1.0, 12, self.lr)
        v.setNotation(QDoubleValidator.Notation.ScientificNotation)
        self.lr.setValidator(v)
        form.addRow("Learning rate", _with_tip(self.lr, "lr"))
        self.max_steps = QSpinBox()
        self.max_steps.setRange(0, 10_000_000)
        self.max_steps.setSpecialValueText("use epochs")
        form.addRow("Steps", _with_tip(self.max_steps, "max_steps"))
        self.epochs = QDoubleSpinBox()
        self.epochs.setDecimals(2)
        self.epochs.setRange(0.01, 1000.0)
        form.addRow("Epochs", _with_tip(self.epochs, "epochs"))
        self.max_len = QSpinBox()
        self.max_len.setRange(4, 4096)
        form.addRow("Max length", _with_tip(self.max_len, "max_len"))
        self.pooler = QComboBox()
        self.pooler.addItems(list(POOLERS))
        form.addRow("Pooler", _with_tip(self.pooler, "pooler"))
        self.mlp_only_train = QCheckBox("MLP in training only")
        form.addRow("", _with_tip(self.mlp_only_train, "mlp_only_train"))
        self.dropout = QDoubleSpinBox()
        self.dropout.setDecimals(2)
        self.dropout.setRange(-0.01, 0.95)
        self.dropout.setSingleStep(0.05)
        self.dropout.setSpecialValueText("model's own (0.1)")
        form.addRow("Dropout", _with_tip(self.dropout, "dropout"))
        self.loss_variant = QComboBox()
        self.loss_variant.addItems(list(LOSS_VARIANTS))
        form.addRow("Loss", _with_tip(self.loss_variant, "loss_variant"))
        outer.addWidget(recipe)

        # --- run
        run_box = QGroupBox("Run")
        form = QFormLayout(run_box)
        self.device = QComboBox()
        self.device.addItems(_devices())
        form.addRow("Device", _with_tip(self.device, "device"))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        form.addRow("Seed", _with_tip(self.seed, "seed"))
        self.snapshot_every = QSpinBox()
        self.snapshot_every.setRange(1, 1_000_000)
        form.addRow("Snapshot every", _with_tip(self.snapshot_every, "snapshot_every"))
        self.probe_size = QSpinBox()
        self.probe_size.setRange(2, 1_000_000)
        form.addRow("Probe size", _with_tip(self.probe_size, "probe_size"))
        self.eval_every = QSpinBox()
        self.eval_every.setRange(1, 1_000_000)
        form.addRow("Eval every", _with_tip(self.eval_every, "eval_every"))
        outer.addWidget(run_box)
        outer.addStretch(1)

        for w in (self.temp, self.epochs, self.dropout):
            w.valueChanged.connect(self.changed)
        for w in (self.batch, self.max_steps, self.max_len, self.seed, self.snapshot_every, self.probe_size, self.eval_every):
            w.valueChanged.connect(self.changed)
        for w in (self.model_kind, self.mode, self.pooler, self.loss_variant, self.device):
            w.currentIndexChanged.connect(self.changed)
        for w in (self.lr, self.model_folder, self.corpus_path, self.text_column, self.eval_file):
            w.textChanged.connect(self.changed)

    def _wrap(self, layout: QHBoxLayout, tip: str) -> QWidget:
        w = QWidget()
        layout.setContentsMargins(0, 0, 0, 0)
        w.setLayout(layout)
        return _with_tip(w, tip)

    # ---------------------------------------------------------------- values
    def reset_to_defaults(self) -> None:
        """The reference recipe with the packaged model and the demo corpus."""
        c = TrainConfig()
        self.set_values({
            "model_kind": "default", "model_folder": "", "train_file": str(default_corpus_path()),
            "text_column": "", "mode": c.mode, "temp": c.temp, "per_device_train_batch_size": c.per_device_train_batch_size,
            "learning_rate": c.learning_rate, "max_steps": 0, "num_train_epochs": c.num_train_epochs,
            "max_seq_length": c.max_seq_length, "pooler_type": c.pooler_type, "mlp_only_train": c.mlp_only_train,
            "dropout": None, "loss_variant": c.loss_variant, "device": c.device, "seed": c.seed,
            # a denser snapshot stream than the headless default: the studio is for watching
            "snapshot_every": STUDIO_SNAPSHOT_EVERY, "probe_size": c.probe_size, "eval_file": "",
            "eval_every": c.eval_every,
        })

    def values(self) -> dict[str, Any]:
        """The panel as a JSON-able dict (what the settings store)."""
        drop = self.dropout.value()
        return {
            "model_kind": self.model_kind.currentData(),
            "model_folder": self.model_folder.text().strip(),
            "train_file": self.corpus_path.text().strip(),
            "text_column": self.text_column.text().strip(),
            "mode": self.mode.currentText(),
            "temp": self.temp.value(),
            "per_device_train_batch_size": self.batch.value(),
            "learning_rate": self.learning_rate(),
            "max_steps": self.max_steps.value(),
            "num_train_epochs": self.epochs.value(),
            "max_seq_length": self.max_len.value(),
            "pooler_type": self.pooler.currentText(),
            "mlp_only_train": self.mlp_only_train.isChecked(),
            "dropout": None if drop < 0 else round(drop, 4),
            "loss_variant": self.loss_variant.currentText(),
            "device": self.device.currentText(),
            "seed": self.seed.value(),
            "snapshot_every": self.snapshot_every.value(),
            "probe_size": self.probe_size.value(),
            "eval_file": self.eval_file.text().strip(),
            "eval_every": self.eval_every.value(),
        }

    def set_values(self, v: dict[str, Any]) -> None:
        """Fill the panel from a (possibly partial, possibly stale) values dict."""

        def combo(box: QComboBox, value: Any, by_data: bool = False) -> None:
            i = box.findData(value) if by_data else box.findText(str(value))
            if i >= 0:
                box.setCurrentIndex(i)

        def num(key: str, setter: Any, cast: Any) -> None:
            if key in v and v[key] is not None:
                try:
                    setter(cast(v[key]))
                except (TypeError, ValueError):
                    pass

        if "model_kind" in v:
            combo(self.model_kind, v["model_kind"], by_data=True)
        if "model_folder" in v:
            self.model_folder.setText(str(v["model_folder"] or ""))
        if "text_column" in v:
            self.text_column.setText(str(v["text_column"] or ""))
        if "mode" in v:
            combo(self.mode, v["mode"])
        num("temp", self.temp.setValue, float)
        num("per_device_train_batch_size", self.batch.setValue, int)
        if "learning_rate" in v and v["learning_rate"] is not None:
            self.lr.setText(_fmt_lr(float(v["learning_rate"])))
        num("max_steps", self.max_steps.setValue, int)
        num("num_train_epochs", self.epochs.setValue, float)
        num("max_seq_length", self.max_len.setValue, int)
        if "pooler_type" in v:
            combo(self.pooler, v["pooler_type"])
        if "mlp_only_train" in v:
            self.mlp_only_train.setChecked(bool(v["mlp_only_train"]))
        if "dropout" in v:
            self.dropout.setValue(-0.01 if v["dropout"] is None else float(v["dropout"]))
        if "loss_variant" in v:
            combo(self.loss_variant, v["loss_variant"])
        if "device" in v:
            combo(self.device, v["device"])
        num("seed", self.seed.setValue, int)
        num("snapshot_every", self.snapshot_every.setValue, int)
        num("probe_size", self.probe_size.setValue, int)
        num("eval_every", self.eval_every.setValue, int)
        if "eval_file" in v:
            self.eval_file.setText(str(v["eval_file"] or ""))
        self._model_kind_changed()
        if "train_file" in v and v["train_file"]:
            self.set_corpus(str(v["train_file"]))

    def learning_rate(self) -> float:
        try:
            x = float(self.lr.text().strip().replace(",", "."))
        except ValueError:
            return math.nan
        return x

    def model_spec(self) -> str:
        kind = self.model_kind.currentData()
        if kind == "folder":
            return self.model_folder.text().strip()
        return str(kind)

    def config(self) -> TrainConfig:
        """A TrainConfig from the panel (``output_dir`` is left for the caller)."""
        v = self.values()
        return TrainConfig(
            model_name_or_path=self.model_spec(),
            train_file=v["train_file"] or None,
            text_column=v["text_column"] or None,
            mode=v["mode"],
            temp=float(v["temp"]),
            pooler_type=v["pooler_type"],
            mlp_only_train=bool(v["mlp_only_train"]),
            dropout=v["dropout"],
            loss_variant=v["loss_variant"],
            learning_rate=float(v["learning_rate"]),
            per_device_train_batch_size=int(v["per_device_train_batch_size"]),
            num_train_epochs=float(v["num_train_epochs"]),
            max_steps=int(v["max_steps"]) if v["max_steps"] > 0 else -1,
            max_seq_length=int(v["max_seq_length"]),
            seed=int(v["seed"]),
            device=v["device"],
            snapshot_every=int(v["snapshot_every"]),
            probe_size=int(v["probe_size"]),
            eval_file=v["eval_file"] or None,
            eval_every=int(v["eval_every"]),
        )

    def set_running(self, running: bool) -> None:
        """While training only the live-changeable fields (temperature, lr) stay enabled."""
        for box in self.findChildren(QGroupBox):
            for w in box.findChildren(QWidget):
                if w in (self.temp, self.lr, self.preview):
                    continue
                w.setEnabled(not running)
        self.temp.setEnabled(True)
        self.lr.setEnabled(True)
        if not running:
            self._model_kind_changed()

    # ---------------------------------------------------------------- model
    def _model_kind_changed(self) -> None:
        is_folder = self.model_kind.currentData() == "folder"
        self.model_folder.setEnabled(is_folder)
        self.model_browse.setEnabled(is_folder)

    def _browse_model(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Model folder", self.model_folder.text())
        if d:
            self.model_folder.setText(d)

    def _browse_eval(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "STS evaluation file", self.eval_file.text(),
                                           "STS files (*.csv *.tsv *.txt);;All files (*)")
        if f:
            self.eval_file.setText(f)

    # ---------------------------------------------------------------- corpus
    def _browse_corpus(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Training corpus", self.corpus_path.text(),
                                           "Corpora (*.csv *.tsv *.txt *.jsonl);;All files (*)")
        if f:
            self.set_corpus(f)

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
        # errors are handled here (errored connected up front: superqt re-raises otherwise)
        self._corpus_worker = create_worker(read_corpus_preview, path, column, _connect={
            "returned": lambda p, r=request: self._corpus_read(r, p),
            "errored": lambda e, r=request: self._corpus_failed(r, e)})

    def _corpus_read(self, request: int, preview: CorpusPreview) -> None:
        if request != self._corpus_request:
            return  # a newer file was chosen meanwhile
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

    def _corpus_failed(self, request: int, exc: BaseException) -> None:
        if request != self._corpus_request:
            return
        self.corpus_preview, self.corpus_error = None, error_text(exc)
        self.corpus_summary.setText("")
        self.corpus_error_label.setText(self.corpus_error)
        self.corpus_error_label.show()
        self.preview.clear()
        self.preview.setRowCount(0)
        self.preview.hide()
        self.corpus_checked.emit(False)


def _devices() -> list[str]:
    from simcse_core.model import available_devices

    return available_devices()


def _fmt_lr(x: float) -> str:
    return f"{x:g}" if x != 0 else "0"
