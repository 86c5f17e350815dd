"""Synthetic recordings for the view tests and benchmarks (no cluster needed).

:func:`synthetic_recording` writes events in the recorder's wire format
(:mod:`teachkit.record.events`) for a job shaped like the seed's groupby:

- stage 0: ``make_partition → chunk → shuffle-transfer`` per input partition (output: shuffle),
- a P2P shuffle (``shuffle-barrier`` belongs to no stage; ``p2p`` events carry the bytes),
- stage 1: ``p2pshuffle → agg`` per output partition,
- stage 2: one ``finalize`` task that gathers everything to the driver.

``shuffle=False`` gives the ``pipeline`` shape instead (map, then one tree-reduce
task).  :func:`attach_stages` builds the contract's ``Stage``/``SparkTask``
objects by hand from the key prefixes, so views can be tested before (and
independently of) the real stage rule.
"""

from __future__ import annotations

import heapq

from teachkit.model.recording import Recording
from teachkit.model.stages import SparkTask, Stage

T0 = 1000.0
SID = "abc123"
STAGE_OF = {"make_partition": 0, "chunk": 0, "shuffle-transfer": 0, "p2pshuffle": 1, "agg": 1, "finalize": 2,
            "sum-tree": 1}


def _key(prefix: str, i: int | None) -> str:
    name = f"{prefix}-{SID}" if prefix in ("shuffle-transfer", "p2pshuffle", "shuffle-barrier") else f"{prefix}-h{len(prefix)}"
    return name if i is None else f"{name}|{i}"


def _graph(n: int, m: int, shuffle: bool) -> list[dict]:
    """Task specs in submission (topological) order."""
    tasks: list[dict] = []

    def add(prefix: str, i: int | None, deps: list[str]) -> str:
        key = _key(prefix, i)
        tasks.append({"key": key, "group": key.split("|")[0], "prefix": prefix, "index": i, "deps": deps})
        return key

    chunks = [add("chunk", i, [add("make_partition", i, [])]) for i in range(n)]
    if not shuffle:
        add("sum-tree", 0, chunks)
        return tasks
    transfers = [add("shuffle-transfer", i, [c]) for i, c in enumerate(chunks)]
    barrier = add("shuffle-barrier", None, transfers)
    aggs = [add("agg", j, [add("p2pshuffle", j, [barrier])]) for j in range(m)]
    add("finalize", None, aggs)
    return tasks


