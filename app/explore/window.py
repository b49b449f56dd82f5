"""The explore window: a corpus of up to a million sentences on one map, with search,
neighbours and labelled clusters (issue 16).

Opened from File > Explore a corpus… or ``simcse-studio --explore CORPUS --model MODEL``.
Preparing (read, encode, lay out, index: :func:`simcse_core.explore.prepare`) runs in a
:class:`~app.embedding_tab.job_thread.JobThread` with a progress bar, the time left and
Cancel; a second open of the same corpus and model comes from the cache at once. The
worker keeps the encoder and the index (:class:`~app.explore.session.ExploreSession`);
the window gets plain data.

The map is one image of the part in view (:mod:`app.explore.raster`): every point on its
own while at most :data:`~app.explore.raster.BUDGET` are in view, else a density image
(log counts, the colour of the commonest label); remade, throttled, when the view moves.
Hovering shows the nearest sentence; a click selects it and lists its neighbours;
typed text lists the sentences nearest its meaning and rings them on the map. Clusters
(k-means on the embeddings or HDBSCAN on the map) get keyword labels on the map (more
of them as you zoom in) and a table; choosing a row centres the map on that cluster.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QMainWindow, QProgressBar, QPushButton, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from simcse_core.explore import Progress
from simcse_core.precision import PrecisionChoice

from app.embedding_tab.job_thread import JobThread
from app.explore.map_view import MapView
from app.explore.panels import ARROWS, ChangesPanel, SelectionPanel
from app.explore.raster import PALETTE, Rect
from app.explore.session import Clusters, ExploreSession, ExploreView
from app.i18n import N_, tr

log = logging.getLogger(__name__)

STAGES = {"read": N_("Reading the corpus"), "encode": N_("Encoding sentences"), "layout": N_("Laying out the map"),
          "index": N_("Building the neighbour index"), "compare": N_("Comparing neighbourhoods")}
WHICH = {"before": N_("start model"), "after": N_("trained model")}
COLOUR_NONE, COLOUR_CLUSTERS = "none", "clusters"


def eta_text(seconds: float | None) -> str:
    """``about 3 min left`` (``""`` while unknown)."""
    if seconds is None:
        return ""
    if seconds < 90:
        return tr("about {n} s left").format(n=max(1, int(round(seconds))))
    if seconds < 5400:
        return tr("about {n} min left").format(n=int(round(seconds / 60)))
    return tr("about {n} h left").format(n=f"{seconds / 3600:.1f}")


def legend_html(names: list[str], limit: int = len(PALETTE)) -> str:
    """Colour swatches and names of the first ``limit`` labels (label k is PALETTE[k]);
    the rest share colours, so they are counted, not listed."""
    parts = []
    for k, name in enumerate(names[:limit]):
        r, g, b = (int(v) for v in PALETTE[k % len(PALETTE)])
        parts.append(f'<span style="color: rgb({r},{g},{b})">&#9632;</span>&nbsp;{html.escape(name, quote=False)}')
    if len(names) > limit:
        parts.append(tr("and {n} more").format(n=len(names) - limit))
    return " &nbsp; ".join(parts)


def status_line(v: ExploreView) -> str:
    """The status bar once a corpus is ready: its size, how neighbours are found (with the
    measured recall of an approximate index) and the cache folder."""
    if v.index_kind == "exact":
        search = tr("exact neighbour search")
    else:
        search = tr("approximate neighbour search ({kind}): recall@{k} {recall} against exact search, measured "
                    "on 200 sentences").format(kind=v.index_kind, k=v.recall_k, recall=f"{v.recall:.3f}")
    return tr("{n} sentences · {precision} · {search} · cache {folder}").format(
        n=f"{len(v):,}", precision=precision_text(v.precision), search=search, folder=v.folder)


def precision_text(choice: PrecisionChoice | None) -> str:
    """How the rows were encoded, for the status bar: bfloat16 with its check, or float32."""
    if choice is None or choice.dtype != "bfloat16":
        return tr("encoded in float32")
    if choice.lowest_cosine is None:
        return tr("encoded with bfloat16 products")
    return tr("encoded with bfloat16 products (lowest cosine to float32 {cos} on {n} sentences)").format(
        cos=f"{choice.lowest_cosine:.5f}", n=choice.sample)


class ExploreWindow(QMainWindow):
    """See the module note. ``ready`` is emitted once the corpus is on the map."""

    ready = Signal()
    clustered = Signal()
    results_shown = Signal()
    closed = Signal()

    def __init__(self, corpus: str | Path, model: str = "default", parent: QWidget | None = None,
                 **options: Any) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.setWindowTitle(tr("Explore {corpus}").format(corpus=Path(corpus).name))
        self.resize(1400, 900)
        self.session = ExploreSession(corpus, model, **options)
        self.view: ExploreView | None = None
        self.clusters: Clusters | None = None
        self.selection = np.zeros(0, dtype=np.int64)  # corpus rows selected on the map
        self.exported: tuple[str, int] | None = None
        self.error = ""
        channels = ("prepare", "search", "neighbours", "both", "filter", "cluster", "export")
        self.jobs = JobThread("explore-jobs", channels, self)
        self.jobs.yielded.connect(self._yielded)
        self.jobs.done.connect(self._done)
        self.jobs.failed.connect(self._failed)
        self._build()
        self.jobs.submit("prepare", self.session.prepare, token="prepare")

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        central = QWidget()
        col = QVBoxLayout(central)
        bar = QHBoxLayout()
        self.stage = QLabel(tr("Starting…"))
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.eta = QLabel("")
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        for w, stretch in ((self.stage, 0), (self.progress, 1), (self.eta, 0), (self.cancel_button, 0)):
            bar.addWidget(w, stretch)
        col.addLayout(bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.map = MapView()
        self.map.hovered.connect(self._hovered)
        self.map.point_clicked.connect(self.show_neighbours)
        self.map.region_selected.connect(self.select)
        split.addWidget(self.map)
        side = QTabWidget()
        side.addTab(self._search_tab(), tr("Search"))
        side.addTab(self._cluster_tab(), tr("Clusters"))
        self.selection_panel = SelectionPanel()
        self.selection_panel.export_button.clicked.connect(self._export_dialog)
        self.selection_panel.clear_button.clicked.connect(lambda: self.select(np.zeros(0, dtype=np.int64)))
        side.addTab(self.selection_panel, tr("Selection"))
        self.side = side
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        col.addWidget(split, 1)
        self.hover = QLabel("")
        self.hover.setWordWrap(True)
        self.hover.setFixedHeight(2 * self.hover.fontMetrics().lineSpacing() + 6)  # no jump as sentences change
        col.addWidget(self.hover)
        self.setCentralWidget(central)
        self.statusBar().showMessage(tr("Preparing…"))

    def _search_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        self.query = QLineEdit()
        self.query.setPlaceholderText(tr("Type a sentence: its nearest sentences by meaning"))
        self.query.returnPressed.connect(lambda: self.search(self.query.text()))
        lay.addWidget(self.query)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("colour by")))
        self.colour_by = QComboBox()
        self.colour_by.currentIndexChanged.connect(self._colour_changed)
        row.addWidget(self.colour_by, 1)
        lay.addLayout(row)
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.legend)
        frow = QHBoxLayout()
        frow.addWidget(QLabel(tr("show only")))
        self.filter_column = QComboBox()
        self.filter_column.currentIndexChanged.connect(self._filter_column_changed)
        self.filter_value = QComboBox()
        self.filter_text = QLineEdit()
        self.filter_text.setPlaceholderText(tr("text contains…"))
        self.filter_text.returnPressed.connect(self.apply_filter)
        apply = QPushButton(tr("Filter"))
        apply.clicked.connect(self.apply_filter)
        for wdg in (self.filter_column, self.filter_value):  # two rows: the side panel is narrow
            frow.addWidget(wdg, 1)
        lay.addLayout(frow)
        trow = QHBoxLayout()
        trow.addWidget(self.filter_text, 1)
        trow.addWidget(apply)
        lay.addLayout(trow)
        self.results_title = QLabel("")
        self.results_title.setWordWrap(True)
        lay.addWidget(self.results_title)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.itemActivated.connect(lambda item: self.show_neighbours(int(item.data(Qt.ItemDataRole.UserRole))))
        lay.addWidget(self.results, 1)
        return w

    def _cluster_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        row = QHBoxLayout()
        self.method = QComboBox()
        self.method.addItem(tr("k-means on the embeddings"), "kmeans")
        self.method.addItem(tr("HDBSCAN on the map"), "hdbscan")
        row.addWidget(self.method, 1)
        self.k = QSpinBox()
        self.k.setRange(2, 500)
        self.k.setValue(12)
        self.k.setToolTip(tr("k-means: number of clusters; HDBSCAN: smallest cluster size"))
        row.addWidget(self.k)
        self.cluster_button = QPushButton(tr("Cluster"))
        self.cluster_button.clicked.connect(self.cluster)
        self.cluster_button.setEnabled(False)
        row.addWidget(self.cluster_button)
        lay.addLayout(row)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([tr("sentences"), tr("label"), tr("example")])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.itemSelectionChanged.connect(self._cluster_chosen)
        lay.addWidget(self.table, 1)
        return w

    # ------------------------------------------------------------------ preparing
    def cancel(self) -> None:
        self.session.stop.set()
        self.stage.setText(tr("Stopping after this chunk…"))
        self.cancel_button.setEnabled(False)

    def _yielded(self, channel: str, _token: Any, value: Any) -> None:
        if channel == "export":
            self.statusBar().showMessage(tr("Exporting: neighbours of {done} of {total} sentences").format(
                done=f"{value[0]:,}", total=f"{value[1]:,}"))
            return
        if channel != "prepare" or not isinstance(value, Progress):
            return
        self.stage.setText(tr(STAGES.get(value.stage, value.stage)))
        self.progress.setRange(0, max(1, value.total))
        self.progress.setValue(min(value.done, value.total))
        self.progress.setFormat(f"{value.done:,} / {value.total:,}")
        words = value.note.split()
        which = tr(WHICH[words[0]]) if words and words[0] in WHICH else ""
        note = {"cached": tr("from the cache"), "resumed": tr("resumed")}.get(words[-1] if words else "", "")
        self.eta.setText(" · ".join(t for t in (which, eta_text(value.eta_s), note) if t))

    def _done(self, channel: str, _token: Any, result: Any) -> None:
        if channel == "prepare":
            self._prepared(result)
        elif channel == "search" and result is not None:
            query, ids, sims = result
            self._show_results(tr("Nearest to “{query}”").format(query=query), ids, sims)
        elif channel == "both" and result is not None:
            self._show_both(*result)
        elif channel == "neighbours" and result is not None:
            row, ids, sims = result
            self._show_results(tr("Neighbours of “{sentence}”").format(sentence=self.view.texts[row]), ids, sims,
                               anchor=row)
        elif channel == "cluster" and isinstance(result, Clusters):
            self._clustered(result)
        elif channel == "filter" and result is not None:
            self.map.set_visible(None if result.all() else result)
            self.statusBar().showMessage(tr("{n} of {total} sentences shown").format(
                n=f"{int(result.sum()):,}", total=f"{len(result):,}"))
        elif channel == "export" and result is not None:
            self.exported = result
            self.selection_panel.export_button.setEnabled(bool(self.selection.size))
            self.statusBar().showMessage(tr("{n} sentences exported to {path}").format(n=f"{result[1]:,}",
                                                                                     path=result[0]))

    def _failed(self, channel: str, _token: Any, message: str) -> None:
        self.error = message
        self.statusBar().showMessage(message)
        if channel == "prepare":
            self.stage.setText(tr("Could not prepare the corpus"))
            self.cancel_button.setEnabled(False)
        self.cluster_button.setEnabled(self.view is not None)
        self.selection_panel.export_button.setEnabled(bool(self.selection.size))

    def _prepared(self, view: ExploreView | None) -> None:
        self.cancel_button.setEnabled(False)
        if view is None:
            self.stage.setText(tr("Stopped; what was encoded stays in the cache (open again to resume)"))
            return
        self.view = view
        self.stage.setText(tr("Ready"))
        self.progress.setValue(self.progress.maximum())
        self.eta.setText("")
        self.map.set_points(view.layout)
        firsts = ((self.colour_by, tr("nothing"), COLOUR_NONE), (self.filter_column, tr("any label"), None))
        for combo, first, data in firsts:
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(first, data)
            for name in view.columns:
                combo.addItem(name, name)
            combo.blockSignals(False)
        if view.columns:
            self.colour_by.setCurrentIndex(1)
        self._filter_column_changed(0)
        self.cluster_button.setEnabled(True)
        if view.compared:
            self._add_changes_tab(view)
        self.statusBar().showMessage(self.status_text())
        self.ready.emit()

    def status_text(self) -> str:
        return "" if self.view is None else status_line(self.view)

    # ------------------------------------------------------------------ before and after
    def _add_changes_tab(self, view: ExploreView) -> None:
        """A run folder was opened: arrows from the start to the trained place of the most
        changed sentences, and the Before and after tab (:class:`ChangesPanel`)."""
        self.changes_panel = ChangesPanel(view)
        self.changes_panel.map_chosen.connect(self._which_map_changed)
        self.changes_panel.row_chosen.connect(
            lambda row: self.jobs.submit("both", self.session.neighbours_both, row, 10, token=row))
        self.side.addTab(self.changes_panel, tr("Before and after"))
        top = view.changed_rows[:ARROWS]
        self.map.set_arrows(view.before_layout[top], view.layout[top])

    def _which_map_changed(self, which: str) -> None:
        v = self.view
        if v is not None and v.compared:
            self.map.swap_points(v.before_layout if which == "before" else v.layout)

    def _show_both(self, row: int, before: np.ndarray, after: np.ndarray) -> None:
        """The neighbours of one sentence under the start and the trained model."""
        self.results_title.setText(tr("Neighbours of “{sentence}”").format(sentence=self.view.texts[row]))
        self.results.clear()
        kept = set(before.tolist()) & set(after.tolist())
        for title, ids in ((tr("start model"), before), (tr("trained model"), after)):
            head = QListWidgetItem(title)
            head.setFlags(Qt.ItemFlag.NoItemFlags)
            self.results.addItem(head)
            for i in ids.tolist():
                if i < 0:
                    continue
                item = QListWidgetItem(("= " if i in kept else "  ") + self.view.texts[i])
                item.setData(Qt.ItemDataRole.UserRole, int(i))
                self.results.addItem(item)
        self.map.set_highlight(np.append(after[after >= 0], row))
        self.side.setCurrentIndex(0)
        self.results_shown.emit()

    # ------------------------------------------------------------------ colour, hover
    def _colour_changed(self, _i: int) -> None:
        key = self.colour_by.currentData()
        if self.view is None:
            return
        names: list[str] = []
        if key == COLOUR_CLUSTERS and self.clusters is not None:
            self.map.set_labels(self.clusters.ids, int(self.clusters.ids.max()) + 1)
            by_id = {row["id"]: row["label"] for row in self.clusters.table}
            names = [by_id.get(i, "") for i in range(int(self.clusters.ids.max()) + 1)]
        elif key in self.view.codes:
            names, codes = self.view.codes[key]
            if len(names) > 4 * len(PALETTE):  # colours would repeat too often to mean anything
                self.map.set_labels(None)
                self.legend.setText(tr("{n} values: too many to colour by").format(n=f"{len(names):,}"))
                return
            self.map.set_labels(codes, len(names))
        else:
            self.map.set_labels(None)
        self.legend.setText(legend_html(names))

    def _hovered(self, row: int | None) -> None:
        if row is None or self.view is None:
            self.hover.setText("")
            return
        extra = " · ".join(f"{k}: {v[row]}" for k, v in list(self.view.columns.items())[:3])
        self.hover.setText(f"{self.view.texts[row]}" + (f"   ({extra})" if extra else ""))

    # ------------------------------------------------------------------ search, neighbours
    def search(self, text: str) -> None:
        text = text.strip()
        if text and self.view is not None:
            self.jobs.submit("search", self.session.search_text, text, 20, token=text)

    def show_neighbours(self, row: int) -> None:
        if self.view is not None:
            self.jobs.submit("neighbours", self.session.neighbours, int(row), 20, token=row)

    def _show_results(self, title: str, ids: np.ndarray, sims: np.ndarray, anchor: int | None = None) -> None:
        self.results_title.setText(title)
        self.results.clear()
        for i, s in zip(ids.tolist(), sims.tolist()):
            item = QListWidgetItem(f"{s:.3f}  {self.view.texts[i]}")
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            self.results.addItem(item)
        rows = np.asarray(ids if anchor is None else np.append(ids, anchor), dtype=np.int64)
        self.map.set_highlight(rows)
        self.results_shown.emit()

    # ------------------------------------------------------------------ filter, selection, export
    def _filter_column_changed(self, _i: int) -> None:
        self.filter_value.clear()
        col = self.filter_column.currentData()
        if self.view is None or not col:
            self.filter_value.setEnabled(False)
            return
        self.filter_value.setEnabled(True)
        for v in self.view.codes[col][0][:200]:
            self.filter_value.addItem(v, v)

    def apply_filter(self) -> None:
        if self.view is not None:
            col = self.filter_column.currentData()
            self.jobs.submit("filter", self.session.filter_rows, col, self.filter_value.currentData() if col else None,
                             self.filter_text.text(), token="filter")

    def select(self, rows: np.ndarray, show_tab: bool = True) -> None:
        """Select corpus rows (the map rings them; the Selection tab lists them and, with
        ``show_tab``, comes to the front)."""
        if self.view is None:
            return
        self.selection = np.asarray(rows, dtype=np.int64)
        n = int(self.selection.size)
        self.selection_panel.show_rows(self.view, self.selection)
        self.map.set_highlight(self.selection if n else None)
        if n and show_tab:
            self.side.setCurrentIndex(2)

    def _export_dialog(self) -> None:
        start = str(Path(self.session.corpus).with_name(Path(self.session.corpus).stem + "-selection.csv"))
        path, _f = QFileDialog.getSaveFileName(self, tr("Export the selection"), start,
                                               "CSV (*.csv);;Parquet (*.parquet)")
        if path:
            self.export_selection(path)

    def export_selection(self, path: str) -> None:
        """Write the selected sentences (see :meth:`ExploreSession.export`), in the worker."""
        if self.view is not None and self.selection.size:
            self.selection_panel.export_button.setEnabled(False)
            self.jobs.submit("export", self.session.export, path, self.selection.copy(), self.clusters, token=path)

    # ------------------------------------------------------------------ clusters
    def cluster(self) -> None:
        if self.view is None:
            return
        method = self.method.currentData()
        self.cluster_button.setEnabled(False)
        self.statusBar().showMessage(tr("Clustering…"))
        self.jobs.submit("cluster", self.session.cluster, method, self.k.value(), self.k.value(), token=method)

    def _clustered(self, clusters: Clusters) -> None:
        self.clusters = clusters
        self.cluster_button.setEnabled(True)
        self.table.setRowCount(len(clusters.table))
        xy = self.view.layout
        marks = []
        for r, row in enumerate(clusters.table):
            for c, text in enumerate((f"{row['size']:,}", row["label"], row["examples"][0] if row["examples"] else "")):
                item = QTableWidgetItem(text)
                item.setToolTip("\n".join(row["examples"]) if c == 2 else text)
                item.setData(Qt.ItemDataRole.UserRole, row["id"])
                self.table.setItem(r, c, item)
            centre = np.median(xy[clusters.ids == row["id"]], axis=0)
            marks.append((float(centre[0]), float(centre[1]), row["label"], row["size"]))
        self.table.resizeColumnsToContents()
        self.map.set_cluster_labels(marks)
        if self.colour_by.findData(COLOUR_CLUSTERS) < 0:
            self.colour_by.addItem(tr("clusters"), COLOUR_CLUSTERS)
        self.colour_by.setCurrentIndex(self.colour_by.findData(COLOUR_CLUSTERS))
        self._colour_changed(0)
        self.statusBar().showMessage(self.status_text())
        self.clustered.emit()

    def _cluster_chosen(self) -> None:
        items = self.table.selectedItems()
        if not items or self.clusters is None or self.view is None:
            return
        cid = int(items[0].data(Qt.ItemDataRole.UserRole))
        pts = self.view.layout[self.clusters.ids == cid]
        self.select(np.flatnonzero(self.clusters.ids == cid), show_tab=False)
        if len(pts):
            r = Rect.around(pts, margin=0.2)
            self.map.vb.setRange(QRectF(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0), padding=0)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: Any) -> None:
        """Stop after the running chunk (a large map's UMAP process ends at once)."""
        self.session.stop.set()
        self.jobs.shutdown()
        super().closeEvent(event)
        self.closed.emit()


__all__ = ["ExploreWindow", "eta_text", "legend_html", "status_line"]
