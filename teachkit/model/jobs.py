"""Jobs, Dask tasks, attempts and workers: rebuilt from the recorded events.

Pure functions over plain events (see :mod:`teachkit.record.events`); no
cluster is needed.  Times on these objects are **seconds since the start of
the recording** (``t - Recording.t0``).

How attempts are counted
------------------------
A task's first ``-> processing`` transition opens attempt 1.  Each later
``-> processing`` opens another attempt, with the cause taken from what ended
the previous one: ``worker-lost`` (the worker died while running it),
``result-lost`` (its finished result died with a worker and is recomputed from
lineage), ``lineage`` (its result had been used and released, and is computed
again to rebuild a lost result or a restarted shuffle downstream),
``shuffle-restart`` (a P2P shuffle started over because a worker died: its
transfer, barrier and unpack tasks run again, also on the surviving workers),
``input-lost`` (a surviving worker's task was taken back because an input died
with another worker), ``rescheduled`` (the scheduler took it back, e.g. P2P
unpack tasks) or ``stolen`` (work stealing).  A confirmed steal moves a
not-yet-started attempt to the thief without opening a new one; it is noted in
``Attempt.stolen_from``.  Only attempts on the worker that died end with
``worker-lost`` or get ``Attempt.lost``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teachkit.record.dask_names import cause_of, is_p2p_prefix

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.recording import Recording


@dataclass
class WorkerInfo:
    """One worker process as the recording saw it."""

    address: str
    name: str  # friendly: worker-1 ... worker-N (a restarted process: worker-2b)
    dask_name: str
    nthreads: int
    added: float | None = None  # None: present before recording started
    removed: float | None = None
    cause: str | None = None  # why it left: "lost" (died), "retired", "closed"


@dataclass
class Attempt:
    """One try at running a Dask task on a worker."""

    number: int
    worker: str | None = None  # friendly name
    address: str | None = None
    assigned: float | None = None
    start: float | None = None  # compute start on the worker
    stop: float | None = None
    thread: int | None = None
    slot: int | None = None  # 1-based task slot (thread) on its worker
    nbytes: int | None = None
    outcome: str = "pending"  # done | erred | released | running | pending
    cause: str | None = None  # why this attempt exists (None for the first)
    end_cause: str | None = None  # why a released attempt ended (worker-lost, rescheduled, ...)
    lost: float | None = None  # a done result was lost with its worker at this time
    stolen_from: str | None = None
    error: str | None = None
    fetches: list[dict] = field(default_factory=list)


@dataclass
class DaskTask:
    """One task of the graph the scheduler received (Dask's unit of work)."""

    key: str
    group: str
    prefix: str
    index: int | None
    deps: list[str]
    attempts: list[Attempt] = field(default_factory=list)
    states: list[tuple[float, str, str]] = field(default_factory=list)
    restarted: bool = False  # caught in a P2P shuffle restart after a worker died

    @property
    def final(self) -> Attempt | None:
        """The attempt that produced the result (or the last one)."""
        done = [a for a in self.attempts if a.outcome == "done" and a.lost is None]
        if done:
            return done[-1]
        return self.attempts[-1] if self.attempts else None


@dataclass
class Job:
    """One job: one action (``compute()``, ``persist()``, a write): one graph submission.

    ``dask_tasks`` holds the graph exactly as the scheduler received it, with
    every attempt of every task.  ``stages``, ``tasks`` (Spark-style: one per
    partition of a stage) and ``plan`` are derived from it by
    :mod:`teachkit.model.stages`; the drawing methods delegate to
    :mod:`teachkit.views` (imported on first use, like pandas' ``.plot``).
    """

    index: int
    name: str
    submitted: float
    keys: list[str]
    dask_tasks: dict[str, DaskTask]
    expr: dict[str, Any] = field(default_factory=dict)  # the client's plan event
    start: float | None = None
    end: float | None = None
    errors: list[str] = field(default_factory=list)
    fetches: list[dict] = field(default_factory=list)  # dependency moves between workers
    recording: Any = field(default=None, repr=False, compare=False)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        """Seconds from submission to the last task's end."""
        end = self.end if self.end is not None else self.submitted
        return max(0.0, end - self.submitted)

    def _get(self, name: str, build):
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]

    @property
    def stages(self) -> list:
        """Spark-style stages, in order (see :func:`teachkit.model.stages.derive_stages`)."""
        from teachkit.model.stages import derive_stages

        return self._get("stages", derive_stages)

    @property
    def tasks(self) -> list:
        """Spark-style tasks: one per partition of each stage."""
        return [task for stage in self.stages for task in stage.tasks]

    @property
    def plan(self):
        """Logical plan, optimised plan and physical plan (the stages), as data."""
        from teachkit.model.stages import build_plan

        return self._get("plan", build_plan)

    def explain(self):
        """The three plan levels side by side (a display object; ``str()`` gives text)."""
        from teachkit.views.explain import explain

        return explain(self)

    def stage_dag(self, **options):
        """Spark-style stage DAG (see :func:`teachkit.views.dag.stage_dag`)."""
        from teachkit.views.dag import stage_dag

        return stage_dag(self, **options)

    def task_dag(self, **options):
        """Task DAG, one node per Spark-style task (see :func:`teachkit.views.dag.task_dag`)."""
        from teachkit.views.dag import task_dag

        return task_dag(self, **options)

    def timeline(self, **options):
        """Worker timeline: one row per task slot (see :func:`teachkit.views.timeline.timeline`)."""
        from teachkit.views.timeline import timeline

        return timeline(self, **options)


