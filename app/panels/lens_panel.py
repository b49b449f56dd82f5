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

The panel talks to the rest of the studio only through the shared
:class:`~app.state.selection.Selection` (follows ``selected``; publishes the anchor's
hardest negatives with ``set_edges``) and an optional ``send_live`` callable
(``MainWindow.send_live``) for "Apply t' to training".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
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

T_MIN, T_MAX = 1e-3, 1.0
SLIDER_STEPS = 600  # log10 t' from -3 to 0 in 600 steps (0.5 % apart)
TOP_BARS = 30  # negatives drawn as bars
N_EDGES = 10  # edges to the hardest negatives on the sphere / UMAP views
PROBE_LIMIT = 512  # a probe anchor is scored against its nearest PROBE_LIMIT - 1 probe sentences

COLOR_T = "#1f77b4"
COLOR_TP = "#ff7f0e"

HELP_TEXT = (
    "<b>What the temperature does.</b> Each negative j of anchor i takes a share "
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
    "<i>Apply t' to training</i> changes the running trainer's temperature from its next step."
)


def slider_to_t(value: int) -> float:
    return float(10.0 ** (math.log10(T_MIN) + (math.log10(T_MAX) - math.log10(T_MIN)) * value / SLIDER_STEPS))


def t_to_slider(t: float) -> int:
    t = min(max(float(t), T_MIN), T_MAX)
    frac = (math.log10(t) - math.log10(T_MIN)) / (math.log10(T_MAX) - math.log10(T_MIN))
    return int(round(frac * SLIDER_STEPS))


