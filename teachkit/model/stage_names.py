"""Dask's task names, read as Spark's words: which tasks are shuffle plumbing, what a stage does.

Dask's task-group and prefix names are **not public API**; every name the
stage rule relies on is in one of the tables below, so an upgrade that renames
them shows up here (and fails the exact-structure tests in
``tests/test_stages.py``).  Checked against dask/distributed 2026.8.

Stage names are the user's operations in Spark's words: ``read``, ``filter``,
``withColumn`` (Dask's ``assign``), ``partial count`` / ``count`` (the two
halves of an aggregation), ``distinct``, ``join``, ``union``, ``sort``,
``coalesce``, ``split`` (a repartition to more partitions, which Spark has no
narrow word for), ``mapInPandas`` (``map_partitions``), ``shuffle write`` /
``shuffle read``, ``write parquet`` / ``write csv``.  Dask's own bookkeeping
(string conversion, column projection, index resets, partition numbers) is
hidden.  Fused tasks are named from the ``Fused(...)`` block of the job's
recorded plan, so a filter fused into an assign keeps its ``filter``.
"""

from __future__ import annotations

import re

from teachkit.model.plan_names import fused_blocks, map_functions, plan_classes

#: Tasks that only implement a shuffle: collapsed into one shuffle boundary.
#: P2P: transfer (one per input partition) -> barrier -> unpack (one per output partition);
#: task-based: group -> split -> (another round: stage-k) -> collect, all visible tasks.
SHUFFLE_PLUMBING = {
    "shuffle-transfer": "p2p",
    "shuffle-barrier": "p2p",
    "p2pshuffle": "p2p",
    "hash-join-transfer": "p2p",
    "hashjoinp2p": "p2p",
    "group-taskshuffle": "tasks",
    "split-taskshuffle": "tasks",
    "taskshuffle": "tasks",
    "group-stage": "tasks",
    "split-stage": "tasks",
    "stage": "tasks",
    "shuffle-group": "tasks",
    "shuffle-split": "tasks",
    "shuffle-join": "tasks",
    "shuffle-collect": "tasks",
}

#: Dask's concatenation of several partitions into one: a coalesce (narrow, in
#: Spark's rule), compute()'s gather, or a merge of map outputs before a shuffle.
MERGE = "repartitiontofewer"

#: Tasks that end a job after its last stage, and where the result goes:
#: compute()'s gather to the driver, and the commit that ends a write.
SINKS = {MERGE: "driver", "finalize": "driver", "finalize-compute": "driver", "toparquetbarrier": "write"}

#: Tasks that write files (a stage holding them outputs to "write").
WRITERS = {"toparquetdata": "write parquet", "write_csv": "write csv", "to_csv": "write csv"}

#: Readable operation names for Dask prefixes; ``None`` hides an internal step.
OPS: dict[str, str | None] = {
    "make_partition": "read", "from_map": "read", "from_pandas": "read", "frompandas": "read",
    "from-pandas": "read", "read_parquet": "read", "read-parquet": "read", "readparquetpyarrowfs": "read",
    "readparquetfsspec": "read", "read_csv": "read", "read-csv": "read", "readcsv": "read", "blockwise-read": "read",
    "to_string_dtype": None,  # arrow string conversion
    "operation": None,  # dask-expr's generic name for an unnamed blockwise step
    "call_with_list_arg": None,
    "getitem": None,  # a column selection; with a boolean mask it is a filter (see Namer.ops)
    "gt": None, "ge": None, "lt": None, "le": None, "eq": None, "ne": None,  # a filter's mask
    "and_": None, "or_": None, "invert": None, "isin": None,
    "mul": "arithmetic", "add": "arithmetic", "sub": "arithmetic", "truediv": "arithmetic",
    "floordiv": "arithmetic", "mod": "arithmetic", "pow": "arithmetic",
    "assign": "withColumn",
    "filter": "filter",
    "getattr": None, "reset_index": None, "to_frame": None, "rename": None, "set_index": None, "astype": None,
    "set_partitions_pre": None, "assign_index": None, "sort_index": "sort", "sort_values": "sort",
    "min": "min", "max": "max",
    "repartitionquantiles": "sample",
    MERGE: "coalesce",
    "split-repartitiontomore": "split", "repartitiontomore": "split",
    "stackpartition": "union", "concat": "union",
    "drop_duplicates": "partial distinct",
    "blockwisemerge": "join", "merge": "join", "merge_chunk": "join",
    "toparquetdata": "write parquet", "write_csv": "write csv", "to_csv": "write csv",
    "shuffle-transfer": "shuffle write", "hash-join-transfer": "shuffle write", "group-taskshuffle": "shuffle write",
    "group-stage": "shuffle write", "shuffle-group": "shuffle write",
    "p2pshuffle": "shuffle read", "hashjoinp2p": "shuffle read → join", "taskshuffle": "shuffle read",
    "shuffle-collect": "shuffle read",
}

