"""What went wrong in a job and how the driver coped: pure functions over a recorded job.

:func:`job_faults` gathers, for one job, every worker that died during it
(when, which tasks were running there, which results it held, what its Nanny
restarted), the re-runs by cause, whether a P2P shuffle started over, the work
steals, and the queuing that gave idle workers more tasks.  :func:`job_notes`
turns that into short sentences for learners.  ``Recording.summary()`` shows
it per job under ``"faults"``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from teachkit.model.vocabulary import GRACE_S
from teachkit.record.dask_names import is_p2p_prefix

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.job import Job


def job_faults(job: Job) -> dict[str, Any]:
    """Plain, JSON-ready facts about the failures and load balancing of one job.

    Returns
    -------
    dict
        ``workers_lost``: one entry per worker that died during the job, with
        ``worker``, ``t_s`` (seconds since the recording started), ``running``
        (its tasks re-assigned, cause ``worker-lost``), ``held`` (its results
        lost and recomputed, cause ``result-lost``), ``restarted_as`` (the
        Nanny's new process, e.g. ``"worker-2b"``, or ``None``) and, when
        teachkit killed it, ``killed`` (``{"pid", "when"}``);
        ``lineage``: earlier tasks
        recomputed to rebuild lost results; ``shuffle_restarted``: a P2P shuffle
        started over; ``steals``: tasks moved by work stealing; ``tasks_per_worker``;
        ``notes``: :func:`job_notes`.
    """
    rec = job.recording
    end = (job.end if job.end is not None else job.submitted) + GRACE_S
    workers = list(rec.workers) if rec is not None else []
    kills = {f.get("address"): f for f in job.faults if f.get("action") == "kill"}
    lost = []
    for info in sorted(workers, key=lambda w: w.removed if w.removed is not None else 0.0):
        if info.cause != "lost" or info.removed is None or not job.submitted <= info.removed <= end:
            continue
        addr = info.address
        running = sorted(t.key for t in job.dask_tasks.values()
                         for a in t.attempts if a.address == addr and a.end_cause == "worker-lost")
        held = sorted(t.key for t in job.dask_tasks.values() for a in t.attempts if a.address == addr and a.lost)
        entry: dict[str, Any] = {
            "worker": info.name,
            "t_s": round(info.removed, 4),
            "running": running,
            "held": held,
            "restarted_as": _restarted_as(info, workers),
        }
        if addr in kills:
            entry["killed"] = {"pid": kills[addr].get("pid"), "when": kills[addr].get("when")}
        lost.append(entry)
    reruns = Counter(a.cause or "retried" for t in job.dask_tasks.values() for a in t.attempts if a.number > 1)
    restarted = any(t.restarted and is_p2p_prefix(t.prefix) for t in job.dask_tasks.values())
    steals = [c for c in job.changes if c.change == "stolen"]
    per_worker = Counter(a.worker for t in job.dask_tasks.values() for a in t.attempts
                         if a.outcome == "done" and a.worker)
    out = {
        "workers_lost": lost,
        "lineage": reruns.get("lineage", 0),
        "shuffle_restarted": restarted,
        "steals": len(steals),
        "tasks_per_worker": dict(sorted(per_worker.items())),
    }
    out["notes"] = job_notes(job, out)
    return out


def _restarted_as(info: Any, all_workers: Any) -> str | None:
    if info is None or info.removed is None:
        return None
    later = [w for w in all_workers if w.dask_name == info.dask_name and w.added is not None
             and w.added >= info.removed]
    return min(later, key=lambda w: w.added).name if later else None


def job_notes(job: Job, facts: dict[str, Any] | None = None) -> list[str]:
    """Short sentences on how the driver coped with failures and uneven work in ``job``."""
    f = facts if facts is not None else job_faults(job)
    notes = []
    for w in f["workers_lost"]:
        how = f"was killed (pid {w['killed']['pid']}, {w['killed']['when']})" if "killed" in w else "died"
        running, held = len(w["running"]), len(w["held"])
        did = []
        if running:
            did.append(f"re-assigned the {running} task(s) it was running (worker-lost)")
        if held:
            did.append(f"recomputed the {held} result(s) it held from lineage (result-lost)")
        coped = "the driver " + " and ".join(did) if did else "it ran no task and held no result the job needed"
        if not did and f["shuffle_restarted"]:
            coped = "it ran no task and held no task result, but it held P2P shuffle data outside the task graph"
        notes.append(f"{w['worker']} {how} at {w['t_s']:.2f} s: {coped}.")
        if w["restarted_as"]:
            notes.append(f"Its Nanny started a fresh process, {w['restarted_as']}, under a new address.")
    if f["lineage"]:
        notes.append(f"{f['lineage']} earlier task(s) ran again to rebuild what was lost (lineage).")
    if f["shuffle_restarted"]:
        rerun = sum(1 for t in job.dask_tasks.values() if is_p2p_prefix(t.prefix) and len(t.attempts) > 1)
        notes.append("The P2P shuffle started over (Dask restarts a whole P2P shuffle when a worker taking part "
                     f"dies; Spark re-runs only the lost map outputs): {rerun} shuffle task(s) ran again.")
    gone = {w["worker"] for w in f["workers_lost"]}
    counts = {w: n for w, n in f["tasks_per_worker"].items() if w not in gone}
    if len(counts) > 1 and max(counts.values()) >= 1.5 * max(1, min(counts.values())):
        spread = ", ".join(f"{w}: {n}" for w, n in counts.items())
        why = (f"{f['steals']} task(s) were stolen from a busy worker and queued tasks went to whichever worker "
               "had a free slot" if f["steals"] else "queued tasks went to whichever worker had a free slot")
        notes.append(f"Uneven work ({spread} tasks): {why}, so faster workers ran more.")
    elif f["steals"]:
        notes.append(f"{f['steals']} task(s) were stolen by idle workers from busy ones.")
    return notes
