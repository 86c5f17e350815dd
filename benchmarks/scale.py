"""What a 50,000-task job costs in each view: time and bytes (issue 18's targets: each view <= 2 s and <= 2 MB).

    .venv/bin/python benchmarks/scale.py                 # a simulated run of a real 50k-task graph (seconds)
    .venv/bin/python benchmarks/scale.py --real          # record a real one once (~6 min here), cached in /tmp
    .venv/bin/python benchmarks/scale.py REC.json.gz     # any saved recording (its last job)

The job is Dask's task-based shuffle of 780 partitions and a sum
(``sales(...).shuffle("id", shuffle_method="tasks").id.sum()``): 51,609 Dask
tasks, 1,561 Spark-style tasks in 3 stages.  Recording it for real takes about
7 ms a task on these 2 cores (~6 minutes), so by default the very graph dask
builds for it (no cluster) is run by a small simulator: five one-slot
workers, a list scheduler, every task's transitions, dependency fetches and
releases in the recorder's wire format.  ``--real`` records the job once on a
3-worker cluster and keeps the file in ``/tmp`` for later runs.

Printed per view: seconds of CPU (the process's own time and its ``dot``'s,
which other work on a loaded machine disturbs far less than wall time), wall seconds, and the bytes
a notebook would store (the HTML a picture shows; the player's JSON data).  The
model (reading the events, the stage rule) is built once per job and printed
apart: every view reads it.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: Partitions of the task-based shuffle: 780 gives 51,609 Dask tasks.
PARTITIONS = 780
REAL_CACHE = Path("/tmp/teachkit-scale-real.json.gz")
TARGET_S, TARGET_BYTES = 2.0, 2_000_000


def job_query(partitions: int = PARTITIONS):
    """The benchmark's job: a task-based shuffle and a sum (rows made on the workers)."""
    from teachkit.datasets import sales

    return sales(rows=partitions * 20, partitions=partitions).shuffle("id", shuffle_method="tasks").id.sum()


def graph_specs(query) -> tuple[list[dict], list[str], dict]:
    """The graph dask submits for ``query.compute()``, as the recorder's graph tasks; output keys; plan event."""
    from dask.base import collections_to_expr
    from dask.core import get_deps
    from distributed.utils import key_split_group
    from dask.utils import key_split

    from teachkit.record.events import key_index, key_str
    from teachkit.record.plan import plan_name, tree_text

    expr = collections_to_expr([query]).finalize_compute().optimize()
    graph = dict(expr.__dask_graph__())
    deps, _ = get_deps(graph)
    specs = [{"key": key_str(k), "group": key_split_group(k), "prefix": key_split(k), "index": key_index(k),
              "deps": sorted(key_str(d) for d in deps[k])} for k in graph]
    outputs = [key_str(k) for k in expr.__dask_keys__()] if hasattr(expr, "__dask_keys__") else []
    plan = {"kind": "plan", "logical": tree_text(query.expr), "optimized": tree_text(expr), "name": plan_name(query.expr),
            "action": "compute"}
    return specs, [k for k in outputs if isinstance(k, str)] or [specs[-1]["key"]], plan