#: Expression classes (as a plan prints them) for fused tasks; ``None`` hides one.
EXPR_OPS: dict[str, str | None] = {
    "ArrowStringConversion": None, "Projection": None, "AssignPartitioningIndex": None, "ResetIndex": None,
    "SetIndexBlockwise": None, "ToFrame": None, "ToSeries": None, "RenameFrame": None, "RenameSeries": None,
    "ColumnsSetter": None, "AsType": None, "_SetIndexPost": None, "SetPartition": None, "Index": None,
    "GT": None, "GE": None, "LT": None, "LE": None, "EQ": None, "NE": None, "And": None, "Or": None, "Invert": None,
    "Isin": None, "Mul": "arithmetic", "Add": "arithmetic", "Sub": "arithmetic", "Div": "arithmetic",
    "FloorDiv": "arithmetic", "Mod": "arithmetic", "Pow": "arithmetic",
    "Filter": "filter", "Assign": "withColumn", "MapPartitions": "mapInPandas",
    "BlockwiseMerge": "join", "Merge": "join", "StackPartition": "union", "Concat": "union",
    "SortValuesBlockwise": "sort", "SortIndexBlockwise": "sort", "RepartitionToFewer": "coalesce",
    "RepartitionToMore": "split", "ToParquetData": "write parquet",
}

#: Aggregations as Spark names them, by Dask class or prefix word.
AGGREGATIONS = {
    "count": "count", "size": "count", "len": "count", "valuecounts": "count", "value_counts": "count",
    "sum": "sum", "mean": "mean", "min": "min", "max": "max", "var": "var", "std": "std", "first": "first",
    "last": "last", "median": "median", "nunique": "count distinct", "dropduplicates": "distinct",
    "groupbyaggregation": "aggregate", "decomposablegroupbyaggregation": "aggregate", "agg": "aggregate",
}

_TREE = re.compile(r"^(?P<agg>[a-z_]+)-(tree|combine|agg|aggregate)$")
_HEX_TOKEN = re.compile(r"-[0-9a-f]{8,}$")
_ROLE = re.compile(r"^(?P<cls>\w+)\((?P<role>GroupByChunk|Chunk|Aggregate|TreeReduce|Combine)\)$")
_PARTIAL = ("GroupByChunk", "Chunk")
_COMPARISONS = {"gt", "ge", "lt", "le", "eq", "ne"}


def agg_word(name: str) -> str:
    """Spark's word for an aggregation named by a Dask class or prefix (``"ValueCounts"`` -> ``"count"``)."""
    key = name.replace("_", "").lower()
    return AGGREGATIONS.get(key) or AGGREGATIONS.get(name.lower()) or "aggregate"


def aggregation(prefixes: list[str], job_name: str | None, logical: str | None = None) -> str:
    """The aggregation a job computes, e.g. ``"count"``: from a ``count-tree`` task, the plan or the job's name.

    >>> aggregation(["chunk"], None, "ValueCounts: split_out=True\\n  FromMap: f")
    'count'
    """
    for prefix in prefixes:
        m = _TREE.match(prefix)
        if m:
            return agg_word(m.group("agg"))
    for cls, _ in plan_classes(logical):
        role = _ROLE.match(cls)
        base = role.group("cls") if role else cls
        if base.replace("_", "").lower() in AGGREGATIONS and base.lower() != "dropduplicates":
            return agg_word(base)
    for word in (job_name or "").replace("←", " ").split():
        if word in AGGREGATIONS:
            return agg_word(word)
    return "aggregate"


