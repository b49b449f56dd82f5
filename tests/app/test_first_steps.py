"""Issue 14, "the first ten minutes": the welcome and Help, the first-run recipe on the
first launch, the note when there is nothing to learn, what a starting run waits for,
a batch that does not fit the corpus, following a run before it starts, a run's own
settings in Setup, the Setup dock at 1366 x 768, the vocabulary check, and plots
redrawn only while shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PySide6.QtCore import QSettings

from simcse_core.control import TrainControl

TIMEOUT = 120_000


def _stop_and_wait(qtbot, w):
    if w.runs.training:
        with qtbot.waitSignal(w.runs.run_finished, timeout=TIMEOUT):
            w.runs.stop()


# ---------------------------------------------------------------------- welcome, Help
def test_first_launch_fills_the_first_run_recipe_and_welcomes(qtbot, make_window, settings_path):
    from simcse_core.presets import first_run_config

    w = make_window()
    assert w.first_launch
    w.start_welcome()
    recipe = first_run_config()
    cfg = w.setup_panel.config()
    assert cfg.model_name_or_path == recipe.model_name_or_path and recipe.model_name_or_path.startswith("reinit:")
    assert (cfg.per_device_train_batch_size, cfg.max_steps, cfg.learning_rate, cfg.pooler_type) == (
        recipe.per_device_train_batch_size, recipe.max_steps, recipe.learning_rate, recipe.pooler_type)
    welcome = w.first_steps.welcome
    assert welcome is not None and welcome.isVisible() and not welcome.isModal()
    assert set(welcome.buttons) == {"watch", "finetune", "run", "presets", "tour"}
    assert all(b.isEnabled() for b in welcome.buttons.values())
    assert not welcome.show_at_start.isChecked()
    started = []
    w.first_steps.start_training = lambda: started.append(w.setup_panel.config()) or True
    welcome.buttons["watch"].click()  # watch SimCSE learn: the recipe, trained
    assert not welcome.isVisible()
    assert len(started) == 1 and started[0].model_name_or_path == recipe.model_name_or_path
    w.close()
    second = make_window()  # settings saved: not the first launch, no welcome
    assert not second.first_launch
    second.start_welcome()
    assert second.first_steps.welcome is None
    second.first_steps.show_welcome().show_at_start.setChecked(True)  # Help > Welcome, "show at start"
    assert QSettings(str(settings_path), QSettings.Format.IniFormat).value("welcome/show_at_start") == "true"


def test_a_missing_first_run_recipe_is_said(qtbot, make_window, monkeypatch):
    import app.shell.first_steps as fs

    monkeypatch.setattr(fs, "first_run_recipe", lambda: (None, "the first-run recipe is missing (test)"))
    w = make_window()
    w.start_welcome()
    assert "missing" in w.message_bar.text
    assert w.setup_panel.config().model_name_or_path == "default"  # the reference recipe
    choices = {c.key: c.detail for c in w.first_steps.choices()}
    assert "missing" in choices["watch"] and "reference recipe" in choices["watch"]


def test_help_menu_shows_docs_and_shortcuts(qtbot, make_window):
    w = make_window()
    texts = [a.text() for a in w.context.menu("help").actions()]
    assert "&Welcome…" in texts and "&Keyboard shortcuts" in texts and "&About SimCSE Studio" in texts
    assert "Using the studio" in texts
    viewer = w.help_menu.show_doc(Path(__file__).resolve().parents[2] / "docs" / "studio.md")
    assert "The studio" in viewer.browser.toPlainText()
    dlg = w.help_menu.show_shortcuts()
    rows = {dlg.table.item(r, 1).text(): dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount())}
    assert rows.get("Embedding space") == "Ctrl+E" and rows.get("Keyboard shortcuts") == "F1"


# ---------------------------------------------------------------------- nothing to learn
def _run_with_step0_loss(src: Path, dest: Path, loss: float) -> Path:
    shutil.copytree(src, dest)
    lines = (dest / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["step"] == 0
    first["loss"] = first["loss_last"] = loss
    lines[0] = json.dumps(first)
    (dest / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def test_nothing_to_learn_is_said_with_ways_to_see_learning(qtbot, make_window, finished_run, tmp_path):
    w = make_window(restore=False)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(finished_run)
    qtbot.wait(100)
    assert "Nothing to learn" not in w.message_bar.text  # the tiny random model starts near chance
    easy = _run_with_step0_loss(finished_run, tmp_path / "easy", 1e-4)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(easy)
    qtbot.waitUntil(lambda: "Nothing to learn" in w.message_bar.text, timeout=10_000)
    assert w.message_bar.isVisible() and w.message_bar.kind == "info"
    chance = w.model.snapshots[0].scalars["chance_loss"]
    assert f"{chance:.3g}" in w.message_bar.text and "0.0001" in w.message_bar.text
    labels = [b.text() for b in w.message_bar.action_buttons]
    assert labels == ["First-run recipe", "From scratch", "Choose a corpus…", "Dropout 0.3"]
    started = []
    w.first_steps.start_training = lambda: started.append(w.setup_panel.config()) or True
    w.message_bar.action("Dropout").click()
    assert started and started[-1].dropout == 0.3 and not w.message_bar.isVisible()
    w.message_bar.show_message("again", "info", w.first_steps.learning_ways())
    w.message_bar.action("From scratch").click()
    assert started[-1].model_name_or_path.startswith("random:")


# ---------------------------------------------------------------------- a starting run
def test_the_trainer_says_its_phases(tiny_config, tiny_model, small_corpus, tmp_path):
    from simcse_core.trainer import train

    said: list[str] = []
    steps: list[int] = []
    control = TrainControl(on_step=lambda s, t, sps: steps.append(s), on_status=said.append)
    for _ in train(tiny_config(tiny_model, small_corpus, tmp_path / "run", max_steps=2), control):
        pass
    assert said[0].startswith("loading the model") and "tokenising small.csv" in said[1]
    assert "200 sentences tokenised" in said[2] and said[3].startswith("step 0")
    assert steps == [1, 2]


def test_the_run_bar_says_what_a_starting_run_waits_for(qtbot, make_window, tiny_config, tiny_model, small_corpus,
                                                         tmp_path):
    w = make_window(restore=False)
    seen: list[str] = []
    w.runs.status.connect(lambda _t: seen.append(w.controls.progress_text))
    with qtbot.waitSignal(w.runs.run_finished, timeout=TIMEOUT):
        assert w.start_training(tiny_config(tiny_model, small_corpus, tmp_path / "run", max_steps=2))
        assert "starting the training thread" in w.controls.progress_text
    assert any(t.startswith("loading the model") for t in seen)
    assert any("tokenising small.csv" in t for t in seen) and any("200 sentences tokenised" in t for t in seen)
    assert w.controls.progress_text.startswith("finished at step 2")


def test_a_preset_says_which_run_it_loads(qtbot, make_window, tiny_model, small_corpus, tmp_path):
    from simcse_core.presets import load_preset

    preset = load_preset("temperature_tour").with_base(
        model_name_or_path=tiny_model, train_file=small_corpus, per_device_train_batch_size=8, max_steps=2,
        snapshot_every=2, probe_size=32, align_probe_size=16, max_seq_length=16, device="cpu")
    preset = preset.with_runs([(r.label, r.overrides) for r in preset.runs[:2]])
    w = make_window(restore=False)
    seen: list[tuple[str, str, str]] = []
    w.runs.status.connect(lambda t: seen.append(("status", t, w.controls.progress_text)))
    w.runs.progress.connect(lambda *_a: seen.append(("progress", w.run_label.text(), w.controls.progress_text)))
    with qtbot.waitSignal(w.runs.preset_finished, timeout=TIMEOUT):
        assert w.tools.presets.run_preset(preset, tmp_path / "presets") is not None
    loads = [t for kind, t, _ in seen if kind == "status" and "loading the model" in t]
    assert [t.split(":")[0] for t in loads] == ["preset temperature_tour, run 1 of 2",
                                                 "preset temperature_tour, run 2 of 2"]
    for kind, label, bar in seen:  # the run bar and the run label agree on the run
        if kind == "progress":
            k = "1" if "run 1 of 2" in label else "2"
            assert bar.startswith(f"run {k} of 2 · step"), (label, bar)


# ---------------------------------------------------------------------- batch vs corpus
def _corpus(tmp_path, n: int, text: str = "sentence number {i} about a topic") -> str:
    p = tmp_path / f"corpus{n}.txt"
    p.write_text("\n".join(text.format(i=i) for i in range(n)) + "\n", encoding="utf-8")
    return str(p)


def _use_tiny_model(panel, tiny_model):
    panel.set_values({"model_kind": "folder", "model_folder": tiny_model, "probe_size": 32, "max_seq_length": 16,
                      "device": "cpu", "snapshot_every": 2})


def test_a_batch_larger_than_the_corpus_is_said_before_training(qtbot, make_window, tiny_model, tmp_path):
    w = make_window(restore=False)
    panel = w.setup_panel
    _use_tiny_model(panel, tiny_model)
    with qtbot.waitSignal(panel.corpus_checked, timeout=30_000):
        panel.set_corpus(_corpus(tmp_path, 36))
    panel.set_values({"per_device_train_batch_size": 64, "max_steps": 0, "num_train_epochs": 1.0})
    assert not w.start_training()  # not started: said, with fixes
    assert not w.runs.training
    text = w.message_bar.text
    assert "36 sentences" in text and "batch is 64" in text and "1 step" in text
    assert [b.text() for b in w.message_bar.action_buttons] == ["Batch 8, 100 steps", "Batch 8", "Train anyway"]
    with qtbot.waitSignal(w.runs.run_begun, timeout=30_000):
        w.message_bar.action("Batch 8, 100").click()
    assert w.runs.source.train_config.per_device_train_batch_size == 8
    assert w.runs.source.train_config.max_steps == 100
    _stop_and_wait(qtbot, w)
    panel.set_values({"per_device_train_batch_size": 64, "max_steps": 0})
    assert not w.start_training()
    with qtbot.waitSignal(w.runs.run_begun, timeout=30_000):
        w.message_bar.action("Train anyway").click()
    assert w.runs.source.train_config.per_device_train_batch_size == 64
    _stop_and_wait(qtbot, w)


def test_an_unreadable_corpus_is_said_when_opened_and_before_training(qtbot, make_window, tiny_model, tmp_path):
    w = make_window(restore=False)
    panel = w.setup_panel
    _use_tiny_model(panel, tiny_model)
    zh = _corpus(tmp_path, 200, "今天天气很好我们去公园散步吧第{i}次")
    with qtbot.waitSignal(panel.corpus_checked, timeout=60_000):
        panel.set_corpus(zh)
    assert panel.vocab_label.isVisible() and "cannot read much of this corpus" in panel.vocab_label.text()
    panel.set_values({"per_device_train_batch_size": 8, "max_steps": 20})
    assert not w.start_training()
    assert "cannot read much of this corpus" in w.message_bar.text
    assert [b.text() for b in w.message_bar.action_buttons] == ["Train anyway"]
    with qtbot.waitSignal(panel.corpus_checked, timeout=60_000):
        panel.set_corpus(_corpus(tmp_path, 200))
    assert not panel.vocab_label.isVisible() and panel.vocab_message == ""


# ---------------------------------------------------------------------- following early
def test_following_a_folder_before_its_run_starts(qtbot, make_window, finished_run, tmp_path):
    w = make_window(restore=False)
    target = tmp_path / "remote" / "run"
    assert w.open_run(target, follow=True)
    assert "Error" not in w.message_bar.text or not w.message_bar.isVisible()
    qtbot.waitUntil(lambda: "waiting for the run folder" in w.controls.progress_text, timeout=10_000)
    assert w.runs.following and w.runs.source.waiting
    target.mkdir(parents=True)  # the job made its folder, nothing in it yet
    qtbot.waitUntil(lambda: "to write its first files" in w.controls.progress_text, timeout=10_000)
    for name in ("config.json", "probe.json", "snapshots", "metrics.jsonl"):  # the job writes
        src = finished_run / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, target / name)
    (target / "model").mkdir()
    with qtbot.waitSignal(w.runs.run_finished, timeout=30_000):
        pass
    assert len(w.model.snapshots) == 4 and w.model.config["max_steps"] == 6
    assert "the followed run has finished" in w.message_bar.text
    assert w.controls.progress_text.startswith("finished at step 6")


# ---------------------------------------------------------------------- a run's settings
def test_a_replayed_run_shows_its_own_settings_read_only(qtbot, make_window, finished_run, tiny_model,
                                                          settings_path):
    w = make_window(restore=False)
    panel = w.setup_panel
    assert panel.batch.value() == 64 and panel.batch.isEnabled()
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(finished_run)
    assert panel.showing_run and panel.run_banner.isVisible()
    assert panel.batch.value() == 8 and panel.values()["max_seq_length"] == 16 and panel.values()["max_steps"] == 6
    assert panel.model_kind.currentData() == "folder" and panel.model_folder.text() == tiny_model
    assert panel.values()["device"] == "cpu"
    assert not panel.batch.isEnabled() and not panel.temp.isEnabled() and not panel.lr.isEnabled()
    assert panel.own_values()["per_device_train_batch_size"] == 64
    w.save_settings()  # the person's setup is what is saved
    stored = json.loads(QSettings(str(settings_path), QSettings.Format.IniFormat).value("setup/values"))
    assert stored["per_device_train_batch_size"] == 64
    panel.own_setup_button.click()
    assert not panel.showing_run and not panel.run_banner.isVisible()
    assert panel.batch.value() == 64 and panel.batch.isEnabled() and panel.temp.isEnabled()
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(finished_run)
    assert panel.batch.value() == 8
    panel.use_run_button.click()  # the run's settings, now editable
    assert panel.batch.value() == 8 and panel.batch.isEnabled() and not panel.showing_run


# ---------------------------------------------------------------------- the Setup dock
def test_the_setup_dock_fits_at_1366x768(qtbot, make_window):
    from PySide6.QtWidgets import QScrollArea

    w = make_window(restore=False)
    assert w.minimumSizeHint().width() <= 1366  # the window with its docks fits the screen
    w.resize(1366, 768)
    qtbot.wait(200)
    assert w.width() == 1366
    scroll = w.setup_dock.widget()
    assert isinstance(scroll, QScrollArea)
    assert scroll.horizontalScrollBar().maximum() == 0, "the Setup dock scrolls sideways"
    for name, b in w.setup_panel.browse_buttons.items():
        assert b.width() >= b.sizeHint().width() or b.width() >= b.minimumWidth() > 0, name
        assert b.text() == "…" and "Browse" in b.toolTip()
        assert b.mapTo(scroll, b.rect().topRight()).x() <= scroll.viewport().width(), name


# ---------------------------------------------------------------------- plots
def test_plots_redraw_only_while_shown_and_before_an_export(qtbot, make_window, finished_run):
    w = make_window(restore=False)
    w.show_embedding_views()
    before = w.plots.redraws
    with qtbot.waitSignal(w.runs.run_finished, timeout=30_000):
        w.open_run(finished_run)
    for _ in range(5):
        w.runs.redraw.emit()
    assert w.plots.redraws == before  # hidden: not redrawn
    assert w.plots.loss is not None
    w.tools.image_targets()  # an export brings the hidden plots up to date
    assert w.plots.redraws == before + 1
    w.runs.redraw.emit()
    w.show_training_plots()  # shown: redrawn at once
    assert w.plots.redraws == before + 2
    w.runs.redraw.emit()
    assert w.plots.redraws == before + 3
