"""Start or attach to a Dask cluster with teaching defaults.

``start_cluster`` runs a ``dask.distributed`` LocalCluster whose workers are
real processes (so data really moves between them), bound to 127.0.0.1 only,
with friendly worker names ``worker-1 ... worker-N``.  ``connect`` attaches to
an existing scheduler (a real multi-machine cluster).  Both return a
:class:`Cluster`, the kit's one explicit default cluster.

Nothing the user did not ask for is closed: ``connect`` to the address of a
running cluster returns that cluster, and ``connect`` to another scheduler
keeps a running local cluster running (it is no longer the default; close it
when done).  Every cluster still open is closed when the interpreter exits.  A
local cluster's log folder is removed when it closes, and a memory
:class:`~teachkit.watchdog.MemoryWatchdog` says so when its workers stall a job.
"""

from __future__ import annotations

import atexit
import contextlib
import html
import importlib
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask

from teachkit import arguments, logs, preflight
from teachkit.errors import ArgumentError, ClusterError
from teachkit.model.jobs import friendly_names
from teachkit.restarts import be_patient, missing_reason
from teachkit.watchdog import watch_memory

__all__ = ["Cluster", "ClusterError", "connect", "current", "start_cluster", "use"]

#: Settings applied while a teaching cluster is created (see docs of each key).
TEACHING_CONFIG = {
    # The statistical profiler samples every worker thread every 10 ms: on two cores it costs more than the recorder.
    "distributed.worker.profile.enabled": False,
    # Keep dask's log lines out of the notebook: they go to Cluster.log_path.
    "distributed.admin.log-format": logs.LOG_FORMAT,
    # Worker processes are forked from one server process that imported dask, distributed, numpy and pandas once
    # (as dask's own tests do); "spawn" would import them again in each (on two cores about twice the start time).
    # Jobs run the same either way.  A worker that a fault restarts later is spawned (this holds at creation).
    "distributed.worker.multiprocessing-method": "forkserver",
}

#: Replay mode's entry points (``replaying``, ``start``, ``fallback_allowed``, ``simulated_failure``): the module
#: :mod:`teachkit.replay_mode` registers itself here when imported (by ``import teachkit``); no import needed here.
replay_mode: Any = None
_current: Cluster | None = None  # the default cluster
_open: list[Cluster] = []  # every cluster started or connected here and not closed, oldest first
log = logging.getLogger("teachkit")


class Cluster:
    """A running cluster: the driver (client + scheduler) and its workers.

    Use :func:`start_cluster` or :func:`connect` to get one.  The last line of a
    notebook cell showing a ``Cluster`` draws the driver, the workers and the
    dashboard link.
    """

    def __init__(self, client: Any, local: Any = None, *, key: tuple | None = None, log_path: Path | None = None):
        self.client = client
        self.local = local
        self.key = key
        self.log_path = log_path
        self._handlers: list = []
        self._watchdog: Any = None
        #: Called (most recent first) just before the cluster closes, e.g. to end a recording block.
        self.before_close: list[Callable[[], None]] = []
        #: Friendly name -> (time.monotonic() of a kill, restart?, the killed address), noted by teachkit.faults.
        self.killed: dict[str, tuple[float, bool, str]] = {}

    @property
    def address(self) -> str:
        """The scheduler's address."""
        return self.client.scheduler.address

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's URL (on 127.0.0.1 for a local cluster), if it runs."""
        try:
            return self.client.dashboard_link
        except Exception:
            return None

    @property
    def workers(self) -> dict[str, str]:
        """Friendly worker names mapped to addresses, ``{"worker-1": "tcp://..."}``."""
        info = self.client.scheduler_info(n_workers=-1)["workers"] if self.running else {}
        events = [{"worker": a, "name": str(w.get("name", a))} for a, w in sorted(info.items())]
        names = friendly_names(events)
        return dict(sorted(((names[a], a) for a in info), key=lambda item: _order(item[0])))

    @property
    def running(self) -> bool:
        """Whether the client is still connected."""
        return self.client is not None and self.client.status == "running"

    def address_of(self, worker: str) -> str:
        """Return the address of a worker given its friendly name (or its address).

        Raises
        ------
        KeyError
            With the names of the workers there are, or, for a worker whose
            Nanny is restarting it, how long to wait.
        """
        workers = self.workers
        address = workers.get(worker, worker if worker in workers.values() else None)
        if address is not None and self.killed.get(worker, (0, True, None))[2] != address:
            return address
        gone = self._gone(worker)
        raise KeyError(gone or f"There is no worker named {worker!r}; the workers are: {', '.join(workers) or 'none'}.")

    def _gone(self, worker: str) -> str | None:
        """Why a worker of this local cluster is missing (killed, restarting), if it is one."""
        return missing_reason(self.local, self.killed, worker)

    def close(self) -> None:
        """Close the client and, for a local cluster, every process it started, and remove its log folder."""
        global _current
        for hook in list(reversed(self.before_close)):
            with contextlib.suppress(Exception):  # a hook must never keep the cluster open
                hook()
        self.before_close = []
        was_running = self.running
        with contextlib.suppress(Exception):  # nothing that fails here may keep a process alive
            if self._watchdog is not None and self.local is not None:
                self.local.loop.add_callback(self._watchdog.stop)
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.close(timeout=10)
        with contextlib.suppress(Exception):
            if self.local is not None:
                self.local.close(timeout=20)
        logs.restore_logging(self._handlers)
        self._handlers = []
        if self.log_path is not None:
            logs.remove_log_dir(self.log_path.parent)
        if self in _open:
            _open.remove(self)
        if _current is self:
            _current = next((c for c in reversed(_open) if c.running), None)
            if _current is not None:
                _make_default(_current)
            elif was_running:
                from teachkit.local_runs import notice_after_close

                notice_after_close()

    def warm_up(self, *modules: str) -> None:
        """Import ``modules`` (e.g. ``"dask.dataframe"``) in every worker now, so the first job does not load them."""
        for name in modules:
            self.client.run(importlib.import_module, name)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "local" if self.local is not None else "remote"
        return f"<teachkit.Cluster {kind} {self.address if self.running else 'closed'}: {', '.join(self.workers)}>"

    def _repr_html_(self) -> str:
        if not self.running:
            return "<div>teachkit cluster (closed)</div>"
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        by_addr = {a: n for n, a in self.workers.items()}
        boxes = "".join(
            f'<div style="border:1px solid #888;border-radius:4px;padding:4px 8px;margin:2px;display:inline-block">'
            f"<b>{html.escape(by_addr.get(a, a))}</b><br><small>{html.escape(a)}<br>"
            f"{w.get('nthreads', 1)} task slot(s)</small></div>"
            for a, w in sorted(info.items(), key=lambda aw: _order(by_addr.get(aw[0], aw[0])))
        )
        link = self.dashboard_link
        dash = f' · <a href="{html.escape(link)}" target="_blank">Dask dashboard</a>' if link else ""
        return (
            '<div style="font-family:sans-serif"><div style="border:2px solid #444;border-radius:4px;'
            'padding:4px 8px;display:inline-block;margin-bottom:4px"><b>driver</b><br><small>'
            f"your notebook (client) + Dask scheduler at {html.escape(self.address)}</small></div>{dash}"
            f"<div>{boxes}</div></div>"
        )