def friendly_names(worker_events: list[dict]) -> dict[str, str]:
    """Map worker addresses to names ``worker-1 ... worker-N``.

    LocalCluster names its workers ``0 ... N-1``: they become ``worker-1 ...
    worker-N``.  A worker restarted by its Nanny keeps its dask name under a new
    address and is shown as ``worker-2b`` (then ``worker-2c`` ...).  Other
    names keep their text when it already reads ``worker-K``; anything else is
    numbered after the highest number seen, in order of appearance.
    """
    names: dict[str, str] = {}
    taken: dict[str, int] = {}
    pending: list[tuple[str, str]] = []
    for ev in worker_events:
        addr, dname = ev["worker"], str(ev.get("name", ""))
        if addr in names or any(a == addr for a, _ in pending):
            continue
        base = None
        if dname.isdigit():
            base = f"worker-{int(dname) + 1}"
        elif re.fullmatch(r"worker-\d+", dname):
            base = dname
        if base is None:
            pending.append((addr, dname))
            continue
        n = taken.get(base, 0)
        names[addr] = base if n == 0 else f"{base}{chr(ord('a') + n)}"
        taken[base] = n + 1
    highest = max((int(b.split("-")[1]) for b in taken), default=0)
    for addr, _ in pending:
        highest += 1
        names[addr] = f"worker-{highest}"
    return names


def build_workers(events: list[dict], t0: float) -> list[WorkerInfo]:
    """Return the workers seen in the events, in friendly-name order."""
    wevents = [e for e in events if e["kind"] in ("worker-present", "worker-added", "worker-removed")]
    names = friendly_names([e for e in wevents if e["kind"] != "worker-removed"])
    infos: dict[str, WorkerInfo] = {}
    for ev in wevents:
        addr = ev["worker"]
        if ev["kind"] == "worker-removed":
            info = infos.get(addr)
            if info is not None:
                info.removed, info.cause = ev["t"] - t0, ev.get("cause")
            continue
        if addr not in infos:
            infos[addr] = WorkerInfo(
                address=addr,
                name=names[addr],
                dask_name=str(ev.get("name", "")),
                nthreads=int(ev.get("nthreads", 1)),
                added=None if ev["kind"] == "worker-present" else ev["t"] - t0,
            )
    return sorted(infos.values(), key=lambda w: _name_order(w.name))


def _name_order(name: str) -> tuple:
    m = re.fullmatch(r"worker-(\d+)([a-z]?)", name)
    return (0, int(m.group(1)), m.group(2)) if m else (1, 0, name)


def _cause(stimulus: str) -> str | None:
    return cause_of(stimulus)


#: States in which a key's task is no longer held: a new graph that names it runs it again.
_GONE = ("released", "forgotten", None)


def build_jobs(rec: Recording) -> list[Job]:
    """Rebuild every job of a recording: its graph, tasks and attempts."""
    t0 = rec.t0
    names = {w.address: w.name for w in rec.workers}
    jobs: list[Job] = []
    owner: dict[str, Job] = {}
    plans = [e for e in rec.events if e["kind"] == "plan"]
    slots: dict[str, dict[int, int]] = {}
    last_state: dict[str, str] = {}  # every key's latest scheduler state
    dead = {e["worker"] for e in rec.events if e["kind"] == "worker-removed" and e.get("cause") == "lost"}
    for ev in rec.events:
        kind = ev["kind"]
        if kind == "graph":
            job = Job(index=len(jobs), name="", submitted=ev["t"] - t0, keys=list(ev["keys"]), dask_tasks={})
            for spec in ev["tasks"]:
                if spec["key"] in owner and last_state.get(spec["key"]) not in _GONE:
                    continue  # shared with an earlier job that still holds it (waiting, running or in memory)
                task = DaskTask(spec["key"], spec["group"], spec["prefix"], spec["index"], list(spec["deps"]))
                job.dask_tasks[task.key] = task
                owner[task.key] = job
            job.expr = _match_plan(plans, ev)
            job.name = _job_name(ev, job)
            jobs.append(job)
        elif kind == "tr":
            last_state[ev["key"]] = ev["finish"]
            job = owner.get(ev["key"])
            if job is not None:  # a forgotten key gets no transitions until a new graph owns it again
                _apply_transition(job.dask_tasks[ev["key"]], ev, t0, names, slots, dead, _has_p2p(job))
        elif kind == "steal" and ev.get("outcome") == "confirm":
            job = owner.get(ev["key"])
            if job is not None:
                task = job.dask_tasks[ev["key"]]
                if task.attempts:
                    att = task.attempts[-1]
                    att.stolen_from = names.get(ev["victim"], ev["victim"])
                    att.worker, att.address = names.get(ev["thief"], ev["thief"]), ev["thief"]
    for ev in rec.events:
        if ev["kind"] == "fetch":
            _attach_fetch(ev, owner, t0, names)
    for job in jobs:
        _finish_job(job)
    return jobs


