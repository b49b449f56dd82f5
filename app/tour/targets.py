"""The views the tour's chapters are about: how to bring each forward and where it is.

A target is a key of :data:`app.tour.chapters.TARGETS`. :func:`open_view` brings it to
the front through the studio context (a central tab with ``ctx.show_tab``, a dock shown
and raised from ``ctx.parts.docks``, the Batch tab's layout through its public
``set_choices``); :func:`view_widget` is the widget the highlight frames and
:func:`view_rect` its rectangle in the window's coordinates, or None while it is not on
screen in that window (another tab in front, a dock closed, floating or behind another).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.shell.context import StudioContext
    from app.training_tab.plots import PlotGrid

GEOMETRY_CELLS = ("alignment", "uniformity", "trajectory")  # the Training tab's cells chapter 1 frames
DOCKS = ("fnDock", "lensDock", "dropoutDock")
BATCH_LAYOUTS = {"batch_nxn": "simcse", "batch_2n": "ntxent"}  # target -> the Batch tab's layout key


def open_view(ctx: StudioContext, target: str) -> None:
    """Bring ``target``'s view to the front (the Batch tab in the chapter's layout)."""
    parts = ctx.parts
    if target == "geometry" and parts.training is not None:
        ctx.show_tab(parts.training)
    elif target in DOCKS and target in parts.docks:
        dock = parts.docks[target]
        if dock.isHidden():
            dock.show()
        dock.raise_()
    elif target in BATCH_LAYOUTS and parts.batch is not None:
        ctx.show_tab(parts.batch)
        parts.batch.set_choices(layout=BATCH_LAYOUTS[target])


def view_widget(ctx: StudioContext, target: str) -> QWidget | None:
    """The widget ``target`` frames (the whole plot grid for "geometry": its cells are
    parts of one graphics view, see :func:`view_rect`)."""
    parts = ctx.parts
    if target == "geometry":
        return parts.training
    if target in DOCKS:
        return parts.docks.get(target)
    if target == "batch_nxn" and parts.batch is not None:
        return parts.batch.split  # the matrix and the clicked row's softmax
    if target == "batch_2n":
        return parts.batch  # the layout box, the batch line and the matrix
    return None


def widget_rect(widget: QWidget, window: QWidget) -> QRect | None:
    """``widget``'s rectangle in ``window``'s coordinates; None unless it is visible in it."""
    if not widget.isVisible() or widget.window() is not window:  # a tab behind another, a dock behind
        return None                                                 # its tab group, closed or floating
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _cells_rect(grid: PlotGrid, window: QWidget) -> QRect | None:
    """The alignment, uniformity and trajectory cells of the plot grid, together."""
    whole = widget_rect(grid, window)
    if whole is None:
        return None
    out = QRect()
    for name in GEOMETRY_CELLS:
        cell = grid.cells.get(name)
        if cell is not None:
            r = grid.mapFromScene(cell.plot.sceneBoundingRect()).boundingRect()
            out = out.united(r.translated(whole.topLeft()))
    return out.intersected(whole) if not out.isEmpty() else whole


def view_rect(ctx: StudioContext, target: str, window: QWidget) -> QRect | None:
    """Where ``target``'s view is in ``window`` now (None: not on screen there)."""
    if target == "geometry":
        grid = ctx.parts.training
        return None if grid is None else _cells_rect(grid, window)
    widget = view_widget(ctx, target)
    return None if widget is None else widget_rect(widget, window)


__all__ = ["open_view", "view_rect", "view_widget", "widget_rect"]
