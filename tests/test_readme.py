"""The README's Quick start has exactly two commands, and CI runs the test one."""

import re

from pathlib import Path

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    cmds = _quick_start_commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds)
    run_cmd, test_cmd = cmds
    assert "simcse-studio" in run_cmd and "pip install" in run_cmd
    assert "pytest" in test_cmd and ".[test]" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd in ci


def _engine_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The engine without the studio", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0]
    return [ln for ln in block.splitlines() if ln.strip() and not ln.startswith(" ")]


def test_engine_examples_run_from_the_venv_the_quick_start_made():
    lines = _engine_examples()
    assert lines and all(ln.startswith(".venv/bin/simcse ") for ln in lines), lines


def test_the_eval_example_prints_what_the_readme_says(capsys):
    """The README's `simcse eval` line promises the exact JSON the command prints."""
    import json

    from simcse_core.cli import main

    line = next(ln for ln in _engine_examples() if " eval " in ln)
    promised = json.loads(line.split("# prints ", 1)[1])
    args = line.split("#", 1)[0].split()[1:]
    args = [a.replace("../shared", str(ROOT.parent / "shared")) for a in args]
    assert main(args) in (0, None)
    assert json.loads(capsys.readouterr().out) == promised
