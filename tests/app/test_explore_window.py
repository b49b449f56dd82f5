"""The explore window (app/explore): prepared in a worker with progress, then the map,
typed search, neighbours, clusters with labels on the map and in a table; a second open
from the cache; a bad corpus answered in the window; Cancel; and the --explore flag."""

from __future__ import annotations

import numpy as np

from simcse_core.embedding_cache import read_manifest
from simcse_core.precision import PrecisionChoice

from app.explore.window import ExploreWindow, eta_text, precision_text

TIMEOUT = 180_000


def _open(qtbot, topic_corpus, tiny_model) -> ExploreWindow:
    win = ExploreWindow(topic_corpus, tiny_model, pooler_type="avg", max_seq_length=16)
    qtbot.addWidget(win)
    win.show()
    return win


def test_explore_window_map_search_neighbours_and_clusters(qtbot, topic_corpus, tiny_model):
    win = _open(qtbot, topic_corpus, tiny_model)
    with qtbot.waitSignal(win.ready, timeout=TIMEOUT):
        pass
    assert win.view is not None and len(win.view) == 200
    assert win.map.last is not None and win.map.last.mode == "points" and win.map.last.in_view == 200
    assert win.colour_by.currentData() == "topic" and win.map.labels is not None
    from PySide6.QtCore import QPointF

    xy = win.view.layout
    for i in (int(np.argmax(xy[:, 1])), int(np.argmin(xy[:, 1])), int(np.argmax(xy[:, 0]))):
        p = win.map.image.mapFromView(QPointF(float(xy[i, 0]), float(xy[i, 1])))  # the picture drawn there
        assert win.map.image.image[int(p.y()), int(p.x()), 3] > 0, i  # the point, the right way up
    assert all(f"&nbsp;t{t}" in win.legend.text() for t in range(5))  # a swatch per topic
    assert "200 sentences" in win.statusBar().currentMessage() and "exact" in win.statusBar().currentMessage()
    recorded = read_manifest(win.view.folder)["precision"]  # the format the rows were encoded in, and said so
    assert win.view.precision.as_dict() == recorded and precision_text(win.view.precision) in win.statusBar().currentMessage()
    asked = []
    real = win.session.data.encoder.encode
    win.session.data.encoder.encode = lambda *a, **kw: (asked.append(kw.get("precision")), real(*a, **kw))[1]
    with qtbot.waitSignal(win.results_shown, timeout=TIMEOUT):
        win.search("the guitar and the violin")
    assert asked == [recorded["dtype"]]  # a typed query is embedded as the rows were
    assert win.results.count() == 20 and "guitar" in win.results_title.text()
    assert win.map.highlight is not None and int(win.map.highlight.sum()) == 20
    with qtbot.waitSignal(win.results_shown, timeout=TIMEOUT):
        win.show_neighbours(3)
    shown = [int(win.results.item(i).data(256)) for i in range(win.results.count())]
    assert 3 not in shown and len(shown) == 20
    win._hovered(7)
    assert win.view.texts[7] in win.hover.text() and "topic: t0" in win.hover.text()
    win.k.setValue(5)
    with qtbot.waitSignal(win.clustered, timeout=TIMEOUT):
        win.cluster()
    assert win.table.rowCount() == 5 and sum(int(win.table.item(r, 0).text()) for r in range(5)) == 200
    assert win.colour_by.currentData() == "clusters" and len(win.map.shown_labels()) == 5
    labels = {win.table.item(r, 1).text() for r in range(5)}
    assert all(lab for lab in labels) and all(lab in win.legend.text() for lab in labels)
    before = win.map.view_rect()
    win.table.selectRow(0)
    after = win.map.view_rect()
    assert (after.x1 - after.x0) < (before.x1 - before.x0)  # centred on the cluster, zoomed in
    win.close()
    # a second open of the same corpus and model: from the cache
    again = _open(qtbot, topic_corpus, tiny_model)
    notes = []
    again.jobs.yielded.connect(lambda _c, _t, p: notes.append(p.note))
    with qtbot.waitSignal(again.ready, timeout=TIMEOUT):
        pass
    assert "cached" in notes
    again.close()


