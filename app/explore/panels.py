"""Two tabs of the explore window's side panel: the selection and before-and-after.

:class:`SelectionPanel` lists selected sentences (the first :data:`TABLE_ROWS`) with their
label columns and holds Export and Clear; :class:`ChangesPanel` (a run folder opened as the
model) lists the sentences whose neighbourhoods changed most and switches the map between
the start and the trained model. Both only show what the window hands them.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from app.explore.session import ExploreView
from app.i18n import tr

TABLE_ROWS = 500  # sentences listed in a table (all are exported)
ARROWS = 200  # most-changed sentences drawn as arrows from their start to their trained place


def _table(headers: list[str], stretch: int) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    return t


class SelectionPanel(QWidget):
    """The selected sentences, Export… and Clear (the window connects the buttons)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(tr("Shift + drag: a rectangle · Ctrl + drag: a lasso")))
        self.title = QLabel(tr("Nothing selected"))
        lay.addWidget(self.title)
        self.table = _table([tr("sentence")], 0)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.export_button = QPushButton(tr("Export…"))
        self.export_button.setToolTip(tr("CSV or Parquet: each sentence with its columns, map position, cluster and "
                                         "10 nearest neighbours"))
        self.export_button.setEnabled(False)
        self.clear_button = QPushButton(tr("Clear"))
        row.addWidget(self.export_button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        lay.addLayout(row)

    def show_rows(self, view: ExploreView, rows: np.ndarray) -> None:
        """List corpus ``rows`` of ``view`` with its first four label columns."""
        n = int(rows.size)
        self.title.setText(tr("{n} sentences selected").format(n=f"{n:,}") if n else tr("Nothing selected"))
        cols = list(view.columns)[:4]
        self.table.setColumnCount(1 + len(cols))
        self.table.setHorizontalHeaderLabels([tr("sentence"), *cols])
        shown = rows[:TABLE_ROWS]
        self.table.setRowCount(len(shown))
        for r, row in enumerate(shown.tolist()):
            for c, text in enumerate([view.texts[row]] + [view.columns[name][row] for name in cols]):
                item = QTableWidgetItem(str(text))
                item.setToolTip(str(text))
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 1 + len(cols)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.export_button.setEnabled(n > 0)


class ChangesPanel(QWidget):
    """Before and after: ``map_chosen("after" | "before")``, ``row_chosen(corpus row)``."""

    map_chosen = Signal(str)
    row_chosen = Signal(int)

    def __init__(self, view: ExploreView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("map of")))
        self.which_map = QComboBox()
        self.which_map.addItem(tr("trained model"), "after")
        self.which_map.addItem(tr("start model"), "before")
        self.which_map.currentIndexChanged.connect(lambda _i: self.map_chosen.emit(self.which_map.currentData()))
        row.addWidget(self.which_map, 1)
        lay.addLayout(row)
        n = len(view.changed_rows)
        note = QLabel(tr("Sentences whose {k} nearest neighbours changed most between the start and the trained "
                         "model ({n} measured; overlap 1 = the same neighbours). Arrows: the {m} most changed, "
                         "from their place on the start model's map.").format(k=view.k, n=f"{n:,}",
                                                                             m=min(ARROWS, n)))
        note.setWordWrap(True)
        lay.addWidget(note)
        self.table = _table([tr("overlap"), tr("sentence")], 1)
        shown = view.changed_rows[:TABLE_ROWS]
        self.table.setRowCount(len(shown))
        for r, (row_id, ov) in enumerate(zip(shown.tolist(), view.changed_overlap[:TABLE_ROWS].tolist())):
            for c, text in enumerate((f"{ov:.1f}", view.texts[row_id])):
                item = QTableWidgetItem(text)
                item.setToolTip(view.texts[row_id])
                item.setData(Qt.ItemDataRole.UserRole, int(row_id))
                self.table.setItem(r, c, item)
        self.table.resizeColumnToContents(0)
        self.table.itemSelectionChanged.connect(self._chosen)
        lay.addWidget(self.table, 1)

    def _chosen(self) -> None:
        items = self.table.selectedItems()
        if items:
            self.row_chosen.emit(int(items[0].data(Qt.ItemDataRole.UserRole)))


__all__ = ["ARROWS", "ChangesPanel", "SelectionPanel", "TABLE_ROWS"]
