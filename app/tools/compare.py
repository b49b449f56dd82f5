"""Compare runs side by side: overlaid metric curves, embedding maps at the same step
and the neighbour overlap of the probe sentences between runs.

:class:`CompareWindow` opens two or more run folders (or a preset's output folder,
:func:`~simcse_core.presets.read_preset_folder`):

- **Curves** (top): one plot per metric spec marked ``compare`` (loss, alignment,
  uniformity, STS Spearman; :func:`curve_plots`) and the alignment-uniformity trajectory
  (SimCSE paper Figure 2); one colour per run, one legend per plot, a dashed line at the
  shown step.
- **Side by side** (bottom): one 2D view per run (the PCA sphere's Hammer map, the S1
  circle, or UMAP) at the same step. A shared slider runs over the union of the runs'
  snapshot steps; each run shows its snapshot nearest that step. Every run's picture
  is Procrustes-aligned to the first run's, so the same sentence sits in about the same
  place when the runs agree.
- **Neighbour overlap**: for every pair of runs, the mean kNN overlap@10 (cosine,
  full embedding space) of the probe sentences both runs share, at the shown step
  (:func:`simcse_core.projection.mean_knn_overlap`): 1 = the runs agree on every
  sentence's 10 nearest neighbours, about k/P = chance.

Threads: run folders are read in superqt workers (:func:`load_run`, plain data back);
projections and overlaps run in one :class:`~app.embedding_tab.job_thread.JobThread` (the
newest request wins, so scrubbing never queues stale work). Plot items are created once
per run and updated with ``setData``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from simcse_core import metric_specs as MS
from simcse_core.projection import hammer, mean_knn_overlap, procrustes, procrustes_rotation

from app.i18n import N_, language, tr
from app.widgets.plot_title import fit_titles
from app.state.run_model import RunModel
from app.training_tab.plots import make_pen
from app.embedding_tab.job_thread import JobThread
from app.embedding_tab.geometry import PALETTE, build_frame, label_colouring, single_colouring
from app.embedding_tab.map_view import MapView
from app.runs.workers import error_text, read_run_updates

log = logging.getLogger(__name__)

OVERLAP_K = 10
RUN_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
METHODS = {"hammer": N_("Sphere (PCA-3), Hammer map"), "circle": N_("S1 circle (PCA-2)"), "umap": "UMAP",
           "raw": N_("Sphere (raw directions), Hammer map")}
SPHERE_METHODS = ("hammer", "raw")  # shown on the Hammer map of a sphere
TRAJECTORY = ("trajectory", N_("Alignment–uniformity trajectory"), None, "alignment")


def curve_plots() -> list[tuple[str, str, str | None, str]]:
    """The comparison's plots: (key, title, series key or None for the trajectory, y
    label), one per metric spec with ``compare`` (:mod:`simcse_core.metric_specs`),
    then the alignment-uniformity trajectory."""
    plots = [(s.key, s.compare_title or s.title or s.label or s.key, s.key, s.axis or s.label or s.key)
             for s in MS.compare_specs()]
    return plots + [TRAJECTORY]


# ---------------------------------------------------------------------- data (no Qt)
@dataclass
class ComparedRun:
    """One opened run: its label, folder, colour and a filled :class:`RunModel`."""

    label: str
    path: str
    model: RunModel
    color: str = "#1f77b4"
    state: str = ""
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # steps with probe embeddings
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # their snapshot indices

    def nearest(self, step: int) -> int | None:
        """Index (into ``model.snapshots``) of the snapshot with probe embeddings nearest
        ``step`` (ties: the earlier one); None when the run has none."""
        if self.steps.size == 0:
            return None
        j = int(np.argmin(np.abs(self.steps - int(step))))
        return int(self.indices[j])


def load_run(path: str | Path, label: str | None = None, state: str = "") -> ComparedRun:
    """Read a whole run folder into a :class:`ComparedRun` (run in a worker; raises
    :class:`~simcse_core.errors.SimCSEError` with a one-line message)."""
    from simcse_core.runs import RunReader

    reader = RunReader(path)
    upd = read_run_updates(reader, with_probe=True, with_config=True)
    model = RunModel()
    model.clear(run_dir=str(path), config=upd.config)
    if upd.probe:
        model.set_probe(upd.probe.get("texts"), upd.probe.get("columns"))
    for step in upd.lazy_steps:
        model.lazy_probe[step] = lambda r=reader, s=step: r.load_arrays(s).get("probe_embeddings")
    for s in upd.snapshots:
        model.add(s)
    if model.probe_ids is None and upd.probe and upd.probe.get("ids") is not None:
        model.probe_ids = np.asarray(upd.probe["ids"], dtype=np.int64)
    idx = np.array(model.probe_indices(), dtype=np.int64)
    steps = model.snapshots.steps(idx)
    return ComparedRun(label or Path(path).name, str(path), model, state=state, steps=steps, indices=idx)


def load_runs(items: list[tuple[str, str | None, str]]) -> list[ComparedRun]:
    """:func:`load_run` for each (path, label, state)."""
    return [load_run(p, lab, st) for p, lab, st in items]


def preset_items(folder: str | Path) -> tuple[str, list[tuple[str, str | None, str]]]:
    """(preset title, [(run folder, label, state)]) of a preset's output folder; runs
    that never started (no metrics) are left out."""
    from simcse_core.presets import read_preset_folder

    preset, runs = read_preset_folder(folder)
    items = [(str(p), label, state) for label, p, state in runs if (p / "metrics.jsonl").is_file()]
    return preset.title_in(language()), items


def shared_rows(ids_a: np.ndarray, ids_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of two probe sets holding the same corpus ids, in the same order."""
    _, ia, ib = np.intersect1d(np.asarray(ids_a), np.asarray(ids_b), assume_unique=False, return_indices=True)
    return ia.astype(np.int64), ib.astype(np.int64)


