"""What several views need: the job to draw, a message when there is nothing to draw, key → task maps, badges."""

from __future__ import annotations

from typing import Any

from teachkit.model.vocabulary import fmt_seconds
from teachkit.views.display import Message


def as_job(obj: Any):
    """Accept a Job, or a Recording (its last job); return ``(job, None)`` or ``(None, Message)``."""
    jobs = getattr(obj, "jobs", None)
    if jobs is not None and not hasattr(obj, "dask_tasks"):  # a Recording
        if not jobs:
            return None, Message("This recording has no jobs: run a compute() or persist() inside teachkit.record(...).")
        obj = jobs[-1]
    if not getattr(obj, "dask_tasks", None):
        name = getattr(obj, "name", "") or "this job"
        return None, Message(f"Nothing to draw: {name!r} has no tasks (the job was empty or nothing was recorded).")
    return obj, None


def stages_of(job) -> tuple[list, Message | None]:
    """The job's stages, or a message saying why there are none."""
    try:
        stages = list(job.stages)
    except Exception as exc:  # the stage rule could not read this graph: say so, do not crash a lesson
        return [], Message(f"The stages of {job.name!r} could not be derived ({type(exc).__name__}: {exc}).")
    if not stages:
        return [], Message(f"Nothing to draw: {job.name!r} has no stages.")
    return stages, None


def job_and_stages(obj: Any) -> tuple[Any, list, Message | None]:
    """:func:`as_job` then :func:`stages_of`: ``(job, stages, None)`` or ``(job, [], Message)``."""
    job, message = as_job(obj)
    if message:
        return None, [], message
    stages, message = stages_of(job)
    return job, stages, message


def job_title(job, stages: list) -> str:
    """One line naming the job: tasks, stages, duration, and failure if any."""
    ntasks = sum(s.num_tasks for s in stages)
    text = f"Job {job.index}: {job.name} — {ntasks} tasks in {len(stages)} stage{'s' * (len(stages) != 1)}, " \
           f"{fmt_seconds(job.duration_s)}"
    if job.errors:
        text += f" — FAILED: {job.errors[0][:80]}"
    return text


def key_owners(stages: list) -> dict[str, Any]:
    """Map every Dask key to the Spark-style task (SparkTask) that covers it."""
    return {key: task for stage in stages for task in stage.tasks for key in task.keys}


def runs(job, task) -> tuple[int, int]:
    """``(re-runs, moves)`` of a Spark-style task: extra attempts because something failed, and extra attempts
    Dask made without a failure (a P2P unpack rescheduled where its data is, a steal), over its Dask keys."""
    dask = [job.dask_tasks[k] for k in task.keys if k in job.dask_tasks]
    return max((t.reruns for t in dask), default=0), max((t.moves for t in dask), default=0)
