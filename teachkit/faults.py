"""Faults on demand: kill a worker mid-job, slow one down, make some tasks long.

``kill_worker`` sends SIGKILL to a worker **process** of a local cluster (an
abrupt death, like a machine losing power; not a graceful retire) at a moment
chosen by a small helper: :func:`after_tasks`, :func:`stage_progress` or
:func:`seconds`.  The trigger is a tiny scheduler plugin: it counts finished
tasks as the scheduler sees them and kills at once, inside the scheduler's own
event loop, so the user's ``compute()`` is never blocked or polled.  The kit
prints one line per fault and keeps dask's log noise (in this process and in
the worker processes) in the cluster's log file.

Examples
--------
>>> import teachkit
>>> from teachkit import faults
>>> cluster = teachkit.start_cluster(workers=3)                     # doctest: +SKIP
>>> kill = faults.kill_worker(cluster, "worker-2", when=faults.after_tasks(10))  # doctest: +SKIP
>>> with teachkit.record(cluster) as rec:                           # doctest: +SKIP
...     df.groupby("category").count().compute()
teachkit: killed worker-2 (pid 4242) after 10 tasks; 2 task(s) assigned there go elsewhere, 1 result(s) held
there are lost; its Nanny restarts it under a new address
>>> kill.wait().running                                             # doctest: +SKIP
"""

from __future__ import annotations

import contextvars
import os
import signal
import sys
import threading
from dataclasses import dataclass
from time import time
from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin

__all__ = [
    "FaultError",
    "Kill",
    "after_tasks",
    "kill_worker",
    "seconds",
    "slow_partitions",
    "slow_worker",
    "stage_progress",
]

#: Seconds a scheduled kill waits for its job to start before giving up.
START_TIMEOUT_S = 60.0


class FaultError(ValueError):
    """A fault cannot be injected as asked; the message says why and what to do."""


# -- when to kill ----------------------------------------------------------------
@dataclass(frozen=True)
class after_tasks:  # noqa: N801 - reads like prose: when=after_tasks(10)
    """Kill once ``n`` tasks of the job (or of one stage, by task prefix) have finished."""

    n: int
    stage: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 0:
            raise FaultError(f"after_tasks needs a whole number of tasks (0 or more), not {self.n!r}.")

    def describe(self) -> str:
        return f"after {self.n} tasks" + (f" of {self.stage}" if self.stage else "")


@dataclass(frozen=True)
class stage_progress:  # noqa: N801
    """Kill when a fraction (0–1) of the job's tasks (or of one stage's, by prefix) have finished."""

    fraction: float
    stage: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.fraction <= 1:
            raise FaultError(f"stage_progress needs a fraction between 0 and 1, not {self.fraction!r}.")

    def describe(self) -> str:
        return f"at {self.fraction:.0%} of " + (self.stage or "the job")


@dataclass(frozen=True)
class seconds:  # noqa: N801
    """Kill ``t`` seconds after the job was submitted."""

    t: float

    def __post_init__(self) -> None:
        if self.t < 0:
            raise FaultError(f"seconds needs a time of 0 or more, not {self.t!r}.")

    def describe(self) -> str:
        return f"{self.t:g} s into the job"


# -- what happened ------------------------------------------------------------
class Kill:
    """A scheduled or done kill; ``wait()`` for it, then read what happened.

    Attributes
    ----------
    status : str
        ``"armed"``, ``"killed"``, ``"missed"`` (the job ended first), ``"cancelled"`` or ``"failed"``.
    t : float or None
        Scheduler time of the kill; ``after_s`` is seconds since the job started.
    tasks_done : int
        Tasks (of the chosen stage, or of the job) finished when it died.
    running, held : list of str
        Keys the scheduler had assigned to it, and results it held, at death.
    message : str
        The one line the kit printed.
    """

    def __init__(self, worker: str, address: str, when: Any, restart: bool) -> None:
        self.worker, self.address, self.when, self.restart = worker, address, when, restart
        self.status = "armed"
        self.pid: int | None = None
        self.t: float | None = None
        self.after_s: float | None = None
        self.tasks_done = 0
        self.running: list[str] = []
        self.held: list[str] = []
        self.message = ""
        self._done = threading.Event()
        self._cancel = None

    def wait(self, timeout: float | None = START_TIMEOUT_S + 30) -> Kill:
        """Block until the kill happened (or was missed); raise :class:`FaultError` if it failed."""
        if not self._done.wait(timeout):
            raise FaultError(f"The kill of {self.worker} had not happened after {timeout:g} s; is a job running?")
        if self.status == "failed":
            raise FaultError(self.message.removeprefix("teachkit: "))
        return self

    def cancel(self) -> None:
        """Disarm a kill that has not fired yet."""
        if self._cancel is not None and not self._done.is_set():
            self._cancel()

    def _finish(self, status: str, message: str) -> None:
        self.status, self.message = status, message
        say(message)
        self._done.set()

    def __repr__(self) -> str:
        return f"<teachkit Kill {self.worker} {self.when.describe() if self.when else 'now'}: {self.status}>"


