"""Training configuration: one typed, validated, JSON-serialisable object.

Field names follow the reference SimCSE ``train.py`` where one exists
(``model_name_or_path``, ``train_file``, ``temp``, ``pooler_type`` ...), so a
researcher who knows that script can read a run's ``config.json`` at a glance.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .messages import Msg, alternatives
from .losses.registry import check_loss_config, loss_names

POOLERS = ("auto", "cls", "cls_before_pooler", "avg")
MODES = ("unsup", "sup")
DEVICES = ("auto", "cpu", "cuda", "mps")
FN_POLICIES = ("none", "eliminate", "attract")


def __getattr__(name: str) -> Any:
    # LOSS_VARIANTS: the registry's names, read at the time of asking (a loss registered
    # at run time is included); kept for code written before the registry
    if name == "LOSS_VARIANTS":
        return loss_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_TYPE_NAMES = {"str": Msg("a string"), "int": Msg("a whole number"), "float": Msg("a number"),
               "bool": Msg("true or false"), "dict": Msg("a JSON object"), "list": Msg("a JSON list")}


def _check_type(source: str | Msg, name: str, annotation: str, value: Any) -> None:
    """ConfigError naming the field when a JSON value has the wrong type for it (an int
    is a float; a bool is neither)."""
    kinds = [k.strip().split("[")[0] for k in annotation.split("|")]
    if value is None and "None" in kinds:
        return
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "dict": isinstance(value, dict),
        "list": isinstance(value, (list, tuple)),
    }
    if not any(ok.get(k, True) for k in kinds if k != "None"):
        want = alternatives([_TYPE_NAMES.get(k, k) for k in kinds if k != "None"])
        raise ConfigError("{source}: config field {name!r}: expected {want} (got {value!r})",
                          source=source, name=name, want=want, value=value)


@dataclass
class TrainConfig:
    """Everything a SimCSE run needs. Defaults are the reference unsupervised recipe
    (batch 64, lr 3e-5, max length 32, temperature 0.05, dropout 0.1, 1 epoch), except
    where the embedded default model needs otherwise (pooler ``auto``: the model's own
    pooling for a sentence-transformers folder, ``cls`` for a plain Hugging Face model).
    """

    model_name_or_path: str = "default"  # "default" | folder | "random:<folder-or-default>" | "reinit:<K|all>:<...>"
    train_file: str | None = None  # None: the demo corpus in resources/
    text_column: str | None = None  # csv/tsv/jsonl column holding the text
    output_dir: str | None = None  # run folder; None: nothing written to disk
    mode: str = "unsup"  # "unsup": dropout views; "sup": (sent0, sent1[, hard_neg]) rows
    temp: float = 0.05
    pooler_type: str = "auto"
    mlp_only_train: bool = False  # SimCSE's cls+MLP in training, cls without it at eval
    dropout: float | None = None  # None: the model's own (0.1 for BERT/MiniLM)
    freeze_layers: int = 0  # > 0: the embeddings and the lowest K encoder layers keep their weights
    same_dropout_mask: bool = False  # ablation: both views share one mask (collapses)
    loss_variant: str = "simcse"  # a name in simcse_core.losses.LOSSES: "simcse" (N x N), "ntxent" (2N x 2N)
    hard_negative_weight: float = 0.0  # logit added to the anchor-vs-own-hard-negative
    tau_plus: float = 0.0  # > 0: Chuang et al. 2020 debiased loss with this class prior
    loss_options: dict[str, Any] = field(default_factory=dict)  # settings of the chosen loss beyond the fields above
    fn_policy: str = "none"  # confirmed false negatives: none | eliminate | attract
    fn_pairs: list[tuple[int, int]] = field(default_factory=list)  # corpus-id pairs
    learning_rate: float = 3e-5
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_grad_norm: float | None = None  # gradient clipping off by default
    per_device_train_batch_size: int = 64
    num_train_epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides num_train_epochs
    max_seq_length: int = 32
    seed: int = 42
    device: str = "auto"
    bf16: bool | None = None  # None: bf16 autocast on CUDA, fp32 elsewhere; True: on CUDA or a CPU
    drop_duplicates: bool = False
    snapshot_every: int = 25
    probe_size: int = 2000
    align_probe_size: int = 512  # probe sentences encoded twice (dropout) for alignment
    eval_file: str | None = None  # STS file for Spearman (+ alignment/uniformity)
    eval_every: int = 125
    checkpoint_every: int = 250
    keep_checkpoints: int = 2
    resume_from_checkpoint: str | None = None  # "latest" (in output_dir) or a checkpoint folder
    allow_pickle: bool = False  # allow loading pytorch_model.bin (unsafe: pickle)
    # --- speed and memory (results do not depend on these, up to float rounding and dropout draws)
    compile: bool = False  # torch.compile the encoder (CUDA graphs on CUDA); falls back to eager by itself
    grad_cache_chunk: int = 0  # > 0: gradient cache, encoder rows per chunk (unsup: 2 rows a sentence)
    static_padding: bool = False  # pad every batch to max_seq_length (one shape: CUDA graphs, compile)
    pad_to_multiple_of: int = 0  # batch width rounded up to this; 0: 8 on CUDA or compiled, 1 on eager CPU

    # ------------------------------------------------------------------ checks
    def validate(self) -> TrainConfig:
        """Raise :class:`ConfigError` naming the field on any out-of-range value."""

        def bad(name: str, why: Msg) -> None:
            raise ConfigError("config field {name!r}: {why} (got {value!r})", name=name, why=why,
                              value=getattr(self, name))

        def one_of(choices: tuple[str, ...]) -> Msg:
            return Msg("must be one of {choices}", choices=", ".join(choices))

        if self.pooler_type not in POOLERS:
            bad("pooler_type", one_of(POOLERS))
        if self.mode not in MODES:
            bad("mode", one_of(MODES))
        if self.device not in DEVICES:
            bad("device", one_of(DEVICES))
        if self.fn_policy not in FN_POLICIES:
            bad("fn_policy", one_of(FN_POLICIES))
        for name in ("temp", "learning_rate", "weight_decay", "num_train_epochs", "hard_negative_weight", "tau_plus"):
            if not math.isfinite(getattr(self, name)):
                bad(name, Msg("must be a finite number"))
        if self.dropout is not None and not math.isfinite(self.dropout):
            bad("dropout", Msg("must be a finite number"))
        if not (self.temp > 0):
            bad("temp", Msg("the temperature must be > 0 (reference 0.05)"))
        if self.per_device_train_batch_size < 2:
            bad("per_device_train_batch_size", Msg("a contrastive batch needs at least 2 sentences"))
        if not (self.learning_rate >= 0):
            bad("learning_rate", Msg("must be >= 0"))
        if self.dropout is not None and not (0.0 <= self.dropout < 1.0):
            bad("dropout", Msg("must be in [0, 1)"))
        if not (self.weight_decay >= 0):
            bad("weight_decay", Msg("must be >= 0"))
        if self.warmup_steps < 0:
            bad("warmup_steps", Msg("must be >= 0"))
        if self.max_grad_norm is not None and not (math.isfinite(self.max_grad_norm) and self.max_grad_norm > 0):
            bad("max_grad_norm", Msg("must be > 0 (leave it unset for no clipping)"))
        if not (0 <= self.seed < 2**32):
            bad("seed", Msg("must be in 0 .. 2**32 - 1"))
        if self.align_probe_size < 0:
            bad("align_probe_size", Msg("must be >= 0"))
        if self.max_seq_length < 4:
            bad("max_seq_length", Msg("must be at least 4 tokens"))
        if self.max_steps <= 0 and not (self.num_train_epochs > 0):
            bad("num_train_epochs", Msg("must be > 0 when max_steps is not set"))
        for name in ("snapshot_every", "eval_every", "checkpoint_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                bad(name, Msg("must be >= 1"))
        if self.probe_size < 2:
            bad("probe_size", Msg("must be >= 2"))
        if not (0.0 <= self.tau_plus < 1.0):
            bad("tau_plus", Msg("the class prior must be in [0, 1)"))
        if self.freeze_layers < 0:
            bad("freeze_layers", Msg("must be >= 0 (0: train every layer; K: keep the embeddings and the lowest K "
                                     "encoder layers as they are)"))
        if self.grad_cache_chunk < 0:
            bad("grad_cache_chunk", Msg("must be >= 0 (0: off; else encoder rows per chunk)"))
        if self.pad_to_multiple_of < 0:
            bad("pad_to_multiple_of", Msg("must be >= 0 (0: automatic)"))
        check_loss_config(self)  # the name is registered; the loss accepts this mode and loss_options
        return self

    # ------------------------------------------------------------ serialising
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["fn_pairs"] = [list(p) for p in self.fn_pairs]
        d["loss_options"] = dict(self.loss_options)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str | Msg = "config") -> TrainConfig:
        """A config from its dict; ``source`` names it in messages (a file's path)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError("{source}: unknown field(s) {fields}", source=source, fields=", ".join(unknown))
        d = dict(d)
        for f in dataclasses.fields(cls):
            if f.name in d:
                _check_type(source, f.name, str(f.type), d[f.name])
        if "fn_pairs" in d:
            try:
                d["fn_pairs"] = [tuple(int(v) for v in p) for p in d["fn_pairs"]]
            except (TypeError, ValueError):
                raise ConfigError("{source}: config field 'fn_pairs': expected a list of [id, id] pairs",
                                  source=source) from None
        return cls(**d)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        p = Path(path)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("{path}: no such file", path=str(p)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError("{path}: not a JSON config ({error})", path=str(p), error=str(e)) from None
        if not isinstance(d, dict):
            raise ConfigError("{path}: a config is a JSON object", path=str(p))
        return cls.from_dict(d, source=str(p))
