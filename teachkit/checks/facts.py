"""The truth a check compares with: found in the question's own job, from the model's public objects.

:func:`bind_job` finds the question's job in the recording the learner passed
(by the name given with ``teachkit.job(...)``) or says, in one sentence, why it
cannot.  The other functions compute facts the model does not offer directly,
always in **Spark-style tasks** (one per partition of a stage: ``job.tasks``),
the unit the hints use too.  Nothing here is a hard-coded number.
"""

from __future__ import annotations

import numbers
import re
from collections import Counter
from typing import Any

from teachkit.checks.answers import kind
from teachkit.checks.feedback import Reply
from teachkit.model.jobs import Job
from teachkit.model.recording import Recording

#: Attempt causes that exist because a worker died (see :mod:`teachkit.model.jobs`).
FAULT_CAUSES = frozenset({"worker-lost", "result-lost", "lineage", "shuffle-restart", "input-lost"})


def bind_job(rec: Any, job: int | str | None) -> Job:
    """The question's job in ``rec``: the last job named ``job`` (or at that position; ``None``: the last)."""
    if rec is ...:
        raise Reply(None, "run the question's cells first: they make the recording this check reads")
    if isinstance(rec, Job):
        raise Reply(False, "you passed one job of a recording; pass the whole recording (the `rec` from "
                           "`with teachkit.record(cluster) as rec:`)")
    if not isinstance(rec, Recording):
        raise Reply(False, f"the first argument should be the recording from `with teachkit.record(cluster) as rec:`, "
                           f"but it is {kind(rec)}")
    from teachkit.replay_mode import gap

    not_replayed = gap(rec)  # replay mode, and the block's job is not a shipped run
    if not_replayed is not None:
        raise Reply(None, f"replay mode: {not_replayed}, so it has no recorded run to check: this check needs a "
                          "live cluster (run the notebook where worker processes can start)")
    jobs = rec.jobs
    if job is None or (isinstance(job, int) and not isinstance(job, bool)):
        if not jobs:
            raise Reply(None, "this recording has no job yet: run a compute() or persist() inside "
                              "`with teachkit.record(cluster) as rec:`")
        try:
            return jobs[-1 if job is None else job]
        except IndexError:
            raise Reply(False, f"this recording has {len(jobs)} job(s), so there is no job {job}") from None
    if not isinstance(job, str):
        raise Reply(False, f"job= should name the question's job (text), not {kind(job)}")
    named = [j for j in jobs if j.name == job or j.name.endswith(f" / {job}")]
    if named:
        return named[-1]
    if not jobs:
        raise Reply(None, f"this recording has no job yet: run your job inside `with teachkit.job({job!r}):` "
                          "within the recording block")
    names = ", ".join(repr(j.name) for j in jobs[:4]) + (" ..." if len(jobs) > 4 else "")
    raise Reply(False, f"this recording has no job named {job!r} (it has {names}): pass the recording made for "
                       f"this question, whose job runs inside `teachkit.job({job!r})`")


def stages_of(job: Job) -> list:
    """The job's stages; "your turn" when it ran nothing (e.g. its results were already in memory)."""
    if job.errors:
        raise Reply(False, f"the job {job.name!r} failed ({job.errors[0][:120]}); fix it and run the cell again")
    stages = job.stages
    if not stages:
        raise Reply(None, f"the job {job.name!r} ran no task (its results were already in memory from an earlier "
                          "job?): run the cell that builds the data, then this question's cell, again")
    return stages


def stage_of(job: Job, stage: Any) -> Any:
    """One stage by id, or a sentence listing the ids there are."""
    stages = stages_of(job)
    if isinstance(stage, bool) or not isinstance(stage, int) or not 0 <= stage < len(stages):
        raise Reply(False, f"there is no stage {stage!r} in the job {job.name!r}: its stages are numbered "
                           f"0 to {len(stages) - 1}")
    return stages[stage]


def worker_names(rec: Recording) -> list[str]:
    """Names of every worker the recording saw (``worker-1 ...``, a restarted one ``worker-2b``)."""
    return [w.name for w in rec.workers]


def workers_at_start(job: Job) -> list:
    """The workers alive when the job was submitted (a restarted worker joins later)."""
    rec = job.recording
    workers = rec.workers if rec is not None else []
    t = job.submitted
    return [w for w in workers if (w.added is None or w.added <= t) and (w.removed is None or w.removed > t)]


def tasks_by_worker(job: Job, stage: Any = None) -> Counter:
    """Spark-style tasks per worker (the worker that produced each task's final result)."""
    tasks = job.tasks if stage is None else stage.tasks
    return Counter(t.worker for t in tasks if t.worker)