def say(line: str) -> None:
    """Print one line where the learner sees it, from any thread.

    The kill fires in the scheduler's event-loop thread, whose context
    still names the cell that started the cluster; Jupyter's kernel (ipykernel 7)
    routes output by that context, so a plain ``print`` lands in a finished cell
    and is lost.  In an empty context the kernel falls back to the cell running
    now (the one whose job the kill interrupts).  Outside Jupyter it is ``print``.
    """
    contextvars.Context().run(print, line, file=sys.stdout, flush=True)


# -- the trigger, inside the scheduler ------------------------------------------
_ACTIVE = ("released", "waiting", "queued", "processing", "no-worker")


class _KillTrigger(SchedulerPlugin):
    """Scheduler plugin: count finished tasks of the next job and kill at the chosen moment."""

    def __init__(self, kill: Kill, scheduler: Any, nanny: Any, name: str, start_timeout: float) -> None:
        self.kill, self.scheduler, self.nanny, self.name = kill, scheduler, nanny, name
        self.start_timeout = start_timeout
        self.job: set | None = None  # keys of the job's tasks
        self.remaining: set = set()
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.started: float | None = None
        self.timers: list = []
        self.fired = False

    async def close(self) -> None:
        self._cancel_timers()

    def update_graph(self, scheduler, *, keys, tasks=None, **kw) -> None:
        if self.job is None and not self.fired:
            self._bind(list(tasks or keys))

    def _bind(self, keys: list) -> None:
        self.job = set(keys)
        self.remaining = {k for k in keys if k in self.scheduler.tasks and self.scheduler.tasks[k].state in _ACTIVE}
        self.started = time()
        for k in keys:
            ts = self.scheduler.tasks.get(k)
            if ts is not None:
                self.totals[ts.prefix.name] = self.totals.get(ts.prefix.name, 0) + 1
        stage = getattr(self.kill.when, "stage", None)
        if stage and not any(p.startswith(stage) for p in self.totals):
            names = ", ".join(sorted(self.totals))
            return self._give_up(f"the job has no stage {stage!r}: its task prefixes are {names}")
        if isinstance(self.kill.when, seconds):
            self.timers.append(self.scheduler.loop.call_later(self.kill.when.t, self.fire))
        self._check()

    def transition(self, key, start, finish, *args, **kwargs) -> None:
        if self.job is None or self.fired or key not in self.job:
            return
        if finish == "memory" and start == "processing":
            ts = self.scheduler.tasks.get(key)
            prefix = ts.prefix.name if ts is not None else ""
            self.done[prefix] = self.done.get(prefix, 0) + 1
        if finish in ("memory", "erred", "forgotten"):
            self.remaining.discard(key)
        self._check()
        if not self.fired and not self.remaining:  # the job is done and the moment never came
            self._finish("missed", f"teachkit: did not kill {self.kill.worker}: the job finished "
                         f"({self._count()} tasks) before {self.kill.when.describe()}")

    def _count(self) -> int:
        stage = getattr(self.kill.when, "stage", None)
        return sum(n for p, n in self.done.items() if not stage or p.startswith(stage))

    def _check(self) -> None:
        when = self.kill.when
        if self.fired or self.job is None:
            return
        if isinstance(when, after_tasks) and self._count() >= when.n:
            self.fire()
        elif isinstance(when, stage_progress):
            total = sum(n for p, n in self.totals.items() if not when.stage or p.startswith(when.stage))
            if total and self._count() >= when.fraction * total:
                self.fire()

    def fire(self) -> None:
        """Kill now (runs on the scheduler's event loop)."""
        if self.fired:
            return
        self.fired = True
        self._cancel_timers()
        kill, s = self.kill, self.scheduler
        ws = s.workers.get(kill.address)
        if ws is None:
            return self._give_up(f"{kill.worker} was already gone")
        if len(s.workers) < 2:
            return self._give_up(f"{kill.worker} is the last live worker; the job could not finish without it")
        pid = self.nanny.pid
        if pid is None:
            return self._give_up(f"{kill.worker} has no running process")
        kill.pid, kill.t = pid, time()
        kill.after_s = kill.t - self.started if self.started is not None else None
        kill.tasks_done = self._count()
        kill.running = sorted(_key(ts.key) for ts in ws.processing)
        kill.held = sorted(_key(ts.key) for ts in ws.has_what)
        if not kill.restart:
            from distributed.core import Status

            self.nanny.status = Status.closing_gracefully  # the Nanny then closes instead of restarting
        os.kill(pid, signal.SIGKILL)
        self._note_in_recording()
        self._finish("killed", _kill_line(kill))

    def _note_in_recording(self) -> None:
        """Add a ``fault`` event to a running teachkit recording (scheduler side)."""
        recorder = self.scheduler.plugins.get("teachkit-recorder")
        if recorder is None:
            return
        k = self.kill
        recorder.events.append({
            "kind": "fault", "t": k.t, "action": "kill", "worker": k.address, "pid": k.pid, "restart": k.restart,
            "when": k.when.describe() if k.when else "now", "tasks_done": k.tasks_done,
            "running": k.running, "held": k.held,
        })

    def _give_up(self, why: str) -> None:
        self.fired = True
        self._finish("failed", f"teachkit: did not kill {self.kill.worker}: {why}.")

    def _finish(self, status: str, message: str) -> None:
        self.fired = True  # once: later transitions and timers do nothing
        self._cancel_timers()
        loop = self.scheduler.loop
        loop.add_callback(self._remove)  # never change the plugin dict while it is iterated
        self.kill._finish(status, message)

    def _remove(self) -> None:
        if self.scheduler.plugins.get(self.name) is self:
            self.scheduler.remove_plugin(name=self.name)

    def _cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers = []

    def cancel(self) -> None:
        if not self.fired:
            self.fired = True
            self._finish("cancelled", f"teachkit: cancelled the kill of {self.kill.worker}.")

    def timeout(self) -> None:
        if self.job is None and not self.fired:
            self._give_up(f"no job started within {self.start_timeout:g} s; call kill_worker just before compute()")