class Namer:
    """Names the operations of a job's tasks (one instance per job; see the module docstring)."""

    def __init__(self, plan: str = "", agg: str = "aggregate") -> None:
        self.plan = plan
        self.agg = agg
        self.blocks = fused_blocks(plan)
        self.user_functions = map_functions(plan)

    @classmethod
    def for_job(cls, job, prefixes: list[str]) -> Namer:
        """The namer of one job: its recorded plan (logical and optimised) and its aggregation."""
        expr = job.expr or {}
        plan = "\n".join(filter(None, (expr.get("logical"), expr.get("optimized"))))
        return cls(plan, aggregation(prefixes, expr.get("name") or job.name, expr.get("logical")))

    def ops(self, group: str, prefix: str, ndeps: int = 1, dep_prefixes: set[str] = frozenset()) -> list[str]:
        """The operations one Dask task (its group and prefix) stands for, in order (fused tasks give several).

        ``ndeps`` is the task's number of dependencies (a ``getitem`` of two
        inputs is a filter); ``dep_prefixes`` are its inputs' prefixes (an
        ``assign`` of the sort's partition numbers is Dask's, not the user's).

        >>> Namer("Fused(ed244):\\n| Assign: double=\\n|   Filter:\\n|     FromMap: f").ops(
        ...     "make_partition-fused-assign-bc73c3436f5137d343e422169bded244", "make_partition-fused-assign")
        ['read', 'filter', 'withColumn']
        """
        token = _HEX_TOKEN.search(group)
        if token and group[-5:] in self.blocks:
            return [op for cls, args in self.blocks[group[-5:]] for op in self._expr_ops(cls, args)]
        name = group[: token.start()] if token else prefix
        if _known(prefix) and "-fused-" not in name:
            parts = [prefix]
        elif _known(name):
            parts = [name]
        else:  # dask-expr's fused names: first-fused-last, or up to four names joined with "-"
            parts = [p for chunk in name.split("-fused-") for p in _split_known(chunk)]
        out: list[str] = []
        for part in parts:
            out += self._prefix_ops(part.lstrip("_"), ndeps, dep_prefixes)
        return out

    def _prefix_ops(self, part: str, ndeps: int, dep_prefixes: set[str]) -> list[str]:
        if part == "getitem" and ndeps >= 2:
            return ["filter"]
        if part == "assign" and "set_partitions_pre" in dep_prefixes:
            return []  # the partition number a sort's shuffle adds
        if part in ("chunk", "_groupby_apply_funcs", "groupby_apply_funcs"):
            return [f"partial {self.agg}"]
        if _TREE.match(part):
            return [self.agg]
        if part in self.user_functions:
            return ["mapInPandas"]
        if part in OPS:
            return [OPS[part]] if OPS[part] is not None else []
        return [part.replace("_", " ").strip()]

    def _expr_ops(self, cls: str, args: str) -> list[str]:
        role = _ROLE.match(cls)
        if role:
            word = agg_word(role.group("cls"))
            if role.group("cls") == "DropDuplicates":
                word = "distinct"
            return [f"partial {word}" if role.group("role") in _PARTIAL else word]
        if cls.startswith(("From", "Read")):
            return ["read"]
        if cls.startswith("_"):
            return []  # Dask's private steps (a sort's partition numbers, index fix-ups)
        if cls == "Assign" and "_partitions" in args:
            return []
        if cls in EXPR_OPS:
            return [EXPR_OPS[cls]] if EXPR_OPS[cls] is not None else []
        return [re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cls).lower()]


def _known(name: str) -> bool:
    name = name.lstrip("_")
    return name in OPS or name in WRITERS or name in SHUFFLE_PLUMBING or _TREE.match(name) is not None


def _split_known(name: str) -> list[str]:
    """Split a name joined with ``-`` into known prefixes, longest first (``"getitem-operation"``)."""
    words = [w for w in name.split("-") if not w.isdigit()]
    out, i = [], 0
    while i < len(words):
        for j in range(len(words), i, -1):
            piece = "-".join(words[i:j])
            if piece.lstrip("_") in OPS or j == i + 1:
                out.append(piece)
                i = j
                break
    return out


#: Pairs (a, b): ``a`` is hidden when ``b`` follows it in a stage (its work is part of ``b`` in Spark's words).
_FOLDED = {("arithmetic", "withColumn"), ("max", "sample"), ("min", "sample")}


def stage_name(ops: list[str]) -> str:
    """``"read → filter → partial count"``: repeats and steps folded into the next one dropped.

    >>> stage_name(["read", "filter", "arithmetic", "withColumn", "withColumn"])
    'read → filter → withColumn'
    """
    kept = [op for i, op in enumerate(ops) if not any((op, later) in _FOLDED for later in ops[i + 1:])]
    kept = [op for i, op in enumerate(kept) if i == 0 or op != kept[i - 1]]
    return " → ".join(kept) if kept else "compute"


def op_names(prefix: str, agg: str, ndeps: int = 1) -> list[str]:
    """The readable operations one Dask prefix stands for, without a job's plan.

    >>> op_names("make_partition-fused-assign", "count")
    ['read', 'withColumn']
    >>> op_names("getitem", "count", ndeps=2), op_names("chunk", "count")
    (['filter'], ['partial count'])
    """
    return Namer(agg=agg).ops(prefix, prefix, ndeps)
