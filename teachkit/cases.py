"""Reference jobs for the stage lesson: each one written for Dask and for PySpark, as code.

The stage tests (``tests/test_stages.py``) run the Dask side on a real cluster
and assert the stages teachkit derives; ``tools/spark_compare.py`` runs both
sides and compares teachkit's stages with the ones Spark's own status tracker
reports.  Each job is one line of code per side (what the comparison table
prints is what runs), evaluated over the same named tables, built partition by
partition where they run, with the same number of input partitions:

======  ======  ==========  ====
name    rows    partitions  seed
======  ======  ==========  ====
df      8,000   8           0
other   8,000   4           1
small   100     1           2
df12    12,000  12          0
df24    24,000  24          0
======  ======  ==========  ====

Where Dask runs a different job than Spark for the same code, the case says
what differs (``dask_differs``) and which words teachkit's stage note must
contain (``note_says``); everywhere else teachkit's stages must equal Spark's.

>>> len(CASES) >= 20, [case.name for case in CASES][:3]
(True, ['narrow-chain', 'narrow-chain-fused', 'filter-count'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teachkit.datasets import CATEGORIES, sales

#: Input tables: name -> (rows, partitions, seed).
INPUTS = {"df": (8_000, 8, 0), "other": (8_000, 4, 1), "small": (100, 1, 2), "df12": (12_000, 12, 0),
          "df24": (24_000, 24, 0)}
TASKS = {"dataframe.shuffle.method": "tasks"}
P2P = {"dataframe.shuffle.method": "p2p"}
_NOOP = '.write.format("noop").mode("overwrite").save()'  # materialise without collecting (Spark's persist is lazy)
_DOUBLE = 'withColumn("double", F.col("value") * 2)'


@dataclass(frozen=True)
class Case:
    """One job: ``dask`` and ``spark`` are code over the input tables (see the module docstring)."""

    name: str
    dask: str
    spark: str
    shuffle_partitions: int  # Spark's spark.sql.shuffle.partitions, set to what Dask uses
    config: dict = field(default_factory=dict)  # dask.config for the Dask side
    dask_differs: str | None = None  # what Dask runs differently, when it does
    note_says: str | None = None  # words teachkit's stage note must then contain


CASES = [
    Case("narrow-chain", 'df[df.value > 0.5].assign(double=lambda d: d.value * 2).compute()',
         f'df.filter(F.col("value") > 0.5).{_DOUBLE}.collect()', 8),
    Case("narrow-chain-fused", 'df[df.value > 0.5].assign(double=lambda d: d.value * 2).optimize().persist()',
         f'df.filter(F.col("value") > 0.5).{_DOUBLE}{_NOOP}', 8),
    Case("filter-count", 'len(df[df.value > 0.5])', 'df.filter(F.col("value") > 0.5).count()', 1),
    Case("groupby-tree", 'df.groupby("category").value.sum().compute()',
         'df.groupBy("category").sum("value").collect()', 1),
    Case("groupby-tree-split-every", 'df24.groupby("category").count(split_out=1, split_every=4).compute()',
         'df24.groupBy("category").count().collect()', 1),
    Case("groupby-default", 'df24.groupby("category").count().compute()',
         'df24.groupBy("category").count().collect()', 2),
    Case("groupby-p2p", 'df.groupby("category").count(split_out=4).compute()',
         'df.groupBy("category").count().collect()', 4, P2P),
    Case("groupby-tasks", 'df.groupby("category").count(split_out=4).compute()',
         'df.groupBy("category").count().collect()', 4, TASKS),
    Case("groupby-tasks-all", 'df.groupby("category").count(split_out=8).compute()',
         'df.groupBy("category").count().collect()', 8, TASKS),
    Case("seed-plan", 'df24.groupby("category").count(split_out=4, split_every=24).optimize().compute()',
         'df24.groupBy("category").count().collect()', 4, TASKS),
    Case("seed-plan-unfused", 'df24.groupby("category").count(split_out=4, split_every=24).compute()',
         'df24.groupBy("category").count().collect()', 4, TASKS),
    Case("seed-plan-p2p", 'df24.groupby("category").count(split_out=4, split_every=24).optimize().compute()',
         'df24.groupBy("category").count().collect()', 4, P2P),
    Case("seed-plan-value-counts", 'df24.category.value_counts(split_out=4).optimize().compute()',
         'df24.groupBy("category").count().collect()', 4, TASKS),
    Case("multi-agg", 'df.groupby("category").agg({"value": ["mean", "max"]}, split_out=2).compute()',
         'df.groupBy("category").agg(F.mean("value"), F.max("value")).collect()', 2),
    Case("distinct", 'df[["category"]].drop_duplicates(split_out=4).compute()',
         'df.select("category").distinct().collect()', 4),
    Case("value-counts", 'df.category.value_counts().compute()', 'df.groupBy("category").count().collect()', 8),
    Case("nunique", 'df.category.nunique().compute()', 'df.select(F.countDistinct("category")).collect()', 8),
    Case("shuffle-by-key", 'df.shuffle("category").compute()', 'df.repartition(8, "category").collect()', 8),
    Case("coalesce", 'df12.repartition(npartitions=3).compute()', 'df12.coalesce(3).collect()', 3),
    Case("coalesce-persist", 'df12.repartition(npartitions=3).persist()', f'df12.coalesce(3){_NOOP}', 3),
    Case("coalesce-write", 'df12.repartition(npartitions=3).to_parquet(path)',
         'df12.coalesce(3).write.parquet(path)', 3),
    Case("split", 'df12.repartition(npartitions=24).compute()', 'df12.repartition(24).collect()', 24,
         dask_differs="Dask splits each partition in place; Spark's repartition(24) shuffles",
         note_says="without a shuffle"),
    Case("union", 'dd.concat([df, other]).compute()', 'df.union(other).collect()', 8),
    Case("join", 'df.merge(other, on="id").compute()', 'df.join(other, on="id").collect()', 8),
    Case("join-broadcast", 'df.merge(small, on="id").compute()', 'df.join(F.broadcast(small), on="id").collect()', 8,
         dask_differs="Dask sends the small table to every join task in the same job; Spark collects it on the "
                      "driver in a job of its own", note_says="job of its own"),
    Case("sort", 'df.sort_values("value").persist()', f'df.orderBy("value"){_NOOP}', 8,
         dask_differs="Dask merges its split-point samples in a tree of tasks; Spark merges them on the driver",
         note_says="split points"),
    Case("set-index", 'df.set_index("value").persist()',
         f'df.repartitionByRange(8, "value").sortWithinPartitions("value"){_NOOP}', 8,
         dask_differs="Dask merges its split-point samples in a tree of tasks; Spark merges them on the driver",
         note_says="split points"),
    Case("sort-collect", 'df.sort_values("value").compute()', 'df.orderBy("value").collect()', 8,
         dask_differs="compute() moves every row into one partition and sorts it in one task; Spark "
                      "range-partitions with a shuffle", note_says="single task"),
    Case("two-shuffles", 'df.shuffle("id").groupby("category").value.sum(split_out=4).compute()',
         'df.repartition(8, "id").groupBy("category").sum("value").collect()', 4),
    Case("write-parquet", 'df[df.value > 0.5].assign(double=lambda d: d.value * 2).to_parquet(path)',
         f'df.filter(F.col("value") > 0.5).{_DOUBLE}.write.parquet(path)', 8),
    Case("write-csv", 'df.to_csv(path)', 'df.write.csv(path)', 8),
    Case("groupby-write", 'df.groupby("category").value.sum(split_out=4).to_frame().to_parquet(path)',
         'df.groupBy("category").sum("value").write.parquet(path)', 4),
    Case("map-partitions", 'df.map_partitions(lambda d: d.assign(v2=d.value + 1)).compute()',
         'df.mapInPandas(lambda it: (d.assign(v2=d.value + 1) for d in it), '
         '"id long, category string, value double, v2 double").collect()', 8),
]


def case(name: str) -> Case:
    """The case called ``name``."""
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(f"no case {name!r}; the cases are {', '.join(c.name for c in CASES)}")


def dask_inputs() -> dict[str, Any]:
    """The Dask frames the cases read (lazy: nothing runs until a case computes)."""
    return {name: sales(rows=rows, partitions=parts, seed=seed) for name, (rows, parts, seed) in INPUTS.items()}


def run_dask(case: Case, frames: dict[str, Any], path: Path) -> Any:
    """Run one case's Dask code (with its config) and return what it returns (keep it until recorded)."""
    import dask
    import dask.dataframe as dd

    _forget_split_points()
    with dask.config.set(case.config):
        return eval(case.dask, {"dd": dd, "path": str(path), **frames})  # noqa: S307 - the cases' own code


