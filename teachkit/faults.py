"""Faults on demand: kill a worker mid-job, slow one down, make some tasks long.

``kill_worker`` sends SIGKILL to a worker **process** of a local cluster (an
abrupt death, like a machine losing power; not a graceful retire) at a moment
chosen by a small helper: :func:`after_tasks`, :func:`stage_progress` or
:func:`seconds`.  The trigger is a tiny scheduler plugin: it counts finished
tasks as the scheduler sees them and kills at once, inside the scheduler's own
event loop, so the user's ``compute()`` is never blocked or polled (see
:mod:`teachkit.kill_trigger`).  The kit prints one line per fault and keeps
dask's log noise (in this process and in the worker processes) in the
cluster's log file.

Every argument is checked before anything is armed: a bare number for
``when`` is refused with the right spelling.  A second ``kill_worker`` of the
same worker (a re-run cell) replaces the kill armed before; a worker killed a
moment ago, which its Nanny is still restarting, cannot be killed again (the
message says how long to wait).

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

import threading
from dataclasses import dataclass
from time import monotonic, time
from typing import Any

from teachkit import arguments
from teachkit.cluster import use
from teachkit.errors import ArgumentError, FaultError
from teachkit.kill_trigger import ACTIVE, KillTrigger
from teachkit.logs import say
from teachkit.stragglers import slow_partitions, slow_worker

__all__ = [
    "FaultError",
    "Kill",
    "after_tasks",
    "kill_worker",
    "say",
    "seconds",
    "slow_partitions",
    "slow_worker",
    "stage_progress",
]

#: Seconds a scheduled kill waits for its job to start before giving up.
START_TIMEOUT_S = 60.0
#: Kills armed and not yet done, by (local cluster, worker name).
_ARMED: dict[tuple[int, str], Kill] = {}


# -- when to kill ----------------------------------------------------------------
def _check_stage(stage: Any) -> None:
    if stage is not None and (not isinstance(stage, str) or not stage):
        raise ArgumentError(f"stage={stage!r} is not a task prefix: pass one such as \"shuffle-transfer\", or None.")


@dataclass(frozen=True)
class after_tasks:  # noqa: N801 - reads like prose: when=after_tasks(10)
    """Kill once ``n`` tasks of the job (or of one stage, by task prefix) have finished."""

    n: int
    stage: str | None = None
    delay = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", arguments.count("after_tasks(n)", self.n, minimum=0, example=10))
        _check_stage(self.stage)

    def describe(self) -> str:
        return f"after {self.n} tasks" + (f" of {self.stage}" if self.stage else "")

    def reached(self, done: int, total: int) -> bool:
        return done >= self.n

    def done_text(self, done: int) -> str:
        return f"after {done} tasks" + (f" of {self.stage}" if self.stage else "")


@dataclass(frozen=True)
class stage_progress:  # noqa: N801
    """Kill when a fraction (0–1) of the job's tasks (or of one stage's, by prefix) have finished."""

    fraction: float
    stage: str | None = None
    delay = None

    def __post_init__(self) -> None:
        fraction = arguments.number("stage_progress(fraction)", self.fraction, minimum=0, maximum=1, example=0.5)
        object.__setattr__(self, "fraction", fraction)
        _check_stage(self.stage)

    def describe(self) -> str:
        return f"at {self.fraction:.0%} of " + (self.stage or "the job")

    def reached(self, done: int, total: int) -> bool:
        return bool(total) and done >= self.fraction * total

    def done_text(self, done: int) -> str:
        return f"{self.describe()} ({done} tasks done)"


@dataclass(frozen=True)
class seconds:  # noqa: N801
    """Kill ``t`` seconds after the job was submitted."""

    t: float
    stage = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", arguments.number("seconds(t)", self.t, minimum=0, example=0.5, unit="s"))

    @property
    def delay(self) -> float:
        return self.t

    def describe(self) -> str:
        return f"{self.t:g} s into the job"

    def reached(self, done: int, total: int) -> bool:
        return False  # the timer fires it

    def done_text(self, done: int) -> str:
        return self.describe()


def _check_when(when: Any) -> None:
    """``when`` must be None or one of the helpers; a bare number gets the right spelling."""
    if when is None or isinstance(when, (after_tasks, stage_progress, seconds)):
        return
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        n = int(when) if float(when).is_integer() and when >= 0 else 10
        raise ArgumentError(f"when={when!r} is a bare number: write when=faults.seconds({when!r}) for a time into "
                            f"the job, or when=faults.after_tasks({n}) for a count of finished tasks.")
    raise ArgumentError(f"when={when!r} is not a moment: pass faults.after_tasks(n), faults.stage_progress(0.5), "
                        "faults.seconds(t), or None for now.")


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
        self._cancel: Any = None  # called with the end of the "cancelled" line

    def wait(self, timeout: float | None = START_TIMEOUT_S + 30) -> Kill:
        """Block until the kill happened (or was missed); raise :class:`FaultError` if it failed."""
        if timeout is not None:
            timeout = arguments.number("timeout", timeout, minimum=0, example=30, unit="s")
        if not self._done.wait(timeout):
            raise FaultError(f"The kill of {self.worker} had not happened after {timeout:g} s; is a job running?")
        if self.status == "failed":
            raise FaultError(self.message.removeprefix("teachkit: "))
        return self

    def cancel(self, why: str = "") -> None:
        """Disarm a kill that has not fired yet."""
        if self._cancel is not None and not self._done.is_set():
            self._cancel(why)

    def _finish(self, status: str, message: str) -> None:
        self.status, self.message = status, message
        for slot, armed in list(_ARMED.items()):
            if armed is self:
                _ARMED.pop(slot, None)
        say(message)
        self._done.set()

    def __repr__(self) -> str:
        return f"<teachkit Kill {self.worker} {self.when.describe() if self.when else 'now'}: {self.status}>"


# -- the public entry point ---------------------------------------------------
def kill_worker(cluster: Any = None, worker: str = "", *, when: Any = None, restart: bool = True,
                start_timeout: float = START_TIMEOUT_S) -> Kill:
    """Kill a worker process abruptly (SIGKILL), now or at a chosen moment of the next job.

    Parameters
    ----------
    cluster : teachkit.Cluster, optional
        A cluster from :func:`teachkit.start_cluster` (default: the current one).
        In replay mode nothing is killed: the replayed run carries the kill, and
        its line is printed from that run's fault when the record block ends.
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
    ArgumentError
        A wrong argument, e.g. ``when=0.5`` (write ``seconds(0.5)``); nothing is armed.
    FaultError
        Unknown worker, a worker killed a moment ago and still restarting, the
        last live worker, no job running for ``when=None``, or a cluster that
        teachkit did not start (a remote one).
    """
    from distributed.utils import sync

    worker = arguments.text("worker", worker, example="worker-2")
    _check_when(when)
    restart = arguments.flag("restart", restart)
    start_timeout = arguments.number("start_timeout", start_timeout, minimum=0, above=True, example=60, unit="s")
    cluster = use(cluster, "kill_worker")
    if getattr(cluster, "replay", False):  # replay mode: the replayed run carries the kill
        return cluster.arm_kill(worker, when, restart)
    cluster = _local_cluster(cluster, "kill_worker")
    address = _address(cluster, worker)
    nanny = _nanny(cluster, address)
    if nanny is None or not hasattr(nanny, "pid"):
        raise FaultError(f"{worker} runs without a Nanny (threads, not processes), so it cannot be killed alone.")
    slot = (id(cluster.local), worker)
    earlier = _ARMED.pop(slot, None)
    if earlier is not None:  # a re-run cell: the new kill replaces the one armed before
        earlier.cancel(": the new kill_worker call replaces it")
    kill = Kill(worker, address, when, restart)
    scheduler = cluster.local.scheduler
    name = f"teachkit-kill-{worker}-{time():.6f}"
    trigger = KillTrigger(kill, scheduler, nanny, name, start_timeout)
    trigger.on_kill = lambda: cluster.killed.__setitem__(worker, (monotonic(), restart, address))

    async def arm() -> str | None:
        if len(scheduler.workers) < 2:
            return f"{worker} is the last live worker: the job could not finish without it, so it stays alive."
        active = [k for k, ts in scheduler.tasks.items() if ts.state in ACTIVE[1:]]
        if when is None:
            if not active and not scheduler.workers[address].has_what:
                return (f"No job is running and {worker} holds no results, so killing it now would show nothing: "
                        f"call kill_worker(..., when=after_tasks(n)) just before compute().")
            trigger.fire()
            return None
        scheduler.add_plugin(trigger, name=name)
        if active:
            trigger.bind(active)  # a job (e.g. a persist) is already running: count from now
        else:
            trigger.timers.append(scheduler.loop.call_later(start_timeout, trigger.timeout))
        return None

    problem = sync(cluster.local.loop, arm)
    if problem:
        raise FaultError(problem)
    if kill.status == "armed":
        _ARMED[slot] = kill
    kill._cancel = lambda why="": cluster.local.loop.add_callback(trigger.cancel, why)
    return kill


def _local_cluster(cluster: Any, what: str):
    """The given (or current) cluster, which must be one teachkit started on this machine."""
    cluster = use(cluster, what)
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
    """The address of a live worker (a worker killed a moment ago, not yet restarted, is not one)."""
    try:
        return cluster.address_of(worker)
    except KeyError as exc:
        raise FaultError(exc.args[0]) from None
