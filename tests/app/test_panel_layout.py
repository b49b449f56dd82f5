"""The lens and false-negative docks in the real window at common sizes: their content
fits the dock (no sideways scrolling), the lens chart, its Apply button and its help
lie inside the dock's visible area, and the candidate table shows at least 30
characters of each sentence at 1920 x 1080 (full text on hover)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QScrollArea, QWidget

from app.panels.fn_table import CELL_PADDING, MIN_TEXT_CHARS
from simcse_core.false_negatives import Candidate


def _settle(qtbot, w) -> None:
    for _ in range(4):
        qtbot.wait(30)


def _viewport_rect(sc: QScrollArea, widget: QWidget) -> QRect:
    """``widget``'s rectangle in the coordinates of the scroll area's viewport."""
    top_left = widget.mapTo(sc.viewport(), QPoint(0, 0))
    return QRect(top_left, widget.size())


def _no_sideways_scrolling(sc: QAbstractScrollArea) -> bool:
    bar = sc.horizontalScrollBar()
    return not bar.isVisible() or bar.maximum() == 0


def visible_chars(table, row: int, column: int) -> int:
    """How many characters of a cell's text the column shows (before the ellipsis)."""
    text = str(table.model().index(row, column).data() or "")
    width = table.columnWidth(column) - 2 * CELL_PADDING
    shown = table.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width)
    return len(shown.rstrip("…"))


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_lens_dock_fits_its_content(qtbot, studio, size):
    w, _tools = studio
    w.resize(*size)
    w.lens_dock.show()
    w.lens_dock.raise_()
    _settle(qtbot, w)
    lens = w.lens_panel
    sc = w.lens_dock.widget()
    assert isinstance(sc, QScrollArea)
    assert _no_sideways_scrolling(sc), f"the lens scrolls sideways at {size}: {lens.minimumSizeHint()}"
    view = sc.viewport().rect()
    for part in (lens.apply_button, lens.help_button, lens.anchor_combo, lens.source_combo):
        r = _viewport_rect(sc, part)
        assert view.contains(r), f"{part.__class__.__name__} {r} outside the lens dock's view {view} at {size}"
    table = _viewport_rect(sc, lens.plots.stats_table)  # below the chart: the dock scrolls down to it
    assert table.left() >= 0 and table.right() <= view.right()
    chart = _viewport_rect(sc, lens.plots.bar_plot)
    assert chart.left() >= 0 and chart.right() <= view.right(), f"the chart {chart} is cut at {size}"
    assert 0 <= chart.top() < view.bottom() - 120, f"the chart {chart} starts below the view {view} at {size}"


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_false_negative_dock_fits_its_content(qtbot, studio, size):
    w, _tools = studio
    w.resize(*size)
    w.fn_dock.show()
    w.fn_dock.raise_()
    _settle(qtbot, w)
    sc = w.fn_dock.widget()
    assert _no_sideways_scrolling(sc), f"the false-negative panel scrolls sideways at {size}"


def test_candidate_table_shows_30_characters_of_each_sentence(qtbot, studio):
    w, _tools = studio
    fn = w.fn_panel
    w.resize(1920, 1080)
    w.fn_dock.show()
    w.fn_dock.raise_()
    ids = [int(i) for i in w.model.probe_ids[:6]]
    long_a = "A remarkably long anchor sentence about sourdough bread and its slow fermentation"
    long_b = "A candidate sentence that says nearly the same thing about bread and its long rise"
    texts = w.context.sentences
    fn.text_of = lambda i: {ids[0]: long_a, ids[1]: long_b}.get(int(i)) or texts(i)
    fn.table_model.text_of = fn.text_of
    fn.add_candidates([Candidate(ids[0], ids[1], 0.93, "threshold+near_duplicate", 3, "batch", weight=0.2)])
    _settle(qtbot, w)
    t = fn.table
    row = fn.proxy.mapFromSource(fn.table_model.index(fn.table_model.row_of((ids[0], ids[1])), 0)).row()
    for col in (0, 1):
        assert visible_chars(t, row, col) >= MIN_TEXT_CHARS, f"column {col} shows {visible_chars(t, row, col)} chars"
        # the sentence columns lie in the table's view without scrolling, the full text is the tooltip
        left = t.horizontalHeader().sectionViewportPosition(col)
        assert 0 <= left and left + t.columnWidth(col) <= t.viewport().width()
        tip = fn.proxy.index(row, col).data(Qt.ItemDataRole.ToolTipRole)
        assert tip in (long_a, long_b)
    # cosine and status are in view too (the reason column no longer takes the width)
    for col in (2, 6):
        left = t.horizontalHeader().sectionViewportPosition(col)
        assert 0 <= left and left + t.columnWidth(col) <= t.viewport().width() + 2, f"column {col} out of view"
    assert t.columnWidth(4) < t.columnWidth(0)


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_neighbours_dock_fits_its_content(qtbot, studio, size):
    w, _tools = studio
    w.resize(*size)
    w.show_embedding_views()
    _settle(qtbot, w)
    sc = w.neighbours_dock.widget()
    assert isinstance(sc, QScrollArea)
    assert _no_sideways_scrolling(sc), f"the Neighbours dock scrolls sideways at {size}"
