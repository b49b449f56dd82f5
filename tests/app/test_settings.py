"""Last-used settings and the window layout persist between launches."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from app.shell.settings import StudioSettings


def test_fields_and_layout_persist(qtbot, make_window, small_corpus, settings_path):
    first = make_window()
    assert first.setup_panel.model_kind.currentData() == "default"  # ready to train out of the box
    assert first.setup_panel.corpus_path.text().endswith("demo_corpus.csv")
    panel = first.setup_panel
    panel.batch.setValue(17)
    panel.temp.setValue(0.07)
    panel.lr.setText("1e-4")
    panel.loss_variant.setCurrentText("ntxent")
    panel.dropout.setValue(0.15)
    with qtbot.waitSignal(panel.corpus_checked, timeout=30_000):
        panel.set_corpus(small_corpus)
    first.resize(first.minimumSizeHint().width(), 520)  # within the offscreen screen
    assert first.size().height() == 520
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.setup_dock)
    assert first.close()
    stored = StudioSettings(QSettings(str(settings_path), QSettings.Format.IniFormat))
    assert stored.setup_values()["per_device_train_batch_size"] == 17
    assert all(x is not None for x in stored.window_state())

    second = make_window()
    p2 = second.setup_panel
    assert p2.batch.value() == 17
    assert abs(p2.temp.value() - 0.07) < 1e-9
    assert p2.learning_rate() == 1e-4
    assert p2.loss_variant.currentText() == "ntxent"
    assert p2.values()["dropout"] == 0.15
    assert p2.corpus_path.text() == small_corpus
    assert second.size().height() == 520  # geometry restored (the default is 1400 x 900)
    assert second.dockWidgetArea(second.setup_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    cfg = p2.config()
    assert cfg.per_device_train_batch_size == 17 and cfg.loss_variant == "ntxent" and cfg.train_file == small_corpus


def test_defaults_are_the_reference_recipe(qtbot, make_window):
    win = make_window()
    cfg = win.setup_panel.config()
    assert (cfg.per_device_train_batch_size, cfg.learning_rate, cfg.max_seq_length, cfg.temp) == (64, 3e-5, 32, 0.05)
    assert cfg.model_name_or_path == "default" and cfg.dropout is None and cfg.mode == "unsup"
    assert win.size().width() == 1400 and win.size().height() == 900
    for w in (win.setup_panel.temp, win.setup_panel.batch, win.setup_panel.lr, win.setup_panel.pooler,
              win.setup_panel.dropout, win.setup_panel.device, win.setup_panel.model_kind):
        assert w.toolTip(), w
