"""Change the job to reach a target: two stages, tasks per worker, no shuffle, a broadcast join.

The learner's job is the answer: the check reads the question's own job (by
name) from the recording and tests the target on it.  Checks that compare with
an earlier job (``before=``) need both jobs in the same recording, so a
recording of another question cannot pass.  Hints never give the code.
"""

from __future__ import annotations

import re
from typing import Any

from teachkit.checks import facts
from teachkit.checks.feedback import Feedback, Miss, Reply, check, correct


def _s(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _shape(stages: list) -> tuple[int, int]:
    kinds = [b for s in stages for b in s.boundaries.values()]
    return len(stages), kinds.count("shuffle")


def _runs_in(rec: Any, stages: Any, job: Any, shuffles: Any) -> Feedback | Miss:
    for name, value in (("stages", stages), ("shuffles", shuffles)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise Reply(False, f"{name}= should be a whole number (the target), not {value!r}")
    j = facts.bind_job(rec, job)
    n, k = _shape(facts.stages_of(j))
    if n == stages and (shuffles is None or k == shuffles):
        joined = f", joined by {_s(k, 'shuffle')}" if k else ""
        return correct(f"your job runs in {_s(n, 'stage')}{joined}: "
                       + " → ".join(f"{s.num_tasks} task(s)" for s in j.stages))
    lead = f"your job ran in {_s(n, 'stage')} with {_s(k, 'shuffle')}"
    if n == stages:
        return Miss(lead + ", but its stages are not joined by the shuffles asked for", [
            "a tree reduction into one partition or a small side sent to every task also starts a stage; a shuffle "
            "sends every row to the partition of its key",
            "use an operation that regroups all the rows by a key across partitions",
            "look at the stage DAG of your job: a shuffle is the thick arrow labelled 'shuffle'",
        ])
    more = n < stages
    return Miss(lead, [
        "a stage ends where rows must move between partitions (a shuffle); narrow steps such as filter or assign "
        "never start one",
        "you need " + ("an operation that regroups rows by a key across partitions" if more
                       else "fewer operations that move rows between partitions: each one adds a stage"),
        "the lesson on plans and stages lists which DataFrame operations shuffle (those that group, join or sort "
        "rows by a key) and which stay narrow",
    ])


@check
def check_runs_in_stages(rec: Any, stages: int, job: int | str | None = None, *,
                         shuffles: int | None = None) -> Feedback | Miss:
    """Did the learner's job run in exactly ``stages`` stages (and ``shuffles`` shuffles, if given)?"""
    return _runs_in(rec, stages, job, shuffles)


@check
def check_two_stage_job(rec: Any, job: int | str | None = None) -> Feedback | Miss:
    """Did the learner's job run as exactly two stages joined by one shuffle?"""
    return _runs_in(rec, 2, job, 1)


@check
def check_partitions_for_workers(rec: Any, workers: int = 5, per_worker: int = 20, stage: int | None = None,
                                 job: int | str | None = None) -> Feedback | Miss:
    """Did the learner choose the partitions so that each of ``workers`` workers gets about ``per_worker`` tasks?

    The cluster must have had ``workers`` workers when the job started, and the
    stage (default: the job's largest) must have within 10% of
    ``workers * per_worker`` tasks; the feedback lists what each worker ran.
    """
    for name, value in (("workers", workers), ("per_worker", per_worker)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Reply(False, f"{name}= should be a whole number of 1 or more, not {value!r}")
    j = facts.bind_job(rec, job)
    stages = facts.stages_of(j)
    chosen = facts.stage_of(j, stage) if stage is not None else max(stages, key=lambda s: s.num_tasks)
    alive = facts.workers_at_start(j)
    if len(alive) != workers:
        return Miss(f"your cluster had {_s(len(alive), 'worker')} when the job ran, and this question is about "
                    f"{workers}", [f"start the cluster with {workers} workers (teachkit.start_cluster(workers=...)) "
                                   "and run the job again"])
    target = workers * per_worker
    per = facts.tasks_by_worker(j, chosen)
    spread = ", ".join(f"{w}: {c}" for w, c in sorted(per.items()))
    if abs(chosen.num_tasks - target) <= 0.1 * target:
        return correct(f"stage {chosen.id} ran {chosen.num_tasks} tasks on {workers} workers ({spread}): about "
                       f"{chosen.num_tasks / workers:.3g} each")
    return Miss(f"stage {chosen.id} of your job ran {_s(chosen.num_tasks, 'task')} on {workers} workers, about "
                f"{chosen.num_tasks / workers:.3g} each", [
                    "one task per partition: the number of partitions sets the number of tasks of a stage",
                    f"you need {'more' if chosen.num_tasks < target else 'fewer'} partitions",
                    f"each of the {workers} workers should get about {per_worker} tasks, and each partition is one "
                    "task: choose the partitions when you make the data, or repartition it",
                ])


@check
def check_no_shuffle(rec: Any, job: int | str | None = None, *, before: int | str | None = None,
                     result: Any = None, expected: Any = None) -> Feedback | Miss:
    """Did the learner's job drop the shuffle, on the same data and (if given) with the same result?

    ``before`` names the original job, which must be in the same recording and
    must have shuffled; the new job must read as many partitions as it did.
    ``result``/``expected``: the new and the original job's results, compared
    (pandas objects with their rows sorted).
    """
    j = facts.bind_job(rec, job)
    stages = facts.stages_of(j)
    n, k = _shape(stages)
    if before is not None:
        if before == job:
            raise Reply(False, "before= must name the original job, not the new one")
        try:
            orig = facts.bind_job(rec, before)
        except Reply:
            raise Reply(False, f"run the original job (inside teachkit.job({before!r})) in the same recording as "
                               "your new one, so the two can be compared") from None
        orig_stages = facts.stages_of(orig)
        if _shape(orig_stages)[1] == 0:
            raise Reply(False, f"the original job {orig.name!r} did not shuffle in this run, so there is nothing to "
                               "remove: run the question's cell as given")
        if stages[0].num_tasks != orig_stages[0].num_tasks:
            return Miss(f"your job reads {_s(stages[0].num_tasks, 'partition')}, the original read "
                        f"{orig_stages[0].num_tasks}", ["work on the same data as the original job"])
    if k:
        return Miss(f"your job still shuffles ({_s(k, 'shuffle')} between its {_s(n, 'stage')})", [
            "a shuffle regroups every row by a key across partitions: does this job need every row regrouped, or "
            "can each partition do its part alone and send on only a small partial result?",
            "in your job's stage DAG the thick arrow labelled 'shuffle' is what to remove",
            "an aggregation into a single output partition combines small partial results in a tree instead of "
            "shuffling the rows",
        ])
    if expected is not None or result is not None:
        if not facts.same_result(result, expected):
            return Miss("no shuffle any more, but your job's result differs from the original's",
                        ["compute the same thing as before (compare the two results), only without the shuffle"])
    boundaries = sorted({b for s in stages for b in s.boundaries.values()})
    how = f", joined by {', '.join(boundaries)}" if boundaries else ""
    return correct(f"no shuffle: your job runs in {_s(n, 'stage')}{how}, and no row moves between partitions "
                   "by key")


_JOIN = re.compile(r"merge|join", re.I)


@check
def check_broadcast_join(rec: Any, job: int | str | None = None) -> Feedback | Miss:
    """Did the learner's join send the small side whole to every task (a broadcast) instead of shuffling?

    The job must contain a join (its recorded plan shows a merge) and no
    shuffle boundary: no row of the big side moved.  When the small side was
    read in a stage of its own (a ``broadcast`` boundary), the feedback names
    it; when Dask put the small table into every join task itself (a table
    made with ``from_pandas`` travels inside the graph), it says so.
    """
    j = facts.bind_job(rec, job)
    stages = facts.stages_of(j)
    plan = facts.plan_text(j)
    if plan and not _JOIN.search(plan):
        return Miss("your job has no join (merge) in its plan", ["join the two tables with merge, then run the cell"])
    by_id = {s.id: s for s in stages}
    n, k = _shape(stages)
    broadcast = [(p, s) for s in stages for p, b in s.boundaries.items()
                 if b == "broadcast" and by_id.get(p) is not None and by_id[p].kind == "map"]
    if not k and broadcast:
        p, s = broadcast[0]
        return correct(f"a broadcast join: stage {p} reads the small side ({_s(by_id[p].num_tasks, 'task')}) and "
                       f"sends it whole to each of the {_s(s.num_tasks, 'task')} of stage {s.id}; no row of the big "
                       "side moves")
    if not k and plan and _JOIN.search(plan):
        last = stages[-1]
        return correct(f"a broadcast join: the small table went whole to each of the {_s(last.num_tasks, 'task')} "
                       f"of stage {last.id} (Dask carried it inside the task graph), and no row of the big side moved")
    lead = (f"your join still shuffles ({_s(k, 'shuffle')}: rows of both sides move to the partition of their key)"
            if k else "your job sends no small side to every task")
    return Miss(lead, [
        "when one side is small, the driver can send all of it to every task of the big side, so no row of the big "
        "side has to move",
        "Dask broadcasts a side that fits in one partition, or when the merge is asked to broadcast",
        "read help(df.merge): one of its parameters asks for a broadcast join; or make the small side a single "
        "partition",
    ])
