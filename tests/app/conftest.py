"""Fixtures for the studio tests: a window with settings in a temp folder, a tiny
training config, and a finished run folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.shell import main_thread_gc

from simcse_core.config import TrainConfig


def _tiny_config(model: str, corpus: str, out: Path | str, **kw) -> TrainConfig:
    """A run of a few seconds on the tiny BERT: batch 8, probe 64, a snapshot every 2 steps."""
    base = dict(model_name_or_path=model, train_file=corpus, output_dir=str(out), per_device_train_batch_size=8,
                probe_size=64, align_probe_size=32, snapshot_every=2, max_steps=6, checkpoint_every=2,
                max_seq_length=16, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="session", autouse=True)
def _gc_on_the_gui_thread(qapp):
    """As the studio does (app/main_thread_gc.py): no automatic cycle collection, which
    could run in a worker thread and destroy a previous test's widgets there (a
    deadlock seen in this suite); cycles are collected on the GUI thread."""

    collector = main_thread_gc.install(qapp)
    yield
    collector.stop()


@pytest.fixture(autouse=True)
def _english(qapp):
    """Every test starts and ends in English (the studio's tests assert English texts;
    a test of the Chinese texts switches for itself)."""
    from app.i18n import set_language

    set_language("en")
    yield
    set_language("en")


@pytest.fixture(autouse=True)
def _collect_after_each_test(qapp):
    yield
    qapp.processEvents()
    main_thread_gc.collect_all()  # frozen survivors too: a test's widgets die before the next test
    qapp.processEvents()


@pytest.fixture(scope="session")
def tiny_config():
    """The factory :func:`_tiny_config` (model, corpus, output_dir, **overrides)."""
    return _tiny_config


@pytest.fixture
def settings_path(tmp_path) -> Path:
    return tmp_path / "settings" / "studio.ini"


@pytest.fixture
def make_window(qtbot, tmp_path, settings_path):
    """Build MainWindows whose settings live in tmp_path; closed at teardown."""
    from app.shell.main_window import MainWindow

    made = []

    def make(**kw):
        settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
        w = MainWindow(settings=settings, runs_root=tmp_path / "runs", **kw)
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        src = w.runs.source
        w.close()
        if src is not None:
            assert src.wait(60_000), "a training thread outlived its test"


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory, tiny_model, small_corpus) -> Path:
    """A finished 6-step run folder written by the engine (no Qt)."""
    from simcse_core.trainer import train

    out = tmp_path_factory.mktemp("runs") / "finished"
    for _ in train(_tiny_config(tiny_model, small_corpus, out)):
        pass
    return out


@pytest.fixture
def xvfb_run() -> str:
    """The xvfb-run executable; skips where it is missing, fails in CI (.ci/run installs it)."""
    exe = shutil.which("xvfb-run")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("xvfb-run is missing in CI (.ci/run installs it)")
        pytest.skip("xvfb-run is not installed (Debian package xvfb); .ci/run installs it")
    return exe


def _image_stats(path: Path) -> tuple[int, float]:
    """(distinct colours on a 64 x 64 sample grid, share of samples unlike the corner
    background): a blank or single-colour screenshot scores (1, 0.0)."""
    from PySide6.QtGui import QImage

    img = QImage(str(path))
    assert not img.isNull(), f"{path} does not decode"
    w, h = img.width(), img.height()
    bg = img.pixel(w - 3, h - 3)
    samples = [img.pixel(int((i + 0.5) * w / 64), int((j + 0.5) * h / 64)) for i in range(64) for j in range(64)]
    return len(set(samples)), sum(p != bg for p in samples) / len(samples)


@pytest.fixture(scope="session")
def image_stats():
    """The function :func:`_image_stats` (path) -> (colours, non-background share)."""
    return _image_stats


@pytest.fixture
def studio(qtbot, make_window, finished_run):
    """(window, tools): a window showing ``finished_run`` on its embedding tab, with the
    lens / false-negative docks and the studio tools (the window builds both)."""
    w = make_window(restore=False)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(finished_run)
    w.show_embedding_views()
    qtbot.waitUntil(lambda: w.embedding.drawn_index is not None, timeout=30_000)
    return w, w.tools
