"""The tour (Help → Tour, and the welcome's "Take the tour"): six short chapters, one per
question the studio answers, each opening and framing the live view it is about.

``chapters.py`` holds the texts (through :func:`app.i18n.tr`; Chinese in
``app/i18n/zh_tour.py``), ``targets.py`` how each view is brought forward and found,
``highlight.py`` the frame drawn over the window, ``panel.py`` the floating card with
Back / Next / Close, and ``tour.py`` the :class:`StudioTour` that ties them together
through the studio context.
"""

from app.tour.chapters import TARGETS, Chapter, chapters
from app.tour.tour import StudioTour

__all__ = ["TARGETS", "Chapter", "StudioTour", "chapters"]