def _key(key: Any) -> str:
    from teachkit.record.events import key_str

    return key_str(key)


def _kill_line(kill: Kill) -> str:
    when = f" {kill.when.describe()}" if kill.when is not None else ""
    if isinstance(kill.when, after_tasks):
        when = f" after {kill.tasks_done} tasks" + (f" of {kill.when.stage}" if kill.when.stage else "")
    elif isinstance(kill.when, stage_progress):
        when += f" ({kill.tasks_done} tasks done)"
    held = f"{len(kill.running)} task(s) assigned there go elsewhere, {len(kill.held)} result(s) held there are lost"
    then = "its Nanny restarts it under a new address" if kill.restart else "it stays dead (restart=False)"
    return f"teachkit: killed {kill.worker} (pid {kill.pid}){when}; {held}; {then}"


# -- the public entry point ---------------------------------------------------
def kill_worker(cluster: Any = None, worker: str = "", *, when: Any = None, restart: bool = True,
                start_timeout: float = START_TIMEOUT_S) -> Kill:
    """Kill a worker process abruptly (SIGKILL), now or at a chosen moment of the next job.

    Parameters
    ----------
    cluster : teachkit.Cluster, optional
        A cluster from :func:`teachkit.start_cluster` (default: the current one).
    worker : str
        Friendly name, e.g. ``"worker-2"`` (see ``cluster.workers``).
    when : after_tasks, stage_progress, seconds or None
        The moment, counted in the **next** job submitted (or the job already
        running).  ``None`` kills now; that needs a running job or results held
        on that worker (e.g. after ``persist()``), else there is nothing to show
        and :class:`FaultError` is raised.
    restart : bool
        ``True`` (default, dask's behaviour): the worker's Nanny starts a fresh
        process a few seconds later, under a new address; recordings call it
        ``worker-2b``.  ``False``: the worker stays dead (its Nanny closes too).
    start_timeout : float
        Seconds to wait for a job to start before the scheduled kill gives up.

    Returns
    -------
    Kill
        ``.wait()`` blocks until it happened and returns it; read ``.running``,
        ``.held``, ``.tasks_done``, ``.after_s``.

    Raises
    ------
    FaultError
        Unknown worker, the last live worker, no job running for ``when=None``,
        or a cluster that teachkit did not start (a remote one).
    """
    from distributed.utils import sync

    cluster = _local_cluster(cluster, "kill_worker")
    address = _address(cluster, worker)
    nanny = _nanny(cluster, address)
    if nanny is None or not hasattr(nanny, "pid"):
        raise FaultError(f"{worker} runs without a Nanny (threads, not processes), so it cannot be killed alone.")
    quiet_workers(cluster)
    kill = Kill(worker, address, when, restart)
    scheduler = cluster.local.scheduler
    name = f"teachkit-kill-{worker}-{time():.6f}"
    trigger = _KillTrigger(kill, scheduler, nanny, name, start_timeout)

    async def arm() -> str | None:
        if len(scheduler.workers) < 2:
            return f"{worker} is the last live worker: the job could not finish without it, so it stays alive."
        active = [k for k, ts in scheduler.tasks.items() if ts.state in _ACTIVE[1:]]
        if when is None:
            if not active and not scheduler.workers[address].has_what:
                return (f"No job is running and {worker} holds no results, so killing it now would show nothing: "
                        f"call kill_worker(..., when=after_tasks(n)) just before compute().")
            trigger.fire()
            return None
        scheduler.add_plugin(trigger, name=name)
        if active:
            trigger._bind(active)  # a job (e.g. a persist) is already running: count from now
        else:
            trigger.timers.append(scheduler.loop.call_later(start_timeout, trigger.timeout))
        return None

    problem = sync(cluster.local.loop, arm)
    if problem:
        raise FaultError(problem)
    kill._cancel = lambda: cluster.local.loop.add_callback(trigger.cancel)
    return kill


