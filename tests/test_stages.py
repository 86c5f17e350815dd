"""Spark's stage rule on recorded Dask jobs: shipped recordings (no cluster) and real runs.

The expected structures are exact on purpose: the rule reads Dask's task
names, which are not public API; a dask upgrade that renames or reshapes them
must fail here, loudly, not silently draw other stages.
"""

from __future__ import annotations

import time

import pytest

import teachkit
from conftest import small_cluster
from teachkit.cases import CASES, dask_inputs
from teachkit.model.stages import Plan, build_plan, derive_stages, stage_summary

SUMMARY_KEYS = {"id", "name", "num_tasks", "parents", "boundary", "duration_s", "shuffle_read_bytes",
                "shuffle_write_bytes", "workers", "output", "note"}


def shape(job) -> list[tuple]:
    """Each stage as (name, number of Spark tasks, {parent: boundary}, output)."""
    return [(s.name, s.num_tasks, s.boundaries, s.output) for s in job.stages]


def assert_covers_graph(job) -> None:
    """Every Dask task is in exactly one Spark task, or is collapsed plumbing, or is a gather/commit."""
    in_tasks = [k for s in job.stages for t in s.tasks for k in t.keys]
    assert len(in_tasks) == len(set(in_tasks))
    collapsed = {g for s in job.stages for g in s.collapsed}
    sinks = {k for s in job.stages for k in s.sink_keys}
    rest = set(job.dask_tasks) - set(in_tasks) - sinks
    assert {job.dask_tasks[k].group for k in rest} <= collapsed, rest
    for s in job.stages:
        assert all(t.stage == s.id for t in s.tasks)
        assert all(p < s.id for p in s.parents)  # parents first, as Spark numbers them


# -- shipped recordings: no cluster ------------------------------------------------------------


@pytest.fixture(scope="module")
def groupby_job():
    return teachkit.Recording.load(teachkit.example_path("groupby")).jobs[0]


@pytest.fixture(scope="module")
def pipeline_job():
    return teachkit.Recording.load(teachkit.example_path("pipeline")).jobs[0]


def test_p2p_groupby_is_a_map_stage_and_a_shuffle_stage(groupby_job):
    assert shape(groupby_job) == [
        ("read → partial count → reset index → shuffle write", 16, {}, "shuffle"),
        ("shuffle read → count", 2, {0: "shuffle"}, "driver"),
    ]
    read, final = groupby_job.stages
    assert final.collapsed == ["shuffle-barrier"]
    assert final.sink_keys and final.sink_keys[0].startswith("repartitiontofewer-")
    assert read.shuffle_write_bytes == final.shuffle_read_bytes > 0
    assert sum(read.workers.values()) == 16
    assert "split_out" in final.note
    assert [t.partition for t in read.tasks] == list(range(16))
    assert all(t.status == "done" and len(t.keys) == 6 for t in read.tasks)
    assert_covers_graph(groupby_job)


def test_tree_reduction_is_one_reduce_stage_with_one_task(pipeline_job):
    assert shape(pipeline_job) == [
        ("read → filter → arithmetic → assign → partial sum", 12, {}, "shuffle"),
        ("sum", 1, {0: "tree-reduce"}, "driver"),
    ]
    assert pipeline_job.stages[1].kind == "reduce"
    assert pipeline_job.stages[0].shuffle_write_bytes == pipeline_job.stages[1].shuffle_read_bytes > 0
    assert_covers_graph(pipeline_job)


def test_spark_tasks_cover_the_stage_keys_and_times(groupby_job):
    for task in groupby_job.tasks:
        assert task.worker and task.slot == 1 and task.attempts >= 1
        assert task.start is not None and task.stop >= task.start
    stage = groupby_job.stages[0]
    assert stage.start == min(t.start for t in stage.tasks) and stage.end == max(t.stop for t in stage.tasks)


@pytest.mark.parametrize("example", ["groupby", "pipeline"])
def test_summary_lists_stages(example):
    rec = teachkit.Recording.load(teachkit.example_path(example))
    job = rec.summary()["jobs"][0]
    assert [s["id"] for s in job["stages"]] == [0, 1]
    assert all(set(s) == SUMMARY_KEYS for s in job["stages"])
    assert job["stages"][1]["parents"] == [0]
    assert job["stages"][1]["boundary"] == {"groupby": "shuffle", "pipeline": "tree-reduce"}[example]


def test_plan_is_data(groupby_job):
    plan = build_plan(groupby_job)
    assert isinstance(plan, Plan) and plan.stages == groupby_job.stages
    assert plan.logical.startswith("Count:")
    assert plan.optimized.startswith("RepartitionToFewer")  # the final gather compute() adds
    data = plan.to_dict()
    assert [s["num_tasks"] for s in data["stages"]] == [16, 2]
    assert data["stages"][0] == stage_summary(groupby_job.stages[0])


def test_explain_text_and_html(groupby_job):
    shown = groupby_job.explain()
    text = str(shown)
    assert "Logical plan" in text and "Optimised plan" in text and "Physical plan: 2 stages, 18 tasks" in text
    assert "Stage 1  shuffle read → count" in text
    page = shown._repr_html_()
    assert page.count("<b>1. Logical plan</b>") == 1 and "3. Physical plan" in page and "&gt;" not in page[:40]


def test_empty_job_has_no_stages():
    from teachkit.model.jobs import Job

    assert derive_stages(Job(index=0, name="empty", submitted=0.0, keys=[], dask_tasks={})) == []


