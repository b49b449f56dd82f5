"""The setup panel's fields, as one table: :data:`FIELDS`.

Each :class:`SetupField` says everything about one field: the panel attribute holding
its widget, its key in the saved values (settings), the TrainConfig field it fills and
how, its label, widget kind, range, tooltip and reference value. The panel's layout,
``config()``, ``values()`` / ``set_values()`` (settings) and "reset to the reference
recipe" all derive from the table, so a new field is one entry here.

Widget kinds (:data:`KINDS`): ``int`` (spin box), ``float`` (double spin box),
``sci`` (a number typed in scientific notation), ``text`` (line edit), ``path`` (line
edit and a Browse button), ``choice`` (combo box: ``choices()`` gives (value, text,
tooltip)), ``check`` (check box).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from simcse_core.config import MODES, POOLERS
from simcse_core.data import default_corpus_path
from simcse_core.losses import loss_choices

from app.i18n import N_, tr

KINDS = ("int", "float", "sci", "text", "path", "choice", "check")
GROUPS = (("data", N_("Model and data")), ("recipe", N_("Recipe")), ("run", N_("Run")))
FROM_CONFIG = object()  # a field's reference value is TrainConfig()'s
STUDIO_SNAPSHOT_EVERY = 5  # steps between snapshots in the studio (headless default: 25)

Choices = Callable[[], Sequence[tuple[str, str, str]]]  # (value, shown text, tooltip)


@dataclass(frozen=True)
class SetupField:
    """One setup field.

    - ``attr``: the panel attribute holding the widget (``panel.temp``);
    - ``key``: its key in ``values()`` (what the settings store);
    - ``config``: the TrainConfig field it fills (``""``: same as ``key``; None: none,
      the panel derives it, e.g. the model spec) and ``to_config`` the conversion;
    - ``label``, ``kind`` (see :data:`KINDS`), ``group`` (see :data:`GROUPS`), ``tip``;
    - ``default``: the reference value (:data:`FROM_CONFIG`, a constant, or a callable
      of no argument);
    - ``range``, ``decimals``, ``step``, ``special`` (text shown at the minimum) and
      ``none_at_min`` (the minimum means None) for numbers; ``choices`` for ``choice``;
      ``placeholder`` for text; ``browse`` (``"file"`` or ``"dir"``, title, filter)
      for ``path``; ``live``: stays enabled while training (changed with Apply).
    """

    attr: str
    key: str
    label: str
    kind: str
    group: str
    tip: str
    config: str | None = ""
    to_config: Callable[[Any], Any] | None = None
    default: Any = FROM_CONFIG
    range: tuple[float, float] | None = None
    decimals: int = 2
    step: float = 0.0
    special: str = ""
    none_at_min: bool = False
    choices: Choices | None = None
    placeholder: str = ""
    browse: tuple[str, str, str] | None = None
    live: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setup field {self.key!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.group not in dict(GROUPS):
            raise ValueError(f"setup field {self.key!r}: group {self.group!r} is not one of {dict(GROUPS)}")

    @property
    def config_key(self) -> str | None:
        return self.key if self.config == "" else self.config

    def reference(self, config: Any) -> Any:
        """The field's value in the reference recipe (``config``: a default TrainConfig)."""
        if self.default is FROM_CONFIG:
            return getattr(config, self.config_key or self.key)
        return self.default() if callable(self.default) else self.default

    def config_value(self, value: Any) -> Any:
        return self.to_config(value) if self.to_config is not None else value


# ---------------------------------------------------------------------- choices
def plain(values: Sequence[str]) -> Choices:
    return lambda: [(v, v, "") for v in values]


def losses() -> list[tuple[str, str, str]]:
    """The engine's loss registry: (name, name, description)."""
    return [(name, name, desc) for name, desc in loss_choices()]


def devices() -> list[tuple[str, str, str]]:
    from simcse_core.model import available_devices

    return [(d, d, "") for d in available_devices()]


MODEL_KINDS = {
    "default": N_("Default: all-MiniLM-L6-v2 (packaged)"),
    "reinit:all:default": N_("Default's words, fresh layers (first run)"),
    "random:default": N_("Random init of the default (from scratch)"),
    "folder": N_("Local folder…"),
}


def model_kinds() -> list[tuple[str, str, str]]:
    return [(k, label, "") for k, label in MODEL_KINDS.items()]


