"""What the batch view draws for one layout, values choice and row order, and the texts
it shows (no Qt): the display image, the names on its axes, the outlined positives,
the false-negative marks, a hovered cell's line and a clicked row's line.

Display row ``i`` is layout row ``rows[i]``; display column ``j`` is layout column
``cols[j]`` (:func:`~simcse_core.batch_matrix.display_order`).
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simcse_core.batch_matrix import ATTRACTED, REMOVED, BatchMatrix, display_order

from app.i18n import tr

VALUES = ("cosine", "logit", "probability", "log-probability")
LOG_FLOOR = -30.0  # the lowest log10 probability the colour scale reaches


@dataclass
class Display:
    """One drawing of a :class:`~simcse_core.batch_matrix.BatchMatrix` (R x C cells)."""

    values: str
    rows: np.ndarray  # (R,) layout row of each display row
    cols: np.ndarray  # (C,) layout column of each display column
    image: np.ndarray  # (R, C) float32, NaN on masked cells
    levels: tuple[float, float]
    label: str  # the colour bar's title
    row_names: list[str]
    col_names: list[str]
    label_names: list[str]  # each display row's label (its positive's layout column)
    outline_cells: np.ndarray  # (R, 2) display (row, col) of each row's positive
    mark_cells: np.ndarray  # (M, 2) display cells the false-negative policy marks
    mark_kinds: np.ndarray  # (M,) 1 removed, 2 attracted

    def layout_cell(self, r: int, c: int) -> tuple[int, int]:
        return int(self.rows[r]), int(self.cols[c])

    def display_row(self, layout_row: int) -> int:
        return int(np.flatnonzero(self.rows == layout_row)[0])


def cell_name(sentence: int, view: int, n: int) -> str:
    """The seed's names: a1, a2, b1, b2, ... (view 3: a hard negative, "ah"); past 26
    sentences the position instead of the letter: s27v1, s27v2, s27h."""
    suffix = "h" if view == 3 else str(view)
    if n <= 26:
        return f"{string.ascii_lowercase[sentence]}{suffix}"
    return f"s{sentence}{'' if view == 3 else 'v'}{suffix}"


def make_display(m: BatchMatrix, sentence_order: np.ndarray, values: str) -> Display:
    """The display of ``m`` with its sentences in ``sentence_order`` and ``values`` one
    of :data:`VALUES`."""
    n = len(sentence_order)
    rows, cols = display_order(sentence_order, m.variant, m.shape[1])
    masked = m.masked[np.ix_(rows, cols)]
    if values == "cosine":
        image, levels, label = m.cos[np.ix_(rows, cols)], (-1.0, 1.0), tr("cosine")
    elif values == "logit":
        image = m.logits[np.ix_(rows, cols)]
        levels, label = (-m.scale, m.scale), tr("logit = cos / t   (scale 1/t = {scale})").format(scale=f"{m.scale:.4g}")
    elif values == "probability":
        image, levels, label = m.probs[np.ix_(rows, cols)], (0.0, 1.0), tr("probability (row softmax at t)")
    elif values == "log-probability":
        with np.errstate(divide="ignore"):
            image = np.log10(m.probs[np.ix_(rows, cols)])
        finite = image[np.isfinite(image) & ~masked]
        low = max(LOG_FLOOR, float(np.floor(np.percentile(finite, 1)))) if finite.size else -8.0
        image = np.maximum(image, low)
        levels, label = (min(low, -1.0), 0.0), tr("log10 probability (row softmax at t)")
    else:
        raise ValueError(f"values: one of {VALUES}, not {values!r}")
    image = np.where(masked, np.float32(np.nan), image).astype(np.float32)
    col_pos = np.empty(len(cols), dtype=np.int64)
    col_pos[cols] = np.arange(len(cols))  # layout column -> display column
    outline = np.stack([np.arange(len(rows)), col_pos[m.labels[rows]]], axis=1)
    mark_cells, mark_kinds = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int8)
    if m.marks is not None:
        shown = m.marks[np.ix_(rows, cols)]
        r, c = np.nonzero((shown == REMOVED) | (shown == ATTRACTED))
        mark_cells, mark_kinds = np.stack([r, c], axis=1), shown[r, c]
    if n <= 26:  # the seed's names fit: "0 a1" beside the rows, "a2" under the columns
        row_names = [f"{r} {cell_name(int(m.row_sentence[r]), int(m.row_view[r]), n)}" for r in rows]
        col_names = [cell_name(int(m.col_sentence[j]), int(m.col_view[j]), n) for j in cols]
    else:  # the layout's indices (the hovered cell's line names the sentence and view)
        row_names, col_names = [str(int(r)) for r in rows], [str(int(c)) for c in cols]
    label_names = [str(int(m.labels[r])) for r in rows]
    return Display(values, rows, cols, image, levels, label, row_names, col_names, label_names, outline,
                   mark_cells, mark_kinds)


def _quote(text: str | None, limit: int = 90) -> str:
    if text is None:
        return tr("(sentence not loaded)")
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def hover_text(m: BatchMatrix, d: Display, ids: np.ndarray, r: int, c: int,
               text_of: Callable[[int], str | None]) -> str:
    """The line for display cell (r, c): both sentences, cosine, logit, probability."""
    lr, lc = d.layout_cell(r, c)
    n = len(ids)
    rs, rv = int(m.row_sentence[lr]), int(m.row_view[lr])
    cs, cv = int(m.col_sentence[lc]), int(m.col_view[lc])
    row = tr("row {i} = {name} (sentence {s}, {view}): {text}").format(
        i=lr, name=cell_name(rs, rv, n), s=rs, view=_view(rv), text=_quote(text_of(int(ids[rs]))))
    col = tr("column {i} = {name} (sentence {s}, {view}): {text}").format(
        i=lc, name=cell_name(cs, cv, n), s=cs, view=_view(cv), text=_quote(text_of(int(ids[cs]))))
    if m.masked[lr, lc]:
        why = tr("itself (the masked diagonal)") if rs == cs and rv == cv else tr("a false negative removed from the softmax")
        nums = tr("masked: {why}; cosine {cos}").format(why=why, cos=_cos_of(m, lr, lc))
    else:
        nums = tr("cosine {cos} · logit {logit} (1/t = {scale}) · probability {p}").format(
            cos=f"{m.cos[lr, lc]:.4f}", logit=f"{m.logits[lr, lc]:.3f}", scale=f"{m.scale:.4g}", p=f"{m.probs[lr, lc]:.4g}")
    tags = []
    if lc == int(m.labels[lr]):
        tags.append(tr("the positive"))
    if m.marks is not None and m.marks[lr, lc] == ATTRACTED:
        tags.append(tr("attracted (counted as a positive)"))
    return "\n".join([row, col, nums + (f" · {', '.join(tags)}" if tags else "")])


def _view(v: int) -> str:
    return tr("its hard negative") if v == 3 else tr("view {v}").format(v=v)


def _cos_of(m: BatchMatrix, lr: int, lc: int) -> str:
    v = float(m.cos[lr, lc])
    return tr("1 (a view against itself)") if math.isnan(v) and m.row_sentence[lr] == m.col_sentence[lc] \
        and m.row_view[lr] == m.col_view[lc] else (tr("not shown") if math.isnan(v) else f"{v:.4f}")


def row_text(m: BatchMatrix, d: Display, ids: np.ndarray, r: int, t_prime: float | None,
             text_of: Callable[[int], str | None]) -> str:
    """The clicked row's line: its sentence, label, and loss at t (and t')."""
    lr = int(d.rows[r])
    n = len(ids)
    s, v = int(m.row_sentence[lr]), int(m.row_view[lr])
    lab = int(m.labels[lr])
    head = (tr("row {i} = {name} (sentence {s}, {view}): {text}").format(
        i=lr, name=cell_name(s, v, n), s=s, view=tr("view {v}").format(v=v), text=_quote(text_of(int(ids[s])), 120))
        + "\n" + tr("label {lab} ({name})").format(lab=lab, name=cell_name(int(m.col_sentence[lab]),
                                                                             int(m.col_view[lab]), n)))
    extra = len(m.positives(lr)) > 1
    what = tr("mean of −log p over its positives") if extra else tr("−log p(label)")
    loss = tr("loss {what} = {loss} at t = {t}").format(what=what, loss=f"{m.row_loss[lr]:.6g}",
                                                         t=f"{m.temperature:.4g}")
    if t_prime is not None and math.isfinite(t_prime):
        loss += tr("; {loss} at the lens's t' = {tp}").format(loss=f"{m.row_cross_entropy(lr, t_prime):.6g}",
                                                              tp=f"{t_prime:.4g}")
    return f"{head} · {loss}"


def batch_text(m: BatchMatrix, step: int, reported: float, loss_variant: str, tau_plus: float,
               trained_layout: str) -> str:
    """The batch line: the mean of the rows' cross-entropies against the trainer's loss."""
    rows = m.shape[0]
    out = tr("step {step}: the mean of the {rows} rows' cross-entropies = {loss}").format(
        step=step, rows=rows, loss=f"{m.loss:.6g}")
    if math.isfinite(reported):
        out += tr(" · the trainer's loss for this batch = {loss} ({loss_variant}").format(
            loss=f"{reported:.6g}", loss_variant=loss_variant)
        if tau_plus > 0:
            out += tr(", tau_plus {tau}: a debiased loss, not this cross-entropy").format(tau=f"{tau_plus:g}")
        elif trained_layout != m.variant:
            out += tr(": the run trains with the {layout} layout, not this one").format(layout=trained_layout)
        out += ")"
    return out


__all__ = ["VALUES", "Display", "batch_text", "cell_name", "hover_text", "make_display", "row_text"]
