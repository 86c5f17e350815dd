"""The course's seed job (teachkit.seed): its plan is named, it has Spark's shape, and ``teachkit demo --runs`` runs it.

Sizes are small (20 partitions, 2 workers); every number checked comes from a recording or from pandas.
"""

from __future__ import annotations

import re
import subprocess
import sys

import dask
import pandas as pd
import pytest

from teachkit import seed
from teachkit.datasets import CATEGORIES, make_partition, sales, sales_pandas
from teachkit.model.recording import Recording

ROWS, PARTS = 4_000, 20


def expected_answer(rows: int = ROWS, partitions: int = PARTS) -> dict[str, int]:
    counts = sales_pandas(rows=rows, partitions=partitions).groupby("category").size()
    return {str(k): int(v) for k, v in counts.items()}


# -- no cluster ----------------------------------------------------------------------------------

def test_every_choice_of_the_plan_is_named_with_its_reason_and_dasks_default():
    assert [c.name for c in seed.PLAN] == ["count rows", "split_out", "shuffle method", "fusion"]
    for choice in seed.PLAN:
        assert choice.setting and choice.reason and choice.dask_default
        assert f"{choice.setting} (Dask's default: {choice.dask_default}): {choice.reason}" in seed.PLAN_TEXT
    assert "P2P" in seed.PLAN_TEXT and "split_out=500" in seed.PLAN_TEXT and "compute() unfused" in seed.PLAN_TEXT
    line = seed.plan_line(PARTS)
    assert line.startswith('plan: value_counts(), split_out=8, shuffle method "tasks", fused (')
    assert "Dask's defaults: groupby().count(), split_out=20, the P2P shuffle" in line


def test_the_query_fixes_its_plan_and_leaves_dasks_settings_alone():
    before = dask.config.get("dataframe.shuffle.method", None)
    q = seed.seed_query(sales(rows=ROWS, partitions=PARTS))
    assert dask.config.get("dataframe.shuffle.method", None) == before  # set only while the query was built
    text = q.expr.tree_repr() if hasattr(q.expr, "tree_repr") else repr(q.expr)
    assert "TaskShuffle" in text and "Fused" in text, text
    assert q.npartitions == seed.OUT_PARTITIONS
    # the plain query a learner types is Dask's own (no split_out, no fusion)
    plain = seed.dask_default_query(sales(rows=ROWS, partitions=PARTS))
    assert "Fused" not in repr(plain.optimize(fuse=False).expr)


def test_the_answer_is_read_from_the_result():
    result = seed.seed_query(sales(rows=ROWS, partitions=PARTS)).compute(scheduler="sync")
    assert seed.answer(result) == expected_answer()
    assert list(seed.answer(result)) == sorted(CATEGORIES)


def test_sales_partitions_are_the_frames_dask_made_before():
    """sales() builds partitions in Dask's string type: the same frame as make_partition after Dask converts it."""
    from dask.dataframe._pyarrow import to_pyarrow_string

    df = sales(rows=3_000, partitions=3, seed=4)
    for i in range(3):
        pd.testing.assert_frame_equal(df.partitions[i].compute(scheduler="sync"),
                                      to_pyarrow_string(make_partition(i, 1_000, 4)), check_exact=True)
    assert {t[0].split("-")[0] for t in df.__dask_keys__()} == {"_to_string_dtype"}
    assert "make_partition" in str(dict(df.optimize().__dask_graph__()).keys())
    with dask.config.set({"dataframe.convert-string": False}):
        pd.testing.assert_frame_equal(sales(rows=3_000, partitions=3, seed=4).compute(scheduler="sync")
                                      .reset_index(drop=True),
                                      sales_pandas(rows=3_000, partitions=3, seed=4), check_exact=True)


# -- a real cluster ------------------------------------------------------------------------------

@pytest.mark.timeout(240)
def test_the_seed_query_has_sparks_shape_and_the_plain_one_dasks(shared_cluster):
    df = sales(rows=ROWS, partitions=PARTS)
    rec, result, seconds = seed.run_seed_job(shared_cluster, seed.seed_query(df))
    job = rec.job(seed.JOB_NAME)
    assert [(s.name, s.num_tasks, s.boundaries, s.output) for s in job.stages] == [
        ("read → partial count → shuffle write", PARTS, {}, "shuffle"),
        ("shuffle read → count", 8, {0: "shuffle"}, "driver")]
    assert sum(job.stages[0].workers.values()) == PARTS and seconds > 0
    assert seed.answer(result) == expected_answer()
    # what a learner types runs Dask's own plan, recorded as it ran: P2P into ceil(20 / 15) = 2 partitions
    rec2, result2, _ = seed.run_seed_job(shared_cluster, seed.dask_default_query(df), name="plain")
    assert [s.num_tasks for s in rec2.job("plain").stages] == [PARTS, 2]
    assert seed.answer(result2) == expected_answer()


@pytest.mark.cluster
@pytest.mark.timeout(300)
def test_demo_runs_the_seed_job_twice_and_writes_the_last_run(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "teachkit.cli", "demo", "--out", str(tmp_path), "--rows", str(ROWS),
         "--partitions", str(PARTS), "--workers", "2", "--runs", "2"],
        capture_output=True, text=True, timeout=280,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    runs = re.findall(r"^teachkit: job done in (\d+\.\d) s: ([\d,]+) Dask tasks; result has 8 categories "
                      r"\(run (\d) of 2\)$", text, re.M)
    assert [r[2] for r in runs] == ["1", "2"], text
    answer = dict((name, int(n.replace(",", ""))) for name, n in re.findall(r"^teachkit:   (\w+) +([\d,]+)$", text, re.M))
    assert answer == expected_answer()
    per_worker = re.search(r"^teachkit: tasks per worker in stage 0 \(20 tasks\): (.*) \(the seed: about 10 each\)$",
                           text, re.M)
    assert per_worker, text
    counts = dict(item.rsplit(" ", 1) for item in per_worker.group(1).split(", "))
    assert set(counts) == {"worker-1", "worker-2"} and sum(map(int, counts.values())) == PARTS
    assert "plan: value_counts(), split_out=8" in text and "Dask's defaults:" in text
    for name in ("recording.json.gz", "summary.json", "stage_dag.svg", "task_dag.svg", "timeline.svg",
                 "walkthrough.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    rec = Recording.load(tmp_path / "recording.json.gz")
    assert len(rec.jobs) == 1 and rec.jobs[0].name == seed.JOB_NAME  # the last run only
    assert [s.num_tasks for s in rec.jobs[0].stages] == [PARTS, 8]
    assert len(rec.jobs[0].dask_tasks) == int(runs[-1][1].replace(",", ""))
