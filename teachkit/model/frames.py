"""Player frames: a recorded job replayed step by step, as plain JSON-ready data.

:func:`build_frames` walks the recorded events of one job in time order and
turns them into **steps**.  What one step is:

- one scheduler *stimulus*: the transitions the scheduler made in answer to
  one message (a graph submitted, a task finished on a worker, a worker lost,
  a task rescheduled).  They are simultaneous by construction, so they form one
  step ("worker-3 finishes task 12 of stage 0; the driver gives it task 17");
- one worker-side event: a task starts computing (its time is the worker's
  compute start), a dependency fetch, a P2P shuffle send (consecutive fetches
  or consecutive sends form one step);
- one cluster event: a worker joins or leaves, a steal is confirmed, the graph
  arrives.  A worker's death and the clean-up the scheduler does for it form
  one step.

Events that change nothing the player shows (a task queued, a fused
intermediate Dask task finishing inside a Spark task that is already running)
are folded away, so every step changes the picture.

The node states follow Spark's vocabulary (:data:`STATES`); a Spark task's
state is derived from the Dask tasks it covers (see :func:`_spark_state`).
How an attempt began and ended is read from the model (:mod:`teachkit.model.jobs`),
not re-derived from stimulus ids: a task is "re-run" when its attempt exists
because of a failure (:data:`_RERUN_CAUSES`, including ``lineage``,
``shuffle-restart`` and ``input-lost``), and "lost" only when its result died
with its worker (``Attempt.lost``); results a surviving worker drops for a P2P
shuffle restart make the task wait to run again.
Steps are delta-encoded: ``"d"`` lists only the tasks that changed, as
``[task, state, worker, slot, holder]`` (indexes into ``tasks`` and
``workers``; ``-1`` for none; ``slot`` is 1-based, ``0`` when unknown;
``holder`` is the worker keeping the task's result in memory).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from teachkit.model import captions

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.jobs import Job
    from teachkit.model.recording import Recording

#: Node states, in the order of their integer codes in the frame data.
STATES = ("pending", "assigned", "running", "done", "lost", "re-run", "failed")
PENDING, ASSIGNED, RUNNING, DONE, LOST, RERUN, FAILED = range(7)

#: Bookmark kinds, for the player's jump buttons.
BOOKMARKS = ("stage", "shuffle", "failure", "steal")

#: Attempt causes (see :mod:`teachkit.model.jobs`) that make a task run again because of a failure.
_RERUN_CAUSES = ("worker-lost", "result-lost", "retried", "lineage", "shuffle-restart", "input-lost")
#: The Spark task's reason when its Dask keys re-run for several: the one that explains the others.
_RERUN_PRIORITY = ("result-lost", "worker-lost", "shuffle-restart", "input-lost", "lineage", "retried")
#: End causes of an attempt on a surviving worker, taken back or discarded after another worker died.
_SURVIVOR_CAUSES = ("shuffle-restart", "input-lost")


class Step(TypedDict, total=False):
    """One step of the player (the wire format of ``Frames.steps``)."""

    t: float  # seconds since recording start (the timeline cursor)
    kind: str  # graph | tasks | start | fetch | p2p | steal | worker | failure
    caption: str
    d: list[list[int]]  # [task, state, worker, slot, holder]
    w: list[list[int]]  # [worker, alive 0/1]


@dataclass
class Frames:
    """Everything the player needs, computed once (see :func:`build_frames`)."""

    job: int
    job_name: str
    start: float
    end: float
    stages: list[dict]  # {"id", "name", "num_tasks", "parents"}
    tasks: list[list[int]]  # [stage, partition] per task index
    workers: list[dict]  # {"name", "nthreads", "alive"}: alive when the job was submitted
    steps: list[Step]
    bookmarks: dict[str, list[int]] = field(default_factory=dict)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain data for the browser (``json.dumps`` ready)."""
        return asdict(self)

    def __len__(self) -> int:
        return len(self.steps)

    def states_at(self, n: int) -> list[int]:
        """Node state codes of every task after step ``n`` (0-based); what the player shows."""
        states = [PENDING] * len(self.tasks)
        for step in self.steps[: n + 1]:
            for task, state, *_ in step.get("d", ()):
                states[task] = state
        return states


def build_frames(rec: Recording, job: Job | int | str | None = None, stages: list | None = None) -> Frames:
    """Replay one job of a recording as player steps.

    Parameters
    ----------
    rec : Recording
    job : Job, int or str, optional
        The job (default: the last one).
    stages : list of Stage, optional
        Spark-style stages; by default ``job.stages``.

    Examples
    --------
    >>> import teachkit
    >>> rec = teachkit.Recording.load(teachkit.example_path("pipeline"))
    >>> frames = build_frames(rec)
    >>> frames.steps[0]["caption"].startswith("The driver receives")
    True
    """
    if job is None or isinstance(job, (int, str)):
        job = rec.job(-1 if job is None else job)
    note = None
    if stages is None:
        stages, note = _stages_of(job)
    return _Builder(rec, job, stages, note).run()


