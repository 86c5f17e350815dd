"""The recorder's wire format: plain, JSON-ready events.

Every event is a ``dict`` with at least ``"kind"`` and ``"t"`` (seconds on the
**scheduler's clock**, see below).  The recorders (:mod:`teachkit.record.scheduler_recorder`,
:mod:`teachkit.record.worker_recorder`) append them; :class:`teachkit.Recording` stores them unchanged and everything
else in the kit is derived from them.  This module imports nothing of dask so
that the model layer can use it without a cluster.

One clock
---------
The scheduler (the driver) stamps its own events with its ``time()``.  Worker
times (compute start/stop, dependency fetches, P2P sends) are shifted onto the
scheduler's clock: compute times by the scheduler's measured offset for that
worker (``WorkerState.time_delay``, refreshed on each heartbeat), fetch times
by the worker's own estimate of the scheduler's clock (``Worker.scheduler_delay``).
Client-side events (the job's plan) are shifted by the client-to-scheduler
offset measured when recording starts.  On one machine the offsets are ~0; on
a real cluster they correct for skewed clocks to within a heartbeat's latency.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypedDict

#: Bumped whenever the meaning or shape of an event changes.
SCHEMA_VERSION = 1

#: The ``"format"`` field of a saved recording.
FORMAT_NAME = "teachkit-recording"


class GraphTask(TypedDict):
    """One task of a submitted graph, snapshotted when the scheduler received it."""

    key: str  # stringified key, see :func:`key_str`
    group: str  # dask task group name, e.g. "chunk-5d1c..."
    prefix: str  # dask task prefix, e.g. "chunk"
    index: int | None  # partition index for ``(name, i)`` keys
    deps: list[str]  # keys it depends on


class GraphEvent(TypedDict):
    """``kind="graph"``: one graph submission, i.e. one job (one action)."""

    kind: Literal["graph"]
    t: float
    job: int  # submission number within the recording, from 0
    client: str
    keys: list[str]  # requested output keys
    span: list[str]  # span tags, e.g. ["groupby count"] from teachkit.job(...)
    tasks: list[GraphTask]


class TransitionEvent(TypedDict, total=False):
    """``kind="tr"``: a task changed state on the scheduler.

    ``worker`` is the assigned worker for ``-> processing`` and the worker that
    ran it for ``processing -> memory/erred``.  Only ``processing -> memory``
    carries ``thread``, ``nbytes``, ``compute`` ``[start, stop]`` and ``fetch``
    (``[{"from", "start", "stop"}]``); ``-> erred`` carries ``error``.
    """

    kind: Literal["tr"]
    t: float
    key: str
    start: str
    finish: str
    stimulus: str
    worker: str
    thread: int
    nbytes: int
    compute: list[float]
    fetch: list[dict[str, Any]]
    error: str


class WorkerEvent(TypedDict, total=False):
    """``kind="worker-added"`` / ``"worker-removed"``."""

    kind: str
    t: float
    worker: str
    name: str
    nthreads: int
    stimulus: str
    cause: str  # "lost" (died), "retired", "closed" ... when known


class StealEvent(TypedDict):
    """``kind="steal"``: the scheduler moved a queued task from one worker to another."""

    kind: Literal["steal"]
    t: float
    key: str
    victim: str
    thief: str
    outcome: str  # "confirm" (moved), "already-computing", "reschedule", ...


class FetchEvent(TypedDict):
    """``kind="fetch"``: a worker fetched task results from another worker."""

    kind: Literal["fetch"]
    t: float
    worker: str  # receiver
    source: str  # sender
    start: float
    stop: float
    keys: dict[str, int]  # key -> bytes
    nbytes: int


class P2PEvent(TypedDict):
    """``kind="p2p"``: one batch of bytes one worker sent another in a P2P shuffle (outside the graph).

    Dask's P2P buffers shards per destination and sends them in batches; each
    batch is one event, stamped when it was sent.

    ``partitions`` maps each **input** partition (the shuffle-transfer task's
    partition) to the bytes of its rows that went to ``dest``: dask's P2P sends
    one shard per input partition and destination worker.
    """

    kind: Literal["p2p"]
    t: float
    shuffle: str
    source: str
    dest: str
    nbytes: int
    partitions: dict[str, int]  # input partition -> bytes sent to dest


class PlanEvent(TypedDict, total=False):
    """``kind="plan"``: the client's expression for one job (logical and optimised)."""

    kind: Literal["plan"]
    t: float
    keys: list[str]
    logical: str | None
    optimized: str | None
    name: str | None  # derived job name, e.g. "groupby count"
    action: str | None  # "compute" (results to the client) or "persist" (kept on the workers)


