"""The ``simcse`` command: ``simcse train``, ``simcse encode``, ``simcse eval``.

Several GPUs (data-parallel, see :mod:`simcse_core.distributed`)::

    torchrun --standalone --nproc_per_node=4 -m simcse_core.cli train --output_dir runs/x ...

Flag names follow the reference SimCSE ``train.py`` where one exists. Bad input exits
with status 2 and one line on stderr; Ctrl-C during training stops after the current
step and leaves a checkpoint; a second Ctrl-C quits at once without saving (exit 130).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from .config import MODES, POOLERS, TrainConfig  # noqa: E402
from .errors import ConfigError, SimCSEError  # noqa: E402
from .losses import loss_choices  # noqa: E402  (no torch: names and one-line descriptions)
from .precision import PRECISIONS  # noqa: E402  (no torch)


def _bool(s: str) -> bool:
    if s.lower() in ("1", "true", "yes", "y", "on"):
        return True
    if s.lower() in ("0", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {s!r}")


class _Parser(argparse.ArgumentParser):
    """argparse with the engine's rule for bad input: one line on stderr, exit status 2
    (the usage text is what --help is for)."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_model_args(p: argparse.ArgumentParser, defaults: bool = True) -> None:
    """Model flags. ``defaults=False`` (train) leaves unset flags None so a --config
    file's values are not overridden by argparse defaults."""

    def d(value: Any) -> Any:
        return value if defaults else None

    p.add_argument("--model_name_or_path", default=d("default"),
                   help='"default" (packaged all-MiniLM-L6-v2), a local model folder, random:<folder|default> '
                        '(fresh weights), or reinit:<K|all>:<folder|default> (top K layers re-initialised)')
    p.add_argument("--pooler_type", default=d("auto"), choices=POOLERS,
                   help="auto: a sentence-transformers folder's own pooling, else cls (reference)")
    p.add_argument("--max_seq_length", type=int, default=d(32), help="tokens per sentence (reference: 32)")
    p.add_argument("--device", default=d("auto"), choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--allow_pickle", action="store_true",
                   help="allow pytorch_model.bin weights (pickle; only for folders you trust)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="simcse", description="SimCSE training, encoding and STS evaluation.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a sentence encoder with SimCSE", description=(
        "Train with SimCSE. Unsupervised: each sentence twice through the encoder with dropout; the two "
        "embeddings are a positive pair, the rest of the batch negatives. Writes a run folder the studio "
        "can open or follow (simcse-studio --follow DIR)."))
    _add_model_args(t, defaults=False)
    t.add_argument("--config", help="a JSON TrainConfig, or a preset file with one run (e.g. "
                   "resources/presets/first_run.json); flags given on the command line override it")
    t.add_argument("--train_file", help="corpus (.txt/.csv/.tsv/.jsonl) or sup csv (sent0,sent1[,hard_neg]); "
                                        "default: the demo corpus")
    t.add_argument("--text_column", help="column holding the text (csv/tsv/jsonl)")
    t.add_argument("--output_dir", help="run folder (default: runs/<date-time>)")
    t.add_argument("--mode", choices=MODES, help="unsup (dropout views) or sup (sent0/sent1[/hard_neg])")
    t.add_argument("--temp", type=float, help="softmax temperature (reference 0.05)")
    t.add_argument("--mlp_only_train", type=_bool, nargs="?", const=True,
                   help="cls pooler: use the MLP in training only (unsup SimCSE recipe)")
    t.add_argument("--dropout", type=float, help="hidden and attention dropout (model default: 0.1)")
    t.add_argument("--freeze_layers", type=int,
                   help="keep the embeddings and the lowest K encoder layers as they are (default 0: train all)")
    t.add_argument("--same_dropout_mask", type=_bool, nargs="?", const=True,
                   help="ablation: both views share one dropout mask (the space collapses)")
    t.add_argument("--loss_variant", choices=[name for name, _ in loss_choices()],
                   help="; ".join(f"{name}: {text}" for name, text in loss_choices()))
    t.add_argument("--loss_option", action="append", default=None, metavar="NAME=VALUE",
                   help="a setting of the chosen loss beyond the flags here (repeatable; VALUE is JSON when it "
                        "parses as JSON)")
    t.add_argument("--hard_negative_weight", type=float)
    t.add_argument("--tau_plus", type=float, help="> 0: debiased contrastive loss with this class prior")
    t.add_argument("--fn_policy", choices=("none", "eliminate", "attract"))
    t.add_argument("--learning_rate", type=float, help="reference 3e-5 (BERT-base unsup)")
    t.add_argument("--weight_decay", type=float)
    t.add_argument("--warmup_steps", type=int)
    t.add_argument("--max_grad_norm", type=float, help="gradient clipping (off by default)")
    t.add_argument("--per_device_train_batch_size", type=int, help="reference 64")
    t.add_argument("--num_train_epochs", type=float)
    t.add_argument("--max_steps", type=int, help="> 0 overrides num_train_epochs")
    t.add_argument("--seed", type=int)
    t.add_argument("--bf16", type=_bool, nargs="?", const=True,
                   help="bfloat16 autocast (default: on CUDA only; on a CPU when given: faster only on a processor "
                        "with bfloat16 instructions, AVX512-BF16 or AMX)")
    t.add_argument("--drop_duplicates", type=_bool, nargs="?", const=True)
    t.add_argument("--snapshot_every", type=int, help="steps between snapshots (probe embeddings, metrics)")
    t.add_argument("--probe_size", type=int)
    t.add_argument("--eval_file", help="STS file for Spearman during training (e.g. STS-B dev)")
    t.add_argument("--eval_every", type=int)
    t.add_argument("--checkpoint_every", type=int)
    t.add_argument("--resume_from_checkpoint", nargs="?", const="latest",
                   help="resume the run in --output_dir from its latest checkpoint, or from a checkpoint folder")
    t.add_argument("--compile", type=_bool, nargs="?", const=True,
                   help="torch.compile the encoder (CUDA graphs on one GPU); falls back to eager if it fails")
    t.add_argument("--grad_cache_chunk", type=int,
                   help="> 0: gradient cache, encoder rows per chunk (unsup: 2 rows a sentence); a large batch "
                        "in the memory of one chunk, same loss and gradient, one extra forward")
    t.add_argument("--static_padding", type=_bool, nargs="?", const=True,
                   help="pad every batch to --max_seq_length (one shape for compile / CUDA graphs)")
    t.add_argument("--pad_to_multiple_of", type=int,
                   help="round batch widths up to this (default 0: 8 on CUDA or compiled, 1 on eager CPU)")
    t.add_argument("--quiet", action="store_true", help="no progress bar or per-snapshot lines")

    _add_encode_parser(sub)
    _add_eval_parser(sub)
    r = sub.add_parser("preset", help="run a preset: a few short runs side by side (simcse preset --list)",
                       description=("Train a preset's runs one after another into OUTPUT_ROOT/<name>/<run>, plus "
                                    "OUTPUT_ROOT/<name>/preset.json; the studio opens them together. See docs/presets.md."))
    r.add_argument("name", nargs="?", help="a bundled preset (see --list) or a preset .json file")
    r.add_argument("--list", action="store_true", help="list the bundled presets and exit")
    r.add_argument("--output_root", default="runs", help="runs go to OUTPUT_ROOT/<preset name>/<run label> (default: runs)")
    r.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="set a TrainConfig field in every run's base (the runs' own overrides still win), "
                        "e.g. --set train_file=my.csv --set max_steps=200; VALUE is JSON when it parses as JSON")
    r.add_argument("--quiet", action="store_true", help="no per-snapshot lines")
    return parser


