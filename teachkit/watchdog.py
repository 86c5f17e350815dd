"""A job stuck because its workers are out of memory is said in one line, within seconds.

When a worker's process uses more than 80% of its ``memory_limit``, dask
**pauses** it (it takes no new tasks); above 95% its Nanny **restarts** it.  A
job on workers that are all paused, or restarted again and again, waits forever
and prints nothing: the only explanation goes to the cluster's log file.

:class:`MemoryWatchdog` runs in the scheduler's event loop of a local cluster
that teachkit started (one check a second, reading only counters the scheduler
and the Nannies already keep).  When tasks wait while every live worker is
paused, or while Nannies restart workers for memory, for
:data:`PATIENCE_S` seconds, it prints one line with :func:`teachkit.logs.say`
(so it lands in the cell that runs the job) naming the workers, the memory they
use and the fix.  It never cancels the job: the learner decides.  It speaks
once per stall, and again only after the job ended or the workers kept working
for :data:`RECOVER_S` seconds (workers that flap between paused and running
are one stall).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from teachkit.logs import say

#: Seconds between two checks.
EVERY_S = 1.0
#: Seconds a stall must last before the watchdog speaks.
PATIENCE_S = 3.0
#: Seconds the workers must keep working (or the job end) before a new stall is news again.
RECOVER_S = 10.0
#: Task states of a job that has not finished.
WAITING = ("waiting", "queued", "no-worker", "processing")


def _mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.0f} MiB"


class MemoryWatchdog:
    """Notice tasks waiting on workers that memory pauses or restarts, and say so once.

    Parameters
    ----------
    scheduler : distributed.Scheduler
        The local cluster's scheduler (the checks run on its event loop).
    nannies : callable
        Returns the local cluster's Nannies (their memory restarts are counted).
    names : callable
        Maps worker addresses to friendly names.
    clock : callable
        Seconds, for tests.
    """

    def __init__(self, scheduler: Any, nannies: Callable[[], Iterable[Any]] = tuple,
                 names: Callable[[Iterable[str]], dict[str, str]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.scheduler, self.nannies, self.clock = scheduler, nannies, clock
        self.names = names or (lambda addrs: {a: a for a in addrs})
        self.since: float | None = None  # when the current stall began
        self.clear_since: float | None = None  # when the workers last started working again
        self.spoken = False
        self.restarts: dict[int, int] = {}  # id(nanny) -> last pid it terminated for memory
        self.recent_restart: float | None = None
        self._pc: Any = None
        self.message = ""

    # -- lifecycle (on the scheduler's event loop) -----------------------------
    def start(self) -> None:
        from tornado.ioloop import PeriodicCallback

        self._pc = PeriodicCallback(self.check, EVERY_S * 1000)
        self._pc.start()

    def stop(self) -> None:
        if self._pc is not None:
            self._pc.stop()
            self._pc = None

    def check(self) -> None:
        """One look at the scheduler; never raises (a watchdog must not break the cluster)."""
        try:
            self._check()
        except Exception:  # pragma: no cover - the scheduler changed under us
            pass

    # -- the rule ------------------------------------------------------------
    def _waiting(self) -> int:
        return sum(tg.states.get(state, 0) for tg in list(self.scheduler.task_groups.values()) for state in WAITING)

    def _memory_restarts(self, now: float) -> None:
        for nanny in list(self.nannies()):
            manager = getattr(nanny, "memory_manager", None)
            pid = getattr(manager, "_last_terminated_pid", -1)
            if pid != -1 and self.restarts.get(id(nanny)) != pid:
                self.restarts[id(nanny)] = pid
                self.recent_restart = now

    def _check(self) -> None:
        now = self.clock()
        self._memory_restarts(now)
        workers = list(self.scheduler.workers.values())
        paused = [ws for ws in workers if getattr(ws.status, "name", str(ws.status)) == "paused"]
        restarting = self.recent_restart is not None and now - self.recent_restart <= PATIENCE_S + EVERY_S
        waiting = self._waiting()
        stuck = waiting > 0 and ((workers and len(paused) == len(workers)) or restarting)
        if not stuck:
            self.since = None
            self.clear_since = now if self.clear_since is None else self.clear_since
            if waiting == 0 or now - self.clear_since >= RECOVER_S:
                self.spoken = False  # the job ended, or the workers kept working: a later stall is news
            return
        self.clear_since = None
        if self.since is None:
            self.since = now
        if not self.spoken and now - self.since >= PATIENCE_S:
            self.spoken = True
            self.message = self._sentence(workers, paused, restarting)
            say(self.message)

    def _sentence(self, workers: list, paused: list, restarting: bool) -> str:
        limits = {ws.memory_limit for ws in workers if ws.memory_limit} or {
            getattr(getattr(n, "memory_manager", None), "memory_limit", None) for n in self.nannies()} - {None}
        limit = f"{_mib(min(limits))} each" if limits else "its memory_limit"
        names = self.names([ws.address for ws in paused])
        used = ", ".join(f"{names.get(ws.address, ws.address)} uses {_mib(ws.memory.process)}"
                         for ws in paused[:3] if getattr(ws, "memory", None) is not None)
        what = " and ".join(filter(None, ["pauses them" if paused else "", "restarts them" if restarting else ""]))
        return (
            f"teachkit: the job is stuck: the workers need more memory than memory_limit gives them ({limit}"
            f"{'; ' + used if used else ''}), so dask {what} and the job waits; start the cluster again with more "
            "memory per worker, e.g. teachkit.start_cluster(memory_limit=\"2GiB\"), or cut the data into smaller "
            "partitions (interrupt the kernel to stop waiting)."
        )


def watch_memory(local: Any) -> MemoryWatchdog:
    """Start a :class:`MemoryWatchdog` on a ``distributed.LocalCluster``.

    Stop it with ``local.loop.add_callback(watchdog.stop)``.
    """
    from teachkit.model.jobs import friendly_names

    def names(addresses: Iterable[str]) -> dict[str, str]:
        info = local.scheduler.workers
        known = friendly_names([{"worker": a, "name": str(ws.name)} for a, ws in sorted(info.items())])
        return {a: known.get(a, a) for a in addresses}

    watchdog = MemoryWatchdog(local.scheduler, nannies=lambda: list(local.workers.values()), names=names)
    local.loop.add_callback(watchdog.start)
    return watchdog