class FaultEvent(TypedDict, total=False):
    """``kind="fault"``: teachkit injected a fault (added on the scheduler with ``note_event``).

    ``running`` and ``held`` are the keys the scheduler had assigned to the
    worker and the results it held when it was killed.
    """

    kind: Literal["fault"]
    t: float
    action: str  # "kill"
    worker: str  # address
    pid: int
    restart: bool
    when: str  # e.g. "after 4 tasks of shuffle-transfer"
    tasks_done: int
    running: list[str]
    held: list[str]


class WarningEvent(TypedDict):
    """``kind="warning"``: the recorder caught an error of its own; the job went on."""

    kind: Literal["warning"]
    t: float
    where: str
    message: str


def transition_events(columns: tuple | list, keys: list[str]) -> list[TransitionEvent]:
    """Expand the scheduler's transition columns into :class:`TransitionEvent` dicts.

    The columns are ``time, key, start, finish, stimulus, worker, extra``, one
    value per transition.  The key column holds positions in ``keys`` (the
    frame's key table, already turned into :func:`key_str` form); ``worker`` is
    ``None`` or an address; ``extra`` is ``None`` or, for ``processing ->
    memory/erred``, what the worker reported: ``(thread, nbytes, (compute
    start, stop), ((from, start, stop), ...) fetched, error text)``, already on
    the scheduler's clock.

    >>> transition_events([[1.5], [0], ["waiting"], ["processing"], ["s-1"], ["tcp://w"], [None]], ["x|0"])[0]["key"]
    'x|0'
    """
    out: list = []
    append = out.append
    for t, code, start, finish, stimulus, worker, extra in zip(*columns):
        event = {"kind": "tr", "t": t, "key": keys[code], "start": start, "finish": finish, "stimulus": stimulus or ""}
        if worker is not None:
            event["worker"] = worker
        if extra is not None:  # what the worker reported with a finished task
            thread, nbytes, compute, fetch, error = extra
            if thread is not None:
                event["thread"] = int(thread)
            if nbytes is not None:
                event["nbytes"] = int(nbytes)
            if compute:
                event["compute"] = list(compute)
            if fetch:
                event["fetch"] = [{"from": source, "start": a, "stop": b} for source, a, b in fetch]
            if error is not None:
                event["error"] = error
        append(event)
    return out


def key_str(key: Any) -> str:
    """Return the kit's string form of a dask key: ``"name"`` or ``"name|3"``.

    >>> key_str(("chunk-ab12", 3))
    'chunk-ab12|3'
    >>> key_str("finalize-99")
    'finalize-99'
    """
    if type(key) is tuple:
        if len(key) == 2:  # ("name", i): by far the most common key
            return f"{key[0]}|{key[1]}"
        return "|".join(map(str, key))
    return str(key)


def key_namer() -> Callable[[Any], str]:
    """A :func:`key_str` that makes each key's string once (keys repeat: as dependencies, in state changes).

    >>> name = key_namer()
    >>> name(("chunk-ab12", 3)) is name(("chunk-ab12", 3))
    True
    """
    names: dict = {}

    def name(key: Any) -> str:
        text = names.get(key)
        if text is None:
            text = names[key] = key_str(key)
        return text

    return name


def key_index(key: Any) -> int | None:
    """Return the partition index of a ``(name, i)`` key, else ``None``."""
    if isinstance(key, tuple) and len(key) >= 2 and isinstance(key[1], int):
        return key[1]
    return None
