"""The selected sentence's neighbourhood, for the "Neighbours" panel: its top-k
neighbours by cosine in the full embedding space of the shown snapshot, their drift
since the first snapshot, its dropout positive; or a typed sentence's neighbours.

Computed on the GUI thread (one (P, D) matrix product); no Qt here beyond filling the
:class:`~app.embedding_tab.widgets.NeighbourPanel` handed in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.embedding_tab.geometry import overlap_at_k, top_k
from app.embedding_tab.widgets import NeighbourPanel
from simcse_core.snapshot import Snapshot

from app.i18n import N_, tr

POSITIVE_NOTE = N_("red ring: its dropout positive (the same sentence, second dropout view)")


def esc(s: str) -> str:
    """``s`` escaped for a rich-text label."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def probe_text(texts: list[str] | None, columns: dict[str, list[str]] | None, row: int) -> str:
    """A probe row's text and its label columns (the hover text)."""
    if texts is not None and 0 <= row < len(texts):
        extra = ", ".join(f"{k}: {v[row]}" for k, v in (columns or {}).items() if row < len(v))
        return texts[row] + ("\n" + extra if columns else "")
    return f"probe row {row}"


def positive_text(snap: Snapshot | None, corpus_id: int | None) -> str:
    """The dropout positive: the same sentence's second view. Its cosine when the
    snapshot's last batch holds the sentence (batch_sim's diagonal)."""
    if snap is None or snap.batch_ids is None or snap.batch_sim is None or corpus_id is None:
        return tr(POSITIVE_NOTE)
    hit = np.flatnonzero(np.asarray(snap.batch_ids) == corpus_id)
    if hit.size == 0 or hit[0] >= snap.batch_sim.shape[0]:
        return tr(POSITIVE_NOTE) + tr("; not in the last batch")
    j = int(hit[0])
    return tr(POSITIVE_NOTE) + tr("; in the last batch: positive cosine {cos}").format(cos=f"{float(snap.batch_sim[j, j]):.3f}")


class Neighbourhood:
    """What the panel and the views' overlays show around one sentence.

    - ``selected_row``: the selected probe row, or None.
    - ``rows`` / ``sims``: its (or the typed sentence's) top-k neighbours.
    - ``embedded``: the typed sentence placed with a star: ``text``, ``vec`` (D,),
      ``model`` (label), ``latest`` (shown instead of the selection), and once computed
      ``rows``, ``sims`` and ``placed`` (its positions per view).
    """

    def __init__(self, panel: NeighbourPanel) -> None:
        self.panel = panel
        self.selected_row: int | None = None
        self.embedded: dict[str, Any] | None = None
        self.rows = np.zeros(0, dtype=np.int64)
        self.sims = np.zeros(0, dtype=np.float32)

    def clear(self) -> None:
        self.selected_row = None
        self.embedded = None
        self.rows = np.zeros(0, dtype=np.int64)
        self.sims = np.zeros(0, dtype=np.float32)
        self.panel.show_neighbours(self.rows, self.sims, [])

    def update(self, X: np.ndarray, texts: list[str], selected_text: str, *, X0: np.ndarray | None = None,
               snap: Snapshot | None = None, corpus_id: int | None = None, prefer_selected: bool = False) -> None:
        """Fill the panel from the shown snapshot's embeddings ``X`` (P, D); ``X0``: the
        first snapshot's (for the drift lists), ``snap``: the shown snapshot."""
        row, e, p = self.selected_row, self.embedded, self.panel
        k = p.k.value()
        if row is not None and (prefer_selected or e is None or not e.get("latest")):
            if e is not None:
                e["latest"] = False
            self.rows, self.sims = top_k(X, X[row], k, exclude=row)
            p.selected_label.setText("<b>" + esc(selected_text).replace("\n", "<br>") + "</b>")
            p.positive_label.setText(positive_text(snap, corpus_id))
            p.show_neighbours(self.rows, self.sims, texts)
            if X0 is not None and X0.shape == X.shape:
                rows0, _ = top_k(X0, X0[row], k, exclude=row)
                p.show_drift(rows0, self.rows, texts, overlap_at_k(rows0, self.rows), k,
                             None if snap is None else snap.step)
        elif e is not None and e["vec"].shape[0] == X.shape[1]:
            self.rows, self.sims = top_k(X, e["vec"], k)
            e["rows"], e["sims"] = self.rows, self.sims
            p.selected_label.setText(tr("★ <b>{text}</b> (typed; encoded with {model})").format(text=esc(e["text"]),
                                                                                                   model=esc(e["model"])))
            p.positive_label.setText("")
            p.show_neighbours(self.rows, self.sims, texts)
        else:
            self.rows = np.zeros(0, dtype=np.int64)
            self.sims = np.zeros(0, dtype=np.float32)
            if row is None:
                p.selected_label.setText(tr("click a point (or a search result)"))
                p.positive_label.setText("")
                p.show_neighbours(self.rows, self.sims, texts)
