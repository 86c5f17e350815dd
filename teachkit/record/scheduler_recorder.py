"""The scheduler recorder: a plugin that only appends plain events, and the way to add one more.

Like ``distributed.diagnostics.task_stream.TaskStreamPlugin``, the
:class:`SchedulerRecorder` performs no analysis and no drawing: each hook
appends plain values to a list and returns.  Transitions are kept as plain
values in one flat list in the hot path, packed into frames in the background
(:func:`teachkit.record.wire.pack`) and turned into event dicts only by the
client.  Every hook is wrapped so that an error inside the recorder is stored as
a ``warning`` event and never reaches the user's job.

Code that runs inside the scheduler and has something to add to a running
recording (a fault teachkit injected) calls :func:`note_event`.
"""

from __future__ import annotations

import functools
from time import time
from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin

from teachkit.record.dask_names import SPANS_EXTENSION, STEALING_TOPIC, removal_cause
from teachkit.record.events import key_index, key_namer, key_str
from teachkit.record.wire import no_gc, pack

SCHEDULER_PLUGIN_NAME = "teachkit-recorder"
#: Seconds between background encodings of the scheduler's events.
ENCODE_EVERY_S = 0.5


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
        ext = scheduler.extensions.get(SPANS_EXTENSION)
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
        self.events.append(
            {
                "kind": "worker-removed",
                "t": time(),
                "worker": worker,
                "stimulus": stimulus_id,
                "cause": removal_cause(stimulus_id),
            }
        )

    @_guarded("log_event")
    def log_event(self, topic, msg) -> None:
        if topic == STEALING_TOPIC and isinstance(msg, tuple) and msg and msg[0] != "request":
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
    trigger (a ``fault`` event, see :class:`teachkit.record.events.FaultEvent`).
    Returns ``False`` when no recording runs.
    """
    recorder = scheduler.plugins.get(SCHEDULER_PLUGIN_NAME)
    if recorder is None:
        return False
    recorder.events.append(dict(event))
    return True