def test_a_missing_corpus_is_said_in_the_window(qtbot, tmp_path, tiny_model):
    win = _open(qtbot, tmp_path / "nope.csv", tiny_model)
    qtbot.waitUntil(lambda: bool(win.error), timeout=TIMEOUT)
    assert "nope.csv" in win.error and "Traceback" not in win.error
    assert win.stage.text() == "Could not prepare the corpus" and not win.cancel_button.isEnabled()
    win.close()


def test_cancel_stops_between_chunks_and_keeps_the_cache(qtbot, topic_corpus, tiny_model, monkeypatch):
    from simcse_core import embedding_cache as ec

    monkeypatch.setattr(ec, "CHUNK", 20)
    win = _open(qtbot, topic_corpus, tiny_model)
    win.cancel()
    qtbot.waitUntil(lambda: win.stage.text().startswith("Stopped"), timeout=TIMEOUT)
    assert win.view is None and not win.cancel_button.isEnabled()
    win.close()


def test_eta_text():
    assert eta_text(None) == "" and eta_text(12.2) == "about 12 s left"
    assert eta_text(600) == "about 10 min left" and eta_text(4 * 3600) == "about 4.0 h left"


def test_the_explore_flag_opens_the_window(qtbot, topic_corpus, tiny_model, tmp_path):
    from PySide6.QtCore import QSettings

    from app.main import build_parser, create_window

    args = build_parser().parse_args(["--explore", str(topic_corpus), "--model", tiny_model,
                                      "--runs-root", str(tmp_path / "runs")])
    win = create_window(args, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    [ew] = win.tools.explore_windows
    qtbot.addWidget(ew)
    qtbot.waitUntil(lambda: ew.view is not None or bool(ew.error), timeout=TIMEOUT)
    assert ew.view is not None and len(ew.view) == 200, ew.error
    ew.close()
    np.testing.assert_array_equal(ew.view.layout.shape, (200, 2))


def test_select_filter_and_export(qtbot, topic_corpus, tiny_model, tmp_path):
    import csv

    win = _open(qtbot, topic_corpus, tiny_model)
    with qtbot.waitSignal(win.ready, timeout=TIMEOUT):
        pass
    xy = win.view.layout
    x0, x1 = float(np.percentile(xy[:, 0], 20)), float(np.percentile(xy[:, 0], 80))
    y0, y1 = float(np.percentile(xy[:, 1], 20)), float(np.percentile(xy[:, 1], 80))
    from PySide6.QtCore import QPointF, QRectF

    win.map._rect_done(QRectF(QPointF(x0, y0), QPointF(x1, y1)))  # as shift + drag ends
    inside = np.flatnonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    assert sorted(win.selection.tolist()) == inside.tolist() and inside.size > 0
    assert win.selection_panel.table.rowCount() == inside.size and win.selection_panel.export_button.isEnabled()
    assert f"{inside.size} sentences selected" == win.selection_panel.title.text()
    lasso = np.array([[x0, y0], [x1, y0], [x0, y1]])  # a triangle
    win.map._lasso_done(lasso)
    assert 0 < win.selection.size < inside.size
    out = tmp_path / "sel.csv"
    win.select(inside)
    win.export_selection(str(out))
    qtbot.waitUntil(lambda: win.exported is not None, timeout=TIMEOUT)
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(r["row"]) for r in rows) == inside.tolist()
    assert all(len(r["neighbours"].split()) == 10 and r["row"] not in r["neighbours"].split() for r in rows)
    assert {r["topic"] for r in rows} <= {f"t{t}" for t in range(5)}
    # a filter: only topic t2 drawn, hover and clicks map back to corpus rows
    win.filter_column.setCurrentIndex(win.filter_column.findData("topic"))
    win.filter_value.setCurrentIndex(win.filter_value.findData("t2"))
    win.apply_filter()
    qtbot.waitUntil(lambda: win.map.visible is not None, timeout=TIMEOUT)
    assert win.map.rows.tolist() == list(range(80, 120)) and win.map.last.in_view <= 40
    win.close()


