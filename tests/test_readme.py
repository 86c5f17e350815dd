"""The README's first screen tells the truth: its code runs, its commands exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_the_two_commands_are_make_targets_and_ci_runs_the_test_one():
    assert "make course" in README and "make test" in README
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^course:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text().split("\n")
    assert [line for line in ci if line.strip() and not line.startswith("#")][-1].strip() == "make test"


def test_the_picture_exists():
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / image).is_file(), image


@pytest.mark.cluster
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_python_example_runs(tmp_path):
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=280)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "shuffle" in out.stdout and (tmp_path / "run.json.gz").is_file()
