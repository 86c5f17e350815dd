"""Views: structure tests on DOT/SVG/HTML text (no programs needed), rendering tests marked ``dot``.

No cluster: shipped recordings and synthetic recordings in the wire format (tests/helpers_views.py).
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest
from helpers_views import attach_stages, empty_job, synthetic_recording

import teachkit
from teachkit.model.recording import Recording
from teachkit.model.frames import build_frames
from teachkit.model.vocabulary import STATES, fmt_bytes
from teachkit.views.cluster_view import cluster_view
from teachkit.views.dag import stage_dag
from teachkit.views.display import DotGraph, Message
from teachkit.views.shuffle import shuffle_view
from teachkit.views.style import STAGE_COLORS, STATE_COLORS, stage_color, worker_color
from teachkit.views.task_dag import task_dag
from teachkit.views.timeline import timeline

EXAMPLES = teachkit.examples()
NODE = re.compile(r"^\t+(\w+) \[", re.M)


def node_ids(source: str) -> list[str]:
    return [n for n in NODE.findall(source) if n not in ("graph", "node", "edge")]


def same_rank_rows(source: str) -> list[list[str]]:
    """The node chains held on one rank by invisible edges (``{rank=same ... a -> b [style=invis] ...}``)."""
    rows = []
    for block in re.findall(r"\{\n\s*rank=same\n(.*?)\n\s*\}", source, re.S):
        chain: list[str] = []
        for a, b in re.findall(r"(\w+) -> (\w+) \[style=invis\]", block):
            chain += [a, b] if not chain else [b]
        rows.append(chain)
    return rows


@pytest.fixture(scope="module")
def shipped():
    return {name: Recording.load(teachkit.example_path(name)) for name in EXAMPLES}


@pytest.fixture(scope="module")
def synth():
    cache = {}

    def get(**options):
        key = tuple(sorted(options.items()))
        if key not in cache:
            cache[key] = synthetic_recording(**options)
        return cache[key]

    return get


def svg_ok(svg: str) -> ET.Element:
    """The SVG parses as XML (catches escaping mistakes)."""
    return ET.fromstring(svg)


# -- style ------------------------------------------------------------------------------------
def test_palettes_are_distinct_and_complete():
    assert tuple(STATE_COLORS) == STATES  # one colour per state of the vocabulary, in its order
    assert len(set(STAGE_COLORS)) == len(STAGE_COLORS) and stage_color(len(STAGE_COLORS)) == stage_color(0)
    assert worker_color(0) not in STAGE_COLORS
    assert fmt_bytes(0) == "0 B" and fmt_bytes(None) == "—"


# -- every view for every shipped recording ---------------------------------------------------
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_view_for_every_shipped_recording(shipped, name, tmp_path):
    rec = shipped[name]
    job = rec.jobs[0]
    sdag, tdag = job.stage_dag(), job.task_dag()
    assert isinstance(sdag, DotGraph) and isinstance(tdag, DotGraph)
    assert {f"s{s.id}" for s in job.stages} <= set(node_ids(sdag.source))
    sinks = {s.output for s in job.stages} & {"driver", "memory", "write"}  # collect, persist, write
    assert sinks and sinks <= set(node_ids(sdag.source)) and "legend" in node_ids(sdag.source)
    for node in node_ids(sdag.source) + node_ids(tdag.source):
        assert "-" not in node
    tl = job.timeline()
    svg_ok(tl.svg())
    attempts = sum(len(t.attempts) for t in job.dask_tasks.values())
    assert tl.info["attempts"] == attempts
    assert tl.info["bars"] == (0 if tl.info["banded"] else attempts)  # past 2,000 attempts: bands, not bars
    mid = job.start + 0.5 * (job.end - job.start)
    cv = rec.cluster_view(at=mid)
    svg_ok(cv.svg())
    for stage in job.stages:
        view = stage.shuffle_view()
        if len(job.stages) == 1:  # one stage: no data moves between stages, and the view says so
            assert "has no boundary with another stage" in str(view)
            continue
        assert view.kind == "shuffle view", str(view)
        view.save(tmp_path / f"shuffle{stage.id}.html")
    for view, file in ((tl, "timeline.svg"), (cv, "cluster.svg"), (sdag, "stages.dot")):
        assert view.save(tmp_path / file).stat().st_size > 200


def test_stage_dag_labels_shuffle_bytes_and_ops(shipped):
    job = shipped["groupby"].jobs[0]
    src = job.stage_dag().source
    shuffle = next(s for s in job.stages if s.parents)
    edge = re.search(rf"s0 -> s{shuffle.id} \[label=\"shuffle\\n([^\"]+)\"", src)
    assert edge and edge.group(1) == fmt_bytes(job.stages[0].shuffle_write_bytes)
    for op in job.stages[0].ops:
        assert op in src
    assert f"{job.stages[0].num_tasks} tasks" in src


def test_tree_reduce_boundary_is_dashed_and_fan_in_counted(synth):
    job = synth(partitions=100, shuffle=False).jobs[0]
    assert "tree reduce" in stage_dag(job).source
    src = task_dag(job).source
    assert "\ts0more -> s1p0 [label=96 style=dashed]" in src  # 96 collapsed map tasks feed the one reduce task
    assert "s0p0 -> s1p0" in src and "s0p99 -> s1p0" in src


def test_tree_reduce_fan_in_meets_in_a_junction(synth):
    src = task_dag(synth(partitions=12, shuffle=False).jobs[0]).source  # 12 arrows into one task
    assert "x0s1" in node_ids(src)
    assert all(f"\ts0p{i} -> x0s1 [" in src for i in range(12))
    assert "\tx0s1 -> s1p0 [" in src and "s0p0 -> s1p0" not in src


def test_dags_are_compact_for_a_projector(shipped, synth):
    """Task DAG top to bottom (each stage one row, in partition order); small legends beside the driver."""
    job = synth(partitions=500, out_partitions=34, workers=5).jobs[0]
    src = task_dag(job).source
    assert "rankdir=TB" in src and "x0s1" in node_ids(src)  # the shuffle goes through one exchange node
    rows = same_rank_rows(src)
    assert ["s0title", "s0p0", "s0p1", "s0p2", "s0more", "s0p499"] in rows
    assert ["s1title", "s1p0", "s1p1", "s1p2", "s1more", "s1p33"] in rows
    assert ["driver", "legend"] in rows
    assert "tasks not drawn, counted" in src and "failed" not in src and "did not run" not in src
    groupby = shipped["groupby"].jobs[0]
    legend = re.search(r"\tlegend \[.*", groupby.stage_dag().source).group(0)
    assert "shuffle: a new stage starts" in legend and "tree reduction" not in legend  # only what is drawn
    assert "ran twice (re-run after a failure)" in shipped["killed"].jobs[0].task_dag().source


# -- collapsing -------------------------------------------------------------------------------
def test_task_dag_10_partitions_draws_every_task(synth):
    dag = task_dag(synth(partitions=10).jobs[0])
    ids = set(node_ids(dag.source))
    assert {f"s0p{i}" for i in range(10)} <= ids and {f"s1p{i}" for i in range(10)} <= ids
    assert not any(i.endswith("more") for i in ids)
    assert "x0s1" in ids  # 10 × 10 shuffle arrows go through one exchange node
    assert dag.info["tasks"]["s0p3"] == (0, 3)


def test_task_dag_small_shuffle_is_all_to_all(synth):
    job = synth(partitions=100).jobs[0]
    src = task_dag(job, max_tasks_per_stage=3, sample=2).source  # 2 + more on each side: 3 × 3 arrows
    assert "x0s1" not in node_ids(src)
    for a in ("s0p0", "s0more", "s0p99"):
        for b in ("s1p0", "s1more", "s1p99"):
            assert f"\t{a} -> {b} [" in src


@pytest.mark.parametrize("n", [100, 5000])
def test_task_dag_collapses_big_stages(synth, n):
    job = synth(partitions=n).jobs[0]
    start = time.perf_counter()
    dag = task_dag(job)
    elapsed = time.perf_counter() - start
    ids = node_ids(dag.source)
    assert {"s0p0", "s0p1", "s0p2", f"s0p{n - 1}", "s0more", "s1more", "driver"} <= set(ids)
    assert f"… {n - 4} more tasks\\npartitions 3–{n - 2}" in dag.source
    assert len(ids) < 20
    assert dag.info["collapsed"]["s0more"] == list(range(3, n - 1))
    assert elapsed < 2.0  # the benchmark holds the real target (≤ 0.5 s)


def test_task_dag_partitions_pick_what_is_drawn(synth):
    job = synth(partitions=5000).jobs[0]
    src = task_dag(job, partitions=range(10, 13)).source
    ids = set(node_ids(src))
    assert {"s0p10", "s0p11", "s0p12", "s1p10", "s2p0"} <= ids  # s2 has one task: drawn in full
    assert "s0p0" not in ids and "… 4997 more tasks\\n4997 partitions" in src


def test_task_dag_color_by_worker(synth):
    rec = synth(partitions=100)
    src = task_dag(rec.jobs[0], color_by="worker").source
    assert worker_color(0) in src and "Colour = worker" in src
    assert re.search(r"worker-1: \d+", src)  # collapsed nodes count tasks per worker
    with pytest.raises(ValueError, match="color_by"):
        task_dag(rec.jobs[0], color_by="colour")


# -- timeline ---------------------------------------------------------------------------------
def test_timeline_cursor_and_ids(synth):
    job = synth(partitions=16).jobs[0]
    hidden = svg_ok(timeline(job).svg())
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert hidden.find(".//s:g[@id='tkcursor']", ns).get("visibility") == "hidden"
    view = timeline(job, cursor=0.1, id_prefix="p1")
    root = svg_ok(view.svg())
    x0, t0, scale = float(root.get("data-x0")), float(root.get("data-t0")), float(root.get("data-scale"))
    cur = root.find(".//s:g[@id='p1cursor']", ns)
    assert cur.get("visibility") == "visible"
    assert float(re.search(r"translate\(([\d.]+)", cur.get("transform")).group(1)) == pytest.approx(x0 + (0.1 - t0) * scale, abs=0.01)
    bar = root.find(".//s:g[@id='p1b0']", ns)
    assert bar.get("data-key") in job.dask_tasks and bar.find("s:title", ns).text


def test_timeline_marks_deaths_lost_and_reruns(synth):
    rec = synth(partitions=40, out_partitions=8, threads=2, kill=(1, 0.1))
    svg = timeline(rec.jobs[0]).svg()
    svg_ok(svg)
    assert "worker-2 died" in svg and 'fill="url(#tklost)"' in svg and 'stroke="#CC79A7"' in svg
    assert "transfer worker-" in svg


def test_timeline_speed_seed_size(synth):
    job = synth(partitions=500, out_partitions=34, workers=5).jobs[0]
    assert len(job.dask_tasks) > 1500
    start = time.perf_counter()
    timeline(job)
    assert time.perf_counter() - start < 3.0  # the benchmark holds the real target (≤ 1 s)


# -- cluster picture --------------------------------------------------------------------------
def test_cluster_view_follows_the_recording(synth):
    rec = synth(partitions=40, out_partitions=8, threads=2, kill=(1, 0.1))
    job = rec.jobs[0]
    before = cluster_view(rec, at=0.0)
    assert before.info["running"] == {} and before.info["memory"] == {}
    t = 0.12
    view = rec.cluster_view(at=t)
    computing = {(st.stage, st.partition) for s in job.stages for st in s.tasks for k in st.keys
                 for a in job.dask_tasks[k].attempts if a.start is not None and a.start <= t < a.stop}
    shown = {what for items in view.info["running"].values() for _, what in items}
    assert computing and computing <= shown  # a task between two of its pieces keeps its slot
    for worker, items in view.info["running"].items():  # never two tasks on a slot, never more than the slots
        slots = [slot for slot, _ in items]
        assert len(set(slots)) == len(slots) and max(slots) <= 2
    assert rec.cluster_view(at=0.4).info["memory"]  # finished tasks' results, held by their workers
    dead = rec.cluster_view(at=0.3)
    assert "worker-2" not in dead.info["running"] and "died at" in dead.svg()
    end = rec.cluster_view()
    assert sum(end.info["counts"][2].values()) == 1 and end.info["counts"][2]["done"] == 1
    assert set(end.info["counts"][0]) <= set(STATES)  # the vocabulary's states, nothing invented


def test_cluster_view_never_says_idle_next_to_waiting_for_a_free_slot(shipped):
    """A worker with an idle slot says its assigned task has not started; only a full worker makes it wait."""
    rec = shipped["groupby"]
    frames = build_frames(rec)
    for step in frames.steps[:: max(1, len(frames.steps) // 25)]:
        svg = rec.cluster_view(at=step["t"]).svg()
        for box in re.findall(r"<g><title>worker-.*?(?=<g><title>worker-|$)", svg, re.S):
            assert not (re.search(r"slot \d+: idle", box) and "waiting for a free slot" in box), step["caption"]


# -- shuffle matrix ---------------------------------------------------------------------------
def test_shuffle_matrix_from_p2p_events(shipped):
    rec = shipped["groupby"]
    stage = next(s for s in rec.jobs[0].stages if s.boundaries)
    view = stage.shuffle_view()
    total = sum(e["nbytes"] for e in rec.events if e["kind"] == "p2p")
    assert sum(n for row in view.info["matrix"].values() for n in row.values()) == total
    assert view.info["source"] == "P2P shuffle sends" and view.info["partitions"]
    html = view.fragment()
    assert "split on" in html and "Input partitions" in html and "worker-" in html and "stays on the worker" in html


def test_shuffle_matrix_from_fetches(synth):
    job = synth(partitions=12, shuffle=False).jobs[0]
    view = shuffle_view(job.stages[1])
    assert view.info["source"] == "dependency transfers" and view.info["matrix"]
    assert "Tree reduce" in view.fragment()


# -- nothing to draw, failures ----------------------------------------------------------------
def test_empty_job_and_empty_recording_give_messages():
    job = empty_job()
    for view in (stage_dag(job), task_dag(job), timeline(job)):
        assert isinstance(view, Message) and "no tasks" in str(view)
        assert "no tasks" in view._repr_mimebundle_()["text/html"]
    rec = Recording([], {})
    for view in (rec.cluster_view(at=1.0), stage_dag(rec)):
        assert isinstance(view, Message) and "no jobs" in str(view)


def test_job_without_stages_gives_message(synth):
    job = synth(partitions=4).jobs[0]
    job = type(job)(index=0, name="odd", submitted=0.0, keys=[], dask_tasks=dict(job.dask_tasks))
    job._derived["stages"] = []
    assert "no stages" in str(stage_dag(job)) and "no stages" in str(timeline(job))


def test_failed_job_is_drawn_with_its_failure(synth):
    rec = synth(partitions=16, fail_at=40)
    job = rec.jobs[0]
    assert job.errors
    assert "FAILED" in stage_dag(job).source and "1 failed" in stage_dag(job).source
    assert "✗" in task_dag(job).source
    svg = timeline(job).svg()
    svg_ok(svg)
    assert 'fill="url(#tkfailed)"' in svg and "ZeroDivisionError" in svg
    assert "FAILED" in cluster_view(rec, at=10.0).svg()
    for stage in job.stages:
        shuffle_view(stage)  # no crash: a message or a partial matrix


def test_attach_stages_is_idempotent(synth):
    job = synth(partitions=4).jobs[0]
    assert [s.num_tasks for s in attach_stages(job)] == [4, 4, 1]


# -- rendering with dot -----------------------------------------------------------------------
@pytest.mark.dot
@pytest.mark.parametrize("name", EXAMPLES)
def test_render_shipped_dags(shipped, name, tmp_path):
    job = shipped[name].jobs[0]
    for dag in (job.stage_dag(), job.task_dag(), job.task_dag(color_by="worker")):
        svg = dag.svg()
        root = svg_ok(svg)
        assert root.tag.endswith("svg")
        assert 'id="s0"' in svg or 'id="s0p0"' in svg  # ids without dashes survive into the SVG
        assert svg in dag._repr_mimebundle_()["text/html"]
    assert job.stage_dag().save(tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    ids = set(re.findall(r'<g id="(\w+)" class="node"', job.task_dag(max_tasks_per_stage=10, sample=4).svg()))
    sinks = {s.output for s in job.stages} & {"driver", "memory", "write"}
    assert {"s0p0", "legend", "s0title", *sinks} <= ids  # node ids are real SVG ids
    if job.stages[0].num_tasks > 10:  # more than drawn: the rest collapse into one node
        assert "s0more" in ids
    if len(job.stages) > 1:
        assert "x0s1" in ids or any(i.startswith("s1p") for i in ids)


@pytest.mark.dot
def test_render_collapsed_5000_is_fast(synth):
    dag = task_dag(synth(partitions=5000).jobs[0])
    start = time.perf_counter()
    svg = dag.svg()
    assert time.perf_counter() - start < 3.0 and 'id="s0more"' in svg


def test_stage_dag_marks_a_worker_death():
    rec = teachkit.Recording.load(teachkit.example_path("killed"))
    dag = rec.jobs[0].stage_dag()
    assert "death0 [" in dag.source and "died at" in dag.source and "death0 -> s" in dag.source
    assert "re-run" in dag.source
    clean = teachkit.Recording.load(teachkit.example_path("pipeline")).jobs[0].stage_dag()
    assert "death" not in clean.source


@pytest.mark.dot
def test_each_picture_offers_one_rich_type(shipped):
    """A notebook stores each picture once: one rich MIME type (HTML, the SVG inline) plus text."""
    from IPython.core.formatters import DisplayFormatter

    rec = shipped["groupby"]
    job = rec.jobs[0]
    stage = next(s for s in job.stages if s.parents)
    pictures = [job.stage_dag(), job.task_dag(), job.timeline(), rec.cluster_view(), stage.shuffle_view(),
                job.explain(), Message("nothing to draw")]
    formatter = DisplayFormatter()
    for picture in pictures:
        data, _ = formatter.format(picture)
        assert set(data) == {"text/html", "text/plain"}, (picture, sorted(data))
    for picture in pictures[:4]:
        assert "viewBox=" in picture.svg()  # it scales to the width it is given