def simulate(specs: list[dict], outputs: list[str], plan: dict | None = None, workers: int = 5,
             task_s: float = 0.004, t0: float = 1000.0, name: str = "task shuffle at scale"):
    """A plausible recording of ``specs`` run on ``workers`` one-slot workers (a greedy list scheduler).

    Every task goes released → waiting → processing → memory (with its compute
    span, thread and bytes) → released once its last dependent finished;
    results read from another worker are fetched first; a P2P shuffle's
    transfer task sends its rows to the next worker (a ``p2p`` event).
    Deterministic.
    """
    from teachkit.model.recording import Recording
    from teachkit.record.dask_names import shuffle_id

    addrs = [f"tcp://127.0.0.1:{4000 + w}" for w in range(workers)]
    ev: list[dict] = [{"kind": "worker-present", "t": t0, "worker": a, "name": str(i), "nthreads": 1}
                      for i, a in enumerate(addrs)]
    t = t0 + 0.01
    if plan:
        ev.append({**plan, "t": t, "keys": outputs})
    ev.append({"kind": "graph", "t": t, "job": 0, "client": "bench", "keys": outputs, "span": [name], "tasks": specs})
    ev += [{"kind": "tr", "t": t, "key": s["key"], "start": "released", "finish": "waiting",
            "stimulus": f"update-graph-{t}"} for s in specs]
    deps = {s["key"]: s["deps"] for s in specs}
    dependents: dict[str, list[str]] = {s["key"]: [] for s in specs}
    for s in specs:
        for d in s["deps"]:
            dependents[d].append(s["key"])
    missing = {k: len(d) for k, d in deps.items()}
    users = {k: len(c) for k, c in dependents.items()}
    order = {s["key"]: i for i, s in enumerate(specs)}
    ready = [(order[k], k) for k, n in missing.items() if n == 0]
    heapq.heapify(ready)
    free = [(t, w) for w in range(workers)]
    heapq.heapify(free)
    running: list[tuple[float, int, str, int, float]] = []
    where: dict[str, int] = {}
    now = t
    while ready or running:
        while free and ready and free[0][0] <= now:
            _, w = heapq.heappop(free)
            _, key = heapq.heappop(ready)
            ev.append({"kind": "tr", "t": now, "key": key, "start": "waiting", "finish": "processing",
                       "stimulus": f"task-finished-{now}", "worker": addrs[w]})
            start = now + 0.0004
            remote = sorted({where[d] for d in deps[key]} - {w})
            for src in remote:
                keys = {d: 4000 for d in deps[key] if where[d] == src}
                ev.append({"kind": "fetch", "t": start, "worker": addrs[w], "source": addrs[src],
                           "start": start, "stop": start + 0.0003, "keys": keys, "nbytes": sum(keys.values())})
                start += 0.0003
            stop = start + task_s * (0.5 + (order[key] * 7919 % 100) / 100)
            heapq.heappush(running, (stop, order[key], key, w, start))
        if not running:
            now = free[0][0]
            continue
        stop, _, key, w, start = heapq.heappop(running)
        now = stop + 0.0003
        stim = f"task-finished-{now:.6f}"
        where[key] = w
        ev.append({"kind": "tr", "t": now, "key": key, "start": "processing", "finish": "memory", "stimulus": stim,
                   "worker": addrs[w], "thread": 1, "nbytes": 4000, "compute": [start, stop]})
        if key.startswith("shuffle-transfer") and shuffle_id(key):
            ev.append({"kind": "p2p", "t": now, "shuffle": shuffle_id(key), "source": addrs[w],
                       "dest": addrs[(w + 1) % workers], "nbytes": 6000, "partitions": {key.rsplit("|", 1)[-1]: 6000}})
        for d in deps[key]:
            users[d] -= 1
            if users[d] == 0:
                ev.append({"kind": "tr", "t": now, "key": d, "start": "memory", "finish": "released", "stimulus": stim})
        for c in dependents[key]:
            missing[c] -= 1
            if missing[c] == 0:
                heapq.heappush(ready, (order[c], c))
        heapq.heappush(free, (now, w))
    now += 0.005
    ev += [{"kind": "tr", "t": now, "key": k, "start": "memory", "finish": "released",
            "stimulus": f"client-releases-keys-{now}"} for k in outputs]
    ev.sort(key=lambda e: e["t"])
    return Recording(ev, {"t0": t0, "example": "scale benchmark (simulated)"})


