"""Read the picture: answers read from a stage DAG, a task DAG, a timeline or the player.

These work on any recording, and in particular on the shipped ones
(``teachkit.Recording.load(teachkit.example_path("killed"))``), so they need no
cluster.  The question names the stage (and partition, or Dask key) it asks about.
"""

from __future__ import annotations

from typing import Any

from teachkit.checks import facts
from teachkit.checks.answers import unanswered, whole_number, whole_numbers, worker_name
from teachkit.checks.failures import _task
from teachkit.checks.feedback import Feedback, Miss, Reply, check, correct



@check
def check_num_tasks(rec: Any, answer: Any, stage: int, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the number of tasks ``stage`` ran (one per partition)?"""
    unanswered(answer, f"the number of tasks of stage {stage}")
    j = facts.bind_job(rec, job)
    chosen = facts.stage_of(j, stage)
    n = whole_number(answer, "a number of tasks")
    if n == chosen.num_tasks:
        return correct(f"stage {stage} ({chosen.name}) ran {chosen.num_tasks} task(s), one per partition")
    return Miss(f"{n} is not it", [
        "a stage runs one task per partition it works on",
        f"your answer is {'too high' if n > chosen.num_tasks else 'too low'}",
        f"the box of stage {stage} in the stage DAG ({facts.call(j, 'stage_dag()')}) says how many tasks it ran",
    ])


@check
def check_task_worker(rec: Any, answer: Any, stage: int, partition: int,
                      job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the worker that ran (finished) the task of ``partition`` in ``stage``?"""
    unanswered(answer, "the name of the worker that ran that task, such as 'worker-N'")
    j = facts.bind_job(rec, job)
    task = _task(j, stage, partition)
    if not task.worker:
        raise Reply(None, f"the task of partition {partition} in stage {stage} never finished in this run, so no "
                          "worker ran it to the end: pick another task")
    name = worker_name(answer, facts.worker_names(j.recording))
    if name == task.worker:
        return correct(f"{name} ran the task of partition {partition} in stage {stage}"
                       + (f" (after {task.attempts - 1} earlier attempt(s))" if task.attempts > 1 else ""))
    return Miss(f"{name} did not finish that task", [
        "the worker that counts is the one that finished the task (a task that ran again counts where its last "
        "run finished)",
        f"colour the task DAG by worker ({facts.call(j, 'task_dag(color_by=' + chr(39) + 'worker' + chr(39) + ')')}) "
        f"and find the box p{partition} of stage {stage}",
        f"in the task DAG the tooltip of box p{partition} of stage {stage} names its worker",
    ])


@check
def check_task_stage(rec: Any, answer: Any, key: str, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the stage whose task ran the Dask task ``key``?

    ``key`` is a Dask key as the pictures show it, either whole or without its
    hash (``'p2pshuffle|1'`` for ``'p2pshuffle-<hash>|1'``).
    """
    unanswered(answer, "the stage number (its id, as in 'Stage N')")
    j = facts.bind_job(rec, job)
    stages = facts.stages_of(j)
    truth = facts.stage_of_key(j, str(key))
    if truth is None:
        raise Reply(False, f"no stage of the job {j.name!r} ran a task {key!r} (it may be the final gather or a "
                           "shuffle barrier, which belong to no stage)")
    n = whole_number(answer, "a stage number")
    if n == truth:
        return correct(f"{key} belongs to stage {truth} ({stages[truth].name})")
    return Miss(f"{n} is not it" if n < len(stages) else f"there is no stage {n}", [
        "a stage holds every step that runs on a partition before the next shuffle; the name before '|' says "
        "which step the task is",
        f"your answer is {'too high' if n > truth else 'too low'}",
        f"each box of the stage DAG ({facts.call(j, 'stage_dag()')}) lists the steps of its stage: find the step "
        f"{str(key).split('|')[0]!r}",
    ])


@check
def check_stage_parents(rec: Any, answer: Any, stage: int, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the list of stages whose results ``stage`` reads (a join's stage has two)?"""
    unanswered(answer, f"the list of stages that feed stage {stage} (e.g. [] for none)")
    j = facts.bind_job(rec, job)
    chosen = facts.stage_of(j, stage)
    truth = sorted(chosen.parents)
    given = [] if isinstance(answer, (list, tuple)) and not answer else whole_numbers(answer, "stage numbers")
    if sorted(set(given)) == truth:
        shown = ", ".join(f"stage {p} ({chosen.boundaries.get(p, 'shuffle')})" for p in truth) or "no other stage"
        return correct(f"stage {stage} reads {shown}")
    return Miss("not those stages", [
        "a stage starts by reading what the stages before it wrote: a shuffle's map side, a tree's partial results, "
        "or a small side sent to every task",
        f"{'some of yours do not feed it' if set(given) - set(truth) else 'some are missing'}",
        f"in the stage DAG ({facts.call(j, 'stage_dag()')}) the arrows that end at stage {stage} start at its parents",
    ])
