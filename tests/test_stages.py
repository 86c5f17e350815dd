"""Spark's stage rule on recorded Dask jobs: shipped recordings, Dask's own graphs (no cluster) and real runs.

The expected structures are exact on purpose: the rule reads Dask's task
names, which are not public API; a dask upgrade that renames or reshapes them
must fail here, loudly, not silently draw other stages.
"""

from __future__ import annotations

import dask
import pytest

import teachkit
from conftest import small_cluster
from teachkit.cases import CASES, dask_inputs, run_dask
from teachkit.model.jobs import DaskTask, Job
from teachkit.model.stages import Plan, build_plan, derive_stages, stage_summary

SUMMARY_KEYS = {"id", "name", "num_tasks", "parents", "boundary", "duration_s", "shuffle_read_bytes",
                "shuffle_write_bytes", "workers", "output", "note"}
KINDS, BOUNDARIES = {"map", "shuffle", "reduce"}, {"shuffle", "tree-reduce", "broadcast"}
OUTPUTS = {"shuffle", "broadcast", "driver", "memory", "write"}


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
        assert sorted(t.partition for t in s.tasks) == list(range(s.num_tasks))
        assert s.kind in KINDS and set(s.boundaries.values()) <= BOUNDARIES and s.output in OUTPUTS


# -- shipped recordings: no cluster ------------------------------------------------------------


@pytest.fixture(scope="module")
def groupby_job():
    return teachkit.Recording.load(teachkit.example_path("groupby")).jobs[0]


@pytest.fixture(scope="module")
def pipeline_job():
    return teachkit.Recording.load(teachkit.example_path("pipeline")).jobs[0]


def test_p2p_groupby_is_a_map_stage_and_a_shuffle_stage(groupby_job):
    assert shape(groupby_job) == [
        ("read → partial count → shuffle write", 16, {}, "shuffle"),
        ("shuffle read → count", 2, {0: "shuffle"}, "driver"),
    ]
    read, final = groupby_job.stages
    assert final.collapsed == ["shuffle-barrier"]
    assert final.sink_keys and final.sink_keys[0].startswith("repartitiontofewer-")
    assert read.shuffle_write_bytes == final.shuffle_read_bytes > 0
    assert sum(read.workers.values()) == 16
    assert "split_out" in final.note and "P2P" in final.note
    assert [t.partition for t in read.tasks] == list(range(16))
    assert all(t.status == "done" and len(t.keys) == 6 for t in read.tasks)
    assert_covers_graph(groupby_job)