def record_real(path: Path = REAL_CACHE, partitions: int = PARTITIONS):
    """Record the benchmark's job on a real 3-worker cluster once; later runs load the file."""
    import teachkit

    if path.exists():
        return teachkit.Recording.load(path)
    print(f"recording the real job once ({partitions} partitions, task-based shuffle; minutes) ...", flush=True)
    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1, dashboard=False)
    try:
        query = job_query(partitions)
        with teachkit.record(cluster) as rec:
            with teachkit.job("task shuffle at scale"):
                query.compute()
    finally:
        cluster.close()
    rec.save(path)
    return rec


def _cpu() -> float:
    """CPU seconds of this process and of the programs it ran (Graphviz's ``dot``)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(label: str, build) -> tuple[float, float, int]:
    """CPU seconds, wall seconds and bytes of what ``build()`` returns (text, or JSON-ready data)."""
    cpu, wall = _cpu(), time.perf_counter()
    out = build()
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    size = len(out.encode("utf-8")) if isinstance(out, str) else len(json.dumps(out, separators=(",", ":")))
    ok = "ok" if cpu <= TARGET_S and size <= TARGET_BYTES else "OVER TARGET"
    print(f"  {label:34s} {cpu:6.2f} s CPU  {wall:6.2f} s wall  {size / 1e6:7.3f} MB  {ok}", flush=True)
    return cpu, wall, size


def views(rec, job) -> list[tuple[str, object]]:
    """Every picture of one job, each as what a notebook stores (HTML, or the player's data)."""
    from teachkit.views.player import player_data

    mid = (job.start + job.end) / 2 if job.start is not None and job.end is not None else None
    every = [t.partition for s in job.stages for t in s.tasks]
    return [
        ("stage DAG (with dot)", lambda: job.stage_dag()._repr_mimebundle_()["text/html"]),
        ("task DAG (with dot)", lambda: job.task_dag()._repr_mimebundle_()["text/html"]),
        ("task DAG, every task asked for", lambda: job.task_dag(partitions=every)._repr_mimebundle_()["text/html"]),
        ("timeline", lambda: job.timeline()._repr_mimebundle_()["text/html"]),
        ("cluster view (mid-job)", lambda: rec.cluster_view(at=mid)._repr_mimebundle_()["text/html"]),
        ("shuffle view (every stage)", lambda: "".join(s.shuffle_view()._repr_mimebundle_()["text/html"]
                                                        for s in job.stages)),
        ("explain", lambda: job.explain()._repr_html_()),
        ("player (frames + both pictures)", lambda: player_data(rec, job)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", nargs="?", help="a saved recording (its last job)")
    parser.add_argument("--real", action="store_true", help=f"record a real job once, cached in {REAL_CACHE}")
    parser.add_argument("--partitions", type=int, default=PARTITIONS)
    args = parser.parse_args()

    import teachkit

    start = time.perf_counter()
    if args.recording:
        rec, label = teachkit.Recording.load(args.recording), args.recording
    elif args.real:
        rec, label = record_real(partitions=args.partitions), f"real run ({REAL_CACHE})"
    else:
        rec, label = simulate(*graph_specs(job_query(args.partitions))), "simulated run of dask's own graph"
    print(f"{label}: {len(rec.events):,} events, ready in {time.perf_counter() - start:.1f} s")
    cpu = time.process_time()
    job = rec.jobs[-1]
    t_jobs = time.process_time() - cpu
    cpu = time.process_time()
    stages = job.stages
    job.boundaries
    t_stages = time.process_time() - cpu
    print(f"job {job.name!r}: {len(job.dask_tasks):,} Dask tasks, {sum(s.num_tasks for s in stages):,} Spark-style "
          f"tasks in {len(stages)} stages, {len(job.changes):,} changes")
    print(f"  model, once per job: events read {t_jobs:.2f} s CPU, stages and boundaries {t_stages:.2f} s CPU")
    print(f"views (targets: <= {TARGET_S:g} s and <= {TARGET_BYTES / 1e6:g} MB each):")
    for name, build in views(rec, job):
        measure(name, build)


if __name__ == "__main__":
    main()
