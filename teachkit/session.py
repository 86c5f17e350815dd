"""``teachkit.record(...)``: plugins in, a :class:`~teachkit.Recording` out.

Recording works the same on a LocalCluster and on a remote scheduler: the
plugins are registered through the client, they keep their events where they
run, and the client pulls them back when the block ends.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from teachkit.errors import RecordingStartError
from teachkit.model.recording import Recording
from teachkit.record.control import drain_scheduler, finish_recording, start_recording
from teachkit.record.plan import plan_event
from teachkit.record.scheduler_recorder import SCHEDULER_PLUGIN_NAME
from teachkit.record.wire import no_gc, unpack
from teachkit.record.worker_recorder import WORKER_PLUGIN_NAME

#: Seconds to wait for a persisted job to finish before the recording closes.
PERSIST_WAIT_S = 600


def resolve_client(target: Any = None):
    """Return the ``distributed.Client`` behind a Cluster, a Client or ``None`` (the default)."""
    from distributed import Client

    from teachkit import cluster as cluster_mod

    if target is None:
        current = cluster_mod.current()
        if current is not None:
            return current.client
        try:
            from distributed import default_client

            return default_client()
        except ValueError:
            raise RecordingStartError(
                "There is no cluster to record: call teachkit.start_cluster() first, or pass a cluster or Client."
            ) from None
    if isinstance(target, cluster_mod.Cluster):
        if not target.running:
            raise RecordingStartError("That cluster is closed: start a new one with teachkit.start_cluster().")
        return target.client
    if isinstance(target, Client):
        return target
    if hasattr(target, "scheduler_address") and hasattr(target, "workers"):
        raise RecordingStartError(
            "teachkit.record needs a Client for a plain dask cluster: pass Client(cluster), "
            "or start one with teachkit.start_cluster()."
        )
    raise RecordingStartError(
        f"teachkit.record cannot record a {type(target).__name__}: pass the cluster from "
        "teachkit.start_cluster() (or teachkit.connect()), or a distributed Client."
    )


@contextlib.contextmanager
def job(name: str) -> Iterator[None]:
    """Name the jobs run inside the block (a ``distributed.span``, which holds across processes).

    Examples
    --------
    >>> with teachkit.record(cluster) as rec:          # doctest: +SKIP
    ...     with teachkit.job("groupby count"):
    ...         df.groupby("category").count().compute()
    """
    import warnings

    from distributed import span

    with span(str(name)), warnings.catch_warnings():
        # dask-expr warns that annotations are ignored; the span still reaches the
        # scheduler (it travels as span metadata), which is all teachkit needs.
        warnings.filterwarnings("ignore", message="Dask annotations", category=UserWarning)
        yield


@contextlib.contextmanager
def record(target: Any = None, *, live: bool = False) -> Iterator[Recording]:
    """Record every job run inside the block.

    Parameters
    ----------
    target : Cluster or distributed.Client, optional
        What to record; by default the cluster from :func:`teachkit.start_cluster`.
    live : bool
        Show progress per stage while jobs run (needs the live view).

    Yields
    ------
    Recording
        Filled in when the block ends (also when the job raised an error).

    Examples
    --------
    >>> with teachkit.record(cluster) as rec:                   # doctest: +SKIP
    ...     df.groupby("category").count().compute()
    >>> rec.summary()["jobs"][0]["num_tasks"]                   # doctest: +SKIP
    """
    from teachkit.arguments import flag

    live = flag("live", live)
    client = resolve_client(target)
    rec = Recording(meta=_meta(client))
    session = _Session(client, rec)
    session.start()
    from teachkit.block_guard import guard_block

    session.unguard = guard_block(session, target)
    watcher = None
    if live:
        from teachkit.views.live import LiveView  # lazy: views sit above the session

        watcher = LiveView.start(session)
    try:
        yield rec
    finally:
        exc = sys.exc_info()[1]
        if watcher is not None:
            watcher.halt()  # its polls drain the scheduler too: the final drain must not race them
        session.stop(wait=exc is None)
        if watcher is not None:
            watcher.finish(rec)


class _Session:
    """The plumbing of one recording block."""

    def __init__(self, client: Any, rec: Recording) -> None:
        self.client = client
        self.rec = rec
        self.offset = 0.0
        self.since = 0.0
        self.futures: list = []
        self._plans: list[dict] = []  # noted on the client's thread, taken by the drains
        self._plans_lock = threading.Lock()
        self._original = None
        self.stopped = False
        self.unguard: list = []  # undoes what teachkit.block_guard set up

    def warn(self, where: str, exc: BaseException | str) -> None:
        self.rec._extend([{"kind": "warning", "t": time.time() + self.offset, "where": where, "message": str(exc)}])

    def start(self) -> None:
        client = self.client
        t_a = time.time()
        reply = client.run_on_scheduler(start_recording)  # one round trip registers both plugins
        t_b = time.time()
        # The scheduler noted its clock on arrival and how long it then worked: the rest of
        # the round trip is the two legs of the network, taken as equal.
        latency = max(0.0, (t_b - t_a) - reply["took"]) / 2
        self.offset = reply["t"] - (t_a + latency)  # client clock -> scheduler clock
        self.since = reply["t"]
        self.rec.meta.update(t0=reply["t"], clock_offset_client=self.offset)
        if not reply["started"]:
            raise RecordingStartError(
                "A teachkit recording is already running on this cluster: end it before starting another.")
        if reply["worker_error"]:
            self.warn("worker plugin", reply["worker_error"])
        self._hook_plans()

    def drain(self) -> list[dict]:
        """Pull the scheduler's new events and the plans noted since (used by the live view while jobs run).

        A job's plan is noted before its graph is sent, so every graph this
        drain brings comes with its plan: the live model names and cuts the job
        exactly as the finished recording will.
        """
        events = unpack(self.client.run_on_scheduler(drain_scheduler))
        events += self._take_plans()
        events.sort(key=itemgetter("t"))
        self.rec._extend(events)
        return events

    def _take_plans(self) -> list[dict]:
        with self._plans_lock:
            plans, self._plans = self._plans, []
        return plans

    def stop(self, wait: bool, why: str = "") -> None:
        """End the recording (once): collect every event; ``why`` says why it ends early, if it does."""
        if self.stopped:
            return
        self.stopped = True
        for undo in self.unguard:
            with contextlib.suppress(Exception):
                undo()
        if why:
            from teachkit.logs import say

            say(f"teachkit: {why}: the recording ends here, with the events up to now; close the cluster after "
                "the block to record whole jobs.")
            self.warn("record block", f"{why}; the recording ended there")
        client = self.client
        self._unhook_plans()
        pending = [f for f in self.futures if f.status == "pending"]  # persisted, still running
        if wait and pending:
            try:
                from distributed import wait as wait_for

                wait_for(pending, timeout=PERSIST_WAIT_S)
            except Exception as exc:
                self.warn("waiting for persisted jobs", exc)
        # Let go of the jobs' futures: keys nobody else holds are released now, and the
        # final drain waits for the scheduler to forget them (see ``finish_recording``).
        keys = {f.key for f in self.futures}
        self.futures = []
        released = tuple(k for k in keys if client.refcount.get(k, 0) == 0)
        gathered = self._take_plans()  # added in one go: the recording sorts its events once
        try:
            # One round trip: the scheduler's last events and every worker's; both plugins removed.
            chunks, per_worker = client.run_on_scheduler(finish_recording, released, client.id, self.since)
        except Exception as exc:  # e.g. the client itself is gone: keep what the recording has
            if client.status != "running":
                from teachkit.logs import say

                exc = ("the cluster's client was closed inside the record block, so the scheduler's events "
                       "(the jobs' tasks) could not be collected")
                say(f"teachkit: {exc}; close the cluster after the block.")
            self.warn("drain scheduler", exc)
            with contextlib.suppress(Exception):
                client.unregister_scheduler_plugin(SCHEDULER_PLUGIN_NAME)
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(WORKER_PLUGIN_NAME)
            chunks, per_worker = [], {}
        for source, frames in [("scheduler", chunks), *per_worker.items()]:
            try:
                if isinstance(frames, str):  # the worker's error, as text
                    raise RuntimeError(frames)
                gathered.extend(unpack(frames))
            except Exception as exc:
                self.warn(source if source == "scheduler" else f"worker {source}", exc)
        with no_gc():
            self.rec._extend(gathered)
        self.rec.meta["stopped"] = time.time() + self.offset

    # -- the client's plan of each job ------------------------------------------
    def _hook_plans(self) -> None:
        """Wrap this client's graph submission to note each job's expressions."""
        client = self.client
        original = client._graph_to_futures
        session = self

        def graph_to_futures(expr, keys, *args, **kwargs):
            try:
                plan = plan_event(expr, keys, time.time() + session.offset)
                with session._plans_lock:
                    session._plans.append(plan)
            except Exception as exc:
                session.warn("plan", exc)
            futures = original(expr, keys, *args, **kwargs)
            try:
                session.futures.extend(futures.values())
            except Exception:
                pass
            return futures

        self._original = original
        client._graph_to_futures = graph_to_futures

    def _unhook_plans(self) -> None:
        if self._original is not None:
            try:
                del self.client._graph_to_futures  # back to the class's method
            except AttributeError:
                pass
            self._original = None


def _meta(client) -> dict:
    import dask
    import distributed
    import pandas

    from teachkit import __version__

    return {
        "teachkit": __version__,
        "dask": dask.__version__,
        "distributed": distributed.__version__,
        "pandas": pandas.__version__,
        "scheduler": client.scheduler.address,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
