"""Every Dask name teachkit knows, in one table each: stimulus ids, task prefixes, log topics, dask-expr classes.

Dask's stimulus ids, task-prefix names, log topics and dask-expr class names
are **not public API**: an upgrade may rename them.  Everything the recorder,
the model and the stage rule read by name is listed here (the stage rule's
logic, which reads these names as Spark's words, is
:mod:`teachkit.model.stage_names`), so such a rename shows up in one file and
fails the exact-structure tests on the shipped recordings and in
``tests/test_stages.py``.  Checked against dask/distributed 2026.8.  This
module imports nothing, so every layer can use it.

>>> cause_of("handle-worker-cleanup-1795494357.04"), cause_of("task-finished-1795494357.1")
('worker-lost', None)
>>> shuffle_id("shuffle-transfer-a7ea21|3"), shuffle_id("p2pshuffle-a7ea21|0"), shuffle_id("chunk-99|0")
('a7ea21', 'a7ea21', None)
"""

from __future__ import annotations

# -- the scheduler's stimulus ids ------------------------------------------------------------
#: Stimulus-id prefixes that say why a task changed state, and the cause teachkit calls it.
STIMULUS_CAUSES = (
    ("handle-worker-cleanup", "worker-lost"),
    ("remove-worker", "worker-lost"),
    ("nanny-close", "worker-lost"),  # a Nanny reports its worker process died (e.g. SIGKILL)
    ("reschedule", "rescheduled"),
    ("steal", "stolen"),
)
#: Words in ``remove_worker``'s stimulus id: the worker died, or was retired on purpose.
WORKER_LOST_WORDS = ("heartbeat", "stream", "handle-worker-cleanup", "nanny-close")
WORKER_RETIRED_WORDS = ("retire",)
#: Stimulus-id prefix of the client letting go of its futures (e.g. once ``compute()`` has the result).
CLIENT_RELEASES = "client-releases-keys"


_CAUSE_PREFIXES = tuple(prefix for prefix, _ in STIMULUS_CAUSES)


def cause_of(stimulus: str | None) -> str | None:
    """Map a scheduler stimulus id to a short cause name (``None`` if ordinary)."""
    if not stimulus or not stimulus.startswith(_CAUSE_PREFIXES):  # most stimuli: one call
        return None
    return next(cause for prefix, cause in STIMULUS_CAUSES if stimulus.startswith(prefix))


def removal_cause(stimulus: str) -> str:
    """Why a worker left the scheduler, from ``remove_worker``'s stimulus id: lost, retired or closed.

    >>> removal_cause("handle-worker-cleanup-1.5"), removal_cause("retire-workers-2"), removal_cause("x")
    ('lost', 'retired', 'closed')
    """
    if any(word in stimulus for word in WORKER_LOST_WORDS):
        return "lost"
    if any(word in stimulus for word in WORKER_RETIRED_WORDS):
        return "retired"
    return "closed"


# -- task prefixes --------------------------------------------------------------------------------
#: Prefixes of a P2P shuffle's own tasks (transfer, barrier, unpack), joins and rechunks included.
P2P_PREFIXES = ("shuffle-transfer", "shuffle-barrier", "p2pshuffle", "hash-join", "rechunk-transfer", "rechunk-p2p",
                "merge-transfer")
#: Key names of P2P tasks that end in the shuffle's id (``shuffle-transfer-<id>``): the longest first.
P2P_KEY_NAMES = ("hash-join-transfer", "shuffle-transfer", "shuffle-barrier", "rechunk-transfer", "merge-transfer",
                 "hashjoinp2p", "p2pshuffle", "rechunk-p2p")
#: P2P unpack tasks: each builds one output partition on the worker that received its rows.
P2P_UNPACK_PREFIXES = ("p2pshuffle", "hashjoinp2p", "rechunk-p2p")


def is_p2p_prefix(prefix: str) -> bool:
    """Whether a task prefix belongs to a P2P shuffle's own tasks (transfer, barrier, unpack)."""
    return prefix.startswith(P2P_PREFIXES)


def shuffle_id(key: str) -> str | None:
    """The P2P shuffle id in a P2P task's key (the one ``p2p`` events carry), else ``None``."""
    name = key.split("|", 1)[0]
    for prefix in P2P_KEY_NAMES:
        if name.startswith(prefix + "-") and len(name) > len(prefix) + 1:
            return name[len(prefix) + 1:]
    return None


# -- the scheduler's log topics and extensions ----------------------------------------------------
#: Work stealing is logged under this topic (``("confirm", key, state, victim, thief, stimulus)``).
STEALING_TOPIC = "stealing"
#: The scheduler extension that names spans (``distributed.span``).
SPANS_EXTENSION = "spans"
#: Where the worker's P2P shuffle run class lives (its ``send`` is wrapped to count bytes).
SHUFFLE_RUN = ("distributed.shuffle._core", "ShuffleRun")

# -- dask-expr, on the client -----------------------------------------------------------------------
#: Wrappers dask puts around the collections of one compute/persist call.
EXPR_WRAPPERS = ("FinalizeCompute", "_ExprSequence", "ExprSequence")
#: Expression classes that say nothing about what a job does (skipped when naming it).
EXPR_UNNAMED = frozenset({"FinalizeCompute", "FinalizeComputeDF", "Fused", "ArrowStringConversion", "Repartition"})
#: Calling functions that hold the collections (in a local named ``collections``) and name the action.
ACTION_FUNCTIONS = ("compute", "persist")