def none_if_empty(value: Any) -> Any:
    return value or None


def steps_or_epochs(value: int) -> int:
    return int(value) if value > 0 else -1  # 0 in the panel: train by epochs


# ---------------------------------------------------------------------- the table
MODEL_TIP = (N_("The encoder to fine-tune. The default is all-MiniLM-L6-v2 (6 layers, 384 dims, mean pooling), "
             "packaged with the studio. 'Random init' keeps its architecture and tokenizer with fresh weights: "
             "training from scratch shows the geometry move (collapse, then spreading over the sphere). "
             "A local folder may be a Hugging Face or sentence-transformers model (safetensors). "
             "'Default's words, fresh layers' keeps the default's word embeddings and re-initialises its six "
             "layers (the first-run recipe): the words carry meaning, the sentence geometry must be learnt."))

FIELDS: tuple[SetupField, ...] = (
    # --- model and data
    SetupField("model_kind", "model_kind", N_("Model"), "choice", "data", MODEL_TIP, config=None, default="default",
               choices=model_kinds),
    SetupField("model_folder", "model_folder", "", "path", "data", MODEL_TIP, config=None, default="",
               placeholder=N_("a Hugging Face or sentence-transformers folder"), browse=("dir", N_("Model folder"), "")),
    SetupField("corpus_path", "train_file", N_("Corpus"), "path", "data",
               N_("Training sentences: .txt (one a line), .csv/.tsv with a header (column 'text' or similar), "
               "or .jsonl. Unsupervised SimCSE feeds each sentence twice; the two dropout views are the "
               "positive pair, the other sentences of the batch the negatives. Reference: 1M Wikipedia "
               "sentences. Empty lines are skipped; exact duplicates become false negatives when they share a "
               "batch."), to_config=none_if_empty, default=lambda: str(default_corpus_path()),
               browse=("file", N_("Training corpus"), N_("Corpora (*.csv *.tsv *.txt *.jsonl);;All files (*)"))),
    SetupField("text_column", "text_column", N_("Text column"), "text", "data",
               N_("The csv/tsv/jsonl column holding the text. Empty: detected ('text', 'sentence', 'sent0'...)."),
               to_config=none_if_empty, default="", placeholder=N_("auto")),
    SetupField("mode", "mode", N_("Mode"), "choice", "data",
               N_("unsup: dropout is the only augmentation (a sentence and itself are the positive pair). "
               "sup: rows of (sent0, sent1[, hard_neg]) such as NLI entailment pairs with contradictions "
               "as hard negatives. Reference: unsup."), choices=plain(MODES)),
    SetupField("eval_file", "eval_file", N_("STS eval file"), "path", "data",
               N_("Optional STS file (e.g. STS-B dev: score and two sentences). Spearman x 100 of the cosine "
               "with the gold scores is computed every 'eval every' steps, as SimCSE selects its model on "
               "STS-B dev every 125 steps. The default model starts near 86.7 on STS-B dev."),
               to_config=none_if_empty, default="", placeholder=N_("none"),
               browse=("file", N_("STS evaluation file"), N_("STS files (*.csv *.tsv *.txt);;All files (*)"))),
    # --- recipe
    SetupField("temp", "temp", N_("Temperature"), "float", "recipe",
               N_("Temperature t of InfoNCE: logits are cos/t. Small t concentrates the gradient on the hardest "
               "negatives (more uniform, less tolerant of false negatives); large t weighs every negative alike. "
               "Reference 0.05. Can be changed while training (Apply)."),
               range=(0.0001, 10.0), decimals=4, step=0.01, live=True),
    SetupField("batch", "per_device_train_batch_size", N_("Batch size"), "int", "recipe",
               N_("Sentences per batch N: each has N-1 in-batch negatives (simcse layout) or 2N-2 (ntxent). "
               "The chance loss is log N. Reference 64 (insensitive from 64 to 512 if the learning rate is tuned)."),
               range=(2, 65536)),
    SetupField("lr", "learning_rate", N_("Learning rate"), "sci", "recipe",
               N_("Peak learning rate of AdamW, decayed linearly to 0, no warm-up. Reference 3e-5 for BERT-base "
               "(unsup). Can be changed while training (Apply)."), range=(0.0, 1.0), live=True),
    SetupField("max_steps", "max_steps", N_("Steps"), "int", "recipe",
               N_("Optimizer steps to run; 0 uses the epochs below instead. A short run (a few hundred steps) "
               "is enough to watch the geometry move."), to_config=steps_or_epochs, default=0,
               range=(0, 10_000_000), special=N_("use epochs")),
    SetupField("epochs", "num_train_epochs", N_("Epochs"), "float", "recipe",
               N_("Passes over the corpus (used when steps is 0). Reference: 1 epoch of 1M sentences."),
               range=(0.01, 1000.0)),
    SetupField("max_len", "max_seq_length", N_("Max length"), "int", "recipe",
               N_("Sentences are truncated to this many tokens. Reference 32 (short sentences train faster)."),
               range=(4, 4096)),
    SetupField("pooler", "pooler_type", N_("Pooler"), "choice", "recipe",
               N_("How a sentence vector is taken from the token outputs. auto: the model's own (mean pooling for "
               "the default MiniLM, cls for a plain BERT). cls: [CLS] with SimCSE's MLP (dense + tanh); "
               "cls_before_pooler: [CLS] without the MLP; avg: mean over tokens. Reference for BERT: cls with "
               "the MLP in training only."), choices=plain(POOLERS)),
    SetupField("mlp_only_train", "mlp_only_train", N_("MLP in training only"), "check", "recipe",
               N_("Use the MLP on top of [CLS] in training only and evaluate without it (the reference "
               "unsup recipe: cls in training, cls_before_pooler at test). Only with pooler cls.")),
    SetupField("dropout", "dropout", N_("Dropout"), "float", "recipe",
               N_("Hidden and attention dropout p: the two dropout masks are SimCSE's only augmentation. "
               "Reference 0.1 (the model's own). p=0 makes the positive pair identical and the space "
               "collapses (paper Table 3: 0.0 -> 71.1, 0.1 -> 82.5 STS-B dev)."),
               range=(-0.01, 0.95), step=0.05, special=N_("model's own (0.1)"), none_at_min=True),
    SetupField("loss_variant", "loss_variant", N_("Loss"), "choice", "recipe",
               N_("The contrastive loss, from the engine's registry (hover an entry for what it computes). "
               "simcse: the reference N x N logits (N-1 negatives, chance log N); ntxent: SimCLR's 2N x 2N "
               "layout with same-view negatives too. Reference: simcse."), choices=losses),
    SetupField("tau_plus", "tau_plus", N_("Debiased τ+"), "float", "recipe",
               N_("Debiased contrastive loss (Chuang et al. 2020): the class prior tau_plus, the chance that a "
               "negative is in fact a positive (a false negative); 0 = off. Takes effect when the next run "
               "starts."), range=(0.0, 0.99), decimals=3, step=0.01),
    # --- run
    SetupField("device", "device", N_("Device"), "choice", "run",
               N_("Where to train. auto picks cuda, then mps, then cpu. Reference: one GPU with bf16/fp16."),
               choices=devices),
    SetupField("seed", "seed", N_("Seed"), "int", "run",
               N_("Seeds the batch order, dropout masks and probe set: the same seed and config give the same "
               "losses on the CPU. Reference 42."), range=(0, 2**31 - 1)),
    SetupField("snapshot_every", "snapshot_every", N_("Snapshot every"), "int", "run",
               N_("Every so many steps the trainer encodes the probe set and sends a snapshot (geometry, "
               "alignment, uniformity, last batch's cosines). Smaller: finer plots, slower training. "
               "The paper's Figure 2 uses a point every 10 steps."),
               default=STUDIO_SNAPSHOT_EVERY, range=(1, 1_000_000)),  # the studio is for watching
    SetupField("probe_size", "probe_size", N_("Probe size"), "int", "run",
               N_("Sentences of the fixed probe set encoded at each snapshot (alignment, uniformity, anisotropy "
               "and the later sphere/UMAP views). Larger: smoother estimates, slower snapshots."),
               range=(2, 1_000_000)),
    SetupField("eval_every", "eval_every", N_("Eval every"), "int", "run",
               N_("Steps between STS evaluations (reference 125)."), range=(1, 1_000_000)),
)


