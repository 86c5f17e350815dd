"""Fold a job's log into the state of every Spark-style task: the one replay every moving picture shares.

:class:`Fold` keeps, per Dask key, what the log said last (on which worker,
which attempt, running, done, lost ...) and derives each Spark-style task's
``[state, worker, slot, holder]`` from its keys (:meth:`Fold.spark_state`).
:func:`moments` cuts the job's log, with its graph, worker, fetch and P2P
events, into moments (simultaneous changes: one scheduler stimulus, one compute
start, one run of fetches or sends); the fold takes one moment at a time.  The
player makes one step of each moment that changes the picture
(:mod:`teachkit.model.frames`); :func:`state_at` folds every moment up to a
time, for ``cluster_view(at=t)`` and the live view.  So the three show the same
states, on the same slots, at the same moment.

Slots: ``slot`` is the slot a task is **on now**; 0 while it waits on its
worker.  Dask does not run a fused Spark task's pieces in one go: a worker
with a free thread runs whichever queued piece comes first, so two Spark tasks
assigned to a one-thread worker take turns.  A task whose piece starts takes
its slot; a task it displaces between two of its pieces shows as assigned
(waiting for the slot) until its next piece starts.  So no slot ever holds two
running tasks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from teachkit.model.vocabulary import (ACTIVE, ASSIGNED, DONE, FAILED, GRACE_S, LOST, PENDING, RERUN, RERUN_CAUSES,
                                       RERUN_PRIORITY, RUNNING, STATES, SURVIVOR_CAUSES)
from teachkit.record.wire import no_gc

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.changes import Change
    from teachkit.model.job import Job

_FINISHED = frozenset({"done", "released"})


class Fold:
    """Per-key state in, per-Spark-task ``[state, worker, slot, holder]`` out (see the module docstring)."""

    def __init__(self, job: Job, stages: list, workers: list) -> None:
        self.job = job
        self.stages = sorted(stages, key=lambda s: s.id)
        self.tasks: list = [st for stage in self.stages for st in stage.tasks]  # SparkTask per index
        self.task_of: dict[str, int] = {}
        self.output_of: dict[int, str | None] = {}
        for idx, st in enumerate(self.tasks):
            for key in st.keys:
                self.task_of.setdefault(key, idx)
            self.output_of[idx] = output_key(st.keys, job)
        self.wname = [w.name for w in workers]
        self.wnthreads = [w.nthreads for w in workers]
        self.widx = {w.name: i for i, w in enumerate(workers)}
        # per Dask key: [phase, worker, attempt, re-run cause]; per task: [state, worker, slot, holder]
        self.key_state: dict[str, list] = {}
        self.shown = [[PENDING, -1, 0, -1] for _ in self.tasks]
        # which task is on each (worker, slot), where each task last started a piece, who has begun
        self.slot_holder: dict[tuple[int, int], int] = {}
        self.on_slot: dict[int, tuple[int, int]] = {}
        self.begun: set[int] = set()

    # -- the log in ------------------------------------------------------------------------
    def apply(self, ch: Change, changed: set[int] | None = None) -> set[int]:
        """Fold one change in; add the Spark tasks it may have changed to ``changed`` (a new set if none) and
        return it."""
        if changed is None:
            changed = set()
        key = ch.key
        ks = self.key_state.get(key)
        if ks is None:
            ks = self.key_state[key] = ["pending", -1, 0, None]
        kind = ch.change
        if kind == "assigned":
            ks[0], ks[1], ks[2] = "assigned", self.widx.get(ch.worker, -1), ch.attempt
            ks[3] = self.job.dask_tasks[key].rerun_cause(ch.attempt) if ch.attempt > 1 else None
        elif kind == "started":
            if ks[0] != "assigned" or ks[2] != ch.attempt:
                return changed
            ks[0] = "running"
            self._claim(ch, ks, changed)
        elif kind == "done":
            ks[0], ks[1] = "done", self.widx.get(ch.worker, ks[1])
        elif kind == "released":
            if ks[0] == "done":
                ks[0] = "released"
        elif kind == "failed":
            ks[0] = "erred"
        elif kind == "taken-back":  # worker lost, rescheduled, cancelled
            ks[0] = "requeued" if ch.cause == "worker-lost" or ch.cause in SURVIVOR_CAUSES else "pending"
        elif kind == "lost":
            ks[0] = "lost"
        elif kind == "discarded":
            ks[0] = "discarded"
        elif kind == "stolen":
            ks[1] = self.widx.get(ch.worker, -1)
        idx = self.task_of.get(key)
        if idx is not None:
            changed.add(idx)
        return changed

    def _claim(self, ch: Change, ks: list, changed: set[int]) -> None:
        """A piece of a Spark task starts: the task takes its slot; a task it displaces waits."""
        idx, w = self.task_of.get(ch.key), ks[1]
        if idx is None or w < 0:
            return
        slot = ch.slot if ch.slot and self.widx.get(ch.worker) == w else None
        if slot is None:  # no slot for this worker in the log: the first slot nobody runs on
            busy = {s for (v, s), i in self.slot_holder.items() if v == w and i != idx and self.shown[i][2]
                    and self.shown[i][0] in (RUNNING, RERUN)}
            slot = next((s for s in range(1, max(self.wnthreads[w], 1) + 1) if s not in busy), 1)
        prev = self.slot_holder.get((w, slot))
        self.slot_holder[(w, slot)] = idx
        self.on_slot[idx] = (w, slot)
        if prev is not None and prev != idx:
            changed.add(prev)

    def commit(self, changed: set[int]) -> list[tuple[int, list[int], list[int], str | None]]:
        """The tasks whose state changed: ``(task, old, new, how)``, ``how`` one of
        ``"first"`` (onto a slot for the first time in this run), ``"again"`` (back on its
        slot for its next Dask piece), ``"paused"`` (off its slot between two pieces) or ``None``.
        """
        out = []
        for idx in sorted(changed):
            new = self.spark_state(idx)
            old = self.shown[idx]
            if new == old:
                continue
            self.shown[idx] = new
            how = None
            was_on, is_on = old[0] in (RUNNING, RERUN) and old[2] > 0, new[0] in (RUNNING, RERUN) and new[2] > 0
            if is_on and not was_on:
                how = "again" if idx in self.begun else "first"
                self.begun.add(idx)
            elif was_on and not is_on and new[0] in (ASSIGNED, RERUN):
                how = "paused"
            elif new[0] not in ACTIVE:  # off its worker: a later run starts afresh
                self.begun.discard(idx)
                place = self.on_slot.pop(idx, None)
                if place is not None and self.slot_holder.get(place) == idx:
                    del self.slot_holder[place]
            out.append((idx, old, new, how))
        return out

    # -- Spark-task states out -----------------------------------------------------------
    def spark_state(self, idx: int) -> list[int]:
        """State of one Spark task from its Dask keys: ``[state, worker, slot, holder]``."""
        phases = set()
        worker, rerun = -1, False
        key_state = self.key_state
        for key in self.tasks[idx].keys:
            ks = key_state.get(key)
            if ks is None:
                phases.add("pending")
                continue
            phase = ks[0]
            phases.add(phase)
            if phase == "assigned" or phase == "running" or worker < 0:
                worker = ks[1]
            if ks[3] is not None and ks[3] in RERUN_CAUSES:
                rerun = True
        active = "assigned" in phases or "running" in phases
        finished = "done" in phases or "released" in phases
        if "erred" in phases:
            state = FAILED
        elif finished and phases <= _FINISHED:
            state = DONE
        elif "lost" in phases and not active:
            state = LOST
        elif ("requeued" in phases or "discarded" in phases) and not active:
            state = PENDING  # taken back or dropped after a worker died: waits to run again
        elif active or finished:
            started = finished or "running" in phases
            state = RERUN if rerun else (RUNNING if started else ASSIGNED)
        else:
            state = PENDING
        slot = 0  # the slot it is on now (0: waiting on its worker, or not on one)
        place = self.on_slot.get(idx)
        if state in ACTIVE and place is not None:
            if place[0] == worker and self.slot_holder.get(place) == idx:
                slot = place[1]
            elif state == RUNNING:  # between two of its Dask pieces, and another task took the slot
                state = ASSIGNED
        holder = -1
        if state == DONE:  # who keeps the result: the output key's worker, else any key still in memory
            held = [k for k in self.tasks[idx].keys if self.key_state.get(k, ("",))[0] == "done"]
            out_key = self.output_of.get(idx)
            if held:
                holder = self.key_state[out_key if out_key in held else held[-1]][1]
        if state in (PENDING, LOST):
            worker, slot = -1, 0
        return [state, worker, slot, holder]

    def key_attempt(self, idx: int) -> int:
        """Highest attempt number among a Spark task's Dask keys."""
        return max((self.key_state.get(k, [0, 0, 0])[2] for k in self.tasks[idx].keys), default=0)

    def rerun_cause(self, idx: int) -> str | None:
        """Why a Spark task runs again: over its keys' current (or, not yet re-assigned, next) attempts.

        A re-run starts with the first fused key (often ``lineage``); the key
        whose result was lost or discarded (``result-lost``, ``shuffle-restart``)
        explains it, so it wins (:data:`teachkit.model.vocabulary.RERUN_PRIORITY`).
        """
        causes = set()
        for key in self.tasks[idx].keys:
            phase, _, number, cause = self.key_state.get(key, ["pending", -1, 0, None])
            if phase in ("assigned", "running", "done", "released", "erred"):
                causes.add(cause)
            else:  # waits to run again: the attempt it will get
                causes.add(self.job.dask_tasks[key].rerun_cause(number + 1))
        return next((c for c in RERUN_PRIORITY if c in causes), None)


