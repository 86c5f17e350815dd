"""Checks for lesson 6, early finishers and stragglers: steals, and a straggler's share of the work.

Counts are Spark-style tasks (one per partition of a stage), as in every
check; the truth comes from :mod:`teachkit.model.balance` on the recording the
learner passes.  Like every check they never raise and never give the answer.

- :func:`check_steals` (predict, or read the picture): how many tasks work
  stealing moved from a busy worker to an idle one.
- :func:`check_straggler_share` (change the job to reach a target): the
  slowed worker ran at most a given share of a stage's tasks, in a stage with
  enough tasks for the driver to share out.

>>> import teachkit
>>> rec = teachkit.Recording.load(teachkit.example_path("straggler"))
>>> check_steals(rec, ..., job="work on kept partitions, worker-3 slowed").ok is None
True
>>> check_steals(rec, "3", job="work on kept partitions, worker-3 slowed").ok
False
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from teachkit.checks import facts
from teachkit.checks.answers import unanswered, whole_number
from teachkit.checks.feedback import Feedback, Miss, Reply, check, correct
from teachkit.model.balance import steals, tasks_per_worker

__all__ = ["check_steals", "check_straggler_share"]

#: A stage must have at least this many tasks per worker for a share to mean anything.
MIN_TASKS_PER_WORKER = 2



@check
def check_steals(rec: Any, answer: Any, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the number of tasks that work stealing moved from a busy worker to an idle one?

    A run with no steal has no question to answer: the check says "your turn"
    and asks for a new run (never ✔).
    """
    unanswered(answer, "the number of tasks that were stolen")
    j = facts.bind_job(rec, job)
    facts.stages_of(j)
    truth = len(steals(j))
    if truth == 0:
        raise Reply(None, f"no task was stolen in the job {j.name!r}, so there is nothing to count: run the job's "
                          "cell again")
    n = whole_number(answer, "the number of tasks that were stolen")
    if n == truth:
        thieves = sorted({s.thief for s in steals(j)})
        return correct(f"{truth} task(s) were taken back from a busy worker before they started and run by "
                       f"{' and '.join(thieves)} instead")
    return Miss(f"{n} is not it", [
        "a steal moves a task that waits on a busy worker, not yet started, to an idle worker; count tasks "
        "(one per partition of a stage), not steps",
        f"your answer is {'too high' if n > truth else 'too low'}",
        f"in the player (rec.play({j.name!r})) press 'Jump to next: steal' until it stops, counting; "
        "each caption says how many tasks that steal moved",
    ])


@check
def check_straggler_share(rec: Any, worker: Any, at_most: Any = 0.2, stage: int | None = None,
                          job: int | str | None = None) -> Feedback | Miss:
    """Did the slowed ``worker`` run at most ``at_most`` (a fraction) of the tasks of the job's largest stage?

    The stage must have at least :data:`MIN_TASKS_PER_WORKER` tasks per worker
    (with fewer, the driver has nothing to share out, and a worker that got no
    task at all proves nothing); ``stage`` picks another stage.
    """
    if not isinstance(worker, str):
        raise Reply(False, f"worker= should name the slowed worker, such as 'worker-3', not {worker!r}")
    if isinstance(at_most, bool) or not isinstance(at_most, numbers.Real) or not math.isfinite(float(at_most)) \
            or not 0 < float(at_most) < 1:
        raise Reply(False, f"at_most= should be a fraction between 0 and 1 (the target), not {at_most!r}")
    j = facts.bind_job(rec, job)
    stages = facts.stages_of(j)
    chosen = facts.stage_of(j, stage) if stage is not None else max(stages, key=lambda s: s.num_tasks)
    counts = tasks_per_worker(j, chosen)
    if worker not in counts:
        raise Reply(False, f"there is no {worker} among the workers of the job {j.name!r} "
                           f"({', '.join(counts)})")
    alive = len(facts.workers_at_start(j)) or len(counts)
    spread = ", ".join(f"{w}: {n}" for w, n in counts.items())
    if chosen.num_tasks < MIN_TASKS_PER_WORKER * alive:
        return Miss(f"stage {chosen.id} of your job has only {chosen.num_tasks} task(s) for {alive} workers", [
            "with so few tasks the driver has nothing to share out: every worker gets one task at most, and the "
            "straggler's task is still the last to finish",
            "a stage has one task per partition: make more of them",
            "give the data many more partitions than there are workers (look for the argument that sets the "
            "number of partitions where the data is made)",
        ])
    share = counts[worker] / chosen.num_tasks
    if share <= float(at_most):
        return correct(f"{worker} ran {counts[worker]} of the {chosen.num_tasks} tasks of stage {chosen.id} "
                       f"({share:.0%}; {spread}): the other workers took the rest as they came back for more")
    return Miss(f"{worker} ran {share:.0%} of the tasks of stage {chosen.id} ({spread}); the target is at most "
                f"{float(at_most):.0%}", [
        "a worker gets a new task each time one of its slots is free: the more tasks there are, the more a fast "
        "worker can take while the slow one is busy",
        "make more, smaller tasks: each partition is one task",
        "with many partitions per worker the slowed worker is still busy with its first few while the others "
        "run many: increase the number of partitions where the data is made",
    ])
