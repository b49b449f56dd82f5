"""The architecture's rules, checked on the source (issue 11; docs/architecture.md).

- no class longer than 400 lines and no function longer than 100 in app/ or simcse_core/;
- the studio's parts are packages whose ``__init__`` docstring says their role;
- no attribute injection into the window (``getattr(window, ...)``, ``attr-defined``
  ignores) and no module reading another module's underscore names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "simcse_core")
MAX_CLASS, MAX_FUNCTION = 400, 100


def _sources(*roots: str) -> list[Path]:
    return sorted(p for r in roots for p in (ROOT / r).rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _long_definitions(path: Path) -> list[str]:
    out = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            limit = MAX_CLASS if isinstance(node, ast.ClassDef) else MAX_FUNCTION
            if n > limit:
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines > {limit})")
    return out


def test_no_long_classes_or_functions():
    found = [d for p in _sources(*PACKAGES) for d in _long_definitions(p)]
    assert not found, "split these:\n" + "\n".join(found)


def test_the_checker_sees_a_long_function(tmp_path):
    f = tmp_path / "long.py"
    f.write_text("def f():\n" + "    x = 1\n" * 101)
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        assert _long_definitions(f) == ["long.py:1 f (102 lines > 100)"]
    finally:
        ROOT = old


def test_app_parts_are_packages_with_a_role():
    parts = [d for d in sorted((ROOT / "app").iterdir()) if d.is_dir() and d.name != "__pycache__"]
    assert len(parts) >= 4
    for d in parts:
        init = d / "__init__.py"
        assert init.is_file(), f"{d.relative_to(ROOT)} is not a package"
        doc = ast.get_docstring(_tree(init))
        assert doc and len(doc.split()) >= 8, f"{init.relative_to(ROOT)} needs a docstring saying its role"


def test_no_attribute_injection_into_the_window():
    bad = []
    for p in _sources("app"):
        text = p.read_text(encoding="utf-8")
        for pattern in (r"getattr\(\s*(self\.)?window\b", r"attr-defined", r"\bdef install\(\s*window"):
            for m in re.finditer(pattern, text):
                line = text.count("\n", 0, m.start()) + 1
                bad.append(f"{p.relative_to(ROOT)}:{line}: {m.group(0)}")
    assert not bad, "\n".join(bad)


def _private_names_defined(tree: ast.Module) -> set[str]:
    """Underscore names a module defines: functions, classes, module variables and
    attributes it assigns (``self._x = ...``, ``obj._x = ...``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if n.startswith("_")}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


# Third-party private members read on purpose, each for want of a public way:
# pyqtgraph's AxisItem._updateLabel (re-lays the label after a style change, presentation
# mode) and numba's Dispatcher._cache (whether a function caches to disk, UMAP warm-up);
# and os._exit, the documented way to leave at once (a second Ctrl-C).
LIBRARY_PRIVATE_OK = {"_updateLabel", "_cache", "_exit"}


def _private_reads(path: Path) -> list[str]:
    tree = _tree(path)
    own = _private_names_defined(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if _is_private(a.name) and node.module.split(".")[0] in PACKAGES:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{a.name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and _is_private(node.attr):
            if node.attr in own or node.attr in LIBRARY_PRIVATE_OK:
                continue
            out.append(f"{path.relative_to(ROOT)}:{node.lineno} reads .{node.attr}")
    return out


def test_no_module_reads_another_modules_private_names():
    found = [r for p in _sources(*PACKAGES) for r in _private_reads(p)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("source, expected", [
    ("import app.x as m\nm._hidden\n", ["reads ._hidden"]),
    ("from app.plots import _pen\n", ["imports app.plots._pen"]),
    ("class A:\n    def f(self, o):\n        self._x = 1\n        return o._x\n", []),
])
def test_the_private_read_checker(tmp_path, source, expected):
    global ROOT
    f = tmp_path / "m.py"
    f.write_text(source)
    old, ROOT = ROOT, tmp_path
    try:
        assert [r.split(" ", 1)[1] for r in _private_reads(f)] == expected
    finally:
        ROOT = old
