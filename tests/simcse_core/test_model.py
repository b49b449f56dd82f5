"""Model loading, pooling, safety and the sentence-transformers folder format."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from simcse_core.errors import ModelError
from simcse_core.model import default_model_path, load_model

SENTS = ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply.", "Rain is expected."]


def test_pooling_modes_match_manual_computation(tiny_model):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model, local_files_only=True, trust_remote_code=False)
    ref = AutoModel.from_pretrained(tiny_model, local_files_only=True, trust_remote_code=False).eval()
    batch = tok(SENTS, padding=True, truncation=True, max_length=32, return_tensors="pt")
    with torch.no_grad():
        h = ref(**batch).last_hidden_state.double()
    m = batch["attention_mask"].double().unsqueeze(-1)
    avg = ((h * m).sum(1) / m.sum(1)).numpy()
    cls = h[:, 0].numpy()
    for pooler, want in (("avg", avg), ("cls_before_pooler", cls)):
        enc = load_model(tiny_model, pooler_type=pooler)
        got = enc.encode(SENTS, normalize=False)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # cls: the MLP (dense + tanh) on top of [CLS]
    enc = load_model(tiny_model, pooler_type="cls")
    w, b = enc.mlp.dense.weight.detach().double().numpy(), enc.mlp.dense.bias.detach().double().numpy()
    np.testing.assert_allclose(enc.encode(SENTS, normalize=False), np.tanh(cls @ w.T + b), rtol=1e-4, atol=1e-5)
    # mlp_only_train: no MLP at inference, MLP in training mode
    enc = load_model(tiny_model, pooler_type="cls", mlp_only_train=True)
    np.testing.assert_allclose(enc.encode(SENTS, normalize=False), cls, rtol=1e-4, atol=1e-5)
    # plain HF folder: auto means cls (reference default)
    assert load_model(tiny_model).pooler_type == "cls"


def test_default_model_is_packaged_and_uses_mean_pooling():
    enc = load_model("default")
    assert enc.pooler_type == "avg"
    assert str(default_model_path()) in enc.source
    e = enc.encode(SENTS)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-5)
    sim = e @ e.T
    assert sim[0, 1] > 0.6 > sim[0, 2]  # paraphrase closer than an unrelated sentence


def test_random_init_same_architecture_fresh_weights():
    a = load_model("random:default", seed=1)
    b = load_model("random:default", seed=1)
    c = load_model("default")
    pa = dict(a.backbone.named_parameters())
    pc = dict(c.backbone.named_parameters())
    assert pa.keys() == pc.keys()
    name = "encoder.layer.0.attention.self.query.weight"
    assert pa[name].shape == pc[name].shape
    assert not torch.allclose(pa[name], pc[name])
    assert torch.equal(pa[name], dict(b.backbone.named_parameters())[name])  # seeded


def test_dropout_override(tiny_model):
    enc = load_model(tiny_model, dropout=0.3)
    assert enc.backbone.config.hidden_dropout_prob == 0.3
    assert enc.backbone.config.attention_probs_dropout_prob == 0.3
    drops = [m.p for m in enc.backbone.modules() if isinstance(m, torch.nn.Dropout)]
    assert drops and all(p == 0.3 for p in drops)


def test_pickle_only_folder_refused_with_reason(tiny_model, tmp_path):
    from transformers import AutoModel

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model, folder)
    (folder / "model.safetensors").unlink()
    model = AutoModel.from_pretrained(tiny_model, local_files_only=True, trust_remote_code=False)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelError) as e:
        load_model(str(folder))
    msg = str(e.value)
    assert "pytorch_model.bin" in msg and "pickle" in msg and "allow_pickle" in msg
    assert load_model(str(folder), allow_pickle=True).dim == 32  # opt-in works


@pytest.mark.parametrize("spec,needle", [("/no/such/folder", "no such folder"), ("__file__", "is a file")])
def test_bad_model_specs(spec, needle, tmp_path):
    if spec == "__file__":
        spec = str(tmp_path / "x.txt")
        (tmp_path / "x.txt").write_text("x")
    with pytest.raises(ModelError, match=needle):
        load_model(spec)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="config.json"):
        load_model(str(empty))


@pytest.mark.parametrize("pooler,mlp_only", [("avg", False), ("cls", False), ("cls", True), ("cls_before_pooler", False)])
def test_saved_folder_loads_in_sentence_transformers_and_automodel(tiny_model, tmp_path, pooler, mlp_only):
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    enc = load_model(tiny_model, pooler_type=pooler, mlp_only_train=mlp_only)
    with torch.no_grad():  # make the MLP non-trivial
        if enc.mlp is not None:
            enc.mlp.dense.weight.mul_(3.0)
    out = enc.save(tmp_path / "saved")
    ours = enc.encode(SENTS)
    st = SentenceTransformer(str(out), device="cpu", trust_remote_code=False)
    theirs = st.encode(SENTS, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(theirs, ours, atol=2e-5)
    # the backbone through plain transformers
    hf = AutoModel.from_pretrained(str(out), local_files_only=True, trust_remote_code=False).eval()
    tok = enc.tokenizer(SENTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        h = hf(input_ids=tok["input_ids"], attention_mask=tok["attention_mask"]).last_hidden_state
    raw = enc.encode(SENTS, normalize=False)
    if pooler == "avg":
        m = tok["attention_mask"].unsqueeze(-1).float()
        np.testing.assert_allclose((h * m).sum(1) / m.sum(1), raw, atol=2e-5)
    elif pooler == "cls_before_pooler" or mlp_only:
        np.testing.assert_allclose(h[:, 0], raw, atol=2e-5)
    # reloading with our loader (auto pooler) gives the same embeddings
    np.testing.assert_allclose(load_model(str(out)).encode(SENTS), ours, atol=2e-5)


@pytest.mark.slow
def test_default_model_sts_b_dev_spearman(sts_dev):
    """all-MiniLM-L6-v2, mean pooling, cosine, STS-B dev: 86.7 (independent figure)."""
    from simcse_core import metrics as M
    from simcse_core.data import read_sts

    r = M.evaluate_sts(load_model("default"), read_sts(sts_dev), max_length=128)
    assert r["spearman"] == pytest.approx(86.7, abs=0.3)


def test_encoding_batches_are_sized_for_the_device(tiny_model):
    """Without a batch size, encode takes the device's (32 sentences on a CPU: faster there
    than 128, bench/encode_throughput.py); the embeddings do not depend on the batching."""
    from simcse_core.model import ENCODE_BATCH, encode_batch_size

    assert encode_batch_size("cpu") == ENCODE_BATCH["cpu"] == 32
    assert encode_batch_size(torch.device("cuda")) == 512
    enc = load_model(tiny_model, "avg", max_seq_length=16)
    sentences = [f"sentence number {i} " + "word " * (i % 7) for i in range(70)]
    calls = []
    real = enc.tokenize

    def counting(batch, max_length=None):
        calls.append(len(batch))
        return real(batch, max_length)

    enc.tokenize = counting
    auto = enc.encode(sentences)
    assert calls == [32, 32, 6]
    np.testing.assert_allclose(auto, enc.encode(sentences, batch_size=7), atol=1e-5)
