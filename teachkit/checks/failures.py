"""When a worker dies: which worker, which tasks ran again, how many results were recomputed.

Counts are Spark-style tasks (one per partition of a stage).  A task "ran
again because of the death" when one of its Dask tasks has a later attempt
caused by it (``worker-lost``, ``result-lost``, ``lineage``,
``shuffle-restart``, ``input-lost``); Dask's routine reschedules of P2P unpack
tasks do not count.  A job in which no worker died has no answer: the check
says "your turn" and asks for a new run, never ✔.
"""

from __future__ import annotations

from typing import Any

from teachkit.checks import facts
from teachkit.checks.answers import number_set, unanswered, whole_number, worker_names
from teachkit.checks.feedback import Feedback, Miss, Reply, check, correct


def _died(j: Any) -> list[str]:
    dead = facts.dead_workers(j)
    if not dead:
        raise Reply(None, f"no worker died during the job {j.name!r}, so nothing was re-run: wait until the cluster "
                          "has all its workers again (cluster.client.wait_for_workers(n)), then run the kill cell "
                          "and the job again")
    return dead


@check
def check_dead_worker(rec: Any, answer: Any, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the worker that died during the job (a list of names if several died)?"""
    unanswered(answer, "the name of the worker that died, such as 'worker-N'")
    j = facts.bind_job(rec, job)
    facts.stages_of(j)
    dead = set(_died(j))
    given = worker_names(answer, facts.worker_names(j.recording), "the worker that died")
    if given == dead:
        return correct(f"{', '.join(sorted(dead))} died during the job; the driver re-assigned its tasks and "
                       "recomputed what it held")
    alive = sorted(given - dead)
    lead = (f"{', '.join(alive)} did not die during this job" if alive
            else "some of the workers that died are missing from your answer")
    return Miss(lead, [
        "the driver notices a worker is gone when its connection drops: its row of the timeline stops",
        f"look at the timeline ({facts.call(j, 'timeline()')}): a red line marks the moment a worker died",
        f"the stage DAG ({facts.call(j, 'stage_dag()')}) has a red note naming the worker that died",
    ])



@check
def check_recomputed(rec: Any, answer: Any, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the number of tasks whose finished result died with the worker and was computed again?

    Counted in Spark-style tasks: a task whose result was lost counts once,
    however many of its fused Dask tasks held a piece of it.  Tasks that were
    still running on the dead worker are re-assigned, not recomputed, and do
    not count here.
    """
    unanswered(answer, "the number of lost results that were computed again")
    j = facts.bind_job(rec, job)
    facts.stages_of(j)
    _died(j)
    truth = len(facts.lost_results(j))
    n = whole_number(answer, "the number of tasks whose result was lost")
    if n == truth:
        return correct(f"{truth} finished task result(s) died with the worker and were recomputed from their "
                       "lineage (tasks still running there were re-assigned instead)")
    return Miss(f"{n} is not it", [
        "count only results that had finished and were kept in the dead worker's memory; a task that was still "
        "running there is re-assigned, not recomputed",
        f"your answer is {'too high' if n > truth else 'too low'} (one per partition of a stage, however many "
        "Dask tasks made it)",
        f"in the timeline ({facts.call(j, 'timeline()')}) a result lost with its worker is hatched red: count the "
        "partitions of each stage with such a bar, once each",
    ])


@check
def check_rerun_tasks(rec: Any, answer: Any, stage: int = 0, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the set of partitions of ``stage`` whose task ran again because a worker died?

    ``answer`` is a list (or set) of partition numbers; order and repeats do not matter.
    """
    unanswered(answer, "the list of partitions whose task ran again")
    j = facts.bind_job(rec, job)
    chosen = facts.stage_of(j, stage)
    _died(j)
    truth = facts.fault_reruns(j).get(chosen.id, set())
    given = number_set(answer, "the partitions whose task ran again")
    if given == truth:
        listed = ", ".join(map(str, sorted(truth))) or "none"
        return correct(f"in stage {stage} the tasks of partitions {listed} ran again after the worker died "
                       f"({len(truth)} of {chosen.num_tasks})")
    extra, missing = len(given - truth), len(truth - given)
    parts = [f"{extra} of yours did not run again" if extra else "", f"{missing} that ran again are missing"
             if missing else ""]
    return Miss("not that set", [
        "after a death the driver re-assigns the tasks that were running there, recomputes the results it held "
        "and, for Dask's P2P shuffle, starts the whole shuffle over",
        "; ".join(p for p in parts if p),
        f"{'; '.join(p for p in parts if p)}: in the task DAG ({facts.call(j, 'task_dag()')}) a task of stage "
        f"{stage} that ran more than once is marked ×2 or more",
    ])


@check
def check_task_attempts(rec: Any, answer: Any, stage: int, partition: int,
                        job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` how many times the task of ``partition`` in ``stage`` ran (1 = once)?"""
    unanswered(answer, "how many times that task ran")
    j = facts.bind_job(rec, job)
    task = _task(j, stage, partition)
    n = whole_number(answer, "how many times the task ran")
    if n == task.attempts:
        return correct(f"the task of partition {partition} in stage {stage} ran {task.attempts} time(s), "
                       f"finishing on {task.worker or 'no worker'}")
    return Miss(f"{n} is not it", [
        "a task runs again when its worker dies while running it, when its finished result is lost, or when "
        "Dask reschedules it",
        f"your answer is {'too high' if n > task.attempts else 'too low'}",
        f"in the task DAG ({facts.call(j, 'task_dag()')}) a task that ran more than once is marked ×N",
    ])


def _task(j: Any, stage: Any, partition: Any) -> Any:
    chosen = facts.stage_of(j, stage)
    for task in chosen.tasks:
        if task.partition == partition and not isinstance(partition, bool):
            return task
    raise Reply(False, f"stage {stage} has no partition {partition!r}: its partitions are numbered 0 to "
                       f"{chosen.num_tasks - 1}")
