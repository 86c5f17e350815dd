"""Spark's stage rule applied to a recorded Dask graph: stages, Spark-style tasks, the plan.

The data classes :class:`Stage` and :class:`SparkTask` are the contract the
views and the player rely on; :func:`derive_stages` fills them from a job's
recorded graph (pure: no cluster, works on a loaded ``Recording``).

The rule (Spark's)
------------------
A **narrow** dependency pipelines into the same stage; a **wide** one starts a
new stage.  Dask's graph is read at the level of *layers* (a task group, or
one level of a tree reduction's group) and each edge between two layers is
classified (:meth:`teachkit.model.stage_graph.Graph.layer_edges`):

- *narrow*: every parent task feeds one child task and every child task reads
  one parent task: same stage;
- *coalesce*: a ``repartitiontofewer`` task reads several parent partitions,
  each feeding only it (``df.repartition(npartitions=k)`` to fewer): **narrow**,
  as Spark's ``coalesce``: same stage, one Spark task per coalesced partition,
  covering the parent partitions it merges;
- *split*: each child reads one parent partition, a parent feeds several
  children (``repartition`` to more partitions): narrow in Spark's rule (a
  child that reads one parent partition needs no exchange): same stage, one
  Spark task per output partition;
- *shuffle*: the plumbing tasks of a Dask shuffle (P2P ``shuffle-transfer`` →
  ``shuffle-barrier`` → ``p2pshuffle`` unpack; task-based ``group`` → ``split``
  → ... → ``taskshuffle`` collect) collapse into one boundary.  The per-input
  write tasks end the map stage (Spark's shuffle write), the per-output read
  tasks start the next stage (shuffle read), everything between is the
  boundary (listed in :attr:`Stage.collapsed`), **including Dask's own merge of
  map outputs right before a task-based shuffle** (a groupby's ``split_out`` /
  ``split_every``), which Spark does not do: the shuffle-reading stage's note says so;
- *fan-in*: a child combines several parent partitions (a tree reduction's
  combine step): a new stage (see the tree choice below);
- *wide*: a parent feeds several children that also read another input (the
  small side of a broadcast join, a scalar sent to every partition): a new
  stage behind a ``"broadcast"`` boundary.

Within a stage, the Dask tasks connected by its own edges form one
:class:`SparkTask` (several fused Dask tasks for one partition count once); a
task that a split hands to several output partitions belongs to the first.

Vocabulary
----------
``Stage.kind``: ``"map"`` (starts from its input: files, memory or a
broadcast), ``"shuffle"`` (starts by reading a shuffle), ``"reduce"`` (a tree
reduction's final aggregate).  ``Stage.boundaries`` values: ``"shuffle"``,
``"tree-reduce"``, ``"broadcast"`` (and ``"narrow"`` in the rare case where a
stage also reads an earlier stage's results directly).  ``Stage.output``:
``"shuffle"`` (feeds a later stage through a shuffle or tree reduction),
``"broadcast"`` (sent whole to every task of a later stage), ``"driver"``
(the result goes to the client), ``"memory"`` (``persist()``) or
``"write"`` (files: ``to_parquet``, ``to_csv``).

Deliberate choices
------------------
- **Tree reductions.** Every level of a tree reduction (Dask's ``*-tree`` /
  combine tasks) belongs to **one "reduce" stage** fed by the map stage over a
  ``"tree-reduce"`` boundary, and the whole tree is **one Spark task** (its
  Dask keys are listed in ``SparkTask.keys``).  That is what Spark runs for the
  same job: partial aggregates in the map stage, one exchange to a single
  partition, one final-aggregate task.  When Dask's tree has more than one task
  the stage's ``note`` says so.
- **The gather to the driver and the write's commit.** ``compute()`` adds one
  task that concatenates the partitions (``repartitiontofewer``);
  ``to_parquet`` ends with a commit barrier.  These are not stages: they are
  the final gather to the driver (``output="driver"``) or the write's commit
  (``output="write"``), like Spark's ``collect()`` and job commit, which run
  no stage of their own.  Their keys are in :attr:`Stage.sink_keys`.
  ``persist()`` has no gather: its last stage outputs to ``"memory"``.
- Inputs already in memory from an earlier job are not re-counted (Spark
  would show those stages as skipped).

Where Dask runs a different job than Spark would (a tree, a split without a
shuffle, a merge before a shuffle, a broadcast without the driver, ...), the
stage's ``note`` names the difference (:mod:`teachkit.model.stage_notes`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from teachkit.model.plan_names import plan_classes
from teachkit.model.stage_graph import Graph, assign_stages, spark_task_keys, topo_stages, user_repartitions
from teachkit.model.stage_names import WRITERS, Namer, stage_name
from teachkit.model.stage_notes import stage_note


@dataclass
class SparkTask:
    """One Spark-style task: one partition of one stage (several fused Dask tasks count once)."""

    stage: int  # Stage.id
    partition: int
    keys: list[str]  # the Dask task keys it covers (stringified by the record layer's key_str)
    worker: str | None  # friendly name of the worker that produced the final result
    slot: int | None  # 1-based task slot (thread) on that worker
    start: float | None  # seconds since recording start: first compute start among its keys
    stop: float | None  # last compute stop
    attempts: int  # max attempts over its keys (1 = ran once)
    status: str  # "done" | "failed" | "lost" | "pending"


@dataclass
class Stage:
    """A set of tasks pipelined without data exchange; a shuffle starts a new one."""

    id: int
    name: str  # pipelined operations, e.g. "read → partial count"
    ops: list[str]  # the same as a list
    groups: list[str]  # Dask task group names it contains
    tasks: list[SparkTask]
    parents: list[int]  # parent Stage ids
    boundaries: dict[int, str]  # parent id -> "shuffle" | "tree-reduce" | "broadcast" (see the module docstring)
    # "shuffle" | "broadcast" (feeds a later stage), "driver" (to the client), "memory" (persist), "write" (files)
    output: str
    start: float | None = None
    end: float | None = None
    shuffle_read_bytes: int = 0
    shuffle_write_bytes: int = 0
    workers: dict[str, int] = field(default_factory=dict)  # friendly name -> tasks run
    note: str | None = None  # where Dask runs this stage differently from Spark: one sentence per difference
    kind: str = "map"  # "map" (reads its input) | "shuffle" (reads a shuffle) | "reduce" (a tree reduction)
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
    [('read → partial count → shuffle write', 16, 'shuffle'), ('shuffle read → count', 2, 'driver')]
    """
    g = Graph(job)
    if not g.nodes:
        return []
    layer_order, preds, edge = g.layer_edges()
    plan = assign_stages(g, layer_order, preds, edge)
    return _build(job, g, plan, {lay: i for i, lay in enumerate(layer_order)}, edge)


