"""The `simcse` command: train, encode, eval, help, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from simcse_core.cli import main


def test_help_for_every_command():
    for cmd in ("train", "encode", "eval"):
        r = subprocess.run([sys.executable, "-m", "simcse_core", cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "--model_name_or_path" in r.stdout
    r = subprocess.run([sys.executable, "-m", "simcse_core", "train", "--help"], capture_output=True, text=True)
    for flag in ("--train_file", "--output_dir", "--temp", "--pooler_type", "--max_seq_length", "--learning_rate",
                 "--per_device_train_batch_size", "--num_train_epochs", "--max_steps", "--seed", "--device",
                 "--loss_variant", "--snapshot_every", "--eval_file"):
        assert flag in r.stdout


def test_train_on_wiki_then_load_with_sentence_transformers(tiny_model, tmp_path, capsys, wiki10k, sts_dev):
    out = tmp_path / "run"
    rc = main(["train", "--model_name_or_path", tiny_model, "--train_file", str(wiki10k), "--output_dir", str(out),
               "--max_steps", "4", "--per_device_train_batch_size", "16", "--snapshot_every", "2",
               "--probe_size", "64", "--eval_file", str(sts_dev), "--eval_every", "4", "--quiet"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "done after 4 steps" in text
    recs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in recs] == [0, 2, 4]
    assert "sts_spearman" in recs[0] and "sts_spearman" in recs[-1]
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(out / "model"), device="cpu", trust_remote_code=False)
    e = st.encode(["a sentence", "another one"])
    assert e.shape == (2, 32) and np.isfinite(e).all()


def test_config_file_and_flag_override(tiny_model, tmp_path, small_corpus):
    cfg = tmp_path / "preset.json"
    cfg.write_text(json.dumps({"model_name_or_path": tiny_model, "train_file": small_corpus, "temp": 0.1,
                               "max_steps": 2, "per_device_train_batch_size": 8, "probe_size": 16,
                               "snapshot_every": 2}))
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--temp", "0.2", "--output_dir", str(out), "--quiet"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["temp"] == 0.2 and saved["model_name_or_path"] == tiny_model and saved["max_steps"] == 2


def test_train_bf16_on_a_cpu_says_how_it_runs(tiny_model, tmp_path, small_corpus, capsys):
    from simcse_core.precision import cpu_bf16_note

    assert main(["train", "--model_name_or_path", tiny_model, "--train_file", small_corpus, "--max_steps", "2",
                 "--per_device_train_batch_size", "8", "--probe_size", "16", "--snapshot_every", "2",
                 "--device", "cpu", "--bf16", "--output_dir", str(tmp_path / "run")]) == 0
    said = capsys.readouterr()
    assert f"precision: {cpu_bf16_note()}" in said.out + said.err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["bf16"] is True


def test_encode_and_eval(tiny_model, tmp_path, capsys, sts_dev):
    src = tmp_path / "s.txt"
    src.write_text("one sentence\n\nanother sentence\nthird\n")
    out = tmp_path / "e.npy"
    assert main(["encode", "--model_name_or_path", tiny_model, "--input", str(src), "--output", str(out)]) == 0
    e = np.load(out)
    assert e.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1, rtol=1e-5)
    capsys.readouterr()
    assert main(["eval", "--model_name_or_path", tiny_model, "--eval_file", str(sts_dev)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(res) == {"sts-dev"} and -100 <= res["sts-dev"] <= 100


def test_eval_senteval_dir_all_setting(tiny_model, tmp_path, capsys):
    d = tmp_path / "STS12"
    d.mkdir()
    for name, n in (("MSRpar", 6), ("OnWN", 5)):
        (d / f"STS.input.{name}.txt").write_text("".join(f"a man {i} walks\ta man {i} is walking\n" for i in range(n)))
        (d / f"STS.gs.{name}.txt").write_text("".join(f"{i % 5}\n" if i != 2 else "\n" for i in range(n)))
    assert main(["eval", "--model_name_or_path", tiny_model, "--sts_dir", str(d)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(res) == ["STS12"]


# Bad input (exit status 2, one line naming the file or field, no traceback): the matrix in
# tests/simcse_core/test_bad_inputs.py, which took over this file's subprocess rows.


def test_preset_list_and_bad_name(capsys):
    assert main(["preset", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("temperature_tour", "dropout_augmentation", "from_scratch"):
        assert name in out
    assert main(["preset", "no_such_preset"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no_such_preset" in err[0]


def test_preset_runs_end_to_end_from_the_cli(tiny_model, small_corpus, tmp_path, capsys):
    rc = main(["preset", "temperature_tour", "--output_root", str(tmp_path), "--quiet",
               "--set", f"model_name_or_path={tiny_model}", "--set", f"train_file={small_corpus}",
               "--set", "max_steps=1", "--set", "probe_size=8", "--set", "per_device_train_batch_size=8"])
    assert rc == 0
    assert "4 of 4 runs" in capsys.readouterr().out
    temps = sorted(json.loads(p.read_text())["temp"] for p in (tmp_path / "temperature_tour").glob("*/config.json"))
    assert temps == [0.01, 0.05, 0.1, 1.0]
