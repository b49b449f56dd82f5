"""Every bad input is answered: exit status 2, one line naming the file, line or field,
no traceback, nothing already written lost, and nothing run that was not asked for.

One row of :data:`ROWS` per kind of bad input, across ``simcse train``, ``simcse eval``,
``simcse encode`` (called in-process through ``simcse_core.cli.main``) and the engine
functions behind the studio's Setup panel (the corpus preview and the model loader).
The hostile model folders are built once in a temporary folder: code behind an
``auto_map``, a GPT-2, damaged safetensors, a pickle whose payload would write a marker.
Real subprocesses only where a terminal or the process's own stdout matters.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from simcse_core.cli import main

# --------------------------------------------------------------------------- the files


class _Payload:
    """Unpickling this calls exec(code): what a hostile pytorch_model.bin does."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def _write_marker_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('the folder ran its code')\n"


def _copy_model(src: str, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def _edit_json(path: Path, **changes: object) -> None:
    obj = json.loads(path.read_text())
    obj.update(changes)
    path.write_text(json.dumps(obj))


def _build(root: Path, tiny_model: str, small_corpus: str) -> dict[str, Path]:
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2Model

    P: dict[str, Path] = {"tiny": Path(tiny_model), "corpus": Path(small_corpus), "markers": root / "markers"}
    P["markers"].mkdir()

    # code behind an auto_map (config.json; and tokenizer_config.json only)
    for key, where in (("remote", "config.json"), ("remote_tok", "tokenizer_config.json")):
        folder = _copy_model(tiny_model, root / key)
        (folder / "evil.py").write_text(_write_marker_code(P["markers"] / f"{key}.ran")
                                        + "from transformers import BertConfig, BertModel\n"
                                          "class EvilConfig(BertConfig):\n    model_type = 'evilbert'\n"
                                          "class EvilModel(BertModel):\n    pass\n")
        auto = ({"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"} if where == "config.json"
                else {"AutoTokenizer": ["evil.EvilTokenizer", None]})
        _edit_json(folder / where, auto_map=auto)
        if where == "config.json":  # a type transformers does not know: it asks "run the custom code? [y/N]"
            _edit_json(folder / where, model_type="evilbert")
        P[key] = folder

    # a decoder-only model: GPT-2 with safetensors weights and a tokenizer
    gpt2 = root / "gpt2"
    GPT2Model(GPT2Config(vocab_size=30522, n_positions=64, n_embd=32, n_layer=1, n_head=2)).save_pretrained(
        gpt2, safe_serialization=True)
    AutoTokenizer.from_pretrained(tiny_model, local_files_only=True, trust_remote_code=False).save_pretrained(gpt2)
    P["gpt2"] = gpt2

    decoder_bert = _copy_model(tiny_model, root / "decoder_bert")
    _edit_json(decoder_bert / "config.json", is_decoder=True)
    P["decoder_bert"] = decoder_bert

    t5 = root / "t5"
    t5.mkdir()
    (t5 / "config.json").write_text(json.dumps({"model_type": "t5", "d_model": 32}))
    P["t5"] = t5

    # damaged weights
    weights = (Path(tiny_model) / "model.safetensors").read_bytes()
    truncated = _copy_model(tiny_model, root / "truncated")
    (truncated / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    P["truncated"] = truncated
    random_bytes = _copy_model(tiny_model, root / "random_bytes")
    (random_bytes / "model.safetensors").write_bytes(os.urandom(4096))
    P["random_bytes"] = random_bytes
    dense = _copy_model(tiny_model, root / "bad_dense")  # a sentence-transformers folder whose MLP is damaged
    (dense / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}]))
    (dense / "1_Pooling").mkdir()
    (dense / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    (dense / "2_Dense").mkdir()
    (dense / "2_Dense" / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    P["bad_dense"] = dense

    # pickle weights only, whose unpickling would write a marker
    hostile = root / "pickle"
    hostile.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        if (Path(tiny_model) / name).is_file():
            shutil.copy(Path(tiny_model) / name, hostile / name)
    torch.save({"embeddings.word_embeddings.weight": _Payload(_write_marker_code(P["markers"] / "pickle.ran"))},
               hostile / "pytorch_model.bin")
    P["pickle"] = hostile

    no_config = root / "no_config"
    no_config.mkdir()
    (no_config / "model.safetensors").write_bytes(weights)
    P["no_config"] = no_config
    bad_config = _copy_model(tiny_model, root / "bad_config")
    (bad_config / "config.json").write_text('{"model_type": "bert",')
    P["bad_config"] = bad_config
    no_weights = _copy_model(tiny_model, root / "no_weights")
    (no_weights / "model.safetensors").unlink()
    P["no_weights"] = no_weights
    P["model_file"] = Path(tiny_model) / "config.json"

    # corpora and other files
    def text(name: str, content: str | bytes) -> Path:
        p = root / name
        (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
        P[name] = p
        return p

    text("labels.csv", "id,label\n1,a\n2,b\n3,c\n")
    text("labels_many.csv", "id,label\n" + "".join(f"{i},{'pos' if i % 2 else 'neg'}\n" for i in range(200)))
    text("binary.txt", b"some\x00binary\x00bytes\n" * 10)
    text("latin1.txt", "caf\xe9 au lait\nanother line\n".encode("latin-1"))
    text("empty.txt", "")
    text("blank.txt", "\n   \n\n")
    text("one.txt", "only one sentence here\n")
    text("ragged.csv", "text,topic\nfine,1\nalso fine,2\ntoo,many,fields\n")
    text("bad.jsonl", '{"text": "a fine line"}\n{"text": "broken\n')
    text("utf16.txt", "hello there\n".encode("utf-16"))
    text("bad_score.csv", "sentence1,sentence2,score\na cat,a dog,1.0\na man,a woman,high\n")
    text("not_sup.csv", "text,topic\na sentence,x\nanother,y\n")
    text("bad_config.json", '{"temp": 0.05,')
    text("unknown_field.json", '{"temprature": 0.05}')
    text("wrong_type.json", '{"temp": "cold"}')
    P["dir"] = root
    P["missing"] = root / "no_such_file.txt"

    # an existing run, whose folder no refused command may touch
    run = root / "existing_run"
    rc = main(["train", "--model_name_or_path", tiny_model, "--train_file", small_corpus, "--output_dir", str(run),
               "--max_steps", "1", "--per_device_train_batch_size", "8", "--probe_size", "8",
               "--snapshot_every", "1", "--quiet"])
    assert rc == 0
    P["run"] = run
    return P


@pytest.fixture(scope="module")
def P(tmp_path_factory, tiny_model, small_corpus) -> dict[str, Path]:
    return _build(tmp_path_factory.mktemp("bad_inputs"), tiny_model, small_corpus)


def _folder_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


# ------------------------------------------------------------------------------ rows
# (id, argv given the paths, fragments the one error line must contain). Train rows run
# against the existing run folder with a valid base command; the row's flags come last
# and so win.

Argv = Callable[[dict], list]


def _sub(P: dict, x: object) -> object:
    """"@name" (or "random:@name") stands for the built file or folder ``P[name]``."""
    if isinstance(x, str) and "@" in x:
        head, _, name = x.partition("@")
        return f"{head}{P[name]}"
    return x


def _train(*extra: object) -> Argv:
    def argv(P: dict) -> list:
        return ["train", "--model_name_or_path", P["tiny"], "--train_file", P["corpus"], "--output_dir", P["run"],
                "--max_steps", "1", "--per_device_train_batch_size", "8", "--probe_size", "8", "--quiet",
                *[_sub(P, x) for x in extra]]
    return argv


def _eval(*extra: object) -> Argv:
    def argv(P: dict) -> list:
        return ["eval", "--model_name_or_path", P["tiny"], "--eval_file", P["bad_score.csv"].with_name("sts.csv"),
                *[_sub(P, x) for x in extra]]
    return argv


def _encode(*extra: object) -> Argv:
    def argv(P: dict) -> list:
        return ["encode", "--model_name_or_path", P["tiny"], "--input", P["one.txt"], "--output",
                P["dir"] / "out" / "e.npy",
                *[_sub(P, x) for x in extra]]
    return argv


M = "--model_name_or_path"
ROWS: list[tuple[str, Argv, tuple[str, ...]]] = [
    # --- model folders: refused for safety
    ("train-remote-code", _train(M, "@remote"), ("remote", "auto_map", "trust_remote_code=False")),
    ("eval-remote-code", _eval(M, "@remote"), ("remote", "config.json", "auto_map")),
    ("encode-remote-code", _encode(M, "@remote"), ("remote", "auto_map")),
    ("eval-remote-code-in-tokenizer", _eval(M, "@remote_tok"), ("remote_tok", "tokenizer_config.json", "auto_map")),
    ("train-random-init-remote-code", _train(M, "random:@remote"), ("remote", "auto_map")),
    ("train-pickle-not-allowed", _train(M, "@pickle"), ("pickle", "pytorch_model.bin", "--allow_pickle")),
    ("eval-hostile-pickle-allowed", _eval(M, "@pickle", "--allow_pickle"), ("pickle", "pytorch_model.bin", "weights_only=True")),
    ("train-hostile-pickle-allowed", _train(M, "@pickle", "--allow_pickle"), ("pickle", "pytorch_model.bin")),
    # --- model folders: architectures the engine does not train
    ("eval-gpt2-decoder-only", _eval(M, "@gpt2"), ("gpt2", "'gpt2'", "decoder-only", "supported model types", "bert")),
    ("train-gpt2-decoder-only", _train(M, "@gpt2", "--pooler_type", "cls"), ("gpt2", "decoder-only")),
    ("encode-gpt2-decoder-only", _encode(M, "@gpt2"), ("gpt2", "decoder-only")),
    ("eval-bert-is-decoder", _eval(M, "@decoder_bert"), ("decoder_bert", "is_decoder")),
    ("eval-unsupported-t5", _eval(M, "@t5"), ("t5", "'t5'", "not supported", "supported model types")),
    # --- model folders: damaged or missing
    ("eval-truncated-safetensors", _eval(M, "@truncated"), ("truncated", "model.safetensors", "damaged")),
    ("train-truncated-safetensors", _train(M, "@truncated"), ("truncated", "model.safetensors", "damaged")),
    ("eval-random-bytes-safetensors", _eval(M, "@random_bytes"), ("random_bytes", "model.safetensors", "damaged")),
    ("encode-random-bytes-safetensors", _encode(M, "@random_bytes"), ("random_bytes", "model.safetensors")),
    ("train-random-bytes-safetensors", _train(M, "@random_bytes"), ("random_bytes", "model.safetensors")),
    ("eval-damaged-mlp-weights", _eval(M, "@bad_dense"), ("bad_dense", "2_Dense", "damaged")),
    ("eval-no-such-model-folder", _eval(M, "/no/such/model"), ("/no/such/model", "no such folder")),
    ("train-model-is-a-file", _train(M, "@model_file"), ("config.json", "is a file")),
    ("eval-model-without-config", _eval(M, "@no_config"), ("no_config", "no config.json")),
    ("eval-model-config-not-json", _eval(M, "@bad_config"), ("bad_config", "config.json", "not valid JSON")),
    ("encode-model-without-weights", _encode(M, "@no_weights"), ("no_weights", "no weights")),
    ("eval-max-seq-length-over-model", _eval("--max_seq_length", "100000"), ("max_seq_length", "100000", "at most 128")),
    # --- numeric flags
    ("encode-batch-size-0", _encode("--batch_size", "0"), ("--batch_size", ">= 1")),
    ("encode-batch-size-negative", _encode("--batch_size", "-1"), ("--batch_size", ">= 1")),
    ("eval-batch-size-negative", _eval("--batch_size", "-1"), ("--batch_size", ">= 1")),
    ("encode-max-seq-length-0", _encode("--max_seq_length", "0"), ("--max_seq_length", "at least 4")),
    ("eval-max-seq-length-2", _eval("--max_seq_length", "2"), ("--max_seq_length",)),
    ("eval-batch-size-not-a-number", _eval("--batch_size", "abc"), ("--batch_size", "invalid int value")),
    ("train-unknown-flag", _train("--temprature", "0.1"), ("--temprature", "unrecognized")),
    ("train-temp-negative", _train("--temp", "-1"), ("'temp'", "> 0")),
    ("train-temp-nan", _train("--temp", "nan"), ("'temp'", "finite")),
    ("train-temp-inf", _train("--temp", "inf"), ("'temp'", "finite")),
    ("train-learning-rate-negative", _train("--learning_rate=-1e-5"), ("'learning_rate'",)),
    ("train-learning-rate-inf", _train("--learning_rate", "inf"), ("'learning_rate'", "finite")),
    ("train-batch-size-1", _train("--per_device_train_batch_size", "1"), ("'per_device_train_batch_size'",)),
    ("train-dropout-over-1", _train("--dropout", "1.5"), ("'dropout'", "[0, 1)")),
    ("train-max-seq-length-0", _train("--max_seq_length", "0"), ("'max_seq_length'",)),
    ("train-max-seq-length-over-model", _train("--max_seq_length", "4096"), ("max_seq_length", "at most 128")),
    ("train-epochs-0", _train("--max_steps", "-1", "--num_train_epochs", "0"), ("'num_train_epochs'",)),
    ("train-epochs-inf", _train("--num_train_epochs", "inf"), ("'num_train_epochs'", "finite")),
    ("train-snapshot-every-0", _train("--snapshot_every", "0"), ("'snapshot_every'", ">= 1")),
    ("train-eval-every-0", _train("--eval_every", "0"), ("'eval_every'",)),
    ("train-checkpoint-every-negative", _train("--checkpoint_every", "-5"), ("'checkpoint_every'",)),
    ("train-probe-size-1", _train("--probe_size", "1"), ("'probe_size'",)),
    ("train-warmup-negative", _train("--warmup_steps", "-1"), ("'warmup_steps'", ">= 0")),
    ("train-weight-decay-negative", _train("--weight_decay", "-0.1"), ("'weight_decay'", ">= 0")),
    ("train-max-grad-norm-0", _train("--max_grad_norm", "0"), ("'max_grad_norm'", "> 0")),
    ("train-hard-negative-weight-nan", _train("--hard_negative_weight", "nan"), ("'hard_negative_weight'",)),
    ("train-tau-plus-1", _train("--tau_plus", "1"), ("'tau_plus'",)),
    ("train-seed-negative", _train("--seed", "-1"), ("'seed'",)),
    ("train-grad-cache-negative", _train("--grad_cache_chunk", "-1"), ("'grad_cache_chunk'",)),
    ("train-pad-multiple-negative", _train("--pad_to_multiple_of", "-1"), ("'pad_to_multiple_of'",)),
    ("train-bool-flag-not-bool", _train("--bf16", "maybe"), ("--bf16", "true or false")),
    ("train-loss-option-malformed", _train("--loss_option", "novalue"), ("--loss_option", "NAME=VALUE")),
    # --- corpora and other files
    ("train-corpus-missing", _train("--train_file", "@missing"), ("no_such_file.txt", "no such file")),
    ("train-corpus-is-a-folder", _train("--train_file", "@dir"), ("bad_inputs", "directory")),
    ("train-corpus-binary", _train("--train_file", "@binary.txt"), ("binary.txt", "binary")),
    ("train-corpus-not-utf8", _train("--train_file", "@latin1.txt"), ("latin1.txt", "line 1", "UTF-8")),
    ("train-corpus-utf16", _train("--train_file", "@utf16.txt"), ("utf16.txt", "UTF-16")),
    ("train-corpus-empty", _train("--train_file", "@empty.txt"), ("empty.txt", "empty")),
    ("train-corpus-blank-lines", _train("--train_file", "@blank.txt"), ("blank.txt", "empty")),
    ("train-corpus-one-sentence", _train("--train_file", "@one.txt"), ("one.txt", "1 sentence", "at least 2")),
    ("train-csv-label-column-only", _train("--train_file", "@labels.csv"), ("labels.csv", "'label'", "labels", "text_column")),
    ("train-csv-pos-neg-labels", _train("--train_file", "@labels_many.csv"), ("labels_many.csv", "'label'", "text_column")),
    ("train-csv-named-column-missing", _train("--train_file", "@labels.csv", "--text_column", "body"), ("labels.csv", "'body'", "'label'")),
    ("train-csv-ragged-row", _train("--train_file", "@ragged.csv"), ("ragged.csv", "line 4", "3 fields")),
    ("train-jsonl-broken-line", _train("--train_file", "@bad.jsonl"), ("bad.jsonl", "line 2", "JSON")),
    ("train-sup-without-triplets", _train("--mode", "sup", "--train_file", "@not_sup.csv"), ("not_sup.csv", "sent0")),
    ("train-eval-file-bad-score", _train("--eval_file", "@bad_score.csv"), ("bad_score.csv", "line 3", "'high'")),
    ("train-config-not-json", _train("--config", "@bad_config.json"), ("bad_config.json", "JSON")),
    ("train-config-unknown-field", _train("--config", "@unknown_field.json"), ("unknown_field.json", "temprature")),
    ("train-config-wrong-type", _train("--config", "@wrong_type.json"), ("wrong_type.json", "'temp'", "number")),
    ("encode-input-missing", _encode("--input", "@missing"), ("no_such_file.txt", "no such file")),
    ("encode-csv-label-column-only", _encode("--input", "@labels.csv"), ("labels.csv", "text_column")),
    ("encode-output-not-npy", _encode("--output", "@labels.csv"), ("--output", ".npy")),
    ("eval-eval-file-missing", _eval("--eval_file", "/no/such/sts.csv"), ("/no/such/sts.csv", "no such file")),
    ("eval-eval-file-bad-score", _eval("--eval_file", "@bad_score.csv"), ("bad_score.csv", "line 3")),
    ("eval-sts-dir-missing", _eval("--sts_dir", "/no/such/STS12"), ("/no/such/STS12",)),
]


@pytest.fixture(scope="module")
def sts_file(P) -> Path:
    """A small valid STS csv beside the other files (the eval rows' base --eval_file)."""
    p = P["dir"] / "sts.csv"
    p.write_text("sentence1,sentence2,score\n" + "".join(
        f"a man {i} walks,a man {i} is walking,{i % 5}\n" for i in range(8)))
    return p


@pytest.mark.parametrize("argv,needles", [pytest.param(a, n, id=i) for i, a, n in ROWS])
def test_bad_input_is_one_line_exit_2_and_nothing_changes(argv, needles, P, sts_file, capfd):
    before = _folder_hash(P["run"])
    args = [str(a) for a in argv(P)]
    rc = main(args)
    out, err = capfd.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, (rc, err)
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"simcse {args[0]}: error: ")
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert out == ""  # nothing half-printed on stdout either
    assert _folder_hash(P["run"]) == before  # the existing run is untouched
    assert not list(P["markers"].iterdir()), "a model folder's own code ran"
    assert not (P["dir"] / "out").exists()  # encode wrote nothing


def test_the_matrix_covers_enough_kinds():
    assert len(ROWS) >= 35
    assert {i.split("-")[0] for i, _, _ in ROWS} == {"train", "eval", "encode"}


# ------------------------------------------------------------------ accepted where meant


def test_a_named_label_like_column_is_used(P):
    """The label-like guard is for guessed columns only: naming the column is consent."""
    from simcse_core.data import read_corpus

    assert read_corpus(P["labels.csv"], text_column="label").sentences == ["a", "b", "c"]


def test_encode_takes_a_single_sentence(P, tmp_path):
    out = tmp_path / "one.npy"
    assert main(["encode", "--model_name_or_path", str(P["tiny"]), "--input", str(P["one.txt"]),
                 "--output", str(out)]) == 0
    import numpy as np

    assert np.load(out).shape == (1, 32)


# ---------------------------------------------------------------------- the studio
# The Setup panel reads the corpus with read_corpus_preview (in a worker: preview_job) and
# a run loads its model with simcse_core.model.load_model; the panel and the run bar show
# error_text(exception). Each message names the file or field.

STUDIO_CORPUS = [
    ("labels.csv", None, ("labels.csv", "'label'", "text_column")),
    ("missing", None, ("no_such_file.txt", "no such file")),
    ("binary.txt", None, ("binary.txt", "binary")),
    ("latin1.txt", None, ("latin1.txt", "UTF-8")),
    ("labels.csv", "body", ("labels.csv", "'body'")),
    ("one.txt", None, ("one.txt", "at least 2")),
]


@pytest.mark.parametrize("name,column,needles", STUDIO_CORPUS,
                         ids=[r[0] + (f"-{r[1]}" if r[1] else "") for r in STUDIO_CORPUS])
def test_studio_corpus_field(name, column, needles, P):
    from app.panels.setup_panel import preview_job

    request, preview, message = preview_job(7, str(P[name]), column)
    assert request == 7
    assert preview is None and "\n" not in message and "Traceback" not in message
    for needle in needles:
        assert needle in message


STUDIO_MODEL = [
    ("remote", {}, ("remote", "auto_map")),
    ("gpt2", {}, ("gpt2", "decoder-only")),
    ("truncated", {}, ("truncated", "model.safetensors")),
    ("pickle", {}, ("pickle", "--allow_pickle")),
    ("pickle", {"allow_pickle": True}, ("pickle", "weights_only=True")),
    ("no_config", {}, ("no_config", "config.json")),
]


@pytest.mark.parametrize("name,kw,needles", STUDIO_MODEL, ids=[f"{r[0]}{'-allowed' if r[1] else ''}" for r in STUDIO_MODEL])
def test_studio_model_field(name, kw, needles, P):
    from app.runs.workers import error_text
    from simcse_core.errors import ModelError
    from simcse_core.model import load_model

    with pytest.raises(ModelError) as exc:
        load_model(str(P[name]), **kw)
    message = error_text(exc.value)
    assert "\n" not in message and not message.startswith("unexpected error")
    for needle in needles:
        assert needle in message
    assert not list(P["markers"].iterdir())


# ------------------------------------------------------------- real processes: terminal


def _simcse(*args: str) -> list[str]:
    return [sys.executable, "-m", "simcse_core", *args]


def test_remote_code_refused_even_when_the_terminal_answers_yes(P):
    """transformers asks "run the custom code? [y/N]" on a terminal when trust_remote_code
    is left unset; a "y" there used to run the folder's evil.py. Now nothing is asked."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(_simcse("eval", "--model_name_or_path", str(P["remote"]), "--eval_file",
                                        str(P["dir"] / "sts.csv")),
                                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.write(master, b"y\n" * 4)
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    assert not (P["markers"] / "remote.ran").exists()
    assert proc.returncode == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "auto_map" in lines[0] and "Traceback" not in err
    assert out == ""  # no prompt on stdout


def test_eval_stdout_is_the_json_object_only(P, sts_file):
    """Whatever the libraries print goes to stderr: stdout parses as JSON, nothing else."""
    r = subprocess.run(_simcse("eval", "--model_name_or_path", str(P["tiny"]), "--eval_file", str(sts_file)),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert list(json.loads(r.stdout)) == ["sts"]
    assert r.stdout.count("\n") == 1


def test_eval_inside_redirects_library_prints_to_stderr(P, sts_file, capfd, monkeypatch):
    """A library that prints (here: the model loader, to stdout and to file descriptor 1)
    lands on stderr; stdout keeps the JSON object alone."""
    import simcse_core.model as model

    real = model.load_model

    def noisy(*a, **kw):
        print("Some weights were not initialized ...")
        os.write(1, b"a C library writes here\n")
        return real(*a, **kw)

    monkeypatch.setattr(model, "load_model", noisy)
    assert main(["eval", "--model_name_or_path", str(P["tiny"]), "--eval_file", str(sts_file)]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out) == json.loads(out.strip()) and list(json.loads(out)) == ["sts"]
    assert "Some weights" in err and "a C library" in err



def test_eval_prints_null_not_nan(P, sts_file, capfd, monkeypatch):
    """An undefined Spearman (constant similarities) is JSON null with a note, not NaN."""
    import simcse_core.metrics as metrics

    monkeypatch.setattr(metrics, "evaluate_sts", lambda *a, **kw: {"spearman": float("nan")})
    assert main(["eval", "--model_name_or_path", str(P["tiny"]), "--eval_file", str(sts_file)]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out) == {"sts": None} and "NaN" not in out and "undefined" in err


def test_supported_model_types_are_encoders_transformers_knows():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    from simcse_core.model import SUPPORTED_MODEL_TYPES, _is_causal_type

    for model_type in SUPPORTED_MODEL_TYPES:
        assert model_type in CONFIG_MAPPING_NAMES
    assert _is_causal_type("gpt2") and _is_causal_type("llama") and not _is_causal_type("bert")