def _add_encode_parser(sub: Any) -> None:
    e = sub.add_parser("encode", help="embed sentences into a .npy file and/or an embedding cache the studio opens",
                       description=("Embed every sentence of a corpus. --output writes one .npy; --cache keeps "
                                    "float16 rows in a cache folder (memory-mapped, with a manifest of the model, "
                                    "pooling and corpus hash) that the studio's explore mode opens at once, and that "
                                    "a stopped or killed encode resumes (run the same command again)."))
    _add_model_args(e)
    e.add_argument("--input", required=True, help="sentences (.txt/.csv/.tsv/.jsonl)")
    e.add_argument("--text_column")
    e.add_argument("--output", help="output .npy (float32, rows L2-normalised unless --no_normalize)")
    e.add_argument("--cache", nargs="?", const="", default=None, metavar="DIR",
                   help="keep the embeddings in a cache folder: DIR, or beside the corpus when no DIR is given "
                        "(<corpus>.simcse-cache/<key>/); needs a model folder (not random:/reinit:)")
    e.add_argument("--batch_size", type=int, default=None,
                   help="sentences a batch (default: sized for the device, 32 on a CPU, 512 on a GPU)")
    e.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="number format of the matrix products (default auto: bfloat16 where the processor has it "
                        "in hardware and a sample of the corpus gives the same embeddings, lowest cosine to float32 "
                        ">= 0.999; else float32)")
    e.add_argument("--no_normalize", action="store_true")