def test_a_run_folder_opens_before_and_after(qtbot, topic_corpus, finished_run):
    """--model a run folder: the corpus under the run's start model and its trained model;
    the most-changed sentences listed (lowest overlap first) with arrows on the map, the
    start model's map one choice away, and a sentence's neighbours under both."""
    win = _open(qtbot, topic_corpus, str(finished_run))
    assert win.session.run is not None
    with qtbot.waitSignal(win.ready, timeout=TIMEOUT):
        pass
    v = win.view
    assert v.compared and v.changed_rows.shape == (200,) and (np.diff(v.changed_overlap) >= 0).all()
    assert win.side.tabText(win.side.count() - 1) == "Before and after" and win.changes_panel.table.rowCount() == 200
    x, _y = win.map._arrows.getData()
    assert len(x) == 2 * 200
    after = win.map.xy.copy()
    win.changes_panel.which_map.setCurrentIndex(1)
    np.testing.assert_array_equal(win.map.xy, v.before_layout)
    win.changes_panel.which_map.setCurrentIndex(0)
    np.testing.assert_array_equal(win.map.xy, after)
    with qtbot.waitSignal(win.results_shown, timeout=TIMEOUT):
        win.changes_panel.table.selectRow(0)
    texts = [win.results.item(i).text() for i in range(win.results.count())]
    assert texts[0] == "start model" and "trained model" in texts and len(texts) == 2 + 2 * 10
    win.close()


def test_cluster_labels_do_not_cover_each_other(qtbot):
    """Two clusters centred at the same place: only the larger's label shows; zoomed in
    until they are apart, both do."""
    from PySide6.QtCore import QRectF

    from app.explore.map_view import MapView

    m = MapView()
    qtbot.addWidget(m)
    m.resize(800, 600)
    m.show()
    rng = np.random.default_rng(0)
    m.set_points(rng.uniform(0, 100, (500, 2)).astype(np.float32))
    m.set_cluster_labels([(50.0, 50.0, "small cluster", 10), (50.5, 50.0, "big cluster", 100),
                          (10.0, 10.0, "far away", 5)])
    assert m.shown_labels() == ["big cluster", "far away"]
    m.vb.setRange(QRectF(49.0, 49.5, 2.0, 1.0), padding=0)
    m.redraw()
    assert "big cluster" in m.shown_labels() and "small cluster" in m.shown_labels()


def test_closing_stops_the_worker_and_the_studio_forgets_the_window(qtbot, topic_corpus, tiny_model, monkeypatch,
                                                                     tmp_path):
    """Close while encoding: the worker stops after its chunk (the cache keeps what is done),
    and the studio no longer holds the window (nor its encoder and index)."""
    from PySide6.QtCore import QSettings

    from app.main import build_parser, create_window
    from simcse_core import embedding_cache as ec

    monkeypatch.setattr(ec, "CHUNK", 10)
    args = build_parser().parse_args(["--explore", str(topic_corpus), "--model", tiny_model,
                                      "--runs-root", str(tmp_path / "runs")])
    win = create_window(args, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    [ew] = win.tools.explore_windows
    qtbot.waitUntil(lambda: ew.progress.value() > 0, timeout=TIMEOUT)
    ew.close()
    assert ew.session.stop.is_set() and not ew.jobs.isRunning() and ew.view is None
    assert win.tools.explore_windows == []


def test_the_status_bar_says_how_the_rows_were_encoded():
    assert precision_text(None) == precision_text(PrecisionChoice("float32", "no hardware bfloat16")) \
        == "encoded in float32"
    said = precision_text(PrecisionChoice("bfloat16", "checked", 0.999934, 48))
    assert said == "encoded with bfloat16 products (lowest cosine to float32 0.99993 on 48 sentences)"
