"""Every course notebook, solution and exercise runs top to bottom on a fresh kernel.

Solutions must earn a "✔ Correct" from every check; exercises (generated from
the solutions) must run without errors and leave every check "Your turn".
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from make_exercises import expected_exercises, strip_solution  # noqa: E402

CHECK_CALL = re.compile(r"^\s*check_\w+\(", re.M)  # a check's call at the start of a line
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def run_notebook(path: Path, tmp_path: Path) -> nbformat.NotebookNode:
    """Execute a copy of the notebook in ``tmp_path`` (so nothing is written next to the source)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    return nb


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append(out["text"])
            for mime in ("text/plain", "text/html"):
                if mime in out.get("data", {}):
                    parts.append(out["data"][mime])
    return "\n".join(parts)


def test_there_is_a_course():
    assert len(NOTEBOOKS) >= 4
    assert SOLUTIONS and [p.name for p in SOLUTIONS] == [p.name for p in EXERCISES]


def test_exercises_are_generated_from_solutions():
    for path, text in expected_exercises().items():
        assert path.exists(), f"{path.name}: run tools/make_exercises.py"
        assert path.read_text() == text, f"{path.name} is out of date: run tools/make_exercises.py"


def test_strip_solution_keeps_answer_names():
    src = "setup()\n# BEGIN SOLUTION\nanswer = 2\nhelper = 3\n# END SOLUTION\ncheck(answer)"
    assert strip_solution(src) == "setup()\n# YOUR CODE HERE\nanswer = ...\nhelper = ...\ncheck(answer)"
    with pytest.raises(ValueError):
        strip_solution("# BEGIN SOLUTION\nx = 1")


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_course_notebook_runs(path, course_run, graphviz_dot):
    nb = course_run(path)
    text = outputs_text(nb)
    assert "Traceback" not in text
    assert "✘" not in text


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_passes_every_check(path, tmp_path, graphviz_dot):
    nb = run_notebook(path, tmp_path)
    text = outputs_text(nb)
    checks = sum(len(CHECK_CALL.findall(cell.source)) for cell in nb.cells if cell.cell_type == "code")
    assert checks > 0
    assert text.count("✔ Correct") >= checks, text[-2000:]
    assert "✘" not in text and "Your turn" not in text


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_exercise_runs_and_waits_for_answers(path, tmp_path, graphviz_dot):
    nb = run_notebook(path, tmp_path)
    text = outputs_text(nb)
    assert "Your turn" in text
    assert "✔ Correct" not in text


def test_no_worker_processes_left_behind():
    """Kernels closed their clusters: no orphaned dask worker process (re-parented to init) remains."""
    import psutil

    orphans = []
    for proc in psutil.process_iter(["pid", "ppid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "spawn_main" in cmd and proc.info["ppid"] == 1:
            orphans.append(f"{proc.info['pid']}: {cmd[:80]}")
    assert orphans == []