def synthetic_events(partitions: int = 16, out_partitions: int | None = None, workers: int = 3, threads: int = 1,
                     task_s: float = 0.01, shuffle: bool = True, kill: tuple[int, float] | None = None,
                     fail_at: int | None = None) -> list[dict]:
    """Events of one job run on ``workers`` × ``threads`` slots (see module docstring).

    ``kill=(w, t)`` kills worker ``w`` (0-based) ``t`` seconds into the job: its
    running tasks are released and re-run elsewhere, results it held for the
    running stage are lost and recomputed.  ``fail_at=i`` makes the ``i``-th task
    (in submission order) raise, which ends the job.
    """
    m = out_partitions if out_partitions is not None else partitions
    specs = _graph(partitions, m, shuffle)
    addrs = [f"tcp://10.0.0.{w + 1}:4000" for w in range(workers)]
    ev: list[dict] = [{"kind": "worker-present", "t": T0, "worker": a, "name": str(w), "nthreads": threads}
                      for w, a in enumerate(addrs)]
    outputs = [specs[-1]["key"]]
    ev.append({"kind": "graph", "t": T0 + 0.01, "job": 0, "client": "c", "keys": outputs, "span": ["synthetic"],
               "tasks": specs})
    ev += [{"kind": "tr", "t": T0 + 0.02, "key": s["key"], "start": "released", "finish": "waiting",
            "stimulus": "update-graph"} for s in specs]
    slots = [(T0 + 0.03, w, th) for w in range(workers) for th in range(threads)]
    heapq.heapify(slots)
    done: dict[str, tuple[float, int]] = {}  # key -> (ready time, worker)
    dead: tuple[int, float] | None = (kill[0], T0 + 0.03 + kill[1]) if kill else None
    sizes = {s["key"]: 2048 if s["prefix"] != "make_partition" else 8192 for s in specs}
    dependents: dict[str, int] = {}
    for s in specs:
        for d in s["deps"]:
            dependents[d] = dependents.get(d, 0) + 1
    handled = False

    def place(key: str, ready: float, dur: float) -> tuple[float, float, int, int]:
        """Run ``key`` on the first free live slot; return (start, stop, worker, thread)."""
        while True:
            free, w, th = heapq.heappop(slots)
            start = max(free, ready) + 0.001
            if not (dead and w == dead[0] and start >= dead[1]):  # a dead worker's slots never come back
                break
        ev.append({"kind": "tr", "t": start - 0.001, "key": key, "start": "waiting", "finish": "processing",
                   "stimulus": "s", "worker": addrs[w]})
        stop = start + dur
        if dead and w == dead[0] and start < dead[1] < stop:  # dies while running it: re-run elsewhere
            for t, fin in ((0.001, "released"), (0.002, "waiting")):
                ev.append({"kind": "tr", "t": dead[1] + t, "key": key, "start": "processing" if fin == "released"
                           else "released", "finish": fin, "stimulus": "handle-worker-cleanup-1"})
            return place(key, dead[1] + 0.002, dur)
        return start, stop, w, th

    def finish(key: str, start: float, stop: float, w: int, th: int) -> None:
        ev.append({"kind": "tr", "t": stop + 0.0005, "key": key, "start": "processing", "finish": "memory",
                   "stimulus": "task-finished", "worker": addrs[w], "thread": 100 + th, "nbytes": sizes[key],
                   "compute": [start, stop]})
        done[key] = (stop + 0.0005, w)
        heapq.heappush(slots, (stop, w, th))

    for pos, s in enumerate(specs):
        key, ready = s["key"], max([done[d][0] for d in s["deps"]] + [T0 + 0.03])
        if dead and not handled and ready >= dead[1]:  # results held by the dead worker are lost: recompute
            handled = True
            for k, (_, w) in list(done.items()):
                if w == dead[0] and dependents.get(k):
                    for t, (a, b) in ((0.001, ("memory", "released")), (0.002, ("released", "waiting"))):
                        ev.append({"kind": "tr", "t": dead[1] + t, "key": k, "start": a, "finish": b,
                                   "stimulus": "handle-worker-cleanup-1"})
                    finish(k, *place(k, dead[1] + 0.002, task_s))
            ready = max([done[d][0] for d in s["deps"]] + [T0 + 0.03])
        dur = task_s * 0.2 if s["prefix"] in ("shuffle-barrier", "finalize") else task_s
        start, stop, w, th = place(key, ready, dur)
        if fail_at is not None and pos == fail_at:
            ev.append({"kind": "tr", "t": stop + 0.0005, "key": key, "start": "processing", "finish": "erred",
                       "stimulus": "task-erred", "worker": addrs[w], "error": "ZeroDivisionError('division by zero')"})
            break
        remote = {done[d][1] for d in s["deps"]} - {w}
        for src in sorted(remote)[:3]:
            ks = {d: sizes[d] for d in s["deps"] if done[d][1] == src}
            ev.append({"kind": "fetch", "t": start, "worker": addrs[w], "source": addrs[src], "start": start - 0.0008,
                       "stop": start - 0.0002, "keys": ks, "nbytes": sum(ks.values())})
        finish(key, start, stop, w, th)
    if dead:
        ev.append({"kind": "worker-removed", "t": dead[1], "worker": addrs[dead[0]], "cause": "lost",
                   "stimulus": "handle-worker-cleanup-1"})
    if shuffle and "agg" in {s["prefix"] for s in specs if s["key"] in done}:
        ev += _p2p_events(specs, done, addrs, m)
    ev += _releases(specs, done, outputs)
    ev.sort(key=lambda e: e["t"])
    return ev


