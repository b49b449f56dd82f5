"""The first-run recipe: layer re-initialisation, the preset file, and the recipe's
mechanics on a shortened run.

The tiny random BERT carries no meaning, so the criteria on meaning (paraphrase
retrieval, STS-B) are measured on the real model by ``bench/first_run.py`` (figures in
docs/benchmarks.md); here: re-initialised weights differ and kept ones are equal,
seeded; on a shortened run of the recipe, the step-0 loss sits near chance, it falls,
and uniformity improves.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from simcse_core.config import TrainConfig
from simcse_core.errors import ModelError
from simcse_core.model import encoder_layers, load_model, parse_reinit
from simcse_core.presets import first_run_config, load_preset, presets_dir
from simcse_core.trainer import train


def _params(enc) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in enc.backbone.named_parameters()}


@pytest.mark.parametrize("count, fresh", [("all", {0, 1}), ("1", {1})])
def test_reinit_changes_the_top_layers_and_keeps_the_rest(tiny_model, count, fresh):
    kept = _params(load_model(tiny_model))
    a = _params(load_model(f"reinit:{count}:{tiny_model}", seed=3))
    b = _params(load_model(f"reinit:{count}:{tiny_model}", seed=3))
    c = _params(load_model(f"reinit:{count}:{tiny_model}", seed=4))
    assert a.keys() == kept.keys()
    for name, w in a.items():
        layer = int(name.split(".")[2]) if name.startswith("encoder.layer.") else None
        assert torch.equal(w, b[name]), name  # deterministic with the seed
        if layer in fresh:
            if name.endswith("LayerNorm.weight"):
                assert torch.all(w == 1), name
            elif name.endswith("bias"):
                assert torch.all(w == 0), name
            else:
                assert not torch.equal(w, kept[name]), name
                assert not torch.equal(w, c[name]), name  # another seed, other weights
                assert abs(float(w.std()) - 0.02) < 0.005, name  # the architecture's initializer_range
        else:
            assert torch.equal(w, kept[name]), name  # embeddings (and lower layers) kept


def test_frozen_layers_keep_their_weights_while_the_top_trains(tiny_model, small_corpus, tmp_path):
    """freeze_layers K: after training the embeddings and the lowest K encoder layers are
    bit-identical to the start, the fresh layer above changed; K out of range is refused."""
    from simcse_core.model import freeze_lower_layers

    start = _params(load_model(f"reinit:1:{tiny_model}", seed=42))
    cfg = TrainConfig(model_name_or_path=f"reinit:1:{tiny_model}", train_file=small_corpus, freeze_layers=1,
                      per_device_train_batch_size=8, max_steps=3, snapshot_every=3, probe_size=16,
                      align_probe_size=8, max_seq_length=32, learning_rate=1e-3, output_dir=str(tmp_path / "run"),
                      seed=42)
    for _ in train(cfg.validate()):
        pass
    after = _params(load_model(str(tmp_path / "run" / "model")))
    frozen = [k for k in start if k.startswith("embeddings.") or k.startswith("encoder.layer.0.")]
    fresh = [k for k in start if k.startswith("encoder.layer.1.")]
    assert frozen and fresh
    assert all(torch.equal(start[k], after[k]) for k in frozen)
    assert sum(not torch.equal(start[k], after[k]) for k in fresh) >= len(fresh) // 2
    with pytest.raises(ModelError, match="freeze_layers 3: the model has 2 encoder layers"):
        freeze_lower_layers(load_model(tiny_model).backbone, 3)
    with pytest.raises(Exception, match="freeze_layers"):
        TrainConfig(freeze_layers=-1).validate()


@pytest.mark.slow
def test_reinit_all_of_the_default_keeps_its_word_embeddings():
    packaged = load_model("default")
    enc = load_model("reinit:all:default", pooler_type="cls_before_pooler", seed=42)
    assert len(encoder_layers(enc.backbone)) == 6
    we = "embeddings.word_embeddings.weight"
    assert torch.equal(dict(enc.backbone.named_parameters())[we], dict(packaged.backbone.named_parameters())[we])
    q = "encoder.layer.5.attention.self.query.weight"
    assert not torch.equal(dict(enc.backbone.named_parameters())[q], dict(packaged.backbone.named_parameters())[q])
    assert enc.source.startswith("reinit:all:")


@pytest.mark.parametrize("spec, needle", [
    ("reinit:default", "reinit:<K|all>"),
    ("reinit:0:default", "whole number >= 1"),
    ("reinit:x:default", "whole number >= 1"),
    ("reinit:all:random:default", "pretrained folder"),
])
def test_bad_reinit_specs(spec, needle):
    with pytest.raises(ModelError, match=needle.replace("|", r"\|")):
        parse_reinit(spec)


def test_reinit_more_layers_than_the_model_has(tiny_model):
    with pytest.raises(ModelError, match="has 2 encoder layers"):
        load_model(f"reinit:3:{tiny_model}")


def test_first_run_preset_loads_as_a_config_and_covers_the_demo_corpus():
    cfg = first_run_config()
    assert isinstance(cfg, TrainConfig)
    assert cfg.model_name_or_path.startswith("reinit:")
    assert cfg.train_file is None and cfg.probe_size >= 1624  # every paraphrase group of the demo corpus
    assert cfg.max_steps <= 100
    assert first_run_config("x/y").output_dir == "x/y"
    assert load_preset("first_run").name == "first_run"
    json.loads((presets_dir() / "first_run.json").read_text(encoding="utf-8"))


def test_cli_config_takes_the_first_run_preset_file(tiny_model, small_corpus, tmp_path):
    from simcse_core.cli import main

    out = tmp_path / "run"
    rc = main(["train", "--config", str(presets_dir() / "first_run.json"), "--model_name_or_path",
               f"reinit:all:{tiny_model}", "--train_file", small_corpus, "--max_steps", "2", "--probe_size", "32",
               "--output_dir", str(out), "--quiet"])
    assert rc == 0
    saved = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert saved["pooler_type"] == first_run_config().pooler_type
    assert saved["model_name_or_path"] == f"reinit:all:{tiny_model}"


def test_cli_config_refuses_a_preset_of_several_runs(capsys):
    from simcse_core.cli import main

    rc = main(["train", "--config", str(presets_dir() / "temperature_tour.json"), "--max_steps", "1"])
    assert rc != 0
    assert "one run" in capsys.readouterr().err


@pytest.mark.slow
def test_recipe_mechanics_on_a_short_run(small_corpus):
    """The recipe itself (the default model, its top layer re-initialised, [CLS]), shortened:
    batch 16 on 200 demo sentences, 20 steps. The step-0 loss sits near chance, the mean
    loss of the last 5 steps is under half of it, uniformity falls by more than 0.3.
    (The tiny random BERT cannot stand in: with nothing learnt below the fresh layer its
    [CLS] stays collapsed for hundreds of steps.)"""
    cfg = dataclasses.replace(first_run_config(), train_file=small_corpus, per_device_train_batch_size=16,
                              max_steps=20, snapshot_every=20, probe_size=128, align_probe_size=16)
    snaps = list(train(cfg.validate()))
    first, last = snaps[0], snaps[-1]
    assert first.chance_loss == pytest.approx(math.log(16))
    assert first.loss >= 0.9 * first.chance_loss  # the collapsed start: near the chance line
    end = float(np.mean(last.step_losses[-5:, 1]))
    assert end <= 0.5 * first.loss
    assert first.uniformity - last.uniformity >= 0.3