def _order(name: str) -> tuple:
    head, _, tail = name.partition("-")
    digits = "".join(ch for ch in tail if ch.isdigit())
    return (head, int(digits) if digits else 0, tail)


def start_cluster(
    workers: int = 5,
    threads_per_worker: int = 1,
    memory_limit: str | int | None = "2GiB",
    *,
    dashboard: bool = True,
) -> Cluster:
    """Start (or reuse) a local cluster of worker **processes** on 127.0.0.1.

    Parameters
    ----------
    workers : int
        Number of worker processes, named ``worker-1 ... worker-N``; at most
        what this machine's free memory holds (about 200 MiB a process) and
        at most :data:`teachkit.preflight.MAX_LOCAL_WORKERS`.
    threads_per_worker : int
        Task slots (threads) per worker, like Spark's executor cores.
    memory_limit : str or int or None
        Memory limit per worker, e.g. ``"2GiB"``.  A job whose workers run out
        of it is stuck, and the kit says so in one line.
    dashboard : bool
        Serve the Dask dashboard on a random port of 127.0.0.1.

    Returns
    -------
    Cluster
        Reused when called again with the same arguments while it runs;
        replaced (the old one closed cleanly) when the arguments differ.

    Raises
    ------
    ArgumentError
        A wrong argument (checked before anything starts).
    ClusterError
        In a script that starts the cluster without ``if __name__ ==
        "__main__":``, or when the cluster cannot start (in a notebook it turns
        into replay mode instead, unless ``TEACHKIT_REPLAY=0``).  In replay mode
        (:func:`teachkit.replay`) no process starts: a ``ReplayCluster`` is returned.

    Examples
    --------
    >>> import teachkit
    >>> cluster = teachkit.start_cluster(workers=2)   # doctest: +SKIP
    >>> sorted(cluster.workers)                       # doctest: +SKIP
    ['worker-1', 'worker-2']
    """
    workers, threads_per_worker, memory_limit, dashboard = preflight.check_cluster_arguments(
        workers, threads_per_worker, memory_limit, dashboard)
    if replay_mode is not None and replay_mode.replaying():  # no process starts (see teachkit.replay)
        return replay_mode.start(workers, threads_per_worker)
    if preflight.in_spawned_worker():
        raise ClusterError(preflight.guard_sentence("in a worker process"))
    where = preflight.unguarded_script(sys._getframe(1))
    if where is not None:
        raise ClusterError(preflight.guard_sentence(where))
    key = ("local", workers, threads_per_worker, memory_limit, dashboard)
    for cluster in list(_open):
        if cluster.local is not None and cluster.running and cluster.key == key:
            return _make_default(cluster)
    for cluster in list(_open):
        if cluster.local is not None:
            cluster.close()  # replaced: other arguments (a connected cluster stays connected)

    from distributed import Client, LocalCluster

    log_path = logs.make_log_dir() / "cluster.log"
    handlers = logs.route_logging(log_path)
    t0 = time.perf_counter()
    try:
        rehearsal = replay_mode.simulated_failure() if replay_mode is not None else None
        if rehearsal is not None:
            raise RuntimeError(rehearsal)
        with dask.config.set(TEACHING_CONFIG):
            local = LocalCluster(
                n_workers=workers,
                threads_per_worker=threads_per_worker,
                memory_limit=memory_limit,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0" if dashboard else None,
                # Without a dashboard the scheduler still serves /metrics: keep it on a
                # random loopback port instead of dask's default 8787 on every interface.
                scheduler_kwargs=None if dashboard else {"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
            client = Client(local, set_as_default=True)
    except Exception as exc:
        logs.restore_logging(handlers)
        if replay_mode is not None and replay_mode.fallback_allowed():  # in a notebook: replay the shipped runs instead (one line says so)
            logs.remove_log_dir(log_path.parent)
            return replay_mode.start(workers, threads_per_worker, reason=str(exc) or type(exc).__name__)
        raise ClusterError(
            f"Could not start a local cluster of {workers} workers ({type(exc).__name__}: {exc}); "
            f"see the log at {log_path} and try fewer workers or a larger memory_limit."
        ) from None
    be_patient(local)  # a killed worker may take more than dask's 15 s to come back here
    cluster = Cluster(client, local, key=key, log_path=log_path)
    cluster._handlers = handlers
    logs.quiet_workers(client, log_path)  # worker processes log to the same file
    cluster._watchdog = watch_memory(local)
    _open.append(cluster)
    log.info("started %d workers in %.1f s", workers, time.perf_counter() - t0)
    return _make_default(cluster)


def _make_default(cluster: Cluster) -> Cluster:
    """Make ``cluster`` the kit's default and its client dask's default (jobs go there)."""
    global _current
    from distributed.client import _set_global_client

    _current = cluster
    _set_global_client(cluster.client)
    from teachkit.local_runs import forget_after_close

    forget_after_close()
    return cluster


def connect(address: str, *, timeout: float = 10) -> Cluster:
    """Attach to an existing Dask scheduler (e.g. a real multi-machine cluster).

    Parameters
    ----------
    address : str
        The scheduler's address, e.g. ``"tcp://10.0.0.5:8786"``.  The address
        of the running local cluster returns that cluster.
    timeout : float
        Seconds to wait for the scheduler: anything that does not answer as a
        Dask scheduler within it (a web server, a silent port) is an error.

    Raises
    ------
    ArgumentError
        A wrong address or timeout.
    ClusterError
        When nothing answers as a Dask scheduler at ``address`` in time.

    Notes
    -----
    Nothing is closed: a running local cluster keeps running (one line says
    so; jobs now go to ``address``), and so does an earlier connection.
    """
    address = preflight.check_address(address)
    timeout = arguments.number("timeout", timeout, minimum=0, above=True, example=10, unit="s")
    for cluster in list(_open):
        if cluster.running and _same_address(cluster.address, address):
            return _make_default(cluster)
    preflight.probe_scheduler(address, timeout)
    from distributed import Client

    try:
        client = Client(address, timeout=timeout, set_as_default=True)
    except Exception as exc:
        raise ClusterError(
            f"Could not reach a Dask scheduler at {address!r} within {timeout:g} s ({type(exc).__name__}); "
            "check the address and that `dask scheduler` is running there."
        ) from None
    cluster = Cluster(client, None, key=("remote", address))
    _open.append(cluster)
    for local in [c for c in _open if c.local is not None and c.running]:
        logs.say(f"teachkit: connected to {address}; the local cluster at {local.address} keeps running (jobs now go "
                 f"to {address}): close it with its close() when you no longer need it.")
    return _make_default(cluster)


def _same_address(a: str, b: str) -> bool:
    try:
        from distributed.comm.addressing import normalize_address, resolve_address

        return resolve_address(normalize_address(a)) == resolve_address(normalize_address(b))
    except Exception:
        return a == b


def current() -> Cluster | None:
    """The cluster started or connected last in this interpreter, if it still runs."""
    return _current if _current is not None and _current.running else None


def use(cluster: Any, what: str) -> Cluster:
    """The given cluster, or the current one, checked to be a running teachkit cluster.

    ``what`` names the caller in the messages, e.g. ``"kill_worker"``.
    """
    if cluster is None:
        cluster = current()
        if cluster is None:
            raise ClusterError(f"There is no cluster: start one with teachkit.start_cluster() before {what}.")
    if not isinstance(cluster, Cluster):
        raise ArgumentError(f"{what} needs the cluster from teachkit.start_cluster() (or teachkit.connect()), "
                            f"not a {type(cluster).__name__}.")
    if not cluster.running:
        raise ClusterError("That cluster is closed: start a new one with teachkit.start_cluster().")
    return cluster


@atexit.register
def _close_at_exit() -> None:
    for cluster in list(reversed(_open)):
        cluster.close()
