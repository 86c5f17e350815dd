"""The one reader of a recording's events: workers, jobs, Dask tasks, attempts, data moves, faults, each job's log.

Pure functions over plain events (see :mod:`teachkit.record.events`); no
cluster is needed.  Nothing else in the model or the views reads the raw
events: they read what this builds (the data classes of
:mod:`teachkit.model.job`).  Times are **seconds since the start of the
recording** (``t - Recording.t0``).

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
``worker-lost`` or get ``Attempt.lost``.  The cause of every change is read
from the scheduler's stimulus here, once (:func:`teachkit.record.dask_names.cause_of`).

The log of changes
------------------
While it reads the transitions, :func:`build_jobs` notes every change a
picture shows (a task given to a worker, finished, failed, taken back; its
result freed, lost with its worker or dropped for a restarted shuffle; a
steal) with its stimulus, attempt and cause; :func:`teachkit.model.changes.build_log`
then adds the compute starts, gives every attempt its slot (one rule) and
orders the log.  Dependency fetches, P2P sends and injected faults are
attached to the job they belong to.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from teachkit.model.changes import Change, build_log
from teachkit.model.job import Attempt, DaskTask, Fault, Fetch, Job, Send, WorkerInfo
from teachkit.model.vocabulary import GRACE_S, SURVIVOR_CAUSES
from teachkit.record.dask_names import cause_of, is_p2p_prefix, shuffle_id
from teachkit.record.wire import no_gc

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.recording import Recording

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


#: States in which a key's task is no longer held: a new graph that names it runs it again.
_GONE = ("released", "forgotten", None)


def build_jobs(rec: Recording) -> list[Job]:
    """Rebuild every job of a recording: its graph, tasks, attempts, data moves, faults and log of changes.

    The objects hold no reference cycles, so the garbage collector is paused
    while they are made (it halved the time on a seed-sized job).
    """
    with no_gc():
        return _build_jobs(rec)


def _build_jobs(rec: Recording) -> list[Job]:
    t0 = rec.t0
    workers = rec.workers
    names = {w.address: w.name for w in workers}
    jobs: list[Job] = []
    owner: dict[str, Job] = {}
    plans = [e for e in rec.events if e["kind"] == "plan"]
    slots: dict[str, dict[int, int]] = {}
    last_state: dict[str, str] = {}  # every key's latest scheduler state
    dead = {e["worker"] for e in rec.events if e["kind"] == "worker-removed" and e.get("cause") == "lost"}
    noted: list[list[tuple[int, Change]]] = []  # per job: (event index, change), in event order
    moves: dict[str, list[dict]] = {"fetch": [], "p2p": [], "fault": []}
    for seq, ev in enumerate(rec.events):
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
            noted.append([])
        elif kind == "tr":
            last_state[ev["key"]] = ev["finish"]
            job = owner.get(ev["key"])
            if job is not None:  # a forgotten key gets no transitions until a new graph owns it again
                change = _apply_transition(job.dask_tasks[ev["key"]], ev, t0, names, slots, dead, _has_p2p(job))
                if change is not None:
                    noted[job.index].append((seq, change))
        elif kind == "steal" and ev.get("outcome") == "confirm":
            job = owner.get(ev["key"])
            task = job.dask_tasks[ev["key"]] if job is not None else None
            if task is not None and task.attempts:
                att = task.attempts[-1]
                att.stolen_from = names.get(ev["victim"], ev["victim"])
                att.worker, att.address = names.get(ev["thief"], ev["thief"]), ev["thief"]
                noted[job.index].append(
                    (seq, Change(ev["t"] - t0, "", task.key, att.number, "stolen", att.worker, 0, "stolen")))
        elif kind in moves:
            moves[kind].append(ev)
    for ev in moves["fetch"]:
        _attach_fetch(ev, owner, t0, names)
    nthreads = {w.address: w.nthreads for w in workers}
    for job in jobs:
        _finish_job(job)
        job.changes = build_log(job, noted[job.index], nthreads)
    _attach_sends(jobs, moves["p2p"], t0, names)
    _attach_faults(jobs, moves["fault"], t0, names)
    return jobs


def _has_p2p(job: Job) -> bool:
    if "p2p" not in job._derived:
        job._derived["p2p"] = any(is_p2p_prefix(t.prefix) for t in job.dask_tasks.values())
    return job._derived["p2p"]


def _apply_transition(task: DaskTask, ev: dict, t0: float, names: dict, slots: dict,
                      dead: set | frozenset = frozenset(), p2p: bool = False) -> Change | None:
    """Fold one transition into the task's attempts; return the change it makes to the log (or ``None``)."""
    t = ev["t"] - t0
    start, finish, stimulus = ev["start"], ev["finish"], ev["stimulus"]
    task.states.append((t, start, finish))
    why = cause_of(stimulus)
    cleanup = why == "worker-lost"  # part of the scheduler's clean-up after a death
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
                cause = prev.end_cause or why or "retried"
        addr = ev.get("worker")
        att = Attempt(number=len(task.attempts) + 1, worker=names.get(addr, addr), address=addr, assigned=t,
                      outcome="running", cause=cause)
        task.attempts.append(att)
        return Change(t, stimulus, task.key, att.number, "assigned", att.worker, 0, cause or why)
    if cleanup and p2p:
        task.restarted = True
    att = task.attempts[-1] if task.attempts else None
    if att is None:
        return None
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
        return Change(t, stimulus, task.key, att.number, "done" if finish == "memory" else "failed", att.worker, 0, why)
    if start == "processing":  # taken back before it finished
        att.outcome = "released"
        att.stop = att.stop if att.stop is not None else t
        att.end_cause = why or "released"
        if cleanup and dead and att.address not in dead:  # its worker lives on
            att.end_cause = "shuffle-restart" if p2p else "input-lost"
        return Change(t, stimulus, task.key, att.number, "taken-back", att.worker, 0, att.end_cause)
    if start != "memory":
        return None
    if finish != "forgotten" and cleanup:
        if not dead or att.address in dead:
            att.lost = t
        else:  # a survivor's result, discarded because the shuffle it fed starts over
            att.end_cause = "shuffle-restart" if p2p else "input-lost"
    if finish not in ("released", "forgotten"):
        return None
    if att.lost == t:
        change, cause = "lost", why
    elif cleanup and att.end_cause in SURVIVOR_CAUSES:
        change, cause = "discarded", att.end_cause
    else:  # freed; a result forgotten in a worker's clean-up is lost with it
        change, cause = ("lost" if cleanup and finish == "forgotten" else "released"), why
    return Change(t, stimulus, task.key, att.number, change, att.worker, 0, cause)


