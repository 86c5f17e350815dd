"""The truth a check compares with: found in the question's own job, read from the model the pictures draw.

:func:`bind_job` finds the question's job in the recording the learner passed
(by the name given with ``teachkit.job(...)``) or says, in one sentence, why it
cannot.  The other functions read what the model owns, so a check and a
picture can never disagree: shuffle bytes from ``job.boundaries`` (the labels
of the DAGs' arrows), re-runs from :meth:`~teachkit.model.job.Job.runs` (the
task DAG's ``×2``), lost results and the peak of tasks at once from the job's
log of changes (what the player and the cluster picture fold), dead workers
from :func:`~teachkit.model.failures.job_faults`, workers alive from their
status when the job was submitted.  Counts are always **Spark-style tasks**
(one per partition of a stage: ``job.tasks``), the unit the hints use too.
Nothing here is a hard-coded number.
"""

from __future__ import annotations

import numbers
import re
from collections import Counter
from typing import Any

from teachkit.checks.answers import kind
from teachkit.checks.feedback import Reply
from teachkit.model import fold
from teachkit.model.failures import job_faults
from teachkit.model.frames import worker_status
from teachkit.model.jobs import Job
from teachkit.model.recording import Recording
from teachkit.model.vocabulary import UP


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


def call(job: Job, method: str) -> str:
    """The code a learner types to draw ``method`` of this job, e.g. ``rec.job('groupby count').timeline()``."""
    return f"rec.job({job.name!r}).{method}"


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
    """The workers up when the job was submitted (a restarted worker joins later), as the player shows them."""
    rec = job.recording
    return [w for w in (rec.workers if rec is not None else []) if worker_status(w, job.submitted) == UP]


def tasks_by_worker(job: Job, stage: Any = None) -> Counter:
    """Spark-style tasks per worker (the worker that produced each task's final result)."""
    tasks = job.tasks if stage is None else stage.tasks
    return Counter(t.worker for t in tasks if t.worker)


def shuffle_edges(job: Job) -> list[tuple[int, int, int]]:
    """``(parent, child, bytes)`` for every shuffle boundary: the bytes the stage DAG labels its arrow with."""
    stages_of(job)
    return [(b.parent, b.child, int(b.nbytes or 0)) for b in job.boundaries if b.kind == "shuffle"]


def fault_reruns(job: Job) -> dict[int, set[int]]:
    """Stage id -> partitions whose task ran again because something failed (the task DAG's ``×2``), not Dask's
    routine reschedules (``↷``)."""
    out: dict[int, set[int]] = {}
    for stage in job.stages:
        for task in stage.tasks:
            if job.runs(task)[0]:
                out.setdefault(stage.id, set()).add(task.partition)
    return out


def lost_results(job: Job) -> list[tuple[int, int]]:
    """``(stage, partition)`` of every task whose finished result died with its worker and was computed again:
    a ``lost`` change in the job's log, then a new attempt of that key (the player's "recomputes N lost results")."""
    owner = {k: (t.stage, t.partition) for t in job.tasks for k in t.keys}
    lost: dict[str, int] = {}
    again: set[tuple[int, int]] = set()
    for change in job.changes:
        if change.change == "lost" and change.key in owner:
            lost.setdefault(change.key, change.attempt)
        elif change.change == "assigned" and change.attempt > lost.get(change.key, change.attempt):
            again.add(owner[change.key])
    return sorted(again)


def dead_workers(job: Job) -> list[str]:
    """Workers that died during the job (from :func:`teachkit.model.failures.job_faults`)."""
    return [w["worker"] for w in job_faults(job)["workers_lost"]]


def peak_running(job: Job) -> int:
    """Most Spark-style tasks running at the same moment: the most slots the player ever shows busy
    (:func:`teachkit.model.fold.peaks`)."""
    return fold.peaks(job)[0]


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
