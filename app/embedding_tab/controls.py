"""The embedding tab's controls bound to the :class:`~app.state.view_state.ViewState`,
both ways: a person's change (timeline slider, "follow newest", colour-by box, k box,
sphere-method box, UMAP-every box) writes the view state; a change of the view state,
from anywhere (a session, a tool, a test), shows in the controls without writing back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox

from app.embedding_tab.widgets import Legend, TimelineBar
from app.i18n import N_, tr
from app.state.view_state import ViewState

# short labels: the box must show them whole at presentation font sizes (its tooltip explains)
SPHERE_METHOD_ITEMS = (("pca", N_("sphere: PCA-3 (centred)")), ("umap", N_("sphere: UMAP (haversine)")),
                       ("raw", N_("sphere: raw (no centring)")))
SPHERE_METHODS = tuple(m for m, _label in SPHERE_METHOD_ITEMS)


def sphere_method_box() -> QComboBox:
    box = QComboBox()
    box.addItems([tr(label) for _m, label in SPHERE_METHOD_ITEMS])
    box.setToolTip(tr("How the sphere and its Hammer map place the probe embeddings.\n"
                   "raw directions: the embeddings' own directions (the top axes of the uncentred matrix, "
                   "normalised): a collapsed space stays a small cap, as in Wang & Isola's pictures.\n"
                   "PCA-3, centred: spreads any cloud over the sphere (shows its shape, hides a collapse).\n"
                   "UMAP: a haversine UMAP of the embeddings."))
    return box


class ViewStateControls:
    """Keeps ``timeline``, ``legend`` and ``sphere_box`` in step with ``view_state``."""

    def __init__(self, view_state: ViewState, timeline: TimelineBar, legend: Legend, sphere_box: QComboBox) -> None:
        self.view_state = view_state
        self.timeline, self.legend, self.sphere_box = timeline, legend, sphere_box
        vs = view_state
        timeline.index_changed.connect(lambda i: setattr(vs, "snapshot_index", i))
        timeline.umap_every_changed.connect(lambda n: setattr(vs, "umap_every", n))
        legend.colour_by_changed.connect(lambda name: setattr(vs, "colour_by", name))
        legend.k_changed.connect(lambda k: setattr(vs, "kmeans_k", k))
        sphere_box.currentIndexChanged.connect(lambda i: setattr(vs, "sphere_method", SPHERE_METHODS[i]))
        self._listeners: list[tuple[str, Callable[[Any], None]]] = [
            (name, self._changed) for name in ("snapshot_index", "colour_by", "kmeans_k", "sphere_method", "umap_every")]
        for name, fn in self._listeners:
            vs.connect(name, fn)
        self.sync()

    def _changed(self, _value: Any) -> None:
        self.sync()

    def sync(self) -> None:
        """Show the view state in the controls (without them writing it back)."""
        vs, combo = self.view_state, self.legend.combo
        setters = ((self.timeline.umap_every, lambda: self.timeline.umap_every.setValue(vs.umap_every)),
                   (self.legend.k, lambda: self.legend.k.setValue(vs.kmeans_k)),
                   (self.sphere_box, lambda: self.sphere_box.setCurrentIndex(SPHERE_METHODS.index(vs.sphere_method))),
                   (combo, lambda: combo.findText(vs.colour_by) >= 0 and combo.setCurrentText(vs.colour_by)))
        for widget, set_value in setters:
            blocker = QSignalBlocker(widget)
            set_value()
            blocker.unblock()
        self.timeline.set_follow(vs.snapshot_index < 0)

    def disconnect(self) -> None:
        """Stop following the view state (the tab is going away)."""
        for name, fn in self._listeners:
            self.view_state.disconnect(name, fn)