def output_key(keys: list[str], job: Job) -> str | None:
    """The key whose result leaves the Spark task (no other key of the task depends on it)."""
    inside = set(keys)
    used = {d for k in keys if k in job.dask_tasks for d in job.dask_tasks[k].deps if d in inside}
    outs = [k for k in keys if k not in used]
    return outs[-1] if outs else (keys[-1] if keys else None)


def moments(job: Job, workers: list, keys: set[str] | frozenset[str] | None = None,
            ) -> Iterator[tuple[float, str, list[tuple[str, Any]]]]:
    """Yield ``(t, kind, items)``: what happened at one moment of the job, in time order.

    Items are ``("graph", job)``, ``("worker-added" | "worker-removed", WorkerInfo)``,
    ``("change", Change)``, ``("fetch", [Fetch, ...])`` (one transfer: its keys) and
    ``("p2p", Send)``.  A moment is one scheduler stimulus (its changes), one run
    of fetches or of P2P sends, or any other single item (``kind`` names it:
    ``"tr"``, ``"fetch"``, ``"p2p"``, ``"start"``, ``"steal"``, ``"graph"``, ...).
    At one time the graph and the workers come first and data moves last.
    A moment's time is rounded to the microsecond: the player's steps carry it
    as is, so ``state_at(step["t"])`` is the state after that step's moment.
    ``keys`` keeps only the changes of those Dask keys (the player of a big job
    leaves out the shuffle plumbing, which no Spark-style task's state reads).
    """
    with no_gc():  # hundreds of thousands of tuples on a big job: no collection while they are made
        items = _items(job, workers, keys)
    group: list[tuple[str, Any]] = []
    gkey, gt = None, 0.0
    for t, _, _, kind, what in items:
        key = _group_key(kind, what)
        if group and (key is None or key != gkey):
            yield gt, _moment_kind(gkey, group), group
            group = []
        if not group:
            gt = round(t, 6)
        group.append((kind, what))
        gkey = key
        if key is None:
            yield gt, _moment_kind(None, group), group
            group, gkey = [], None
    if group:
        yield gt, _moment_kind(gkey, group), group


