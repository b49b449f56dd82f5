"""Importing from transformers in several threads at once (the studio's vocabulary check
beside the trainer's model load) goes through one lock (simcse_core/hf.py)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading
from simcse_core.hf import auto_classes
from simcse_core.vocab import load_tokenizer
errors = []
def classes():
    try:
        assert all(c.__name__.startswith("Auto") for c in auto_classes())
    except Exception as e:
        errors.append(repr(e))
def tokenizer():
    try:
        load_tokenizer("default")
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=f) for f in (classes, tokenizer, classes, tokenizer)]
for t in threads: t.start()
for t in threads: t.join()
print("errors:", errors)
"""


def test_threads_import_transformers_at_once_in_a_fresh_interpreter():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300,
                       env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert "errors: []" in r.stdout, r.stdout + r.stderr[-2000:]


def test_every_engine_import_of_transformers_is_under_the_lock():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "simcse_core"
    for path in root.rglob("*.py"):
        if path.name == "hf.py":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if re.match(r"\s*(from transformers\b|import transformers\b)", line):
                before = "\\n".join(lines[max(0, i - 2): i])
                assert "HF_IMPORT_LOCK" in before, f"{path.name}:{i + 1} imports transformers outside the lock"
