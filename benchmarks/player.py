"""Time building the step-through player for a seed-sized job (~3,000 Dask tasks).

    .venv/bin/python benchmarks/player.py            # synthetic seed-shaped job
    .venv/bin/python benchmarks/player.py REC.json.gz   # a saved recording (its last job)

(A 50,000-task job, and every view besides the player: ``benchmarks/scale.py``.)

The synthetic job has the seed's shape: 500 input partitions, each a chain of
read -> to string -> chunk -> shuffle transfer (P2P), one barrier, 34 output
partitions of unpack -> operation -> aggregate, a final concat; 5 workers with
one task slot each, simulated with a greedy list scheduler.  Target: <= 2 s.
"""

from __future__ import annotations

import heapq
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from teachkit.model.recording import Recording  # noqa: E402


def seed_shaped_graph(partitions: int = 500, outputs: int = 34) -> list[dict]:
    tasks = []

    def add(prefix, i, deps):
        key = f"{prefix}-abc|{i}" if i is not None else f"{prefix}-abc"
        tasks.append({"key": key, "group": f"{prefix}-abc", "prefix": prefix, "index": i, "deps": deps})
        return key

    transfers = []
    for i in range(partitions):
        k = add("make_partition", i, [])
        k = add("to_string_dtype", i, [k])
        k = add("chunk", i, [k])
        k = add("reset_index", i, [k])
        transfers.append(add("shuffle-transfer", i, [k]))
    barrier = add("shuffle-barrier", None, transfers)
    finals = []
    for j in range(outputs):
        k = add("p2pshuffle", j, [barrier])
        k = add("operation", j, [k])
        k = add("aggregate", j, [k])
        finals.append(k)
    add("concat", 0, finals)
    return tasks


def simulate(tasks: list[dict], workers: int = 5, t0: float = 1000.0) -> Recording:
    """A plausible event stream for the graph on ``workers`` one-slot workers."""
    addrs = [f"tcp://127.0.0.1:{4000 + w}" for w in range(workers)]
    events = [{"kind": "worker-present", "t": t0, "worker": a, "name": str(i), "nthreads": 1} for i, a in enumerate(addrs)]
    t = t0 + 0.01
    stim = f"update-graph-{t}"
    events.append({"kind": "graph", "t": t, "job": 0, "client": "c", "keys": [tasks[-1]["key"]], "span": ["groupby count"], "tasks": tasks})
    for task in tasks:
        events.append({"kind": "tr", "t": t, "key": task["key"], "start": "released", "finish": "waiting", "stimulus": stim})
    deps_of = {task["key"]: task["deps"] for task in tasks}
    dependents = {task["key"]: [] for task in tasks}
    for task in tasks:
        for d in task["deps"]:
            dependents[d].append(task["key"])
    missing = {task["key"]: len(task["deps"]) for task in tasks}
    waiting_on = {task["key"]: len(dependents[task["key"]]) for task in tasks}
    ready = [task["key"] for task in tasks if not task["deps"]]
    ready.reverse()
    free = list(range(workers))
    running: list[tuple[float, str, int]] = []
    where: dict[str, int] = {}
    now = t
    while ready or running:
        while free and ready:
            w = free.pop(0)
            key = ready.pop()
            events.append({"kind": "tr", "t": now, "key": key, "start": "waiting", "finish": "processing", "stimulus": stim, "worker": addrs[w]})
            dur = 0.004 + 0.002 * ((hash(key) % 7) / 7)
            heapq.heappush(running, (now + 0.001 + dur, key, w))
        if not running:
            break
        now, key, w = heapq.heappop(running)
        stim = f"task-finished-{now}"
        where[key] = w
        events.append({"kind": "tr", "t": now, "key": key, "start": "processing", "finish": "memory", "stimulus": stim,
                       "worker": addrs[w], "thread": 1, "nbytes": 2000, "compute": [now - 0.004, now - 0.0005]})
        if key.startswith("shuffle-transfer"):
            events.append({"kind": "p2p", "t": now, "shuffle": "abc", "source": addrs[w], "dest": addrs[(w + 1) % workers], "nbytes": 6000, "partitions": {"0": 6000}})
        for dep in deps_of[key]:
            waiting_on[dep] -= 1
            if waiting_on[dep] == 0:
                events.append({"kind": "tr", "t": now, "key": dep, "start": "memory", "finish": "released", "stimulus": stim})
        for child in dependents[key]:
            missing[child] -= 1
            if missing[child] == 0:
                ready.append(child)
        free.append(w)
    return Recording(events, {"t0": t0})


def main() -> None:
    from teachkit.model.frames import build_frames

    if len(sys.argv) > 1:
        rec = Recording.load(sys.argv[1])
        label = sys.argv[1]
    else:
        rec = simulate(seed_shaped_graph())
        label = "synthetic seed-shaped job"
    t = time.perf_counter()
    job = rec.jobs[-1]
    stages = job.stages if _has_stages(job) else None
    t_stages = time.perf_counter() - t  # jobs + attempts + stages from the events
    t = time.perf_counter()
    frames = build_frames(rec, job, stages=stages)
    t_frames = time.perf_counter() - t
    size = len(json.dumps(frames.to_json(), separators=(",", ":")))
    print(f"{label}: {len(job.dask_tasks):,} Dask tasks, {len(frames.tasks):,} Spark tasks, {len(frames.stages)} stages, {len(rec.events):,} events")
    print(f"jobs and stages {t_stages:.3f} s + frames {t_frames:.3f} s = {t_stages + t_frames:.3f} s (target <= 2 s); "
          f"{len(frames):,} steps, {size / 1e6:.2f} MB of JSON")

    from teachkit.views.player import player_data

    t = time.perf_counter()
    player_data(rec, job)
    print(f"whole player (frames + task DAG SVG + timeline SVG, jobs cached): {time.perf_counter() - t:.3f} s")


def _has_stages(job) -> bool:
    try:
        job.stages
        return True
    except (ImportError, AttributeError, NotImplementedError):
        return False


if __name__ == "__main__":
    main()
