"""Where Dask runs a stage differently from Spark: the stage's ``note``, one sentence per difference.

Helpers of :mod:`teachkit.model.stages`.  Each function below looks at one
stage and the graph it came from and returns a sentence naming a difference
a learner would otherwise not see in the stage DAG, or ``None``:

========================  ==============================================================
difference                what the sentence says
========================  ==============================================================
tree reduction            Dask combines in a tree of N tasks; Spark uses one exchange
sort's split points       a separate job with a tree on a worker; Spark merges on the driver
sort under ``compute()``  one partition, one sort task, no shuffle; Spark shuffles
coalesce (user's)         Dask reads the N partitions in tasks of their own, then merges
merge after a shuffle     Dask shuffled into N partitions and merged them into k
split                     each partition split without a shuffle; Spark's repartition shuffles
merge before a shuffle    Dask merged the map outputs before shuffling them
P2P shuffle               rows move outside the task graph (transfer → barrier → unpack)
groupby's ``split_out``   Dask chose the number of output partitions
broadcast                 Dask sends the small side to every task; Spark collects it first
gather to the driver      compute() concatenates on a worker before the client gets it
========================  ==============================================================
"""

from __future__ import annotations

import re

from teachkit.model.stage_graph import user_repartitions
from teachkit.model.stage_names import MERGE, SHUFFLE_PLUMBING
from teachkit.record.dask_names import REPARTITION_TO_MORE, SHUFFLE_NPARTITIONS_OUT, SPLIT_OUT_ARG


def stage_note(stage, by_id: dict, g, logical: str) -> str | None:
    """The sentences for one stage, joined; ``None`` when Dask runs it as Spark would."""
    found = [f(stage, by_id, g, logical) for f in _NOTES]
    return " ".join(n for n in found if n) or None


def _tree(stage, by_id, g, logical) -> str | None:
    n_dask = sum(len(t.keys) for t in stage.tasks)
    if stage.kind != "reduce":
        return None
    if "split points" in stage.ops:
        return ("Dask finds the sort's split points with this separate job, combining each partition's sample in "
                "a tree of tasks on a worker; Spark also samples in a separate job, but merges the samples on the "
                "driver.")
    if n_dask > stage.num_tasks:
        return (f"Dask combines the partial results in a tree of {n_dask} tasks; Spark sends them through one "
                "exchange to a single reduce task.")
    return None


def _merges(stage, g) -> tuple[int, int]:
    """(partitions read, partitions made) by the coalesce tasks inside this stage."""
    merges = [k for t in stage.tasks for k in t.keys if g.tasks[k].prefix == MERGE]
    inputs = {d for k in merges for d in g.deps[k]}
    return len(inputs), len(merges)


def _coalesce(stage, by_id, g, logical) -> str | None:
    n_in, n_out = _merges(stage, g)
    if not n_out:
        return None
    if stage.num_tasks == 1 and not stage.parents and "sort" in stage.ops:
        return ("compute() moved every row into one partition before the sort, so Dask sorts in a single task "
                "without a shuffle; Spark would range-partition the rows with a shuffle.")
    if stage.kind == "shuffle" and n_out not in (user_repartitions(logical) or set()):
        chose = (", which Dask chose itself: Spark would use spark.sql.shuffle.partitions"
                 if _dask_chose_split_out(stage, by_id, logical) else "")
        return (f"Dask shuffled the rows into {n_in} partitions and then merged them into {n_out} (its split_out"
                f"{chose}); each task here covers the shuffle partitions it merges, as a coalesce after Spark's "
                "shuffle would.")
    return (f"Dask reads the {n_in} partitions in tasks of their own and then merges them into {n_out}; Spark's "
            f"coalesce({n_out}) reads the partitions each of its {n_out} tasks merges inside that task.")


def _split(stage, by_id, g, logical) -> str | None:
    pieces = [k for t in stage.tasks for k in t.keys if g.tasks[k].prefix == REPARTITION_TO_MORE]
    if not pieces:
        return None
    split = {d for k in pieces for d in g.deps[k]}
    return (f"Dask splits each of the {len(split)} partitions into pieces without a shuffle ({len(pieces)} "
            f"partitions, each task here makes one); Spark's repartition({len(pieces)}) would shuffle the rows.")


def _merged_before_shuffle(stage, by_id, g, logical) -> str | None:
    merged = [c for c in g.clusters if c["merges"] and stage.id in c.get("read_stages", ())]
    if not merged:
        return None
    n_in = sum(len(c["merged"]) for c in merged)
    n_out = sum(len(c["merges"]) for c in merged)
    return (f"Before shuffling, Dask merged the {n_in} map outputs into {n_out} partitions in tasks of their own "
            "(part of the shuffle here); Spark's map tasks each write their own shuffle output.")


def _p2p(stage, by_id, g, logical) -> str | None:
    p2p = any(SHUFFLE_PLUMBING.get(g.tasks[k].prefix) == "p2p" for t in stage.tasks for k in t.keys)
    if stage.kind == "shuffle" and p2p:
        return ("Dask's P2P shuffle moves the rows between workers outside the task graph (transfer → barrier "
                "→ unpack); Spark's next stage fetches the files the map stage wrote.")
    return None


def _dask_chose_split_out(stage, by_id, logical) -> bool:
    """An aggregation's shuffle whose output partitions Dask chose (no ``split_out=`` in the plan written)."""
    if stage.kind != "shuffle" or re.search(rf"{SPLIT_OUT_ARG}=\d", logical) or SHUFFLE_NPARTITIONS_OUT in logical:
        return False  # the user chose split_out, or optimised the plan (its text no longer says)
    return any(op.startswith("partial ") for p in stage.parents for op in by_id[p].ops)


def _split_out(stage, by_id, g, logical) -> str | None:
    if not _dask_chose_split_out(stage, by_id, logical) or _merges(stage, g)[1]:
        return None  # (a merge after the shuffle says it in its own sentence)
    return (f"Dask chose the {stage.num_tasks} output partitions of this aggregation itself (split_out was not "
            "given); Spark would use spark.sql.shuffle.partitions.")


def _broadcast(stage, by_id, g, logical) -> str | None:
    sent = [p for p, b in stage.boundaries.items() if b == "broadcast"]
    if not sent:
        return None
    n = sum(by_id[p].num_tasks for p in sent)
    which = ", ".join(str(p) for p in sent)
    return (f"Dask sends the {n} partition{'s' if n != 1 else ''} of stage {which} to every task here directly (a "
            "broadcast); Spark's broadcast join first collects the small side on the driver, in a job of its own.")


def _gather(stage, by_id, g, logical) -> str | None:
    if stage.output == "driver" and any(g.tasks[k].prefix == MERGE for k in stage.sink_keys):
        return ("compute() adds one Dask task that concatenates the partitions on a worker before the client "
                "gets them; Spark's driver collects each task's result directly.")
    return None


_NOTES = (_tree, _coalesce, _split, _merged_before_shuffle, _p2p, _split_out, _broadcast, _gather)