def _add_eval_parser(sub: Any) -> None:
    v = sub.add_parser("eval", help="STS evaluation: Spearman x 100 of cosine similarities, as one JSON object")
    _add_model_args(v)
    v.add_argument("--eval_file", action="append", default=[],
                   help="STS-B/SICK-R split, a csv with sentence1,sentence2,score, tab-separated "
                        "sentence1<TAB>sentence2<TAB>score lines (e.g. the Chinese STS-B), or a folder of such "
                        "files: one Spearman each (repeatable)")
    v.add_argument("--sts_dir", action="append", default=[],
                   help="a SentEval STS folder of STS.input.*/STS.gs.* files: one Spearman over all its "
                        "subsets ('all' setting, as SimCSE reports STS12-16) (repeatable)")
    v.add_argument("--batch_size", type=int, default=None,
                   help="sentences a batch (default: sized for the device, 32 on a CPU, 512 on a GPU)")


# ------------------------------------------------------------------------- train
def _config_file(path: str) -> dict[str, Any]:
    """``--config``: a TrainConfig JSON, or a preset file with one run (that run's config,
    e.g. resources/presets/first_run.json)."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        d = None  # TrainConfig.load says what is wrong with the file
    if isinstance(d, dict) and "runs" in d and "base" in d:
        from .presets import load_preset

        preset = load_preset(path)
        if len(preset.runs) != 1:
            raise ConfigError("{path}: a preset of {n} runs; --config takes a preset with one run (run them all "
                              "with: simcse preset {path})", path=str(path), n=len(preset.runs))
        return preset.configs()[0][1].to_dict()
    return TrainConfig.load(path).to_dict()


def _config_from_args(args: argparse.Namespace) -> TrainConfig:
    base: dict[str, Any] = {}
    if args.config:
        base = _config_file(args.config)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    for k, v in vars(args).items():
        if k in fields and v is not None and not (k == "allow_pickle" and not v):
            base[k] = v
    if getattr(args, "loss_option", None):
        base["loss_options"] = {**base.get("loss_options", {}), **_parse_sets(args.loss_option, "--loss_option")}
    if not base.get("output_dir"):
        base["output_dir"] = str(Path("runs") / time.strftime("%Y%m%d-%H%M%S"))
    return TrainConfig.from_dict(base).validate()


def _fmt(snap: Any) -> str:
    parts = [f"step {snap.step}/{snap.total_steps}", f"loss {snap.loss:.4f}"]
    for key, label in (("top1_acc", "acc"), ("alignment", "align"), ("uniformity", "unif"), ("sts_spearman", "sts")):
        v = snap.scalars.get(key)
        if v is not None:
            parts.append(f"{label} {v:.3f}" if key != "sts_spearman" else f"{label} {v:.2f}")
    return "  ".join(parts)


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .control import TrainControl
    from .trainer import train
    from .vocab import vocab_warning

    config = _config_from_args(args)
    if warning := vocab_warning(config):  # a corpus the model cannot read: say so before training
        print(f"simcse train: warning: {warning}", file=sys.stderr, flush=True)
    bar: Any = None  # made at the first snapshot, once model and data have loaded

    def on_step(step: int, total: int, sps: float) -> None:
        if bar is not None:
            bar.n = step
            bar.refresh()

    control = TrainControl(on_step=on_step)
    restore = _sigint_stops(control, "stopping after this step", "train")
    try:
        gen = train(config, control)
        try:
            while True:
                snap = next(gen)
                if args.quiet:
                    continue
                if bar is None:
                    bar = tqdm(total=snap.total_steps, initial=snap.step, unit="step", desc="train", dynamic_ncols=True)
                for ev in snap.events:  # what the engine wants said once: data counts, compile fallbacks
                    for key in ("data", "compile", "precision"):
                        if key in ev:
                            bar.write(f"{key}: {ev[key]}")
                bar.write(_fmt(snap))
        except StopIteration as stop:
            result = stop.value
    finally:
        restore()
        if bar is not None:
            bar.close()
    if os.environ.get("RANK", "0") != "0":
        return 0  # torchrun: rank 0 reports
    where = result.model_dir or config.output_dir
    state = "stopped" if result.stopped else "done"
    print(f"{state} after {result.steps} steps; run folder {config.output_dir}; model {where}")
    return 0


# ------------------------------------------------------------------------ preset
def _parse_sets(items: list[str], flag: str = "--set") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SimCSEError("{flag} {item!r}: expected {key}=VALUE", flag=flag, item=item,
                              key="FIELD" if flag == "--set" else "NAME")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value  # a plain string (a path, a model name)
    return out


def _sigint_stops(control: Any, note: str, command: str,
                  quit_note: str = "the run folder keeps its last complete checkpoint") -> Any:
    """Install a SIGINT handler: the first Ctrl-C asks ``control`` to stop after the
    current step (saying ``note``); the second quits at once without saving, with one
    line and exit status 130 (what is on disk stays good: checkpoints and the model are
    renamed into place only when complete; a half-written one is removed on the way
    out, or by the next run in the folder).
    Returns ``restore()``, which puts the previous handler back unless Ctrl-C was
    pressed: then this one stays to the end, so a second press while the stop saves or
    the interpreter exits still answers with its line instead of a silent SIGINT death."""
    presses = {"n": 0}

    def on_sigint(signum: int, frame: Any) -> None:
        presses["n"] += 1
        if presses["n"] > 1:
            sys.stderr.write(f"\nsimcse {command}: quit without saving; {quit_note}\n")
            sys.stderr.flush()
            raise SystemExit(130)  # from the main thread at once; finally blocks remove half-written files
        control.stop()
        print(f"\n{note}; press Ctrl-C again to quit without saving", file=sys.stderr, flush=True)

    old = signal.signal(signal.SIGINT, on_sigint)

    def restore() -> None:
        if not presses["n"]:
            signal.signal(signal.SIGINT, old)

    return restore


def cmd_preset(args: argparse.Namespace) -> int:
    from .control import TrainControl
    from .presets import list_presets, load_preset, run_preset

    if args.list or not args.name:
        for p in list_presets():
            print(f"{p.name:22s} {p.title}  [{', '.join(r.label for r in p.runs)}]")
        return 0
    preset = load_preset(args.name)
    if args.set:
        preset = preset.with_base(**_parse_sets(args.set))
    control = TrainControl()
    restore = _sigint_stops(control, "stopping after this step (the remaining runs are skipped)", "preset")
    try:
        gen = run_preset(preset, args.output_root, control=control)
        try:
            while True:
                label, snap = next(gen)
                if not args.quiet:
                    print(f"[{label}] {_fmt(snap)}", flush=True)
        except StopIteration as stop:
            results = stop.value
    finally:
        restore()
    folder = preset.folder(args.output_root)
    state = "stopped" if control.stop_requested else "done"
    print(f"preset {preset.name} {state}: {len(results)} of {len(preset.runs)} runs in {folder} (open {folder / 'preset.json'})")
    return 0


# ------------------------------------------------------------------------ encode
def _check_inference_flags(args: argparse.Namespace) -> None:
    """encode / eval: the numeric flags, in the words TrainConfig.validate uses."""
    if args.batch_size is not None and args.batch_size < 1:
        raise SimCSEError("--batch_size: must be >= 1 (got {value})", value=args.batch_size)
    if args.max_seq_length < 4:
        raise SimCSEError("--max_seq_length: must be at least 4 tokens (got {value})", value=args.max_seq_length)


@contextlib.contextmanager
def _stdout_to_stderr() -> Any:
    """Inside, anything written to stdout (library notes, prompts, progress) goes to
    stderr instead, at the Python and the file-descriptor level, so stdout carries only
    what the command prints after it."""
    sys.stdout.flush()
    saved = None
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no descriptors to swap (an embedded interpreter): Python level only
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def cmd_encode(args: argparse.Namespace) -> int:
    import numpy as np

    from .data import read_corpus
    from .model import load_model, pick_device
    from .precision import choose_precision, precision_note
    from .vocab import vocab_warning

    _check_inference_flags(args)
    if args.output is None and args.cache is None:
        raise SimCSEError("simcse encode: give --output FILE.npy and/or --cache [DIR]")
    out = Path(args.output) if args.output is not None else None
    if out is not None and out.suffix != ".npy":
        raise SimCSEError("--output {path}: must end in .npy", path=str(out))
    if args.cache is not None and args.no_normalize:
        raise SimCSEError("--cache keeps L2-normalised rows: leave out --no_normalize (or write only --output)")
    if args.cache is not None and str(args.model_name_or_path).startswith(("random:", "reinit:")):
        raise SimCSEError("--cache: {model} has no model files to identify its embeddings by; give a model folder "
                          "(or \"default\")", model=args.model_name_or_path)
    corpus = read_corpus(args.input, text_column=args.text_column, min_sentences=1)
    enc = load_model(args.model_name_or_path, args.pooler_type, max_seq_length=args.max_seq_length,
                     allow_pickle=args.allow_pickle)
    if warning := vocab_warning(tokenizer=enc.tokenizer, sentences=corpus.sentences, model_name="the model"):
        print(f"simcse encode: warning: {warning}", file=sys.stderr, flush=True)
    enc.to(pick_device(args.device))
    if args.cache is None:
        choice = choose_precision(enc, corpus.sentences, args.precision)
        print(f"simcse encode: {precision_note(choice)}", file=sys.stderr, flush=True)
        emb = enc.encode(corpus.sentences, batch_size=args.batch_size, normalize=not args.no_normalize, progress=True,
                         precision=choice.dtype)
    else:
        emb = _encode_cached(args, corpus, enc)
        if emb is None:
            return 130
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, np.asarray(emb, dtype=np.float32))
        print(f"{emb.shape[0]} sentences x {emb.shape[1]} dims -> {out}")
    return 0


def _encode_cached(args: argparse.Namespace, corpus: Any, enc: Any) -> Any:
    """Encode into the embedding cache (resuming one that matches); the (N, D) float16
    rows, or None when Ctrl-C stopped it (the rows done so far are kept)."""
    from tqdm.auto import tqdm

    from .embedding_cache import EmbeddingCache, cache_key, cache_precision, encode_into, writable_cache_dir
    from .precision import precision_note
    from .model import resolve_model_path

    folder, _ = resolve_model_path(args.model_name_or_path)
    key = cache_key(folder, enc.pooler_type, enc.max_seq_length, args.input, len(corpus), args.text_column)
    where = Path(args.cache) if args.cache else writable_cache_dir(args.input, key)
    info = {"corpus": str(Path(args.input).resolve()), "text_column": corpus.text_column,
            "model": str(folder.resolve()), "model_spec": str(args.model_name_or_path)}
    cache = EmbeddingCache.open(where, key, len(corpus), enc.dim, info, precision=args.precision)
    if cache.complete:
        print(f"simcse encode: {where} already holds all {cache.n:,} sentences (cached)", file=sys.stderr)
        return cache.array()
    if cache.done:
        print(f"simcse encode: resuming at sentence {cache.done + 1:,} of {cache.n:,} ({where})", file=sys.stderr)
    print(f"simcse encode: {precision_note(cache_precision(enc, corpus.sentences, cache))}", file=sys.stderr,
          flush=True)

    class _Stop:
        requested = False

        def stop(self) -> None:
            self.requested = True

    stop = _Stop()
    restore = _sigint_stops(stop, "simcse encode: stopping after this chunk (what is done stays in the cache)",
                            "encode", quit_note="the cache keeps every chunk finished before")
    try:
        with tqdm(total=cache.n, initial=cache.done, unit="sent", desc="encode", dynamic_ncols=True) as bar:
            done = encode_into(enc, corpus.sentences, cache, batch_size=args.batch_size,
                               progress=lambda d, _t: bar.update(d - bar.n), should_stop=lambda: stop.requested)
    finally:
        cache.close()
        restore()
    if not done:
        print(f"simcse encode: stopped at {cache.done:,} of {cache.n:,} sentences; run the same command again to "
              f"resume ({where})", file=sys.stderr)
        return None
    print(f"{cache.n:,} sentences x {cache.dim} dims -> {where} (float16 cache)")
    return cache.array()


# -------------------------------------------------------------------------- eval
def cmd_eval(args: argparse.Namespace) -> int:
    from . import metrics as M
    from .data import read_sts, read_sts_dir, read_sts_files
    from .model import load_model, pick_device

    if not args.eval_file and not args.sts_dir:
        raise SimCSEError("simcse eval: give --eval_file and/or --sts_dir")
    _check_inference_flags(args)
    result: dict[str, float | None] = {}
    with _stdout_to_stderr():  # stdout carries the JSON object only
        sets = []  # a folder of STS files: one Spearman per file, named folder/stem
        for f in args.eval_file:
            if Path(f).is_dir():
                sets += [(f"{Path(f).resolve().name}/{name}", pairs) for name, pairs in read_sts_files(f).items()]
            else:
                sets.append((Path(f).stem, read_sts(f)))
        dirs = [(Path(d).name, read_sts_dir(d)) for d in args.sts_dir]
        enc = load_model(args.model_name_or_path, args.pooler_type, max_seq_length=args.max_seq_length,
                         allow_pickle=args.allow_pickle)
        enc.to(pick_device(args.device))
        scores: list[tuple[str, float]] = []
        for name, pairs in sets:
            scores.append((name, M.evaluate_sts(enc, pairs, batch_size=args.batch_size)["spearman"]))
        for name, subsets in dirs:
            r = M.evaluate_sts_sets(enc, subsets, all_setting=True, batch_size=args.batch_size)
            scores.append((name, r.get("all", next(iter(r.values())))))
        for name, value in scores:
            if value is None or not math.isfinite(value):  # e.g. every embedding the same: no ranking
                print(f"simcse eval: {name}: the Spearman correlation is undefined (constant similarities); "
                      "reported as null", file=sys.stderr)
                result[name] = None
            else:
                result[name] = round(float(value), 2)
    print(json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as e:  # --help (0) or a bad flag (2, one line already on stderr)
        return e.code if isinstance(e.code, int) else 2
    if extra:  # said by the command's own parser, so the line names the command
        print(f"simcse {args.command}: error: unrecognized arguments: {' '.join(extra)} "
              f"(see simcse {args.command} --help)", file=sys.stderr)
        return 2
    try:
        return {"train": cmd_train, "encode": cmd_encode, "eval": cmd_eval, "preset": cmd_preset}[args.command](args)
    except SimCSEError as e:
        print(f"simcse {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"simcse {args.command}: aborted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover - `python -m simcse_core.cli`
    sys.exit(main())
