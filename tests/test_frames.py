"""Player frames and the player widget, without a browser (saved and hand-made recordings)."""

from __future__ import annotations

import json
import re
import time

import pytest

import teachkit
from teachkit.model.frames import DONE, LOST, PENDING, RERUN, RUNNING, STATES, build_frames
from teachkit.model.recording import Recording
from teachkit.model.stages import SparkTask, Stage

A, B, C = "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3"


def tr(t, key, start, finish, stim, **kw):
    return {"kind": "tr", "t": t, "key": key, "start": start, "finish": finish, "stimulus": stim, **kw}


def done(t, key, worker, begin):
    return tr(t, key, "processing", "memory", f"task-finished-{t}", worker=worker, thread=7, nbytes=1000,
              compute=[begin, t - 0.005])


def failure_recording() -> Recording:
    """Three workers; worker-2 dies holding x|0's result; x|0 reruns, is stolen by worker-3; y sums."""
    tasks = [{"key": "x|0", "group": "x", "prefix": "x", "index": 0, "deps": []},
             {"key": "x|1", "group": "x", "prefix": "x", "index": 1, "deps": []},
             {"key": "y|0", "group": "y", "prefix": "y", "index": 0, "deps": ["x|0", "x|1"]}]
    g = "update-graph-1"
    ev = [{"kind": "worker-present", "t": 0.0, "worker": w, "name": str(i), "nthreads": 1} for i, w in enumerate((A, B, C))]
    ev += [{"kind": "graph", "t": 0.1, "job": 0, "client": "c", "keys": ["y|0"], "span": ["sum"], "tasks": tasks}]
    ev += [tr(0.1, k, "released", "waiting", g) for k in ("x|0", "x|1", "y|0")]
    ev += [tr(0.1, "x|0", "waiting", "processing", g, worker=B), tr(0.1, "x|1", "waiting", "processing", g, worker=A)]
    ev += [done(0.2, "x|0", B, 0.11)]
    ev += [{"kind": "worker-removed", "t": 0.25, "worker": B, "cause": "lost"}]
    h = "handle-worker-cleanup-0.25"
    ev += [tr(0.25, "x|0", "memory", "released", h), tr(0.25, "x|0", "released", "waiting", h),
           tr(0.25, "x|0", "waiting", "processing", h, worker=A)]
    ev += [{"kind": "steal", "t": 0.26, "key": "x|0", "victim": A, "thief": C, "outcome": "confirm"}]
    ev += [done(0.3, "x|1", A, 0.12), done(0.32, "x|0", C, 0.27)]
    ev += [tr(0.32, "y|0", "waiting", "processing", "task-finished-0.32", worker=C), done(0.4, "y|0", C, 0.33)]
    return Recording(ev, {"t0": 0.0})


def hand_stages(job) -> list[Stage]:
    read = Stage(id=0, name="read", ops=["read"], groups=["x"], parents=[], boundaries={}, output="shuffle",
                 tasks=[SparkTask(0, p, [f"x|{p}"], None, None, None, None, 1, "done") for p in (0, 1)],
                 shuffle_write_bytes=2000)
    total = Stage(id=1, name="sum", ops=["sum"], groups=["y"], parents=[0], boundaries={0: "tree-reduce"},
                  output="driver", tasks=[SparkTask(1, 0, ["y|0"], None, None, None, None, 1, "done")])
    return [read, total]


@pytest.fixture
def failure_frames():
    rec = failure_recording()
    return build_frames(rec, stages=hand_stages(rec.jobs[0]))


@pytest.mark.parametrize("name", ["groupby", "pipeline"])
def test_frames_from_shipped_recordings(name):
    rec = Recording.load(teachkit.example_path(name))
    start = time.perf_counter()
    frames = build_frames(rec)
    assert time.perf_counter() - start < 2
    assert len(frames) > len(frames.tasks)  # at least one step per task
    assert frames.steps[0]["caption"].startswith("The driver receives the job's graph")
    assert all(step["caption"].endswith(".") for step in frames.steps)
    assert all(d[1] in range(len(STATES)) for step in frames.steps for d in step.get("d", []))
    times = [step["t"] for step in frames.steps]
    assert times == sorted(times)
    assert set(frames.states_at(len(frames) - 1)) == {DONE}  # everything done at the end
    assert frames.bookmarks["stage"] and frames.bookmarks["shuffle"]
    assert not frames.bookmarks["failure"] and not frames.bookmarks["steal"]
    json.dumps(frames.to_json())  # JSON-ready