def _items(job: Job, workers: list, keys: set[str] | frozenset[str] | None) -> list[tuple[float, int, int, str, Any]]:
    """Everything :func:`moments` groups, as ``(t, rank, position, kind, what)`` in time order."""
    end = (job.end if job.end is not None else job.submitted) + GRACE_S
    items: list[tuple[float, int, int, str, Any]] = [(job.submitted, 0, 0, "graph", job)]
    for n, w in enumerate(workers):
        for t, kind in ((w.added, "worker-added"), (w.removed, "worker-removed")):
            if t is not None and job.submitted <= t <= end:
                items.append((t, 1, n, kind, w))
    items += [(ch.t, 2, n, "change", ch) for n, ch in enumerate(job.changes) if keys is None or ch.key in keys]
    transfers: dict[tuple, list] = {}
    for f in job.fetches:
        transfers.setdefault((f["from"], f["to"], f["start"], f["stop"]), []).append(f)
    items += [(fs[0]["stop"], 3, n, "fetch", fs) for n, fs in enumerate(transfers.values())]
    items += [(s["t"], 3, len(transfers) + n, "p2p", s) for n, s in enumerate(job.sends)]
    items.sort()  # by time, rank, then position: (t, rank, n) is unique, so nothing else is compared
    return items


def _group_key(kind: str, what: Any) -> tuple | None:
    if kind == "change":
        return ("tr", what.stimulus) if what.stimulus else None
    return (kind,) if kind in ("fetch", "p2p") else None


def _moment_kind(gkey: tuple | None, group: list) -> str:
    if gkey is not None:
        return gkey[0]
    kind, what = group[0]
    if kind == "change":
        return {"started": "start", "stolen": "steal"}.get(what.change, "tr")
    return kind


