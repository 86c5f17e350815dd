"""Spark's stage rule applied to a recorded Dask graph: stages, Spark-style tasks, the plan.

The data classes :class:`Stage` and :class:`SparkTask` are the contract the
views and the player rely on; :func:`derive_stages` fills them from a job's
recorded graph (pure: no cluster, works on a loaded ``Recording``).

The rule (Spark's)
------------------
A **narrow** dependency (each parent partition feeds at most one child
partition) pipelines into the same stage; a **wide** one starts a new stage.
Dask's graph is read at the level of *layers* (a task group, or one level of a
tree reduction's group) and each edge between two layers is classified:

- *narrow*: every parent task feeds one child task and every child task reads
  one parent task (the same partition): same stage;
- *shuffle*: the plumbing tasks of a Dask shuffle (P2P ``shuffle-transfer`` →
  ``shuffle-barrier`` → ``p2pshuffle`` unpack; task-based ``group`` → ``split``
  → ... → ``taskshuffle`` collect) collapse into one boundary.  The per-input
  write tasks end the map stage (Spark's shuffle write), the per-output read
  tasks start the next stage (shuffle read), everything between is the
  boundary (listed in :attr:`Stage.collapsed`);
- *fan-in*: a child task reads several parent partitions (a tree reduction's
  combine step, a repartition to fewer partitions): a new stage;
- *wide*: a parent task feeds several child tasks outside a shuffle (e.g. a
  scalar broadcast to every partition): a new stage.

Within a stage, the Dask tasks connected by its own edges form one
:class:`SparkTask` (several fused Dask tasks for one partition count once).

Deliberate choices
------------------
- **Tree reductions.** Every level of a tree reduction (Dask's ``*-tree`` /
  combine tasks) belongs to **one "reduce" stage** fed by the map stage over a
  ``"tree-reduce"`` boundary, and the whole tree is **one Spark task** (its
  Dask keys are listed in ``SparkTask.keys``).  That is what Spark runs for the
  same job: partial aggregates in the map stage, one exchange to a single
  partition, one final-aggregate task.  When Dask's tree has more than one task
  the stage's ``note`` says so.
- **The gather to the driver.** ``compute()`` adds one task that concatenates
  the partitions (``repartitiontofewer``); ``to_parquet`` ends with a commit
  barrier.  These are not stages: they are the final gather to the driver
  (``output="driver"``) or the write's commit (``output="memory"``), like
  Spark's ``collect()`` and job commit, which run no stage of their own.
  Their keys are in :attr:`Stage.sink_keys`.  When the job's last step is a
  coalesce Dask added itself (a groupby shuffles into more partitions than
  its ``split_out`` and concatenates them down), the gather reads those
  concatenation tasks and they are folded into the gather too, so the job
  still has Spark's stages; a ``df.repartition(npartitions=k)`` the user wrote
  (seen in the logical plan) stays a "coalesce" stage.  A last stage without such a task
  outputs to the driver when the job asked for one key (``compute()`` of a
  reduction) and to worker memory otherwise (``persist()``).
- Inputs already in memory from an earlier job are not re-counted (Spark
  would show those stages as skipped).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from teachkit.model.stage_graph import Graph, assign_stages, find, union
from teachkit.model.stage_names import SHUFFLE_PLUMBING, aggregation, op_names, stage_name


@dataclass
class SparkTask:
    """One Spark-style task: one partition of one stage (several fused Dask tasks count once)."""

    stage: int  # Stage.id
    partition: int
    keys: list[str]  # the Dask task keys it covers (stringified, see teachkit.record.events.key_str)
    worker: str | None  # friendly name of the worker that produced the final result
    slot: int | None  # 1-based task slot (thread) on that worker
    start: float | None  # seconds since recording start: first compute start among its keys
    stop: float | None  # last compute stop
    attempts: int  # max attempts over its keys (1 = ran once)
    status: str  # "done" | "failed" | "lost" | "pending"

    @property
    def thread(self) -> int | None:
        """The worker thread that ran it, numbered as a task slot (1 ... threads_per_worker)."""
        return self.slot


@dataclass
class Stage:
    """A set of tasks pipelined without data exchange; a shuffle starts a new one."""

    id: int
    name: str  # pipelined operations, e.g. "read → partial count"
    ops: list[str]  # the same as a list
    groups: list[str]  # Dask task group names it contains
    tasks: list[SparkTask]
    parents: list[int]  # parent Stage ids
    boundaries: dict[int, str]  # parent id -> "shuffle" | "tree-reduce" | ...
    output: str  # "shuffle" (feeds a shuffle), "driver" (final gather to the client), "memory" (persist/write)
    start: float | None = None
    end: float | None = None
    shuffle_read_bytes: int = 0
    shuffle_write_bytes: int = 0
    workers: dict[str, int] = field(default_factory=dict)  # friendly name -> tasks run
    note: str | None = None  # a one-sentence difference from Spark, if any
    kind: str = "map"  # "map" (reads its input) | "shuffle" (reads a shuffle) | "reduce" (tree) | "coalesce" | "broadcast"
    collapsed: list[str] = field(default_factory=list)  # shuffle plumbing groups folded into the boundary before it
    sink_keys: list[str] = field(default_factory=list)  # gather/commit tasks after it (not stage tasks)
    job: Any = field(default=None, repr=False, compare=False)

    @property
    def num_tasks(self) -> int:
        """Number of Spark-style tasks (one per partition)."""
        return len(self.tasks)

    @property
    def duration_s(self) -> float:
        """Seconds from the first task's start to the last task's end."""
        if self.start is None or self.end is None:
            return 0.0
        return max(0.0, self.end - self.start)

    def shuffle_view(self):
        """Worker × worker bytes of the shuffle this stage reads or writes (see :func:`teachkit.views.shuffle.shuffle_view`)."""
        from teachkit.views.shuffle import shuffle_view

        return shuffle_view(self)


@dataclass
class Plan:
    """The driver's three plan levels for one job, as data."""

    logical: str | None  # dask-expr expression as written (tree text)
    optimized: str | None  # after ``optimize()``
    stages: list[Stage]  # the physical plan

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data."""
        return {"logical": self.logical, "optimized": self.optimized, "stages": [stage_summary(s) for s in self.stages]}


def build_plan(job) -> Plan:
    """Logical plan, optimised plan and physical plan (``job.stages``) of one job."""
    expr = job.expr or {}
    return Plan(logical=expr.get("logical") or None, optimized=expr.get("optimized") or None, stages=job.stages)


def stage_summary(stage: Stage) -> dict[str, Any]:
    """Plain data for one stage (what ``Recording.summary()`` lists per job)."""
    kinds = sorted(set(stage.boundaries.values()))
    return {
        "id": stage.id,
        "name": stage.name,
        "num_tasks": stage.num_tasks,
        "parents": list(stage.parents),
        "boundary": ", ".join(kinds) if kinds else None,
        "duration_s": round(stage.duration_s, 4),
        "shuffle_read_bytes": stage.shuffle_read_bytes,
        "shuffle_write_bytes": stage.shuffle_write_bytes,
        "workers": dict(stage.workers),
        "output": stage.output,
        "note": stage.note,
    }


def derive_stages(job) -> list[Stage]:
    """Cut one job's recorded Dask graph into Spark-style stages (see the module docstring).

    Linear in the number of tasks and dependencies (about 0.1 s for a
    27,000-task shuffle, see ``benchmarks/stages.py``).

    >>> import teachkit
    >>> job = teachkit.Recording.load(teachkit.example_path("groupby")).jobs[0]
    >>> [(s.name, s.num_tasks, s.output) for s in derive_stages(job)]
    [('read → partial count → reset index → shuffle write', 16, 'shuffle'), ('shuffle read → count', 2, 'driver')]
    """
    g = Graph(job)
    if not g.nodes:
        return []
    layer_order, preds, edge = g.layer_edges()
    plan = assign_stages(g, layer_order, preds, edge)
    return _build(job, g, plan, {lay: i for i, lay in enumerate(layer_order)})


def _build(job, g: Graph, plan: dict, rank: dict) -> list[Stage]:
    stage_of, info, top = plan["stage_of"], plan["info"], plan["find"]
    roots = sorted({s for s in stage_of.values()}, key=lambda s: min(rank[lay] for lay in info[s]["layers"]))
    roots = _topo_stages(roots, {s: {top(p) for p in info[s]["parents"]} - {s} for s in roots})
    ids = {s: i for i, s in enumerate(roots)}
    node_stage = {k: stage_of[g.layer[k]] for k in g.nodes}
    comp = {k: k for k in g.nodes}
    for k in g.nodes:
        for d in g.deps[k]:
            if d in g.node_set and node_stage[d] == node_stage[k]:
                union(comp, k, d)
    members: dict[str, list[str]] = {}
    for k in g.nodes:
        members.setdefault(find(comp, k), []).append(k)
    per_stage: dict[int, list[list[str]]] = {s: [] for s in roots}
    for keys in members.values():
        per_stage[node_stage[keys[0]]].append(keys)
    agg = aggregation([t.prefix for t in g.tasks.values()], (job.expr or {}).get("name") or job.name)
    stages: list[Stage] = []
    for s in roots:
        layers = sorted(info[s]["layers"], key=rank.__getitem__)
        ops = [op for lay in layers for op in op_names(g.tasks[g.layer_keys[lay][0]].prefix, agg, len(g.deps[g.layer_keys[lay][0]]))]
        parents = {ids[top(p)]: b for p, b in info[s]["parents"].items() if top(p) != s}
        stage = Stage(id=ids[s], name="", ops=ops, groups=_unique(g.tasks[k].group for lay in layers for k in g.layer_keys[lay][:1]),
                      tasks=_spark_tasks(ids[s], per_stage[s], g), parents=sorted(parents), boundaries=dict(sorted(parents.items())),
                      output="", kind=info[s]["kind"], job=job)
        stages.append(stage)
    _outputs(job, g, stages, node_stage, ids)
    _shuffle_bytes(job, g, stages, node_stage, ids)
    for stage in stages:
        _finish(stage, stages, g, agg, job)
    return stages


def _spark_tasks(sid: int, comps: list[list[str]], g: Graph) -> list[SparkTask]:
    out = []
    for keys in comps:
        keys.sort(key=g.pos.__getitem__)
        last = g.tasks[keys[-1]]
        finals = [g.tasks[k].final for k in keys]
        att = last.final
        starts = [a.start for a in finals if a is not None and a.start is not None]
        stops = [a.stop for a in finals if a is not None and a.stop is not None]
        if any(a is not None and a.outcome == "erred" for a in finals):
            status = "failed"
        elif all(a is not None and a.outcome == "done" and a.lost is None for a in finals):
            status = "done"
        elif any(a is not None and a.lost is not None for a in finals):
            status = "lost"
        else:
            status = "pending"
        out.append(SparkTask(stage=sid, partition=last.index if last.index is not None else -1, keys=keys,
                             worker=att.worker if att else None, slot=att.slot if att else None,
                             start=min(starts) if starts else None, stop=max(stops) if stops else None,
                             attempts=max(len(g.tasks[k].attempts) for k in keys), status=status))
    out.sort(key=lambda t: (t.partition, t.keys[0]))
    if any(t.partition < 0 for t in out) or len({t.partition for t in out}) < len(out):
        for i, t in enumerate(out):  # partitions not read from the keys: number them
            t.partition = i
    return out


def _outputs(job, g: Graph, stages: list[Stage], node_stage: dict, ids: dict) -> None:
    has_child = {p for s in stages for p in s.parents}
    by_id = {s.id: s for s in stages}
    action = (job.expr or {}).get("action")  # "compute" or "persist", recorded on the client
    sink_kind: dict[int, str] = {}
    fed_by: dict[str, set[int]] = {}  # sink key -> the stages whose results reach it (through other sink tasks)
    for key in sorted(g.sinks, key=g.pos.__getitem__):
        fed_by[key] = set()
        for d in g.deps[key]:
            fed_by[key] |= {ids[node_stage[d]]} if d in node_stage else fed_by.get(d, set())
        for sid in fed_by[key]:
            by_id[sid].sink_keys.append(key)
            sink_kind[sid] = g.sinks[key]
    for s in stages:
        if s.id in has_child:
            s.output = "shuffle"
        elif s.id in sink_kind:
            s.output = "memory" if action == "persist" and sink_kind[s.id] == "driver" else sink_kind[s.id]
        else:  # its tasks hold the job's results: compute() sends them to the client, persist() keeps them
            computed = action == "compute" if action else (len(job.keys) == 1 or "driver" in sink_kind.values())
            s.output = "driver" if computed else "memory"


def _shuffle_bytes(job, g: Graph, stages: list[Stage], node_stage: dict, ids: dict) -> None:
    """Bytes written to / read from shuffles (and from the map side of tree reductions)."""
    by_id = {s.id: s for s in stages}
    events = getattr(job.recording, "events", None) or []
    p2p = Counter()
    for ev in events:
        if ev.get("kind") == "p2p":
            p2p[ev["shuffle"]] += int(ev.get("nbytes", 0))
    stage_of_layer = {g.layer[k]: ids[node_stage[k]] for k in g.nodes}
    for c in g.clusters:
        c["read_stages"] = {stage_of_layer[lay] for lay in c["read"]}
        written = {}
        for lay in c["write"]:
            sid = stage_of_layer[lay]
            nbytes = p2p.get(c["ids"].get(lay), 0) or sum(_nbytes(g.tasks[k]) for k in g.layer_keys[lay])
            written[lay] = nbytes
            by_id[sid].shuffle_write_bytes += nbytes
        for lay in c["read"]:
            by_id[stage_of_layer[lay]].shuffle_read_bytes += sum(written.values())
    for k in g.nodes:  # tree reductions and broadcasts: parents' results cross a stage boundary
        sid = node_stage[k]
        for child_sid in {node_stage[c] for c in g.dependents[k] if c in g.node_set and node_stage[c] != sid}:
            n = _nbytes(g.tasks[k])
            by_id[ids[sid]].shuffle_write_bytes += n
            by_id[ids[child_sid]].shuffle_read_bytes += n


def _nbytes(task) -> int:
    att = task.final
    return int(att.nbytes or 0) if att is not None else 0


def _finish(stage: Stage, stages: list[Stage], g: Graph, agg: str, job) -> None:
    by_id = {s.id: s for s in stages}
    logical = (job.expr or {}).get("logical") or ""
    parent_ops = [op for p in stage.parents for op in by_id[p].ops]
    if stage.kind == "shuffle" and f"partial {agg}" in parent_ops and agg not in stage.ops:
        stage.ops.append(agg)
    sorts_here = stage.kind == "shuffle" or (stage.kind == "coalesce" and stage.num_tasks == 1)
    if sorts_here and "SortValues" in logical and "sort" not in stage.ops:
        stage.ops.append("sort")
    stage.name = stage_name(stage.ops)
    stage.collapsed = sorted({grp for c in g.clusters if stage.id in c.get("read_stages", ()) for grp in c["groups"]})
    workers = Counter(t.worker for t in stage.tasks if t.worker)
    stage.workers = dict(sorted(workers.items()))
    starts = [t.start for t in stage.tasks if t.start is not None]
    stops = [t.stop for t in stage.tasks if t.stop is not None]
    stage.start, stage.end = (min(starts) if starts else None), (max(stops) if stops else None)
    stage.note = _note(stage, by_id, g, logical)


def _note(stage: Stage, by_id: dict, g: Graph, logical: str) -> str | None:
    """One sentence where Dask runs this stage differently from Spark, else ``None``."""
    n_dask = sum(len(t.keys) for t in stage.tasks)
    if stage.kind == "reduce" and "quantiles" in stage.ops:
        return ("Dask finds the sort's split points with this separate job before sorting; Spark also samples "
                "in a separate job, but merges the samples on the driver.")
    if stage.kind == "reduce" and n_dask > stage.num_tasks:
        return (f"Dask combines the partial results in a tree of {n_dask} tasks; Spark sends them through one "
                "exchange to a single reduce task.")
    if stage.kind == "coalesce" and stage.num_tasks == 1 and "SortValues" in logical:
        return ("compute() moved every row into one partition before the sort, so Dask sorts in a single task "
                "without a shuffle; Spark would range-partition the rows with a shuffle.")
    if stage.kind == "coalesce":
        return "Dask concatenates partitions in tasks of their own; Spark's coalesce pipelines into the stage before."
    if stage.kind == "shuffle":
        parents = [by_id[p] for p in stage.parents]
        if ("groupby" in (stage.job.expr or {}).get("name", "") or "GroupBy" in logical or "Count:" in logical) \
                and "split_out=" not in logical and any(f"partial {stage.ops[-1]}" in p.ops for p in parents):
            merged = _coalesced_to(stage, g)
            then = (f"shuffle partitions for this groupby from the number of input partitions, then concatenates "
                    f"them into {merged} (its split_out) on the way to the driver" if merged else
                    "output partitions for this groupby (split_out, about one per 15 input partitions)")
            return f"Dask chose {stage.num_tasks} {then}; Spark would use spark.sql.shuffle.partitions."
        if any(SHUFFLE_PLUMBING.get(g.tasks[k].prefix) == "p2p" for t in stage.tasks for k in t.keys):
            return ("Dask's P2P shuffle moves the rows between workers outside the task graph (transfer → barrier "
                    "→ unpack); Spark's next stage fetches the files the map stage wrote.")
    if stage.output == "driver" and any(g.tasks[k].prefix == "repartitiontofewer" for k in stage.sink_keys):
        merged = _coalesced_to(stage, g)
        if merged:
            return (f"compute() gathers the partitions in Dask tasks on workers ({merged} concatenations Dask added "
                    "to the plan, then one that concatenates those) before the client gets them; Spark's driver "
                    "collects each task's result directly.")
        return ("compute() adds one Dask task that concatenates the partitions on a worker before the client "
                "gets them; Spark's driver collects each task's result directly.")
    return None


def _coalesced_to(stage: Stage, g: Graph) -> int:
    """Tasks of Dask's own coalesce folded into the gather after ``stage`` (0 if none)."""
    keys = set(stage.job.keys) if stage.job is not None else set()
    return sum(1 for k in stage.sink_keys if g.tasks[k].prefix == "repartitiontofewer" and k not in keys
               and all(d not in g.sinks for d in g.deps[k]))


def _unique(items) -> list:
    return list(dict.fromkeys(items))


def _topo_stages(order: list, parents: dict) -> list:
    """Stage roots with parents first (stable for the given order)."""
    done: list = []
    seen: set = set()

    def visit(s):
        if s in seen:
            return
        seen.add(s)
        for p in sorted(parents[s], key=order.index):
            visit(p)
        done.append(s)

    for s in order:
        visit(s)
    return done
