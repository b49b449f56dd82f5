"""The temperature lens: how the InfoNCE loss spreads its push over one anchor's
negatives at the training temperature t and at a what-if t' (Wang and Liu 2021).

For the selected anchor (a row of the last batch's cross-view cosine matrix, or a
probe sentence against the probe set) the panel draws its ~30 most similar negatives
as two bar series, r_ij at t and at t', with

    r_ij = exp(s_ij / t) / sum over negatives k of exp(s_ik / t),

the anchor's entropy H of r, exp(H), the weight share of the top-1 / top-5
negatives, the positive's gradient weight (1 - P_ii) / t and the loss at both
temperatures, plus batch-wide histograms of every anchor's largest r_ij and exp(H).

Everything comes from :func:`simcse_core.false_negatives.lens` and
:func:`~simcse_core.false_negatives.batch_lens_histograms`, which memoise
``hardness_weights`` per (matrix, temperature): moving the t' slider recomputes one
temperature, clicking another anchor recomputes nothing. No retraining.

The panel talks to the rest of the studio only through its studio context: the shared
:class:`~app.state.selection.Selection` (follows ``selected``; publishes the anchor's
hardest negatives with ``set_edges``), the run model's probe-row map, the sentence
index, and the run controller's ``send_live`` for "Apply t' to training". Its data
lives in :class:`~app.panels.lens_inputs.LensInputs` (no Qt), its plots in
:class:`~app.panels.lens_plots.LensPlots`; under them,
:class:`~app.panels.triplet_section.TripletSection` sets the anchor's triplet loss on
its hardest negative beside its InfoNCE at t' (metric against contrastive learning).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from simcse_core.false_negatives import AnchorLens, LensHistograms, batch_lens_histograms, lens
from simcse_core.snapshot import Snapshot

from app.i18n import N_, tr
from app.panels.lens_inputs import PROBE_LIMIT, LensInputs, ProbeLoader
from app.panels.lens_plots import TOP_BARS, LensPlots, number
from app.widgets.sentence_combo import SentenceCombo, short
from app.panels.triplet_section import TripletSection

if TYPE_CHECKING:
    from app.shell.context import StudioContext

__all__ = ["HELP_TEXT", "N_EDGES", "PROBE_LIMIT", "TOP_BARS", "LensPanel", "slider_to_t", "t_to_slider"]

T_MIN, T_MAX = 1e-3, 1.0
SLIDER_STEPS = 600  # log10 t' from -3 to 0 in 600 steps (0.5 % apart)
N_EDGES = 10  # edges to the hardest negatives on the sphere / UMAP views

HELP_TEXT = (
    N_("<b>What the temperature does.</b> Each negative j of anchor i takes a share "
    "r<sub>ij</sub> = exp(s<sub>ij</sub>/t) / &Sigma;<sub>k</sub> exp(s<sub>ik</sub>/t) of the push "
    "away from the anchor (a Boltzmann distribution over the negatives' cosines).<br>"
    "&bull; <b>t &rarr; 0</b>: all the weight goes to the hardest negative (top-1 share &rarr; 1, "
    "exp(H) &rarr; 1); the loss becomes (1/t)&middot;max(s<sub>max</sub> &minus; s<sub>ii</sub>, 0), "
    "a margin-0 triplet loss on that single negative.<br>"
    "&bull; <b>t &rarr; &infin;</b>: every negative weighs the same, 1/(N&minus;1) (exp(H) &rarr; N&minus;1); "
    "nothing is hard and the loss tends to log N.<br>"
    "&bull; <b>The uniformity-tolerance dilemma</b> (Wang and Liu 2021): a small t spreads the "
    "embeddings uniformly over the sphere but pushes apart semantically similar sentences "
    "(false negatives: paraphrases, duplicates); a large t tolerates them but spreads the space less. "
    "SimCSE trains at t = 0.05.<br>"
    "The slider recomputes r at t' from the cached cosines, without retraining; "
    "<i>Apply t' to training</i> changes the running trainer's temperature from its next step.")
)


def slider_to_t(value: int) -> float:
    return float(10.0 ** (math.log10(T_MIN) + (math.log10(T_MAX) - math.log10(T_MIN)) * value / SLIDER_STEPS))


def t_to_slider(t: float) -> int:
    t = min(max(float(t), T_MIN), T_MAX)
    frac = (math.log10(t) - math.log10(T_MIN)) / (math.log10(T_MAX) - math.log10(T_MIN))
    return int(round(frac * SLIDER_STEPS))



class LensPanel(QWidget):
    """The temperature-lens dock panel, for the studio context ``ctx``.

    Signals: ``updated()`` after every recompute (bars, statistics, histograms);
    ``apply_requested(float)`` when "Apply t' to training" is pressed.

    Public state for views and tests: ``t`` (training temperature of the shown data),
    ``t_prime``, ``anchor_id``, ``source`` (``"batch"``, ``"probe"`` or None),
    ``current`` (:class:`~simcse_core.false_negatives.AnchorLens`), ``histograms``
    (:class:`~simcse_core.false_negatives.LensHistograms`), ``last_ms`` (the last
    recompute's wall time), ``inputs`` (:class:`~app.panels.lens_inputs.LensInputs`),
    ``plots`` (:class:`~app.panels.lens_plots.LensPlots`) and ``triplet``
    (:class:`~app.panels.triplet_section.TripletSection`: the triplet loss on the
    anchor's hardest negative beside InfoNCE at t').
    """

    updated = Signal()
    apply_requested = Signal(float)

    def __init__(self, ctx: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.selection = ctx.selection
        self.text_of = ctx.sentences
        self.inputs = LensInputs(ctx.run_model.probe_row)
        self.t = 0.05
        self.t_prime = 0.05
        self.anchor_id: int | None = None
        self.source: str | None = None
        self.current: AnchorLens | None = None
        self.histograms: LensHistograms | None = None
        self.last_ms = math.nan
        self._explicit = False  # the anchor came from the selection / the list (not a default)
        self.want_source = "batch"  # the person's choice in the "against" box
        self._refresh_timer = QTimer(self)  # many snapshots in a row: one recompute
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.recompute)
        self._build()
        self.selection.selected.connect(self._on_selected)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(self._anchor_row())
        lay.addLayout(self._source_row())
        self.help_label = QLabel(tr(HELP_TEXT))
        self.help_label.setWordWrap(True)
        self.help_label.setTextFormat(Qt.TextFormat.RichText)
        self.help_label.setStyleSheet("QLabel { background: #f6f6ee; border: 1px solid #ddd; padding: 4px; }")
        self.help_label.setVisible(False)
        self.help_button.toggled.connect(self.help_label.setVisible)
        lay.addWidget(self.help_label)
        self.anchor_label = QLabel(tr("no batch yet"))
        self.anchor_label.setWordWrap(True)
        lay.addWidget(self.anchor_label)
        lay.addLayout(self._slider_row())
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.apply_button)
        apply_row.addStretch(1)
        lay.addLayout(apply_row)
        self.plots = LensPlots(self.describe)
        lay.addWidget(self.plots, 5)
        self.triplet = TripletSection()  # the triplet loss beside InfoNCE at t'
        lay.addWidget(self.triplet)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._show_tp()

    def _anchor_row(self) -> QHBoxLayout:
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Anchor:")))
        self.anchor_combo = SentenceCombo(tr("Pick an anchor among the last batch's sentences (or click a point in a "
                                             "view)"), self._combo_chosen)
        top.addWidget(self.anchor_combo, 1)
        self.help_button = QToolButton()
        self.help_button.setText("?")
        self.help_button.setCheckable(True)
        self.help_button.setToolTip(tr(HELP_TEXT))
        top.addWidget(self.help_button)
        return top

    def _source_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("against:")))
        self.source_combo = QComboBox()
        self.source_combo.addItem(tr("last batch"), "batch")
        self.source_combo.addItem(tr("probe set"), "probe")
        self.source_combo.setToolTip(tr("The anchor's negatives: the other sentences of the last batch (what the loss "
                                     "saw), or the fixed probe set. It shows what the lens draws: an anchor that is "
                                     "not in the last batch is drawn against the probe set"))
        self.source_combo.activated.connect(self._source_chosen)
        row.addWidget(self.source_combo, 1)
        return row

    def _slider_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("t' (log):")))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setValue(t_to_slider(self.t_prime))
        self.slider.setToolTip(tr("What-if temperature t', logarithmic from 0.001 to 1"))
        self.slider.setMinimumWidth(60)
        self.slider.valueChanged.connect(self._slider_moved)
        row.addWidget(self.slider, 1)
        self.tp_label = QLabel()
        row.addWidget(self.tp_label)
        self.apply_button = QPushButton(tr("Apply t' to training"))
        self.apply_button.setToolTip(tr("Change the running training's temperature to t' from its next step "
                                     "(marked on the loss and temperature curves)"))
        self.apply_button.clicked.connect(self.apply_to_training)
        return row

    # ------------------------------------------------------------------ data in
    def clear(self) -> None:
        """Forget the run (a new run starts or another folder is opened)."""
        self.inputs.clear()
        self.anchor_id = None
        self._explicit = False
        self.current = None
        self.histograms = None
        self.source = None
        self.anchor_combo.clear()
        self.plots.draw(None, None)
        self.triplet.show_anchor(None, self.t_prime)
        self.anchor_label.setText(tr("no batch yet"))
        self.selection.set_edges(None)

    def set_snapshot(self, snap: Snapshot | None, defer: bool = True) -> None:
        """Take the batch (``batch_sim``, ``batch_ids``, ``temperature``) and the probe
        embeddings of a snapshot; the recompute is deferred to the event loop (many
        snapshots in a row cost one recompute) unless ``defer`` is False."""
        if snap is None:
            return
        changed = self.inputs.set_batch(snap)
        if changed:
            if not self._explicit:
                self.anchor_id = None  # the default anchor follows the newest batch
            self._fill_combo()
        if snap.probe_embeddings is not None and snap.probe_ids is not None:
            emb = snap.probe_embeddings
            self.inputs.set_probe(snap.probe_ids, lambda e=emb: e, float(snap.temperature))
            changed = True
        if not defer:  # asked for now: recompute even when the inputs were already this snapshot's
            self.recompute()
        elif changed:
            self._refresh_timer.start()

    def show_loading(self, step: int) -> None:
        """Say that the batch of ``step`` is being read back from the run folder (the
        lens still shows the previous one until it arrives)."""
        self.anchor_label.setText(tr("reading the batch of step {step} from the run folder…").format(step=step))

    def set_probe(self, ids: np.ndarray, loader: ProbeLoader, temperature: float, defer: bool = True) -> None:
        """The probe set for probe anchors: corpus ids and a loader of its (P, D)
        embeddings, called only when a probe anchor is shown (a run folder may keep them
        on disk)."""
        self.inputs.set_probe(ids, loader, temperature)
        if defer:
            self._refresh_timer.start()

    def refresh_texts(self) -> None:
        """Sentences became known (the corpus was read): relabel the list."""
        self._fill_combo()
        self._update_anchor_label()

    def _fill_combo(self) -> None:
        ids = self.inputs.batch_ids
        items = [] if ids is None else [(int(cid), self.text_of(int(cid))) for cid in ids]
        self.anchor_combo.fill(items, self.anchor_id)

    # ------------------------------------------------------------------ anchor
    def _on_selected(self, corpus_id: Any) -> None:
        if corpus_id is not None:  # None: keep showing the last anchor
            self.select_anchor(int(corpus_id))

    def _combo_chosen(self, cid: int) -> None:
        self.selection.select(int(cid))  # comes back through _on_selected
        if self.anchor_id != int(cid):
            self.select_anchor(int(cid))

    def select_anchor(self, corpus_id: int) -> None:
        """Show ``corpus_id`` (from the batch when it is in it, else from the probe set)."""
        self.anchor_id = int(corpus_id)
        self._explicit = True
        self.anchor_combo.show_key(self.anchor_id)
        self._anchor_changed()

    def _source_chosen(self, index: int) -> None:
        self.want_source = str(self.source_combo.itemData(index))
        self._anchor_changed()

    def set_source(self, source: str) -> None:
        """Prefer ``source`` ("batch" or "probe") for anchors in both, as the "against"
        box does, and recompute."""
        self.want_source = source
        self._show_source(source)
        self._anchor_changed()

    def _show_source(self, source: str | None) -> None:
        """The "against" box shows what is drawn; "last batch" is offered only when the
        anchor is in the batch."""
        combo = self.source_combo
        combo.blockSignals(True)
        in_batch = self.anchor_id is None or self.anchor_id in self.inputs.batch_row
        model = combo.model()
        item = model.item(0) if isinstance(model, QStandardItemModel) else None
        if item is not None:
            item.setEnabled(bool(self.inputs.has_batch and in_batch))
        k = combo.findData(source or self.want_source)
        if k >= 0:
            combo.setCurrentIndex(k)
        combo.blockSignals(False)

    def _anchor_changed(self) -> None:
        self.inputs.forget_anchor(self.anchor_id)
        self.recompute()

    # ------------------------------------------------------------------ t'
    def _slider_moved(self, value: int) -> None:
        self.t_prime = slider_to_t(value)
        self._show_tp()
        self.recompute()

    def set_t_prime(self, t_prime: float) -> None:
        """Set t' exactly (the slider moves to the nearest position) and recompute now."""
        t_prime = min(max(float(t_prime), T_MIN), T_MAX)
        self.slider.blockSignals(True)
        self.slider.setValue(t_to_slider(t_prime))
        self.slider.blockSignals(False)
        self.t_prime = t_prime
        self._show_tp()
        self.recompute()

    def _show_tp(self) -> None:
        self.tp_label.setText(f"t' = {self.t_prime:.4g}")

    def apply_to_training(self) -> bool:
        """Send t' to the running trainer (from its next step); False when none runs."""
        self.apply_requested.emit(float(self.t_prime))
        return bool(self.ctx.runs.send_live(temperature=float(self.t_prime)))

    # ------------------------------------------------------------------ compute
    def recompute(self) -> None:
        """Recompute the lens at (t, t') for the current anchor and redraw."""
        self._refresh_timer.stop()
        t0 = time.perf_counter()
        got = self.inputs.resolve(self.anchor_id, self.want_source)
        if got is None:
            self.current = self.source = self.histograms = None
            self.plots.draw(None, None)
            self.triplet.show_anchor(None, self.t_prime)
            self._publish_edges()
            self._show_source(None)
            if self.anchor_id is not None:
                self.anchor_label.setText(tr("sentence {id} is neither in the last batch nor in the probe set").format(
                    id=self.anchor_id))
            return
        self.t, self.source = got.temperature, got.source
        self.current = lens(got.sim, got.temperature, self.t_prime, anchor=got.anchor, ids=got.ids)
        if self.anchor_id is None:
            self.anchor_id = self.current.anchor_id
        if self.anchor_id is not None and self.anchor_combo.currentData() != self.anchor_id:
            self.anchor_combo.show_key(self.anchor_id)
        inp = self.inputs
        if inp.batch_sim is not None:
            self.histograms = batch_lens_histograms(inp.batch_sim, inp.batch_t, self.t_prime)
        self.last_ms = (time.perf_counter() - t0) * 1000.0
        self.plots.draw(self.current, self.histograms)
        self.triplet.show_anchor(self.current, self.t_prime)
        self._show_source(self.source)
        self._update_anchor_label()
        self._publish_edges()
        self.updated.emit()

    def _update_anchor_label(self) -> None:
        L = self.current
        if L is None:
            return
        where = (tr("last batch (step {step}, {n} negatives)").format(step=self.inputs.step, n=len(L.columns))
                 if self.source == "batch" else tr("probe set ({n} nearest negatives)").format(n=len(L.columns)))
        text = self.text_of(int(L.anchor_id)) if L.anchor_id is not None else None
        who = (tr("<b>anchor {id}</b>") if self._explicit else
               tr("<b>anchor {id}</b> <i>(automatic: the batch's first sentence; click a point or pick "
                  "one to draw its edges on the maps)</i>")).format(id=L.anchor_id)
        self.anchor_label.setText(tr("{who} against the {where}; positive cosine {cos}").format(
            who=who, where=where, cos=number(L.positive_cosine, "{:.3f}")) + f"<br>{short(text, 160) or tr('(text unknown)')}")

    def describe(self, rank: int) -> str:
        """One line about the negative of the given rank (1-based): ids, cosine, r, text."""
        L = self.current
        if L is None or not 1 <= rank <= len(L.columns):
            return ""
        n = rank - 1
        cid = int(L.ids[n]) if L.ids is not None else int(L.columns[n])
        return tr("#{rank}: sentence {id}, cosine {cos}, r at t {r_t}, r at t' {r_tp} — {text}").format(
            rank=rank, id=cid, cos=number(L.cosine[n], "{:.3f}"), r_t=number(L.weight_t[n], "{:.2%}"),
            r_tp=number(L.weight_tp[n], "{:.2%}"), text=short(self.text_of(cid), 140) or tr("(text unknown)"))

    def _publish_edges(self) -> None:
        """Edges to the anchor's hardest negatives on the maps, only for an anchor the
        person chose (an automatic one would draw a bundle nobody asked for)."""
        L = self.current
        if L is None or L.ids is None or L.anchor_id is None or not self._explicit:
            if self.selection.edges is not None:
                self.selection.set_edges(None)
            return
        k = min(N_EDGES, len(L.ids))
        self.selection.set_edges(int(L.anchor_id), L.ids[:k].copy(), L.weight_tp[:k].copy())
