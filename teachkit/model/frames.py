"""Player frames: a recorded job replayed step by step, as plain JSON-ready data.

:func:`build_frames` walks the recorded events of one job in time order and
turns them into **steps**.  What one step is:

- one scheduler *stimulus*: the transitions the scheduler made in answer to
  one message (a graph submitted, a task finished on a worker, a worker lost,
  a task rescheduled).  They are simultaneous by construction, so they form one
  step ("worker-3 finishes task 12 of stage 0; the driver gives it task 17");
- one worker-side event: a task starts computing (its time is the worker's
  compute start), a dependency fetch, a P2P shuffle send (consecutive fetches
  or consecutive sends form one step).  A finish is placed at its compute stop
  when the scheduler heard of it later, so it precedes the next start on its
  slot (:mod:`teachkit.model.frame_stream`); a task between two of its Dask
  pieces gives up its slot to the task that starts there and waits
  (:mod:`teachkit.model.frame_steps`), so no slot holds two running tasks;
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
``workers``; ``-1`` for none; ``slot`` is the 1-based slot the task is on
now, ``0`` while it waits on its worker or is on none;
``holder`` is the worker keeping the task's result in memory).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from teachkit.model import captions
from teachkit.model.frame_steps import (  # noqa: F401  (STATES and the state codes are public here)
    ASSIGNED,
    BOOKMARKS,
    DONE,
    FAILED,
    LOST,
    PENDING,
    RERUN,
    RUNNING,
    STATES,
    _RERUN_CAUSES,
    _RERUN_PRIORITY,
    _SURVIVOR_CAUSES,
    Step,
    StepEncoder,
)
from teachkit.model.frame_stream import job_stream, step_groups

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.jobs import Job
    from teachkit.model.recording import Recording

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
    return _Builder(rec, job, list(job.stages) if stages is None else stages).run()


class _Builder(StepEncoder):
    """The replay: per-key state in, per-Spark-task deltas and captions out."""

    def __init__(self, rec: Recording, job: Job, stages: list) -> None:
        self.rec, self.job = rec, job
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
        # which task is on each (worker, slot), where each task last started a piece, who has begun
        self.slot_holder: dict[tuple[int, int], int] = {}
        self.on_slot: dict[int, tuple[int, int]] = {}
        self.begun: set[int] = set()
        self.turns: tuple[int, dict[int, set[int]]] | None = None  # the last resume step: (step, {worker: tasks})

    # -- replay ------------------------------------------------------------------------
    def run(self) -> Frames:
        for t, kind, events in step_groups(job_stream(self.rec, self.job)):
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
                self._claim(ev["key"], ks, changed)
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

    def _claim(self, key: str, ks: list, changed: set[int]) -> None:
        """A piece of a Spark task starts: the task takes its slot; a task it displaces waits."""
        idx, w = self.task_of.get(key), ks[1]
        if idx is None or w < 0:
            return
        att = self._attempt(key, ks[2])
        slot = att.slot if att is not None and att.slot and self.widx.get(att.address) == w else None
        if slot is None:  # never finished, so its thread is unknown: the first slot nobody runs on
            busy = {s for (v, s), i in self.slot_holder.items() if v == w and i != idx and self.shown[i][2]
                    and self.shown[i][0] in (RUNNING, RERUN)}
            slot = next((s for s in range(1, max(self.wnthreads[w], 1) + 1) if s not in busy), 1)
        prev = self.slot_holder.get((w, slot))
        self.slot_holder[(w, slot)] = idx
        self.on_slot[idx] = (w, slot)
        if prev is not None and prev != idx:
            changed.add(prev)

    def _name(self, w: int) -> str:
        return self.wname[w] if w >= 0 else "a worker"

    def _touch(self, key: str, changed: set[int]) -> None:
        idx = self.task_of.get(key)
        if idx is not None:
            changed.add(idx)


def _output_key(keys: list[str], job: Job) -> str | None:
    """The key whose result leaves the Spark task (no other key of the task depends on it)."""
    inside = set(keys)
    used = {d for k in keys if k in job.dask_tasks for d in job.dask_tasks[k].deps if d in inside}
    outs = [k for k in keys if k not in used]
    return outs[-1] if outs else (keys[-1] if keys else None)
