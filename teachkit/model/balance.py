"""Dynamic assignment, read from a recorded job: who ran how many tasks, how many at once, what was stolen.

Spark's driver does not split a stage into fixed shares: it hands a task to an
executor whenever one of its slots is free, so an executor that finishes early
gets more.  Dask's scheduler does the same (it queues tasks and gives them out
as slots free up) and, unlike Spark, also **steals**: it moves a task that was
already handed to a busy worker, but has not started there, to an idle one.

Every function here reads the model's public objects (a :class:`~teachkit.model.jobs.Job`,
its stages, its Spark-style tasks and the attempts of its Dask tasks); none
touches a cluster or the raw events, so they work on saved recordings too.
Counts are **Spark-style tasks** (one per partition of a stage), the unit the
course and the exercise checks use.

>>> import teachkit
>>> rec = teachkit.Recording.load(teachkit.example_path("groupby"))
>>> job = rec.job("groupby count")
>>> sum(tasks_per_worker(job, job.stages[0]).values()) == job.stages[0].num_tasks
True
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from teachkit.model.fold import peaks

__all__ = [
    "Steal",
    "assigned_first",
    "Unevenness",
    "busy_until",
    "done_by",
    "peak_per_worker",
    "peak_running",
    "steals",
    "tasks_per_worker",
    "uneven_stages",
    "workers_at_start",
]


@dataclass(frozen=True)
class Steal:
    """One Spark-style task that work stealing moved from a busy worker to an idle one.

    ``start`` is when the thief started it (seconds since the recording
    started), ``None`` if it never started.
    """

    stage: int
    partition: int
    key: str  # the Dask key the scheduler moved
    victim: str  # friendly worker name it was taken from
    thief: str  # friendly worker name that ran it
    start: float | None


@dataclass(frozen=True)
class Unevenness:
    """A stage in which one worker ran many more tasks than another (``ratio = most / max(fewest, 1)``)."""

    stage: int
    busiest: str
    most: int
    quietest: str
    fewest: int

    @property
    def ratio(self) -> float:
        """How many times more tasks the busiest worker ran (the fewest counted as at least 1)."""
        return self.most / max(self.fewest, 1)


def workers_at_start(job: Any) -> list:
    """The workers alive when the job was submitted (a worker restarted later is not one of them)."""
    rec = job.recording
    workers = rec.workers if rec is not None else []
    t = job.submitted
    return [w for w in workers if (w.added is None or w.added <= t) and (w.removed is None or w.removed > t)]


def tasks_per_worker(job: Any, stage: Any = None) -> dict[str, int]:
    """Spark-style tasks each worker finished, in one stage (or the whole job), in worker order.

    Every worker alive at the job's start is listed, with 0 if it ran none of
    them (a slowed worker that ran nothing is the point of a lesson, not a gap).
    """
    tasks = job.tasks if stage is None else stage.tasks
    counts = Counter(t.worker for t in tasks if t.worker)
    names = [w.name for w in workers_at_start(job)]
    names += sorted(n for n in counts if n not in names)
    return {name: counts.get(name, 0) for name in names}


def uneven_stages(job: Any, ratio: float = 1.5) -> list[Unevenness]:
    """Stages in which a worker alive for the whole job ran at least ``ratio`` times the tasks of another.

    Workers that died or joined during the job are left out (their share is a
    fault's story, not the driver's load balancing).  A stage with fewer tasks
    than workers is left out too (somebody must run none).
    """
    end = job.end if job.end is not None else job.submitted
    steady = {w.name for w in workers_at_start(job) if w.removed is None or w.removed > end}
    out = []
    for stage in job.stages:
        if stage.num_tasks < len(steady) or len(steady) < 2:
            continue
        counts = {w: n for w, n in tasks_per_worker(job, stage).items() if w in steady}
        busiest = max(counts, key=lambda w: (counts[w], w))
        quietest = min(counts, key=lambda w: (counts[w], w))
        found = Unevenness(stage.id, busiest, counts[busiest], quietest, counts[quietest])
        if counts[busiest] > counts[quietest] and found.ratio >= ratio:
            out.append(found)
    return out


def steals(job: Any) -> list[Steal]:
    """Spark-style tasks moved by work stealing, in the order the thieves started them.

    A Spark-style task covers several Dask tasks; it counts once, by the first
    of its Dask tasks the scheduler moved (``Attempt.stolen_from``).
    """
    out = []
    for stage in job.stages:
        for task in stage.tasks:
            for key in task.keys:
                dtask = job.dask_tasks.get(key)
                moved = [a for a in (dtask.attempts if dtask else []) if a.stolen_from]
                if moved:
                    a = moved[0]
                    out.append(Steal(stage.id, task.partition, key, a.stolen_from, a.worker or "?", a.start))
                    break
    return sorted(out, key=lambda s: (s.start is None, s.start or 0.0, s.stage, s.partition))


def assigned_first(job: Any, stage: Any = None) -> dict[str, int]:
    """Spark-style tasks the driver first handed to each worker (before any steal moved them).

    A task stolen from a busy worker counts for that worker (its victim); any
    other task counts for the worker of its first attempt.
    """
    stolen = {(s.stage, s.partition): s.victim for s in steals(job)}
    counts: Counter = Counter()
    for task in job.tasks if stage is None else stage.tasks:
        victim = stolen.get((task.stage, task.partition))
        if victim is None:
            firsts = [a.worker for k in task.keys if k in job.dask_tasks
                      for a in job.dask_tasks[k].attempts[:1] if a.worker]
            victim = firsts[-1] if firsts else task.worker
        if victim:
            counts[victim] += 1
    return {name: counts.get(name, 0) for name in tasks_per_worker(job, stage)}


def peak_per_worker(job: Any, stage: Any = None) -> dict[str, int]:
    """The most Spark-style tasks each worker ran at the same moment (its task slots in use at once).

    Read from the fold the player shows (:func:`teachkit.model.fold.peaks`),
    so a lesson's number and the picture always agree: a task runs on a slot
    from its start to its finish as the job's log orders them.
    """
    per = peaks(job, stage)[1]
    return {name: per.get(name, 0) for name in tasks_per_worker(job, stage)}


def peak_running(job: Any, stage: Any = None) -> int:
    """The most Spark-style tasks running at the same moment on the whole cluster (see :func:`peak_per_worker`)."""
    return peaks(job, stage)[0]


def done_by(job: Any, t: float, stage: Any = None) -> dict[str, int]:
    """Spark-style tasks each worker had finished by time ``t`` (seconds since the recording started)."""
    tasks = job.tasks if stage is None else stage.tasks
    counts = Counter(task.worker for task in tasks if task.worker and task.stop is not None and task.stop <= t)
    return {name: counts.get(name, 0) for name in tasks_per_worker(job, stage)}


def busy_until(job: Any, stage: Any = None) -> dict[str, float]:
    """When each worker finished its last Spark-style task (of a stage, or of the job); workers with none left out."""
    tasks = job.tasks if stage is None else stage.tasks
    out: dict[str, float] = {}
    for task in tasks:
        if task.worker and task.stop is not None:
            out[task.worker] = max(out.get(task.worker, task.stop), task.stop)
    return dict(sorted(out.items()))