def run_overlap(XA: np.ndarray, ids_a: np.ndarray, XB: np.ndarray, ids_b: np.ndarray, k: int = OVERLAP_K) -> float:
    """Mean kNN overlap@k between two runs' embeddings of the probe sentences they share
    (NaN when they share fewer than k + 1)."""
    ia, ib = shared_rows(ids_a, ids_b)
    if ia.size <= k:
        return math.nan
    return mean_knn_overlap(XA[ia], XB[ib], k=k)


def align_to_first(pos: list[np.ndarray | None], ids: list[np.ndarray | None], method: str) -> None:
    """Align every run's positions to the first run's on their shared sentences, in
    place. UMAP layouts: rotation, scale and translation. Sphere (P, 3) and circle
    (P, 2) unit vectors: a rotation only, so they stay on the sphere or circle (and a
    sphere's Hammer map inside its ellipse)."""
    if not pos or pos[0] is None or ids[0] is None:
        return
    for r in range(1, len(pos)):
        p = pos[r]
        if p is None or ids[r] is None:
            continue
        ia, ib = shared_rows(ids[0], ids[r])
        if ib.size < 3:
            continue
        if method == "umap":
            _, R, s, t = procrustes(p[ib], pos[0][ia], scale=True)
            pos[r] = s * (p @ R) + t
        else:
            _, R = procrustes_rotation(p[ib], pos[0][ia])
            pos[r] = p @ R