def _brush(color: str, alpha: int = 255) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def _short(text: str | None, n: int = 90) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class LensPanel(QWidget):
    """The temperature-lens dock panel.

    Signals: ``updated()`` after every recompute (bars, statistics, histograms);
    ``apply_requested(float)`` when "Apply t' to training" is pressed.

    Public state for views and tests: ``t`` (training temperature of the shown data),
    ``t_prime``, ``anchor_id``, ``source`` (``"batch"``, ``"probe"`` or None),
    ``current`` (:class:`~simcse_core.false_negatives.AnchorLens`), ``histograms``
    (:class:`~simcse_core.false_negatives.LensHistograms`), ``last_ms`` (the last
    recompute's wall time).
    """

    updated = Signal()
    apply_requested = Signal(float)

    def __init__(self, selection: Any = None, send_live: Callable[..., bool] | None = None,
                 text_of: Callable[[int], str | None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selection = selection
        self.send_live = send_live
        self.text_of: Callable[[int], str | None] = text_of or (lambda _i: None)
        self.t = 0.05
        self.t_prime = 0.05
        self.anchor_id: int | None = None
        self.source: str | None = None
        self.current: AnchorLens | None = None
        self.histograms: LensHistograms | None = None
        self.last_ms = math.nan
        self._snap_step: int | None = None
        self._batch_sim: np.ndarray | None = None
        self._batch_ids: np.ndarray | None = None
        self._batch_row: dict[int, int] = {}
        self._batch_t = 0.05
        self._probe_emb: np.ndarray | None = None
        self._probe_loader: Callable[[], np.ndarray | None] | None = None
        self._probe_ids: np.ndarray | None = None
        self._probe_row: dict[int, int] = {}
        self._probe_t = 0.05
        self._probe_cache: tuple[int, np.ndarray, np.ndarray, int] | None = None  # (anchor id, row, ids, pos)
        self._explicit = False  # the anchor came from the selection / the list (not a default)
        self._hover_rank: int | None = None

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.recompute)
        self._build()
        if selection is not None:
            selection.selected.connect(self._on_selected)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)

        top = QHBoxLayout()
        top.addWidget(QLabel("Anchor:"))
        self.anchor_combo = QComboBox()
        self.anchor_combo.setToolTip("Pick an anchor among the last batch's sentences (or click a point in a view)")
        self.anchor_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.anchor_combo.setMinimumContentsLength(24)
        self.anchor_combo.activated.connect(self._combo_activated)
        top.addWidget(self.anchor_combo, 1)
        top.addWidget(QLabel("against:"))
        self.source_combo = QComboBox()
        self.source_combo.addItem("last batch", "batch")
        self.source_combo.addItem("probe set", "probe")
        self.source_combo.setToolTip("The anchor's negatives: the other sentences of the last batch (what the loss "
                                     "saw), or the fixed probe set")
        self.source_combo.currentIndexChanged.connect(lambda _i: self._anchor_changed())
        top.addWidget(self.source_combo)
        self.help_button = QToolButton()
        self.help_button.setText("?")
        self.help_button.setCheckable(True)
        self.help_button.setToolTip(HELP_TEXT)
        top.addWidget(self.help_button)
        lay.addLayout(top)

        self.help_label = QLabel(HELP_TEXT)
        self.help_label.setWordWrap(True)
        self.help_label.setTextFormat(Qt.TextFormat.RichText)
        self.help_label.setStyleSheet("QLabel { background: #f6f6ee; border: 1px solid #ddd; padding: 4px; }")
        self.help_label.setVisible(False)
        self.help_button.toggled.connect(self.help_label.setVisible)
        lay.addWidget(self.help_label)

        self.anchor_label = QLabel("no batch yet")
        self.anchor_label.setWordWrap(True)
        lay.addWidget(self.anchor_label)

        srow = QHBoxLayout()
        srow.addWidget(QLabel("t' (log):"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setValue(t_to_slider(self.t_prime))
        self.slider.setToolTip("What-if temperature t', logarithmic from 0.001 to 1")
        self.slider.valueChanged.connect(self._slider_moved)
        srow.addWidget(self.slider, 1)
        self.tp_label = QLabel()
        self.tp_label.setMinimumWidth(70)
        srow.addWidget(self.tp_label)
        self.apply_button = QPushButton("Apply t' to training")
        self.apply_button.setToolTip("Change the running training's temperature to t' from its next step "
                                     "(marked on the loss and temperature curves)")
        self.apply_button.clicked.connect(self.apply_to_training)
        srow.addWidget(self.apply_button)
        lay.addLayout(srow)

        # bars: r_ij at t and at t' for the top negatives
        self.bar_plot = pg.PlotWidget()
        self.bar_plot.setMinimumHeight(170)
        p = self.bar_plot.getPlotItem()
        p.setTitle("share of the push r_ij on each negative (sorted by cosine)", size="9pt")
        p.setLabel("bottom", "negative rank by cosine")
        p.setLabel("left", "r_ij")
        p.showGrid(y=True, alpha=0.25)
        p.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.bars_t = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.4,
                                      brush=_brush(COLOR_T, 200), pen=None, name="r at t")
        self.bars_tp = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.4,
                                       brush=_brush(COLOR_TP, 200), pen=None, name="r at t'")
        p.addItem(self.bars_t)
        p.addItem(self.bars_tp)
        self.cos_curve = p.plot([], [], pen=pg.mkPen("#555555", width=1, style=Qt.PenStyle.DotLine),
                                name="cosine (scaled to max r)")
        self.bar_plot.scene().sigMouseMoved.connect(self._hover)
        lay.addWidget(self.bar_plot, 3)
        self.hover_label = QLabel("hover a bar for the negative's sentence")
        self.hover_label.setWordWrap(True)
        self.hover_label.setStyleSheet("color: #444;")
        lay.addWidget(self.hover_label)

        self.stats_label = QLabel()
        self.stats_label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.stats_label)

        hist = QGridLayout()
        self.hist_top1 = pg.PlotWidget()
        self.hist_eff = pg.PlotWidget()
        self.hist_bars: dict[str, pg.BarGraphItem] = {}
        for w, key, title in ((self.hist_top1, "top1", "batch: largest r_ij per anchor"),
                              (self.hist_eff, "effective", "batch: exp(H) per anchor")):
            w.setMinimumHeight(110)
            pi = w.getPlotItem()
            pi.setTitle(title, size="8pt")
            pi.setLabel("left", "anchors")
            for suffix, color in (("t", COLOR_T), ("tp", COLOR_TP)):
                item = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.1, brush=_brush(color, 150), pen=None)
                pi.addItem(item)
                self.hist_bars[f"{key}_{suffix}"] = item
        hist.addWidget(self.hist_top1, 0, 0)
        hist.addWidget(self.hist_eff, 0, 1)
        lay.addLayout(hist, 2)
        self.hist_label = QLabel()
        self.hist_label.setStyleSheet("color: #444;")
        lay.addWidget(self.hist_label)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._show_tp()

    # ------------------------------------------------------------------ data in
    def clear(self) -> None:
        """Forget the run (a new run starts or another folder is opened)."""
        self._batch_sim = self._batch_ids = None
        self._batch_row = {}
        self._probe_emb = self._probe_ids = None
        self._probe_loader = None
        self._probe_row = {}
        self._probe_cache = None
        self._snap_step = None
        self.anchor_id = None
        self._explicit = False
        self.current = None
        self.histograms = None
        self.source = None
        self.anchor_combo.clear()
        self._draw()
        self.anchor_label.setText("no batch yet")
        if self.selection is not None:
            self.selection.set_edges(None)

    def set_snapshot(self, snap: Snapshot | None, defer: bool = True) -> None:
        """Take the batch (``batch_sim``, ``batch_ids``, ``temperature``) and the probe
        embeddings of a snapshot; the recompute is deferred to the event loop (many
        snapshots in a row cost one recompute) unless ``defer`` is False."""
        if snap is None:
            return
        changed = False
        if snap.batch_sim is not None and snap.batch_ids is not None:
            self._batch_sim = np.ascontiguousarray(snap.batch_sim)
            self._batch_ids = np.asarray(snap.batch_ids, dtype=np.int64)
            self._batch_row = {int(c): r for r, c in enumerate(self._batch_ids)}
            self._batch_t = float(snap.temperature)
            self._snap_step = int(snap.step)
            changed = True
            if not self._explicit:
                self.anchor_id = None  # the default anchor follows the newest batch
            self._fill_combo()
        if snap.probe_embeddings is not None and snap.probe_ids is not None:
            ids = np.asarray(snap.probe_ids, dtype=np.int64)
            emb = snap.probe_embeddings
            self.set_probe(ids, lambda e=emb: e, float(snap.temperature), defer=True)
            changed = True
        if changed:
            if defer:
                self._refresh_timer.start()
            else:
                self.recompute()

    def set_probe(self, ids: np.ndarray, loader: Callable[[], np.ndarray | None], temperature: float,
                  defer: bool = True) -> None:
        """The probe set for probe anchors: corpus ids and a loader of its (P, D)
        embeddings, called only when a probe anchor is shown (a run folder may keep them
        on disk). Rows are re-normalised in float32 (the run model stores float16)."""
        self._probe_ids = np.asarray(ids, dtype=np.int64)
        self._probe_row = {int(c): r for r, c in enumerate(self._probe_ids)}
        self._probe_loader = loader
        self._probe_emb = None
        self._probe_t = float(temperature)
        self._probe_cache = None
        if defer:
            self._refresh_timer.start()

    def _probe_matrix(self) -> np.ndarray | None:
        if self._probe_emb is None and self._probe_loader is not None:
            e = self._probe_loader()
            if e is None:
                return None
            e = np.asarray(e, dtype=np.float32)
            n = np.linalg.norm(e, axis=1, keepdims=True)
            self._probe_emb = e / np.where(n > 0, n, 1.0)
        return self._probe_emb

    def refresh_texts(self) -> None:
        """Sentences became known (the corpus was read): relabel the list."""
        self._fill_combo()
        self._update_anchor_label()

    def _fill_combo(self) -> None:
        ids = self._batch_ids
        combo = self.anchor_combo
        combo.blockSignals(True)
        combo.clear()
        if ids is not None:
            for cid in ids:
                text = self.text_of(int(cid))
                combo.addItem(f"{int(cid)} · {_short(text, 70) or '(text unknown)'}", int(cid))
            if self.anchor_id is not None:
                k = combo.findData(int(self.anchor_id))
                combo.setCurrentIndex(k)
        combo.blockSignals(False)

    # ------------------------------------------------------------------ anchor
    def _on_selected(self, corpus_id: Any) -> None:
        if corpus_id is None:
            return  # keep showing the last anchor
        self.select_anchor(int(corpus_id))

    def _combo_activated(self, index: int) -> None:
        cid = self.anchor_combo.itemData(index)
        if cid is None:
            return
        if self.selection is not None:
            self.selection.select(int(cid))  # comes back through _on_selected
            if self.anchor_id != int(cid):
                self.select_anchor(int(cid))
        else:
            self.select_anchor(int(cid))

    def select_anchor(self, corpus_id: int) -> None:
        """Show ``corpus_id`` (from the batch when it is in it, else from the probe set)."""
        self.anchor_id = int(corpus_id)
        self._explicit = True
        k = self.anchor_combo.findData(self.anchor_id)
        self.anchor_combo.blockSignals(True)
        self.anchor_combo.setCurrentIndex(k)
        self.anchor_combo.blockSignals(False)
        self._anchor_changed()

    def _anchor_changed(self) -> None:
        self._probe_cache = None if self._probe_cache and self._probe_cache[0] != self.anchor_id else self._probe_cache
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
        """Send t' to the running trainer (from its next step)."""
        self.apply_requested.emit(float(self.t_prime))
        if self.send_live is None:
            return False
        return bool(self.send_live(temperature=float(self.t_prime)))

    # ------------------------------------------------------------------ compute
    def _resolve(self) -> tuple[np.ndarray, int, np.ndarray, float, str] | None:
        """(matrix or row, anchor index, column ids, t, source) for the current anchor."""
        want = self.source_combo.currentData()
        aid = self.anchor_id
        in_batch = self._batch_sim is not None and (aid is None or aid in self._batch_row)
        in_probe = self._probe_ids is not None and aid is not None and aid in self._probe_row
        if aid is None and in_batch:
            assert self._batch_ids is not None
            aid = int(self._batch_ids[0])  # a default until something is selected
        if (want == "probe" and in_probe or (not in_batch and in_probe)) and self._probe_matrix() is not None:
            return self._probe_lens_input(int(aid))  # type: ignore[arg-type]
        if in_batch:
            assert self._batch_sim is not None and self._batch_ids is not None
            return self._batch_sim, self._batch_row[int(aid)], self._batch_ids, self._batch_t, "batch"  # type: ignore[index]
        return None

    def _probe_lens_input(self, aid: int) -> tuple[np.ndarray, int, np.ndarray, float, str]:
        c = self._probe_cache
        if c is None or c[0] != aid:
            e = self._probe_matrix()
            assert e is not None and self._probe_ids is not None
            r = self._probe_row[aid]
            row = e @ e[r]
            p = row.shape[0]
            if p > PROBE_LIMIT:
                # the lens on a row is O(P^2) in the engine: keep the nearest PROBE_LIMIT - 1
                others = np.delete(np.arange(p), r)
                near = others[np.argpartition(-row[others], PROBE_LIMIT - 2)[: PROBE_LIMIT - 1]]
                keep = np.concatenate([[r], near])
            else:
                keep = np.arange(p)
            sub = np.ascontiguousarray(row[keep])
            ids = self._probe_ids[keep]
            pos = int(np.flatnonzero(keep == r)[0])
            self._probe_cache = c = (aid, sub, ids, pos)
        return c[1], c[3], c[2], self._probe_t, "probe"

    def recompute(self) -> None:
        """Recompute the lens at (t, t') for the current anchor and redraw."""
        self._refresh_timer.stop()
        t0 = time.perf_counter()
        got = self._resolve()
        if got is None:
            self.current = None
            self.source = None
            self.histograms = None
            self._draw()
            if self.anchor_id is not None:
                self.anchor_label.setText(f"sentence {self.anchor_id} is neither in the last batch nor in the probe set")
            return
        sim, anchor, ids, t, source = got
        self.t, self.source = t, source
        self.current = lens(sim, t, self.t_prime, anchor=anchor, ids=ids)
        if self.anchor_id is None:
            self.anchor_id = self.current.anchor_id
        if self.anchor_id is not None and self.anchor_combo.currentData() != self.anchor_id:
            self.anchor_combo.blockSignals(True)
            self.anchor_combo.setCurrentIndex(self.anchor_combo.findData(int(self.anchor_id)))
            self.anchor_combo.blockSignals(False)
        if self._batch_sim is not None:
            self.histograms = batch_lens_histograms(self._batch_sim, self._batch_t, self.t_prime)
        self.last_ms = (time.perf_counter() - t0) * 1000.0
        self._draw()
        self._publish_edges()
        self.updated.emit()

    # ------------------------------------------------------------------ drawing
    def _draw(self) -> None:
        L = self.current
        if L is None:
            empty = np.zeros(0)
            self.bars_t.setOpts(x=empty, height=empty)
            self.bars_tp.setOpts(x=empty, height=empty)
            self.cos_curve.setData([], [])
            self.stats_label.setText("")
            for item in self.hist_bars.values():
                item.setOpts(x=empty, height=empty)
            self.hist_label.setText("")
            return
        k = min(TOP_BARS, len(L.columns))
        x = np.arange(1, k + 1, dtype=np.float64)
        wt, wtp = L.weight_t[:k], L.weight_tp[:k]
        self.bars_t.setOpts(x=x - 0.2, height=wt, width=0.4)
        self.bars_tp.setOpts(x=x + 0.2, height=wtp, width=0.4)
        top = float(max(wt.max(initial=0.0), wtp.max(initial=0.0))) or 1.0
        cos = L.cosine[:k]
        lo = float(cos.min(initial=0.0))
        span = float(cos.max(initial=1.0)) - lo
        self.cos_curve.setData(x, (cos - lo) / (span if span > 0 else 1.0) * top)
        self.bar_plot.getPlotItem().setXRange(0.3, k + 0.7, padding=0)
        self.bar_plot.getPlotItem().setYRange(0, top * 1.05, padding=0)
        self._update_anchor_label()
        a, b = L.at_t, L.at_tp
        n_neg = len(L.columns)

        def row(name: str, va: float, vb: float, fmt: str = "{:.3g}") -> str:
            return f"<tr><td>{name}</td><td align=right>{fmt.format(va)}</td><td align=right>{fmt.format(vb)}</td></tr>"

        self.stats_label.setText(
            "<table cellspacing=0 cellpadding=1>"
            f"<tr><th></th><th align=right><font color='{COLOR_T}'>t = {a.temperature:.4g}</font></th>"
            f"<th align=right><font color='{COLOR_TP}'>t' = {b.temperature:.4g}</font></th></tr>"
            + row("entropy H of r", a.entropy, b.entropy)
            + row(f"effective negatives exp(H) (of {n_neg})", a.effective, b.effective)
            + row("weight on the top-1 negative", a.top1, b.top1, "{:.1%}")
            + row("weight on the top-5 negatives", a.top5, b.top5, "{:.1%}")
            + row("positive's gradient weight (1 − P_ii)/t", a.pos_grad, b.pos_grad)
            + row("loss −log P_ii", a.loss, b.loss)
            + "</table>")
        h = self.histograms
        if h is None:
            for item in self.hist_bars.values():
                item.setOpts(x=np.zeros(0), height=np.zeros(0))
            self.hist_label.setText("")
            return
        for key, edges, vt, vtp in (("top1", h.top1_edges, h.top1_t, h.top1_tp),
                                    ("effective", h.effective_edges, h.effective_t, h.effective_tp)):
            w = float(edges[1] - edges[0])
            centres = (edges[:-1] + edges[1:]) / 2
            self.hist_bars[f"{key}_t"].setOpts(x=centres - w / 4, height=vt.astype(np.float64), width=w / 2)
            self.hist_bars[f"{key}_tp"].setOpts(x=centres + w / 4, height=vtp.astype(np.float64), width=w / 2)
        self.hist_label.setText(
            f"batch means — largest r: {h.mean_top1_t:.2f} at t, {h.mean_top1_tp:.2f} at t'; "
            f"exp(H): {h.mean_effective_t:.1f} at t, {h.mean_effective_tp:.1f} at t'; "
            f"loss: {h.mean_loss_t:.3f} at t, {h.mean_loss_tp:.3f} at t'")

    def _update_anchor_label(self) -> None:
        L = self.current
        if L is None:
            return
        where = (f"last batch (step {self._snap_step}, {len(L.columns)} negatives)" if self.source == "batch"
                 else f"probe set ({len(L.columns)} nearest negatives)")
        text = self.text_of(int(L.anchor_id)) if L.anchor_id is not None else None
        self.anchor_label.setText(f"<b>anchor {L.anchor_id}</b> against the {where}; positive cosine "
                                  f"{L.positive_cosine:.3f}<br>{_short(text, 160) or '(text unknown)'}")

    def _hover(self, pos: Any) -> None:
        L = self.current
        if L is None:
            return
        vb = self.bar_plot.getPlotItem().vb
        if not self.bar_plot.getPlotItem().sceneBoundingRect().contains(pos):
            return
        x = vb.mapSceneToView(pos).x()
        rank = int(round(x))
        k = min(TOP_BARS, len(L.columns))
        if not 1 <= rank <= k or rank == self._hover_rank:
            return
        self._hover_rank = rank
        self.hover_label.setText(self.describe(rank))
        self.bar_plot.setToolTip(self.describe(rank))

    def describe(self, rank: int) -> str:
        """One line about the negative of the given rank (1-based): ids, cosine, r, text."""
        L = self.current
        if L is None or not 1 <= rank <= len(L.columns):
            return ""
        n = rank - 1
        cid = int(L.ids[n]) if L.ids is not None else int(L.columns[n])
        return (f"#{rank}: sentence {cid}, cosine {L.cosine[n]:.3f}, r at t {L.weight_t[n]:.3g}, "
                f"r at t' {L.weight_tp[n]:.3g} — {_short(self.text_of(cid), 140) or '(text unknown)'}")

    def _publish_edges(self) -> None:
        L = self.current
        if self.selection is None or L is None or L.ids is None or L.anchor_id is None:
            return
        k = min(N_EDGES, len(L.ids))
        self.selection.set_edges(int(L.anchor_id), L.ids[:k].copy(), L.weight_tp[:k].copy())
