"""Dask's task names, read as Spark's words: which tasks are shuffle plumbing, what a stage does.

Dask's task-group and prefix names are **not public API**; every name the
stage rule relies on is in one of the tables below, so an upgrade that renames
them shows up here (and fails the exact-structure tests in
``tests/test_stages.py``).  Checked against dask/distributed 2026.8.
"""

from __future__ import annotations

import re

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

#: Tasks that end a job after its last stage, and where the result goes.
#: ``compute()`` concatenates the partitions in one task (the gather to the
#: driver); ``to_parquet`` ends with a barrier that commits the write.
SINKS = {"repartitiontofewer": "driver", "finalize": "driver", "finalize-compute": "driver", "toparquetbarrier": "memory"}

#: Readable operation names for Dask prefixes; ``None`` hides an internal step.
OPS: dict[str, str | None] = {
    "make_partition": "read",
    "from_map": "read",
    "from_pandas": "read",
    "from-pandas": "read",
    "read_parquet": "read",
    "read-parquet": "read",
    "readparquetpyarrowfs": "read",
    "read_csv": "read",
    "read-csv": "read",
    "blockwise-read": "read",
    "to_string_dtype": None,  # arrow string conversion
    "operation": None,  # dask-expr's generic name for an unnamed blockwise step
    "call_with_list_arg": None,
    "getitem": None,  # a column selection; with a boolean mask it is a filter (see op_names)
    "gt": None,  # comparisons build a filter's mask
    "ge": None,
    "lt": None,
    "le": None,
    "eq": None,
    "ne": None,
    "mul": "arithmetic",
    "add": "arithmetic",
    "sub": "arithmetic",
    "truediv": "arithmetic",
    "assign": "assign",
    "filter": "filter",
    "reset_index": "reset index",
    "rename": "rename",
    "min": "min",
    "max": "max",
    "repartitionquantiles": "quantiles",
    "repartitiontofewer": "coalesce",
    "toparquetdata": "write parquet",
    "blockwisemerge": "join",
    "merge": "join",
    "shuffle-transfer": "shuffle write",
    "hash-join-transfer": "shuffle write",
    "group-taskshuffle": "shuffle write",
    "group-stage": "shuffle write",
    "shuffle-group": "shuffle write",
    "p2pshuffle": "shuffle read",
    "hashjoinp2p": "shuffle read → join",
    "taskshuffle": "shuffle read",
    "shuffle-collect": "shuffle read",
}

_AGGS = ("count", "sum", "mean", "size", "min", "max", "var", "std", "nunique", "first", "last", "agg", "median")
_TREE = re.compile(r"^(?P<agg>[a-z_]+)-(tree|combine|agg|aggregate)$")


def aggregation(prefixes: list[str], job_name: str | None) -> str:
    """The aggregation a job computes, e.g. ``"count"``: from a ``count-tree`` task or the job's name."""
    for prefix in prefixes:
        m = _TREE.match(prefix)
        if m:
            return m.group("agg")
    words = (job_name or "").replace("←", " ").split()
    for word in words:
        if word in _AGGS:
            return word
    return "aggregate"


def op_names(prefix: str, agg: str, ndeps: int = 1) -> list[str]:
    """The readable operations one Dask prefix stands for (fused prefixes give several).

    >>> op_names("make_partition-fused-assign", "count")
    ['read', 'assign']
    >>> op_names("getitem", "count", ndeps=2), op_names("chunk", "count")
    (['filter'], ['partial count'])
    """
    out: list[str] = []
    for part in prefix.split("-fused-"):
        part = part.lstrip("_")
        if part == "getitem" and ndeps >= 2:
            out.append("filter")
        elif part == "chunk":
            out.append(f"partial {agg}")
        elif _TREE.match(part):
            out.append(agg)
        elif part in OPS:
            if OPS[part] is not None:
                out.append(OPS[part])
        else:
            out.append(part.replace("_", " "))
    return out


def stage_name(ops: list[str]) -> str:
    """``"read → filter → partial count"``: consecutive repeats dropped."""
    kept = [op for i, op in enumerate(ops) if i == 0 or op != ops[i - 1]]
    return " → ".join(kept) if kept else "compute"