def test_captions_use_sparks_words():
    frames = build_frames(Recording.load(teachkit.example_path("groupby")))
    text = "\n".join(step["caption"] for step in frames.steps)
    assert re.search(r"The driver assigns \d+ tasks of stage 0 \(partitions [\d, –…]+: read", text)
    assert re.search(r"worker-\d finishes task \d+ of stage 0", text)
    assert re.search(r"Stage 0 is done: 16 tasks on 3 workers; the shuffle moves", text)
    assert "P2P shuffle" in text


def test_worker_death_steal_and_rerun(failure_frames):
    f = failure_frames
    captions = [s["caption"] for s in f.steps]
    death = f.bookmarks["failure"]
    assert len(death) == 1
    assert captions[death[0]] == ("worker-2 died: the driver recomputes 1 lost result; "
                                  "the driver re-runs task 0 of stage 0 (partition 0: read) on worker-1 "
                                  "(its result was lost with a dead worker: Spark-style recomputation from lineage).")
    assert f.steps[death[0]]["w"] == [[1, 0]]  # worker-2 (index 1) is gone
    assert f.states_at(death[0])[0] == RERUN
    assert f.states_at(death[0] - 1)[0] == DONE
    steal = f.bookmarks["steal"]
    assert captions[steal[0]] == "worker-3 is idle and steals task 0 of stage 0 from worker-1."
    assert f.steps[steal[0]]["d"][0][:3] == [0, RERUN, 2]  # now on worker-3
    assert captions[-2].endswith("Stage 1 is done: 1 task on 1 worker; its results go to the driver.")
    assert captions[-1] == ("The driver gathers the result: 1000 B from worker-3 (1 partition); "
                            "compute() returns it to your notebook.")
    assert f.bookmarks["gather"] == [len(f) - 1] and f.steps[-1]["kind"] == "gather"
    assert f.states_at(len(f) - 1) == [DONE, DONE, DONE]
    assert PENDING in f.states_at(0) and LOST not in f.states_at(len(f) - 1)


def test_bookmarks_point_at_stage_boundaries(failure_frames):
    f = failure_frames
    stage_steps = f.bookmarks["stage"]
    assert any("Stage 0 is done" in f.steps[n]["caption"] for n in stage_steps)


def test_player_widget_as_a_python_model(tmp_path):
    rec = Recording.load(teachkit.example_path("pipeline"))
    player = rec.play()
    assert isinstance(player, teachkit.Player)
    data = player.data
    assert data["frames"]["steps"] and data["states"] == list(STATES)
    assert "<svg" in data["dag_svg"]
    # the player's timeline is the picture job.timeline() draws, with its own id prefix
    tl = data["timeline"]
    assert tl["svg"] == rec.jobs[-1].timeline(id_prefix=tl["prefix"]).svg()
    assert f'id="{tl["prefix"]}cursor"' in tl["svg"] and f'id="{tl["prefix"]}cursortext"' in tl["svg"]
    assert f'data-t0="{tl["t0"]:.6f}"' in tl["svg"] and tl["scale"] > 0
    assert player.num_steps == len(data["frames"]["steps"])
    player.step = 5
    assert player.caption() == data["frames"]["steps"][5]["caption"]
    assert player.get_state()["step"] == 5  # a synced trait
    page = player.save(tmp_path / "walkthrough.html").read_text()
    assert page.count("<script") == 2 and "export default" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched from a network
    assert "require.js" not in page and "cdn" not in page.lower()


def test_write_walkthrough_into_a_folder(tmp_path):
    from teachkit.views.player import write_walkthrough

    path = write_walkthrough(Recording.load(teachkit.example_path("groupby")), tmp_path)
    assert path.name == "walkthrough.html" and path.stat().st_size > 10_000


@pytest.fixture(scope="module")
def killed():
    rec = Recording.load(teachkit.example_path("killed"))
    job = rec.jobs[-1]
    tasks = [t for s in job.stages for t in s.tasks]  # the frames' task order
    attempts = [[a for k in t.keys for a in job.dask_tasks[k].attempts] for t in tasks]
    return rec, job, build_frames(rec, job), attempts


