"""Predict, then run: stages, tasks per stage, which worker ran most or least, bytes shuffled, tasks at once.

Every count is in Spark-style tasks (one per partition of a stage), in the
check and in its hints; every truth comes from the question's own job in the
learner's recording (see :func:`teachkit.checks.facts.bind_job`).
"""

from __future__ import annotations

from typing import Any

from teachkit.checks import facts
from teachkit.checks.answers import amount, byte_amount, unanswered, whole_number, whole_numbers, worker_name
from teachkit.checks.feedback import Feedback, Miss, Reply, check, correct
from teachkit.model.vocabulary import fmt_bytes


def _s(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _direction(answer: float, truth: float) -> str:
    return "too high" if answer > truth else "too low"



@check
def check_num_stages(rec: Any, answer: Any, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the number of stages of the job (Spark's rule applied to the recorded run)?"""
    unanswered(answer, "the number of stages you expect")
    j = facts.bind_job(rec, job)
    stages = facts.stages_of(j)
    n = whole_number(answer, "the number of stages")
    truth = len(stages)
    if n == truth:
        kinds = [b for s in stages for b in s.boundaries.values()]
        joins = f", split at {_s(kinds.count('shuffle'), 'shuffle')}" if kinds else ", with no shuffle"
        return correct(f"the job ran in {_s(truth, 'stage')}{joins}")
    return Miss(f"{n} is not it", [
        "a new stage starts where data must cross between partitions (a shuffle, or the tree that combines partial "
        "results); narrow steps such as filter and assign stay in the stage before them",
        f"your answer is {_direction(n, truth)}: count the places in the job where data crosses between partitions",
        f"draw the stage DAG ({facts.call(j, 'stage_dag()')}): every box is one stage",
    ])


@check
def check_tasks_per_stage(rec: Any, answer: Any, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the list of task counts, one per stage in order (one task per partition)?"""
    unanswered(answer, "a list of task counts, one number per stage")
    j = facts.bind_job(rec, job)
    counts = [s.num_tasks for s in facts.stages_of(j)]
    given = whole_numbers(answer, "the number of tasks of each stage")
    if given == counts:
        return correct(f"tasks per stage: {counts} (one task per partition of each stage)")
    if len(given) != len(counts):
        return Miss(f"your list has {_s(len(given), 'number')}, which does not match the job's number of stages", [
            "give one number per stage, in stage order: first find how many stages the job has",
            f"draw the stage DAG ({facts.call(j, 'stage_dag()')}): one number per box",
            f"draw the stage DAG ({facts.call(j, 'stage_dag()')}): one number per box, in the order of the stage ids",
        ])
    wrong = [i for i, (a, b) in enumerate(zip(given, counts)) if a != b]
    which = "; ".join(f"stage {i} is {_direction(given[i], counts[i])}" for i in wrong)
    lead = "one of your counts does not match" if len(wrong) == 1 else "some of your counts do not match"
    return Miss(lead, [
        "a stage runs one task per partition it works on: how many partitions does each stage read or build?",
        which,
        f"{which}: each box of the stage DAG ({facts.call(j, 'stage_dag()')}) says how many tasks its stage ran",
    ])


def _extreme_worker(rec: Any, answer: Any, job: Any, most: bool) -> Feedback | Miss:
    word = "most" if most else "fewest"
    unanswered(answer, f"the name of the worker that ran the {word} tasks, such as 'worker-N'")
    j = facts.bind_job(rec, job)
    facts.stages_of(j)
    counts = facts.tasks_by_worker(j)
    for w in facts.workers_at_start(j):
        counts.setdefault(w.name, 0)
    if not counts:
        raise Reply(None, "no task of that job finished on any worker, so no worker ran the most: run it again")
    target = max(counts.values()) if most else min(counts.values())
    tied = sorted(w for w, c in counts.items() if c == target)
    if len(tied) > 1:
        raise Reply(None, f"in this run {' and '.join(tied)} tied for the {word} tasks, so the question has no single "
                          "answer: run the job's cell again")
    name = worker_name(answer, facts.worker_names(j.recording))
    spread = ", ".join(f"{w}: {c}" for w, c in sorted(counts.items()))
    if name == tied[0]:
        return correct(f"{name} ran the {word} tasks, {target} (Spark-style tasks, one per partition of a stage; "
                       f"{spread})")
    than = "another worker ran more" if most else "another worker ran fewer"
    return Miss(f"{name} is not the worker that ran the {word} tasks", [
        "the driver gives a task to whichever worker has a free slot, so a worker whose tasks finish early runs "
        "more of them (and a slowed one fewer)",
        f"{name} ran {counts.get(name, 0)} (one per partition of a stage, over all stages); {than}",
        f"{name} ran {counts.get(name, 0)}; {than}: add up each worker's tasks over the stages, "
        "as listed in each stage's workers (e.g. rec.job(...).stages[0].workers, or the stage DAG's tooltips)",
    ])


@check
def check_busiest_worker(rec: Any, answer: Any, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` (e.g. ``"worker-2"``) the worker that ran the most Spark-style tasks in the job?

    A tie for the most is "your turn" (the run has no single answer; run it again).
    """
    return _extreme_worker(rec, answer, job, most=True)


@check
def check_quietest_worker(rec: Any, answer: Any, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the worker that ran the fewest Spark-style tasks (e.g. the slowed straggler)?"""
    return _extreme_worker(rec, answer, job, most=False)


@check
def check_tasks_per_worker(rec: Any, answer: Any, stage: int | None = 0,
                           job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` about how many tasks of ``stage`` each worker ran (within 10% or 1 task of the mean)?

    The mean is the stage's tasks divided by the workers alive when the job
    started; the feedback lists what each worker really ran.  ``stage=None``
    counts the tasks of every stage.
    """
    unanswered(answer, "about how many tasks each worker runs")
    j = facts.bind_job(rec, job)
    chosen = None if stage is None else facts.stage_of(j, stage)
    total = len(j.tasks) if chosen is None else chosen.num_tasks
    n_workers = len(facts.workers_at_start(j))
    if not n_workers:
        raise Reply(None, "the recording shows no worker alive when the job started; run the job again")
    x = amount(answer, "about how many tasks each worker runs")
    mean = total / n_workers
    where = "the job" if chosen is None else f"stage {stage}"
    per = facts.tasks_by_worker(j, chosen)
    spread = ", ".join(f"{w}: {c}" for w, c in sorted(per.items()))
    if abs(x - mean) <= max(1.0, 0.1 * mean):
        return correct(f"{where} ran {_s(total, 'task')} on {_s(n_workers, 'worker')}, about {mean:.3g} each; "
                       f"the run gave {spread} (a worker that finishes early takes more)")
    return Miss(f"{x:g} is not about what each worker ran", [
        "a stage has one task per partition, and the driver shares them among the workers",
        f"your answer is {_direction(x, mean)}: divide the tasks of {where} by the number of workers",
        f"count the tasks of {where} in the stage DAG ({facts.call(j, 'stage_dag()')}) and the workers in "
        "rec.cluster_view(), then divide",
    ])


@check
def check_shuffle_bytes(rec: Any, answer: Any, stage: int | None = None,
                        job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the bytes the job's shuffle moved, within 10%?

    ``answer`` is a number of bytes, or text with a unit (``'40 KiB'``, ``'3.1 MB'``:
    KiB/MiB/GiB are 1024-based, kB/MB/GB 1000-based; the 10% tolerance covers
    both readings of the pictures' rounded labels).  The truth is what the
    stage DAG writes on the shuffle arrow; ``stage`` picks the shuffle read by
    that stage, otherwise all the job's shuffles count together.
    """
    unanswered(answer, "the bytes the shuffle moved (a number of bytes, or text such as '40 KiB')")
    j = facts.bind_job(rec, job)
    edges = facts.shuffle_edges(j)
    if stage is not None:
        facts.stage_of(j, stage)
        edges = [e for e in edges if e[1] == stage]
    if not edges:
        raise Reply(False, f"the job {j.name!r} has no shuffle{'' if stage is None else f' into stage {stage}'}, "
                           "so there are no shuffled bytes to measure")
    truth = sum(e[2] for e in edges)
    if truth <= 0:
        raise Reply(None, "this recording has no byte counts for that shuffle; run the job again")
    x = byte_amount(answer)
    if abs(x - truth) <= 0.1 * truth:
        return correct(f"the shuffle moved {fmt_bytes(truth)} ({truth:,} bytes); your {fmt_bytes(x)} is within 10%")
    far = "more than ten times too " + ("high" if x > truth else "low") if max(x, 1) / max(truth, 1) > 10 or \
        max(truth, 1) / max(x, 1) > 10 else _direction(x, truth)
    return Miss(f"{fmt_bytes(x)} is not within 10% of what the shuffle moved", [
        "the shuffle moves the rows (or partial results) the stage before it wrote, counted in bytes; "
        "give a number of bytes or text with a unit such as 'KiB'",
        f"your answer is {far} (1 KiB = 1024 bytes, 1 MB = 1,000,000 bytes)",
        f"the shuffle arrow of the stage DAG ({facts.call(j, 'stage_dag()')}) is labelled with the bytes it moved",
    ])


@check
def check_parallel_tasks(rec: Any, answer: Any, job: int | str | None = None) -> Feedback | Miss:
    """Is ``answer`` the most tasks that ran at the same moment in the job?

    A task slot (a worker thread) runs one task at a time, so with N slots in
    all at most N tasks run at once.  The truth is the recorded peak (Spark-style
    tasks; a task runs while one of its Dask tasks computes); when the run never
    filled every slot the feedback says so, without the number.
    """
    unanswered(answer, "how many tasks run at the same moment, at most")
    j = facts.bind_job(rec, job)
    facts.stages_of(j)
    peak = facts.peak_running(j)
    n_workers, n_slots = facts.slots(j)
    n = whole_number(answer, "the number of tasks running at once")
    if n == peak:
        return correct(f"at most {_s(peak, 'task')} ran at once: the cluster had {_s(n_slots, 'task slot')} "
                       f"({_s(n_workers, 'worker')}, each running one task per slot)")
    if n == n_slots and peak < n_slots:
        return Miss("right reasoning, but in this run the slots were never all busy at the same moment (its tasks "
                    "were too short to overlap)", ["run the job's cell again (the exercise makes the tasks slow so "
                                                   "that they overlap), then answer from the new run"])
    return Miss(f"{n} is not it", [
        "each task slot (one thread of a worker) runs one task at a time: how many slots does the cluster have?",
        f"your answer is {_direction(n, peak)}: workers × slots per worker is the most that can run at once",
        f"in the timeline ({facts.call(j, 'timeline()')}) each row is one slot: find the moment with the most rows busy",
    ])
