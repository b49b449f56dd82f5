"""A corpus's embeddings cached on disk (groundwork for issue 16): the cached rows are the
encoder's embeddings (float16), a second open encodes nothing, a cancelled encode resumes
where it stopped and ends as an uninterrupted one, and a changed corpus or model is never
served from an old cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from simcse_core.data import read_corpus
from simcse_core.embedding_cache import (EmbeddingCache, cache_key, default_cache_dir, encode_into,
                                         model_fingerprint, read_manifest)
from simcse_core.model import load_model


class Counting:
    """An encoder that counts the sentences it encodes."""

    def __init__(self, enc) -> None:
        self.enc, self.sentences = enc, 0
        self.device = enc.device

    def encode(self, sentences, batch_size=128, precision="float32"):
        self.sentences += len(sentences)
        return self.enc.encode(sentences, batch_size=batch_size, precision=precision)


@pytest.fixture(scope="module")
def setup(tiny_model, small_corpus):
    enc = load_model(tiny_model, "avg", max_seq_length=32)
    sentences = read_corpus(small_corpus).sentences
    return enc, sentences, enc.encode(sentences, batch_size=32)


def _open(tiny_model, corpus, n, dim, precision="float32"):
    key = cache_key(tiny_model, "avg", 32, corpus, n)
    return EmbeddingCache.open(default_cache_dir(corpus, key), key, n=n, dim=dim, precision=precision), key


def test_cached_rows_are_the_encoders_and_a_second_open_encodes_nothing(setup, tiny_model, small_corpus, tmp_path):
    enc, sentences, ref = setup
    corpus = shutil.copy(small_corpus, tmp_path / "c.csv")
    n, dim = ref.shape
    cache, key = _open(tiny_model, corpus, n, dim)
    counting = Counting(enc)
    seen = []
    assert encode_into(counting, sentences, cache, batch_size=32, chunk=64, progress=lambda d, t: seen.append((d, t)))
    assert counting.sentences == n and seen[-1] == (n, n) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    X = cache.array()
    assert X.dtype == np.float16 and X.shape == (n, dim) and isinstance(X, np.memmap)
    np.testing.assert_allclose(X.astype(np.float32), ref, atol=2e-3)  # float16 of unit vectors
    again, _ = _open(tiny_model, corpus, n, dim)
    assert again.complete and again.folder == cache.folder
    counting2 = Counting(enc)
    assert encode_into(counting2, sentences, again) and counting2.sentences == 0
    assert read_manifest(cache.folder)["key"] == key and cache.folder.parent.name == "c.csv.simcse-cache"


def test_a_cancelled_encode_resumes_and_ends_as_one_run(setup, tiny_model, small_corpus, tmp_path):
    enc, sentences, ref = setup
    corpus = shutil.copy(small_corpus, tmp_path / "c.csv")
    n, dim = ref.shape
    cache, _ = _open(tiny_model, corpus, n, dim)
    chunks = []
    stop_after_two = lambda: len(chunks) >= 2  # noqa: E731
    assert not encode_into(enc, sentences, cache, chunk=50, progress=lambda d, t: chunks.append(d),
                           should_stop=stop_after_two)
    assert cache.done == 100 and read_manifest(cache.folder)["done"] == 100
    cache.close()
    resumed, _ = _open(tiny_model, corpus, n, dim)  # a new process would do the same
    assert resumed.done == 100
    counting = Counting(enc)
    assert encode_into(counting, sentences, resumed, chunk=50)
    assert counting.sentences == n - 100
    np.testing.assert_allclose(resumed.array().astype(np.float32), ref, atol=2e-3)


def test_a_changed_corpus_or_model_is_not_served_from_the_old_cache(setup, tiny_model, small_corpus, tmp_path):
    enc, sentences, ref = setup
    corpus = tmp_path / "c.csv"
    shutil.copy(small_corpus, corpus)
    n, dim = ref.shape
    cache, key = _open(tiny_model, corpus, n, dim)
    encode_into(enc, sentences, cache)
    corpus.write_text(corpus.read_text(encoding="utf-8").replace("a", "A", 1), encoding="utf-8")
    changed, key2 = _open(tiny_model, corpus, n, dim)
    assert key2["corpus_sha256"] != key["corpus_sha256"] and changed.done == 0
    model2 = tmp_path / "model2"
    shutil.copytree(tiny_model, model2)
    assert model_fingerprint(model2) == model_fingerprint(tiny_model)  # where it lies does not matter
    w = next(model2.glob("*.safetensors"))
    data = bytearray(w.read_bytes())
    data[-1] ^= 1  # one bit of one weight
    w.write_bytes(bytes(data))
    assert model_fingerprint(model2) != model_fingerprint(tiny_model)
    # the same folder asked with another key starts over, its manifest rewritten first
    other = dict(key, pooler_type="cls")
    fresh = EmbeddingCache.open(cache.folder, other, n=n, dim=dim)
    assert fresh.done == 0 and read_manifest(cache.folder)["key"] == other
    (cache.folder / "manifest.json").write_text("{not json", encoding="utf-8")
    assert EmbeddingCache.open(cache.folder, other, n=n, dim=dim).done == 0  # an unreadable manifest: anew
    assert json.loads((cache.folder / "manifest.json").read_text(encoding="utf-8"))["done"] == 0


def test_simcse_encode_cache_writes_what_a_second_run_reuses_and_resumes(tiny_model, small_corpus, tmp_path,
                                                                         capsys, monkeypatch):
    """`simcse encode --cache` writes the cache beside the corpus (float16 rows equal to
    the encoder's, a manifest naming the corpus and model); a second run encodes nothing;
    a run stopped between chunks (Ctrl-C) keeps its rows, says how to resume, and the
    next run resumes there and ends equal to an uninterrupted encode."""
    from simcse_core import embedding_cache as ec
    from simcse_core.cli import main

    corpus = tmp_path / "corpus.txt"
    shutil.copy(small_corpus, corpus)
    sentences = read_corpus(corpus).sentences
    want = load_model(tiny_model, "avg", max_seq_length=32).encode(sentences, batch_size=32)
    args = ["encode", "--model_name_or_path", tiny_model, "--pooler_type", "avg", "--input", str(corpus),
            "--batch_size", "8", "--precision", "float32"]
    monkeypatch.setattr(ec, "CHUNK", 7)
    calls = {"n": 0}
    real = ec.encode_into

    def stop_after_two_chunks(*a, **kw):  # as the first Ctrl-C does: stop between chunks
        should_stop = kw["should_stop"]
        kw["should_stop"] = lambda: should_stop() or calls["n"] >= 2
        progress = kw["progress"]
        kw["progress"] = lambda d, t: (calls.__setitem__("n", calls["n"] + 1), progress(d, t))
        return real(*a, chunk=7, **kw)

    monkeypatch.setattr(ec, "encode_into", stop_after_two_chunks)
    assert main(args + ["--cache"]) == 130
    err = capsys.readouterr().err
    assert "stopped at 14 of" in err and "run the same command again to resume" in err
    folders = list((tmp_path / "corpus.txt.simcse-cache").iterdir())
    assert len(folders) == 1
    man = read_manifest(folders[0])
    assert man["done"] == 14 and man["info"]["corpus"] == str(corpus.resolve())
    assert man["info"]["model"] == str(type(corpus)(tiny_model).resolve())
    monkeypatch.setattr(ec, "encode_into", lambda *a, **kw: real(*a, chunk=7, **kw))
    out = tmp_path / "e.npy"
    assert main(args + ["--cache", "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "resuming at sentence 15 of" in err
    cached = np.load(folders[0] / "embeddings.f16.npy")
    np.testing.assert_allclose(cached.astype(np.float32), want, atol=2e-3)
    np.testing.assert_allclose(np.load(out), cached.astype(np.float32))
    assert read_manifest(folders[0])["done"] == len(sentences)
    assert main(args + ["--cache", str(tmp_path / "elsewhere")]) == 0  # a chosen folder
    assert (tmp_path / "elsewhere" / "manifest.json").is_file()
    capsys.readouterr()
    assert main(args + ["--cache"]) == 0
    assert "already holds all" in capsys.readouterr().err


@pytest.mark.parametrize("extra, says", [
    ([], "give --output FILE.npy and/or --cache"),
    (["--cache", "--no_normalize"], "leave out --no_normalize"),
])
def test_simcse_encode_cache_flags_answered_in_one_line(tiny_model, small_corpus, capsys, extra, says):
    from simcse_core.cli import main

    assert main(["encode", "--model_name_or_path", tiny_model, "--input", str(small_corpus), *extra]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_simcse_encode_cache_refuses_a_model_without_files(small_corpus, capsys):
    from simcse_core.cli import main

    assert main(["encode", "--model_name_or_path", "random:default", "--input", str(small_corpus), "--cache"]) == 2
    assert "has no model files" in capsys.readouterr().err


def test_a_corpus_in_a_read_only_folder_gets_its_cache_in_the_user_cache(tmp_path, monkeypatch):
    import os

    from simcse_core.embedding_cache import user_cache_root, writable_cache_dir

    corpus = tmp_path / "c.txt"
    corpus.write_text("a\nb\n", encoding="utf-8")
    key = {"k": 1}
    assert writable_cache_dir(corpus, key).parent == tmp_path / "c.txt.simcse-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path else real(p, mode))
    where = writable_cache_dir(corpus, key)
    assert user_cache_root() == tmp_path / "xdg" / "simcse-studio" / "embeddings"
    assert where.parent.parent == user_cache_root() and where.parent.name.startswith("c.txt-")
    assert where.name == writable_cache_dir(corpus, key).name  # the same key, the same folder