@pytest.mark.slow
def test_27000_task_shuffle_derives_within_a_second():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "stages.py"
    spec = importlib.util.spec_from_file_location("benchmark_stages", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    job = bench.synthetic_recording(bench.shuffle_graph(500)).jobs[0]
    assert len(job.dask_tasks) > 27_000
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        stages = derive_stages(job)
        best = min(best, time.perf_counter() - t0)
    assert [(s.name, s.num_tasks, s.boundaries) for s in stages] == [
        ("read → shuffle write", 500, {}),
        ("shuffle read", 500, {0: "shuffle"}),
    ]
    assert {"split-stage", "split-taskshuffle"} <= {g.split("-")[0] + "-" + g.split("-")[1] for g in stages[1].collapsed}
    assert best <= 1.0, f"derive_stages took {best:.2f} s for {len(job.dask_tasks)} tasks"


# -- real runs on a small cluster ---------------------------------------------------------------

#: Per case: the stages of each job it runs, exactly (names, Spark tasks, boundaries, output).
EXPECTED = {
    "map-filter": [[("read → filter → arithmetic → assign", 8, {}, "driver")]],
    "groupby-count": [[("read → partial count", 8, {}, "shuffle"), ("count", 1, {0: "tree-reduce"}, "driver")]],
    "groupby-split-out": [[("read → partial count → reset index → shuffle write", 8, {}, "shuffle"),
                           ("shuffle read → count", 2, {0: "shuffle"}, "driver")]],
    "shuffle": [[("read → shuffle write", 8, {}, "shuffle"), ("shuffle read", 8, {0: "shuffle"}, "driver")]],
    "merge": [[("read → shuffle write", 4, {}, "shuffle"), ("read → shuffle write", 8, {}, "shuffle"),
               ("shuffle read → join", 8, {0: "shuffle", 1: "shuffle"}, "driver")]],
    "sort-persist": [
        [("read → max → min → quantiles", 8, {}, "shuffle"), ("quantiles", 1, {0: "tree-reduce"}, "driver")],
        [("read → assign → shuffle write", 8, {}, "shuffle"), ("shuffle read → sort", 8, {0: "shuffle"}, "memory")],
    ],
    "to-parquet": [[("read → reset index → write parquet", 8, {}, "memory")]],
}


@pytest.fixture(scope="module")
def stage_cluster():
    with small_cluster(2) as c:
        yield c


@pytest.mark.cluster
@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_on_a_real_cluster(stage_cluster, case, tmp_path):
    df, other = dask_inputs()
    with teachkit.record(stage_cluster) as rec:
        result = case.dask(df, other, tmp_path / "out")
    del result
    assert [shape(job) for job in rec.jobs] == EXPECTED[case.name]
    for job in rec.jobs:
        assert_covers_graph(job)
        assert all(t.status == "done" and t.worker in ("worker-1", "worker-2") for t in job.tasks)
        summary = [s for j in rec.summary()["jobs"] for s in j["stages"]]
        assert all(set(s) == SUMMARY_KEYS for s in summary)
    shuffled = [s for job in rec.jobs for s in job.stages if s.boundaries.get(0) == "shuffle"]
    assert all(s.shuffle_read_bytes > 0 and s.collapsed for s in shuffled)


@pytest.mark.cluster
@pytest.mark.timeout(120)
def test_compute_gather_of_a_40_partition_groupby_is_not_a_stage(stage_cluster):
    """40 inputs: Dask shuffles into 5 partitions, concatenates them into 3 (split_out), then into 1 for compute().

    Both concatenations are the gather to the driver, as Spark's collect(): two stages, like 16 inputs.
    """
    from teachkit.datasets import sales

    with teachkit.record(stage_cluster) as rec:
        sales(rows=200_000, partitions=40, seed=11).groupby("category").count().compute()
    job, = rec.jobs
    assert shape(job) == [("read → partial count → reset index → shuffle write", 40, {}, "shuffle"),
                          ("shuffle read → count", 5, {0: "shuffle"}, "driver")]
    final = job.stages[-1]
    assert [job.dask_tasks[k].prefix for k in final.sink_keys] == ["repartitiontofewer"] * 4
    assert final.sink_keys[-1] == job.keys[0]  # the gather ends in the key compute() asked for
    assert "concatenates them into 3" in final.note
    assert_covers_graph(job)


@pytest.mark.cluster
@pytest.mark.timeout(120)
def test_a_repartition_the_user_wrote_stays_a_coalesce_stage(stage_cluster):
    from teachkit.datasets import sales

    with teachkit.record(stage_cluster) as rec:
        sales(rows=20_000, partitions=40, seed=12).repartition(npartitions=3).compute()
    job, = rec.jobs
    assert shape(job) == [("read", 40, {}, "shuffle"), ("coalesce", 3, {0: "coalesce"}, "driver")]
    assert job.stages[1].kind == "coalesce" and len(job.stages[1].sink_keys) == 1
    assert_covers_graph(job)


def test_user_repartitions_read_from_the_logical_plan():
    from teachkit.model.stage_graph import user_repartitions

    assert user_repartitions("Repartition: new_partitions=3None\n  FromMap: x") == {3}
    assert user_repartitions("Count: observed=True\n  FromMap: x") == set()
    assert user_repartitions(None) is None  # no plan recorded: nothing is folded
    assert user_repartitions("Repartition: new_divisions=[0, 5]\n  FromMap: x") is None
