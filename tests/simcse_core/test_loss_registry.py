"""The loss registry and protocol: one list of names for the config, the CLI and the
studio; the built-in loss objects equal the float64 reference functions; a loss
registered in a test is selectable end to end through the config."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from simcse_core import TrainConfig
from simcse_core.cli import _config_from_args, build_parser
from simcse_core.errors import ConfigError
from simcse_core.losses import (LOSSES, NTXentLoss, SimCSELoss, build_loss, debiased_info_nce, info_nce, loss_choices,
                                loss_names)
from simcse_core.losses.base import ContrastiveLoss, LossOutput

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def _cli_accepts(name: str) -> bool:
    try:
        return build_parser().parse_args(["train", "--loss_variant", name]).loss_variant == name
    except SystemExit:  # argparse: "invalid choice"
        return False


def _accepted(name: str, mode: str = "unsup") -> bool:
    try:
        TrainConfig(loss_variant=name, mode=mode, train_file="x.csv").validate()
        return True
    except ConfigError:
        return False


# ----------------------------------------------------------------- one list of names
def test_registry_names_are_what_the_cli_and_the_config_accept():
    names = list(LOSSES)
    assert names == list(loss_names()) == [n for n, _ in loss_choices()]
    assert all(_accepted(n) and _cli_accepts(n) for n in names)
    assert not _accepted("no-such-loss") and not _cli_accepts("no-such-loss")
    with pytest.raises(ConfigError, match="loss_variant.*one of simcse, ntxent"):
        TrainConfig(loss_variant="no-such-loss").validate()
    from simcse_core.config import LOSS_VARIANTS  # the old name, derived from the registry

    assert LOSS_VARIANTS == tuple(names)


def test_loss_choices_are_one_line_each_and_need_no_torch():
    assert all(isinstance(d, str) and d and "\n" not in d for _, d in loss_choices())
    code = ("import sys; from simcse_core.losses import loss_choices; import simcse_core.config, simcse_core.cli; "
            "c = loss_choices(); print('torch' in sys.modules, len(c))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", str(len(LOSSES))]


def test_ntxent_refuses_supervised_mode_with_the_old_message():
    with pytest.raises(ConfigError, match="ntxent is the unsupervised 2N x 2N layout; use simcse in sup mode"):
        TrainConfig(loss_variant="ntxent", mode="sup", train_file="x.csv").validate()


def test_old_config_json_and_presets_still_load(tmp_path):
    old = TrainConfig().to_dict()
    del old["loss_options"]  # a run folder written before the registry
    old.update(loss_variant="ntxent", tau_plus=0.1)
    p = tmp_path / "config.json"
    p.write_text(json.dumps(old))
    cfg = TrainConfig.load(p).validate()
    loss = build_loss(cfg)
    assert isinstance(loss, NTXentLoss) and loss.config_dict() == {"hard_negative_weight": 0.0, "tau_plus": 0.1}
    from simcse_core.presets import list_presets

    for preset in list_presets():
        for _label, c in preset.configs():
            assert isinstance(build_loss(c), ContrastiveLoss)


# ----------------------------------------------------------------- the built-in objects
def _views(n: int = 6, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(n, d, generator=g, dtype=torch.float64) for _ in range(3))  # type: ignore[return-value]


def test_builtin_losses_equal_the_reference_functions_in_float64():
    z1, z2, h = _views()
    mask = torch.zeros(6, 6, dtype=torch.bool)
    mask[0, 3] = mask[3, 0] = True
    simcse = SimCSELoss(hard_negative_weight=0.4)
    out = simcse(z1, z2, h, temperature=0.07, fn_mask=mask)
    assert isinstance(out, LossOutput) and out.loss.dtype == torch.float64 and out.loss.shape == ()
    ref = info_nce(z1, z2, 0.07, "simcse", fn_mask=mask, hard_negatives=h, hard_negative_weight=0.4)
    assert float(out.loss) == pytest.approx(float(ref), rel=1e-12)
    nt = NTXentLoss()(z1, z2, temperature=0.1, attract_mask=mask).loss
    assert float(nt) == pytest.approx(float(info_nce(z1, z2, 0.1, "ntxent", attract_mask=mask)), rel=1e-12)
    deb = SimCSELoss(tau_plus=0.2)(z1, z2, temperature=0.05, fn_mask=mask).loss  # debiased: masks unused
    assert float(deb) == pytest.approx(float(debiased_info_nce(z1, z2, 0.05, 0.2, "simcse")), rel=1e-12)


def test_chance_loss_and_removed_negatives():
    assert SimCSELoss().chance_loss(64) == pytest.approx(math.log(64))
    assert NTXentLoss().chance_loss(64) == pytest.approx(math.log(127))
    pairs = np.zeros((4, 4), dtype=bool)
    pairs[0, 1] = pairs[1, 0] = True
    assert SimCSELoss().removed_negatives(pairs) == 2
    assert NTXentLoss().removed_negatives(pairs) == 8  # each pair: every view of i against every view of j
    assert SimCSELoss(tau_plus=0.1).removed_negatives(pairs) == 0


def test_settings_come_from_config_fields_and_loss_options():
    cfg = TrainConfig(hard_negative_weight=0.3, tau_plus=0.05)
    assert build_loss(cfg).config_dict() == {"hard_negative_weight": 0.3, "tau_plus": 0.05}
    cfg = TrainConfig(loss_options={"tau_plus": 0.2})  # loss_options win over the flat field
    assert build_loss(cfg).config_dict()["tau_plus"] == 0.2
    with pytest.raises(ConfigError, match="loss_options.*simcse takes hard_negative_weight, tau_plus.*beta"):
        TrainConfig(loss_options={"beta": 1.0}).validate()


# ----------------------------------------------------------------- a loss added in a test
class MarginLoss(ContrastiveLoss):
    """A toy loss: mean hinge max(0, margin - cos(z1_i, z2_i) + max_j cos(z1_i, z2_j)).

    Args:
        margin: the hinge's margin (a loss option: ``--loss_option margin=0.3``).
    """

    modes = ("unsup",)
    calls = 0

    def __init__(self, margin: float = 0.5) -> None:
        self.margin = float(margin)

    def __call__(self, z1, z2, hard=None, *, temperature, fn_mask=None, attract_mask=None) -> LossOutput:
        type(self).calls += 1
        sim = torch.nn.functional.normalize(z1, dim=-1) @ torch.nn.functional.normalize(z2, dim=-1).T  # (N, N)
        pos = sim.diagonal()  # (N,)
        neg = sim.masked_fill(torch.eye(sim.shape[0], dtype=torch.bool, device=sim.device), -2.0).amax(1)  # (N,)
        loss = torch.relu(self.margin - pos + neg).mean()  # ()
        return LossOutput(loss, metrics={"toy_margin_gap": (pos - neg).mean().detach()})

    def chance_loss(self, batch_size: int) -> float:
        return self.margin


def test_a_registered_loss_is_selectable_end_to_end(monkeypatch, tiny_model, small_corpus, tmp_path):
    from simcse_core import metric_specs as MS
    from simcse_core.trainer import train

    monkeypatch.setitem(LOSSES, "margin", MarginLoss)
    monkeypatch.setattr(MS, "METRIC_SPECS", MS.METRIC_SPECS + (MS.MetricSpec("toy_margin_gap", "toy"),))
    monkeypatch.setattr(MarginLoss, "calls", 0)
    assert _cli_accepts("margin") and ("margin", MarginLoss.__doc__.splitlines()[0]) in loss_choices()

    args = build_parser().parse_args(["train", "--model_name_or_path", tiny_model, "--train_file", small_corpus,
                                      "--loss_variant", "margin", "--loss_option", "margin=0.3",
                                      "--output_dir", str(tmp_path / "run"), "--per_device_train_batch_size", "8",
                                      "--max_steps", "4", "--snapshot_every", "2", "--probe_size", "16"])
    cfg = _config_from_args(args)
    assert cfg.loss_variant == "margin" and cfg.loss_options == {"margin": 0.3}
    cfg.align_probe_size = 8
    snaps = list(train(cfg))
    # the first look, 4 steps, and the look at the next batch before the step-4 checkpoint is
    # kept (a checkpoint is written only when that loss is finite: training/health.py)
    assert MarginLoss.calls == 6
    assert [s.step for s in snaps] == [0, 2, 4]
    assert all(s.scalars["chance_loss"] == 0.3 for s in snaps)
    assert all(np.isfinite(s.scalars["toy_margin_gap"]) for s in snaps)  # the loss's own metric reaches snapshots
    assert all(set(s.record()) - {"done", "stopped", "events", "device"} <= set(MS.scalar_keys()) for s in snaps)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["loss_variant"] == "margin" and saved["loss_options"] == {"margin": 0.3}
    with pytest.raises(ConfigError, match="margin does not support sup mode"):
        TrainConfig(loss_variant="margin", mode="sup", train_file="x.csv").validate()
