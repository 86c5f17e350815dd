"""One model, every view: the player, the timeline, the cluster view and the live view agree on every step.

For each step of the player, the cluster picture at that moment and the live
view's counts at that moment show the same states, on the same slots, with
the same counts; every attempt the log starts on a slot is drawn on that slot's
row of the timeline.  On the shipped recordings and on a small seed-like job
run here.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

import teachkit
from teachkit.model.frames import build_frames
from teachkit.model.recording import Recording
from teachkit.model.vocabulary import ACTIVE, DONE, RERUN, RUNNING, STATES, SUMMARY_ORDER
from teachkit.views.live import progress

BAR = re.compile(r'<g id="tkb\d+" data-key="([^"]*)" data-stage="[^"]*" data-partition="[^"]*" '
                 r'data-attempt="(\d+)" data-worker="([^"]*)" data-slot="(\d+)">')


def player_view(frames, n: int) -> dict:
    """What the player shows after step ``n``, in the terms of the other views."""
    tasks, names = frames.tasks, [w["name"] for w in frames.workers]
    running: dict[str, list] = {}
    waiting: Counter = Counter()
    held: dict[str, list] = {}
    counts: dict[int, Counter] = {s["id"]: Counter() for s in frames.stages}
    for (stage, part), (state, w, slot, holder) in zip(tasks, frames.tasks_at(n)):
        counts[stage][STATES[state]] += 1
        if state in (RUNNING, RERUN) and w >= 0 and slot > 0:
            running.setdefault(names[w], []).append((slot, (stage, part)))
        elif state in ACTIVE and w >= 0:
            waiting[names[w]] += 1
        if state == DONE and holder >= 0:
            held.setdefault(names[holder], []).append((stage, part))
    return {"running": {w: sorted(v) for w, v in running.items()}, "waiting": dict(waiting),
            "held": {w: sorted(v) for w, v in held.items()}, "counts": counts}


def moments_to_check(frames, most: int | None = None) -> list[int]:
    """Steps after which time moves on (the views are asked "at t": the last step at t)."""
    steps = frames.steps
    picks = [n for n in range(len(steps)) if n == len(steps) - 1 or steps[n + 1]["t"] > steps[n]["t"]]
    if most and len(picks) > most:
        picks = picks[:: len(picks) // most + 1] + [picks[-1]]
    return picks


def check_agreement(rec: Recording, most: int | None = None) -> int:
    job = rec.jobs[-1]
    frames = build_frames(rec, job)
    checked = 0
    for n in moments_to_check(frames, most):
        t = frames.steps[n]["t"]
        want = player_view(frames, n)
        where = f"step {n} ({frames.steps[n]['caption']})"
        cv = rec.cluster_view(at=t, job=job)
        assert {w: sorted(v) for w, v in cv.info["running"].items()} == want["running"], where
        assert cv.info["assigned"] == want["waiting"], where
        assert {w: sorted(v) for w, v in cv.info["memory"].items()} == want["held"], where
        assert {sid: +c for sid, c in cv.info["counts"].items()} == want["counts"], where
        rows, workers = progress(rec, at=t)
        assert {r["id"]: Counter({k: r[k] for k in SUMMARY_ORDER if r[k]}) for r in rows} == want["counts"], where
        for w in workers:
            assert w["running"] == len(want["running"].get(w["name"], [])), where
            assert w["running"] <= w["slots"], where
            assert w["waiting"] == want["waiting"].get(w["name"], 0), where
        checked += 1
    # the timeline: one bar per attempt, each started attempt on the slot the log starts it on
    svg = job.timeline().svg()
    bars = {(key, int(att)): (worker, int(slot)) for key, att, worker, slot in BAR.findall(svg)}
    assert len(bars) == sum(len(t.attempts) for t in job.dask_tasks.values())
    started = [c for c in job.changes if c.change == "started"]
    assert started
    for c in started:
        if job.dask_tasks[c.key].attempts[c.attempt - 1].start is not None:  # not an open attempt (live only)
            assert bars[(c.key, c.attempt)] == (c.worker, c.slot), c
    return checked


#: One shipped run of every shape the course records (checking all of them costs minutes, not coverage): the
#: extras (P2P groupby, narrow pipeline, a death, a steal, the full-size seed), a write, a persist on 10 workers,
#: a join, 20 slots on one worker, a death under the task-based shuffle.
SHAPES = ["groupby", "pipeline", "killed", "straggler", "seed", "02-sales-per-store-written-by-category",
          "03-200-partitions-on-10-workers", "04-join-sales-with-departments", "03-wait-1-worker-with-20-slots",
          "07-groupby-count-worker-2-killed-task-based-shuffle"]


def test_the_shapes_checked_are_shipped():
    assert set(SHAPES) <= set(teachkit.examples())


@pytest.mark.parametrize("name", SHAPES)
def test_every_view_agrees_on_every_step_of_a_shipped_recording(name):
    rec = Recording.load(teachkit.example_path(name))
    assert check_agreement(rec) > 20


@pytest.mark.cluster
@pytest.mark.timeout(240)
def test_every_view_agrees_on_a_live_seed_like_run():
    """The seed's job, small: groupby count over partitions made on the workers, a P2P shuffle, recorded with the
    live view on; two workers with two slots each, so that slots must agree, not only workers."""
    from teachkit.datasets import sales

    cluster = teachkit.start_cluster(workers=2, threads_per_worker=2, memory_limit="1GiB", dashboard=False)
    try:
        with teachkit.record(cluster, live=True) as rec:
            sales(rows=24_000, partitions=24).groupby("category").count().compute()
    finally:
        cluster.close()
    assert rec.warnings == []
    assert {a.slot for t in rec.jobs[-1].dask_tasks.values() for a in t.attempts if a.start is not None} == {1, 2}
    assert check_agreement(rec, most=60) > 20