def _forget_split_points() -> None:
    """Each case sorts from scratch: dask-expr caches a sort's split points between jobs (a private LRU)."""
    try:
        from dask.dataframe.dask_expr._shuffle import divisions_lru
    except ImportError:  # pragma: no cover - another dask: nothing cached where we look
        return
    divisions_lru.clear()


def spark_inputs(spark) -> dict[str, Any]:
    """The same tables in PySpark: same ids in the same input partitions, the same categories.

    Spark builds them in its JVM (``range`` + column expressions), so no job
    needs Python workers but the one that asks for them (``mapInPandas``); its
    categories and values are drawn by Spark.  A stage's shape does not depend
    on the values: adaptive execution is off and broadcasts are asked for.
    """
    return {name: _spark_sales(spark, rows, parts, seed) for name, (rows, parts, seed) in INPUTS.items()}


def run_spark(case: Case, frames: dict[str, Any], path: Path) -> Any:
    """Run one case's PySpark code."""
    from pyspark.sql import functions as F

    return eval(case.spark, {"F": F, "path": str(path), **frames})  # noqa: S307 - the cases' own code


def _spark_sales(spark, rows: int, partitions: int, seed: int):
    from pyspark.sql import functions as F

    per = rows // partitions
    names = F.array(*(F.lit(c) for c in CATEGORIES))
    pick = (F.pmod(F.xxhash64(F.col("id"), F.lit(seed)), F.lit(len(CATEGORIES))) + 1).cast("int")
    return spark.range(0, per * partitions, numPartitions=partitions).select(
        F.col("id"), F.element_at(names, pick).alias("category"), F.rand(seed).alias("value"))
