"""The recording's entry points on the scheduler: one ``client.run_on_scheduler`` call starts it, one ends it.

:func:`start_recording` registers the scheduler recorder and, through the
scheduler, the worker recorder; :func:`drain_scheduler` hands over what the
scheduler gathered so far (the live view polls it); :func:`finish_recording`
waits for the job's clean-up, collects every worker's events and removes both
plugins.  So recording costs one round trip at each end and nothing assumes
that the scheduler lives in the notebook's process (see :mod:`teachkit.session`).
"""

from __future__ import annotations

import asyncio
from time import time
from typing import Any

from teachkit.record.scheduler_recorder import SCHEDULER_PLUGIN_NAME, SchedulerRecorder
from teachkit.record.worker_recorder import WORKER_PLUGIN_NAME, WorkerRecorder, finish_worker


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