def _p2p_events(specs, done, addrs, m) -> list[dict]:
    sent: dict[int, int] = {}  # source worker -> transfer tasks it ran
    for s in specs:
        if s["prefix"] == "shuffle-transfer" and s["key"] in done:
            sent[done[s["key"]][1]] = sent.get(done[s["key"]][1], 0) + 1
    per: dict[tuple[int, int], dict[str, int]] = {}
    for j in range(m):
        dest = done[_key("agg", j)][1] if _key("agg", j) in done else 0
        for src, count in sent.items():
            per.setdefault((src, dest), {})[str(j)] = 512 * count
    t = max(v[0] for v in done.values())
    return [{"kind": "p2p", "t": t, "shuffle": SID, "source": addrs[a], "dest": addrs[b],
             "nbytes": sum(p.values()), "partitions": p} for (a, b), p in sorted(per.items())]


def _releases(specs, done, outputs) -> list[dict]:
    last_use: dict[str, float] = {}
    for s in specs:
        if s["key"] in done:
            for d in s["deps"]:
                last_use[d] = max(last_use.get(d, 0.0), done[s["key"]][0])
    return [{"kind": "tr", "t": t + 0.0001, "key": k, "start": "memory", "finish": "released", "stimulus": "release"}
            for k, t in last_use.items() if k not in outputs and all(d in done for d in [k])]


def synthetic_recording(**options) -> Recording:
    """A :class:`Recording` of :func:`synthetic_events` (with stages attached by hand)."""
    rec = Recording(synthetic_events(**options), {"t0": T0, "example": "synthetic"})
    for job in rec.jobs:
        attach_stages(job)
    return rec


def attach_stages(job) -> list[Stage]:
    """Build Stage/SparkTask objects from key prefixes and cache them as ``job.stages``."""
    by_stage: dict[int, dict[int, list]] = {}
    for t in job.dask_tasks.values():
        sid = STAGE_OF.get(t.prefix)
        if sid is not None:
            by_stage.setdefault(sid, {}).setdefault(t.index or 0, []).append(t)
    names = {0: ["read", "chunk"], 1: ["unpack", "agg"] if 2 in by_stage else ["sum"], 2: ["gather"]}
    stages = []
    for sid in sorted(by_stage):
        tasks = [_spark_task(sid, p, ts) for p, ts in sorted(by_stage[sid].items())]
        last = sid == max(by_stage)
        shuffle_parent = sid == 1 and 2 in by_stage
        stage = Stage(id=sid, name=" → ".join(names[sid]), ops=names[sid], groups=sorted({t.group for ts in by_stage[sid].values() for t in ts}),
                      tasks=tasks, parents=[sid - 1] if sid else [],
                      boundaries={sid - 1: "shuffle" if shuffle_parent else "tree-reduce"} if sid else {},
                      output="driver" if last else ("shuffle" if sid == 0 and 2 in by_stage else "tree-reduce"),
                      start=min((t.start for t in tasks if t.start is not None), default=None),
                      end=max((t.stop for t in tasks if t.stop is not None), default=None),
                      shuffle_write_bytes=512 * len(tasks) * len(by_stage.get(1, {})) if sid == 0 and 2 in by_stage else 0,
                      shuffle_read_bytes=512 * len(by_stage[0]) * len(tasks) if shuffle_parent else 0,
                      workers={}, job=job)
        for t in tasks:
            if t.worker:
                stage.workers[t.worker] = stage.workers.get(t.worker, 0) + 1
        stages.append(stage)
    job._derived["stages"] = stages
    return stages


def _spark_task(sid: int, part: int, dtasks: list) -> SparkTask:
    atts = [a for t in dtasks for a in t.attempts]
    final = dtasks[-1].final
    starts = [a.start for a in atts if a.start is not None]
    stops = [a.stop for a in atts if a.stop is not None]
    status = "pending"
    if any(a.outcome == "erred" for a in atts):
        status = "failed"
    elif all(t.final is not None and t.final.outcome == "done" for t in dtasks):
        status = "done"
    return SparkTask(stage=sid, partition=part, keys=[t.key for t in dtasks], worker=final.worker if final else None,
                     slot=final.slot if final else None, start=min(starts, default=None), stop=max(stops, default=None),
                     attempts=max((len(t.attempts) for t in dtasks), default=0), status=status)


def empty_job():
    """A job with no tasks at all."""
    from teachkit.model.jobs import Job

    job = Job(index=0, name="empty", submitted=0.0, keys=[], dask_tasks={})
    job._derived["stages"] = []
    return job
