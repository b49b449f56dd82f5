"""The engine never imports Qt, directly or indirectly."""

import subprocess
import sys

from pathlib import Path

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def test_engine_imports_no_qt_in_a_fresh_interpreter():
    code = (
        "import sys\n"
        "import simcse_core, simcse_core.trainer, simcse_core.cli, simcse_core.model, simcse_core.data\n"
        "import simcse_core.metrics, simcse_core.losses, simcse_core.runs, simcse_core.projection\n"
        "import simcse_core.false_negatives, simcse_core.presets, simcse_core.export, simcse_core.gradcache\n"
        "import simcse_core.distributed\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'PyQt5', 'PyQt6', 'PySide2', 'pyqtgraph', 'superqt', 'qtpy', 'shiboken6'))\n"
        "print(','.join(bad))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"simcse_core pulled in Qt modules: {r.stdout}"
