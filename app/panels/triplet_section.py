"""Metric learning against contrastive learning, in the temperature lens: for the lens's
anchor, the triplet loss on its hardest negative (margin slider) beside InfoNCE over all
its negatives at t', with t' * InfoNCE and its t' -> 0 limit max(0, s_hard - s_pos), the
margin-0 triplet loss. The numbers come from
:func:`simcse_core.metrics.triplet_vs_infonce` on the lens's row (the positive and the
negatives the lens draws)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from simcse_core.false_negatives import AnchorLens
from simcse_core.metrics import TripletVsInfoNCE, triplet_vs_infonce

from app.i18n import N_, tr
from app.panels.lens_plots import number

MARGIN_STEPS = 100  # the slider: margin = value / 100, 0 to 1

TIP = (N_("Triplet loss (metric learning) on the anchor's hardest negative: max(0, m + s_hard − s_pos). "
       "InfoNCE (contrastive) weighs all negatives: −log softmax(s/t')[pos]. As t' → 0, "
       "t'·InfoNCE = t'·log Σ_j exp(s_j/t') − s_pos → max_j s_j − s_pos = max(0, s_hard − s_pos): "
       "the triplet loss with margin 0 (0 ≤ t'·InfoNCE − limit ≤ t'·log N). Move t' down to see it."))


class TripletSection(QFrame):
    """The margin slider and the two losses. ``show_anchor(lens, t')`` recomputes;
    ``current`` is the last :class:`~simcse_core.metrics.TripletVsInfoNCE` (None: no
    anchor). Signal ``changed()`` after each recompute."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setToolTip(tr(TIP))
        self.current: TripletVsInfoNCE | None = None
        self._lens: AnchorLens | None = None
        self._t_prime = 0.05
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.setSpacing(2)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("triplet margin m:")))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, MARGIN_STEPS)
        self.slider.setValue(0)
        self.slider.setMinimumWidth(60)
        self.slider.setToolTip(tr("The triplet loss's margin, 0 to 1 (cosine units)"))
        self.slider.valueChanged.connect(self._recompute)
        row.addWidget(self.slider, 1)
        self.margin_label = QLabel()
        row.addWidget(self.margin_label)
        lay.addLayout(row)
        self.numbers = QLabel()
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        self.numbers.setWordWrap(True)
        lay.addWidget(self.numbers)
        self._recompute()

    @property
    def margin(self) -> float:
        return self.slider.value() / MARGIN_STEPS

    def set_margin(self, margin: float) -> None:
        self.slider.setValue(int(round(float(margin) * MARGIN_STEPS)))

    def show_anchor(self, lens: AnchorLens | None, t_prime: float) -> None:
        self._lens, self._t_prime = lens, float(t_prime)
        self._recompute()

    def _recompute(self, *_: object) -> None:
        self.margin_label.setText(f"m = {self.margin:.2f}")
        L = self._lens
        if L is None or len(L.cosine) == 0:
            self.current = None
            self.numbers.setText(tr("metric vs contrastive: no anchor"))
            self.changed.emit()
            return
        row = np.concatenate([[L.positive_cosine], L.cosine])  # the positive, then the lens's negatives
        c = triplet_vs_infonce(row, 0, self._t_prime, self.margin)
        self.current = c
        f = "{:.4f}"
        self.numbers.setText(tr(
            "<b>triplet</b> on the hardest negative (s_hard {hard}, s_pos {pos}): "
            "max(0, m + s_hard − s_pos) = <b>{triplet}</b><br>"
            "<b>InfoNCE</b> over all {n} negatives at t' = {tp}: <b>{infonce}</b>; t'·InfoNCE = <b>{scaled}</b> "
            "&rarr; {limit} = max(0, s_hard − s_pos) as t' &rarr; 0").format(
                hard=number(c.hardest, f), pos=number(c.positive, f), triplet=number(c.triplet, f), n=len(row) - 1,
                tp=number(c.temperature, "{:.4g}"), infonce=number(c.infonce, "{:.4g}"), scaled=number(c.scaled, f),
                limit=number(c.limit, f)))
        self.changed.emit()
