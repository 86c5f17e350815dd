"""Dask's task names, read as Spark's words: which tasks are shuffle plumbing, what a stage does.

Dask's task-group and prefix names are **not public API**; every name the
stage rule relies on is in one of the tables of
:mod:`teachkit.record.dask_names` (the one home of the Dask names the kit
knows), so an upgrade that renames them shows up there (and fails the
exact-structure tests in ``tests/test_stages.py``).  This module is the logic
that reads those names as Spark's words.

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
from teachkit.record.dask_names import (AGG_ROLES, AGGREGATIONS, ASSIGN, ASSIGN_CLASS, DISTINCT, EXPR_OPS, FUSED_MARK, GETITEM, OPS,
                                        PARTIAL_AGG_PREFIXES, PARTIAL_ROLES, PARTITIONS_ARG, READ_CLASS_PREFIXES,
                                        REPARTITION_TO_FEWER, SHUFFLE_PLUMBING, SINKS, SORT_PARTITIONS, TREE_STEPS,
                                        WRITERS)

#: The stage rule's name for Dask's merge of partitions (``repartitiontofewer``).
MERGE = REPARTITION_TO_FEWER
__all__ = ["MERGE", "SHUFFLE_PLUMBING", "SINKS", "WRITERS", "Namer", "aggregation", "agg_word", "op_names",
           "stage_name"]

_TREE = re.compile(rf"^(?P<agg>[a-z_]+)-({'|'.join(TREE_STEPS)})$")
_HEX_TOKEN = re.compile(r"-[0-9a-f]{8,}$")
_ROLE = re.compile(rf"^(?P<cls>\w+)\((?P<role>{'|'.join(AGG_ROLES)})\)$")


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
        if base.replace("_", "").lower() in AGGREGATIONS and base != DISTINCT:
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
        if _known(prefix) and FUSED_MARK not in name:
            parts = [prefix]
        elif _known(name):
            parts = [name]
        else:  # dask-expr's fused names: first-fused-last, or up to four names joined with "-"
            parts = [p for chunk in name.split(FUSED_MARK) for p in _split_known(chunk)]
        out: list[str] = []
        for part in parts:
            out += self._prefix_ops(part.lstrip("_"), ndeps, dep_prefixes)
        return out

    def _prefix_ops(self, part: str, ndeps: int, dep_prefixes: set[str]) -> list[str]:
        if part == GETITEM and ndeps >= 2:
            return ["filter"]
        if part == ASSIGN and SORT_PARTITIONS in dep_prefixes:
            return []  # the partition number a sort's shuffle adds
        if part in PARTIAL_AGG_PREFIXES:
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
            if role.group("cls") == DISTINCT:
                word = "distinct"
            return [f"partial {word}" if role.group("role") in PARTIAL_ROLES else word]
        if cls.startswith(READ_CLASS_PREFIXES):
            return ["read"]
        if cls.startswith("_"):
            return []  # Dask's private steps (a sort's partition numbers, index fix-ups)
        if cls == ASSIGN_CLASS and PARTITIONS_ARG in args:
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
