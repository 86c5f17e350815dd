"""Player frames: a recorded job replayed step by step, as plain JSON-ready data.

:func:`build_frames` folds the job's log of changes (:mod:`teachkit.model.changes`)
moment by moment (:func:`teachkit.model.fold.moments`) and makes a **step** of
each moment that changes the picture.  What one step is:

- one scheduler *stimulus*: the changes the scheduler made in answer to
  one message (a graph submitted, a task finished on a worker, a worker lost,
  a task rescheduled).  They are simultaneous by construction, so they form one
  step ("worker-3 finishes task 12 of stage 0; the driver gives it task 17");
- one worker-side event: a task starts computing (its time is the worker's
  compute start), a dependency fetch, a P2P shuffle send (consecutive fetches
  or consecutive sends form one step); a task between two of its Dask pieces
  gives up its slot to the task that starts there and waits (see
  :mod:`teachkit.model.fold`), so no slot holds two running tasks;
- one cluster event: a worker joins or leaves, a steal is confirmed, the graph
  arrives.  A worker's death and the clean-up the scheduler does for it form
  one step;
- the end: the driver gathers the job's result (``compute()``).

Events that change nothing the player shows (a task queued, a fused
intermediate Dask task finishing inside a Spark task that is already running)
are folded away, so every step changes the picture.

The node states follow Spark's vocabulary (:data:`STATES`); a Spark task's
state is derived from the Dask tasks it covers (:meth:`teachkit.model.fold.Fold.spark_state`).
How an attempt began and ended is read from the model, not re-derived: a task
is "re-run" when its attempt exists because of a failure (``lineage``,
``shuffle-restart`` and ``input-lost`` included), and "lost" only when its
result died with its worker; results a surviving worker drops for a P2P
shuffle restart make the task wait to run again.
Steps are delta-encoded: ``"d"`` lists only the tasks that changed, as
``[task, state, worker, slot, holder]`` (indexes into ``tasks`` and
``workers``; ``-1`` for none; ``slot`` is the 1-based slot the task is on
now, ``0`` while it waits on its worker or is on none;
``holder`` is the worker keeping the task's result in memory).
``bookmarks`` maps each of :data:`BOOKMARKS` to the steps it marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypedDict

from teachkit.model import captions
from teachkit.model.fold import Fold, moments
from teachkit.model.moves import boundaries, job_result
from teachkit.record.wire import no_gc
from teachkit.model.vocabulary import (  # noqa: F401  (the states and their codes are public here too)
    ASSIGNED,
    BOOKMARKS,
    DEAD,
    LEFT,
    NOT_STARTED,
    UP,
    DONE,
    FAILED,
    LOST,
    PENDING,
    RERUN,
    RUNNING,
    STATES,
    SURVIVOR_CAUSES,
)

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.job import Job
    from teachkit.model.recording import Recording


class Step(TypedDict, total=False):
    """One step of the player (the wire format of ``Frames.steps``)."""

    t: float  # seconds since recording start, to the microsecond: its last moment's (the timeline cursor)
    kind: str  # see teachkit.model.vocabulary.StepKind
    caption: str
    d: list[list[int]]  # [task, state, worker, slot, holder]
    w: list[list[int]]  # [worker, status]: a code of teachkit.model.vocabulary.WORKER_STATUSES


@dataclass
class Frames:
    """Everything the player needs, computed once (see :func:`build_frames`)."""

    job: int
    job_name: str
    start: float
    end: float
    stages: list[dict]  # {"id", "name", "num_tasks", "parents"}
    tasks: list[list[int]]  # [stage, partition] per task index
    workers: list[dict]  # {"name", "nthreads", "status"}: the status code when the job was submitted
    steps: list[Step]
    bookmarks: dict[str, list[int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain data for the browser (``json.dumps`` ready; the steps are shared, not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __len__(self) -> int:
        return len(self.steps)

    def states_at(self, n: int) -> list[int]:
        """Node state codes of every task after step ``n`` (0-based); what the player shows."""
        return [s[0] for s in self.tasks_at(n)]

    def tasks_at(self, n: int) -> list[list[int]]:
        """``[state, worker, slot, holder]`` of every task after step ``n`` (0-based)."""
        out = [[PENDING, -1, 0, -1] for _ in self.tasks]
        for step in self.steps[: n + 1]:
            for task, *state in step.get("d", ()):
                out[task] = state
        return out


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
    job = rec.job(job)  # by number, by name or a Job of this recording (None: the last); else one sentence
    stages = list(job.stages) if stages is None else stages
    with no_gc():  # a big job's replay makes many small objects, none in a cycle
        return _Builder(rec, job, stages).run()


#: A job with more changes than this in its log (about a 10,000-task job) is replayed in windows of several
#: moments, at most :data:`MAX_STEPS` steps, leaving out the changes of Dask's shuffle plumbing (no Spark-style
#: task's state reads them): the player stays small and quick at any size.
MAX_CHANGES = 40_000
MAX_STEPS = 1_000


def windows(every: list, most: int) -> list[list]:
    """Moments cut into at most about ``most`` windows of consecutive moments, for a big job.

    A moment a learner must not miss (the graph arriving, a worker joining or
    leaving, a steal, a failure, a result lost or taken back) is a window of
    its own, as long as such moments are fewer than half of ``most``.  Moments
    at the same time are never cut apart.
    """
    solo = [_notable(kind, items) for _, kind, items in every]
    if sum(solo) > most // 2:
        solo = [False] * len(every)
    size = max(1, -(-(len(every) - sum(solo)) // max(1, most - sum(solo))))
    out: list[list] = []
    group: list = []
    for moment, alone in zip(every, solo):
        if group and moment[0] == group[-1][0] and not alone:  # one time, one window: a step shows the state then
            group.append(moment)
            continue
        if alone or len(group) >= size:
            if group:
                out.append(group)
            group = []
        if alone:
            out.append([moment])
        else:
            group.append(moment)
    if group:
        out.append(group)
    return out


def _notable(kind: str, items: list) -> bool:
    if kind in ("graph", "worker-added", "worker-removed", "steal"):
        return True
    return any(what == "change" and item.change in ("failed", "lost", "discarded", "taken-back")
               for what, item in items)


def worker_status(w: Any, t: float) -> int:
    """A worker's status code at ``t`` (:data:`teachkit.model.vocabulary.WORKER_STATUSES`)."""
    if w.added is not None and w.added > t:
        return NOT_STARTED
    if w.removed is not None and w.removed <= t:
        return exit_status(w.cause)
    return UP


