"""The studio's series, live plot grid and comparison curves derive from the metric
specs: a spec added at run time shows in a freshly built grid and comparison."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from simcse_core import metric_specs as MS
from simcse_core.snapshot import Snapshot

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def test_series_keys_are_the_specs_with_a_series():
    from app.state.run_model import SERIES_KEYS, RunModel

    assert SERIES_KEYS == MS.series_keys() == tuple(s.key for s in MS.METRIC_SPECS if s.has_series)
    assert tuple(RunModel().series) == SERIES_KEYS


def test_every_plotted_spec_has_a_curve_in_its_grid_cell(qtbot):
    from app.state.run_model import RunModel
    from app.training_tab.plots import PlotGrid

    grid = PlotGrid(RunModel())
    qtbot.addWidget(grid)
    assert list(grid.cells) == [c.name for c in MS.PLOT_CELLS]
    for s in MS.METRIC_SPECS:
        if s.plotted:
            assert s.key in grid.cells[s.cell].curves, s.key
    assert grid.loss is grid.cells["loss"] and grid.views == list(grid.cells.values())
    assert "step_loss" in grid.loss.curves  # the loss cell adds every step's loss


def test_compare_curves_are_the_compared_specs_and_the_trajectory(qtbot):
    from app.tools.compare import CompareCurves, curve_plots

    keys = [k for k, *_ in curve_plots()]
    assert keys == [s.key for s in MS.METRIC_SPECS if s.compare] + ["trajectory"]
    curves = CompareCurves()
    qtbot.addWidget(curves)
    assert list(curves.plots) == keys


def test_a_spec_added_at_run_time_reaches_grid_model_and_comparison(qtbot, monkeypatch):
    from app.state.run_model import RunModel
    from app.tools.compare import CompareCurves, ComparedRun, curve_plots
    from app.training_tab.plots import PlotGrid

    new = MS.MetricSpec("grad_norm", "gradient norm before clipping", label="‖g‖", cell="grad",
                        title="Gradient norm", compare=True, axis="norm")
    monkeypatch.setattr(MS, "METRIC_SPECS", MS.METRIC_SPECS + (new,))
    model = RunModel()
    grid = PlotGrid(model)
    qtbot.addWidget(grid)
    assert "grad" in grid.cells and grid.cells["grad"].plot.titleLabel.text == "Gradient norm"
    for step, g in ((0, 1.5), (2, 0.5)):
        model.add(Snapshot(step=step, total_steps=4, epoch=0.0, loss=1.0, temperature=0.05, lr=1e-5,
                           scalars={"grad_norm": g}))
    grid.refresh()
    x, y = grid.cells["grad"].curves["grad_norm"].getData()
    np.testing.assert_array_equal(x, [0, 2])
    np.testing.assert_array_equal(y, [1.5, 0.5])

    assert ("grad_norm", "Gradient norm", "grad_norm", "norm") in curve_plots()
    curves = CompareCurves()
    qtbot.addWidget(curves)
    curves.set_runs([ComparedRun("a", "a", model)])
    np.testing.assert_array_equal(curves.curves["grad_norm"][0].getData()[1], [1.5, 0.5])


def _long_or_private(path: Path) -> list[str]:
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            n = node.end_lineno - node.lineno + 1
            if n > (400 if isinstance(node, ast.ClassDef) else 100):
                out.append(f"{node.name}: {n} lines")
        if isinstance(node, ast.ImportFrom) and any(a.name.startswith("_") for a in node.names):
            out.append(f"imports a private name from {node.module}")
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            out.append(f"line {node.lineno}: reads .{node.attr} of another object")
    return out


def test_compare_and_plots_are_small_and_use_public_api_only():
    for rel in ("app/tools/compare.py", "app/training_tab/plots.py"):
        assert _long_or_private(ROOT / rel) == [], rel
