"""Size at scale (issue 18): every picture and the player stay small for a 50,000-task job.

Bounds are tested in bytes and elements, never in seconds (``benchmarks/scale.py`` prints the times).  The
summarising rules themselves are tested on the shipped recordings with their thresholds lowered, so they are
checked fast and against the unsummarised truth: a windowed replay shows, after each of its steps, exactly the
state the fold gives at that step's time.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

import teachkit
from teachkit.model import frames as frames_mod
from teachkit.model.fold import state_at
from teachkit.model.frames import build_frames
from teachkit.views import task_dag as task_dag_mod
from teachkit.views.timeline_bands import MAX_BINS

ROOT = Path(__file__).resolve().parent.parent
TWO_MB = 2_000_000


def _bench():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks" / "scale.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def big():
    """A simulated run of the very graph dask builds for a task-based shuffle of 780 partitions (51,609 tasks)."""
    bench = _bench()
    return bench.simulate(*bench.graph_specs(bench.job_query()))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_view_of_a_50k_task_job_stays_under_2_mb(big):
    job = big.jobs[-1]
    assert len(job.dask_tasks) > 50_000 and len(job.changes) > frames_mod.MAX_CHANGES
    bench = _bench()
    sizes = {}
    for name, build in bench.views(big, job):
        if "dot" in name and not _have_dot():
            continue
        out = build()
        sizes[name] = len(out.encode()) if isinstance(out, str) else len(json.dumps(out, separators=(",", ":")))
    assert sizes and max(sizes.values()) <= TWO_MB, sizes
    tl = job.timeline()
    assert tl.info["banded"] and tl.info["attempts"] == sum(len(t.attempts) for t in job.dask_tasks.values())
    assert tl.info["bars"] <= 500 and tl.svg().count("<rect") <= MAX_BINS + tl.info["bars"] * 2 + 100
    frames = build_frames(big, job)
    assert len(frames.steps) <= frames_mod.MAX_STEPS + len(frames.bookmarks["steal"]) + 2
    every = [t.partition for s in job.stages for t in s.tasks]
    dag = job.task_dag(partitions=every)
    assert len(dag.info["tasks"]) <= task_dag_mod.MAX_DRAWN and "partitions asked for drawn" in dag.source


def _have_dot() -> bool:
    import shutil

    return shutil.which("dot") is not None


@pytest.mark.parametrize("name", teachkit.examples())
def test_a_windowed_replay_shows_the_folds_state_after_each_step(name, monkeypatch):
    """Lower the threshold so a small shipped job is replayed in windows: each step's tasks are exactly the
    fold's state at that step's time (the cluster picture's), the last step is the job's end, and no more than
    the steps asked for (plus the moments that stay steps of their own)."""
    rec = teachkit.Recording.load(teachkit.example_path(name))
    job = rec.jobs[-1]
    whole = build_frames(rec, job)
    monkeypatch.setattr(frames_mod, "MAX_CHANGES", 0)
    monkeypatch.setattr(frames_mod, "MAX_STEPS", 12)
    windowed = build_frames(rec, job)
    assert len(windowed) < len(whole)
    solo = sum(1 for s in windowed.steps if not s["caption"].startswith("In ") and s["kind"] != "gather")
    assert len(windowed) - solo <= 12 + 2
    assert any(s["caption"].startswith("In ") and "events): " in s["caption"] for s in windowed.steps)
    for n, step in enumerate(windowed.steps):
        if step["kind"] != "gather":
            assert windowed.tasks_at(n) == state_at(job, step["t"]).states, (n, step["caption"])
    assert windowed.tasks_at(len(windowed) - 1) == whole.tasks_at(len(whole) - 1)
    assert windowed.bookmarks["stage"]
    if any(s.output == "driver" for s in job.stages):  # the result travels to the driver: its gather is a step
        assert windowed.bookmarks["gather"]


def test_the_timeline_summarises_past_max_bars():
    rec = teachkit.Recording.load(teachkit.example_path("killed"))
    job = rec.jobs[-1]
    full = job.timeline()
    few = job.timeline(max_bars=20)
    assert not full.info["banded"] and full.info["bars"] == full.info["attempts"] > 20
    assert few.info["banded"] and few.info["attempts"] == full.info["attempts"] and few.info["bars"] <= 5
    svg = few.svg()
    bands = re.findall(r'<g id="tkr\d+" data-stage="(\d*)" data-attempts="(\d+)">', svg)
    assert bands and sum(int(n) for _, n in bands) <= full.info["attempts"]
    assert {s for s, _ in bands} <= {"", *(str(s.id) for s in job.stages)}
    assert "band: a slot on one stage" in svg and "shown as bands" in svg
    assert len(svg) < len(full.svg())
    # the notable attempts (a re-run, a lost result) stay single bars, first
    kept = re.findall(r'<g id="tkb\d+" data-key="([^"]+)"[^>]*data-attempt="(\d+)"', svg)
    assert kept and all(int(a) > 1 or job.dask_tasks[k].attempts[int(a) - 1].lost is not None
                        or job.dask_tasks[k].attempts[int(a) - 1].outcome == "released" for k, a in kept)


def test_transfers_past_the_limit_merge_into_time_bins(monkeypatch):
    from helpers_views import synthetic_recording

    from teachkit.views import timeline as timeline_mod

    job = synthetic_recording(partitions=60, out_partitions=6, workers=3).jobs[0]
    one_by_one = job.timeline().svg().count("<title>transfer ")
    monkeypatch.setattr(timeline_mod, "MAX_ARROWS", 12)
    merged = job.timeline().svg()
    assert one_by_one > 12 and 0 < merged.count("<title>transfer ") <= 12 + 6 and "transfers merged" in merged


@pytest.mark.dot
def test_asking_for_every_task_is_capped_and_dot_draws_it():
    """Asking for more tasks than dot can lay out draws the first ones and says so in the title; dot runs."""
    rec = teachkit.Recording.load(teachkit.example_path("groupby"))
    job = rec.jobs[-1]
    every = [t.partition for s in job.stages for t in s.tasks]
    import teachkit.views.task_dag as td

    original = td.MAX_DRAWN
    try:
        td.MAX_DRAWN = 5
        dag = job.task_dag(partitions=every, max_tasks_per_stage=4)
    finally:
        td.MAX_DRAWN = original
    assert len(dag.info["tasks"]) <= 5 and "partitions asked for drawn (at most 5 tasks" in dag.source
    assert dag.svg().startswith("<svg")


def test_dot_failing_is_one_sentence(monkeypatch):
    import subprocess

    import graphviz

    from teachkit.views.display import DotFailedError

    def fail(*args, **kwargs):
        raise subprocess.CalledProcessError(-9, ["dot", "-Tsvg"])

    job = teachkit.Recording.load(teachkit.example_path("groupby")).jobs[-1]
    monkeypatch.setattr(graphviz.Digraph, "pipe", fail)
    dag = job.task_dag()
    with pytest.raises(DotFailedError, match=r"^Graphviz's `dot` could not lay out this task DAG \([\d,]+ statements; "
                                             r"it stopped with code -9\): draw fewer tasks"):
        dag.svg()
    assert set(dag._repr_mimebundle_()) == {"text/plain"}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_player_of_a_50k_task_job_steps_in_a_browser(browser, big, tmp_path):
    """The saved player of the 50k-task job: under 2 MB, and every step the browser shows matches its frames
    (the step latency goes to test-artifacts/, not into an assertion)."""
    from test_player_browser import ARTIFACTS, _offline_page, check_stepping

    from teachkit.views.player import player_data, standalone_html

    data = player_data(big)
    page_html = standalone_html(data)
    assert len(page_html.encode()) <= TWO_MB
    path = tmp_path / "big.html"
    path.write_text(page_html, encoding="utf-8")
    context, page, requests, errors = _offline_page(browser, path)
    try:
        latencies = check_stepping(page, data, steps=25)
        page.fill(".tk-slider", str(len(data["frames"]["steps"]) // 2))  # random access: keyframe + deltas
    finally:
        context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    latencies.sort()
    report = {"steps": len(data["frames"]["steps"]), "tasks": len(data["frames"]["tasks"]), "bytes": len(page_html),
              "median_ms": round(latencies[len(latencies) // 2], 1), "max_ms": round(latencies[-1], 1)}
    (ARTIFACTS / "player-50k-step-latency.json").write_text(json.dumps(report))
    print(f"\nplayer of a 50k-task job in Chromium: {report}")
    assert requests == [] and errors == []