def exit_status(cause: str | None) -> int:
    """The status of a worker that left: dead (lost, or no cause known) or left on purpose (retired, closed)."""
    return LEFT if cause in ("retired", "closed") else DEAD


class _Builder:
    """The replay: the fold's per-Spark-task changes in, deltas, captions and steps out."""

    def __init__(self, rec: Recording, job: Job, stages: list) -> None:
        self.rec, self.job = rec, job
        self.workers = list(rec.workers)
        self.fold = fold = Fold(job, stages, self.workers)
        self.stages, self.tasks, self.shown, self.output_of = fold.stages, fold.tasks, fold.shown, fold.output_of
        self.stage_by_id = {s.id: s for s in self.stages}
        same = len(stages) == len(job.stages) and all(a is b for a, b in zip(stages, job.stages))
        self.boundaries = job.boundaries if same else boundaries(job, self.stages)  # the job's own: resolved once
        self.key_attempt, self.rerun_cause = fold.key_attempt, fold.rerun_cause
        self.stage_left = {s.id: len(s.tasks) for s in self.stages}
        self.stage_seen: set[int] = set()
        self.wname = fold.wname
        self.wnthreads = fold.wnthreads
        sub = job.submitted
        self.status0 = [worker_status(w, sub) for w in self.workers]
        self.steps: list[Step] = []
        self.marks: dict[str, list[int]] = {k: [] for k in BOOKMARKS}
        self.turns: tuple[int, dict[int, set[int]]] | None = None  # the last resume step: (step, {worker: tasks})

    # -- replay ------------------------------------------------------------------------
    def run(self) -> Frames:
        result = job_result(self.job) if any(s.output == "driver" for s in self.stages) else None
        if len(self.job.changes) > MAX_CHANGES:  # a big job: Spark-style tasks' changes only, in windows
            groups = windows(list(moments(self.job, self.workers, frozenset(self.fold.task_of))), MAX_STEPS)
        else:
            groups = [[m] for m in moments(self.job, self.workers)]
        for group in groups:
            t, kind = group[-1][0], group[0][1] if len(group) == 1 else "tr"
            if result is not None and result.released and group[0][0] > result.t:
                self._gather(result)
                result = None
            facts = captions.Facts()
            changed: set[int] = set()
            alive: list[list[int]] = []
            for _, _, items in group:
                for what, item in items:
                    self._apply(what, item, facts, changed, alive)
            deltas = self._deltas(changed, facts)
            if not deltas and not alive and kind not in ("graph", "steal", "fetch", "p2p"):
                continue
            self._emit(t, kind, facts, deltas, alive, span=(group[0][0], len(group)) if len(group) > 1 else None)
        if result is not None:
            self._gather(result)
        job = self.job
        return Frames(
            job=job.index,
            job_name=job.name,
            start=round(job.submitted, 4),
            end=round(job.end if job.end is not None else job.submitted, 4),
            stages=[{"id": s.id, "name": s.name, "num_tasks": len(s.tasks), "parents": list(s.parents)} for s in self.stages],
            tasks=[[st.stage, st.partition] for st in self.tasks],
            workers=[{"name": n, "nthreads": k, "status": a} for n, k, a in zip(self.wname, self.wnthreads, self.status0)],
            steps=self.steps,
            bookmarks=self.marks,
        )

    def _apply(self, what: str, item: Any, facts: captions.Facts, changed: set[int], alive: list) -> None:
        if what == "change":
            self._change(item, facts, changed)
        elif what == "graph":
            facts.graph = (len(self.job.dask_tasks), len(self.tasks), len(self.stages))
        elif what in ("worker-added", "worker-removed"):
            w = self.fold.widx.get(item.name, -1)
            if w >= 0:
                alive.append([w, UP if what == "worker-added" else exit_status(item.cause)])
                facts.workers.append((item.name, what, item.cause if what == "worker-removed" else None,
                                      item.nthreads))
        elif what == "fetch":
            facts.fetches.append((item[0]["from"], item[0]["to"], sum(f["nbytes"] for f in item), len(item)))
        elif what == "p2p":
            facts.sends.append((item["from"], item["to"], item["nbytes"]))

    def _change(self, ch: Any, facts: captions.Facts, changed: set[int]) -> None:
        kind = ch.change
        if kind == "stolen":
            ks = self.fold.key_state.get(ch.key)
            facts.steals.append((self.fold.task_of.get(ch.key, -1), self._name(ks[1]) if ks is not None else "a worker",
                                 ch.worker))
        if ch.cause:
            facts.causes.add(ch.cause)
        self.fold.apply(ch, changed)
        if kind in ("assigned", "started", "released", "stolen"):  # the fold's states tell these; nothing to note
            return
        idx = self.fold.task_of.get(ch.key, -1)
        where = self._name(self.fold.key_state[ch.key][1])
        if kind == "done":
            att = self.job.dask_tasks[ch.key].attempts[ch.attempt - 1]
            facts.nbytes[ch.key] = att.nbytes or 0
            if idx < 0:
                facts.plumbing.append((self.job.dask_tasks[ch.key].prefix, where))
        elif kind == "failed":
            att = self.job.dask_tasks[ch.key].attempts[ch.attempt - 1]
            facts.errors.append((idx, att.error or "an error"))
        elif kind == "taken-back" and (ch.cause in ("worker-lost", "rescheduled") or ch.cause in SURVIVOR_CAUSES):
            facts.requeued.append((idx, ch.cause, where))
        elif kind == "lost":
            facts.lost_results.append((idx, where))
        elif kind == "discarded":
            facts.discarded.append((idx, ch.cause, where))

    def _gather(self, result: Any) -> None:
        """The last step of a ``compute()``: the driver gathers the result from the workers that hold it."""
        t = max([result.t] + [s["t"] for s in self.steps])
        self.marks["gather"].append(len(self.steps))
        self.steps.append({"t": round(t, 6), "kind": "gather", "caption": captions.gather_text(result)})
        self.turns = None

    def _name(self, w: int) -> str:
        return self.wname[w] if w >= 0 else "a worker"

    def _deltas(self, changed: set[int], facts: captions.Facts) -> list[list[int]]:
        out = []
        for idx, old, new, how in self.fold.commit(changed):
            out.append([idx, *new])
            facts.note_change(idx, old, new)
            if how == "first":
                facts.slot_started.append(idx)
            elif how == "again":
                facts.resumed.append(idx)
            elif how == "paused":
                facts.paused.append(idx)
        return out

    # -- steps -------------------------------------------------------------------------
    def _resume_only(self, step_kind: str, facts: captions.Facts, alive: list) -> tuple[int, set[int]] | None:
        """(worker, tasks) when a step only swaps begun tasks on and off one worker's slots, else None."""
        if step_kind != "start" or not facts.resumed or alive or facts.finished or facts.first_assigned:
            return None
        if not set(facts.spark_started + facts.slot_started) <= set(facts.resumed):
            return None
        tasks = set(facts.resumed + facts.paused)
        workers = {self.shown[i][1] for i in tasks}
        return (workers.pop(), tasks) if len(workers) == 1 else None

    def _emit(self, t: float, kind: str, facts: captions.Facts, deltas: list, alive: list,
              span: tuple[float, int] | None = None) -> None:
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
        if span is not None:  # a big job: several moments in one step
            text = captions.window_text(t - span[0], span[1], text)
        turn = self._resume_only(step_kind, facts, alive)
        if turn is not None and self.turns is not None and self.turns[0] == n - 1:
            # tasks taking turns on their workers' slots, step after step: one step, not dozens
            by_worker = self.turns[1]
            by_worker.setdefault(turn[0], set()).update(turn[1])
            prev = self.steps[-1]
            prev["caption"] = captions.turns_text(self, by_worker)
            prev["d"] = prev.get("d", []) + deltas
            prev["t"] = t  # a step's time is its last moment's: the state it shows is the state then
            return
        self.turns = (n, {turn[0]: turn[1]}) if turn is not None else None
        if self.steps and captions.merges(self.steps[-1], step_kind, facts):
            prev = self.steps[-1]
            prev["caption"] = captions.merged_caption(prev, text)
            prev["d"] = prev.get("d", []) + deltas
            prev["w"] = prev.get("w", []) + alive
            prev["t"] = t
            n -= 1
        else:
            step: Step = {"t": t, "kind": step_kind, "caption": text}
            if deltas:
                step["d"] = deltas
            if alive:
                step["w"] = alive
            self.steps.append(step)
        for mark in captions.bookmarks(facts, step_kind, self):
            if self.marks[mark][-1:] != [n]:  # steps only grow: the last mark is the only one that can be n
                self.marks[mark].append(n)