def test_killed_p2p_job_shows_every_rerun_cause_of_the_model(killed):
    """A P2P kill re-runs tasks mostly for lineage and shuffle-restart: they are re-runs in the player too."""
    rec, job, f, attempts = killed
    causes = {a.cause for atts in attempts for a in atts if a.number > 1}
    assert {"lineage", "shuffle-restart"} <= causes  # what makes this example worth testing
    failure = ("worker-lost", "result-lost", "lineage", "shuffle-restart", "input-lost")
    expected = {i for i, atts in enumerate(attempts) if any(a.number > 1 and a.cause in failure for a in atts)}
    shown = {d[0] for step in f.steps for d in step.get("d", []) if d[1] == RERUN}
    assert shown == expected
    assert any(a.cause == "rescheduled" for a in attempts[-1])  # P2P unpack moved, not re-run
    assert len(f.tasks) - 1 not in shown
    text = "\n".join(s["caption"] for s in f.steps)
    assert "(the P2P shuffle started over after a worker died)" in text
    assert "(its result was lost with a dead worker" in text and "(a retry)" not in text
    assert set(f.states_at(len(f) - 1)) == {DONE}


def test_killed_p2p_job_loses_only_the_dead_workers_results(killed):
    """Results the survivors held are dropped for the shuffle restart, not lost; the death caption counts from the model."""
    rec, job, f, attempts = killed
    lost = {i for i, atts in enumerate(attempts) if any(a.lost is not None for a in atts)}
    running = {i for i, atts in enumerate(attempts) if any(a.end_cause == "worker-lost" for a in atts)}
    survivors = {i for i, atts in enumerate(attempts)
                 if any(a.end_cause == "shuffle-restart" and a.worker != "worker-2" for a in atts)}
    assert lost and running and survivors  # counts vary with the run: the caption must match the model
    death = f.bookmarks["failure"][0]
    assert f.steps[death]["caption"] == (
        f"worker-2 died: the driver re-assigns its {len(running)} running tasks, recomputes {len(lost)} lost results "
        f"and starts the P2P shuffle over ({len(survivors)} tasks on other workers will run again).")
    assert {i for i, s in enumerate(f.states_at(death)) if s == LOST} == lost
    assert {d[0] for step in f.steps for d in step.get("d", []) if d[1] == LOST} == lost
    assert {f.states_at(death)[i] for i in survivors} == {PENDING, RERUN}  # dropped, or re-queued at once


def slot_overloads(f) -> list[str]:
    """Steps at which a worker shows more running tasks than it has slots, or two on one slot."""
    shown: dict[int, list[int]] = {}
    bad = []
    for n, step in enumerate(f.steps):
        for task, state, worker, slot, _ in step.get("d", []):
            shown[task] = [state, worker, slot]
        on: dict[int, list[int]] = {}
        for state, worker, slot in shown.values():
            if worker >= 0 and (state == RUNNING or (state == RERUN and slot > 0)):
                on.setdefault(worker, []).append(slot)
        for worker, slots in on.items():
            if len(slots) > f.workers[worker]["nthreads"] or len(set(slots)) < len(slots) or 0 in slots:
                bad.append(f"step {n} ({step['caption']}): {f.workers[worker]['name']} slots {slots}")
    return bad


@pytest.mark.parametrize("name", ["groupby", "pipeline", "killed"])
def test_no_slot_runs_two_tasks_at_once(name):
    """Dask interleaves fused pieces of two tasks on one thread: the one waiting between pieces is not running."""
    f = build_frames(Recording.load(teachkit.example_path(name)))
    assert slot_overloads(f) == []
    assert [s["t"] for s in f.steps] == sorted(s["t"] for s in f.steps)
    assert any("(task " in s["caption"] and "waits for the slot again" in s["caption"] for s in f.steps)


