"""Automatic feedback for the exercises: every answer is checked against a real recording.

Each ``check_*`` function takes the learner's recording (the truth comes from
their own run, or from a shipped one: never from a hard-coded number) and
their answer, and returns a :class:`Feedback` that Jupyter shows as one line in
one of three states: ✔ correct, ✘ not yet, … your turn (the answer is still the
exercise's ``...``, or the run cannot answer the question and must be redone).

What every check promises
-------------------------
- **It never raises** and never marks a wrong answer correct, whatever it is
  given (text, a decimal, True/False, None, nan, a negative or huge number, a
  dict, a list of the wrong length, a recording instead of an answer, a job or
  anything else instead of a recording): it says what kind of answer it wants
  (``True`` is not 1; ``'12'`` is not ``[1, 2]``).
- **Hints, not answers.**  A first miss gets a hint, later misses stronger ones
  (misses are counted per question in this process; :func:`reset_hints`
  forgets them).  No hint contains the answer; counts are Spark-style tasks
  (one per partition of a stage) in the hints and in the checks alike.
- **Bound to its question.**  Each question runs its job inside
  ``teachkit.job("q3 two stages")`` and its check is called with
  ``job="q3 two stages"``: the check reads that job, by name, from the
  recording it is given.  A recording made for another question has no job of
  that name, so the check says it is the wrong recording instead of judging it.
  Checks also test properties of the question's own job: a target needs a
  shuffle boundary (not a tree reduction) where one is asked for, a "remove the
  shuffle" answer must read the same partitions as the original job named by
  ``before=`` *in the same recording*, a broadcast join needs a join in the
  recorded plan.  Without ``job=`` a check reads the recording's last job.
- **Readable by a grader.**  The feedback also carries a machine-readable
  result (mime type :data:`MIME`: check, question, state) that ``teachkit
  grade`` reads from an executed notebook; ``TEACHKIT_CHECKS=raise`` makes a
  check that is not ✔ raise :class:`CheckFailed`, for nbgrader and otter-grader.

The checks, by kind of task
---------------------------
Predict, then run: :func:`check_num_stages`, :func:`check_tasks_per_stage`,
:func:`check_busiest_worker`, :func:`check_quietest_worker`,
:func:`check_tasks_per_worker`, :func:`check_shuffle_bytes`,
:func:`check_parallel_tasks`, :func:`check_dead_worker`,
:func:`check_recomputed`, :func:`check_rerun_tasks`.
Change the job to reach a target: :func:`check_two_stage_job`,
:func:`check_runs_in_stages`, :func:`check_partitions_for_workers`,
:func:`check_no_shuffle`, :func:`check_broadcast_join`.
Read the picture (also on shipped recordings): :func:`check_num_tasks`,
:func:`check_task_worker`, :func:`check_task_stage`, :func:`check_stage_parents`,
:func:`check_task_attempts`.

>>> import teachkit
>>> from teachkit.checks import check_num_stages
>>> rec = teachkit.Recording.load(teachkit.example_path("groupby"))
>>> check_num_stages(rec, ..., job="groupby count")
… Your turn: replace ... with the number of stages you expect, then run the cell.
>>> check_num_stages(rec, "2", job="groupby count").ok
False
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from teachkit.checks.failures import check_dead_worker, check_recomputed, check_rerun_tasks, check_task_attempts
from teachkit.checks.feedback import MIME, CheckFailed, Feedback, reset_hints
from teachkit.checks.picture import check_num_tasks, check_stage_parents, check_task_stage, check_task_worker
from teachkit.checks.predict import (check_busiest_worker, check_num_stages, check_parallel_tasks,
                                     check_quietest_worker, check_shuffle_bytes, check_tasks_per_stage,
                                     check_tasks_per_worker)
from teachkit.checks.targets import (check_broadcast_join, check_no_shuffle, check_partitions_for_workers,
                                     check_runs_in_stages, check_two_stage_job)

__all__ = [
    "MIME",
    "CheckFailed",
    "Feedback",
    "check_broadcast_join",
    "check_busiest_worker",
    "check_dead_worker",
    "check_no_shuffle",
    "check_num_stages",
    "check_num_tasks",
    "check_parallel_tasks",
    "check_partitions_for_workers",
    "check_quietest_worker",
    "check_recomputed",
    "check_rerun_tasks",
    "check_runs_in_stages",
    "check_shuffle_bytes",
    "check_stage_parents",
    "check_task_attempts",
    "check_task_stage",
    "check_task_worker",
    "check_tasks_per_stage",
    "check_tasks_per_worker",
    "check_two_stage_job",
    "reset_hints",
    "tasks_per_worker",
]

#: Every check, by name (for tests and tools).
CHECKS = {name: globals()[name] for name in __all__ if name.startswith("check_")}


def tasks_per_worker(rec: Any, job: int | str | None = None) -> Counter:
    """Spark-style tasks (one per partition of a stage) that each worker finished in a job.

    Raises
    ------
    teachkit.errors.ArgumentError
        When ``rec`` is not a recording or has no such job (the message says why).
    """
    from teachkit.checks.facts import bind_job, tasks_by_worker
    from teachkit.checks.feedback import Reply
    from teachkit.errors import ArgumentError

    try:
        return tasks_by_worker(bind_job(rec, job))
    except Reply as reply:
        raise ArgumentError(reply.message[:1].upper() + reply.message[1:] + ".") from None
