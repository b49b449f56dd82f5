"""Session files: save a studio, restore it into a new window as it was."""

from __future__ import annotations

import json
import shutil

import pytest

from app.tools.session import FORMAT, SessionError, read_session


@pytest.fixture
def run_copy(tmp_path, finished_run):
    """A private copy of the finished run (the triage panel writes into its folder)."""
    return shutil.copytree(finished_run, tmp_path / "run")


def _studio(qtbot, make_window):
    w = make_window(restore=False)
    tools = w.tools
    return w, tools


def test_session_round_trip(qtbot, make_window, run_copy, tmp_path, finished_run):
    w, tools = _studio(qtbot, make_window)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(run_copy)
    w.show_embedding_views()
    emb = w.embedding
    qtbot.waitUntil(lambda: emb.drawn_index is not None, timeout=30_000)
    ids = [int(i) for i in w.model.probe_ids]
    # a selected sentence, an earlier timeline position, a colouring, triage decisions
    w.selection.select(ids[5])
    w.view_state.snapshot_index = 1
    qtbot.waitUntil(lambda: emb.drawn_index == 1, timeout=30_000)
    w.view_state.update(colour_by="none", umap_every=3)
    w.fn_panel.mark([(ids[0], ids[1])], "confirmed")
    w.fn_panel.mark([(ids[2], ids[3])], "rejected")
    saved_book = [(d.anchor, d.candidate, d.status) for d in w.fn_panel.book.decisions()]
    cw = tools.open_compare([str(run_copy), str(finished_run)], ["copy", "original"])
    qtbot.waitUntil(lambda: len(cw.runs) == 2 and cw.drawn_position is not None, timeout=60_000)
    with qtbot.waitSignal(cw.frames_drawn, timeout=30_000):
        cw.set_step(4)

    path = tools.save_session(tmp_path / "talk.simcse-session.json")
    d = json.loads(path.read_text())
    assert d["format"] == FORMAT and d["run"] == str(run_copy.resolve())
    assert d["selected"] == ids[5] and d["timeline"] == {"index": 1, "step": 2}
    assert d["view"]["tab"] == "Embedding space" and d["view"]["colour_by"] == "none"
    assert d["view"]["umap_every"] == 3 and d["presentation"] is False
    assert len(d["triage"]["decisions"]) == 2 and d["triage"]["file"].endswith("triage.json")
    assert d["compare"]["step"] == 4 and [r["label"] for r in d["compare"]["runs"]] == ["copy", "original"]

    # later changes to the run's triage file are not what the session saved
    w.fn_panel.mark([(ids[6], ids[7])], "confirmed")
    w.show_training_plots()
    w.close()

    w2, tools2 = _studio(qtbot, make_window)
    assert w2.model.run_dir is None
    restorer = tools2.load_session(path)
    with qtbot.waitSignal(restorer.restored, timeout=60_000):
        pass
    assert w2.model.run_dir == str(run_copy.resolve())
    assert len(w2.model.snapshots) == len(w.model.snapshots)
    assert w2.tabs.tabText(w2.tabs.currentIndex()) == "Embedding space"
    assert w2.selection.current == ids[5]
    assert w2.view_state.snapshot_index == 1
    assert not w2.embedding.timeline.follow.isChecked()
    assert w2.view_state.colour_by == "none" and w2.view_state.umap_every == 3
    assert w2.embedding.legend.combo.currentText() == "none"  # the widgets follow the restored state
    assert [(d.anchor, d.candidate, d.status) for d in w2.fn_panel.book.decisions()] == saved_book
    qtbot.waitUntil(lambda: w2.embedding.selected_row == 5, timeout=10_000)
    cw2 = w2.tools.compare_window
    assert cw2 is not None
    qtbot.waitUntil(lambda: len(cw2.runs) == 2 and cw2.step == 4 and cw2.drawn_position == cw2.position,
                    timeout=60_000)
    assert [r.label for r in cw2.runs] == ["copy", "original"] and cw2.shown_steps() == [4, 4]
    assert w2.tools.presentation.active is False


def test_session_restores_presentation_mode(qtbot, make_window, run_copy, tmp_path):
    w, tools = _studio(qtbot, make_window)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(run_copy)
    w.tools.presentation.enter()
    path = tools.save_session(tmp_path / "p.simcse-session.json")
    w.tools.presentation.leave()
    restorer = tools.load_session(path)
    with qtbot.waitSignal(restorer.restored, timeout=60_000):
        pass
    assert w.tools.presentation.active and not w.setup_dock.isVisible()
    w.tools.presentation.leave()
    assert w.setup_dock.isVisible()


def test_bad_session_files(tmp_path, make_window, qtbot):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(SessionError, match="not valid JSON"):
        read_session(p)
    p.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(SessionError, match="not a SimCSE Studio session"):
        read_session(p)
    p.write_text(json.dumps({"format": FORMAT, "version": 1, "run": str(tmp_path / "gone")}))
    with pytest.raises(SessionError, match="no longer exists"):
        read_session(p)
    w, tools = _studio(qtbot, make_window)
    with qtbot.waitSignal(w.message_shown, timeout=5000) as b:
        assert tools.load_session(p) is None
    assert "no longer exists" in b.args[1]