def peaks(job: Job, stage: Any = None) -> tuple[int, dict[str, int]]:
    """The most Spark-style tasks running on a slot at one moment, on the whole cluster and on each worker.

    Counted by folding the job's log, as the player and the cluster picture
    show it (a slot never holds two running tasks); ``stage`` keeps one stage's
    tasks.  Returns ``(cluster peak, {worker name: its peak})`` (workers that
    ran none of them left out).
    """
    with no_gc():
        rec = job.recording
        workers = list(rec.workers) if rec is not None else []
        fold = Fold(job, list(job.stages) if stage is None else [stage], workers)
        running: dict[int, int] = {}  # task index -> worker index, while on a slot
        per: Counter = Counter()
        peak, best = 0, Counter()
        for _, _, items in moments(job, workers, frozenset(fold.task_of)):
            changed: set[int] = set()
            for kind, what in items:
                if kind == "change":
                    fold.apply(what, changed)
            touched = set()
            for idx, _, new, _ in fold.commit(changed):
                if idx in running:
                    per[running.pop(idx)] -= 1
                if new[0] in (RUNNING, RERUN) and new[2] > 0:
                    running[idx] = new[1]
                    per[new[1]] += 1
                    touched.add(new[1])
            for w in touched:  # after the whole moment: a slot's next task starts as its last one ends
                best[w] = max(best[w], per[w])
            peak = max(peak, len(running))
        return peak, {fold.wname[w]: n for w, n in best.items() if w >= 0}


@dataclass
class Snapshot:
    """Every Spark-style task's state at one moment (see :func:`state_at`).

    ``states[i]`` is task ``i``'s ``[state, worker, slot, holder]`` (indexes
    into ``STATES`` and ``workers``; ``-1`` for none, slot ``0``: on no slot),
    in the order of ``tasks`` (stage by stage, as the player numbers them).
    """

    t: float
    tasks: list
    states: list[list[int]]
    workers: list
    memory_bytes: dict[str, int]  # worker name -> bytes of results it holds (stage tasks and plumbing)

    def counts(self, stage_id: int) -> Counter:
        """``Counter`` of state names over one stage's tasks."""
        return Counter(STATES[s[0]] for st, s in zip(self.tasks, self.states) if st.stage == stage_id)

    def running(self) -> dict[str, list[tuple[int, Any, str]]]:
        """Per worker name: ``(slot, task, state)`` of each task on a slot (running or re-run), by slot."""
        out: dict[str, list] = {}
        for st, (state, w, slot, _) in zip(self.tasks, self.states):
            if state in (RUNNING, RERUN) and w >= 0 and slot > 0:
                out.setdefault(self.workers[w].name, []).append((slot, st, STATES[state]))
        return {w: sorted(items, key=lambda x: x[0]) for w, items in out.items()}

    def waiting(self) -> dict[str, list[Any]]:
        """Per worker name: the tasks given to it that are on no slot (waiting, or between two pieces)."""
        out: dict[str, list] = {}
        for st, (state, w, slot, _) in zip(self.tasks, self.states):
            if state in ACTIVE and w >= 0 and slot == 0:
                out.setdefault(self.workers[w].name, []).append(st)
        return out

    def held(self) -> dict[str, list[Any]]:
        """Per worker name: the tasks whose result it keeps in memory."""
        out: dict[str, list] = {}
        for st, (state, _, _, holder) in zip(self.tasks, self.states):
            if state == DONE and holder >= 0:
                out.setdefault(self.workers[holder].name, []).append(st)
        return out


def state_at(job: Job, t: float | None = None, stages: list | None = None) -> Snapshot:
    """Fold ``job``'s log up to time ``t`` (seconds since the recording started; default: all of it)."""
    with no_gc():  # a big job's fold makes many small objects, none in a cycle
        return _state_at(job, t, stages)


def _state_at(job: Job, t: float | None, stages: list | None) -> Snapshot:
    rec = job.recording
    workers = list(rec.workers) if rec is not None else []
    fold = Fold(job, list(job.stages) if stages is None else stages, workers)
    until = None if t is None else round(t, 6)  # moments are timed to the microsecond
    for gt, _, items in moments(job, workers):
        if until is not None and gt > until:
            break
        changed: set[int] = set()
        for kind, what in items:
            if kind == "change":
                fold.apply(what, changed)
        fold.commit(changed)
    memory: Counter = Counter()
    for key, ks in fold.key_state.items():
        if ks[0] == "done" and ks[1] >= 0:
            att = job.dask_tasks[key].attempts[ks[2] - 1] if ks[2] else None
            memory[fold.wname[ks[1]]] += (att.nbytes or 0) if att is not None else 0
    end = job.end if job.end is not None else job.submitted
    return Snapshot(t=end if t is None else t, tasks=fold.tasks, states=[list(s) for s in fold.shown],
                    workers=workers, memory_bytes=dict(memory))