def _positions_job(models: list[RunModel], indices: list[int | None], method: str, prev: list[Any],
                   trackers: list[Any]) -> dict[str, Any]:
    """For each run: its 2D positions (P, 2) at the snapshot ``indices[i]`` (aligned to
    the first run's where the probe ids match, and to its own previous picture), and
    the pairwise neighbour overlap. Runs in the job thread; plain data back."""
    X = [None if i is None else m.probe_matrix(i) for m, i in zip(models, indices)]
    ids = [m.probe_ids for m in models]
    pos: list[np.ndarray | None] = []
    frames: list[Any] = []
    for r, (m, i, Xi) in enumerate(zip(models, indices, X)):
        if Xi is None:
            pos.append(None)
            frames.append(None)
            continue
        if method == "umap":
            xy = trackers[r].update(Xi).astype(np.float64)
            frames.append(xy)
        else:
            ref = prev[r] if prev[r] is not None and prev[r].xyz.shape[0] == Xi.shape[0] else None
            f = build_frame(i, m.snapshots[i].step, Xi, ref)
            frames.append(f)
            xy = np.asarray(f.xyz if method == "hammer" else f.raw_xyz if method == "raw" else f.circle,
                            dtype=np.float64)
        pos.append(xy)
    align_to_first(pos, ids, method)
    if method in SPHERE_METHODS:
        pos = [None if p is None else hammer(p) for p in pos]
    n = len(models)
    overlap = np.full((n, n), np.nan)
    for a in range(n):
        if X[a] is not None:
            overlap[a, a] = 1.0
        for b in range(a + 1, n):
            if X[a] is None or X[b] is None or ids[a] is None or ids[b] is None:
                continue
            overlap[a, b] = overlap[b, a] = run_overlap(X[a], ids[a], X[b], ids[b], OVERLAP_K)
    return {"pos": [None if p is None else p.astype(np.float32) for p in pos], "frames": frames,
            "overlap": overlap, "indices": list(indices)}