def shuffle_edges(job: Job) -> list[tuple[int, int, int]]:
    """``(parent, child, bytes)`` for every shuffle boundary, bytes as the stage DAG labels its arrow."""
    stages = stages_of(job)
    by_id = {s.id: s for s in stages}
    children = Counter(p for s in stages for p in s.parents)
    out = []
    for s in stages:
        for p in s.parents:
            if s.boundaries.get(p) != "shuffle":
                continue
            parent = by_id.get(p)
            if parent is not None and children[p] == 1 and parent.shuffle_write_bytes:
                nbytes = parent.shuffle_write_bytes
            elif len(s.parents) == 1:
                nbytes = s.shuffle_read_bytes
            else:
                nbytes = 0
            out.append((p, s.id, int(nbytes or 0)))
    return out


def fault_reruns(job: Job) -> dict[int, set[int]]:
    """Stage id -> partitions whose task ran again because a worker died (not Dask's routine reschedules)."""
    out: dict[int, set[int]] = {}
    for stage in job.stages:
        for task in stage.tasks:
            attempts = [a for k in task.keys if k in job.dask_tasks for a in job.dask_tasks[k].attempts]
            if any(a.number > 1 and a.cause in FAULT_CAUSES for a in attempts):
                out.setdefault(stage.id, set()).add(task.partition)
    return out


def lost_results(job: Job) -> list[tuple[int, int]]:
    """``(stage, partition)`` of every task whose finished result died with its worker and was computed again."""
    out = []
    for stage in job.stages:
        for task in stage.tasks:
            attempts = [a for k in task.keys if k in job.dask_tasks for a in job.dask_tasks[k].attempts]
            if any(a.cause == "result-lost" for a in attempts):
                out.append((stage.id, task.partition))
    return out


def dead_workers(job: Job) -> list[str]:
    """Workers that died during the job (from :func:`teachkit.model.failures.job_faults`)."""
    from teachkit.model.failures import job_faults

    return [w["worker"] for w in job_faults(job)["workers_lost"]]


def peak_running(job: Job) -> int:
    """Most Spark-style tasks running at the same moment.

    A task runs while one of its Dask tasks computes, and one task slot (a
    worker thread) runs one at a time: at each moment the count is the smaller
    of the tasks running and the slots busy, so the few milliseconds by which
    recorded start and stop times of one slot's back-to-back tasks can overlap
    never count twice.
    """
    owner = {k: (t.stage, t.partition) for t in job.tasks for k in t.keys}
    edges = []
    for key, dtask in job.dask_tasks.items():
        if key not in owner:
            continue  # gather and shuffle-barrier tasks belong to no stage
        for a in dtask.attempts:
            if a.start is not None and a.stop is not None and a.stop >= a.start:
                slot = (a.worker, a.slot if a.slot is not None else a.thread)
                edges += [(a.start, 1, owner[key], slot), (a.stop, -1, owner[key], slot)]
    edges.sort(key=lambda e: (e[0], e[1]))  # a stop before a start at the same instant
    tasks: Counter = Counter()
    busy: Counter = Counter()
    peak = 0
    for _, delta, task, slot in edges:
        for counter, item in ((tasks, task), (busy, slot)):
            counter[item] += delta
            if counter[item] <= 0:
                del counter[item]
        peak = max(peak, min(len(tasks), len(busy)))
    return peak


def slots(job: Job) -> tuple[int, int]:
    """``(workers, task slots)`` of the cluster when the job started."""
    alive = workers_at_start(job)
    return len(alive), sum(w.nthreads for w in alive)


_TOKEN = re.compile(r"-[0-9a-f]{32}(?=\||$)")


def stage_of_key(job: Job, key: str) -> int | None:
    """The stage whose task covers a Dask key (full, or without its hash: ``'p2pshuffle|1'``)."""
    for task in job.tasks:
        for k in task.keys:
            if k == key or _TOKEN.sub("", k) == key:
                return task.stage
    return None


def plan_text(job: Job) -> str:
    """The logical and optimised plans as text ('' when the recording has none)."""
    plan = job.plan
    return "\n".join(filter(None, (plan.logical, plan.optimized)))


def same_result(a: Any, b: Any) -> bool:
    """Whether two results are equal (pandas objects compared with their rows sorted; numbers with a tolerance)."""
    import pandas as pd

    try:
        if hasattr(a, "compute") and hasattr(a, "dask"):
            return False  # a lazy dask collection is not a result yet
        if isinstance(a, (pd.DataFrame, pd.Series)) and isinstance(b, type(a)):
            left, right = a.sort_index(), b.sort_index()
            if isinstance(a, pd.DataFrame):
                left, right = left[sorted(left.columns)], right[sorted(right.columns)]
            pd.testing.assert_series_equal(left, right, check_dtype=False, check_names=False) if isinstance(
                a, pd.Series) else pd.testing.assert_frame_equal(left, right, check_dtype=False)
            return True
        if isinstance(a, numbers.Real) and isinstance(b, numbers.Real) and not isinstance(a, bool):
            return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
        return type(a) is type(b) and isinstance(a, (str, tuple, list, dict)) and a == b
    except Exception:
        return False
