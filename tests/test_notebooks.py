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


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_course_records_every_idea_it_teaches(course_run, graphviz_dot):
    """Issue 14's list, checked on the recordings the lessons' record blocks made in this session, not on prose."""
    from course_run import NOTEBOOKS, saved_runs

    from teachkit.model.balance import peak_per_worker, steals, tasks_per_worker, uneven_stages
    from teachkit.model.recovery import reruns

    jobs = [(rec, job) for path in NOTEBOOKS for rec in saved_runs(path) for job in rec.jobs]
    assert len(jobs) >= 20
    stages = [(rec, job, s) for rec, job in jobs for s in job.stages]

    def spread(job, stage, tasks, workers):
        counts = tasks_per_worker(job, stage)
        return stage.num_tasks == tasks and len(counts) == workers and all(10 <= n <= 30 for n in counts.values())

    found = {
        "100 tasks on 5 workers, 10-30 each": any(spread(j, s, 100, 5) for _, j, s in stages),
        "200 tasks on 10 workers, 10-30 each": any(spread(j, s, 200, 10) for _, j, s in stages),
        "the detailed example: 500 tasks on 5 workers, then a shuffle read": any(
            j.stages[0].num_tasks == 500 and len(tasks_per_worker(j, j.stages[0])) == 5
            and any(s.boundaries.get(0) == "shuffle" for s in j.stages) for _, j in jobs),
        "workers with 20 task slots": any(w.nthreads == 20 for rec, _ in jobs for w in rec.workers),
        "a worker running 4 tasks at once in a stage": any(
            max(peak_per_worker(j, s).values(), default=0) >= 4 for _, j, s in stages),
        "a job of three stages or more": any(len(j.stages) >= 3 for _, j in jobs),
        "a job that writes its result": any(j.stages[-1].output == "write" for _, j in jobs),
        "a join (a stage with two parents)": any(len(s.parents) >= 2 for _, _, s in stages),
        "a worker death with re-run work": any(
            any(f.get("action") == "kill" for f in j.faults) and reruns(j) for _, j in jobs),
        "dynamic assignment (a steal, or one worker 1.5x another)": any(
            steals(j) or uneven_stages(j, ratio=1.5) for _, j in jobs),
        "a shuffle that moved bytes between workers": any(
            b.kind == "shuffle" and any(n > 0 for a, row in b.matrix().items() for w, n in row.items() if w != a)
            for _, j in jobs for b in j.boundaries),
    }
    assert [idea for idea, seen in found.items() if not seen] == []
