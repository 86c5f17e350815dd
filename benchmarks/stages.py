"""How long stage derivation takes on a ~27,000-task job (target: <= 1 s).

The job is a task-based shuffle of 500 partitions (``df.shuffle("category",
shuffle_method="tasks")``, two rounds of group/split tasks), the graph dask
builds for it (no cluster needed), turned into a synthetic recording: one graph
event plus processing/memory transitions for every task on two workers.

Run: ``.venv/bin/python benchmarks/stages.py [partitions]``
"""

from __future__ import annotations

import sys
import time


def shuffle_graph(partitions: int) -> dict:
    """The task graph of a task-based shuffle, as dask would submit it."""
    from dask.base import collections_to_expr

    from teachkit.datasets import sales

    df = sales(rows=partitions * 10, partitions=partitions)
    q = df.shuffle("category", shuffle_method="tasks")
    return dict(collections_to_expr([q]).finalize_compute().optimize().__dask_graph__())


def synthetic_recording(graph: dict):
    """A Recording of ``graph`` run on two workers, 1 ms per task (pure data: no cluster)."""
    from dask.core import get_deps
    from dask.utils import key_split

    from teachkit.model.recording import Recording
    from teachkit.record.events import key_index, key_str

    dependencies, _ = get_deps(graph)
    tasks = []
    for key in graph:
        deps = sorted(key_str(d) for d in dependencies[key])
        name = key[0] if isinstance(key, tuple) else key
        tasks.append({"key": key_str(key), "group": str(name), "prefix": key_split(name), "index": key_index(key), "deps": deps})
    workers = ["tcp://127.0.0.1:1001", "tcp://127.0.0.1:1002"]
    events = [{"kind": "worker-present", "t": 0.0, "worker": w, "name": str(i), "nthreads": 1} for i, w in enumerate(workers)]
    outputs = {t["key"] for t in tasks} - {d for t in tasks for d in t["deps"]}
    events.append({"kind": "graph", "t": 0.0, "job": 0, "client": "bench", "keys": sorted(outputs), "span": ["shuffle"], "tasks": tasks})
    t = 0.001
    for i, task in enumerate(tasks):
        w = workers[i % 2]
        events.append({"kind": "tr", "t": t, "key": task["key"], "start": "waiting", "finish": "processing", "stimulus": "s", "worker": w})
        events.append({"kind": "tr", "t": t + 0.001, "key": task["key"], "start": "processing", "finish": "memory", "stimulus": "s",
                       "worker": w, "thread": 1, "nbytes": 1000, "compute": [t, t + 0.001]})
        t += 0.0005
    return Recording(events=events)


def main(partitions: int = 500) -> None:
    from teachkit.model.stages import derive_stages

    t0 = time.perf_counter()
    rec = synthetic_recording(shuffle_graph(partitions))
    job = rec.jobs[0]
    built = time.perf_counter() - t0
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        stages = derive_stages(job)
        best = min(best, time.perf_counter() - t0)
    print(f"{len(job.dask_tasks)} Dask tasks, {partitions} partitions (recording built in {built:.1f} s)")
    print(f"derive_stages: {best:.3f} s (best of 3) -> {[(s.name, s.num_tasks) for s in stages]}")
    if best > 1.0:
        raise SystemExit(f"too slow: {best:.2f} s > 1 s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
