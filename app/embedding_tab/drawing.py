"""Drawing helpers of the embedding tab: the map outlines, and the overlay marks
(selected sentence, neighbours, a highlighted pair, edges, the typed sentence's star)
on the 2D views and the 3D sphere. Data in, widgets updated in place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.embedding_tab.geometry import Frame, place_by_neighbours, place_vector


def lambert_outline() -> list[np.ndarray]:
    """The Lambert azimuthal map's rim and its 45/90/135 degree circles."""
    t = np.linspace(0, 2 * np.pi, 181)
    out = [np.column_stack([2 * np.cos(t), 2 * np.sin(t)])]
    for r in (2 * np.sin(np.radians(a) / 2) for a in (45, 90, 135)):
        out.append(np.column_stack([r * np.cos(t), r * np.sin(t)]))
    return out


def circle_outline() -> list[np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 181)
    return [np.column_stack([np.cos(t), np.sin(t)])]


@dataclass
class Marks:
    """Probe rows to mark: ``selected``, ``neighbours`` (k,), ``pair`` rows, edges from
    ``edge_anchor`` to ``edge_rows`` with ``edge_weights``; ``star``: view -> position."""

    selected: int | None = None
    neighbours: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pair: list[int] = field(default_factory=list)
    edge_anchor: int | None = None
    edge_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    edge_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    star: dict[Any, np.ndarray] = field(default_factory=dict)


def edge_marks(edges: tuple[int, np.ndarray, np.ndarray] | None, rows_of) -> tuple[int | None, np.ndarray, np.ndarray]:
    """(anchor row, target rows, weights) of the selection's edges, keeping the targets
    in the probe set; ``rows_of(ids)`` maps corpus ids to probe rows (-1: not probed)."""
    none = (None, np.zeros(0, dtype=np.int64), np.zeros(0))
    if edges is None:
        return none
    anchor = int(rows_of([edges[0]])[0])
    targets = rows_of(edges[1])
    keep = targets >= 0
    if anchor < 0 or not keep.any():
        return none
    return anchor, targets[keep], np.asarray(edges[2], dtype=np.float64)[keep]


def star_positions(frame: Frame, embedded: dict[str, Any] | None, views: dict[str, Any], gl: bool,
                   layout: np.ndarray | None, raw: bool = False) -> dict[Any, np.ndarray]:
    """Where the typed sentence goes on each view (``views``: hammer, circle, sphere,
    umap widgets; ``raw``: the sphere shows raw directions); also stored in
    ``embedded["placed"]``."""
    e = embedded
    if e is None or e["vec"].shape[0] != frame.basis3[0].shape[0]:
        return {}
    p = place_vector(frame, e["vec"], raw=raw)
    out: dict[Any, np.ndarray] = {views["hammer"]: p["hammer"][None], views["circle"]: p["circle"][None],
                                  views["sphere"]: p["xyz"] if gl else p["lambert"][None]}
    umap_view = views["umap"]
    if layout is not None and e.get("rows") is not None and len(e["rows"]):
        out[umap_view] = place_by_neighbours(layout, e["rows"], e["sims"])[None]
    e["placed"] = {"xyz": p["xyz"], "hammer": p["hammer"], "circle": p["circle"],
                   "umap": out[umap_view][0] if umap_view in out else None}
    return out


def draw_2d_marks(positions: list[tuple[Any, np.ndarray | None]], m: Marks) -> None:
    """Marks on each 2D view at its positions (P, 2) (None: the view shows nothing)."""
    sel, nb, e_rows = m.selected, m.neighbours, m.edge_rows
    for view, pos in positions:
        if pos is None:
            view.set_overlays()
            view.set_edges(None, [], [])
            continue
        view.set_overlays(selected=None if sel is None else pos[sel:sel + 1],
                          neighbours=pos[nb] if nb.size else None,
                          pair=pos[m.pair] if m.pair else None,
                          star=m.star.get(view))
        view.set_edges(None if m.edge_anchor is None else pos[m.edge_anchor], pos[e_rows] if e_rows.size else [],
                       m.edge_weights)


def draw_3d_marks(sphere: Any, xyz: np.ndarray, m: Marks) -> None:
    """The same marks on the GL sphere at ``xyz`` (P, 3)."""
    marks = [(xyz[r], "#ff7f0e", 9.0) for r in m.neighbours]
    if m.selected is not None:
        marks.append((xyz[m.selected], "#000000", 14.0))
    for r in m.pair:
        marks.append((xyz[r], "#e0007a", 16.0))
    if sphere in m.star:
        marks.append((m.star[sphere], "#ffd700", 18.0))
    sphere.set_marks(marks)
    sphere.set_edges(None if m.edge_anchor is None else xyz[m.edge_anchor],
                     xyz[m.edge_rows] if m.edge_rows.size else [], m.edge_weights)