# -- task prefixes the stage rule reads ------------------------------------------------------------
#: Tasks that only implement a shuffle, collapsed into one shuffle boundary, and the method they belong to.
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
#: Dask's concatenation of several partitions into one: a coalesce (narrow, in Spark's rule), compute()'s
#: gather, or a merge of map outputs before a shuffle.
REPARTITION_TO_FEWER = "repartitiontofewer"
#: A repartition to more partitions: each partition split into pieces, without a shuffle.
REPARTITION_TO_MORE = "repartitiontomore"
#: Tasks that end a job after its last stage, and where the result goes: compute()'s gather to the driver,
#: and the commit that ends a write.
SINKS = {REPARTITION_TO_FEWER: "driver", "finalize": "driver", "finalize-compute": "driver",
         "toparquetbarrier": "write"}
#: Tasks that write files (a stage holding them outputs to "write"), and their operation's name.
WRITERS = {"toparquetdata": "write parquet", "write_csv": "write csv", "to_csv": "write csv"}
#: Readable operation names for Dask prefixes; ``None`` hides an internal step.
OPS: dict[str, str | None] = {
    "make_partition": "read", "from_map": "read", "from_pandas": "read", "frompandas": "read",
    "from-pandas": "read", "read_parquet": "read", "read-parquet": "read", "readparquetpyarrowfs": "read",
    "readparquetfsspec": "read", "read_csv": "read", "read-csv": "read", "readcsv": "read", "blockwise-read": "read",
    "to_string_dtype": None,  # arrow string conversion
    "operation": None,  # dask-expr's generic name for an unnamed blockwise step
    "call_with_list_arg": None,
    "getitem": None,  # a column selection; with a boolean mask it is a filter (see GETITEM)
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
    REPARTITION_TO_FEWER: "coalesce",
    "split-repartitiontomore": "split", REPARTITION_TO_MORE: "split",
    "stackpartition": "union", "concat": "union",
    "drop_duplicates": "partial distinct",
    "blockwisemerge": "join", "merge": "join", "merge_chunk": "join",
    "toparquetdata": "write parquet", "write_csv": "write csv", "to_csv": "write csv",
    "shuffle-transfer": "shuffle write", "hash-join-transfer": "shuffle write", "group-taskshuffle": "shuffle write",
    "group-stage": "shuffle write", "shuffle-group": "shuffle write",
    "p2pshuffle": "shuffle read", "hashjoinp2p": "shuffle read → join", "taskshuffle": "shuffle read",
    "shuffle-collect": "shuffle read",
}
#: A column selection: with two inputs (a frame and a boolean mask) it is a filter.
GETITEM = "getitem"
#: An assign; fed by a sort's partition numbers (``SORT_PARTITIONS``) it is Dask's, not the user's withColumn.
ASSIGN = "assign"
SORT_PARTITIONS = "set_partitions_pre"
#: The map side of an aggregation ("partial count" ...).
PARTIAL_AGG_PREFIXES = ("chunk", "_groupby_apply_funcs", "groupby_apply_funcs")
#: Steps of a tree reduction: prefixes ``<aggregation>-<step>``, e.g. ``count-tree``, ``sum-combine``.
TREE_STEPS = ("tree", "combine", "agg", "aggregate")
#: Key names dask-expr gives fused tasks: ``first-fused-last-<token>``.
FUSED_MARK = "-fused-"

# -- dask-expr classes, as a recorded plan prints them ------------------------------------------------
#: Operation names of expression classes (fused tasks are named from the plan's ``Fused(...)`` block);
#: ``None`` hides one.
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
#: Aggregations as Spark names them, by Dask class or prefix word (compared without ``_`` and in lower case).
AGGREGATIONS = {
    "count": "count", "size": "count", "len": "count", "valuecounts": "count", "value_counts": "count",
    "sum": "sum", "mean": "mean", "min": "min", "max": "max", "var": "var", "std": "std", "first": "first",
    "last": "last", "median": "median", "nunique": "count distinct", "dropduplicates": "distinct",
    "groupbyaggregation": "aggregate", "decomposablegroupbyaggregation": "aggregate", "agg": "aggregate",
}
#: The roles an aggregation's expression plays in a lowered plan (``Count(Chunk)``), and the map-side ones.
AGG_ROLES = ("GroupByChunk", "Chunk", "Aggregate", "TreeReduce", "Combine")
PARTIAL_ROLES = ("GroupByChunk", "Chunk")
#: The class of a distinct (``drop_duplicates``).
DISTINCT = "DropDuplicates"
#: Class-name beginnings of the expressions that read data.
READ_CLASS_PREFIXES = ("From", "Read")
#: How dask-expr reads a collection an earlier job persisted.
FROM_GRAPH = "FromGraph"
#: Plan classes of a sort (as written, or as persist() leaves it): the stage after its shuffle sorts.
SORT_CLASSES = frozenset({"SortValues", "SetIndex", "SortValuesBlockwise", "SortIndexBlockwise"})
#: Plan classes of a repartition (``Repartition``, ``RepartitionToFewer`` ...), and their arguments.
REPARTITION_CLASS = "Repartition"
NEW_PARTITIONS_ARG = "new_partitions"
#: An aggregation's number of output partitions, as a written plan shows it when the user chose it.
SPLIT_OUT_ARG = "split_out"
#: An optimised plan's shuffle, which no longer says whether the user chose ``split_out``.
SHUFFLE_NPARTITIONS_OUT = "Shuffle: npartitions_out="
#: An assign (the class), and its argument that holds a sort's partition numbers.
ASSIGN_CLASS = "Assign"
PARTITIONS_ARG = "_partitions"
#: The class that calls a user's function on each partition (``map_partitions``), and its argument.
MAP_PARTITIONS = "MapPartitions"
#: The header of a block of fused expressions in a printed plan: ``Fused(ab123):``.
FUSED_BLOCK = "Fused"