def _stages_of(job: Job) -> tuple[list, str | None]:
    try:
        return list(job.stages), None
    except (ImportError, AttributeError, NotImplementedError):
        from teachkit.model.stage_fallback import fallback_stages

        return fallback_stages(job), "stages approximated (one per chain of elementwise task groups)"


class _Builder:
    """The replay: per-key state in, per-Spark-task deltas and captions out."""

    def __init__(self, rec: Recording, job: Job, stages: list, note: str | None) -> None:
        self.rec, self.job, self.note = rec, job, note
        self.t0 = rec.t0
        self.stages = sorted(stages, key=lambda s: s.id)
        self.stage_by_id = {s.id: s for s in self.stages}
        self.tasks: list = []  # SparkTask per index
        self.task_of: dict[str, int] = {}
        self.output_of: dict[int, str] = {}
        for stage in self.stages:
            for st in stage.tasks:
                idx = len(self.tasks)
                self.tasks.append(st)
                for key in st.keys:
                    self.task_of.setdefault(key, idx)
                self.output_of[idx] = _output_key(st.keys, job)
        self.stage_left = {s.id: len(s.tasks) for s in self.stages}
        self.stage_seen: set[int] = set()
        workers = rec.workers
        self.widx = {w.address: i for i, w in enumerate(workers)}
        self.wname = [w.name for w in workers]
        self.wnthreads = [w.nthreads for w in workers]
        sub = job.submitted
        self.alive0 = [int((w.added is None or w.added <= sub) and (w.removed is None or w.removed > sub)) for w in workers]
        # per Dask key: [phase, worker, attempt]; per task: [state, worker, slot, holder]
        self.key_state: dict[str, list] = {}
        self.shown = [[PENDING, -1, 0, -1] for _ in self.tasks]
        self.steps: list[Step] = []
        self.marks: dict[str, list[int]] = {k: [] for k in BOOKMARKS}

    # -- the event stream --------------------------------------------------------
    def _stream(self) -> list[tuple[float, int, dict]]:
        """This job's events plus synthetic compute starts, in time order."""
        job, t0 = self.job, self.t0
        out: list[tuple[float, int, dict]] = []
        owner: dict[str, bool] = {}
        seen_graph = False
        for n, ev in enumerate(self.rec.events):
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
        base = len(self.rec.events)
        for key, task in job.dask_tasks.items():
            for att in task.attempts:
                if att.start is not None and att.assigned is not None and owner.get(key):
                    ev = {"kind": "start", "key": key, "attempt": att.number, "worker": att.address}
                    out.append((max(att.start, att.assigned), base, ev))
        out.sort(key=lambda x: (x[0], x[1]))
        return out

    def _groups(self):
        """Yield (t, kind, events): simultaneous events that make one candidate step."""
        group: list[dict] = []
        gkey = None
        gt = 0.0
        for t, _, ev in self._stream():
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

    # -- replay ------------------------------------------------------------------------
    def run(self) -> Frames:
        for t, kind, events in self._groups():
            facts = captions.Facts()
            changed: set[int] = set()
            alive: list[list[int]] = []
            for ev in events:
                self._apply(ev, facts, changed, alive)
            deltas = self._deltas(changed, facts)
            if not deltas and not alive and kind not in ("graph", "steal", "fetch", "p2p"):
                continue
            self._emit(t, kind, facts, deltas, alive)
        return Frames(
            job=self.job.index,
            job_name=self.job.name,
            start=round(self.job.submitted, 4),
            end=round(self.job.end if self.job.end is not None else self.job.submitted, 4),
            stages=[{"id": s.id, "name": s.name, "num_tasks": len(s.tasks), "parents": list(s.parents)} for s in self.stages],
            tasks=[[st.stage, st.partition] for st in self.tasks],
            workers=[{"name": n, "nthreads": k, "alive": a} for n, k, a in zip(self.wname, self.wnthreads, self.alive0)],
            steps=self.steps,
            bookmarks=self.marks,
            note=self.note,
        )

    def _apply(self, ev: dict, facts: captions.Facts, changed: set[int], alive: list) -> None:
        kind = ev["kind"]
        if kind == "graph":
            facts.graph = (len(self.job.dask_tasks), len(self.tasks), len(self.stages))
        elif kind == "tr":
            self._transition(ev, facts, changed)
        elif kind == "start":
            ks = self.key_state.get(ev["key"])
            if ks is not None and ks[0] == "assigned" and ks[2] == ev["attempt"]:
                ks[0] = "running"
                self._touch(ev["key"], changed)
                facts.started.append(self.task_of.get(ev["key"], -1))
        elif kind == "steal":
            if ev.get("outcome") == "confirm":
                ks = self.key_state.get(ev["key"])
                if ks is not None:
                    ks[1] = self.widx.get(ev["thief"], -1)
                    self._touch(ev["key"], changed)
                facts.steals.append((self.task_of.get(ev["key"], -1), self._w(ev["victim"]), self._w(ev["thief"])))
        elif kind in ("worker-added", "worker-removed"):
            w = self.widx.get(ev["worker"], -1)
            if w >= 0:
                alive.append([w, int(kind == "worker-added")])
                facts.workers.append((self.wname[w], kind, ev.get("cause"), self.wnthreads[w]))
        elif kind == "fetch":
            facts.fetches.append((self._w(ev["source"]), self._w(ev["worker"]), ev.get("nbytes", 0), len(ev["keys"])))
        elif kind == "p2p":
            facts.sends.append((self._w(ev["source"]), self._w(ev["dest"]), ev.get("nbytes", 0)))

    def _w(self, address: str) -> str:
        w = self.widx.get(address)
        return self.wname[w] if w is not None else address

    def _transition(self, ev: dict, facts: captions.Facts, changed: set[int]) -> None:
        key, start, finish = ev["key"], ev["start"], ev["finish"]
        ks = self.key_state.setdefault(key, ["pending", -1, 0, None])
        cause = captions.cause(ev.get("stimulus", ""))
        if cause:
            facts.causes.add(cause)
        att = self._attempt(key, ks[2])  # the attempt this event ends (the model knows how it ended)
        if finish == "processing":
            ks[2] += 1
            ks[1] = self.widx.get(ev.get("worker"), -1)
            ks[3] = self._rerun_cause_of(key, ks[2])
            ks[0] = "assigned"
        elif start == "processing" and finish == "memory":
            ks[0], ks[1] = "done", self.widx.get(ev.get("worker"), ks[1])
            facts.nbytes[key] = ev.get("nbytes") or 0
        elif finish == "erred":
            ks[0] = "erred"
            facts.errors.append((self.task_of.get(key, -1), ev.get("error") or "an error"))
        elif start == "processing":  # released: worker lost, rescheduled, cancelled
            why = (att.end_cause if att is not None and att.end_cause else None) or cause
            if why in ("worker-lost", "rescheduled") or why in _SURVIVOR_CAUSES:
                facts.requeued.append((self.task_of.get(key, -1), why, self._name(ks[1])))
            ks[0] = "requeued" if why == "worker-lost" or why in _SURVIVOR_CAUSES else "pending"
        elif start == "memory" and finish in ("released", "forgotten"):
            t = ev["t"] - self.t0
            if att is not None and att.lost is not None and abs(att.lost - t) < 1e-6:  # died with its worker
                lost = True
            elif att is not None and cause == "worker-lost" and att.end_cause in _SURVIVOR_CAUSES:
                lost = False  # a survivor's result, dropped because the shuffle it fed starts over
                facts.discarded.append((self.task_of.get(key, -1), att.end_cause, self._name(ks[1])))
                ks[0] = "discarded"
            else:
                lost = cause == "worker-lost" and (att is None or finish == "forgotten")
            if lost:
                facts.lost_results.append((self.task_of.get(key, -1), self._name(ks[1])))
                ks[0] = "lost"
            elif ks[0] != "discarded":
                ks[0] = "released" if ks[0] == "done" else ks[0]
        else:
            return
        if key not in self.task_of:
            if finish == "memory":
                facts.plumbing.append((self.job.dask_tasks[key].prefix, self._name(ks[1])))
            return
        self._touch(key, changed)

    def _attempt(self, key: str, number: int):
        atts = self.job.dask_tasks[key].attempts
        return atts[number - 1] if 0 < number <= len(atts) else None

    def key_attempt(self, idx: int) -> int:
        """Highest attempt number among a Spark task's Dask keys."""
        return max((self.key_state.get(k, [0, 0, 0])[2] for k in self.tasks[idx].keys), default=0)

    def _rerun_cause_of(self, key: str, number: int) -> str | None:
        """Why attempt ``number`` of a key runs again: the newest failure cause of attempts 2..number.

        An attempt opened for a plain reason (rescheduled, released) after a
        re-run attempt is still part of that re-run; a P2P unpack merely
        rescheduled on first run is not a re-run.
        """
        atts = self.job.dask_tasks[key].attempts[1:number]
        return next((a.cause for a in reversed(atts) if a.cause in _RERUN_CAUSES), None)

    def rerun_cause(self, idx: int) -> str | None:
        """Why a Spark task runs again: over its keys' current (or, not yet re-assigned, next) attempts.

        A re-run starts with the first fused key (often ``lineage``); the key
        whose result was lost or discarded (``result-lost``, ``shuffle-restart``)
        explains it, so it wins (:data:`_RERUN_PRIORITY`).
        """
        causes = set()
        for key in self.tasks[idx].keys:
            phase, _, number, cause = self.key_state.get(key, ["pending", -1, 0, None])
            if phase in ("assigned", "running", "done", "released", "erred"):
                causes.add(cause)
            else:  # waits to run again: the attempt it will get
                causes.add(self._rerun_cause_of(key, number + 1))
        return next((c for c in _RERUN_PRIORITY if c in causes), None)

    def _name(self, w: int) -> str:
        return self.wname[w] if w >= 0 else "a worker"

    def _touch(self, key: str, changed: set[int]) -> None:
        idx = self.task_of.get(key)
        if idx is not None:
            changed.add(idx)

    # -- deltas and steps -----------------------------------------------------------
    def _deltas(self, changed: set[int], facts: captions.Facts) -> list[list[int]]:
        out = []
        for idx in sorted(changed):
            new = self._spark_state(idx)
            old = self.shown[idx]
            if new == old:
                continue
            self.shown[idx] = new
            out.append([idx, *new])
            facts.note_change(idx, old, new)
        return out

    def _spark_state(self, idx: int) -> list[int]:
        """State of one Spark task from its Dask keys: [state, worker, slot, holder]."""
        st = self.tasks[idx]
        phases = []
        worker, rerun, attempt = -1, False, None
        for key in st.keys:
            ks = self.key_state.get(key)
            if ks is None:
                phases.append("pending")
                continue
            phases.append(ks[0])
            if ks[0] in ("assigned", "running") or worker < 0:
                worker = ks[1]
                attempt = (key, ks[2])
            rerun = rerun or ks[3] in _RERUN_CAUSES
        active = any(p in ("assigned", "running") for p in phases)
        if "erred" in phases:
            state = FAILED
        elif all(p in ("done", "released") for p in phases):
            state = DONE
        elif "lost" in phases and not active:
            state = LOST
        elif ("requeued" in phases or "discarded" in phases) and not active:
            state = PENDING  # taken back or dropped after a worker died: waits to run again
        elif any(p in ("assigned", "running") for p in phases) or any(p in ("done", "released") for p in phases):
            started = any(p in ("running", "done", "released") for p in phases)
            state = RERUN if rerun else (RUNNING if started else ASSIGNED)
        else:
            state = PENDING
        slot = 0
        if attempt is not None and worker >= 0:
            att = self._attempt(*attempt)
            if att is not None and att.slot and att.address is not None and self.widx.get(att.address) == worker:
                slot = att.slot
        holder = -1
        if state == DONE:  # who keeps the result: the output key's worker, else any key still in memory
            held = [k for k in st.keys if self.key_state.get(k, ("",))[0] == "done"]
            out_key = self.output_of.get(idx)
            if held:
                holder = self.key_state[out_key if out_key in held else held[-1]][1]
        if state in (PENDING, LOST):
            worker, slot = -1, 0
        return [state, worker, slot, holder]

    def _emit(self, t: float, kind: str, facts: captions.Facts, deltas: list, alive: list) -> None:
        n = len(self.steps)
        for idx in facts.first_assigned:
            stage = self.tasks[idx].stage
            if stage not in self.stage_seen:
                self.stage_seen.add(stage)
                facts.stage_started.append(stage)
        for idx in facts.finished:
            stage = self.tasks[idx].stage
            self.stage_left[stage] -= 1
            if self.stage_left[stage] == 0:
                facts.stage_done.append(stage)
        for idx in facts.undone:
            self.stage_left[self.tasks[idx].stage] += 1
        text, step_kind = captions.caption(facts, kind, self)
        if self.steps and captions.merges(self.steps[-1], step_kind, facts):
            prev = self.steps[-1]
            prev["caption"] = captions.merged_caption(prev, text)
            prev["d"] = prev.get("d", []) + deltas
            prev["w"] = prev.get("w", []) + alive
            n -= 1
        else:
            step: Step = {"t": round(t, 4), "kind": step_kind, "caption": text}
            if deltas:
                step["d"] = deltas
            if alive:
                step["w"] = alive
            self.steps.append(step)
        for mark in captions.bookmarks(facts, step_kind, self):
            if n not in self.marks[mark]:
                self.marks[mark].append(n)


def _output_key(keys: list[str], job: Job) -> str | None:
    """The key whose result leaves the Spark task (no other key of the task depends on it)."""
    inside = set(keys)
    used = {d for k in keys if k in job.dask_tasks for d in job.dask_tasks[k].deps if d in inside}
    outs = [k for k in keys if k not in used]
    return outs[-1] if outs else (keys[-1] if keys else None)
