"""Workers of a local cluster that die and come back: patience for slow restarts, and why one is missing.

A killed worker's Nanny starts a new process under a new address, in about a
second on a quiet machine and ten or more on two loaded cores.  Dask's
LocalCluster gives a lost worker up (and closes its Nanny for good) after
``distributed.deploy.lost-worker-timeout`` (15 s): :func:`be_patient` gives a
teaching cluster :data:`RESTART_PATIENCE_S` instead.  :func:`missing_reason`
says, in one sentence, why a worker name is missing right now (killed and
restarting, or killed for good) and what to do.
"""

from __future__ import annotations

import time
from typing import Any

import dask

#: Seconds a teaching cluster waits for a lost worker's Nanny to restart it before giving the worker up.
RESTART_PATIENCE_S = 120


def be_patient(local: Any) -> None:
    """Make ``local`` (a ``distributed.LocalCluster``) wait :data:`RESTART_PATIENCE_S` for a lost worker.

    The setting is read when a worker leaves, so it is set around that call,
    for this cluster only.
    """
    original = local._update_worker_status

    def update(op, msg):
        with dask.config.set({"distributed.deploy.lost-worker-timeout": f"{RESTART_PATIENCE_S}s"}):
            return original(op, msg)

    local._update_worker_status = update


def missing_reason(local: Any, killed: dict[str, tuple[float, bool, str]], worker: str) -> str | None:
    """Why the worker named ``worker`` (``"worker-2"``) of ``local`` is missing, or ``None`` if it never was one.

    ``killed`` maps friendly names to ``(time.monotonic() of the kill, restart?, address)``.
    """
    nannies = {f"worker-{int(n) + 1}" if str(n).isdigit() else str(n): nanny
               for n, nanny in dict(getattr(local, "workers", None) or {}).items()}
    if worker not in nannies:
        return None
    when, restart, _ = killed.get(worker, (None, True, None))
    ago = f" {time.monotonic() - when:.0f} s ago" if when is not None else ""
    status = getattr(getattr(nannies[worker], "status", None), "name", "")
    if not restart or status in ("closed", "closing", "closing_gracefully", "failed"):
        return f"{worker} was killed{ago} and stays dead (restart=False): start a new cluster to have it back."
    return (f"{worker} was killed{ago} and its Nanny is restarting it, which takes a few seconds (up to about 10 s "
            f"on a busy machine): wait with cluster.client.wait_for_workers({len(nannies)}), then run this again.")