def test_finish_heard_late_is_placed_at_its_compute_stop():
    """A worker starts its next task before the scheduler hears the last one finish: the finish comes first."""
    tasks = [{"key": f"x|{i}", "group": "x", "prefix": "x", "index": i, "deps": []} for i in (0, 1)]
    g = "update-graph-1"
    ev = [{"kind": "worker-present", "t": 0.0, "worker": A, "name": "0", "nthreads": 1},
          {"kind": "graph", "t": 0.1, "job": 0, "client": "c", "keys": ["x|0", "x|1"], "span": [], "tasks": tasks}]
    ev += [tr(0.1, k, "released", "waiting", g) for k in ("x|0", "x|1")]
    ev += [tr(0.1, k, "waiting", "processing", g, worker=A) for k in ("x|0", "x|1")]
    ev += [tr(0.17, "x|0", "processing", "memory", "task-finished-0.17", worker=A, thread=7, nbytes=8,
              compute=[0.11, 0.15]),  # heard 20 ms after it stopped; x|1 started meanwhile
           tr(0.25, "x|1", "processing", "memory", "task-finished-0.25", worker=A, thread=7, nbytes=8,
              compute=[0.151, 0.24])]
    rec = Recording(ev, {"t0": 0.0})
    read = Stage(id=0, name="read", ops=["read"], groups=["x"], parents=[], boundaries={}, output="driver",
                 tasks=[SparkTask(0, p, [f"x|{p}"], None, None, None, None, 1, "done") for p in (0, 1)])
    f = build_frames(rec, stages=[read])
    caps = [s["caption"] for s in f.steps]
    finish = next(n for n, c in enumerate(caps) if c.startswith("worker-1 finishes task 0"))
    start = next(n for n, c in enumerate(caps) if c.startswith("worker-1 starts running task 1"))
    assert finish < start and f.steps[finish]["t"] == 0.15 and f.steps[start]["t"] == 0.151
    assert slot_overloads(f) == []


@pytest.mark.cluster
@pytest.mark.timeout(240)
def test_real_groupby_never_overloads_a_slot(tmp_path):
    """A 100-partition groupby on 3 one-thread workers: at no step does a slot hold two running tasks."""
    from teachkit.datasets import sales

    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        with teachkit.record(cluster) as rec:
            with teachkit.job("groupby count"):
                sales(rows=50_000, partitions=100).groupby("category").count().compute()
    finally:
        cluster.close()
    rec.save(tmp_path / "recording.json.gz")
    f = build_frames(Recording.load(tmp_path / "recording.json.gz"))
    assert len(f.tasks) > 100 and slot_overloads(f) == []
    assert [s["t"] for s in f.steps] == sorted(s["t"] for s in f.steps)
    assert set(f.states_at(len(f) - 1)) == {DONE}


@pytest.mark.parametrize("name", ["groupby", "pipeline", "killed"])
def test_stage_bookmarks_mark_where_each_stage_starts_and_ends(name):
    """A stage starts at the step that first gives one of its tasks to a worker, ends where its last task finishes."""
    f = build_frames(Recording.load(teachkit.example_path(name)))
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for n in range(len(f)):
        for i, state in enumerate(f.states_at(n)):
            stage = f.tasks[i][0]
            if state != PENDING:
                first.setdefault(stage, n)
        for stage in first:
            states = [s for i, s in enumerate(f.states_at(n)) if f.tasks[i][0] == stage]
            if set(states) == {DONE} and stage not in last:
                last[stage] = n
    assert set(first) == set(last) == {s["id"] for s in f.stages}
    assert set(first.values()) | set(last.values()) <= set(f.bookmarks["stage"])
    assert f.bookmarks["gather"] == [len(f) - 1] or f.steps[f.bookmarks["gather"][0]]["kind"] == "gather"
    assert set(f.bookmarks) == {"stage", "shuffle", "failure", "steal", "gather"}


def test_a_job_that_writes_has_no_gather_and_its_dags_end_in_storage():
    """Stage.output "write" (to_parquet, to_csv): the DAGs draw a ``write`` sink; the driver gathers nothing."""
    from helpers_views import synthetic_recording

    rec = synthetic_recording(partitions=4, shuffle=False)
    job = rec.jobs[0]
    job.stages[-1].output = "write"
    for source in (job.stage_dag().source, job.task_dag().source):
        assert "\twrite [" in source and "written to storage" in source and "\tdriver [" not in source
        assert f"s{job.stages[-1].id}" in source.split("-> write")[0].splitlines()[-1]
    f = build_frames(rec)
    assert not f.bookmarks["gather"] and all(s["kind"] != "gather" for s in f.steps)
    assert any("its results are written to storage" in s["caption"] for s in f.steps)
