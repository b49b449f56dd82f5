"""Small widgets of the embedding views: the timeline bar, the colour legend and the
"Neighbours" side panel. They hold no data of their own beyond what they show: the
:class:`~app.embedding_tab.tab.EmbeddingTab` writes what a person changes into the
view state and fills them from it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.embedding_tab.geometry import Colouring
from app.i18n import N_, tr


CORPUS_TEXT_ROLE = Qt.ItemDataRole.UserRole + 1  # a search hit outside the probe set: its text
REGION_HINT = N_("On a 2D view: shift + drag selects a rectangle, ctrl + drag a free-hand lasso.")
REGION_TITLE = N_("Region (shift / ctrl + drag on a 2D view)")


class TimelineBar(QWidget):
    """Slider over the run's snapshots, Play/Pause, speed, "follow newest", and the
    UMAP refresh interval. Signals: ``index_changed(int)`` (-1: follow the newest),
    ``umap_every_changed(int)``."""

    index_changed = Signal(int)
    umap_every_changed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.play_button = QPushButton(tr("▶ Play"))
        self.play_button.setCheckable(True)
        self.play_button.setToolTip(tr("animate the run snapshot by snapshot"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.label = QLabel(tr("no snapshots"))
        self.label.setMinimumWidth(190)
        self.follow = QCheckBox(tr("follow newest"))
        self.follow.setChecked(True)
        self.speed = QComboBox()
        self.speed.addItems(["2 /s", "5 /s", "10 /s", "20 /s"])
        self.speed.setCurrentIndex(1)
        self.speed.setToolTip(tr("snapshots a second when playing"))
        self.umap_every = QSpinBox()
        self.umap_every.setRange(1, 1000)
        self.umap_every.setValue(5)
        self.umap_every.setPrefix(tr("UMAP every "))
        self.umap_every.setSuffix(tr(" snapshots"))
        lay.addWidget(self.play_button)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        lay.addWidget(self.follow)
        lay.addWidget(self.speed)
        lay.addWidget(self.umap_every)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.play_button.toggled.connect(self._play_toggled)
        self.slider.valueChanged.connect(self._slider_moved)
        self.follow.toggled.connect(self._follow_toggled)
        self.speed.currentIndexChanged.connect(lambda _i: self._set_interval())
        self.umap_every.valueChanged.connect(self.umap_every_changed.emit)
        self._set_interval()
        self._quiet = False

    @property
    def count(self) -> int:
        return self.slider.maximum() + 1 if self.slider.isEnabled() else 0

    def _set_interval(self) -> None:
        rate = float(self.speed.currentText().split()[0])
        self.timer.setInterval(int(1000 / rate))

    def set_count(self, n: int) -> None:
        """The run now has ``n`` snapshots; when following, the slider jumps to the end."""
        self._quiet = True
        try:
            self.slider.setEnabled(n > 0)
            self.slider.setRange(0, max(0, n - 1))
            if self.follow.isChecked():
                self.slider.setValue(max(0, n - 1))
        finally:
            self._quiet = False

    def set_follow(self, on: bool) -> None:
        """Tick or clear "follow newest" (without emitting)."""
        if self.follow.isChecked() != on:
            self._quiet = True
            try:
                self.follow.setChecked(on)
            finally:
                self._quiet = False

    def set_position(self, index: int, step: int | None, total: int | None) -> None:
        """Show where the views are (without emitting)."""
        self._quiet = True
        try:
            if index >= 0:
                self.slider.setValue(index)
        finally:
            self._quiet = False
        n = self.count
        if step is None or n == 0:
            self.label.setText(tr("no snapshots"))
        else:
            shown = index if index >= 0 else n - 1
            self.label.setText(tr("step {step} / {total}  ({k} of {n})").format(step=f"{step:,}", total=f"{total or 0:,}",
                                                                                 k=shown + 1, n=n))

    def _slider_moved(self, value: int) -> None:
        if self._quiet:
            return
        at_end = value >= self.slider.maximum()
        if not at_end and self.follow.isChecked() and not self.timer.isActive():
            self._quiet = True
            self.follow.setChecked(False)
            self._quiet = False
        self.index_changed.emit(-1 if (at_end and self.follow.isChecked()) else value)

    def _follow_toggled(self, on: bool) -> None:
        if self._quiet:
            return
        if on:
            self.slider.setValue(self.slider.maximum())
            self.index_changed.emit(-1)
        else:  # stay where the views are
            self.index_changed.emit(self.slider.value())

    def _play_toggled(self, on: bool) -> None:
        self.play_button.setText(tr("⏸ Pause") if on else tr("▶ Play"))
        if on:
            if self.slider.value() >= self.slider.maximum():
                self._quiet = True
                self.follow.setChecked(False)
                self._quiet = False
                self.slider.setValue(0)
                self.index_changed.emit(0)
            else:
                self.follow.setChecked(False)
            self.timer.start()
        else:
            self.timer.stop()

    def _tick(self) -> None:
        v = self.slider.value()
        if v >= self.slider.maximum():
            self.play_button.setChecked(False)
            return
        self.slider.setValue(v + 1)


def _swatch(color: str) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(QColor(color))
    return QIcon(pm)


class Legend(QWidget):
    """"Colour by" chooser plus a legend whose entries toggle their group's visibility.
    Signals: ``colour_by_changed(str)``, ``k_changed(int)`` (clusters for k-means),
    ``group_toggled(int, bool)``."""

    colour_by_changed = Signal(str)
    k_changed = Signal(int)
    group_toggled = Signal(int, bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("colour by")))
        self.combo = QComboBox()
        self.combo.addItem("none")
        row.addWidget(self.combo, 1)
        self.k = QSpinBox()
        self.k.setRange(2, 20)
        self.k.setValue(8)
        self.k.setPrefix("k=")
        self.k.setToolTip(tr("clusters for k-means colouring"))
        row.addWidget(self.k)
        lay.addLayout(row)
        self.list = QListWidget()
        self.list.setToolTip(tr("click an entry to hide or show its group"))
        lay.addWidget(self.list, 1)
        self.combo.currentTextChanged.connect(self.colour_by_changed.emit)
        self.k.valueChanged.connect(self.k_changed.emit)
        self.list.itemChanged.connect(self._item_changed)
        self.list.itemClicked.connect(self._item_clicked)
        self._quiet = False

    def set_options(self, columns: list[str]) -> None:
        cur = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(list(columns) + ["k-means", "none"])
        i = self.combo.findText(cur) if cur not in ("", "none") else -1
        self.combo.setCurrentIndex(i if i >= 0 else 0)  # default: the first label column
        self.combo.blockSignals(False)

    def set_colouring(self, c: Colouring, hidden: set[int]) -> None:
        self._quiet = True
        try:
            self.list.clear()
            for g, (name, color) in enumerate(zip(c.names, c.colors)):
                n = c.counts[g] if g < len(c.counts) else 0
                item = QListWidgetItem(_swatch(color), f"{name}  ({n})")
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked if g in hidden else Qt.CheckState.Checked)
                item.setData(Qt.ItemDataRole.UserRole, g)
                self.list.addItem(item)
        finally:
            self._quiet = False

    def toggle(self, group: int) -> None:
        """Flip a group's visibility, as clicking its entry does."""
        item = self.list.item(group)
        if item is not None:
            checked = item.checkState() == Qt.CheckState.Checked
            item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)

    def _item_clicked(self, item: QListWidgetItem) -> None:
        # a click on the label (not the box) toggles too; the box itself fires itemChanged
        pass

    def _item_changed(self, item: QListWidgetItem) -> None:
        if self._quiet:
            return
        self.group_toggled.emit(int(item.data(Qt.ItemDataRole.UserRole)), item.checkState() == Qt.CheckState.Checked)


