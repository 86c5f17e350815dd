"""Stragglers on demand: a slow worker, and some long tasks.

``slow_worker`` makes one worker process take ``factor`` times as long for
every task it runs (a worker plugin sleeps, in the task's own thread, for
``(factor - 1) x`` the task's real duration, so the slot stays busy and the
recorded compute time includes the wait).  ``slow_partitions`` makes chosen
partitions' tasks long wherever they run.  Either way the scheduler's queuing
gives idle workers more tasks and work stealing moves queued tasks away from
the busy worker; a recording shows both.  Both work on remote clusters too.

A second ``slow_worker`` call for the same worker replaces the first (the new
factor is the one in force, as printed); the earlier handle's ``undo()`` then
does nothing.  Both are re-exported by :mod:`teachkit.faults`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from teachkit import arguments
from teachkit.cluster import use
from teachkit.errors import ArgumentError, FaultError

SLOW_PLUGIN_PREFIX = "teachkit-slow-"
#: Largest slowdown factor (a task of 10 ms then takes 10 s).
MAX_FACTOR = 1000.0
#: Longest sleep slow_partitions adds to a task, in seconds.
MAX_SLEEP_S = 600.0
#: The slowdown in force per (client, worker name): a new call replaces it.
_ACTIVE: dict[tuple[str, str], Slow] = {}


class _SlowTasks(WorkerPlugin):
    """Stretch every task run by one worker process (by address) ``factor`` times.

    Not idempotent: registering it again under the same name replaces the one
    in force (the worker tears the old one down first), so a new factor applies.
    """

    idempotent = False

    def __init__(self, address: str, factor: float) -> None:
        self.address, self.factor = address, factor
        self.active = False

    def setup(self, worker) -> None:
        if worker.address != self.address:
            return
        import distributed.worker as wmod

        original = wmod._run_task_simple
        factor = self.factor

        def run_slowly(task, data, time_delay):
            msg = original(task, data, time_delay)
            extra = (msg["stop"] - msg["start"]) * (factor - 1)
            if extra > 0:
                time.sleep(extra)
                msg["stop"] += extra
            return msg

        run_slowly._teachkit_original = original  # type: ignore[attr-defined]
        wmod._run_task_simple = run_slowly
        self.active = True

    def teardown(self, worker) -> None:
        if not self.active:
            return
        import distributed.worker as wmod

        original = getattr(wmod._run_task_simple, "_teachkit_original", None)
        if original is not None:
            wmod._run_task_simple = original


class Slow:
    """A slowed-down worker; ``undo()`` (or leaving a ``with`` block) makes it normal again."""

    def __init__(self, client: Any, worker: str, name: str, factor: float) -> None:
        self.client, self.worker, self.name, self.factor = client, worker, name, factor
        self.undone = False

    def undo(self) -> None:
        """Remove the slowdown (the worker process keeps running); nothing if a later call replaced it."""
        if self.undone:
            return
        self.undone = True
        slot = (self.client.id, self.worker)
        if _ACTIVE.get(slot) is not self:
            return  # replaced by a later slow_worker call, which is the one in force
        del _ACTIVE[slot]
        try:
            self.client.unregister_worker_plugin(self.name)
        except Exception:
            pass
        print(f"teachkit: {self.worker} runs at normal speed again", flush=True)

    def __enter__(self) -> Slow:
        return self

    def __exit__(self, *exc) -> None:
        self.undo()

    def __repr__(self) -> str:
        return f"<teachkit Slow {self.worker} x{self.factor:g}{' (undone)' if self.undone else ''}>"


def slow_worker(cluster: Any = None, worker: str = "", *, factor: float = 5.0) -> Slow:
    """Make one worker a straggler: each task it runs takes ``factor`` times as long.

    Parameters
    ----------
    cluster : teachkit.Cluster, optional
        Local or connected (remote) cluster; default: the current one.  In
        replay mode nothing slows: the block replays the run made with it.
    worker : str
        Friendly name, e.g. ``"worker-3"``.
    factor : float
        How many times slower, from 1 to 1000.  A second call for the same
        worker replaces the first.  The worker sleeps for ``factor - 1``
        times each task's real duration, in the task's own thread (its slot
        stays busy), so very short tasks stay short: for a visible effect make
        tasks longer too (:func:`slow_partitions`) or use a large factor.

    Returns
    -------
    Slow
        Call ``.undo()`` or use it as a context manager.

    Examples
    --------
    >>> with faults.slow_worker(cluster, "worker-3", factor=20):       # doctest: +SKIP
    ...     df.groupby("category").count().compute()
    """
    worker = arguments.text("worker", worker, example="worker-3")
    factor = arguments.number("factor", factor, minimum=1, maximum=MAX_FACTOR, example=5)
    cluster = use(cluster, "slow_worker")
    if getattr(cluster, "replay", False):  # replay mode: the replayed run was made with the slowdown
        return cluster.slow_worker(worker, factor)
    try:
        address = cluster.address_of(worker)
    except KeyError as exc:
        raise FaultError(exc.args[0]) from None
    name = f"{SLOW_PLUGIN_PREFIX}{worker}"
    slot = (cluster.client.id, worker)
    earlier = _ACTIVE.get(slot)
    cluster.client.register_plugin(_SlowTasks(address, factor), name=name)
    slow = _ACTIVE[slot] = Slow(cluster.client, worker, name, factor)
    instead = f" (instead of {earlier.factor:g}x)" if earlier is not None and not earlier.undone else ""
    if earlier is not None:
        earlier.undone = True
    print(f"teachkit: {worker} now runs every task {factor:g}x slower{instead} (a straggler); undo() to stop",
          flush=True)
    return slow


def _sleep_partition(part, numbers, seconds, partition_info=None):
    if partition_info is not None and partition_info.get("number") in numbers:
        time.sleep(seconds)
    return part


def slow_partitions(df: Any, partitions: list[int], seconds: float = 1.0) -> Any:
    """Return ``df`` unchanged, but the tasks of the given partitions sleep ``seconds`` first.

    A narrow step (``map_partitions``), so it stays in the same Spark stage.

    Examples
    --------
    >>> from teachkit.datasets import sales
    >>> df = slow_partitions(sales(rows=400, partitions=4), partitions=[0], seconds=0.01)
    >>> len(df.compute(scheduler="sync"))
    400
    """
    if not hasattr(df, "npartitions") or not hasattr(df, "map_partitions"):
        raise ArgumentError(f"slow_partitions needs a dask DataFrame (e.g. teachkit.datasets.sales()), "
                            f"not a {type(df).__name__}.")
    numbers = _partition_numbers(partitions)
    bad = [p for p in numbers if not 0 <= p < df.npartitions]
    if bad:
        raise ArgumentError(f"There is no partition {bad[0]}: this frame has partitions 0 to {df.npartitions - 1}.")
    seconds = arguments.number("seconds", seconds, minimum=0, maximum=MAX_SLEEP_S, example=1, unit="s")
    return df.map_partitions(_sleep_partition, numbers, seconds, meta=df._meta, enforce_metadata=False,
                             align_dataframes=False)


def _partition_numbers(partitions: Any) -> list[int]:
    """Partition numbers from a list, range or other iterable of whole numbers."""
    if isinstance(partitions, (str, bytes)) or not isinstance(partitions, Iterable):
        raise ArgumentError(f"partitions={partitions!r} is not a list of partition numbers: pass one such as [0, 5].")
    return sorted({arguments.count("partition number", p, minimum=0, example=0) for p in partitions})
