"""The "Batch" tab: the last batch's similarity matrix in the layout the engine trains
with, as cosines, logits or row-softmax probabilities; hover a cell for its sentences
and numbers, click a row for its softmax at t and at the lens's t' and its loss.

Layout of the widget: a bar of choices (layout, values, row order) and the batch line
(mean of the rows' cross-entropies against the trainer's loss); the hovered cell's
line; the matrix (:class:`~app.batch_tab.matrix_view.MatrixView`) beside the row's bar
chart (:class:`~app.batch_tab.row_chart.RowChart`), the row's line and a key. The data
come from :class:`~app.batch_tab.feed.BatchFeed`; the numbers from
:mod:`simcse_core.batch_matrix` (through :func:`simcse_core.batch_logits`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from simcse_core.batch_matrix import BatchMatrix

from app.batch_tab.data import BatchShown
from app.batch_tab.display import Display, batch_text, hover_text, make_display, row_text
from app.batch_tab.feed import BatchFeed
from app.batch_tab.matrix_view import ATTRACTED_COLOUR, MASKED_COLOUR, OUTLINE_COLOUR, REMOVED_COLOUR, MatrixView
from app.batch_tab.row_chart import RowChart
from app.i18n import N_, tr

if TYPE_CHECKING:
    from app.shell.context import StudioContext

LAYOUT_CHOICES = (("simcse", N_("N × N: z1 against z2 (simcse, labels 0..N−1)")),
                  ("ntxent", N_("2N × 2N: [a1, a2, b1, b2, …] (ntxent, labels [1, 0, 3, 2, …])")))
VALUE_CHOICES = (("cosine", N_("cosine")), ("logit", N_("logit = cos / t")), ("probability", N_("probability (row softmax)")),
                 ("log-probability", N_("log10 probability")))
WIDE = 1.25  # the matrix beside the row chart when the tab is this much wider than high, else above it
ORDER_CHOICES = (("position", N_("rows by batch position")), ("cluster", N_("rows by cluster")))
HOVER_HELP = N_("Hover a cell for its two sentences and numbers; click a row for its softmax and its loss.")


def _combo(name: str, choices: tuple[tuple[str, str], ...]) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    # the list shows the whole text (a CJK character is about two Latin ones wide)
    box.setMinimumContentsLength(max(sum(2 if ord(c) > 0x2E80 else 1 for c in tr(text)) for _k, text in choices) // 2)
    for key, text in choices:
        box.addItem(tr(text), key)
    return box


def _key(text: str, colour: str, mark: str = "■") -> str:
    return f"<span style='color:{colour}; font-size:14px'>{mark}</span> {text}"


class BatchTab(QWidget):
    """The batch view for the studio context ``ctx``. Signal ``drawn()`` after each
    drawing of the matrix. State for tools and tests: ``shown``
    (:class:`~app.batch_tab.data.BatchShown` or None), ``matrix`` (the shown layout's
    :class:`~simcse_core.batch_matrix.BatchMatrix`), ``display``
    (:class:`~app.batch_tab.display.Display`), ``row`` (the clicked display row),
    ``t_prime`` (the lens's, or None), ``feed``."""

    drawn = Signal()

    def __init__(self, ctx: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchTab")
        self.ctx = ctx
        self.shown: BatchShown | None = None
        self.matrix: BatchMatrix | None = None
        self.display: Display | None = None
        self.row: int | None = None
        self._row_key: tuple[int, int] | None = None  # (sentence, view) of the clicked row
        self.t_prime: float | None = None
        self._chosen_layout: str | None = None  # None: the layout the run trains with
        self._build()
        self.feed = BatchFeed(ctx, self.set_batch, self.isVisible, self._failed, parent=self)
        ctx.sentences.changed.connect(self._draw_row)  # the corpus arrived: the row's sentence

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(3)
        bar = QHBoxLayout()
        self.layout_box = _combo("batchLayout", LAYOUT_CHOICES)
        self.values_box = _combo("batchValues", VALUE_CHOICES)
        self.order_box = _combo("batchOrder", ORDER_CHOICES)
        for box in (self.layout_box, self.values_box, self.order_box):
            bar.addWidget(box)
        bar.addStretch(1)
        self.layout_box.activated.connect(self._layout_chosen)
        self.values_box.currentIndexChanged.connect(lambda _i: self.redraw())
        self.order_box.currentIndexChanged.connect(lambda _i: self.redraw())
        lay.addLayout(bar)
        self.batch_label = QLabel(tr("No batch yet: start a run or open a run folder."))
        self.batch_label.setObjectName("batchLine")
        self.batch_label.setWordWrap(True)
        lay.addWidget(self.batch_label)
        self.hover_label = QLabel(tr(HOVER_HELP))
        self.hover_label.setObjectName("batchHover")
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hover_label.setWordWrap(True)
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.hover_label.setFixedHeight(4 * self.fontMetrics().height() + 4)
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.hover_label)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.view = MatrixView()
        self.view.hovered.connect(self._hovered)
        self.view.clicked.connect(self.select_row)
        self.split.addWidget(self.view)
        self.split.addWidget(self._row_column())
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        lay.addWidget(self.split, 1)
        key = QLabel(" &nbsp; ".join([
            _key(tr("masked: not in the softmax (a view against itself, a removed false negative)"), MASKED_COLOUR),
            _key(tr("each row's positive (its label; outlined once a cell is 3 px: zoom with the wheel)"),
                 OUTLINE_COLOUR, "□"),
            _key(tr("false negative removed (eliminate)"), REMOVED_COLOUR, "✕"),
            _key(tr("false negative counted as a positive (attract)"), ATTRACTED_COLOUR, "●")]))
        key.setObjectName("batchKey")
        key.setWordWrap(True)
        lay.addWidget(key)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        """The square matrix beside the row chart in a wide tab, above it in a narrow one."""
        super().resizeEvent(event)
        wide = self.width() > WIDE * self.split.height()
        want = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.split.orientation() != want:
            self.split.setOrientation(want)
            self.split.setSizes([3000, 1500] if wide else [2600, 1400])

    def _row_column(self) -> QWidget:
        w = QWidget()
        col = QVBoxLayout(w)
        col.setContentsMargins(0, 0, 0, 0)
        self.chart = RowChart()
        self.chart.clear_row(tr("click a row of the matrix"))
        col.addWidget(self.chart, 3)
        self.row_label = QLabel("")
        self.row_label.setObjectName("batchRow")
        self.row_label.setWordWrap(True)
        self.row_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.row_label)
        self.note_label = QLabel("")
        self.note_label.setObjectName("batchNote")
        self.note_label.setWordWrap(True)
        col.addWidget(self.note_label)
        return w

    # ------------------------------------------------------------------ the lens
    def follow_lens(self, lens: Any) -> None:
        """Show each clicked row's softmax at the lens's t' too (``lens.t_prime``, read
        again after each of its ``updated`` signals)."""
        def changed() -> None:
            tp = float(lens.t_prime)
            if tp != self.t_prime:
                self.t_prime = tp
                self._draw_row()

        self.t_prime = float(lens.t_prime)
        lens.updated.connect(changed)

    def set_t_prime(self, t_prime: float | None) -> None:
        self.t_prime = t_prime
        self._draw_row()

    # ------------------------------------------------------------------ data
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        self.feed.shown()

    def set_batch(self, shown: BatchShown | None) -> None:
        """Show a batch (from the feed), or nothing (None: a new run, no batch)."""
        self.shown = shown
        if shown is None:
            self.matrix = self.display = None
            self.row = None
            self.view.clear_matrix()
            self.chart.clear_row(tr("click a row of the matrix"))
            self.batch_label.setText(tr("No batch yet: start a run or open a run folder."))
            self.row_label.setText("")
            self.note_label.setText("")
            self.drawn.emit()
            return
        ntxent = self.layout_box.model().item(1)
        ntxent.setEnabled("ntxent" in shown.matrices)
        self.note_label.setText(shown.note)
        self.redraw()

    def layout_key(self) -> str:
        """The layout shown: the person's choice, else the run's, if the batch has it."""
        want = self._chosen_layout or (self.shown.trained_layout if self.shown else "simcse")
        return want if self.shown is not None and want in self.shown.matrices else "simcse"

    def _layout_chosen(self, index: int) -> None:
        self._chosen_layout = self.layout_box.itemData(index)
        self.redraw()

    def set_choices(self, layout: str | None = None, values: str | None = None, order: str | None = None) -> None:
        """Set the layout / values / order by key (as the boxes would) and redraw."""
        if layout is not None:
            self._chosen_layout = layout
        for box, key in ((self.values_box, values), (self.order_box, order)):
            if key is not None:
                box.blockSignals(True)
                box.setCurrentIndex(box.findData(key))
                box.blockSignals(False)
        self.redraw()

    def redraw(self) -> None:
        """Draw the shown batch with the current choices (cheap: one image update)."""
        shown = self.shown
        if shown is None:
            return
        layout = self.layout_key()
        self.layout_box.blockSignals(True)
        self.layout_box.setCurrentIndex(self.layout_box.findData(layout))
        self.layout_box.blockSignals(False)
        m = shown.matrices[layout]
        order = shown.orders[self.order_box.currentData()]
        d = make_display(m, order, self.values_box.currentData())
        self.matrix, self.display = m, d
        self.view.show_matrix(d.image, d.levels, d.values, d.label, d.row_names, d.col_names, d.label_names,
                              d.outline_cells, d.mark_cells, d.mark_kinds)
        line = batch_text(m, shown.step, shown.reported_loss, shown.loss_variant, shown.tau_plus, shown.trained_layout)
        self.batch_label.setText(f"{line} · N = {shown.n} · t = {m.temperature:.4g} (1/t = {m.scale:.4g})")  # symbols
        self.row = self._row_in(m, d)
        self._draw_row()
        self.drawn.emit()

    def _row_in(self, m: BatchMatrix, d: Display) -> int | None:
        """The display row of the clicked (sentence, view) in this layout (view 2 of the
        simcse layout has no row: its sentence's row)."""
        if self._row_key is None:
            return None
        s, v = self._row_key
        hits = np.flatnonzero((m.row_sentence == s) & ((m.row_view == v) | (m.variant == "simcse")))
        return d.display_row(int(hits[0])) if len(hits) else None

    # ------------------------------------------------------------------ pointer
    def hover_cell(self, r: int, c: int) -> str:
        """The hovered display cell's line (shown above the matrix); "" outside."""
        if self.matrix is None or self.display is None or self.shown is None or r < 0 or c < 0:
            return ""
        return hover_text(self.matrix, self.display, self.shown.ids, r, c, self.ctx.sentences)

    def _hovered(self, r: int, c: int) -> None:
        text = self.hover_cell(r, c)
        self.hover_label.setText(text or tr(HOVER_HELP))

    def select_row(self, r: int | None) -> None:
        """Show display row ``r``'s softmax and loss (None: no row)."""
        if r is None or self.matrix is None or self.display is None:
            self.row, self._row_key = None, None
        else:
            lr = int(self.display.rows[r])
            self.row, self._row_key = r, (int(self.matrix.row_sentence[lr]), int(self.matrix.row_view[lr]))
        self._draw_row()

    def _draw_row(self) -> None:
        m, d, r = self.matrix, self.display, self.row
        self.view.show_selected(r)
        if m is None or d is None or r is None or self.shown is None:
            self.chart.clear_row(tr("click a row of the matrix"))
            self.row_label.setText("")
            return
        lr = int(d.rows[r])
        p_t = m.row_probs(lr)[d.cols]
        tp = self.t_prime if self.t_prime is not None and math.isfinite(self.t_prime) else None
        p_tp = None if tp is None else m.row_probs(lr, tp)[d.cols]
        col_pos = np.empty(len(d.cols), dtype=np.int64)
        col_pos[d.cols] = np.arange(len(d.cols))
        positives = col_pos[m.positives(lr)]
        label_col = int(col_pos[m.labels[lr]])
        extra = positives[positives != label_col]
        tp_text = f", t' = {tp:.4g}" if tp is not None else ""
        title = tr("row {name}: softmax at t = {t}").format(name=d.row_names[r], t=f"{m.temperature:.4g}") + tp_text
        self.chart.show_row(p_t, p_tp, label_col, extra, title)
        self.row_label.setText(row_text(m, d, self.shown.ids, r, tp, self.ctx.sentences))

    def _failed(self, text: str) -> None:
        self.note_label.setText(text)


__all__ = ["BatchTab"]
