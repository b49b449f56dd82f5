"""Dropout as augmentation, seen: the "Dropout views" dock panel.

Pick a sentence (the selection, or the box of probe sentences): it goes through the
encoder K times with dropout probability p (slider, 0 to 0.5), and the panel draws its K
views around its eval-mode embedding (:mod:`app.panels.dropout_plot`) with three
numbers: the spread (mean cosine of the views to the centre), the positive pair's
cosine (the two copies of each pair, what the loss's positive sees), and the cosine to
the nearest other sentence of the probe set at the shown step. p = 0 puts every view on
the centre; "same mask" gives both copies of a pair one mask, so the positive is
trivial (SimCSE's Table 3: "fixed 0.1" scores 43.6 on STS-B against 82.5).

The views are drawn in a worker (:func:`app.panels.dropout_job.run_dropout_job`) with
weights read from disk (the live model never crosses threads); the panel names them
(``weights of step N (checkpoint)``, or the starting model). It works only while it is
shown: a hidden panel marks itself stale and recomputes when shown.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from simcse_core.snapshot import Snapshot

from app.i18n import N_, tr
from app.panels.dropout_job import DropoutRequest, DropoutResult, run_dropout_job
from app.panels.dropout_plot import COLOR_A, COLOR_B, COLOR_NEAR, DropoutPlot
from app.panels.lens_plots import number
from app.widgets.sentence_combo import SentenceCombo, short

if TYPE_CHECKING:
    from app.shell.context import StudioContext

__all__ = ["COMBO_LIMIT", "DropoutPanel", "HELP_TEXT", "reach_line", "run_job"]

COMBO_LIMIT = 1000  # probe sentences listed in the box
P_STEPS = 50  # the slider: p = value / 100, 0 to 0.5
DEBOUNCE_MS = 150
LIVE_MS = 2000  # a live run's new snapshots recompute the views at most this often

HELP_TEXT = (
    N_("<b>Dropout is SimCSE's augmentation.</b> Unsupervised SimCSE feeds each sentence twice; "
    "dropout (a random mask on the network's units) makes the two embeddings differ a little, "
    "and the loss pulls that pair together while pushing the batch's other sentences away.<br>"
    "Here one sentence goes through the encoder K times (K/2 pairs) with dropout p. "
    "<b>p = 0</b>: no noise, every view is the eval-mode embedding and the positive pair is trivial. "
    "<b>Same mask</b>: both copies of a pair get one mask, so they are identical and the loss learns "
    "nothing from them. SimCSE's Table 3 (STS-B dev): p 0 &rarr; 71.1, 0.05 &rarr; 81.1, 0.1 &rarr; 82.5, "
    "0.5 &rarr; 71.0; the same mask at 0.1 &rarr; 43.6.<br>"
    "The picture puts each view at its angle to the centre (degrees on the sphere) in the main "
    "directions the views take; the dashed ring is the nearest other sentence's angle: views that reach "
    "it blur the sentence into its neighbour."))


def reach_line(gap: float, far: float) -> str:
    """How far the views reach against the nearest other sentence (angles in radians)."""
    if far <= 1e-9:
        return tr("the views sit on the centre (no dropout noise)")
    if gap <= 1e-9 or far >= gap:
        ratio = far / gap if gap > 1e-9 else math.inf
        times = tr("far") if not math.isfinite(ratio) else f"{number(ratio, '{:.3g}')}×"
        return tr("the farthest view lies {times} beyond the nearest other sentence's angle: at this p dropout "
                  "blurs the sentence into its neighbours").format(times=times)
    return tr("the farthest view lies {share} of the way to the nearest other sentence's angle").format(
        share=number(far / gap, "{:.0%}"))


def run_job(req: DropoutRequest) -> tuple[int, DropoutResult | None, str]:
    """(serial, result, failure line) of a request (worker thread); never raises."""
    try:
        return req.serial, run_dropout_job(req), ""
    except Exception as e:  # reported in the panel, never lost
        return req.serial, None, tr("dropout views failed: {error}").format(error=f"{type(e).__name__}: {e}").splitlines()[0]


class DropoutPanel(QWidget):
    """The dropout-view dock panel, for the studio context ``ctx``.

    Signals: ``updated()`` after a result is drawn, ``failed(str)`` when a job fails.
    Public state: ``result`` (the :class:`~app.panels.dropout_job.DropoutResult` shown),
    ``text`` and ``probe_row`` (the sentence), ``p``, ``k``, ``same_mask``, ``seed``,
    ``plot`` (:class:`~app.panels.dropout_plot.DropoutPlot`), ``busy``.
    """

    updated = Signal()
    failed = Signal(str)

    def __init__(self, ctx: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result: DropoutResult | None = None
        self.text = ""
        self.probe_row: int | None = None
        self.seed = 0
        self.stale = True
        self._serial = 0
        self._worker: Any = None
        self._pending: DropoutRequest | None = None
        self._combo_filled = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._due)
        self._build()
        ctx.selection.selected.connect(self._on_selected)
        ctx.view_state.connect("snapshot_index", self._on_snapshot_index)
        ctx.run_model.subscribe(self._on_model)
        self._on_model(ctx.run_model.latest)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Sentence:")))
        self.combo = SentenceCombo(tr("A probe sentence (or click a point in a view)"), self.choose_row)
        top.addWidget(self.combo, 1)
        self.help_button = QToolButton()
        self.help_button.setText("?")
        self.help_button.setCheckable(True)
        self.help_button.setToolTip(tr(HELP_TEXT))
        top.addWidget(self.help_button)
        lay.addLayout(top)
        self.help_label = QLabel(tr(HELP_TEXT))
        self.help_label.setWordWrap(True)
        self.help_label.setTextFormat(Qt.TextFormat.RichText)
        self.help_label.setStyleSheet("QLabel { background: #f6f6ee; border: 1px solid #ddd; padding: 4px; }")
        self.help_label.setVisible(False)
        self.help_button.toggled.connect(self.help_label.setVisible)
        lay.addWidget(self.help_label)
        lay.addLayout(self._p_row())
        lay.addLayout(self._k_row())
        lay.addLayout(self._mask_row())
        self.plot = DropoutPlot()
        lay.addWidget(self.plot, 5)
        self.legend_label = QLabel(tr(
            "<span style='color:{a}'>&#9679;</span> copy A &nbsp; "
            "<span style='color:{b}'>&#9675;</span> copy B (a line joins each pair) &nbsp; "
            "<b>+</b> eval-mode embedding &nbsp; "
            "<span style='color:{near}'>&#10005; - -</span> nearest other sentence").format(a=COLOR_A, b=COLOR_B,
                                                                                            near=COLOR_NEAR))
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        lay.addWidget(self.legend_label)
        self.numbers_label = QLabel()
        self.numbers_label.setTextFormat(Qt.TextFormat.RichText)
        self.numbers_label.setWordWrap(True)
        lay.addWidget(self.numbers_label)
        self.weights_label = QLabel()
        self.weights_label.setWordWrap(True)
        self.weights_label.setStyleSheet("color: #444;")
        lay.addWidget(self.weights_label)
        self.status_label = QLabel(tr("no run shown"))
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet("color: #444;")
        lay.addWidget(self.status_label)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    def _p_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("dropout p:")))
        self.p_slider = QSlider(Qt.Orientation.Horizontal)
        self.p_slider.setRange(0, P_STEPS)
        self.p_slider.setValue(10)
        self.p_slider.setMinimumWidth(60)
        self.p_slider.setToolTip(tr("Dropout probability of every dropout layer (hidden and attention), 0 to 0.5"))
        self.p_slider.valueChanged.connect(self._controls_changed)
        row.addWidget(self.p_slider, 1)
        self.p_label = QLabel()
        row.addWidget(self.p_label)
        return row

    def _k_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("views K:")))
        self.k_spin = QSpinBox()
        self.k_spin.setRange(2, 256)
        self.k_spin.setSingleStep(2)
        self.k_spin.setValue(32)
        self.k_spin.setToolTip(tr("Passes through the encoder: K/2 pairs of copies"))
        self.k_spin.valueChanged.connect(self._controls_changed)
        row.addWidget(self.k_spin)
        self.redraw_button = QPushButton(tr("new masks"))
        self.redraw_button.setToolTip(tr("Draw the views again with other random masks"))
        self.redraw_button.clicked.connect(self.new_masks)
        row.addWidget(self.redraw_button)
        row.addStretch(1)
        self._show_p()
        return row

    def _mask_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.same_box = QCheckBox(tr("same mask for both copies"))
        self.same_box.setToolTip(tr("Give both copies of each pair one dropout mask (SimCSE's \"fixed 0.1\": "
                                 "the positive pair is identical, the loss learns nothing from it)"))
        self.same_box.toggled.connect(self._controls_changed)
        row.addWidget(self.same_box)
        row.addStretch(1)
        return row

    # ------------------------------------------------------------------ controls
    @property
    def p(self) -> float:
        return self.p_slider.value() / 100.0

    @property
    def k(self) -> int:
        return int(self.k_spin.value()) // 2 * 2

    @property
    def same_mask(self) -> bool:
        return self.same_box.isChecked()

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def set_controls(self, p: float | None = None, k: int | None = None, same_mask: bool | None = None) -> None:
        """Set the controls as a person would (one recompute follows)."""
        if p is not None:
            self.p_slider.setValue(int(round(float(p) * 100)))
        if k is not None:
            self.k_spin.setValue(int(k))
        if same_mask is not None:
            self.same_box.setChecked(bool(same_mask))

    def new_masks(self) -> None:
        self.seed += 1
        self.schedule()

    def _show_p(self) -> None:
        self.p_label.setText(f"p = {self.p:.2f}")

    def _controls_changed(self, *_: Any) -> None:
        self._show_p()
        self.schedule()

    # ------------------------------------------------------------------ the sentence
    def _on_model(self, snap: Snapshot | None) -> None:
        if snap is None:  # the run was cleared
            self._serial += 1  # a job under way belongs to the old run
            self._pending = None
            self.result = None
            self.text, self.probe_row = "", None
            self._combo_filled = False
            self.combo.clear()
            self.plot.draw(None)
            self.numbers_label.setText("")
            self.weights_label.setText("")
            self.status_label.setText(tr("no run shown"))
            return
        if not self._combo_filled and self.ctx.run_model.probe_texts:
            self._fill_combo(self.ctx.run_model.probe_texts)
        if self.ctx.view_state.follow_newest:
            self.schedule(LIVE_MS)  # a snapshot a step must not mean a job (and a redraw) a step

    def _fill_combo(self, texts: list[str]) -> None:
        self.combo.fill(enumerate(texts[:COMBO_LIMIT]), self.probe_row)
        self._combo_filled = True
        if not self.text and texts:
            self.choose_row(0, select=False)

    def choose_row(self, row: int, select: bool = True) -> None:
        """Show the probe sentence of ``row`` (``select``: make it the studio's selection)."""
        texts = self.ctx.run_model.probe_texts or []
        if not 0 <= row < len(texts):
            return
        self.text, self.probe_row = texts[row], int(row)
        self.combo.show_key(row)
        ids = self.ctx.run_model.probe_ids
        if select and ids is not None and row < len(ids):
            self.ctx.selection.select(int(ids[row]))
        self.schedule()

    def _on_selected(self, corpus_id: Any) -> None:
        if corpus_id is None:
            return
        row = self.ctx.run_model.probe_row(int(corpus_id))
        texts = self.ctx.run_model.probe_texts or []
        if row is not None and row < len(texts):
            if row != self.probe_row:
                self.choose_row(row, select=False)
            return
        text = self.ctx.sentences(int(corpus_id))  # a sentence outside the probe set: no nearest known
        if text:
            self.text, self.probe_row = text, None
            self.combo.show_key(None)
            self.schedule()

    def _on_snapshot_index(self, _index: int) -> None:
        self.schedule()

    # ------------------------------------------------------------------ jobs
    @property
    def shown(self) -> bool:
        """Whether the panel is on screen (a dock tabified behind another is not)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def schedule(self, wait_ms: int = DEBOUNCE_MS) -> None:
        """Recompute soon (debounced) if shown; else when next shown. A long ``wait_ms``
        (new snapshots) does not postpone a recompute already due sooner; a person's
        change (the default) restarts the short debounce."""
        self.stale = True
        if not self.shown:
            return
        if wait_ms > DEBOUNCE_MS and self._timer.isActive():
            return
        self._timer.start(wait_ms)

    def dock_shown(self, visible: bool) -> None:
        """Its dock came to the front (``QDockWidget.visibilityChanged``): catch up."""
        if visible and self.stale:
            self._timer.start(DEBOUNCE_MS)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        if self.stale:
            self._timer.start(DEBOUNCE_MS)

    def request(self) -> DropoutRequest | None:
        """The job for the current sentence, controls and shown snapshot (GUI thread), or
        None when there is nothing to show."""
        model = self.ctx.run_model
        snap = self.ctx.shown_snapshot()
        if snap is None or not self.text:
            return None
        i = self.ctx.view_state.snapshot_index
        index = len(model.snapshots) - 1 if i < 0 or i >= len(model.snapshots) else i  # as shown_snapshot()
        probe = None
        for j in range(index, -1, -1):  # the newest probe embeddings at or before the shown snapshot
            s = model.snapshots[j]
            probe = s.probe_embeddings if s.probe_embeddings is not None else model.lazy_probe.get(s.step)
            if probe is not None:
                break
        self._serial += 1
        return DropoutRequest(self._serial, self.text, self.probe_row, self.k, self.p, self.same_mask, self.seed,
                              int(snap.step), dict(model.config), model.run_dir,
                              model.last_step if model.finished else None, probe)

    def _due(self) -> None:
        if self.shown:  # still on screen when the debounce ends
            self.compute()

    def compute(self) -> bool:
        """Start the job now (the newest request waits for a running one); False when
        there is nothing to compute."""
        self._timer.stop()
        req = self.request()
        if req is None:
            return False
        self.stale = False
        self.status_label.setText(tr("drawing {k} views at p = {p}…").format(k=req.k, p=f"{req.p:.2f}"))
        if self._worker is not None:
            self._pending = req
            return True
        self._start(req)
        return True

    def _start(self, req: DropoutRequest) -> None:
        self._worker = create_worker(run_job, req, _connect={"returned": self._returned,
                                                             "finished": self._finished})

    def _returned(self, out: tuple[int, DropoutResult | None, str]) -> None:
        serial, result, failure = out
        if serial != self._serial:
            return  # a newer request, or another run
        if result is None:
            self.status_label.setText(failure)
            self.failed.emit(failure)
            return
        self.show_result(result)

    def _finished(self) -> None:
        self._worker = None
        if self._pending is not None:
            req, self._pending = self._pending, None
            self._start(req)

    # ------------------------------------------------------------------ drawing
    def show_result(self, r: DropoutResult) -> None:
        self.result = r
        self.plot.draw(r)
        v = r.views
        masks = tr("one mask per pair (same mask)") if v.same_mask else tr("a mask per copy")
        near = "–"
        if r.nearest_row >= 0:
            texts = self.ctx.run_model.probe_texts or []
            text = texts[r.nearest_row] if r.nearest_row < len(texts) else ""
            near = f"{number(r.nearest_cos, '{:.4f}')} <i>({short(text, 80)})</i>"
        reach = ""
        if r.nearest_row >= 0 and r.xy.shape[0] > v.k:
            reach = "<br>" + reach_line(float(math.hypot(*r.xy[v.k])), float(max(math.hypot(x, y) for x, y in r.xy[: v.k])))
        self.numbers_label.setText(tr(
            "<b>spread</b> (mean cosine of the views to the centre): {spread}<br>"
            "<b>positive pair</b> (mean cosine of a pair's two copies): {pos}<br>"
            "<b>nearest other sentence</b> (cosine at the shown step): {near}").format(
                spread=number(v.spread, "{:.4f}"), pos=number(v.positive_cosine, "{:.4f}"), near=near) + reach)
        notes = [tr("{k} views at p = {p}, {masks}; {weights}").format(k=v.k, p=f"{v.p:.2f}", masks=masks,
                                                                       weights=r.weights.label)]
        if math.isfinite(r.centre_vs_snapshot) and r.centre_vs_snapshot < 0.9999:
            notes.append(tr("these weights embed the sentence at cosine {cos} to the shown step's embedding").format(
                cos=f"{r.centre_vs_snapshot:.4f}"))
        if not v.attention_dropout and v.p > 0:
            notes.append(tr("this model's attention does not go through transformers' attention interface: "
                         "only its hidden dropout is applied"))
        self.weights_label.setText("; ".join(notes))
        self.status_label.setText(tr("sentence: {text}").format(text=short(self.text, 120)))
        self.updated.emit()
