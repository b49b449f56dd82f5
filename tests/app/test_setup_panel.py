"""The setup panel is built from one table of field specs: a new field is one entry,
and it appears in the layout, in config(), in the saved values and in the reset to the
reference recipe. The loss choices are the engine's registry."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QSpinBox

from app.panels.setup_fields import FIELDS, SetupField
from app.panels.setup_panel import STUDIO_SNAPSHOT_EVERY, SetupPanel
from simcse_core.config import TrainConfig
from simcse_core.losses import loss_choices

TIMEOUT = 30_000


def _panel(qtbot, **kw) -> SetupPanel:
    panel = SetupPanel(**kw)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.corpus_preview is not None or panel.corpus_error is not None, timeout=TIMEOUT)
    return panel


def _row_label(panel: SetupPanel, widget) -> str:
    for box in panel.findChildren(QGroupBox):
        form = box.layout()
        assert isinstance(form, QFormLayout)
        label = form.labelForField(widget)
        if isinstance(label, QLabel):
            return label.text()
    return ""


def test_a_new_field_is_one_entry(qtbot):
    warmup = SetupField("warmup", "warmup_steps", "Warm-up steps", "int", "recipe",
                        "Steps of linear learning-rate warm-up.", range=(0, 100_000))
    panel = _panel(qtbot, fields=FIELDS + (warmup,))
    w = panel.warmup  # the attribute named in the spec
    assert isinstance(w, QSpinBox) and panel.widgets["warmup_steps"] is w
    # in the layout: its group's form, with its label and tooltip
    recipe = panel.findChild(QGroupBox, "recipeGroup")
    assert recipe is not None and recipe.isAncestorOf(w)
    assert _row_label(panel, w) == "Warm-up steps" and w.toolTip() == warmup.tip
    # its reference value, then a value typed in
    assert w.value() == TrainConfig().warmup_steps == 0
    with qtbot.waitSignal(panel.changed, timeout=1000):
        w.setValue(17)
    assert panel.config().warmup_steps == 17
    saved = panel.values()
    assert saved["warmup_steps"] == 17
    # restored from saved values by a fresh panel, and reset to the reference
    other = _panel(qtbot, fields=FIELDS + (warmup,))
    other.set_values(saved)
    assert other.warmup.value() == 17 and other.config().warmup_steps == 17
    other.reset_to_defaults()
    assert other.warmup.value() == 0
    # the default table does not have it
    assert "warmup_steps" not in _panel(qtbot).values()


def test_loss_choices_come_from_the_engine_registry(qtbot):
    panel = _panel(qtbot)
    box = panel.loss_variant
    names = [box.itemData(i) for i in range(box.count())]
    assert names == [name for name, _desc in loss_choices()] and "simcse" in names
    for i, (_name, desc) in enumerate(loss_choices()):
        assert box.itemData(i, Qt.ItemDataRole.ToolTipRole) == desc
    box.setCurrentText("ntxent")
    assert panel.config().loss_variant == "ntxent" and panel.values()["loss_variant"] == "ntxent"


def test_reference_recipe_and_round_trip(qtbot):
    panel = _panel(qtbot)
    cfg = panel.config()
    ref = TrainConfig()
    assert (cfg.per_device_train_batch_size, cfg.learning_rate, cfg.max_seq_length, cfg.temp) == (64, 3e-5, 32, 0.05)
    assert cfg.model_name_or_path == "default" and cfg.dropout is None and cfg.mode == ref.mode
    assert cfg.tau_plus == 0.0 and cfg.max_steps == -1 and cfg.snapshot_every == STUDIO_SNAPSHOT_EVERY
    assert cfg.train_file and cfg.train_file.endswith("demo_corpus.csv") and cfg.eval_file is None
    cfg.validate()
    # the debiased loss's prior is a setup field (it was on the false-negative panel)
    panel.tau_plus.setValue(0.1)
    panel.dropout.setValue(0.15)
    panel.lr.setText("1e-4")
    panel.max_steps.setValue(30)
    panel.model_kind.setCurrentIndex(panel.model_kind.findData("folder"))
    panel.model_folder.setText("/models/mine")
    v = panel.values()
    assert v["tau_plus"] == pytest.approx(0.1) and v["dropout"] == 0.15 and v["learning_rate"] == 1e-4
    cfg = panel.config()
    assert cfg.tau_plus == pytest.approx(0.1) and cfg.max_steps == 30 and cfg.model_name_or_path == "/models/mine"
    other = _panel(qtbot)
    other.set_values(v)
    assert other.values() == v
    # stale or foreign values are ignored, not fatal
    other.set_values({"temp": "warm", "mode": "nonsense", "unknown": 3, "dropout": None})
    assert other.temp.value() == pytest.approx(v["temp"]) and other.values()["dropout"] is None
    other.lr.setText("abc")
    assert math.isnan(other.learning_rate())


def test_while_running_only_live_fields_stay_enabled(qtbot):
    panel = _panel(qtbot)
    panel.set_running(True)
    assert panel.temp.isEnabled() and panel.lr.isEnabled()
    assert not panel.batch.isEnabled() and not panel.tau_plus.isEnabled() and not panel.corpus_path.isEnabled()
    panel.set_running(False)
    assert panel.batch.isEnabled() and not panel.model_folder.isEnabled()  # the default model: no folder
