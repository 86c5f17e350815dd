"""Checks for lesson 7, when a worker dies: recover by re-running only the lost work.

The truth comes from :mod:`teachkit.model.recovery` and
:func:`teachkit.model.failures.job_faults` on the learner's own recording.

- :func:`check_only_lost_work` (change the job to reach a target): a worker
  died during the job, some work ran again because of it, and the shuffle did
  not start over as a whole (Spark re-runs only the lost map outputs; Dask's
  P2P shuffle restarts completely).

>>> import teachkit
>>> rec = teachkit.Recording.load(teachkit.example_path("killed"))
>>> check_only_lost_work(rec, job="groupby count, worker-2 killed").ok   # a P2P shuffle that restarted
False
"""

from __future__ import annotations

from typing import Any

from teachkit.checks import facts
from teachkit.checks.feedback import Feedback, Miss, Reply, check, correct
from teachkit.model.failures import job_faults
from teachkit.model.recovery import reruns

__all__ = ["check_only_lost_work"]


@check
def check_only_lost_work(rec: Any, job: int | str | None = None) -> Feedback | Miss:
    """Did the job survive a worker's death by re-running only lost work (no whole shuffle restarted)?"""
    j = facts.bind_job(rec, job)
    facts.stages_of(j)
    found = job_faults(j)
    if not found["workers_lost"]:
        raise Reply(None, f"no worker died during the job {j.name!r}, so there is nothing to recover from: wait "
                          "until the cluster has all its workers again, then run the cell with the kill again")
    again = reruns(j)
    if not again:
        raise Reply(None, f"a worker died during {j.name!r} but no task had to run again (it held nothing the "
                          "job still needed): run the cell again")
    if found["shuffle_restarted"]:
        n0 = sum(r.cause == "shuffle-restart" for r in again)
        return Miss(f"the shuffle started over: {n0} task(s) that lost nothing ran again with it", [
            "one kind of shuffle keeps every map task's output as a result on the worker that made it, so only "
            "what the dead worker held must be made again; the other kind restarts as a whole",
            "Dask's default P2P shuffle restarts as a whole when a worker taking part dies; choose the other "
            "shuffle method",
            "groupby aggregations take a shuffle_method= argument: look up the two methods Dask offers",
        ])
    causes = sorted({c for r in again for c in r.causes})
    return correct(f"{len(again)} task(s) ran again ({', '.join(causes)}), all of them work the dead worker had "
                   "done or was doing; the shuffle did not start over, as in Spark")
