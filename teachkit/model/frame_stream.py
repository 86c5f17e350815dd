"""The event stream the player's steps are cut from (see :mod:`teachkit.model.frames`).

:func:`job_stream` picks one job's events out of a recording, adds a
synthetic ``"start"`` event for each attempt's compute start, and orders them
in time; :func:`step_groups` cuts that stream into candidate steps (one
scheduler stimulus, one run of fetches or P2P sends, or one other event).

Two clocks meet here.  Scheduler events carry the time the scheduler handled
them; compute starts and stops are the worker's, shifted onto the scheduler's
clock (:mod:`teachkit.record.events`).  A worker starts its next queued task
the moment it finishes one, but the scheduler hears of the finish a little
later, so by the scheduler's clock the next task would start before the last
one finished, on the same slot.  So a finish (``processing -> memory``) is
placed at its compute stop when that is earlier, and never after the next
compute start on the same slot; the rest of its stimulus (the driver's
assignments in answer to it) moves with it, so nothing the finish caused is
shown before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.jobs import Job
    from teachkit.model.recording import Recording

#: A finish is kept strictly after its own compute start (seconds).
_AFTER_START = 1e-6


def job_stream(rec: Recording, job: Job) -> list[tuple[float, int, dict]]:
    """This job's events plus synthetic compute starts, as ``(t, n, event)`` in time order."""
    t0 = rec.t0
    out: list[tuple[float, int, dict]] = []
    owner: dict[str, bool] = {}
    seen_graph = False
    for n, ev in enumerate(rec.events):
        kind = ev["kind"]
        if kind == "graph":
            mine = abs((ev["t"] - t0) - job.submitted) < 1e-9 and not seen_graph
            seen_graph = seen_graph or mine
            for spec in ev["tasks"]:
                if spec["key"] in job.dask_tasks and (mine or spec["key"] not in owner):
                    owner[spec["key"]] = mine
            if mine:
                out.append((ev["t"] - t0, n, ev))
        elif kind in ("tr", "steal"):
            if owner.get(ev["key"]):
                out.append((ev["t"] - t0, n, ev))
        elif kind in ("worker-added", "worker-removed"):
            t = ev["t"] - t0
            if job.submitted <= t <= (job.end or job.submitted) + 0.5:
                out.append((t, n, ev))
        elif kind in ("fetch", "p2p") and seen_graph:
            if kind == "p2p" or any(owner.get(k) for k in ev["keys"]):
                t = (ev["stop"] if kind == "fetch" else ev["t"]) - t0
                out.append((t, n, ev))
    base = len(rec.events)
    starts, finishes = _slot_times(out, job, owner)
    for key, task in job.dask_tasks.items():
        for att in task.attempts:
            if id(att) in starts:
                ev = {"kind": "start", "key": key, "attempt": att.number, "worker": att.address}
                out.append((starts[id(att)], base, ev))
    if finishes:  # a finish's whole stimulus moves with it
        out = [(min(t, finishes.get(ev.get("stimulus"), t)) if ev["kind"] == "tr" else t, n, ev) for t, n, ev in out]
    out.sort(key=lambda x: (x[0], x[1]))
    return out


def _slot_times(out: list, job: Job, owner: dict[str, bool]) -> tuple[dict[int, float], dict[str, float]]:
    """Compute starts per attempt and finish times per stimulus, in causal order on each slot.

    Returns ``({id(attempt): start}, {stimulus: finish})``; a stimulus is only
    listed when its finish moves earlier.  On each slot an attempt starts after
    it was assigned and after the previous attempt finished, and before the
    scheduler heard it finish; it finishes at its compute stop if the scheduler
    heard of it later, but never before its own start.
    """
    done: dict[int, tuple[float, str]] = {}  # id(attempt) -> (scheduler's finish time, stimulus)
    counts: dict[str, int] = {}
    for t, _, ev in out:
        if ev["kind"] != "tr":
            continue
        if ev["finish"] == "processing":
            counts[ev["key"]] = counts.get(ev["key"], 0) + 1
        elif ev["start"] == "processing" and ev["finish"] == "memory":
            atts, n = job.dask_tasks[ev["key"]].attempts, counts.get(ev["key"], 0)
            if 0 < n <= len(atts):
                done[id(atts[n - 1])] = (t, ev["stimulus"])
    lanes: dict[tuple, list] = {}
    for key, task in job.dask_tasks.items():
        for att in task.attempts:
            if att.start is not None and att.assigned is not None and owner.get(key):
                lane = (att.address, att.slot) if att.slot else (key, att.number)  # unknown slot: its own lane
                lanes.setdefault(lane, []).append(att)
    starts: dict[int, float] = {}
    finishes: dict[str, float] = {}
    for atts in lanes.values():
        atts.sort(key=lambda a: a.start)
        free = float("-inf")  # when the slot's previous attempt finished
        for att in atts:
            start = max(att.start, att.assigned, free)
            heard, stimulus = done.get(id(att), (None, None))
            if heard is None:
                starts[id(att)] = start
                continue
            start = starts[id(att)] = min(start, heard - _AFTER_START)
            free = min(heard, max(att.stop if att.stop is not None else heard, start + _AFTER_START))
            if free < heard:
                finishes[stimulus] = min(finishes.get(stimulus, heard), free)
    return starts, finishes


def step_groups(stream: list[tuple[float, int, dict]]):
    """Yield ``(t, kind, events)``: simultaneous events that make one candidate step."""
    group: list[dict] = []
    gkey = None
    gt = 0.0
    for t, _, ev in stream:
        kind = ev["kind"]
        key = ("tr", ev["stimulus"]) if kind == "tr" else (kind,) if kind in ("fetch", "p2p") else None
        if group and (key is None or key != gkey):
            yield gt, gkey[0] if gkey else group[0]["kind"], group
            group = []
        if not group:
            gt = t
        group.append(ev)
        gkey = key
        if key is None:
            yield gt, kind, group
            group, gkey = [], None
    if group:
        yield gt, gkey[0] if gkey else group[0]["kind"], group