def _build(job, g: Graph, plan: dict, rank: dict, edge: dict) -> list[Stage]:
    stage_of, info, top = plan["stage_of"], plan["info"], plan["find"]
    roots = sorted({s for s in stage_of.values()}, key=lambda s: min(rank[lay] for lay in info[s]["layers"]))
    roots = topo_stages(roots, {s: {top(p) for p in info[s]["parents"]} - {s} for s in roots})
    ids = {s: i for i, s in enumerate(roots)}
    node_stage = {k: stage_of[g.layer[k]] for k in g.nodes}
    per_stage: dict[int, list[list[str]]] = {s: [] for s in roots}
    for keys in spark_task_keys(g, node_stage, edge):
        per_stage[node_stage[keys[0]]].append(keys)
    namer = Namer.for_job(job, [t.prefix for t in g.tasks.values()])
    stages: list[Stage] = []
    for s in roots:
        layers = sorted(info[s]["layers"], key=rank.__getitem__)
        ops = [op for lay in layers for op in _layer_ops(g, lay, namer)]
        parents = {ids[top(p)]: b for p, b in info[s]["parents"].items() if top(p) != s}
        stage = Stage(id=ids[s], name="", ops=ops, groups=_unique(g.tasks[k].group for lay in layers for k in g.layer_keys[lay][:1]),
                      tasks=_spark_tasks(ids[s], per_stage[s], g), parents=sorted(parents), boundaries=dict(sorted(parents.items())),
                      output="", kind=info[s]["kind"], job=job)
        stages.append(stage)
    _outputs(job, g, stages, node_stage, ids)
    _shuffle_bytes(job, g, stages, node_stage, ids)
    for stage in stages:
        _finish(stage, stages, g, job)
    return stages


def _layer_ops(g: Graph, lay: tuple, namer: Namer) -> list[str]:
    key = g.layer_keys[lay][0]
    task = g.tasks[key]
    ops = namer.ops(task.group, task.prefix, len(g.deps[key]), {g.tasks[d].prefix for d in g.deps[key]})
    if task.deps and not g.deps[key]:  # it reads results an earlier job kept in memory (persist)
        # dask-expr reads a persisted collection through alias tasks (FromGraph) named after its last step
        return ["read from memory"] if "FromGraph" in namer.plan else ["read from memory", *ops]
    return ops


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
    child_boundaries: dict[int, set[str]] = {}
    for s in stages:
        for p, b in s.boundaries.items():
            child_boundaries.setdefault(p, set()).add(b)
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
        writes = any(g.tasks[k].prefix in WRITERS for t in s.tasks for k in t.keys)
        if s.id in child_boundaries:
            s.output = "broadcast" if child_boundaries[s.id] == {"broadcast"} else "shuffle"
        elif writes or sink_kind.get(s.id) == "write":
            s.output = "write"
        elif s.id in sink_kind:
            s.output = "memory" if action == "persist" else sink_kind[s.id]
        else:  # its tasks hold the job's results: compute() sends them to the client, persist() keeps them
            computed = action == "compute" if action else (len(job.keys) == 1 or "driver" in sink_kind.values())
            s.output = "driver" if computed else "memory"