# ---------------------------------------------------------------------- widgets
def make_widget(f: SetupField) -> QWidget:
    """The value widget of ``f`` (a path field's line edit; its Browse button is the panel's)."""
    w: QWidget
    if f.kind in ("int", "float"):
        w = QSpinBox() if f.kind == "int" else QDoubleSpinBox()
        if isinstance(w, QDoubleSpinBox):
            w.setDecimals(f.decimals)
        if f.range is not None:
            lo, hi = f.range
            if isinstance(w, QSpinBox):
                w.setRange(int(lo), int(hi))
            else:
                w.setRange(lo, hi)
        if f.step:
            w.setSingleStep(f.step)  # type: ignore[arg-type]
        if f.special:
            w.setSpecialValueText(tr(f.special))
    elif f.kind == "sci":
        w = QLineEdit()
        lo, hi = f.range or (-math.inf, math.inf)
        v = QDoubleValidator(lo, hi, 12, w)
        v.setNotation(QDoubleValidator.Notation.ScientificNotation)
        w.setValidator(v)
    elif f.kind in ("text", "path"):
        w = QLineEdit()
        w.setPlaceholderText(tr(f.placeholder))
    elif f.kind == "choice":
        w = QComboBox()  # as narrow as a dock allows: long entries are elided, not a wider dock
        w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        w.setMinimumContentsLength(8)
        for k, (value, text, tip) in enumerate(f.choices() if f.choices is not None else ()):
            w.addItem(tr(text), value)
            if tip:
                w.setItemData(k, tr(tip), Qt.ItemDataRole.ToolTipRole)
    else:
        w = QCheckBox(tr(f.label))
    w.setToolTip(tr(f.tip))
    w.setWhatsThis(tr(f.tip))
    return w