def test_tree_reduction_is_one_reduce_stage_with_one_task(pipeline_job):
    assert shape(pipeline_job) == [
        ("read → filter → withColumn → partial sum", 12, {}, "shuffle"),
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
    assert derive_stages(Job(index=0, name="empty", submitted=0.0, keys=[], dask_tasks={})) == []


@pytest.mark.slow
def test_a_27000_task_shuffle_is_two_stages():
    """Two rounds of task-based shuffle plumbing collapse into one boundary (speed: benchmarks/stages.py)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "stages.py"
    spec = importlib.util.spec_from_file_location("benchmark_stages", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    job = bench.synthetic_recording(bench.shuffle_graph(500)).jobs[0]
    assert len(job.dask_tasks) > 27_000
    stages = derive_stages(job)
    assert [(s.name, s.num_tasks, s.boundaries) for s in stages] == [
        ("read → shuffle write", 500, {}),
        ("shuffle read", 500, {0: "shuffle"}),
    ]
    collapsed = {"-".join(g.split("-")[:2]) for g in stages[1].collapsed}
    assert {"split-stage", "split-taskshuffle"} <= collapsed


# -- Dask's own graphs, no cluster: the rule's families ------------------------------------------


def planned_job(q, action: str = "compute") -> Job:
    """The job dask would submit for ``q.compute()`` / ``q.persist()``, built locally (no cluster, no run)."""
    from dask.base import collections_to_expr
    from dask.core import get_deps
    from dask.utils import key_split

    from teachkit.record.events import key_index, key_str

    expr = collections_to_expr([q])
    expr = (expr.finalize_compute() if action == "compute" else expr).optimize()
    graph = dict(expr.__dask_graph__())
    deps, dependents = get_deps(graph)
    tasks = {}
    for key in graph:
        name = key[0] if isinstance(key, tuple) else key
        tasks[key_str(key)] = DaskTask(key_str(key), str(name), key_split(name), key_index(key),
                                       sorted(key_str(d) for d in deps[key]))
    plan = {"logical": "\n".join(q.expr._tree_repr_lines()), "action": action,
            "optimized": "\n".join(q.expr.optimize()._tree_repr_lines())}
    return Job(index=0, name="planned", submitted=0.0, keys=[key_str(k) for k in graph if not dependents[k]],
               dask_tasks=tasks, expr=plan)


@pytest.fixture(scope="module")
def frames():
    return dask_inputs()


@pytest.mark.parametrize("action", ["compute", "persist"])
def test_a_coalesce_is_narrow_one_task_per_coalesced_partition(frames, action):
    job = planned_job(frames["df12"][frames["df12"].value > 0.5].repartition(npartitions=3), action)
    (stage,) = job.stages
    assert (stage.name, stage.num_tasks, stage.output) == ("read → filter → coalesce", 3, {"compute": "driver",
                                                                                          "persist": "memory"}[action])
    merges = [[k for k in t.keys if job.dask_tasks[k].prefix == "repartitiontofewer"] for t in stage.tasks]
    assert all(len(m) == 1 for m in merges)  # one coalesced partition per Spark task ...
    reads = [sum(job.dask_tasks[k].prefix == "make_partition" for k in t.keys) for t in stage.tasks]
    assert reads == [4, 4, 4]  # ... covering the parent partitions it merges
    assert len(stage.sink_keys) == (1 if action == "compute" else 0)  # persist() has no gather
    assert "merges them into 3" in stage.note
    assert_covers_graph(job)


def test_a_coalesce_to_one_at_the_end_is_the_users_not_a_gather(frames):
    job = planned_job(frames["df12"].repartition(npartitions=1))
    assert shape(job) == [("read → coalesce", 1, {}, "driver")]
    assert job.stages[0].sink_keys == [] and len(job.stages[0].tasks[0].keys) == 25


def test_a_split_is_narrow_with_one_task_per_output_partition(frames):
    job = planned_job(frames["df12"].repartition(npartitions=24))
    assert shape(job) == [("read → split", 24, {}, "driver")]
    assert "without a shuffle" in job.stages[0].note and "broadcast" not in job.stages[0].note
    assert_covers_graph(job)


@pytest.mark.parametrize("optimize", [False, True], ids=["unfused", "fused"])
def test_merges_before_a_task_shuffle_belong_to_the_shuffle(frames, optimize):
    """The seed job's fast plan, small: 24 partitions, split_out=4, split_every=24: Spark's [24, 4]."""
    with dask.config.set({"dataframe.shuffle.method": "tasks"}):
        q = frames["df24"].groupby("category").count(split_out=4, split_every=24)
        job = planned_job(q.optimize() if optimize else q)
    assert shape(job) == [("read → partial count → shuffle write", 24, {}, "shuffle"),
                          ("shuffle read → count", 4, {0: "shuffle"}, "driver")]
    assert any(g.startswith("repartitiontofewer-") for g in job.stages[1].collapsed)
    assert "merged the 24 map outputs into 4" in job.stages[1].note
    assert_covers_graph(job)


def test_a_broadcast_join_keeps_its_boundary(frames):
    job = planned_job(frames["df"].merge(frames["small"], on="id"))
    assert shape(job) == [("read", 1, {}, "broadcast"), ("read → join", 8, {0: "broadcast"}, "driver")]
    assert "job of its own" in job.stages[1].note
    assert_covers_graph(job)


def test_a_fused_filter_keeps_its_name(frames):
    df = frames["df"]
    job = planned_job(df[df.value > 0.5].assign(double=lambda d: d.value * 2).optimize(), "persist")
    assert "-fused-" in next(iter(job.dask_tasks.values())).group
    assert shape(job) == [("read → filter → withColumn", 8, {}, "memory")]


def test_user_repartitions_read_from_the_logical_plan():
    from teachkit.model.stage_graph import user_repartitions

    assert user_repartitions("Repartition: new_partitions=3None\n  FromMap: x") == {3}
    assert user_repartitions("Count: observed=True\n  FromMap: x") == set()
    assert user_repartitions(None) is None  # no plan recorded
    assert user_repartitions("Repartition: new_divisions=[0, 5]\n  FromMap: x") is None


# -- real runs on a small cluster: every reference job -------------------------------------------

#: Per case: the stages of each job it runs, exactly (name, Spark tasks, {parent: boundary}, output).
EXPECTED = {
    "narrow-chain": [[("read → filter → withColumn", 8, {}, "driver")]],
    "narrow-chain-fused": [[("read → filter → withColumn", 8, {}, "memory")]],
    "filter-count": [[("read → filter → partial count", 8, {}, "shuffle"), ("count", 1, {0: "tree-reduce"}, "driver")]],
    "groupby-tree": [[("read → partial sum", 8, {}, "shuffle"), ("sum", 1, {0: "tree-reduce"}, "driver")]],
    "groupby-tree-split-every": [[("read → partial count", 24, {}, "shuffle"),
                                  ("count", 1, {0: "tree-reduce"}, "driver")]],
    "groupby-default": [[("read → partial count → shuffle write", 24, {}, "shuffle"),
                         ("shuffle read → count", 2, {0: "shuffle"}, "driver")]],
    "groupby-p2p": [[("read → partial count → shuffle write", 8, {}, "shuffle"),
                     ("shuffle read → count", 4, {0: "shuffle"}, "driver")]],
    "groupby-tasks": [[("read → partial count → shuffle write", 8, {}, "shuffle"),
                       ("shuffle read → count", 4, {0: "shuffle"}, "driver")]],
    "groupby-tasks-all": [[("read → partial count → shuffle write", 8, {}, "shuffle"),
                           ("shuffle read → count", 8, {0: "shuffle"}, "driver")]],
    "seed-plan": [[("read → partial count → shuffle write", 24, {}, "shuffle"),
                   ("shuffle read → count", 4, {0: "shuffle"}, "driver")]],
    "seed-plan-unfused": [[("read → partial count → shuffle write", 24, {}, "shuffle"),
                           ("shuffle read → count", 4, {0: "shuffle"}, "driver")]],
    "seed-plan-p2p": [[("read → partial count → shuffle write", 24, {}, "shuffle"),
                       ("shuffle read → count", 4, {0: "shuffle"}, "driver")]],
    "seed-plan-value-counts": [[("read → partial count → shuffle write", 24, {}, "shuffle"),
                                ("shuffle read → count", 4, {0: "shuffle"}, "driver")]],
    "multi-agg": [[("read → partial aggregate → shuffle write", 8, {}, "shuffle"),
                   ("shuffle read → aggregate", 2, {0: "shuffle"}, "driver")]],
    "distinct": [[("read → partial distinct → shuffle write", 8, {}, "shuffle"),
                  ("shuffle read → distinct", 4, {0: "shuffle"}, "driver")]],
    "value-counts": [[("read → partial count → shuffle write", 8, {}, "shuffle"),
                      ("shuffle read → count", 8, {0: "shuffle"}, "driver")]],
    "nunique": [[("read → partial distinct → shuffle write", 8, {}, "shuffle"),
                 ("shuffle read → distinct → partial count", 8, {0: "shuffle"}, "shuffle"),
                 ("count", 1, {1: "tree-reduce"}, "driver")]],
    "shuffle-by-key": [[("read → shuffle write", 8, {}, "shuffle"), ("shuffle read", 8, {0: "shuffle"}, "driver")]],
    "coalesce": [[("read → coalesce", 3, {}, "driver")]],
    "coalesce-persist": [[("read → coalesce", 3, {}, "memory")]],
    "coalesce-write": [[("read → coalesce → write parquet", 3, {}, "write")]],
    "split": [[("read → split", 24, {}, "driver")]],
    "union": [[("read → union", 12, {}, "driver")]],
    "join": [[("read → shuffle write", 4, {}, "shuffle"), ("read → shuffle write", 8, {}, "shuffle"),
              ("shuffle read → join", 8, {0: "shuffle", 1: "shuffle"}, "driver")]],
    "join-broadcast": [[("read", 1, {}, "broadcast"), ("read → join", 8, {0: "broadcast"}, "driver")]],
    "sort": [[("read → sample", 8, {}, "shuffle"), ("split points", 1, {0: "tree-reduce"}, "driver")],
             [("read → shuffle write", 8, {}, "shuffle"), ("shuffle read → sort", 8, {0: "shuffle"}, "memory")]],
    "set-index": [[("read → sample", 8, {}, "shuffle"), ("split points", 1, {0: "tree-reduce"}, "driver")],
                  [("read → shuffle write", 8, {}, "shuffle"), ("shuffle read → sort", 8, {0: "shuffle"}, "memory")]],
    "sort-collect": [[("read → coalesce → sort", 1, {}, "driver")]],
    "two-shuffles": [[("read → shuffle write", 8, {}, "shuffle"),
                      ("shuffle read → partial sum → shuffle write", 8, {0: "shuffle"}, "shuffle"),
                      ("shuffle read → sum", 4, {1: "shuffle"}, "driver")]],
    "write-parquet": [[("read → filter → withColumn → write parquet", 8, {}, "write")]],
    "write-csv": [[("read → write csv", 8, {}, "write")]],
    "groupby-write": [[("read → partial sum → shuffle write", 8, {}, "shuffle"),
                       ("shuffle read → sum → write parquet", 4, {0: "shuffle"}, "write")]],
    "map-partitions": [[("read → mapInPandas", 8, {}, "driver")]],
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Every case run once on one small cluster: case name -> Recording (or the exception it raised)."""
    out = {}
    with small_cluster(2) as cluster:
        frames = dask_inputs()
        for case in CASES:
            try:
                with teachkit.record(cluster) as rec:
                    result = run_dask(case, frames, tmp_path_factory.mktemp(case.name) / "out")
                del result
                out[case.name] = rec
            except Exception as exc:  # one broken case must not hide the others
                out[case.name] = exc
    return out


def test_every_case_has_an_expected_structure():
    assert set(EXPECTED) == {c.name for c in CASES} and len(CASES) >= 20


@pytest.mark.cluster
@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_on_a_real_cluster(recorded, case):
    rec = recorded[case.name]
    if isinstance(rec, Exception):
        raise rec
    got = [shape(job) for job in rec.jobs]
    if case.name == "join":  # the two read stages are independent: which one is stage 0 is not fixed from run to run
        got = [sorted(stages[:2], key=repr) + stages[2:] for stages in got]
    assert got == EXPECTED[case.name]
    for job in rec.jobs:
        assert_covers_graph(job)
        assert all(t.status == "done" and t.worker in ("worker-1", "worker-2") for t in job.tasks)
    summary = [s for j in rec.summary()["jobs"] for s in j["stages"]]
    assert all(set(s) == SUMMARY_KEYS for s in summary)
    stages = [s for job in rec.jobs for s in job.stages]
    assert all(s.shuffle_read_bytes > 0 and s.collapsed for s in stages if "shuffle" in s.boundaries.values())
    if case.note_says:  # Dask runs another job than Spark here: a note must say what
        assert any(case.note_says in (s.note or "") for s in stages), [s.note for s in stages]


@pytest.mark.cluster
def test_a_coalesce_after_a_shuffle_covers_the_shuffle_partitions(recorded):
    """Dask's default groupby on 24 partitions shuffles into 3 and merges into 2 (split_out): one narrow stage."""
    job, = recorded["groupby-default"].jobs
    final = job.stages[-1]
    merges = [k for t in final.tasks for k in t.keys if job.dask_tasks[k].prefix == "repartitiontofewer"]
    unpacks = [k for t in final.tasks for k in t.keys if job.dask_tasks[k].prefix == "p2pshuffle"]
    assert (len(merges), len(unpacks)) == (2, 3)
    assert "shuffled the rows into 3 partitions and then merged them into 2" in final.note
    assert [job.dask_tasks[k].prefix for k in final.sink_keys] == ["repartitiontofewer"]  # compute()'s gather only


@pytest.mark.cluster
def test_writes_end_in_their_commit(recorded):
    parquet = recorded["coalesce-write"].jobs[0].stages[-1]
    assert [parquet.job.dask_tasks[k].prefix for k in parquet.sink_keys] == ["toparquetbarrier"]
    csv = recorded["write-csv"].jobs[0].stages[-1]
    assert csv.sink_keys == [] and all(csv.job.dask_tasks[t.keys[-1]].prefix == "write_csv" for t in csv.tasks)