def _has_p2p(job: Job) -> bool:
    if "p2p" not in job._derived:
        job._derived["p2p"] = any(is_p2p_prefix(t.prefix) for t in job.dask_tasks.values())
    return job._derived["p2p"]


def _apply_transition(task: DaskTask, ev: dict, t0: float, names: dict, slots: dict,
                      dead: set | frozenset = frozenset(), p2p: bool = False) -> None:
    t = ev["t"] - t0
    start, finish = ev["start"], ev["finish"]
    task.states.append((t, start, finish))
    cleanup = _cause(ev["stimulus"]) == "worker-lost"  # part of the scheduler's clean-up after a death
    if finish == "processing":
        cause = None
        if task.attempts:
            prev = task.attempts[-1]
            if prev.lost is not None:
                cause = "result-lost"
            elif prev.outcome == "done":  # used, released, and needed again
                cause = prev.end_cause or ("shuffle-restart" if task.restarted and is_p2p_prefix(task.prefix)
                                           else "lineage")
            else:
                cause = prev.end_cause or _cause(ev["stimulus"]) or "retried"
        addr = ev.get("worker")
        task.attempts.append(
            Attempt(number=len(task.attempts) + 1, worker=names.get(addr, addr), address=addr, assigned=t,
                    outcome="running", cause=cause)
        )
        return
    if cleanup and p2p:
        task.restarted = True
    att = task.attempts[-1] if task.attempts else None
    if att is None:
        return
    if start == "processing" and finish in ("memory", "erred"):
        addr = ev.get("worker") or att.address
        att.address, att.worker = addr, names.get(addr, addr)
        att.outcome = "done" if finish == "memory" else "erred"
        if "compute" in ev:
            att.start, att.stop = ev["compute"][0] - t0, ev["compute"][1] - t0
        else:
            att.stop = t
        if "thread" in ev:
            att.thread = ev["thread"]
            per = slots.setdefault(addr, {})
            att.slot = per.setdefault(ev["thread"], len(per) + 1)
        att.nbytes = ev.get("nbytes")
        att.fetches = [{"from": names.get(f.get("from"), f.get("from")), "start": f["start"] - t0, "stop": f["stop"] - t0}
                       for f in ev.get("fetch", [])]
        att.error = ev.get("error")
    elif start == "processing":
        att.outcome = "released"
        att.stop = att.stop if att.stop is not None else t
        att.end_cause = _cause(ev["stimulus"]) or "released"
        if cleanup and dead and att.address not in dead:  # its worker lives on
            att.end_cause = "shuffle-restart" if p2p else "input-lost"
    elif start == "memory" and finish != "forgotten" and cleanup:
        if not dead or att.address in dead:
            att.lost = t
        else:  # a survivor's result, discarded because the shuffle it fed starts over
            att.end_cause = "shuffle-restart" if p2p else "input-lost"


def _attach_fetch(ev: dict, owner: dict, t0: float, names: dict) -> None:
    """Attach a worker's dependency fetch to the tasks whose results it moved."""
    for key, nbytes in ev["keys"].items():
        job = owner.get(key)
        if job is None:
            continue
        job.fetches.append(
            {"key": key, "nbytes": nbytes, "from": names.get(ev["source"], ev["source"]),
             "to": names.get(ev["worker"], ev["worker"]), "start": ev["start"] - t0, "stop": ev["stop"] - t0}
        )


def _finish_job(job: Job) -> None:
    starts = [a.start if a.start is not None else a.assigned for t in job.dask_tasks.values() for a in t.attempts]
    stops = [a.stop for t in job.dask_tasks.values() for a in t.attempts if a.stop is not None]
    starts = [s for s in starts if s is not None]
    job.start = min(starts) if starts else None
    job.end = max(stops) if stops else None
    job.errors = [a.error for t in job.dask_tasks.values() for a in t.attempts if a.error]


def _match_plan(plans: list[dict], graph: dict) -> dict:
    keys = set(graph["keys"])
    for plan in plans:
        if keys & set(plan.get("keys", ())):
            return {k: v for k, v in plan.items() if k not in ("kind", "t")}
    return {}


@functools.lru_cache(maxsize=256)
def _pretty_prefix(prefix: str) -> str:
    return prefix.replace("_", " ").strip() or prefix


def _job_name(ev: dict, job: Job) -> str:
    if ev.get("span"):
        return " / ".join(ev["span"])
    if job.expr.get("name"):
        return str(job.expr["name"])
    prefixes = [t.prefix for t in job.dask_tasks.values() if t.key in set(job.keys)] or [t.prefix for t in job.dask_tasks.values()]
    return _pretty_prefix(prefixes[0]) if prefixes else f"job {job.index}"