def changed_signal(w: QWidget) -> Any:
    """The signal a widget emits when the person changes its value."""
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.valueChanged
    if isinstance(w, QComboBox):
        return w.currentIndexChanged
    if isinstance(w, QLineEdit):
        return w.textChanged
    assert isinstance(w, QCheckBox)
    return w.toggled


def read_value(f: SetupField, w: QWidget) -> Any:
    """The widget's value as saved (JSON-able)."""
    if isinstance(w, QSpinBox):
        return w.value()
    if isinstance(w, QDoubleSpinBox):
        x = w.value()
        return None if f.none_at_min and x <= w.minimum() else round(x, max(f.decimals, 4))
    if isinstance(w, QComboBox):
        return w.currentData()
    if isinstance(w, QCheckBox):
        return w.isChecked()
    assert isinstance(w, QLineEdit)
    if f.kind == "sci":
        return parse_number(w.text())
    return w.text().strip()


def write_value(f: SetupField, w: QWidget, value: Any) -> None:
    """Show ``value`` (from saved settings: possibly stale or of another type; a value
    that does not fit is ignored)."""
    try:
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            if value is None:
                if f.none_at_min:
                    w.setValue(w.minimum())
                return
            w.setValue(int(value) if isinstance(w, QSpinBox) else float(value))  # type: ignore[arg-type]
        elif isinstance(w, QComboBox):
            i = w.findData(value)
            if i >= 0:
                w.setCurrentIndex(i)
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QLineEdit):
            if f.kind == "sci":
                if value is not None:
                    w.setText(format_number(float(value)))
            else:
                w.setText("" if value is None else str(value))
    except (TypeError, ValueError):
        pass


def parse_number(text: str) -> float:
    """A typed number (a decimal comma is accepted); NaN when it is not one."""
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return math.nan


def values_from_config(config: dict[str, Any]) -> dict[str, Any]:
    """The panel's values (``values()`` keys) for a run's config (a TrainConfig's dict,
    e.g. a run folder's ``config.json``): the inverse of ``SetupPanel.config()``. Keys
    the config lacks are left out; a model that is not one of :data:`MODEL_KINDS` is a
    folder (or any spec the engine takes) typed in the folder field."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        key = f.config_key
        if not key or key not in config:
            continue
        value = config[key]
        if key == "train_file" and not value:
            value = str(default_corpus_path())  # the engine's default: the demo corpus
        elif key == "max_steps":
            value = max(0, int(value or 0))  # -1: by epochs
        elif value is None and f.kind in ("text", "path"):
            value = ""
        out[f.key] = value
    if "model_name_or_path" in config:
        spec = str(config.get("model_name_or_path") or "default")
        known = spec in MODEL_KINDS and spec != "folder"
        out["model_kind"] = spec if known else "folder"
        out["model_folder"] = "" if known else spec
    return out


def format_number(x: float) -> str:
    return f"{x:g}" if x != 0 else "0"