def _attach_fetch(ev: dict, owner: dict, t0: float, names: dict) -> None:
    """Attach a worker's dependency fetch to the tasks whose results it moved."""
    for key, nbytes in ev["keys"].items():
        job = owner.get(key)
        if job is not None:
            fetch: Fetch = {"key": key, "nbytes": nbytes, "from": names.get(ev["source"], ev["source"]),
                            "to": names.get(ev["worker"], ev["worker"]), "start": ev["start"] - t0,
                            "stop": ev["stop"] - t0}
            job.fetches.append(fetch)


def _attach_sends(jobs: list[Job], events: list[dict], t0: float, names: dict) -> None:
    """Attach each P2P send to the job whose shuffle it belongs to (by the shuffle id in its tasks' keys)."""
    by_id = {sid: job for job in jobs for sid in map(shuffle_id, {t.group for t in job.dask_tasks.values()}) if sid}
    for ev in events:
        job = by_id.get(ev["shuffle"]) or _job_at(jobs, ev["t"] - t0)
        if job is not None:
            send: Send = {"t": ev["t"] - t0, "shuffle": ev["shuffle"], "from": names.get(ev["source"], ev["source"]),
                          "to": names.get(ev["dest"], ev["dest"]), "nbytes": int(ev.get("nbytes", 0)),
                          "partitions": dict(ev.get("partitions") or {})}
            job.sends.append(send)


def _attach_faults(jobs: list[Job], events: list[dict], t0: float, names: dict) -> None:
    """Attach each injected fault to the job running when it struck (or just ended)."""
    for ev in events:
        job = _job_at(jobs, ev["t"] - t0, GRACE_S)
        if job is not None:
            fault: Fault = {k: v for k, v in ev.items() if k not in ("kind", "worker")}  # type: ignore[assignment]
            fault.update(t=ev["t"] - t0, worker=names.get(ev.get("worker"), ev.get("worker")),
                         address=ev.get("worker"))
            job.faults.append(fault)


def _job_at(jobs: list[Job], t: float, grace: float = 0.0) -> Job | None:
    """The job running at ``t`` (or ending less than ``grace`` seconds before it), else the last one before."""
    for job in reversed(jobs):
        if job.submitted <= t <= (job.end if job.end is not None else job.submitted) + grace:
            return job
    before = [job for job in jobs if job.submitted <= t]
    return before[-1] if before else None


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