def _shuffle_bytes(job, g: Graph, stages: list[Stage], node_stage: dict, ids: dict) -> None:
    """Bytes written to / read from shuffles (and from the map side of tree reductions)."""
    by_id = {s.id: s for s in stages}
    p2p = Counter()
    for send in job.sends:  # P2P shuffle batches, attached to the job by the model
        p2p[send["shuffle"]] += int(send.get("nbytes") or 0)
    stage_of_layer = {g.layer[k]: ids[node_stage[k]] for k in g.nodes}
    for c in g.clusters:
        c["read_stages"] = {stage_of_layer[lay] for lay in c["read"]}
        c["write_stages"] = {stage_of_layer[lay] for lay in c["write"]}
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


def _finish(stage: Stage, stages: list[Stage], g: Graph, job) -> None:
    by_id = {s.id: s for s in stages}
    logical = (job.expr or {}).get("logical") or ""
    if stage.kind == "shuffle":  # the final half of each aggregation the map side began
        parent_ops = [op for p in stage.parents for op in by_id[p].ops]
        finals = [op[len("partial "):] for op in _unique(parent_ops) if op.startswith("partial ")]
        at = stage.ops.index("shuffle read") + 1 if "shuffle read" in stage.ops else 0
        stage.ops[at:at] = [op for op in finals if op not in stage.ops]
    sorts = bool(SORTS & {cls for cls, _ in plan_classes(logical)})
    first_shuffle = next((s for s in stages if s.kind == "shuffle"), None) is stage  # a sort shuffles first
    if sorts and "sort" not in stage.ops and (first_shuffle or _sorts_in_one_task(stage, g)):
        at = stage.ops.index("shuffle read") + 1 if "shuffle read" in stage.ops else len(stage.ops)
        stage.ops.insert(at, "sort")
    if stage.kind == "shuffle" and "coalesce" in stage.ops and not _users_coalesce(stage, g, logical):
        stage.ops.remove("coalesce")  # Dask's own merge after its shuffle: the note tells it, the name is the user's
    if stage.kind == "reduce" and set(stage.ops) == {"sample"}:
        stage.ops = ["split points"]
    if stage.output == "shuffle" and not any(op.startswith("shuffle write") for op in stage.ops) \
            and any(c["merges"] for c in g.clusters if stage.id in c.get("write_stages", ())):
        stage.ops.append("shuffle write")  # Dask merged the map outputs before its shuffle tasks
    stage.name = stage_name(stage.ops)
    stage.collapsed = sorted({grp for c in g.clusters if stage.id in c.get("read_stages", ()) for grp in c["groups"]})
    workers = Counter(t.worker for t in stage.tasks if t.worker)
    stage.workers = dict(sorted(workers.items()))
    starts = [t.start for t in stage.tasks if t.start is not None]
    stops = [t.stop for t in stage.tasks if t.stop is not None]
    stage.start, stage.end = (min(starts) if starts else None), (max(stops) if stops else None)
    stage.note = stage_note(stage, by_id, g, logical)


#: Plan classes of a sort (as written, or as persist() leaves it): the stage after its shuffle sorts.
SORTS = {"SortValues", "SetIndex", "SortValuesBlockwise", "SortIndexBlockwise"}


def _users_coalesce(stage: Stage, g: Graph, logical: str) -> bool:
    """Whether the coalesce in this stage is one the user wrote (its partition count is in the plan)."""
    made = sum(1 for t in stage.tasks for k in t.keys if g.tasks[k].prefix == "repartitiontofewer")
    return made in (user_repartitions(logical) or set())


def _sorts_in_one_task(stage: Stage, g: Graph) -> bool:
    """compute() of a sort: Dask moved every row into one partition and sorts there (no shuffle)."""
    return stage.num_tasks == 1 and not stage.parents and any(
        g.tasks[k].prefix == "repartitiontofewer" for t in stage.tasks for k in t.keys)


def _unique(items) -> list:
    return list(dict.fromkeys(items))
