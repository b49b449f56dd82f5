"""Encoding in bfloat16 (issue 16: encoding speed): the bfloat16 path really multiplies in
bfloat16 and stays close to float32, ``auto`` takes it only on hardware that has it and
only when the model's check passes (its lowest cosine recomputed here in float64), a cache
records the format it was written in and a resumed cache keeps it, and the command line
says which it used."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from simcse_core import precision as P
from simcse_core.data import read_corpus
from simcse_core.embedding_cache import EmbeddingCache, cache_key, default_cache_dir, encode_into, read_manifest
from simcse_core.model import load_model


@pytest.fixture(scope="module")
def enc_and_sentences(tiny_model, small_corpus):
    return load_model(tiny_model, "avg", max_seq_length=32), read_corpus(small_corpus).sentences


def _cos64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_bfloat16_encoding_differs_from_float32_yet_stays_close(enc_and_sentences):
    enc, sentences = enc_and_sentences
    f32 = enc.encode(sentences[:64], batch_size=16)
    again = enc.encode(sentences[:64], batch_size=16, precision="float32")
    b16 = enc.encode(sentences[:64], batch_size=16, precision="bfloat16")
    np.testing.assert_array_equal(f32, again)  # float32 is the default and unchanged
    assert b16.dtype == np.float32 and np.isfinite(b16).all()
    assert not np.array_equal(f32, b16)  # the products really ran in bfloat16
    cos = _cos64(f32, b16)
    assert cos.min() > 0.99 and np.allclose(np.linalg.norm(b16, axis=1), 1.0, atol=1e-5)


def test_autocast_for_runs_matmuls_in_bfloat16_only_when_asked():
    a = torch.randn(8, 8)
    with P.autocast_for("bfloat16", torch.device("cpu")):
        assert (a @ a).dtype == torch.bfloat16
    with P.autocast_for("float32", torch.device("cpu")):
        assert (a @ a).dtype == torch.float32


def test_auto_takes_float32_without_hardware_bfloat16(enc_and_sentences, monkeypatch):
    enc, sentences = enc_and_sentences
    monkeypatch.setattr(P, "native_bf16", lambda device: False)
    choice = P.choose_precision(enc, sentences, "auto")
    assert choice == P.PrecisionChoice("float32", "no hardware bfloat16")
    assert P.precision_note(choice) == "float32 (this device has no hardware bfloat16)"


def test_auto_checks_the_model_and_reports_the_lowest_cosine(enc_and_sentences, monkeypatch):
    enc, sentences = enc_and_sentences
    monkeypatch.setattr(P, "native_bf16", lambda device: True)
    rows = P.sample_rows(sentences)
    lengths = [len(s) for s in sentences]
    assert len(rows) == P.SAMPLE and max(lengths) in {lengths[i] for i in rows} \
        and min(lengths) in {lengths[i] for i in rows}  # the longest and the shortest are checked
    texts = [sentences[i] for i in rows]
    want = _cos64(enc.encode(texts, batch_size=len(texts)), enc.encode(texts, batch_size=len(texts),
                                                                        precision="bfloat16")).min()
    choice = P.choose_precision(enc, sentences, "auto")
    assert choice.sample == P.SAMPLE and choice.lowest_cosine == pytest.approx(want, abs=2e-6)
    assert choice.dtype == ("bfloat16" if want >= P.BF16_MIN_COSINE else "float32")
    monkeypatch.setattr(P, "BF16_MIN_COSINE", 1.5)  # a bar no model meets
    refused = P.choose_precision(enc, sentences, "auto")
    assert refused.dtype == "float32" and refused.reason == "below the bar"
    assert "under 1.5" in P.precision_note(refused)
    monkeypatch.setattr(P, "BF16_MIN_COSINE", -1.0)  # a bar every model meets
    taken = P.choose_precision(enc, sentences, "auto")
    assert taken.dtype == "bfloat16" and "lowest cosine to float32 is" in P.precision_note(taken)


def test_asked_precisions_are_taken_and_a_wrong_one_is_refused(enc_and_sentences):
    enc, sentences = enc_and_sentences
    assert P.choose_precision(enc, sentences, "float32") == P.PrecisionChoice("float32", "asked")
    asked = P.choose_precision(enc, sentences, "bfloat16")
    assert asked.dtype == "bfloat16" and asked.reason == "asked" and asked.lowest_cosine is not None
    from simcse_core.errors import ConfigError

    with pytest.raises(ConfigError, match="precision: must be one of auto, float32, bfloat16"):
        enc.encode(sentences[:2], precision="float16")


def test_native_bf16_follows_the_processor():
    cpu = torch.cpu
    has = cpu._is_avx512_bf16_supported() or getattr(cpu, "_is_amx_tile_supported", lambda: False)()
    assert P.native_bf16("cpu") == bool(has)
    assert P.native_bf16("meta") is False


def test_a_cache_records_its_precision_and_a_resume_keeps_it(enc_and_sentences, small_corpus, tmp_path, monkeypatch):
    """Started in bfloat16 (hardware said yes), stopped after a chunk, resumed where the
    hardware says no: the rest is still bfloat16, and the whole equals one uninterrupted
    bfloat16 encode. Opening asking float32 starts anew; auto takes the bfloat16 cache."""
    enc, sentences = enc_and_sentences
    corpus = shutil.copy(small_corpus, tmp_path / "c.csv")
    n = len(sentences)
    key = cache_key(tmp_path, "avg", 32, corpus, n, model_id="m")
    folder = default_cache_dir(corpus, key)
    monkeypatch.setattr(P, "BF16_MIN_COSINE", -1.0)
    monkeypatch.setattr(P, "native_bf16", lambda device: True)
    cache = EmbeddingCache.open(folder, key, n, enc.dim)
    assert not encode_into(enc, sentences, cache, chunk=64, batch_size=16, max_chunks=1)
    man = read_manifest(folder)
    assert man["done"] == 64 and man["precision"]["dtype"] == "bfloat16" and man["precision"]["reason"] == "checked"
    monkeypatch.setattr(P, "native_bf16", lambda device: False)
    resumed = EmbeddingCache.open(folder, key, n, enc.dim)
    assert resumed.done == 64 and resumed.precision.dtype == "bfloat16"
    assert encode_into(enc, sentences, resumed, chunk=64, batch_size=16)
    whole = np.concatenate([enc.encode(sentences[s:s + 64], batch_size=16, precision="bfloat16")
                            for s in range(0, n, 64)])
    np.testing.assert_array_equal(resumed.array(), whole.astype(np.float16))
    assert EmbeddingCache.open(folder, key, n, enc.dim).complete  # auto: any format
    assert EmbeddingCache.open(folder, key, n, enc.dim, precision="bfloat16").complete
    fresh = EmbeddingCache.open(folder, key, n, enc.dim, precision="float32")
    assert fresh.done == 0 and read_manifest(folder)["precision"] is None


def test_a_cache_from_before_precision_was_recorded_reads_as_float32(enc_and_sentences, small_corpus, tmp_path):
    enc, sentences = enc_and_sentences
    corpus = shutil.copy(small_corpus, tmp_path / "c.csv")
    n = len(sentences)
    key = cache_key(tmp_path, "avg", 32, corpus, n, model_id="m")
    folder = default_cache_dir(corpus, key)
    cache = EmbeddingCache.open(folder, key, n, enc.dim, precision="float32")
    encode_into(enc, sentences, cache, chunk=64, max_chunks=1)
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del man["precision"]
    (folder / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    old = EmbeddingCache.open(folder, key, n, enc.dim, precision="float32")
    assert old.done == 64 and old.precision == P.PrecisionChoice("float32", "asked")
    assert EmbeddingCache.open(folder, key, n, enc.dim, precision="bfloat16").done == 0


@pytest.mark.parametrize("asked, says", [("float32", "simcse encode: float32\n"),
                                         ("bfloat16", "simcse encode: bfloat16 matrix products (as asked; on 48 ")])
def test_simcse_encode_says_its_precision(tiny_model, small_corpus, tmp_path, capsys, asked, says):
    from simcse_core.cli import main

    out = tmp_path / "e.npy"
    assert main(["encode", "--model_name_or_path", tiny_model, "--pooler_type", "avg", "--input", str(small_corpus),
                 "--output", str(out), "--precision", asked]) == 0
    assert says in capsys.readouterr().err
    want = load_model(tiny_model, "avg", max_seq_length=32).encode(read_corpus(small_corpus).sentences,
                                                                   precision=asked)
    np.testing.assert_array_equal(np.load(out), want)


def test_simcse_encode_refuses_an_unknown_precision_in_one_line(tiny_model, small_corpus, capsys):
    from simcse_core.cli import main

    assert main(["encode", "--model_name_or_path", tiny_model, "--input", str(small_corpus), "--output", "x.npy",
                 "--precision", "fp8"]) == 2
    err = capsys.readouterr().err
    assert "--precision: invalid choice: 'fp8'" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
