"""``Recording.summary()``: plain, JSON-ready data about every job."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from teachkit.model.failures import job_faults

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.jobs import Job
    from teachkit.model.recording import Recording


def summarize(rec: Recording) -> dict[str, Any]:
    """Summarise a recording: jobs (with stages once derivable), workers, warnings."""
    return {
        "jobs": [summarize_job(job) for job in rec.jobs],
        "workers": [
            {"name": w.name, "address": w.address, "nthreads": w.nthreads, "removed_s": _r(w.removed), "cause": w.cause}
            for w in rec.workers
        ],
        "warnings": rec.warnings,
    }


def summarize_job(job: Job) -> dict[str, Any]:
    """Plain data for one job; ``num_tasks`` counts the Dask tasks of its graph."""
    ran = Counter()
    reruns = Counter()
    for task in job.dask_tasks.values():
        for att in task.attempts:
            if att.outcome == "done" and att.worker:
                ran[att.worker] += 1
            if att.number > 1:
                reruns[att.cause or "retried"] += 1
    out: dict[str, Any] = {
        "name": job.name,
        "index": job.index,
        "num_tasks": len(job.dask_tasks),
        "duration_s": _r(job.duration_s),
        "workers": dict(sorted(ran.items())),
        "reruns": dict(sorted(reruns.items())),
        "transfer_bytes": sum(f["nbytes"] for f in job.fetches),
        "errors": list(job.errors),
        "faults": job_faults(job),
    }
    stages = _stages(job)
    if stages is not None:
        out["stages"] = stages
    return out


def _stages(job: Job) -> list[dict] | None:
    from teachkit.model import stages as stages_mod

    return [stages_mod.stage_summary(stage) for stage in job.stages]


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
