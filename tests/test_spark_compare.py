"""teachkit's stages against Apache Spark's own, job by job (``tools/spark_compare.py``).

One Dask cluster and one SparkSession run every reference job of
``teachkit.cases`` once (about a minute or two on 2 cores).  Where Dask runs the
job Spark runs, teachkit's stages must equal Spark's; where it runs another job,
the case says so and teachkit's stage note must name the difference.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from teachkit.cases import CASES

pytestmark = [pytest.mark.spark, pytest.mark.cluster, pytest.mark.slow]
TOOL = Path(__file__).resolve().parent.parent / "tools" / "spark_compare.py"


def load_tool():
    """tools/spark_compare.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("spark_compare", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool():
    return load_tool()


@pytest.fixture(scope="module")
def rows(tool):
    return {row.case.name: row for row in tool.compare()}


@pytest.mark.timeout(900)
def test_every_case_ran_on_both_sides(rows):
    assert list(rows) == [c.name for c in CASES] and len(rows) >= 20
    for row in rows.values():
        assert row.spark and all(row.spark), f"{row.case.name}: Spark reported no stage"
        assert row.teachkit and all(row.teachkit), f"{row.case.name}: teachkit derived no stage"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_teachkit_shows_sparks_stages_or_names_the_difference(rows, case):
    row = rows[case.name]
    if case.dask_differs is None:
        assert row.equal, f"{case.name}: Spark ran {row.spark}, teachkit shows {row.teachkit}"
    else:
        assert not row.equal, f"{case.name}: equal to Spark now; the case still says {case.dask_differs!r}"
        assert any(case.note_says in note for note in row.notes), (case.note_says, row.notes)
    assert not row.bug, row.verdict


def test_the_table_has_one_line_per_job(rows, tool):
    text = tool.table(list(rows.values()))
    lines = text.splitlines()
    assert lines[0] == "| job | Dask code | Spark code | Spark's stages | teachkit's stages | equal? |"
    body = [line for line in lines[2:] if line.startswith("| ")]
    assert [line.split(" | ")[0][2:] for line in body] == [c.name for c in CASES]
    assert "**BUG**" not in text


def test_the_verdict_tells_a_bug_from_a_different_job(tool):
    """No run needed: the verdict's three outcomes on hand-made stage counts."""
    same, differs = CASES[0], next(c for c in CASES if c.dask_differs)

    class Stage:
        def __init__(self, n, note=None):
            self.num_tasks, self.name, self.note = n, "x", note

    class Job:
        def __init__(self, *stages):
            self.stages = list(stages)

    assert tool.verdict(same, [[8]], [Job(Stage(8))]).verdict == "yes"
    assert tool.verdict(same, [[8]], [Job(Stage(3))]).bug
    noted = tool.verdict(differs, [[8, 8]], [Job(Stage(3, note=f"... {differs.note_says} ..."))])
    assert not noted.bug and noted.verdict.startswith("no: Dask ran a different job")
    assert tool.verdict(differs, [[8, 8]], [Job(Stage(3, note="something else"))]).bug