class NeighbourPanel(QWidget):
    """Search, the selected sentence's nearest neighbours, their drift since step 0,
    the mean kNN-overlap curve and the rectangle-selected sentences.

    Signals: ``row_activated(int)`` (a probe row was clicked in a list),
    ``search_requested(str)``, ``embed_requested(str)``, ``k_changed(int)``."""

    row_activated = Signal(int)
    search_requested = Signal(str)
    embed_requested = Signal(str)
    k_changed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("find a probe sentence, or type one and Embed"))
        self.search.setClearButtonEnabled(True)
        self.embed_button = QPushButton(tr("Embed"))
        self.embed_button.setToolTip(tr("encode the typed sentence with the run's current model and place it (★)"))
        row.addWidget(self.search, 1)
        row.addWidget(self.embed_button)
        lay.addLayout(row)
        self.results = QListWidget()
        self.results.setMaximumHeight(110)
        lay.addWidget(self.results)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555;")
        lay.addWidget(self.status)

        box = QGroupBox(tr("Selected sentence"))
        bl = QVBoxLayout(box)
        self.selected_label = QLabel(tr("click a point (or a search result)"))
        self.selected_label.setWordWrap(True)
        self.positive_label = QLabel("")
        self.positive_label.setWordWrap(True)
        krow = QHBoxLayout()
        k_label = QLabel(tr("nearest neighbours (cosine, full space)"))
        k_label.setWordWrap(True)  # wraps in a narrow dock (1366 px screens) instead of widening it
        krow.addWidget(k_label, 1)
        self.k = QSpinBox()
        self.k.setRange(1, 100)
        self.k.setValue(10)
        self.k.setPrefix("k=")
        krow.addWidget(self.k)
        bl.addWidget(self.selected_label)
        bl.addWidget(self.positive_label)
        bl.addLayout(krow)
        self.neighbours = self._tree(["#", tr("cos"), tr("sentence")])
        bl.addWidget(self.neighbours, 1)
        lay.addWidget(box, 3)

        drift = QGroupBox(tr("Neighbour drift"))
        dl = QGridLayout(drift)
        self.overlap_label = QLabel(tr("overlap@k: –"))
        dl.addWidget(self.overlap_label, 0, 0, 1, 2)
        dl.addWidget(QLabel(tr("at step 0")), 1, 0)
        self.now_label = QLabel(tr("now"))
        dl.addWidget(self.now_label, 1, 1)
        self.first_list = QListWidget()
        self.now_list = QListWidget()
        dl.addWidget(self.first_list, 2, 0)
        dl.addWidget(self.now_list, 2, 1)
        self.drift_plot = pg.PlotWidget()
        self.drift_plot.setMinimumHeight(110)
        self.drift_plot.setMaximumHeight(160)
        pi = self.drift_plot.getPlotItem()
        pi.setTitle(tr("mean kNN overlap@10 with step 0"), size="8pt")
        pi.setLabel("bottom", tr("step"))
        pi.setYRange(0, 1.02)
        pi.hideButtons()
        self.drift_curve = pi.plot([], [], pen=pg.mkPen("#1f77b4", width=1.6), symbol="o", symbolSize=4,
                                   symbolPen=None, symbolBrush="#1f77b4")
        dl.addWidget(self.drift_plot, 3, 0, 1, 2)
        lay.addWidget(drift, 3)

        rbox = QGroupBox(tr(REGION_TITLE))
        rbox.setToolTip(tr(REGION_HINT))
        self.region_box = rbox
        rl = QVBoxLayout(rbox)
        self.region = QListWidget()
        rl.addWidget(self.region)
        lay.addWidget(rbox, 2)

        self.search.returnPressed.connect(lambda: self.search_requested.emit(self.search.text()))
        self.search.textChanged.connect(self.search_requested.emit)
        self.embed_button.clicked.connect(lambda: self.embed_requested.emit(self.search.text()))
        self.k.valueChanged.connect(self.k_changed.emit)
        for w in (self.results, self.region, self.first_list, self.now_list):
            w.itemClicked.connect(self._list_clicked)
        self.neighbours.itemClicked.connect(lambda it, _c: self._row_from(it.data(0, Qt.ItemDataRole.UserRole)))

    @staticmethod
    def _tree(headers: list[str]) -> QTreeWidget:
        t = QTreeWidget()
        t.setHeaderLabels(headers)
        t.setRootIsDecorated(False)
        t.setUniformRowHeights(True)
        t.setColumnWidth(0, 32)
        t.setColumnWidth(1, 52)
        return t

    def _row_from(self, v) -> None:
        if v is not None and int(v) >= 0:
            self.row_activated.emit(int(v))

    def _list_clicked(self, item: QListWidgetItem) -> None:
        text = item.data(CORPUS_TEXT_ROLE)
        if text:  # a corpus sentence outside the probe set: embed it and place it
            self.embed_requested.emit(str(text))
            return
        self._row_from(item.data(Qt.ItemDataRole.UserRole))

    @staticmethod
    def _fill_list(w: QListWidget, rows, texts: list[str], prefix=None) -> None:
        w.clear()
        for i, r in enumerate(rows):
            label = texts[int(r)] if 0 <= int(r) < len(texts) else str(r)
            item = QListWidgetItem((prefix[i] if prefix is not None else "") + label)
            item.setData(Qt.ItemDataRole.UserRole, int(r))
            item.setToolTip(label)
            w.addItem(item)

    # ---------------------------------------------------------------- filled by the controller
    def show_results(self, rows: list[int], texts: list[str], corpus_only: list[str] = ()) -> None:
        """Probe rows found, then corpus sentences outside the probe set (marked ＋;
        clicking one embeds it with the run's model and places it)."""
        self._fill_list(self.results, rows, texts)
        for t in corpus_only:
            item = QListWidgetItem("＋ " + t)
            item.setData(Qt.ItemDataRole.UserRole, -1)
            item.setData(CORPUS_TEXT_ROLE, t)
            item.setToolTip(t + "\n" + tr("(in the corpus, not in the probe set: click to embed it and place it ★)"))
            item.setForeground(QColor("#555555"))
            self.results.addItem(item)

    def show_neighbours(self, rows: np.ndarray, sims: np.ndarray, texts: list[str]) -> None:
        self.neighbours.clear()
        items = []
        for i, (r, s) in enumerate(zip(rows, sims)):
            it = QTreeWidgetItem([str(i + 1), f"{float(s):.3f}", texts[int(r)] if int(r) < len(texts) else str(r)])
            it.setData(0, Qt.ItemDataRole.UserRole, int(r))
            it.setToolTip(2, it.text(2))
            items.append(it)
        self.neighbours.addTopLevelItems(items)

    def neighbour_rows(self) -> list[int]:
        return [int(self.neighbours.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole))
                for i in range(self.neighbours.topLevelItemCount())]

    def neighbour_sims(self) -> list[float]:
        return [float(self.neighbours.topLevelItem(i).text(1)) for i in range(self.neighbours.topLevelItemCount())]

    def show_drift(self, first: np.ndarray, now: np.ndarray, texts: list[str], overlap: float | None,
                   k: int, now_step: int | None) -> None:
        common = set(int(x) for x in first) & set(int(x) for x in now)
        mark = ["= " if int(r) in common else "  " for r in first]
        self._fill_list(self.first_list, first, texts, mark)
        self._fill_list(self.now_list, now, texts, ["= " if int(r) in common else "  " for r in now])
        self.now_label.setText(tr("at step {step}").format(step=f"{now_step:,}") if now_step is not None else tr("now"))
        self.overlap_label.setText(tr("overlap@k: –") if overlap is None else tr(
            "overlap@{k}: {overlap}  (= marks a kept neighbour)").format(k=k, overlap=f"{overlap:.2f}"))

    def show_region(self, rows: np.ndarray, texts: list[str]) -> None:
        self._fill_list(self.region, rows[:5000], texts)
        n = len(rows)
        self.region_box.setTitle((tr("Region: {n} sentences") if n != 1 else tr("Region: 1 sentence")).format(n=f"{n:,}")
                                 + (tr(" (first 5,000 listed)") if n > 5000 else ""))

    def region_rows(self) -> list[int]:
        return [int(self.region.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.region.count())]


def splitter(orientation: Qt.Orientation, *widgets: QWidget) -> QSplitter:
    s = QSplitter(orientation)
    for w in widgets:
        s.addWidget(w)
    s.setChildrenCollapsible(False)
    return s
