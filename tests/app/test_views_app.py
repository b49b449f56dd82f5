"""The embedding views inside the main window, on a real (tiny-model) run folder and
a live run: tab + dock, search, embedding a typed sentence, lazy run folders."""

from __future__ import annotations

import numpy as np

from app.runs.workers import read_run_updates
from simcse_core.runs import RunReader, final_model_path

TIMEOUT = 60_000


def test_run_folder_search_and_embed(qtbot, make_window, finished_run):
    from app.embedding_tab.geometry import place_vector, top_k
    from simcse_core.model import load_model

    win = make_window()
    win.show_embedding_views()
    assert win.tabs.currentWidget() is win.embedding and win.neighbours_dock.isVisible()
    with qtbot.waitSignal(win.runs.run_updated, timeout=TIMEOUT):
        assert win.open_run(finished_run)
    v = win.embedding
    last = len(win.model.snapshots) - 1
    qtbot.waitUntil(lambda: v.drawn_index == last, timeout=TIMEOUT)
    assert v.hammer_view.rows.size == 64
    # search over the probe texts
    word = win.model.probe_texts[3].split()[0]
    rows = v.search(word)
    assert 3 in rows and all(word.casefold() in win.model.probe_texts[r].casefold() for r in rows)
    # embed a typed sentence with the run's final model; it is placed with a star
    text = "A completely new sentence about archery and bows."
    with qtbot.waitSignal(v.embedded, timeout=TIMEOUT):
        assert v.embed_text(text)
    enc = load_model(str(final_model_path(finished_run)), max_seq_length=16)
    vec = enc.encode([text])[0]
    X = win.model.probe_matrix(last)
    want_rows, want_sims = top_k(X, vec.astype(np.float32), 10)
    assert v.panel.neighbour_rows() == list(want_rows)
    frame = v.frames[last]
    sx, sy = v.hammer_view.star_item.getData()
    assert len(sx) == 1
    assert np.allclose([sx[0], sy[0]], place_vector(frame, vec, raw=True)["hammer"], atol=1e-3)
    assert "★" in v.panel.selected_label.text()


def test_search_also_finds_corpus_sentences_outside_the_probe_set(qtbot, make_window, finished_run, small_corpus):
    from PySide6.QtCore import Qt

    from app.embedding_tab.widgets import CORPUS_TEXT_ROLE
    from simcse_core.data import read_corpus

    win = make_window()
    win.show_embedding_views()
    with qtbot.waitSignal(win.runs.run_updated, timeout=TIMEOUT):
        assert win.open_run(finished_run)
    v = win.embedding
    qtbot.waitUntil(lambda: v.drawn_index is not None, timeout=TIMEOUT)
    probe = set(win.model.probe_texts)
    corpus = read_corpus(small_corpus).sentences
    outside = [t for t in corpus if t not in probe]
    assert len(probe) == 64 and len(outside) > 100  # 200 sentences, 64 probed
    word = next(w for w in outside[0].split() if len(w) > 4)
    want = [t for t in dict.fromkeys(corpus) if word.casefold() in t.casefold() and t not in probe]
    v.panel.search.setText(word)  # typing searches (the corpus is read in a worker)
    qtbot.waitUntil(lambda: v.controller.search.corpus_texts is not None, timeout=TIMEOUT)

    def corpus_items():
        res = v.panel.results
        return [res.item(i) for i in range(res.count()) if res.item(i).data(CORPUS_TEXT_ROLE)]

    qtbot.waitUntil(lambda: len(corpus_items()) == len(want), timeout=TIMEOUT)
    assert [it.data(CORPUS_TEXT_ROLE) for it in corpus_items()] == want
    assert "more in the corpus outside the probe set" in v.panel.status.text()
    # clicking such a hit embeds it with the run's model and places it
    with qtbot.waitSignal(v.embedded, timeout=TIMEOUT):
        v.panel.results.itemClicked.emit(corpus_items()[0])
    assert v.embedded_item is not None and v.embedded_item["text"] == want[0]
    sx, _ = v.hammer_view.star_item.getData()
    assert len(sx) == 1
    # probe hits still come first and select their row
    probe_hits = [v.panel.results.item(i) for i in range(v.panel.results.count())
                  if not v.panel.results.item(i).data(CORPUS_TEXT_ROLE)]
    for it in probe_hits:
        assert word.casefold() in win.model.probe_texts[int(it.data(Qt.ItemDataRole.UserRole))].casefold()


def test_lazy_run_folder_loads_probe_arrays_on_demand(qtbot, make_window, finished_run):
    reader = RunReader(finished_run)
    update = read_run_updates(reader, True, True, lazy=True)
    assert update.lazy_steps == [0, 2, 4, 6]
    assert all(s.probe_embeddings is None and s.batch_sim is not None for s in update.snapshots)
    win = make_window()
    import app.state.run_model as model_mod

    orig = model_mod.EAGER_BYTES
    model_mod.EAGER_BYTES = 1  # every folder is "large"
    try:
        win.show_embedding_views()
        with qtbot.waitSignal(win.runs.run_updated, timeout=TIMEOUT):
            assert win.open_run(finished_run)
    finally:
        model_mod.EAGER_BYTES = orig
    assert win.model.probe_bytes() == 0 and sorted(win.model.lazy_probe) == [0, 2, 4, 6]
    X = win.model.probe_matrix(2)
    ref = RunReader(finished_run).load_arrays(4)["probe_embeddings"]
    assert np.allclose(X, ref, atol=1e-3)
    qtbot.waitUntil(lambda: win.embedding.drawn_index == 3, timeout=TIMEOUT)


def test_live_training_updates_the_views(qtbot, make_window, tiny_model, small_corpus, tiny_config, tmp_path):
    win = make_window()
    win.show_embedding_views()
    cfg = tiny_config(tiny_model, small_corpus, tmp_path / "live")
    with qtbot.waitSignal(win.runs.run_finished, timeout=TIMEOUT):
        assert win.start_training(cfg)
    v = win.embedding
    n = len(win.model.snapshots)
    qtbot.waitUntil(lambda: v.drawn_index == n - 1, timeout=TIMEOUT)
    assert all(s.probe_embeddings.dtype == np.float16 for s in win.model.snapshots)
    assert v.hammer_view.rows.size == 64
    qtbot.waitUntil(lambda: n - 1 in v.umap, timeout=TIMEOUT)  # the final UMAP refresh
