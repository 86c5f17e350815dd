"""Stragglers on demand: a slow worker, some long tasks, and quiet worker logs.

``slow_worker`` makes one worker process take ``factor`` times as long for
every task it runs (a worker plugin sleeps, in the task's own thread, for
``(factor - 1) x`` the task's real duration, so the slot stays busy and the
recorded compute time includes the wait).  ``slow_partitions`` makes chosen
partitions' tasks long wherever they run.  Either way the scheduler's queuing
gives idle workers more tasks and work stealing moves queued tasks away from
the busy worker; a recording shows both.  Both work on remote clusters too.

Both are re-exported by :mod:`teachkit.faults`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

SLOW_PLUGIN_PREFIX = "teachkit-slow-"
QUIET_PLUGIN_NAME = "teachkit-quiet"


class _SlowTasks(WorkerPlugin):
    """Stretch every task run by one worker process (by address) ``factor`` times."""

    idempotent = True

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
        """Remove the slowdown (the worker process keeps running)."""
        if not self.undone:
            self.undone = True
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
        Local or connected (remote) cluster; default: the current one.
    worker : str
        Friendly name, e.g. ``"worker-3"``.
    factor : float
        How many times slower, at least 1.  The worker sleeps for ``factor - 1``
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
    from teachkit.faults import FaultError, _address, _any_cluster

    cluster = _any_cluster(cluster, "slow_worker")
    if not factor >= 1:
        raise FaultError(f"factor must be at least 1 (how many times slower), not {factor!r}.")
    address = _address(cluster, worker)
    name = f"{SLOW_PLUGIN_PREFIX}{worker}"
    cluster.client.register_plugin(_SlowTasks(address, float(factor)), name=name)
    print(f"teachkit: {worker} now runs every task {factor:g}x slower (a straggler); undo() to stop", flush=True)
    return Slow(cluster.client, worker, name, factor)


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
    from teachkit.faults import FaultError

    numbers = sorted({int(p) for p in partitions})
    bad = [p for p in numbers if not 0 <= p < df.npartitions]
    if bad:
        raise FaultError(f"There is no partition {bad[0]}: this frame has partitions 0 to {df.npartitions - 1}.")
    if seconds < 0:
        raise FaultError(f"seconds must be 0 or more, not {seconds!r}.")
    return df.map_partitions(_sleep_partition, numbers, float(seconds), meta=df._meta, enforce_metadata=False,
                             align_dataframes=False)


class _QuietLogs(WorkerPlugin):
    """In each worker process, send ``distributed`` log lines to a file instead of stderr.

    Worker processes inherit the notebook's stderr; ipykernel forwards it into
    the notebook, so without this a killed peer shows up as tracebacks there.
    """

    idempotent = True

    def __init__(self, path: str) -> None:
        self.path = path

    def setup(self, worker) -> None:
        handler = logging.FileHandler(self.path)
        handler.setFormatter(logging.Formatter(f"%(asctime)s [{worker.address}] %(name)s %(levelname)s %(message)s"))
        for name in ("distributed", "tornado"):
            logger = logging.getLogger(name)
            for h in list(logger.handlers):
                if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
                    logger.removeHandler(h)
            logger.addHandler(handler)
            logger.propagate = False


def quiet_workers(cluster: Any) -> None:
    """Route every worker process's dask logs to the cluster's log file (also future, restarted ones)."""
    path = getattr(cluster, "log_path", None)
    if path is None or getattr(cluster, "_teachkit_quiet", False):
        return
    cluster.client.register_plugin(_QuietLogs(str(path)), name=QUIET_PLUGIN_NAME)
    cluster._teachkit_quiet = True
