"""How the driver recovered from a worker's death, read from a recorded job: what ran again, where, and why.

When a worker dies, Spark's driver (and Dask's scheduler) does three things:
the tasks the dead worker was running are **re-assigned** to other workers
(cause ``worker-lost``); the finished results it held that are still needed
are **recomputed from lineage** (``result-lost``), and so, if needed, are the
earlier tasks that fed them (``lineage``).  Dask adds a fourth, where Spark
would not: a P2P shuffle a dead worker took part in **starts over**
(``shuffle-restart``; also ``input-lost`` for tasks whose input vanished).

:func:`reruns` lists every Spark-style task that ran again for one of these
reasons, with the worker it first ran on and the one that made the result in
the end; Dask's routine reschedules (a P2P unpack task moved without any
failure) are left out.  Everything is read from the model's public objects, so
saved recordings work too.

>>> import teachkit
>>> rec = teachkit.Recording.load(teachkit.example_path("killed"))
>>> job = rec.job("groupby count, worker-2 killed")
>>> {r.cause for r in reruns(job)} <= set(FAULT_CAUSES)
True
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["FAULT_CAUSES", "Rerun", "causes_by_stage", "reruns"]

#: Attempt causes (see :mod:`teachkit.model.jobs`) that exist because a worker died, most telling first.
FAULT_CAUSES = ("result-lost", "worker-lost", "shuffle-restart", "input-lost", "lineage")

#: One sentence per cause, in the course's words.
CAUSE_WORDS = {
    "worker-lost": "it was running (or waiting to run) on the dead worker, so the driver re-assigned it",
    "result-lost": "its finished result died with the worker and was still needed, so it was recomputed from lineage",
    "lineage": "it had finished and been released, and ran again to rebuild a lost result downstream (lineage)",
    "shuffle-restart": "Dask restarted the whole P2P shuffle the dead worker took part in (Spark would not)",
    "input-lost": "an input it needed died with the worker, so it was taken back and run again",
}


@dataclass(frozen=True)
class Rerun:
    """One Spark-style task that ran again because a worker died.

    ``causes`` are the causes of its Dask tasks' extra attempts, most telling
    first (see :data:`FAULT_CAUSES`), ``cause`` the first of them (a task whose
    finished pieces were lost while its last piece ran on the dead worker has
    both ``result-lost`` and ``worker-lost``); ``first_worker`` ran its first
    attempt, ``final_worker`` produced the result that counted.
    """

    stage: int
    partition: int
    causes: tuple[str, ...]
    attempts: int
    first_worker: str | None
    final_worker: str | None

    @property
    def cause(self) -> str:
        """The most telling cause (the first of ``causes``)."""
        return self.causes[0]

    @property
    def why(self) -> str:
        """The cause in one clause (see :data:`CAUSE_WORDS`)."""
        return CAUSE_WORDS.get(self.cause, self.cause)


def reruns(job: Any) -> list[Rerun]:
    """Every Spark-style task of ``job`` that ran again because a worker died, by stage and partition."""
    out = []
    for stage in job.stages:
        for task in stage.tasks:
            attempts = [a for k in task.keys if k in job.dask_tasks for a in job.dask_tasks[k].attempts]
            causes = {a.cause for a in attempts if a.number > 1 and a.cause in FAULT_CAUSES}
            if not causes:
                continue
            ordered = tuple(c for c in FAULT_CAUSES if c in causes)
            first = next((a.worker for a in attempts if a.number == 1 and a.worker), None)
            out.append(Rerun(stage.id, task.partition, ordered, task.attempts, first, task.worker))
    return out


def causes_by_stage(job: Any) -> dict[int, Counter]:
    """Stage id -> how many of its Spark-style tasks ran again for each cause (a task counts once per cause it has)."""
    out: dict[int, Counter] = {}
    for r in reruns(job):
        for cause in r.causes:
            out.setdefault(r.stage, Counter())[cause] += 1
    return out
