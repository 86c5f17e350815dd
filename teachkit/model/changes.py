"""A job's log of task changes: one ordered list that every moving picture folds.

:func:`teachkit.model.jobs.build_jobs` notes each change a picture shows while
it reads the scheduler's transitions; :func:`build_log` completes the log: it
gives every attempt that ran its slot (the one slot rule, :func:`place_slots`),
adds a ``started`` change at each compute start, and orders the log in time.
The player groups the log into steps, ``cluster_view(at=t)`` and the live view
fold it up to a moment (:mod:`teachkit.model.fold`).

Two clocks meet here.  Scheduler changes carry the time the scheduler handled
them; compute starts and stops are the worker's, shifted onto the scheduler's
clock (see the one clock in :mod:`teachkit.record`).  A worker starts its next queued task
the moment it finishes one, but the scheduler hears of the finish a little
later, so by the scheduler's clock the next task would start before the last
one finished, on the same slot.  So a finish is placed at its compute stop when
that is earlier, and never after the next compute start on the same slot; the
rest of its stimulus (the driver's assignments in answer to it) moves with it,
so nothing the finish caused comes before it.

While a job runs, the scheduler hears of a task's start only with its finish:
an attempt still open at the end of the log (a live view's view of a running
job) is taken to start as soon as its worker has a free slot, which is what a
Dask worker does with a task it is given.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, NamedTuple

from teachkit.model.vocabulary import ChangeKind

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.job import Attempt, Job

#: A finish is kept strictly after its own compute start (seconds).
AFTER_START = 1e-6
_NEVER = float("inf")


class Change(NamedTuple):
    """One change of one Dask task, as the log keeps it.

    ``attempt`` is the attempt number (1-based); ``worker`` its worker's
    friendly name; ``slot`` the 1-based task slot for ``started``, ``done`` and
    ``failed`` (0 otherwise); ``cause`` why it happened (for ``assigned``: why
    the attempt exists; ``taken-back``, ``discarded``: why it ended; else the
    stimulus's cause, if any).  ``stimulus`` is the scheduler's stimulus id
    (``""`` for a compute start and for a steal, which the scheduler logs apart).
    """

    t: float
    stimulus: str
    key: str
    attempt: int
    change: ChangeKind
    worker: str | None
    slot: int
    cause: str | None


def build_log(job: Job, noted: list[tuple[int, Change]], nthreads: dict[str, int]) -> list[Change]:
    """The job's ordered log, from the changes ``build_jobs`` noted as ``(event index, change)`` in event order.

    ``nthreads`` maps worker addresses to their task slots.
    """
    place_slots(job, nthreads)
    starts, shown = _slot_times(job, noted)
    entries: list[tuple[float, int, int, Change]] = []
    for run in _runs(noted):  # one scheduler message: its changes move with the finish it answers
        moved = [shown[(ch.key, ch.attempt)] for _, ch in run
                 if ch.change == "done" and shown.get((ch.key, ch.attempt), ch.t) < ch.t]
        finish = min(moved, default=None)
        for seq, ch in run:
            t = min(ch.t, finish) if finish is not None else ch.t
            slot = (_attempt(job, ch).slot or 0) if ch.change in ("done", "failed") else ch.slot
            if t != ch.t or slot != ch.slot:
                ch = Change(t, ch.stimulus, ch.key, ch.attempt, ch.change, ch.worker, slot, ch.cause)
            entries.append((t, 0, seq, ch))
    n = 0
    for key, task in job.dask_tasks.items():
        for att in task.attempts:
            start = starts.get((key, att.number))
            if start is not None:
                entries.append((start, 1, n, Change(start, "", key, att.number, "started", att.worker, att.slot or 0,
                                                    None)))
                n += 1
    for att, key, start, slot in _open_attempts(job, nthreads):
        entries.append((start, 1, n, Change(start, "", key, att.number, "started", att.worker, slot, None)))
        n += 1
    entries.sort(key=lambda e: e[:3])
    return [e[3] for e in entries]


def _runs(noted: list[tuple[int, Change]]) -> list[list[tuple[int, Change]]]:
    """The noted changes cut into runs of one stimulus each, in event order (a compute start or a steal: alone)."""
    runs: list[list[tuple[int, Change]]] = []
    for seq, ch in noted:
        if runs and ch.stimulus and runs[-1][-1][1].stimulus == ch.stimulus:
            runs[-1].append((seq, ch))
        else:
            runs.append([(seq, ch)])
    return runs


def _attempt(job: Job, ch: Change) -> Attempt:
    return job.dask_tasks[ch.key].attempts[ch.attempt - 1]


def _spans(job: Job) -> tuple[dict[tuple[str, int], list[tuple[float, float]]], list[tuple[str, Attempt]]]:
    """Slots taken by attempts that reported their thread, and the attempts that ran without reporting one."""
    busy: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    loose: list[tuple[str, Attempt]] = []
    for key, task in job.dask_tasks.items():
        for att in task.attempts:
            if att.start is None or att.address is None:
                continue
            if att.slot:
                busy[(att.address, att.slot)].append((att.start, att.stop if att.stop is not None else _NEVER))
            else:
                loose.append((key, att))
    return busy, loose


def place_slots(job: Job, nthreads: dict[str, int]) -> None:
    """The slot rule: every attempt that ran gets the 1-based slot it ran on (``Attempt.slot``).

    A worker reports the thread that ran a finished task: its threads are
    numbered as slots in the order they were first seen.  An attempt that ran
    without reporting a thread takes the first slot of its worker that no other
    attempt held while it ran (slot 1 if there is none).  Attempts that never
    started hold no slot.
    """
    busy, loose = _spans(job)
    for _, att in sorted(loose, key=lambda ka: ka[1].start):
        span = (att.start, att.stop if att.stop is not None else _NEVER)
        top = max([nthreads.get(att.address, 1)] + [s for a, s in busy if a == att.address])
        free = [s for s in range(1, top + 1) if not any(a < span[1] and span[0] < b for a, b in busy[(att.address, s)])]
        att.slot = free[0] if free else 1
        busy[(att.address, att.slot)].append(span)


def _open_attempts(job: Job, nthreads: dict[str, int]) -> list[tuple[Attempt, str, float, int]]:
    """Attempts given to a worker and not yet heard of again: when and on which slot each is taken to start."""
    busy, _ = _spans(job)
    free_from: dict[tuple[str, int], float] = {}
    for (addr, slot), spans in busy.items():
        free_from[(addr, slot)] = max(b for _, b in spans)
    out = []
    waiting = [(key, att) for key, task in job.dask_tasks.items() for att in task.attempts
               if att.outcome == "running" and att.start is None and att.address is not None]
    for key, att in sorted(waiting, key=lambda ka: ka[1].assigned):
        slots = range(1, max(nthreads.get(att.address, 1), 1) + 1)
        slot = min(slots, key=lambda s: free_from.get((att.address, s), -_NEVER))
        ready = free_from.get((att.address, slot), -_NEVER)
        if ready == _NEVER:
            continue  # every slot is taken: it waits on its worker
        start = max(att.assigned, ready)
        free_from[(att.address, slot)] = _NEVER
        out.append((att, key, start, slot))
    return out


def _slot_times(job: Job, noted: list[tuple[int, Change]]) -> tuple[dict, dict]:
    """Compute starts and finishes per attempt, in causal order on each slot.

    Returns ``({(key, attempt): start}, {(key, attempt): finish})``, the
    finish being when the log shows it.  On each slot an attempt starts after
    it was assigned and after the previous attempt finished, and before the
    scheduler heard it finish; it finishes at its compute stop if the scheduler
    heard of it later, but never before its own start.
    """
    done = {(ch.key, ch.attempt): ch.t for _, ch in noted if ch.change == "done"}
    lanes: dict[tuple, list[tuple[str, Attempt]]] = {}
    for key, task in job.dask_tasks.items():
        for att in task.attempts:
            if att.start is not None and att.assigned is not None:
                lane = (att.address, att.slot) if att.slot else (key, att.number)  # no slot: its own lane
                lanes.setdefault(lane, []).append((key, att))
    starts: dict[tuple[str, int], float] = {}
    finishes: dict[tuple[str, int], float] = {}
    for atts in lanes.values():
        atts.sort(key=lambda ka: ka[1].start)
        free = -_NEVER  # when the slot's previous attempt finished
        for key, att in atts:
            start = max(att.start, att.assigned, free)
            heard = done.get((key, att.number))
            if heard is None:
                starts[(key, att.number)] = start
                continue
            start = starts[(key, att.number)] = min(start, heard - AFTER_START)
            free = finishes[(key, att.number)] = min(heard, max(att.stop if att.stop is not None else heard,
                                                                start + AFTER_START))
    return starts, finishes
