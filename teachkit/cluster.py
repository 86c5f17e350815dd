"""Start or attach to a Dask cluster with teaching defaults.

``start_cluster`` runs a ``dask.distributed`` LocalCluster whose workers are
real processes (so data really moves between them), bound to 127.0.0.1 only,
with friendly worker names ``worker-1 ... worker-N``.  ``connect`` attaches to
an existing scheduler (a real multi-machine cluster).  Both return a
:class:`Cluster`, the kit's one explicit default cluster.
"""

from __future__ import annotations

import atexit
import html
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import dask

from teachkit.model.jobs import friendly_names

#: Settings applied while a teaching cluster is created (see docs of each key).
TEACHING_CONFIG = {
    # The statistical profiler samples every worker thread every 10 ms; on two
    # cores it costs more than the recorder and teaches nothing here.
    "distributed.worker.profile.enabled": False,
    # Keep dask's log lines out of the notebook: they go to Cluster.log_path.
    "distributed.admin.log-format": "%(asctime)s %(name)s %(levelname)s %(message)s",
}

_current: Cluster | None = None
log = logging.getLogger("teachkit")


class ClusterError(RuntimeError):
    """A cluster could not be started or reached; the message says what to do."""


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
            With the names of the workers there are.
        """
        workers = self.workers
        if worker in workers:
            return workers[worker]
        if worker in workers.values():
            return worker
        raise KeyError(f"There is no worker named {worker!r}; the workers are: {', '.join(workers) or 'none'}.")

    def close(self) -> None:
        """Close the client and, for a local cluster, every process it started."""
        global _current
        try:
            if self.client is not None:
                self.client.close(timeout=10)
        except Exception:
            pass
        try:
            if self.local is not None:
                self.local.close(timeout=20)
        except Exception:
            pass
        _restore_logging(self._handlers)
        self._handlers = []
        if _current is self:
            _current = None

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
        Number of worker processes, named ``worker-1 ... worker-N``.
    threads_per_worker : int
        Task slots (threads) per worker, like Spark's executor cores.
    memory_limit : str or int or None
        Memory limit per worker, e.g. ``"2GiB"``.
    dashboard : bool
        Serve the Dask dashboard on a random port of 127.0.0.1.

    Returns
    -------
    Cluster
        Reused when called again with the same arguments while it runs;
        replaced (the old one closed cleanly) when the arguments differ.

    Examples
    --------
    >>> import teachkit
    >>> cluster = teachkit.start_cluster(workers=2)   # doctest: +SKIP
    >>> sorted(cluster.workers)                       # doctest: +SKIP
    ['worker-1', 'worker-2']
    """
    global _current
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of at least 1, not {workers!r}.")
    if not isinstance(threads_per_worker, int) or threads_per_worker < 1:
        raise ValueError(f"threads_per_worker must be a whole number of at least 1, not {threads_per_worker!r}.")
    key = ("local", workers, threads_per_worker, memory_limit, dashboard)
    if _current is not None:
        if _current.key == key and _current.running:
            return _current
        _current.close()

    from distributed import Client, LocalCluster

    log_path = Path(tempfile.mkdtemp(prefix="teachkit-logs-")) / "cluster.log"
    handlers = _route_logging(log_path)
    t0 = time.perf_counter()
    try:
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
        _restore_logging(handlers)
        raise ClusterError(
            f"Could not start a local cluster of {workers} workers ({type(exc).__name__}: {exc}); "
            f"see the log at {log_path} and try fewer workers."
        ) from None
    _current = Cluster(client, local, key=key, log_path=log_path)
    _current._handlers = handlers
    from teachkit.stragglers import quiet_workers  # worker processes log to the same file

    quiet_workers(_current)
    log.info("started %d workers in %.1f s", workers, time.perf_counter() - t0)
    return _current


def connect(address: str, *, timeout: float = 10) -> Cluster:
    """Attach to an existing Dask scheduler (e.g. a real multi-machine cluster).

    Parameters
    ----------
    address : str
        The scheduler's address, e.g. ``"tcp://10.0.0.5:8786"``.
    timeout : float
        Seconds to wait for the scheduler.

    Raises
    ------
    ClusterError
        When no scheduler answers at ``address``.
    """
    global _current
    from distributed import Client

    if _current is not None and _current.running and _current.key == ("remote", address):
        return _current
    try:
        client = Client(address, timeout=timeout, set_as_default=True)
    except Exception as exc:
        raise ClusterError(
            f"Could not reach a Dask scheduler at {address!r} within {timeout:g} s ({type(exc).__name__}); "
            "check the address and that `dask scheduler` is running there."
        ) from None
    if _current is not None:
        _current.close()
    _current = Cluster(client, None, key=("remote", address))
    return _current


def current() -> Cluster | None:
    """The cluster started or connected last in this interpreter, if it still runs."""
    return _current if _current is not None and _current.running else None


def _route_logging(path: Path) -> list:
    """Send the in-process ``distributed`` logs to a file instead of the notebook."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(TEACHING_CONFIG["distributed.admin.log-format"]))
    saved = []
    for name in ("distributed", "tornado"):
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.propagate))
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.addHandler(handler)
        logger.propagate = False
    return saved


def _restore_logging(saved: list) -> None:
    for logger, handlers, propagate in saved:
        for h in list(logger.handlers):
            logger.removeHandler(h)
            if isinstance(h, logging.FileHandler):
                h.close()
        for h in handlers:
            logger.addHandler(h)
        logger.propagate = propagate


@atexit.register
def _close_at_exit() -> None:
    if _current is not None:
        _current.close()
