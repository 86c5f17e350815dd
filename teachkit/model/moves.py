"""Data that moves between stages and to the driver: each stage boundary resolved once, and the final gather.

:func:`boundaries` pairs every stage with each parent it reads from and finds,
once, what crossed that boundary: for a P2P shuffle, its shuffle ids (read from
the Dask keys of the stages on both sides) and the sends the job recorded for
them; for other boundaries (a task-based shuffle, a tree reduction), the
dependency fetches of the parent's results.  Every view that labels or draws a
boundary (the stage DAG's edges, the task DAG's exchange node, the shuffle
matrix, the timeline's P2P arrows, the player's captions) reads these numbers.
:func:`job_result` says what the driver gathers at the end of a ``compute()``.

>>> import teachkit
>>> job = teachkit.Recording.load(teachkit.example_path("groupby")).jobs[0]
>>> [(b.parent, b.child, b.kind, b.shuffles == sorted({s["shuffle"] for s in job.sends})) for b in job.boundaries]
[(0, 1, 'shuffle', True)]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from teachkit.record.dask_names import shuffle_id

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.job import Job


@dataclass
class Boundary:
    """What separates stage ``child`` from its parent stage ``parent``, and what crossed it."""

    parent: int
    child: int
    kind: str  # "shuffle" | "tree-reduce" | "coalesce" | "broadcast" (teachkit.model.vocabulary.BoundaryKind)
    nbytes: int  # the bytes every view shows for it (0: not known)
    shuffles: list[str] = field(default_factory=list)  # P2P shuffle ids
    sends: list[dict] = field(default_factory=list)  # the P2P sends of those shuffles (teachkit.model.job.Send)
    fetches: list[dict] = field(default_factory=list)  # fetches of parent-side results (teachkit.model.job.Fetch)
    local: list[tuple[str, int]] = field(default_factory=list)  # (worker, bytes) child tasks read where they ran

    @property
    def source(self) -> str:
        """Where the bytes come from: ``"P2P shuffle sends"`` or ``"dependency transfers"``."""
        return "P2P shuffle sends" if self.sends else "dependency transfers"

    def matrix(self) -> dict[str, dict[str, int]]:
        """Worker × worker bytes: ``{from: {to: bytes}}`` (a worker's own results it read count on the diagonal)."""
        out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        if self.sends:
            for s in self.sends:
                out[s["from"]][s["to"]] += s["nbytes"]
        else:
            for f in self.fetches:
                if f["from"] and f["to"]:
                    out[f["from"]][f["to"]] += f["nbytes"] or 0
            for worker, nbytes in self.local:
                out[worker][worker] += nbytes
        return {a: dict(b) for a, b in out.items()}

    def partitions(self) -> dict[int, dict[str, Any]]:
        """P2P only: per **input** partition, the worker that split it and the bytes it sent to each worker."""
        parts: dict[int, dict[str, Any]] = {}
        for s in self.sends:
            for p, n in s["partitions"].items():
                row = parts.setdefault(int(p), {"source": s["from"], "to": defaultdict(int)})
                row["to"][s["to"]] += n
        return {p: {"source": r["source"], "to": dict(r["to"])} for p, r in sorted(parts.items())}


def boundaries(job: Job, stages: list | None = None) -> list[Boundary]:
    """Every boundary between two stages of ``job`` (default: ``job.stages``), in the order of the child stages."""
    stages = list(job.stages) if stages is None else stages
    by_id = {s.id: s for s in stages}
    children: dict[int, int] = defaultdict(int)
    for s in stages:
        for p in s.parents:
            children[p] += 1
    ids = {s.id: {sid for t in s.tasks for k in t.keys for sid in [shuffle_id(k)] if sid} for s in stages}
    sends: dict[str, list[dict]] = defaultdict(list)
    for send in job.sends:
        sends[send["shuffle"]].append(send)
    owner = {k: (s.id, t) for s in stages for t in s.tasks for k in t.keys}
    out = []
    for s in stages:
        for p in s.parents:
            kind = s.boundaries.get(p, "shuffle")
            shuffles = sorted(ids[p] & ids[s.id]) or (sorted(ids[s.id]) if kind == "shuffle" else [])
            b = Boundary(parent=p, child=s.id, kind=kind, nbytes=0, shuffles=shuffles,
                         sends=[x for sid in shuffles for x in sends.get(sid, [])])
            if not b.sends:
                b.fetches, b.local = _fetched(job, owner, p, s.id)
            b.nbytes = _nbytes(b, by_id[p], s, children[p])
            out.append(b)
    return out


def _fetched(job: Job, owner: dict, parent: int, child: int) -> tuple[list[dict], list[tuple[str, int]]]:
    """Fetches of parent-side results (or of shuffle plumbing), and the results child tasks read locally."""
    fetches = [f for f in job.fetches if owner.get(f["key"], (parent,))[0] == parent]
    local = []
    for key, (sid, _) in owner.items():
        task = job.dask_tasks.get(key)
        final = task.final if sid == child and task is not None else None
        for d in task.deps if final is not None else ():
            dep = job.dask_tasks.get(d)
            src = dep.final if dep is not None else None
            if src is not None and owner.get(d, (parent,))[0] == parent and src.worker == final.worker:
                local.append((src.worker, src.nbytes or 0))
    return fetches, local


def _nbytes(b: Boundary, parent: Any, child: Any, parent_children: int) -> int:
    """The bytes that crossed: the P2P sends if recorded, else the parent's written (or the child's read) bytes."""
    if b.sends:
        return sum(s["nbytes"] for s in b.sends)
    if parent_children == 1 and parent.shuffle_write_bytes:
        return parent.shuffle_write_bytes
    if len(child.parents) == 1:
        return child.shuffle_read_bytes
    return 0


def crossing(stage: Any) -> list[Boundary]:
    """The boundaries a stage's data crosses: the shuffles it reads, else the ones it writes, else any other."""
    job = stage.job
    every = job.boundaries if job is not None else []
    for pick in (lambda b: b.child == stage.id and b.kind == "shuffle",
                 lambda b: b.parent == stage.id and b.kind == "shuffle",
                 lambda b: b.child == stage.id,
                 lambda b: b.parent == stage.id):
        found = [b for b in every if pick(b)]
        if found:
            return found
    return []


@dataclass
class Result:
    """What the driver gathers at the end of a ``compute()``: the job's output keys, from the workers that hold them."""

    t: float  # when the driver has it: the client let go of the keys, else the last one finished
    keys: list[str]
    nbytes: int
    workers: dict[str, int]  # worker name -> bytes it sends to the driver
    released: bool  # the recording saw the client let go of the keys (it had the result by then)


def job_result(job: Job) -> Result | None:
    """The final gather of ``job``, or ``None`` (results kept on the workers, written out, or never finished)."""
    if not any(s.output == "driver" for s in job.stages):
        return None
    finals = [job.dask_tasks[k].final for k in job.keys if k in job.dask_tasks]
    if not finals or any(a is None or a.outcome != "done" for a in finals):
        return None
    keys = set(job.keys)
    done = [c.t for c in job.changes if c.key in keys and c.change == "done"]
    freed = [c.t for c in job.changes if c.key in keys and c.change == "released" and c.t >= max(done)]
    workers: dict[str, int] = defaultdict(int)
    for a in finals:
        workers[a.worker or "a worker"] += a.nbytes or 0
    return Result(t=min(freed) if freed else max(done), keys=sorted(keys), nbytes=sum(workers.values()),
                  workers=dict(sorted(workers.items())), released=bool(freed))
