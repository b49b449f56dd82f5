"""The points' colours: the colouring shown, the legend groups hidden, and the rows
drawn. Brushes are built once per colouring and shared by every point of a group (the
pyqtgraph symbol cache keys on brush identity)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtGui import QBrush, QColor

from simcse_core.projection import subsample_indices

from app.embedding_tab.geometry import Colouring


class PointColours:
    """``colouring`` (or None), ``hidden`` (group indices), ``max_points`` (above it a
    deterministic subsample is drawn)."""

    def __init__(self, max_points: int) -> None:
        self.max_points = max_points
        self.colouring: Colouring | None = None
        self.hidden: set[int] = set()
        self._brushes = np.zeros(0, dtype=object)  # (groups,) QBrush
        self._rgba = np.zeros((0, 4), dtype=np.float32)  # (groups, 4)
        self._key: Any = None
        self._shown: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def clear(self) -> None:
        self.colouring = None
        self.hidden = set()
        self._key = None

    def set(self, c: Colouring) -> bool:
        """Use colouring ``c``; False when it equals the one in use (nothing to do). The
        hidden groups are kept when the groups are the same."""
        old = self.colouring
        if old is not None and old.name == c.name and old.names == c.names and np.array_equal(old.codes, c.codes):
            return False
        if old is None or old.names != c.names:
            self.hidden = set()
        self.colouring = c
        self._brushes = np.empty(c.n_groups, dtype=object)
        self._brushes[:] = [QBrush(QColor(col)) for col in c.colors]
        self._rgba = np.array([QColor(col).getRgbF() for col in c.colors], dtype=np.float32).reshape(-1, 4)
        self._key = None
        return True

    def set_visible(self, group: int, visible: bool) -> None:
        if visible:
            self.hidden.discard(group)
        else:
            self.hidden.add(group)
        self._key = None

    def shown_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows drawn (M,), their brushes (M,), their RGBA (M, 4)): the subsample minus
        hidden groups. The same arrays while nothing changed (the views then only move
        the points)."""
        c = self.colouring
        P = 0 if c is None else c.codes.shape[0]
        key = (id(c), frozenset(self.hidden), P, self.max_points)
        if key != self._key or self._shown is None:
            if c is None:
                self._shown = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), np.zeros((0, 4), np.float32))
            else:
                rows = subsample_indices(P, self.max_points)
                if self.hidden:
                    rows = rows[~np.isin(c.codes[rows], np.fromiter(self.hidden, dtype=np.int64))]
                codes = c.codes[rows]
                self._shown = (rows, self._brushes[codes], self._rgba[codes])
            self._key = key
        return self._shown
