"""The one list of metric specs and what derives from it on the engine side; the size
limits of the engine's code (no function over 100 lines, no class over 400)."""

from __future__ import annotations

import ast
from pathlib import Path

from simcse_core import metric_specs as MS
from simcse_core.snapshot import SCALAR_KEYS

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def test_keys_are_unique_and_the_snapshot_keys_derive_from_the_specs():
    keys = [s.key for s in MS.METRIC_SPECS]
    assert len(keys) == len(set(keys))
    assert SCALAR_KEYS == MS.scalar_keys() == tuple(keys)
    assert set(MS.series_keys()) <= set(keys)
    assert all(s.doc for s in MS.METRIC_SPECS)


def test_live_layout_puts_every_plotted_spec_in_a_cell():
    layout = MS.live_layout()
    names = [c.name for c, _ in layout]
    assert names[: len(MS.PLOT_CELLS)] == [c.name for c in MS.PLOT_CELLS] and len(names) == len(set(names))
    placed = {s.key: c.name for c, specs in layout for s in specs}
    assert placed == {s.key: s.cell for s in MS.METRIC_SPECS if s.plotted}


def test_a_spec_with_a_new_cell_name_gets_a_cell_of_its_own(monkeypatch):
    new = MS.MetricSpec("grad_norm", "gradient norm before clipping", label="‖g‖", cell="grad", title="Gradient norm")
    monkeypatch.setattr(MS, "METRIC_SPECS", MS.METRIC_SPECS + (new,))
    cell, specs = MS.live_layout()[-1]
    assert (cell.name, cell.title, specs) == ("grad", "Gradient norm", [new])
    assert "grad_norm" in MS.scalar_keys() and "grad_norm" in MS.series_keys()


def _too_long(path: Path, fmax: int = 100, cmax: int = 400) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            n = node.end_lineno - node.lineno + 1
            if n > (cmax if isinstance(node, ast.ClassDef) else fmax):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_no_long_functions_or_classes_in_the_engine():
    bad = [b for p in sorted((ROOT / "simcse_core").rglob("*.py")) for b in _too_long(p)]
    assert bad == []
