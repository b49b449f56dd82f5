"""The one list of the scalars a run reports, and where the studio shows each.

Everything that used to be kept in step by hand derives from :data:`METRIC_SPECS`:

- the snapshot's scalar keys (:data:`simcse_core.snapshot.SCALAR_KEYS`, the keys of a
  ``metrics.jsonl`` line): :func:`scalar_keys`;
- the studio's series (``app.state.run_model.SERIES_KEYS``): :func:`series_keys`;
- the live plot grid's cells and curves (``app.training_tab.plots.PlotGrid``):
  :func:`live_layout`, with the cells of :data:`PLOT_CELLS`;
- the comparison window's curves (``app.tools.compare.curve_plots``): :func:`compare_specs`.

Adding a metric the engine computes: compute it (a snapshot scalar, e.g. in
``training/probe.py``, or a loss's ``LossOutput.metrics``), then add a
:class:`MetricSpec` here. ``cell`` names a cell of :data:`PLOT_CELLS` to share it, or a
new name to get a cell of its own (titled ``title``) after the others.

Plain data, no Qt and no torch: the engine and the studio both read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlotCell:
    """A cell of the live plot grid (row-major, :data:`GRID_COLUMNS` a row).

    ``kind`` picks the view class: ``"steps"`` (curves over steps), ``"loss"`` (adds
    every step's loss and the chance line), ``"accuracy"`` (adds the 1/N chance line),
    ``"trajectory"`` (alignment against uniformity, paper Figure 2).
    ``event_key``: live changes of this setting are marked with vertical lines.
    ``empty_note``: shown in the cell while none of its series has a point.
    ``y_span``: (low, high) the y axis always shows, so noise does not look like drama
    (uniformity against its whole 0 to -4 span, Spearman against 0-100); None on a side
    lets the data decide it. Data outside the span widens the axis; a person's zoom wins
    until a double-click puts the span back."""

    name: str
    title: str
    kind: str = "steps"
    y_label: str = ""
    event_key: str | None = None
    empty_note: str = ""
    y_span: tuple[float | None, float | None] = (None, None)


@dataclass(frozen=True)
class MetricSpec:
    """One scalar of a snapshot (a ``metrics.jsonl`` key) and how it is shown.

    - ``key``: the scalar's name; ``doc``: what it is, in one line.
    - ``label``: its legend entry in the live grid; ``axis``: a y-axis label / unit hint.
    - ``cell``: the live plot cell (:data:`PLOT_CELLS` name, or a new name for a cell of
      its own titled ``title``); None: not plotted live.
    - ``compare``: a curve in the comparison window (titled ``compare_title`` or ``title``).
    - ``track``: keep a studio series even when not plotted (e.g. speed for a read-out).
    - ``color`` (a palette name of the plots), ``dashed``, ``symbol`` (a marker at
      each snapshot), ``width``: the curve's look.
    - ``scale``: the live grid draws ``value * scale`` (a share in 0-1 drawn as a
      percentage beside a Spearman x 100); the run folder keeps the value itself.
    """

    key: str
    doc: str
    label: str = ""
    cell: str | None = None
    compare: bool = False
    title: str = ""
    compare_title: str = ""
    axis: str = ""
    track: bool = False
    color: str = "blue"
    dashed: bool = False
    symbol: bool = True
    width: float = 1.6
    scale: float = 1.0

    @property
    def plotted(self) -> bool:
        """Drawn in the live grid."""
        return self.cell is not None

    @property
    def has_series(self) -> bool:
        """The studio keeps a series of it (plotted live, compared or tracked)."""
        return self.plotted or self.compare or self.track


GRID_COLUMNS = 3

PLOT_CELLS: tuple[PlotCell, ...] = (
    PlotCell("loss", "InfoNCE loss", kind="loss", event_key="temperature", y_span=(0.0, None)),
    PlotCell("accuracy", "In-batch top-1 accuracy", kind="accuracy", y_span=(0.0, 1.0)),
    PlotCell("cosine", "Cosine of positives and negatives", y_label="cosine (0 to 1 shown)", y_span=(0.0, 1.0)),
    PlotCell("alignment", "Alignment (probe, dropout views)", y_label="from 0 (identical views)", y_span=(0.0, None)),
    PlotCell("uniformity", "Uniformity (probe, t=2)", y_label="0 (collapsed) to -4 (uniform)", y_span=(-4.0, 0.0)),
    PlotCell("trajectory", "Alignment–uniformity trajectory", kind="trajectory"),
    PlotCell("sts", "Quality ×100: paraphrase retrieval, STS Spearman",
             empty_note="from the first snapshot (a group column or an STS eval file)",
             y_label="0 to 100", y_span=(0.0, 100.0)),
    PlotCell("lr", "Learning rate", event_key="learning_rate", y_span=(0.0, None)),
    PlotCell("temperature", "Temperature", event_key="temperature", y_span=(0.0, None)),
)

METRIC_SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("step", "optimizer steps done"),
    MetricSpec("total_steps", "steps the run will take"),
    MetricSpec("epoch", "fractional epoch"),
    MetricSpec("loss", "mean training loss over the steps since the previous snapshot", label="snapshot mean",
               cell="loss", compare=True, compare_title="InfoNCE loss (snapshot mean)", axis="loss", width=2.2),
    MetricSpec("loss_last", "loss of the last step"),
    MetricSpec("chance_loss", "the loss of a blind model at this batch size (the loss's own chance_loss)"),
    MetricSpec("lr", "learning rate", label="lr", cell="lr", color="cyan"),
    MetricSpec("temperature", "softmax temperature t", label="t", cell="temperature", color="red"),
    MetricSpec("top1_acc", "last batch: share of anchors whose positive is the most similar", label="top-1",
               cell="accuracy", color="green"),
    MetricSpec("pos_cos_mean", "last batch: mean cosine of the positive pairs", label="pos mean", cell="cosine",
               color="green"),
    MetricSpec("pos_cos_p95", "last batch: 95th percentile of the positive cosines", label="pos p95", cell="cosine",
               color="green", dashed=True, symbol=False),
    MetricSpec("pos_cos_max", "last batch: largest positive cosine"),
    MetricSpec("neg_cos_mean", "last batch: mean cosine of the negatives", label="neg mean", cell="cosine",
               color="red"),
    MetricSpec("neg_cos_p95", "last batch: 95th percentile of the negative cosines", label="neg p95", cell="cosine",
               color="red", dashed=True, symbol=False),
    MetricSpec("neg_cos_max", "last batch: largest negative cosine"),
    MetricSpec("hardness_entropy", "mean entropy of r_ij over the last batch's anchors"),
    MetricSpec("effective_negatives", "mean exp(entropy) of r_ij"),
    MetricSpec("top1_weight", "mean share of r on each anchor's hardest negative"),
    MetricSpec("alignment", "probe set, two dropout views, alpha=2 (lower: closer pairs)", label="alignment",
               cell="alignment", compare=True, compare_title="Alignment (lower: closer pairs)", axis="alignment",
               color="purple"),
    MetricSpec("uniformity", "probe set, t=2 (lower: more uniform)", label="uniformity", cell="uniformity",
               compare=True, compare_title="Uniformity (lower: more uniform)", axis="uniformity", color="orange"),
    MetricSpec("anisotropy", "probe set: mean cosine of random pairs (1: every sentence in one direction)",
               label="random pairs (anisotropy)", cell="cosine", compare=True,
               compare_title="Anisotropy (mean cosine of random pairs)", axis="cosine", color="grey"),
    MetricSpec("sts_spearman", "eval_file Spearman x 100 (at eval steps)", label="STS Spearman", cell="sts",
               compare=True, compare_title="STS Spearman ×100", axis="Spearman", color="brown"),
    MetricSpec("group_recall_at_1", "probe set: share of sentences whose nearest neighbour is a paraphrase "
               "(same 'group' label; near-duplicates excluded)", label="paraphrase recall@1", cell="sts",
               compare=True, compare_title="Paraphrase recall@1 (probe groups)", axis="recall@1", color="blue",
               scale=100.0),
    MetricSpec("group_mrr", "probe set: mean reciprocal rank of the first paraphrase", label="paraphrase MRR",
               cell="sts", compare=True, compare_title="Paraphrase MRR (probe groups)", axis="MRR", color="cyan",
               dashed=True, scale=100.0),
    MetricSpec("sts_alignment", "eval_file pairs with gold > 4 (SimCSE's definition)"),
    MetricSpec("sts_uniformity", "eval_file sentences, t=2"),
    MetricSpec("n_masked", "negatives removed from the denominator in the last step (fn_mask)",
               axis="negatives", track=True),  # drawn by the false-negative panel
    MetricSpec("steps_per_sec", "training speed since the run (or resume) started", axis="steps/s", track=True),
    MetricSpec("elapsed", "seconds since the run (or resume) started", axis="s"),
)


def spec(key: str) -> MetricSpec:
    """The spec of ``key`` (KeyError when there is none)."""
    for s in METRIC_SPECS:
        if s.key == key:
            return s
    raise KeyError(key)


def scalar_keys() -> tuple[str, ...]:
    """Every scalar a snapshot may carry, in the list's order."""
    return tuple(s.key for s in METRIC_SPECS)


def series_keys() -> tuple[str, ...]:
    """The scalars the studio keeps a series of (plotted, compared or tracked)."""
    return tuple(s.key for s in METRIC_SPECS if s.has_series)


def live_layout() -> list[tuple[PlotCell, list[MetricSpec]]]:
    """The live grid, cell by cell in order: each cell of :data:`PLOT_CELLS` with the
    specs drawn in it, then a cell of its own for each new ``cell`` name."""
    cells = {c.name: c for c in PLOT_CELLS}
    out: dict[str, tuple[PlotCell, list[MetricSpec]]] = {c.name: (c, []) for c in PLOT_CELLS}
    for s in METRIC_SPECS:
        if s.cell is None:
            continue
        if s.cell not in out:
            cells[s.cell] = PlotCell(s.cell, s.title or s.label or s.key, y_label=s.axis)
            out[s.cell] = (cells[s.cell], [])
        out[s.cell][1].append(s)
    return list(out.values())


def compare_specs() -> list[MetricSpec]:
    """The specs drawn as curves in the comparison window, in order."""
    return [s for s in METRIC_SPECS if s.compare]


__all__ = ["GRID_COLUMNS", "METRIC_SPECS", "PLOT_CELLS", "MetricSpec", "PlotCell", "compare_specs", "live_layout",
           "scalar_keys", "series_keys", "spec"]