def _any_cluster(cluster: Any, what: str):
    """The given (or current) running teachkit cluster, local or remote."""
    from teachkit import cluster as cluster_mod

    if cluster is None:
        cluster = cluster_mod.current()
        if cluster is None:
            raise FaultError(f"There is no cluster: start one with teachkit.start_cluster() before {what}.")
    if not isinstance(cluster, cluster_mod.Cluster):
        raise FaultError(f"{what} needs a teachkit cluster (teachkit.start_cluster()), not a {type(cluster).__name__}.")
    if not cluster.running:
        raise FaultError("That cluster is closed: start a new one with teachkit.start_cluster().")
    return cluster


def _local_cluster(cluster: Any, what: str):
    """The given (or current) cluster, which must be one teachkit started on this machine."""
    cluster = _any_cluster(cluster, what)
    if cluster.local is None:
        raise FaultError(
            f"{what} can only SIGKILL workers of a cluster that teachkit started on this machine; on a connected "
            "(remote) cluster you can end a worker gracefully with cluster.client.retire_workers([address]) "
            "(its results move first, nothing is recomputed) or restart it with "
            "cluster.client.restart_workers([address]), and slow_worker works too, but an abrupt death is not possible."
        )
    return cluster


def _nanny(cluster: Any, address: str) -> Any:
    """The Nanny of a worker, found by the worker's dask name (a restarted worker keeps it)."""
    ws = cluster.local.scheduler.workers.get(address)
    nanny = cluster.local.workers.get(ws.name) if ws is not None else None
    if nanny is None:
        nanny = next((n for n in cluster.local.workers.values() if getattr(n, "worker_address", None) == address), None)
    return nanny


def _address(cluster: Any, worker: str) -> str:
    try:
        return cluster.address_of(worker)
    except KeyError as exc:
        raise FaultError(exc.args[0]) from None


from teachkit.stragglers import quiet_workers, slow_partitions, slow_worker  # noqa: E402 (needs FaultError)
