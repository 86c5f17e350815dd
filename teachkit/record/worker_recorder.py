"""The worker recorder: P2P shuffle sends counted where they happen, and each worker's events at the end.

P2P shuffles move rows between workers outside the task graph, so no
scheduler hook sees them: :class:`WorkerRecorder` wraps the worker's
``ShuffleRun.send`` while it is registered and notes each batch's bytes per
input partition.  Dependency fetches need no hook: the worker already keeps
``transfer_incoming_log``, which :func:`finish_worker` reads at the end of the
recording.
"""

from __future__ import annotations

import importlib
from time import time
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from teachkit.record.dask_names import SHUFFLE_RUN
from teachkit.record.events import key_str
from teachkit.record.wire import pack

WORKER_PLUGIN_NAME = "teachkit-worker-recorder"


def _shuffle_run_class() -> Any:
    """dask's ``ShuffleRun`` class, or ``None`` when this distributed has no P2P shuffle."""
    module, name = SHUFFLE_RUN
    try:
        return getattr(importlib.import_module(module), name)
    except Exception:  # pragma: no cover - P2P not available
        return None


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
        ShuffleRun = _shuffle_run_class()  # noqa: N806 (a class)
        if ShuffleRun is None:  # pragma: no cover - P2P not available
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
        ShuffleRun = _shuffle_run_class()  # noqa: N806 (a class)
        original = getattr(getattr(ShuffleRun, "send", None), "_original", None)
        if original is not None:
            ShuffleRun.send = original


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
