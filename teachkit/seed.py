"""The course's seed job, in one place: Spark's ``groupBy("category").count()`` as the course runs it on Dask.

The seed's detailed example counts the rows of each category of a 1,000,000-row
table in 500 partitions on 5 worker nodes.  Spark runs it as two stages: 500
tasks that read a partition, count it partially and write the counts to a
shuffle, then one task per shuffle partition that reads them and adds them up.
:func:`seed_query` builds the Dask query the course runs for it, with four
choices that give Spark's shape and a fast run; each is named in :data:`PLAN`
with its reason and what Dask does by default.  :func:`dask_default_query` is
the count as a learner first writes it in Dask, ``df.groupby("category").count()``:
Dask's own plan, which the kit records just as truthfully (``[500, 34]`` stages
on the seed's data).

Nothing here changes Dask's settings for other jobs: the shuffle method is set
only while the query is built, and fusing is a property of the query (a
learner's plain ``compute()`` still runs unfused, as Dask runs it).

``teachkit demo``, ``benchmarks/seed_vs_spark.py`` and the course use this module.

>>> from teachkit.datasets import sales
>>> q = seed_query(sales(rows=2_000, partitions=20))
>>> q.npartitions, [choice.name for choice in PLAN]
(8, ['count rows', 'split_out', 'shuffle method', 'fusion'])
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dask

from teachkit.datasets import CATEGORIES

#: The seed's sizes: rows, partitions and worker nodes (one task slot each).
ROWS = 1_000_000
PARTITIONS = 500
WORKERS = 5
#: Partitions after the shuffle: one per category, and the tuned Spark run's ``spark.sql.shuffle.partitions``.
OUT_PARTITIONS = len(CATEGORIES)
#: The job's name in recordings (a ``distributed.span``).
JOB_NAME = "groupby count"
#: The query in Spark, and as the course writes it in Dask (``PARTITIONS`` and ``OUT_PARTITIONS`` filled in).
SPARK_CODE = 'df.groupBy("category").count()'
DASK_CODE = ('with dask.config.set({"dataframe.shuffle.method": "tasks"}):\n'
             '    q = df["category"].value_counts(split_out=8).optimize()\n'
             'q.compute()')
#: Set only while the seed query is built (see :data:`PLAN`); never for other jobs.
SHUFFLE_CONFIG = {"dataframe.shuffle.method": "tasks"}


@dataclass(frozen=True)
class Choice:
    """One choice of the course's plan: the setting, what Dask does by default, and why the course differs."""

    name: str
    setting: str
    dask_default: str
    reason: str

    def __str__(self) -> str:
        return f"{self.setting} (Dask's default: {self.dask_default}): {self.reason}"


#: The course's plan for the seed query, one choice at a time (the seed's sizes: 500 partitions).
PLAN = (
    Choice("count rows", "value_counts()", "groupby().count()",
           "Spark's count() counts each group's rows, as value_counts() does; groupby().count() counts the "
           "non-missing values of every other column (id and value: the same numbers twice here), which is more "
           "work in each of the 500 tasks"),
    Choice("split_out", "split_out=8", "split_out=500",
           "value_counts() keeps one output partition per input partition whatever the number of groups; the course "
           "sends the counts to 8 shuffle partitions, one per category, as the tuned Spark run does "
           "(spark.sql.shuffle.partitions=8)"),
    Choice("shuffle method", 'shuffle method "tasks"', "the P2P shuffle",
           "P2P moves rows between workers outside the task graph; the task-based shuffle makes every piece of data "
           "that moves a task the recording shows (set only while the query is built, for no other job)"),
    Choice("fusion", "fused", "compute() unfused",
           "compute() optimises without fusing (persist() fuses); q.optimize().compute() runs each partition's "
           "read → partial count → shuffle write as one task, as Spark pipelines a stage: about 600 Dask tasks "
           "instead of about 3,100"),
)

#: The plan in a few lines, for a notebook or the command line.
PLAN_TEXT = "\n".join(
    [f"The course runs Spark's {SPARK_CODE} on Dask as:", *(f"    {line}" for line in DASK_CODE.splitlines()),
     "Each choice, what Dask does by default, and why:", *(f"- {choice}" for choice in PLAN)]
)


def plan_line(partitions: int = PARTITIONS) -> str:
    """The plan in one line, with Dask's defaults for ``partitions`` input partitions beside it."""
    ours = ", ".join(c.setting for c in PLAN)
    theirs = ", ".join(c.dask_default.replace("500", str(partitions)) for c in PLAN)
    return f"plan: {ours} (Dask's defaults: {theirs}; teachkit.seed.PLAN says why)"


def seed_query(df: Any, *, out_partitions: int = OUT_PARTITIONS) -> Any:
    """The course's plan for ``groupBy("category").count()`` on ``df``: Spark's shape, fused (see :data:`PLAN`).

    Parameters
    ----------
    df : dask.dataframe.DataFrame
        A frame with a ``category`` column, such as :func:`teachkit.datasets.sales`.
    out_partitions : int
        Partitions after the shuffle (Spark's ``spark.sql.shuffle.partitions``).

    Returns
    -------
    dask.dataframe.DataFrame
        The optimised (fused) query: ``.compute()`` runs it; the shuffle method
        is fixed in it, whatever the settings when it runs.
    """
    with dask.config.set(SHUFFLE_CONFIG):
        return df["category"].value_counts(split_out=out_partitions).optimize()


def dask_default_query(df: Any) -> Any:
    """The count as a learner first writes it, ``df.groupby("category").count()``: Dask's own plan, unchanged."""
    return df.groupby("category").count()


def run_seed_job(cluster: Any, query: Any, *, name: str = JOB_NAME) -> tuple[Any, Any, float]:
    """Record one run of ``query`` on ``cluster`` as a job called ``name``.

    Returns
    -------
    tuple
        ``(recording, result, seconds)``: ``seconds`` is the whole recorded
        block (the plugins in, the job, every event collected), what a learner waits.
    """
    import teachkit

    t0 = time.perf_counter()
    with teachkit.record(cluster) as rec:
        with teachkit.job(name):
            result = query.compute()
    return rec, result, time.perf_counter() - t0


def answer(result: Any) -> dict[str, int]:
    """The seed job's answer from its result: rows per category, in category order."""
    counts = result.iloc[:, 0] if result.ndim == 2 else result
    return {str(category): int(n) for category, n in sorted(counts.items(), key=lambda item: str(item[0]))}