# ---------------------------------------------------------------------- curves
class CompareCurves(pg.GraphicsLayoutWidget):
    """The :func:`curve_plots` (the compared metrics and the trajectory), one curve per
    run; ``plots``, ``curves``, ``legends`` and ``step_lines`` are keyed by plot key."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setMinimumSize(400, 220)
        self.plots: dict[str, pg.PlotItem] = {}
        self.legends: dict[str, pg.LegendItem] = {}
        self.curves: dict[str, list[pg.PlotDataItem]] = {}
        self.step_lines: dict[str, pg.InfiniteLine] = {}
        self.markers: pg.ScatterPlotItem | None = None
        self.layout_plots = curve_plots()  # read once a window: a spec added at run time shows in the next one
        self.titles: dict[str, str] = {}
        self.notes: dict[str, pg.TextItem] = {}  # in a plot none of the runs has data for: why it is empty
        for n, (key, title, _series, ylabel) in enumerate(self.layout_plots):
            title, ylabel = tr(title), tr(ylabel)
            p = self.ci.addPlot(row=0, col=n)
            fit_titles(p)
            p.setTitle(title, size="10pt")
            self.titles[key] = title
            p.showGrid(x=True, y=True, alpha=0.25)
            p.setLabel("bottom", tr("uniformity") if key == "trajectory" else tr("step"))
            p.setLabel("left", ylabel)
            self.legends[key] = p.addLegend(offset=(-5, 5), labelTextSize="8pt")
            self.plots[key] = p
            self.curves[key] = []
            note = pg.TextItem(tr("not in these runs"), color="#666666", anchor=(0.5, 0.5))
            note.setPos(0.5, 0.5)  # the middle of an empty plot's default range
            note.hide()
            p.addItem(note, ignoreBounds=True)
            self.notes[key] = note
            if key != "trajectory":
                line = pg.InfiniteLine(pos=0, angle=90, pen=make_pen("#555555", 1.0, Qt.PenStyle.DashLine), movable=False)
                line.hide()
                p.addItem(line, ignoreBounds=True)
                self.step_lines[key] = line
        self.markers = pg.ScatterPlotItem(size=13, pen=make_pen("#000000", 1.5), pxMode=True)
        self.plots["trajectory"].addItem(self.markers)

    def set_runs(self, runs: list[ComparedRun]) -> None:
        """One curve per run in each plot (items rebuilt only when the runs change)."""
        for key, _title, series, _y in self.layout_plots:
            p = self.plots[key]
            for item in self.curves[key]:
                p.removeItem(item)
            self.legends[key].clear()
            items = []
            for run in runs:
                kw = {"symbol": "o", "symbolSize": 5, "symbolPen": None, "symbolBrush": pg.mkBrush(run.color)}
                item = p.plot([], [], pen=make_pen(run.color, 2.0), name=run.label, **kw)
                m = run.model
                if series is None:
                    item.setData(m.trajectory.x, m.trajectory.y)
                elif series in m.series:
                    s = m.series[series]
                    item.setData(s.x, s.y)
                items.append(item)
            self.curves[key] = items
            if series is not None:  # a metric none of the runs measured (e.g. no STS file): said inside the plot
                has_data = any(series in r.model.series and len(r.model.series[series]) for r in runs)
                self.notes[key].setVisible(bool(runs) and not has_data)

    def show_step(self, step: int | None, runs: list[ComparedRun], shown: list[int | None]) -> None:
        for line in self.step_lines.values():
            if step is None:
                line.hide()
            else:
                line.setValue(step)
                line.show()
        xs, ys, brushes = [], [], []
        for run, idx in zip(runs, shown):
            if idx is None:
                continue
            sc = run.model.snapshots[idx].scalars
            a, u = sc.get("alignment"), sc.get("uniformity")
            if a is not None and u is not None and math.isfinite(float(a)) and math.isfinite(float(u)):
                xs.append(float(u))
                ys.append(float(a))
                brushes.append(pg.mkBrush(run.color))
        self.markers.setData(x=xs, y=ys, brush=brushes)


# ---------------------------------------------------------------------- overlap panel
class OverlapPanel(QWidget):
    """The neighbour-overlap side panel: a run x run table of mean kNN overlap@k, a
    one-line reading of it, and the window's status line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMaximumWidth(420)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # numbers are never elided: columns as wide as their text, headed by the runs'
        # numbers (the rows carry the labels), scrolled when many runs do not fit
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.label = QLabel(tr("Neighbour overlap@{k} between runs (shared probe sentences)").format(k=OVERLAP_K))
        self.label.setWordWrap(True)
        self.key = QLabel("")  # run number -> label
        self.key.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555;")
        side = QVBoxLayout(self)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.label)
        side.addWidget(self.table, 1)
        side.addWidget(self.key)
        side.addWidget(self.status)

    def set_runs(self, labels: list[str]) -> None:
        """An empty n x n table headed by the runs' numbers (each label in its header's
        tooltip and in the key under the table)."""
        n = len(labels)
        self.table.setRowCount(n)
        self.table.setColumnCount(n)
        for i, lab in enumerate(labels):
            for set_item in (self.table.setHorizontalHeaderItem, self.table.setVerticalHeaderItem):
                item = QTableWidgetItem(str(i + 1))
                item.setToolTip(lab)
                set_item(i, item)
        self.key.setText("  ·  ".join(f"<b>{i + 1}</b>&nbsp;{lab}" for i, lab in enumerate(labels)))

    def show_overlap(self, overlap: np.ndarray, labels: list[str], step: int | None) -> None:
        """Fill the table (shaded by overlap) and the reading line for ``step``."""
        n = len(labels)
        for a in range(n):
            for b in range(n):
                v = overlap[a, b] if overlap.shape == (n, n) else math.nan
                item = QTableWidgetItem("–" if not math.isfinite(v) else f"{v:.3f}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if math.isfinite(v) and a != b:
                    shade = int(255 - 120 * v)
                    item.setBackground(QBrush(QColor(shade, 255, shade)))
                self.table.setItem(a, b, item)
        at = f"{step:,}" if step is not None else "–"
        if n == 2 and overlap.shape == (2, 2) and math.isfinite(overlap[0, 1]):
            self.label.setText(tr("Neighbour overlap@{k} between {a} and {b} at step {step}: <b>{overlap}</b> (1 = the "
                                  "same 10 nearest neighbours for every shared probe sentence)").format(
                k=OVERLAP_K, a=labels[0], b=labels[1], step=at, overlap=f"{overlap[0, 1]:.3f}"))
        else:
            self.label.setText(tr("Neighbour overlap@{k} between runs at step {step} (shared probe sentences; 1 = "
                                  "identical neighbourhoods)").format(k=OVERLAP_K, step=at))


def colour_brushes(runs: list[ComparedRun], name: str) -> list[np.ndarray]:
    """Per run, an object array of one brush per probe row: coloured by the label
    column ``name`` (each run by its own probe labels), or one colour. Brushes are
    built once per colouring and shared by every point and run."""
    out: list[np.ndarray] = []
    table: dict[str, QBrush] = {}
    for r in runs:
        m = r.model
        P = len(m.probe_ids) if m.probe_ids is not None else len(m.probe_texts or [])
        cols = m.probe_columns or {}
        c = label_colouring(name, list(cols[name])) if name in cols else single_colouring(P)
        codes_brush = []
        for g, col in enumerate(c.colors):
            key = c.names[g] if name in cols else "all"
            if key not in table:
                table[key] = QBrush(QColor(col if name in cols else PALETTE[0]))
            codes_brush.append(table[key])
        arr = np.empty(len(codes_brush), dtype=object)
        arr[:] = codes_brush
        out.append(arr[c.codes])
    return out


# ---------------------------------------------------------------------- the window
class CompareWindow(QMainWindow):
    """Two or more runs side by side (see the module docstring).

    Signals: ``runs_loaded(int)`` (number of runs shown), ``frames_drawn(int)`` (the
    shared-slider position drawn), ``overlap_updated(object)`` ((n, n) array),
    ``message(str)`` (errors, one line).
    """

    runs_loaded = Signal(int)
    frames_drawn = Signal(int)
    overlap_updated = Signal(object)
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None, method: str = "hammer") -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("SimCSE Studio — compare runs"))
        self.resize(1500, 950)
        self.runs: list[ComparedRun] = []
        self.union_steps = np.zeros(0, dtype=np.int64)
        self.position = 0  # index into union_steps
        self.method = method
        self.shown: list[int | None] = []  # per run: snapshot index shown
        self.drawn: list[int | None] = []  # per run: snapshot index drawn
        self.drawn_position: int | None = None
        self.overlap = np.zeros((0, 0))
        self._pos: list[np.ndarray | None] | None = None
        self._prev_frames: list[Any] = []
        self._trackers: list[Any] = []
        self._loader: Any = None
        self._request = 0
        self._brushes: list[np.ndarray] = []
        self.views: list[MapView] = []
        self._build()
        self.jobs = JobThread("compare-jobs", ("positions",), self)
        self.jobs.done.connect(self._job_done)
        self.jobs.failed.connect(lambda _ch, _tok, msg: self._say(tr("projection failed: {error}").format(error=msg)))
        self.play_timer = QTimer(self, interval=400)
        self.play_timer.timeout.connect(self._tick)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        tb = QToolBar(tr("Compare"))
        tb.setObjectName("compareToolbar")
        self.addToolBar(tb)
        act = tb.addAction(tr("Add run folder…"))
        act.setShortcut(QKeySequence.StandardKey.Open)
        act.triggered.connect(self._choose_run)
        tb.addAction(tr("Open preset folder…")).triggered.connect(self._choose_preset)
        tb.addAction(tr("Clear")).triggered.connect(lambda: self.set_runs([]))
        tb.addSeparator()
        tb.addWidget(QLabel(tr(" view: ")))
        self.method_box = QComboBox()
        for key, text in METHODS.items():
            self.method_box.addItem(tr(text), key)
        self.method_box.setCurrentIndex(list(METHODS).index(self.method))
        self.method_box.currentIndexChanged.connect(lambda _i: self.set_method(self.method_box.currentData()))
        tb.addWidget(self.method_box)
        tb.addWidget(QLabel(tr(" colour by: ")))
        self.colour_box = QComboBox()
        self.colour_box.addItem("none")
        self.colour_box.currentTextChanged.connect(lambda _t: self._apply_colouring())
        tb.addWidget(self.colour_box)

        self.curves = CompareCurves()
        self.views_box = QWidget()
        self.views_layout = QHBoxLayout(self.views_box)
        self.views_layout.setContentsMargins(0, 0, 0, 0)
        self.views_layout.setSpacing(4)
        self.empty_label = QLabel(tr("Open two or more run folders (or a preset's folder) to compare them."))
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.views_layout.addWidget(self.empty_label)

        self.play_button = QPushButton(tr("▶ Play"))
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play_toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self.set_position)
        self.step_label = QLabel(tr("no runs"))
        self.step_label.setMinimumWidth(180)
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.step_label)

        self.overlap_panel = OverlapPanel()
        self.overlap_table = self.overlap_panel.table  # read by tests and exports
        self.status = self.overlap_panel.status

        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        top_row = QHBoxLayout()
        top_row.addWidget(self.views_box, 1)
        top_row.addWidget(self.overlap_panel)
        bl.addLayout(top_row, 1)
        bl.addLayout(row)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(bottom)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        self.splitter = split
        self.setCentralWidget(split)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.statusBar().showMessage(text, 10_000)
        self.message.emit(text)

    # ------------------------------------------------------------------ opening
    def _choose_run(self) -> None:
        d = QFileDialog.getExistingDirectory(self, tr("Add a run folder to the comparison"))
        if d:
            self.open_runs([d], append=True)

    def _choose_preset(self) -> None:
        d = QFileDialog.getExistingDirectory(self, tr("Open a preset's output folder (it holds preset.json)"))
        if d:
            self.open_preset_folder(d)

    def open_runs(self, paths: list[str | Path], labels: list[str] | None = None, append: bool = False) -> None:
        """Read run folders in a worker, then show them (``append``: beside the ones shown)."""
        items = [(str(p), labels[i] if labels and i < len(labels) else None, "") for i, p in enumerate(paths)]
        self._load(items, append)

    def open_preset_folder(self, folder: str | Path) -> bool:
        """Open all the runs a preset wrote (its labels as the run names)."""
        try:
            title, items = preset_items(folder)
        except Exception as e:  # ConfigError and friends: say it, never crash
            self._say(error_text(e))
            return False
        if not items:
            self._say(tr("{folder}: no run of this preset has written metrics yet").format(folder=folder))
            return False
        self.setWindowTitle(tr("SimCSE Studio — compare: {title}").format(title=title))
        self._load(items, append=False)
        return True

    def _load(self, items: list[tuple[str, str | None, str]], append: bool) -> None:
        self._request += 1
        req = self._request
        self._say(tr("reading {n} run folder(s)…").format(n=len(items)))
        self._loader = create_worker(load_runs, items, _connect={
            "returned": lambda runs, r=req, a=append: self._loaded(r, runs, a),
            "errored": lambda e, r=req: r == self._request and self._say(error_text(e))})

    def _loaded(self, request: int, runs: list[ComparedRun], append: bool) -> None:
        if request != self._request:
            return
        self._loader = None
        self.set_runs((self.runs if append else []) + list(runs))
        self._say(tr("{n} runs: {labels}").format(n=len(self.runs), labels=", ".join(r.label for r in self.runs)))

    # ------------------------------------------------------------------ runs
    def set_runs(self, runs: list[ComparedRun]) -> None:
        """Show these runs (already loaded): curves, one view each, the shared slider."""
        self.jobs.cancel()
        self._pos = None
        for i, r in enumerate(runs):
            r.color = RUN_COLORS[i % len(RUN_COLORS)]
        self.runs = list(runs)
        self.curves.set_runs(self.runs)
        self._prev_frames = [None] * len(self.runs)
        self._trackers = self._new_trackers()
        self.shown = [None] * len(self.runs)
        self.drawn = [None] * len(self.runs)
        self.drawn_position = None
        self._rebuild_views()
        steps = [r.steps for r in self.runs if r.steps.size]
        self.union_steps = np.unique(np.concatenate(steps)) if steps else np.zeros(0, dtype=np.int64)
        cols: list[str] = []
        for r in self.runs:
            for c in (r.model.probe_columns or {}):
                if c not in cols:
                    cols.append(c)
        cur = self.colour_box.currentText()
        self.colour_box.blockSignals(True)
        self.colour_box.clear()
        self.colour_box.addItems(cols + ["none"])
        i = self.colour_box.findText(cur)
        self.colour_box.setCurrentIndex(i if i >= 0 and cur != "none" else 0)
        self.colour_box.blockSignals(False)
        self._apply_colouring(redraw=False)
        n = len(self.union_steps)
        self.slider.blockSignals(True)
        self.slider.setEnabled(n > 0)
        self.slider.setRange(0, max(0, n - 1))
        self.slider.setValue(max(0, n - 1))
        self.slider.blockSignals(False)
        self.overlap_panel.set_runs([r.label for r in self.runs])
        if n:
            self.position = -1
            self.set_position(n - 1)
        else:
            self.step_label.setText(tr("no snapshots") if self.runs else tr("no runs"))
        self.runs_loaded.emit(len(self.runs))

    def _new_trackers(self) -> list[Any]:
        if self.method != "umap":
            return [None] * len(self.runs)
        from simcse_core.projection import UmapTracker

        return [UmapTracker(method="euclidean") for _ in self.runs]

    def _rebuild_views(self) -> None:
        for v in self.views:
            self.views_layout.removeWidget(v)
            v.deleteLater()
        self.views = []
        self.empty_label.setVisible(not self.runs)
        for r in self.runs:
            texts = r.model.probe_texts or []
            v = MapView(r.label, lambda row, t=texts: t[row] if 0 <= row < len(t) else str(row))
            self._set_background(v)
            self.views_layout.addWidget(v, 1)
            self.views.append(v)

    def _set_background(self, v: MapView) -> None:
        from simcse_core.projection import hammer_graticule

        v.view_box.setAspectLocked(True)
        if self.method in SPHERE_METHODS:
            v.set_background(hammer_graticule())
            v.fixed_range(2.85, 1.45)
        elif self.method == "circle":
            t = np.linspace(0, 2 * np.pi, 181)
            v.set_background([np.column_stack([np.cos(t), np.sin(t)])])
            v.fixed_range(1.15, 1.15)
        else:
            v.set_background([])
            v.view_box.enableAutoRange()

    def set_method(self, method: str) -> None:
        """"hammer", "circle" or "umap" for the side-by-side views."""
        if method not in METHODS:
            raise ValueError(f"unknown view {method!r} (use {', '.join(METHODS)})")
        if method == self.method:
            return
        self.method = method
        i = list(METHODS).index(method)
        if self.method_box.currentIndex() != i:
            self.method_box.blockSignals(True)
            self.method_box.setCurrentIndex(i)
            self.method_box.blockSignals(False)
        self.jobs.cancel()
        self._trackers = self._new_trackers()
        self._prev_frames = [None] * len(self.runs)
        for v in self.views:
            v.clear_points()
            self._set_background(v)
        self._request_positions()

    # ------------------------------------------------------------------ colouring
    def _apply_colouring(self, redraw: bool = True) -> None:
        """One colouring for all runs (the chosen label column, by each run's own
        probe labels); brushes built once per colouring and shared by every point."""
        self._brushes = colour_brushes(self.runs, self.colour_box.currentText())
        if redraw:
            self._draw_positions()  # new brush arrays: every view sets its colours again

    # ------------------------------------------------------------------ timeline
    @property
    def step(self) -> int | None:
        """The shared step shown (None without snapshots)."""
        if not len(self.union_steps):
            return None
        return int(self.union_steps[min(max(self.position, 0), len(self.union_steps) - 1)])

    def shown_steps(self) -> list[int | None]:
        """Per run: the step of the snapshot shown."""
        return [None if i is None else r.model.snapshots[i].step for r, i in zip(self.runs, self.shown)]

    def set_step(self, step: int) -> None:
        """Move the shared slider to the union step nearest ``step``."""
        if len(self.union_steps):
            self.set_position(int(np.argmin(np.abs(self.union_steps - int(step)))))

    def set_position(self, position: int) -> None:
        n = len(self.union_steps)
        if n == 0:
            return
        position = int(min(max(position, 0), n - 1))
        if self.slider.value() != position:
            self.slider.blockSignals(True)
            self.slider.setValue(position)
            self.slider.blockSignals(False)
        if position == self.position and self.drawn_position == position:
            return
        self.position = position
        step = self.step
        assert step is not None
        self.shown = [r.nearest(step) for r in self.runs]
        parts = [f"{r.label}: {s}" for r, s in zip(self.runs, self.shown_steps()) if s is not None and s != step]
        self.step_label.setText(tr("step {step} ({k} of {n})").format(step=f"{step:,}", k=position + 1, n=n)
                                + (tr(" · nearest ") + ", ".join(parts) if parts else ""))
        for v, r, s in zip(self.views, self.runs, self.shown_steps()):
            v.setTitle(tr("{run} — step {step}").format(run=r.label, step=f"{s:,}") if s is not None
                       else tr("{run} — no snapshot").format(run=r.label), size="10pt")
        self.curves.show_step(step, self.runs, self.shown)
        self._request_positions()

    def _request_positions(self) -> None:
        if not self.runs or self.step is None:
            return
        models = [r.model for r in self.runs]
        token = ("positions", self.position, self.method, tuple(self.shown))
        prev = list(self._prev_frames)
        self.jobs.submit("positions", _positions_job, models, list(self.shown), self.method, prev, self._trackers,
                         token=token)

    def _job_done(self, channel: str, token: Any, result: Any) -> None:
        if channel != "positions" or result is None:
            return
        _, position, method, shown = token
        if method != self.method or len(result["pos"]) != len(self.runs):
            return
        if method != "umap":
            self._prev_frames = [f if f is not None else p for f, p in zip(result["frames"], self._prev_frames)]
        if position != self.position or tuple(self.shown) != shown:
            return  # a newer request is on its way
        self._pos = result["pos"]
        self.drawn = list(result["indices"])
        self.overlap = result["overlap"]
        self._draw_positions()
        self._show_overlap()
        self.drawn_position = position
        self.frames_drawn.emit(position)

    def _draw_positions(self) -> None:
        pos = getattr(self, "_pos", None)
        if pos is None or len(pos) != len(self.views):
            return
        for v, xy, brushes in zip(self.views, pos, self._brushes):
            if xy is None or len(brushes) != xy.shape[0]:
                v.clear_points()
                continue
            rows = np.arange(xy.shape[0], dtype=np.int64)
            v.set_points(rows, xy, brushes)
            if self.method == "umap":
                v.view_box.autoRange(padding=0.05)

    def _show_overlap(self) -> None:
        self.overlap_panel.show_overlap(self.overlap, [r.label for r in self.runs], self.step)
        self.overlap_updated.emit(self.overlap)

    def overlap_between(self, a: int, b: int) -> float:
        """The shown mean kNN overlap@10 between runs ``a`` and ``b``."""
        return float(self.overlap[a, b])

    # ------------------------------------------------------------------ play
    def _play_toggled(self, on: bool) -> None:
        self.play_button.setText(tr("⏸ Pause") if on else tr("▶ Play"))
        if on:
            if self.position >= len(self.union_steps) - 1:
                self.set_position(0)
            self.play_timer.start()
        else:
            self.play_timer.stop()

    def _tick(self) -> None:
        if self.position >= len(self.union_steps) - 1:
            self.play_button.setChecked(False)
            return
        if self.drawn_position == self.position:  # wait for the shown step to be drawn
            self.set_position(self.position + 1)

    @property
    def busy(self) -> bool:
        return self.jobs.busy or self._loader is not None

    def shutdown(self) -> None:
        """Stop playing and the job thread (waits for a running projection)."""
        self.play_timer.stop()
        self.play_button.setChecked(False)
        self.jobs.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802
        # closing only hides the window (it is reopened from the menu); the job
        # thread goes with shutdown(), called when the studio closes
        self.play_timer.stop()
        self.play_button.setChecked(False)
        if self.parent() is None:
            self.jobs.shutdown()
        super().closeEvent(event)
