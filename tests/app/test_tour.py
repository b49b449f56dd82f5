"""The tour (issue 12, item 4): Help → Tour and the welcome's "Take the tour" run six
chapters end to end, in English and in Chinese, with no run, on a replayed run folder
and while a run trains. Each chapter brings its view forward (the current tab, or a
visible dock in front of its tab group) and the highlight frames it; the panel is not
over it; Close removes both."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QAction

from app import i18n
from app.i18n import zh_tour
from app.tour import TARGETS, chapters
from app.tour.panel import WIDTH
from app.tour.tour import place

CJK = re.compile(r"[\u4e00-\u9fff]")
DOCK_TARGETS = ("fnDock", "lensDock", "dropoutDock")


def _in_window(widget, window) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _expected(w, target: str) -> QRect:
    """Check ``target``'s view is in front and return its rectangle in window coordinates
    (computed here, independently of app/tour/targets.py)."""
    docks = w.context.parts.docks
    if target in DOCK_TARGETS:
        dock = docks[target]
        assert dock.isVisible() and not dock.visibleRegion().isEmpty(), f"{target} is not in front"
        return dock.geometry()
    tab = w.tabs.currentWidget()
    if target == "geometry":
        assert tab is w.plots
        grid = w.plots
        out = QRect()
        for name in ("alignment", "uniformity", "trajectory"):
            r = grid.mapFromScene(grid.cells[name].plot.sceneBoundingRect()).boundingRect()
            out = out.united(r.translated(grid.mapTo(w, QPoint(0, 0))))
        return out
    assert tab is w.batch_tab, f"{target}: the Batch tab is not in front"
    if w.model.snapshots and w.batch_tab.shown is not None:
        assert w.batch_tab.layout_key() == {"batch_nxn": "simcse", "batch_2n": "ntxent"}[target]
    return _in_window(w.batch_tab.split if target == "batch_nxn" else w.batch_tab, w)


def _check_chapter(qtbot, w, index: int, language: str) -> None:
    tour = w.tour
    ch = tour.chapters[index]
    assert tour.index == index and tour.panel.isVisible()
    assert tour.panel.title.text() == ch.title
    assert str(index + 1) in tour.panel.counter.text() and "6" in tour.panel.counter.text()
    if language == "zh":
        assert CJK.search(ch.title) and CJK.search(ch.text) and CJK.search(ch.try_this), ch.key
        assert CJK.search(tour.panel.next_button.text()) or CJK.search(tour.panel.back_button.text())
    else:
        assert not CJK.search(ch.text + ch.try_this + ch.title)

    def framed() -> bool:
        rect = _expected(w, ch.target)
        hl = tour.highlight
        return hl.isVisible() and not rect.isEmpty() and hl.geometry().contains(rect)

    if ch.target.startswith("batch") and w.model.snapshots:  # the batch is computed in a worker
        qtbot.waitUntil(lambda: w.batch_tab.shown is not None, timeout=30_000)
    qtbot.waitUntil(framed, timeout=10_000)
    rect = _expected(w, ch.target)
    assert not tour.panel.geometry().intersects(rect), f"chapter {index + 1}: the panel covers its view"


def _run_tour(qtbot, w, language: str) -> None:
    """Start from the Help menu, Next through all six, Back once, Next to the end."""
    action = next(a for a in w.findChildren(QAction) if a.objectName() == "helpTour")
    action.trigger()
    tour = w.tour
    assert len(tour.chapters) == 6
    assert [c.target for c in tour.chapters] == list(TARGETS)
    seen = []
    for i in range(6):
        _check_chapter(qtbot, w, i, language)
        seen.append(tour.chapter.target)
        if i < 5:
            tour.panel.next_button.click()
    assert seen == ["geometry", "fnDock", "batch_nxn", "lensDock", "dropoutDock", "batch_2n"]
    tour.panel.back_button.click()
    _check_chapter(qtbot, w, 4, language)
    tour.panel.next_button.click()
    _check_chapter(qtbot, w, 5, language)
    with qtbot.waitSignal(tour.closed, timeout=2000):
        tour.panel.next_button.click()  # "Finish" on the last chapter
    assert not tour.running and not tour.panel.isVisible() and not tour.highlight.isVisible()


@pytest.fixture(params=["en", "zh"])
def language(request):
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language("en")


def test_tour_end_to_end_on_a_replayed_run(qtbot, make_window, finished_run, language):
    w = make_window(restore=False)
    w.resize(1600, 1000)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(finished_run)
    qtbot.waitUntil(lambda: len(w.model.snapshots) >= 4, timeout=30_000)
    _run_tour(qtbot, w, language)
    # the Batch tab drew the run's batch in the chapter's layouts along the way
    assert w.batch_tab.shown is not None


def test_tour_with_no_run_says_so_and_closes(qtbot, make_window, language):
    w = make_window(restore=False)
    w.resize(1600, 1000)
    w.tour.start()
    assert w.tour.panel.note.isVisible() and w.tour.panel.note.text() == w.tour.note() != ""
    _check_chapter(qtbot, w, 0, language)
    w.tour.go(3)
    _check_chapter(qtbot, w, 3, language)
    w.tour.panel.close_button.click()
    assert not w.tour.running and not w.tour.highlight.isVisible() and not w.tour.panel.isVisible()
    w.tour.start(5)  # a second start works, at any chapter
    _check_chapter(qtbot, w, 5, language)
    w.tour.close()


def test_welcome_offers_the_tour(qtbot, make_window):
    w = make_window(restore=False)
    welcome = w.first_steps.show_welcome()
    button = welcome.buttons["tour"]
    assert button.isEnabled()
    button.click()
    assert not welcome.isVisible() and w.tour.running and w.tour.index == 0
    w.tour.close()


def test_tour_while_a_run_trains(qtbot, make_window, tiny_config, tiny_model, small_corpus, tmp_path):
    w = make_window(restore=False)
    w.resize(1600, 1000)
    cfg = tiny_config(tiny_model, small_corpus, tmp_path / "run", max_steps=400, snapshot_every=2,
                      checkpoint_every=1000)
    with qtbot.waitSignal(w.runs.snapshot_received, timeout=60_000):
        assert w.start_training(cfg)
    assert w.runs.training
    w.tour.start()
    for i in range(6):
        _check_chapter(qtbot, w, i, "en")
        if i < 5:
            w.tour.next()
    assert w.runs.training, "the tour stopped the run"
    with qtbot.waitSignal(w.runs.run_finished, timeout=60_000):
        w.runs.stop()
    w.tour.close()


def test_every_tour_text_has_its_chinese():
    en = chapters()
    try:
        i18n.set_language("zh")
        zh = chapters()
    finally:
        i18n.set_language("en")
    for a, b in zip(en, zh, strict=True):
        for field in ("title", "text", "try_this"):
            assert getattr(a, field) in zh_tour.TABLE, (a.key, field)
            assert getattr(b, field) == zh_tour.TABLE[getattr(a, field)]
            assert CJK.search(getattr(b, field))


def test_place_avoids_the_view():
    area = QRect(0, 30, 1600, 940)
    height = lambda w: 120_000 // w  # noqa: E731 - narrower is higher, as with wrapped text
    centre = QRect(370, 40, 700, 900)
    r = place(area, centre, height)
    assert not r.intersects(centre) and area.contains(r)
    assert r.left() < centre.left() and r.width() == centre.left() - 2 * 8 and r.height() == height(r.width())
    right_column = QRect(1100, 30, 500, 940)
    r = place(area, right_column, height)
    assert not r.intersects(right_column) and r.width() == WIDTH
    everything = QRect(100, 30, 1400, 940)  # no room beside it: a corner, the text scrolls if need be
    r = place(area, everything, height)
    assert area.contains(r)
