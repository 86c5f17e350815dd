"""Scheduler- and worker-side plugins that only append plain events.

Like ``distributed.diagnostics.task_stream.TaskStreamPlugin``, these plugins
perform no analysis and no drawing: each hook appends plain values to a list
and returns.  The client starts and ends a recording with one
``client.run_on_scheduler`` call each (:func:`start_recording`,
:func:`finish_recording`; see :mod:`teachkit.session`), and the events travel
back as msgpack frames, so nothing assumes that the scheduler lives in the
notebook's process.

Every hook is wrapped so that an error inside the recorder is stored as a
``warning`` event and never reaches the user's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from time import time
from typing import Any

import msgpack
from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin

from teachkit.record.events import (  # noqa: F401 (cause_of re-exported)
    cause_of,
    key_index,
    key_namer,
    key_str,
    transition_events,
)

SCHEDULER_PLUGIN_NAME = "teachkit-recorder"
#: Seconds between background encodings of the scheduler's events.
ENCODE_EVERY_S = 0.5
WORKER_PLUGIN_NAME = "teachkit-worker-recorder"

def _guarded(where: str):
    """Decorate a hook: catch any exception and log it as a warning event."""

    def decorate(func):
        @functools.wraps(func)
        def hook(self, *args, **kwargs):
            try:
                return func(self, *args, **kwargs)
            except Exception as exc:  # never break the user's job
                self._warn(where, exc)
                return None

        return hook

    return decorate


class SchedulerRecorder(SchedulerPlugin):
    """Record graph submissions, task transitions, workers and steals.

    Transitions are kept as plain values in one flat list in the hot path,
    packed into frames in the background (:func:`pack`) and turned into event
    dicts only by the client (:func:`unpack`).
    """

    name = SCHEDULER_PLUGIN_NAME
    idempotent = False

    def __init__(self) -> None:
        self.scheduler: Any = None
        self.events: list[dict] = []
        self._flat: list = []  # 7 values per transition, see transition()
        self._encoded: list[bytes] = []  # packed frames not yet collected
        self.jobs = 0
        self._pc: Any = None  # the background encoding, from start()

    # -- lifecycle -----------------------------------------------------------
    async def start(self, scheduler) -> None:
        from tornado.ioloop import PeriodicCallback

        self.scheduler = scheduler
        for ws in scheduler.workers.values():
            self.events.append(self._worker_event("worker-present", ws, time()))
        # Encode events in small batches while jobs run, so that the end of the
        # recording block has little left to do.
        self._pc = PeriodicCallback(self._encode_pending, ENCODE_EVERY_S * 1000)
        self._pc.start()

    def _encode_pending(self) -> None:
        if self.scheduler.plugins.get(self.name) is not self:  # unregistered without a final drain
            self._pc.stop()
            return
        try:
            self._pack_new()
        except Exception as exc:
            self._warn("encode", exc)

    def _pack_new(self) -> None:
        """Pack the events gathered since the last packing into one more frame."""
        events, cols = self.drain()
        if events or cols[0]:
            self._encoded.append(pack(events, cols))

    def drain_packed(self, final: bool = False) -> list[bytes]:
        """All events not yet collected, as packed frames (``final`` stops the background encoding)."""
        self._pack_new()
        chunks, self._encoded = self._encoded, []
        if final and self._pc is not None:
            self._pc.stop()
        return chunks

    #: At most this many warnings are kept per hook; later ones are only counted.
    MAX_WARNINGS = 20

    def _warn(self, where: str, exc: BaseException) -> None:
        counts = self.__dict__.setdefault("_warned", {})
        counts[where] = counts.get(where, 0) + 1
        if counts[where] <= self.MAX_WARNINGS:
            message = f"{type(exc).__name__}: {exc}"
            if counts[where] == self.MAX_WARNINGS:
                message += " (further warnings from this hook are dropped)"
            self.events.append({"kind": "warning", "t": time(), "where": where, "message": message})

    # -- hooks -----------------------------------------------------------------
    @_guarded("update_graph")
    def update_graph(self, scheduler, *, client, keys, tasks, annotations, priority, stimulus_id, **kw):
        # The scheduler calls this before it sends the job's first tasks to the workers:
        # copy the graph just after that instead (the next turn of its event loop, before
        # any other message), so that recording does not delay the start of the job.
        self.scheduler = scheduler
        job, self.jobs = self.jobs, self.jobs + 1
        scheduler.loop.add_callback(self._deferred_snapshot, scheduler, client, keys, tasks, annotations, job, time())

    @_guarded("update_graph")
    def _deferred_snapshot(self, scheduler, client, keys, tasks, annotations, job, t) -> None:
        self._snapshot(scheduler, client, keys, tasks, annotations, job, t)

    def _snapshot(self, scheduler, client, keys, tasks, annotations, job, t) -> None:
        """Store the submitted graph (the scheduler forgets tasks after the job), packed at once.

        Packed here, the thousands of small dicts and lists of a graph die before the
        garbage collector ever sees them; kept until the next background encoding,
        they lived long enough to be promoted to its oldest generation and bring its
        next full collection (~60 ms in a scheduler's process) closer.
        """
        span = self._span_name(scheduler, annotations, tasks)
        name = key_namer()
        with no_gc():
            snap = []
            for key in tasks:
                ts = scheduler.tasks.get(key)
                if ts is None:
                    continue
                snap.append(
                    {
                        "key": name(key),
                        "group": ts.group_key,
                        "prefix": ts.prefix.name,
                        "index": key_index(key),
                        "deps": [name(d.key) for d in ts.dependencies],
                    }
                )
            event = {
                "kind": "graph",
                "t": t,
                "job": job,
                "client": str(client),
                "keys": sorted(key_str(k) for k in keys),
                "span": span,
                "tasks": snap,
            }
            self._encoded.append(pack([event]))
            del snap, event

    @staticmethod
    def _span_name(scheduler, annotations, tasks) -> list[str]:
        ext = scheduler.extensions.get("spans")
        span_ids = (annotations or {}).get("span") or {}
        for key in tasks:
            span_id = span_ids.get(key)
            if isinstance(span_id, dict):  # {"name": (...), "ids": (...)}
                if span_id.get("name"):
                    return [str(tag) for tag in span_id["name"]]
                span_id = (span_id.get("ids") or [None])[-1]
            if span_id and ext is not None and span_id in ext.spans:
                return [str(tag) for tag in ext.spans[span_id].name]
        return []

    def transition(self, key, start, finish, *args, stimulus_id=None, **kwargs):
        # Hot path: one extend of a flat list with plain values (time, key, start, finish,
        # stimulus, worker, extra).  A flat list adds no objects for Python's garbage
        # collector to track (a tuple or dict kept per transition did, and the collections
        # they set off were most of what recording cost) and touches one buffer, not seven.
        try:
            if finish == "processing":
                ws = self.scheduler.tasks[key].processing_on
                self._flat.extend((time(), key, start, finish, stimulus_id, ws.address if ws else None, None))
            elif start == "processing" and (finish == "memory" or finish == "erred"):
                worker = kwargs.get("worker")
                extra = self._finished(worker, finish, kwargs)
                self._flat.extend((time(), key, start, finish, stimulus_id, worker, extra))
            else:
                self._flat.extend((time(), key, start, finish, stimulus_id, None, None))
        except Exception as exc:
            self._warn("transition", exc)

    def _finished(self, worker: str | None, finish: str, kw: dict) -> tuple:
        """What a worker reported with a finished task, as plain values on the scheduler's clock."""
        ws = self.scheduler.workers.get(worker)
        delay = ws.time_delay if ws is not None else 0.0
        compute = fetch = None
        for ss in kw.get("startstops") or ():
            action = ss.get("action")
            if action == "compute":
                compute = (ss["start"] + delay, ss["stop"] + delay)
            elif action == "transfer":
                fetch = (fetch or ()) + ((ss.get("source"), ss["start"] + delay, ss["stop"] + delay),)
        error = str(kw.get("exception_text") or "")[:2000] if finish == "erred" else None
        return kw.get("thread"), kw.get("nbytes"), compute, fetch, error

    @_guarded("add_worker")
    def add_worker(self, scheduler, worker: str) -> None:
        ws = scheduler.workers.get(worker)
        if ws is not None:
            self.events.append(self._worker_event("worker-added", ws, time()))

    @_guarded("remove_worker")
    def remove_worker(self, scheduler, worker: str, *, stimulus_id: str, **kwargs) -> None:
        # The scheduler has already let go of the worker's state when this runs: what it ran
        # and held is rebuilt by the model from the task transitions that follow.
        cause = "closed"
        if any(s in stimulus_id for s in ("heartbeat", "stream", "handle-worker-cleanup", "nanny-close")):
            cause = "lost"
        elif "retire" in stimulus_id:
            cause = "retired"
        self.events.append(
            {
                "kind": "worker-removed",
                "t": time(),
                "worker": worker,
                "stimulus": stimulus_id,
                "cause": cause,
            }
        )

    @_guarded("log_event")
    def log_event(self, topic, msg) -> None:
        if topic == "stealing" and isinstance(msg, tuple) and msg and msg[0] != "request":
            outcome, *rest = msg
            if outcome == "reschedule":
                rest = rest[1:]
            key, _state, victim, thief, _stim = rest[:5]
            self.events.append(
                {"kind": "steal", "t": time(), "key": key_str(key), "victim": victim, "thief": thief, "outcome": outcome}
            )

    # -- helpers ---------------------------------------------------------------
    @staticmethod
    def _worker_event(kind: str, ws, t: float) -> dict:
        return {"kind": kind, "t": t, "worker": ws.address, "name": str(ws.name), "nthreads": ws.nthreads}

    def drain(self) -> tuple[list[dict], list[list]]:
        """Return and forget the events gathered so far: other events, and the transition columns.

        The columns (time, key, start, finish, stimulus, worker, extra) go out as
        they are: :func:`pack` only swaps keys for positions in a key table, and
        the client turns them into event dicts (see
        :func:`teachkit.record.events.transition_events`).
        """
        # Hooks and drain both run on the scheduler's event loop: no lock needed.
        flat, self._flat = self._flat, []
        events, self.events = self.events, []
        try:
            if len(flat) % 7:
                raise ValueError(f"{len(flat)} values")
            cols = [flat[i::7] for i in range(7)]
        except Exception:  # the list was broken: what it held is lost, the rest is kept
            message = "the list of state changes was broken: they are lost"
            events.append({"kind": "warning", "t": time(), "where": "drain", "message": message})
            cols = [[] for _ in range(7)]
        return events, cols


def note_event(scheduler: Any, event: dict) -> bool:
    """Add one plain event to the recording running on ``scheduler`` (scheduler side; e.g. a fault).

    For code that runs inside the scheduler, such as :mod:`teachkit.faults`'
    trigger.  Returns ``False`` when no recording runs.
    """
    recorder = scheduler.plugins.get(SCHEDULER_PLUGIN_NAME)
    if recorder is None:
        return False
    recorder.events.append(dict(event))
    return True


@contextlib.contextmanager
def no_gc():
    """Pause Python's cyclic garbage collector while building thousands of small objects.

    The events hold no reference cycles; without this, a full collection of a
    process with dask loaded (~35 ms here) lands inside the recording about one
    time in five.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def pack(events: list[dict], columns: list[list] | tuple = ()) -> bytes:
    """Events (and transition columns) as one msgpack frame: plain data, several times faster than JSON.

    The columns are packed as they are, except that each key is sent once per
    frame, in a table, and the key column holds positions in that table (a key
    changes state ~5 times).  A tuple key becomes an array and comes back a
    tuple.  A value msgpack does not know is packed as its ``str``.  Opaque
    bytes also travel ~10x faster through dask's comms than thousands of small
    dicts (measured: 0.4 s -> 0.04 s for the seed job's events).
    """
    table: list = []
    if columns and columns[0]:
        ids: dict = {}
        columns = list(columns)
        columns[1] = [ids.setdefault(key, len(ids)) for key in columns[1]]
        table = [list(ids), *columns]
    return msgpack.packb(
        [msgpack.packb(events, use_bin_type=True, default=str), msgpack.packb(table, use_bin_type=True, default=str)]
    )


def unpack(chunks: bytes | list[bytes]) -> list[dict]:
    """The events in one or more frames made by :func:`pack`, transitions expanded to dicts."""
    if isinstance(chunks, (bytes, bytearray, memoryview)):
        chunks = [chunks]
    out: list[dict] = []
    name = key_namer()  # shared by the frames
    with no_gc():
        for chunk in chunks:
            events, columns = msgpack.unpackb(chunk)
            out.extend(msgpack.unpackb(events, raw=False))
            # use_list=False: tuple keys come back as tuples, as the scheduler had them
            columns = msgpack.unpackb(columns, raw=False, use_list=False)
            if columns:
                table, *columns = columns
                out.extend(transition_events(columns, [name(key) for key in table]))
    return out


async def start_recording(dask_scheduler=None) -> dict[str, Any]:
    """``client.run_on_scheduler`` target: start a recording, in one round trip.

    Registers the :class:`SchedulerRecorder` and, through the scheduler, the
    :class:`WorkerRecorder` on every worker (and on workers that join later).
    Returns the scheduler's clock when called (``"t"``) and the seconds spent
    here (``"took"``), so that the client can put its clock on the scheduler's;
    ``"started"`` is false when a recording already runs; ``"worker_error"``
    says why the worker plugin could not be registered (P2P byte counts are a
    bonus, never a blocker).
    """
    t = time()
    if SCHEDULER_PLUGIN_NAME in dask_scheduler.plugins:
        return {"t": t, "took": time() - t, "started": False, "worker_error": None}
    await dask_scheduler.register_scheduler_plugin(SchedulerRecorder(), name=SCHEDULER_PLUGIN_NAME, idempotent=False)
    worker_error = None
    try:
        from distributed.protocol.pickle import dumps

        responses = await dask_scheduler.register_worker_plugin(
            None, dumps(WorkerRecorder()), name=WORKER_PLUGIN_NAME, idempotent=WorkerRecorder.idempotent
        )
        failed = {
            addr: r for addr, r in (responses or {}).items() if not (isinstance(r, dict) and r.get("status") == "OK")
        }
        if failed:
            addr, response = next(iter(failed.items()))
            worker_error = f"{len(failed)} worker(s) could not load it, e.g. {addr}: {_error_text(response)}"
    except Exception as exc:
        worker_error = f"{type(exc).__name__}: {exc}"
    return {"t": t, "took": time() - t, "started": True, "worker_error": worker_error}


def drain_scheduler(dask_scheduler=None) -> list[bytes]:
    """``client.run_on_scheduler`` target: the recorder's new events, packed (see :func:`unpack`)."""
    plugin = dask_scheduler.plugins.get(SCHEDULER_PLUGIN_NAME)
    return plugin.drain_packed() if plugin is not None else []


async def finish_recording(
    released: tuple = (), client_id: str | None = None, since: float = 0.0, dask_scheduler=None
) -> tuple[list[bytes], dict[str, bytes | str]]:
    """``client.run_on_scheduler`` target: end a recording, in one round trip.

    Gathers every worker's fetches and P2P sends (see :func:`finish_worker`),
    removes both plugins and returns the scheduler's last events, packed, and
    the workers' (``{address: frame, or the error text}``).

    ``released`` are keys the client has just let go of (a computed job's
    results): the scheduler forgets them, and with them the job's whole
    lineage, a few milliseconds later.  This waits for that (at most
    :data:`SETTLE_S`), so that every recording ends the same way, with the
    job's clean-up in it, instead of racing it.
    """
    # Workers that join from now on do not get the worker plugin; the running ones
    # remove theirs as they hand over their events (one broadcast, not two).
    dask_scheduler.worker_plugins.pop(WORKER_PLUGIN_NAME, None)
    workers = asyncio.ensure_future(_drain_workers(dask_scheduler, since))
    if released:
        deadline = time() + SETTLE_S
        while time() < deadline and _still_wanted(dask_scheduler, released, client_id):
            await asyncio.sleep(0.002)
    per_worker = await workers
    plugin = dask_scheduler.plugins.get(SCHEDULER_PLUGIN_NAME)
    if plugin is None:
        return [], per_worker
    chunks = plugin.drain_packed(final=True)
    dask_scheduler.remove_plugin(name=SCHEDULER_PLUGIN_NAME)
    return chunks, per_worker


async def _drain_workers(scheduler, since: float) -> dict[str, bytes | str]:
    """Run :func:`finish_worker` on every worker, as ``Client.run`` does: ``{address: frame or error text}``."""
    from distributed.protocol.pickle import dumps
    from distributed.protocol.serialize import Serialized, deserialize

    msg = {"op": "run", "function": dumps(finish_worker), "args": dumps((since,)), "wait": True, "kwargs": dumps({})}
    responses = await scheduler.broadcast(msg=msg, on_error="return")
    out: dict[str, bytes | str] = {}
    for addr, response in responses.items():
        if isinstance(response, dict) and response.get("status") == "OK":
            result = response["result"]
            if isinstance(result, Serialized):  # the scheduler does not unpack what workers send through it
                result = deserialize(result.header, result.frames)
            out[addr] = result if isinstance(result, bytes) else _error_text(result)
        else:
            out[addr] = _error_text(response)
    return out


def _error_text(response: Any) -> str:
    """One line about a worker's failed reply (an exception, or dask's error message dict)."""
    if isinstance(response, BaseException):
        return f"{type(response).__name__}: {response}"
    if isinstance(response, dict):
        return str(response.get("exception_text") or response.get("exception") or response)
    return str(response)


#: Longest wait, in seconds, for the scheduler to forget a finished job (see :func:`finish_recording`).
SETTLE_S = 1.0


def _still_wanted(scheduler, keys, client_id) -> bool:
    """Does the client still hold any of ``keys`` on the scheduler?"""
    for key in keys:
        ts = scheduler.tasks.get(key)
        if ts is not None and any(cs.client_key == client_id for cs in ts.who_wants or ()):
            return True
    return False


class WorkerRecorder(WorkerPlugin):
    """Note each batch of bytes a worker sends in a P2P shuffle (outside the task graph).

    Wraps ``ShuffleRun.send`` in the worker's process while registered (restored
    on teardown).  Dependency fetches need no hook: the worker already keeps
    ``transfer_incoming_log``, which :func:`finish_worker` reads.
    """

    name = WORKER_PLUGIN_NAME
    idempotent = True

    def __init__(self) -> None:
        self.sends: list[tuple] = []

    def setup(self, worker) -> None:
        self.sends = []
        try:
            from distributed.shuffle._core import ShuffleRun
        except Exception:  # pragma: no cover - P2P not available
            return
        original = ShuffleRun.send
        if getattr(original, "_teachkit", False):
            return  # already wrapped in this process; the wrapper finds this plugin by name

        async def send(run, address, shards):
            try:
                plugin = worker.plugins.get(WORKER_PLUGIN_NAME)
                if plugin is not None:
                    parts: dict[str, int] = {}
                    for pid, shard in shards:
                        parts[str(pid)] = parts.get(str(pid), 0) + _shard_bytes(shard)
                    t = time() + getattr(worker, "scheduler_delay", 0.0)
                    plugin.sends.append((t, str(run.id), run.local_address, address, sum(parts.values()), parts))
            except Exception:
                pass
            return await original(run, address, shards)

        send._teachkit = True  # type: ignore[attr-defined]
        send._original = original  # type: ignore[attr-defined]
        ShuffleRun.send = send

    def teardown(self, worker) -> None:
        try:
            from distributed.shuffle._core import ShuffleRun

            original = getattr(ShuffleRun.send, "_original", None)
            if original is not None:
                ShuffleRun.send = original
        except Exception:  # pragma: no cover
            pass


def _shard_bytes(shard: Any) -> int:
    """Best-effort size of one P2P shard (bytes, buffers or nested tuples of them)."""
    if isinstance(shard, (bytes, bytearray, memoryview)):
        return len(shard)
    if isinstance(shard, (list, tuple)):
        return sum(_shard_bytes(s) for s in shard if not isinstance(s, int))
    nbytes = getattr(shard, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    try:
        return memoryview(shard).nbytes
    except TypeError:
        return 0


async def finish_worker(since: float, dask_worker=None) -> bytes:
    """Run on each worker at the end of a recording: its fetches and P2P sends since ``since``, packed.

    Also removes the :class:`WorkerRecorder` from this worker (the scheduler has
    already stopped giving it to new workers).
    """
    out: list[dict] = []
    me = dask_worker.address
    for item in list(dask_worker.transfer_incoming_log):
        if item["stop"] < since:
            continue
        keys = {key_str(k): int(v or 0) for k, v in item["keys"].items()}
        out.append(
            {
                "kind": "fetch",
                "t": item["stop"],
                "worker": me,
                "source": item["who"],
                "start": item["start"],
                "stop": item["stop"],
                "keys": keys,
                "nbytes": int(item.get("total") or sum(keys.values())),
            }
        )
    plugin = dask_worker.plugins.get(WORKER_PLUGIN_NAME)
    if plugin is not None:
        sends, plugin.sends = plugin.sends, []
        out.extend(
            {"kind": "p2p", "t": t, "shuffle": shuffle, "source": source, "dest": dest, "nbytes": nbytes,
             "partitions": parts}
            for t, shuffle, source, dest, nbytes, parts in sends
            if t >= since
        )
        await dask_worker.plugin_remove(WORKER_PLUGIN_NAME)  # logs, never raises
    return pack(out)
