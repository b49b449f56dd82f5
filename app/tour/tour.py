"""The tour: six chapters, each opening and framing the view it is about.

:class:`StudioTour` gets the studio context. :meth:`StudioTour.start` (Help → Tour, the
welcome's "Take the tour") builds the chapters in the current language, then each
chapter brings its view forward (:func:`~app.tour.targets.open_view`), frames it with
the :class:`~app.tour.highlight.Highlight` and fills the :class:`~app.tour.panel.TourPanel`,
placed in a corner of the window where it does not cover the framed view. Nothing here
touches the run: the tour works with no run, while one trains and on a replayed folder
(with no run shown, a note says the views fill in once one is). While the tour is open
a light timer keeps the frame on the view as docks, tabs and the window move;
:meth:`StudioTour.close` removes panel and frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QTimer, Signal
from PySide6.QtWidgets import QMainWindow

from app.i18n import tr
from app.tour.chapters import Chapter, chapters
from app.tour.highlight import Highlight
from app.tour.panel import MIN_WIDTH, WIDTH, TourPanel
from app.tour.targets import open_view, view_rect

if TYPE_CHECKING:
    from app.shell.context import StudioContext

FOLLOW_MS = 250  # the frame follows its view this often while the tour is open
GAP = 8  # px between the panel and the window's edges


def place(area: QRect, avoid: QRect | None, height_for: Callable[[int], int]) -> QRect:
    """The panel's rectangle inside ``area`` (window coordinates), off ``avoid`` (the
    framed view): at the bottom of the room left of it, else right of it, as wide as
    that room allows within :data:`~app.tour.panel.MIN_WIDTH` .. :data:`~app.tour.panel.WIDTH`;
    with no such room, the corner (bottom left, top left, bottom right, top right) that
    overlaps it least, at full width. ``height_for(width)``: the panel's height at a width."""
    max_h = max(1, area.height() - 2 * GAP)

    def at(left: bool, w: int, top: bool = False) -> QRect:
        h = min(height_for(w), max_h)
        x = area.left() + GAP if left else area.right() + 1 - GAP - w
        y = area.top() + GAP if top else area.bottom() + 1 - GAP - h
        return QRect(x, y, w, h)

    if avoid is None or avoid.isEmpty():
        return at(True, WIDTH)
    left_room = avoid.left() - area.left() - 2 * GAP
    right_room = area.right() - avoid.right() - 2 * GAP
    if left_room >= MIN_WIDTH:
        return at(True, min(WIDTH, left_room))
    if right_room >= MIN_WIDTH:
        return at(False, min(WIDTH, right_room))

    def overlap(r: QRect) -> int:
        both = r.intersected(avoid)
        return 0 if both.isEmpty() else both.width() * both.height()

    spots = [at(True, WIDTH), at(True, WIDTH, top=True), at(False, WIDTH), at(False, WIDTH, top=True)]
    return min(spots, key=overlap)  # min keeps the first of equals: the order above


class StudioTour(QObject):
    """The tour for the studio context ``ctx`` (see the module doc). ``index``: the shown
    chapter (-1 when closed); ``chapters``: this tour's chapters; ``panel`` and
    ``highlight`` exist from the first start. Signals: ``chapter_shown(index)``,
    ``closed()``."""

    chapter_shown = Signal(int)
    closed = Signal()

    def __init__(self, ctx: StudioContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.window: QMainWindow = ctx.top_window
        self.chapters: tuple[Chapter, ...] = ()
        self.index = -1
        self.panel: TourPanel | None = None
        self.highlight: Highlight | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FOLLOW_MS)
        self._timer.timeout.connect(self.follow)
        self._placed_for: QRect | None = None  # the view's rectangle the panel was last placed for

    @property
    def running(self) -> bool:
        return self.index >= 0

    @property
    def chapter(self) -> Chapter | None:
        return self.chapters[self.index] if self.running else None

    def _build(self) -> TourPanel:
        if self.panel is None:
            self.highlight = Highlight(self.window)
            self.panel = TourPanel(self.window)
            self.panel.back_requested.connect(self.back)
            self.panel.next_requested.connect(self.next)
            self.panel.close_requested.connect(self.close)
            self.window.installEventFilter(self)
        return self.panel

    # ------------------------------------------------------------------ steps
    def start(self, index: int = 0) -> None:
        """Open the tour at chapter ``index`` (0-based), in the current language."""
        self.chapters = chapters()
        self._build().moved_by_hand = False
        self._timer.start()
        self.go(index)

    def go(self, index: int) -> None:
        """Show chapter ``index``: open its view, frame it, fill and place the panel."""
        if not self.chapters:
            return
        self.index = min(max(int(index), 0), len(self.chapters) - 1)
        ch = self.chapters[self.index]
        open_view(self.ctx, ch.target)
        panel = self._build()
        panel.show_chapter(self.index, len(self.chapters), ch, self.note())
        panel.show()
        self.follow(replace=True)
        self.chapter_shown.emit(self.index)

    def next(self) -> None:
        """The next chapter; after the last, close."""
        if self.index >= len(self.chapters) - 1:
            self.close()
        else:
            self.go(self.index + 1)

    def back(self) -> None:
        if self.index > 0:
            self.go(self.index - 1)

    def close(self) -> None:
        """Remove the panel and the frame (the views stay as they are)."""
        was = self.running
        self.index = -1
        self._timer.stop()
        if self.panel is not None:
            self.panel.hide()
        if self.highlight is not None:
            self.highlight.frame(None)
        if was:
            self.closed.emit()

    def note(self) -> str:
        """A line under the text when no run is shown ("" otherwise)."""
        if self.ctx.run_model.snapshots:
            return ""
        return tr("No run is shown yet: this view fills in once a run trains (Help → Welcome → Watch SimCSE "
                  "learn) or a run folder is open (File → Open run folder…).")

    # ------------------------------------------------------------------ frame and panel
    def target_rect(self) -> QRect | None:
        """The shown chapter's view in the window's coordinates (None: not on screen)."""
        ch = self.chapter
        return None if ch is None else view_rect(self.ctx, ch.target, self.window)

    def follow(self, replace: bool = False) -> None:
        """Frame the chapter's view where it is now and, when the view moved (or with
        ``replace``: a new chapter), place the panel beside it; a panel the person
        dragged stays where they put it unless a new chapter's view is under it."""
        if not self.running or self.panel is None or self.highlight is None:
            return
        rect = self.target_rect()
        self.highlight.frame(rect)
        panel = self.panel
        changed = replace or rect != self._placed_for
        self._placed_for = rect
        covers = rect is not None and panel.geometry().intersects(rect)
        if changed and (not panel.moved_by_hand or (replace and covers)):
            spot = place(self._free_area(), rect, self._height_at)
            panel.fit(spot.width(), spot.height())
            panel.move(spot.topLeft())
        panel.raise_()

    def _height_at(self, width: int) -> int:
        assert self.panel is not None
        self.panel.fit(width, 100_000)
        return self.panel.height()

    def _free_area(self) -> QRect:
        """The window without its menu bar and status bar."""
        w = self.window
        top = w.menuBar().geometry().bottom() + 1 if w.menuBar().isVisible() else 0
        bottom = w.statusBar().geometry().top() - 1 if w.statusBar().isVisible() else w.height() - 1
        return QRect(QPoint(0, top), QPoint(w.width() - 1, bottom))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if obj is self.window and event.type() == QEvent.Type.Resize and self.running:
            QTimer.singleShot(0, self, lambda: self.follow(replace=True))
        return False


__all__ = ["StudioTour", "place"]
