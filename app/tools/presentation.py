"""Presentation mode: the studio on a projector.

:class:`PresentationMode` turns the main window full screen, hides the docks (setup,
neighbours, lens, false negatives), the menu and status bars, and scales what a room
must read: the window font, plot titles, axis ticks and labels, legend text, curve pens
and scatter point sizes (:func:`scale_plots`, a factor of :data:`DEFAULT_SCALE`), the
fonts a style sheet holds and the widths capped for the normal font
(:func:`scale_widgets`). The run bar shows only while a run trains (a finished run's
line is stale beside the snapshot shown); the lens (key 3) opens as wide as its content
needs at the large font.
Leaving restores the layout exactly (``saveState``/``restoreState``, geometry, fonts,
every scaled pen and size).

Keys while presenting:

==========  =====================================================
Space       play / pause the timeline
Right/Left  next / previous snapshot
1, 2, 3     training curves / embedding space / the temperature lens (toggled beside)
Esc         leave presentation mode (F11 toggles it)
==========  =====================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence, QPen
from PySide6.QtWidgets import QDockWidget, QScrollArea, QWidget

from app.embedding_tab.raster_scatter import RasterScatter
from app.i18n import tr
from app.shell.context import StudioContext
from app.shell.run_controls import RunControls

DEFAULT_SCALE = 1.8
SCROLL_BAR_ROOM = 24  # px beside a scrolled panel for its vertical scroll bar and frame


def _scaled_pen(pen: Any, factor: float) -> QPen | None:
    if pen is None:
        return None
    p = pg.mkPen(pen)
    if p.style() == Qt.PenStyle.NoPen:
        return p
    p.setWidthF(max(1.0, p.widthF()) * factor)
    return p


def scale_plots(root: QWidget, factor: float) -> Callable[[], None]:
    """Scale every pyqtgraph plot under ``root``: titles, axis fonts, legend text, line
    pens, symbol and scatter sizes. Returns a function that undoes exactly this."""
    undo: list[Callable[[], None]] = []
    views = [root] if isinstance(root, pg.GraphicsView) else []
    views += root.findChildren(pg.GraphicsView)
    seen: set[int] = set()
    for view in views:
        scene = view.scene()
        if scene is None:
            continue
        for item in scene.items():
            if id(item) in seen:
                continue
            seen.add(id(item))
            _scale_item(item, factor, undo)
    def restore() -> None:
        for fn in reversed(undo):
            try:
                fn()
            except RuntimeError:  # the item was deleted meanwhile (runs reloaded)
                pass
    return restore


def _pt(size: Any, default: float = 9.0) -> float:
    try:
        return float(str(size).replace("pt", "").strip())
    except ValueError:
        return default


def _scale_item(item: Any, f: float, undo: list[Callable[[], None]]) -> None:
    if isinstance(item, pg.PlotItem):
        lab = item.titleLabel
        if lab.text:
            size = lab.opts.get("size") or "9pt"
            text = lab.text
            lab.setText(text, size=f"{_pt(size) * f:.0f}pt")
            undo.append(lambda lab=lab, text=text, size=size: lab.setText(lab.text or text, size=size))
    elif isinstance(item, pg.AxisItem):
        font = item.style.get("tickFont")
        base = QFont(font) if font is not None else QFont()
        big = QFont(base)
        big.setPointSizeF((base.pointSizeF() if base.pointSizeF() > 0 else 9.0) * f)
        item.setStyle(tickFont=big)
        old_style = dict(item.labelStyle)
        new_style = dict(old_style)
        new_style["font-size"] = f"{_pt(old_style.get('font-size', '9pt')) * f:.0f}pt"
        item.labelStyle = new_style
        item._updateLabel()
        pen = item.pen()
        item.setPen(_scaled_pen(pen, min(f, 1.5)))

        def undo_axis(item=item, font=font, old_style=old_style, pen=pen) -> None:
            item.setStyle(tickFont=font)
            item.labelStyle = old_style
            item._updateLabel()
            item.setPen(pen)
        undo.append(undo_axis)
    elif isinstance(item, pg.LegendItem):
        size = item.opts.get("labelTextSize", "9pt")
        item.setLabelTextSize(f"{_pt(size) * f:.0f}pt")
        for _sample, label in item.items:
            label.setText(label.text, size=f"{_pt(size) * f:.0f}pt")

        def undo_legend(item=item, size=size) -> None:
            item.setLabelTextSize(size)
            for _s, label in item.items:
                label.setText(label.text, size=size)
        undo.append(undo_legend)
    elif isinstance(item, pg.PlotDataItem):
        pen = item.opts.get("pen")
        sym = item.opts.get("symbolSize")
        if pen is not None:
            item.setPen(_scaled_pen(pen, f))
        if sym is not None:
            item.setSymbolSize(sym * f)

        def undo_pdi(item=item, pen=pen, sym=sym) -> None:
            if pen is not None:
                item.setPen(pen)
            if sym is not None:
                item.setSymbolSize(sym)
        undo.append(undo_pdi)
    elif isinstance(item, (pg.ScatterPlotItem, RasterScatter)):
        if isinstance(item.parentItem(), pg.PlotDataItem):
            return  # a curve's symbols: scaled with the curve
        size = item.opts.get("size", 7)
        item.setSize(size * f)
        undo.append(lambda item=item, size=size: item.setSize(size))


QWIDGETSIZE_MAX = 16_777_215


def scale_widgets(root: QWidget, factor: float, font_size: float) -> Callable[[], None]:
    """What a larger window font does not reach: widgets under ``root`` whose font did
    not follow it (a style sheet holds their font: the message banner, notes) get
    their font scaled, and widths capped for the normal font size (a legend column,
    a side panel) are widened by ``factor``. Call after the window's font was set to
    ``font_size``; returns a function that undoes exactly this."""
    undo: list[Callable[[], None]] = []
    for child in root.findChildren(QWidget):
        f = child.font()
        size = f.pointSizeF()
        if 0 < size < 0.95 * font_size:
            big = QFont(f)
            big.setPointSizeF(size * factor)
            own = child.testAttribute(Qt.WidgetAttribute.WA_SetFont)
            child.setFont(big)
            undo.append(lambda c=child, f=QFont(f), own=own: c.setFont(f if own else QFont()))
        cap = child.maximumWidth()
        if 0 < cap < QWIDGETSIZE_MAX and child.minimumWidth() != cap:
            child.setMaximumWidth(min(QWIDGETSIZE_MAX, int(cap * factor)))
            undo.append(lambda c=child, cap=cap: c.setMaximumWidth(cap))

    def restore() -> None:
        for fn in reversed(undo):
            try:
                fn()
            except RuntimeError:  # deleted meanwhile
                pass
    return restore


def lens_width(window_width: int, needed: int) -> int:
    """The lens dock's width in presentation mode: what its content needs at the large
    font, at least :data:`LENS_SHARE` of the window, at most :data:`LENS_MAX_SHARE`."""
    return int(min(max(needed, LENS_SHARE * window_width), LENS_MAX_SHARE * window_width))


LENS_SHARE, LENS_MAX_SHARE = 0.4, 0.6


class PresentationMode(QObject):
    """Full screen, large type, docks hidden, keys for the talk (see the module doc).

    It acts on the context's top window; the tabs, embedding tab and lens dock come
    from ``ctx.parts``. Signal ``toggled(bool)``."""

    toggled = Signal(bool)

    def __init__(self, ctx: StudioContext, scale: float = DEFAULT_SCALE, full_screen: bool = True) -> None:
        window = ctx.top_window
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self.scale = float(scale)
        self.full_screen = full_screen
        self.active = False
        self._saved: dict[str, Any] = {}
        self._undo: Callable[[], None] | None = None
        self.toggle_action = QAction(tr("&Presentation mode"), window)
        self.toggle_action.setCheckable(True)
        self.toggle_action.setShortcuts([QKeySequence("F11"), QKeySequence("Ctrl+Shift+P")])
        self.toggle_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.toggle_action.setToolTip(tr("Full screen, large fonts and points, docks hidden (Esc leaves)"))
        self.toggle_action.toggled.connect(self._toggle_action)
        window.addAction(self.toggle_action)  # keeps working while the menu bar is hidden
        self.actions: dict[str, QAction] = {}
        for name, key, slot in (
            ("play", "Space", self.play_pause),
            ("next", "Right", lambda: self.step_by(1)),
            ("previous", "Left", lambda: self.step_by(-1)),
            ("training", "1", lambda: self.show_view(1)),
            ("embedding", "2", lambda: self.show_view(2)),
            ("lens", "3", lambda: self.show_view(3)),
            ("leave", "Esc", self.leave),
        ):
            a = QAction(name, window)
            a.setShortcut(QKeySequence(key))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setEnabled(False)
            a.triggered.connect(slot)
            window.addAction(a)
            self.actions[name] = a

    # ------------------------------------------------------------------ on / off
    def _toggle_action(self, on: bool) -> None:
        if on != self.active:
            self.enter() if on else self.leave()

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        w = self.window
        docks = w.findChildren(QDockWidget)
        self._saved = {
            "state": w.saveState(),
            "geometry": w.saveGeometry(),
            "size": w.size(),
            "pos": w.pos(),
            "window_state": w.windowState(),
            "font": QFont(w.font()),
            "menu": w.menuBar().isVisible() if w.menuBar() is not None else False,
            "status": w.statusBar().isVisible(),
            "docks": {d: d.isVisible() for d in docks},
            "tab": self.ctx.parts.tabs.currentIndex() if self.ctx.parts.tabs is not None else 0,
        }
        for d in docks:
            d.hide()
        w.menuBar().hide()
        w.statusBar().hide()
        font = QFont(w.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * self.scale)
        w.setFont(font)
        undo_plots = scale_plots(w, self.scale)
        undo_widgets = scale_widgets(w, self.scale, font.pointSizeF())
        self._undo = lambda: (undo_widgets(), undo_plots())
        self._saved["run_bar"] = {bar: bar.isVisible() for bar in w.findChildren(RunControls)}
        self.ctx.runs.state_changed.connect(self._show_run_bar)
        self._show_run_bar()
        for a in self.actions.values():
            a.setEnabled(True)
        self.active = True
        if self.full_screen:
            if w.layout() is not None:  # the hidden docks' minimum sizes no longer count
                w.layout().activate()
            screen = w.screen()
            if screen is not None:  # without a window manager (Xvfb, kiosk) nobody resizes it
                w.setGeometry(screen.geometry())
            w.showFullScreen()
        self._sync_action()
        self.toggled.emit(True)

    def leave(self) -> None:
        if not self.active:
            return
        w = self.window
        for a in self.actions.values():
            a.setEnabled(False)
        self.ctx.runs.state_changed.disconnect(self._show_run_bar)
        for bar, vis in self._saved.get("run_bar", {}).items():
            bar.setVisible(vis)
        centre = self._saved.pop("centre_hidden", None)
        if centre is not None:
            centre.show()
        if self._undo is not None:
            self._undo()
            self._undo = None
        s = self._saved
        w.setFont(s["font"])
        if s["menu"]:
            w.menuBar().show()
        if s["status"]:
            w.statusBar().show()
        w.setWindowState(s["window_state"])
        if not (s["window_state"] & Qt.WindowState.WindowFullScreen):
            w.showNormal() if not (s["window_state"] & Qt.WindowState.WindowMaximized) else w.showMaximized()
        w.restoreGeometry(s["geometry"])
        if not (s["window_state"] & (Qt.WindowState.WindowFullScreen | Qt.WindowState.WindowMaximized)):
            w.resize(s["size"])  # restoreGeometry clamps to the screen; the size is what it was
            w.move(s["pos"])
        w.restoreState(s["state"])
        for d, vis in s["docks"].items():
            d.setVisible(vis)
        self.active = False
        self._sync_action()
        self.toggled.emit(False)

    def _show_run_bar(self, _state: str = "") -> None:
        """While presenting, the run bar (Train, Stop, progress) shows only while a run
        trains: its text is then the live run's; a finished or opened run's line would
        be stale beside the snapshot being shown."""
        training = bool(self.ctx.runs.training)
        for bar in self._saved.get("run_bar", {}):
            bar.setVisible(training)

    def _sync_action(self) -> None:
        if self.toggle_action.isChecked() != self.active:
            self.toggle_action.blockSignals(True)
            self.toggle_action.setChecked(self.active)
            self.toggle_action.blockSignals(False)

    # ------------------------------------------------------------------ keys
    def _timeline(self) -> Any:
        emb = self.ctx.parts.embedding
        return None if emb is None else emb.timeline

    def play_pause(self) -> None:
        tl = self._timeline()
        if tl is not None and tl.slider.isEnabled():
            tl.play_button.toggle()

    def current_index(self) -> int:
        """The snapshot index the timeline shows."""
        n = len(self.ctx.run_model.snapshots)
        i = self.ctx.view_state.snapshot_index
        return n - 1 if i < 0 else min(i, n - 1)

    def step_by(self, delta: int) -> None:
        """Show the next (``delta`` = 1) or previous (-1) snapshot."""
        n = len(self.ctx.run_model.snapshots)
        if n == 0:
            return
        tl = self._timeline()
        if tl is not None and tl.play_button.isChecked():
            tl.play_button.setChecked(False)
        self.ctx.view_state.snapshot_index = int(min(max(self.current_index() + delta, 0), n - 1))

    def show_view(self, which: int) -> None:
        """1: training curves, 2: embedding space, 3: toggle the temperature lens."""
        parts = self.ctx.parts
        if which == 1 and parts.training is not None:
            self.ctx.show_tab(parts.training)
        elif which == 2 and parts.embedding is not None:
            self.ctx.show_tab(parts.embedding)
        elif which == 3:
            dock = parts.docks.get("lensDock")
            if dock is not None:
                dock.setVisible(not dock.isVisible())
                if dock.isVisible():
                    dock.raise_()
                    self.fit_lens(dock)

    def fit_lens(self, dock: QDockWidget) -> None:
        """Give the shown lens dock the width its content needs at the large font (its
        chart, table and buttons whole), at least 40 % of the window."""
        content = dock.widget()
        inner = content.widget() if isinstance(content, QScrollArea) else content
        needed = (inner.minimumSizeHint().width() if inner is not None else 0) + SCROLL_BAR_ROOM
        w = self.window
        centre = w.centralWidget()
        if centre is not None and centre.minimumSizeHint().width() + needed > w.width():
            centre.hide()  # both do not fit (a small screen): the lens takes the window
            self._saved["centre_hidden"] = centre
            dock.visibilityChanged.connect(self._lens_hidden)
            return
        w.resizeDocks([dock], [lens_width(w.width(), needed)], Qt.Orientation.Horizontal)

    def _lens_hidden(self, visible: bool) -> None:
        centre = self._saved.pop("centre_hidden", None) if not visible else None
        if centre is not None:
            centre.show()
