"""Reference jobs for the stage lesson: each one written for Dask and for PySpark.

The stage tests (``tests/test_stages.py``) run the Dask side on a real cluster
and assert the stages teachkit derives; ``tools/spark_compare.py`` runs both
sides and compares teachkit's stages with the ones Spark's own UI reports.
Both sides read the same ``sales`` table, built partition by partition where
it runs, with the same number of input and shuffle partitions.

>>> [case.name for case in CASES][:3]
['map-filter', 'groupby-count', 'groupby-split-out']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from teachkit.datasets import make_partition, sales


@dataclass(frozen=True)
class Case:
    """One job: ``dask(df, other, path)`` runs the action; ``spark(df, other, path)`` runs the same in PySpark."""

    name: str
    title: str
    dask: Callable[..., Any]
    spark: Callable[..., Any]
    shuffle_partitions: int  # Spark's spark.sql.shuffle.partitions, set to what Dask chooses


def _map_filter(df, other, path):
    big = df[df.value > 0.5]
    return big.assign(double=big.value * 2).compute()


def _spark_map_filter(df, other, path):
    from pyspark.sql import functions as F

    return df.filter(F.col("value") > 0.5).withColumn("double", F.col("value") * 2).collect()


def _groupby(df, other, path):
    return df.groupby("category").count().compute()


def _spark_groupby(df, other, path):
    return df.groupBy("category").count().collect()


def _groupby_split(df, other, path):
    return df.groupby("category").count(split_out=2).compute()


def _shuffle(df, other, path):
    return df.shuffle("category").compute()


def _spark_shuffle(df, other, path):
    return df.repartition("category").collect()


def _merge(df, other, path):
    return df.merge(other, on="id").compute()


def _spark_merge(df, other, path):
    return df.join(other, on="id").collect()


def _sort_persist(df, other, path):
    from distributed import wait

    out = df.sort_values("value").persist()
    wait(out)
    return out


def _spark_sort(df, other, path):
    # Spark's persist() is lazy: the no-op writer materialises the sorted frame without collecting it.
    df.sort("value").write.format("noop").mode("overwrite").save()


def _to_parquet(df, other, path):
    return df.to_parquet(path)


def _spark_parquet(df, other, path):
    df.write.mode("overwrite").parquet(str(path))


CASES = [
    Case("map-filter", "filter + assign, compute()", _map_filter, _spark_map_filter, 8),
    Case("groupby-count", "groupby(...).count(), defaults", _groupby, _spark_groupby, 1),
    Case("groupby-split-out", "groupby(...).count(split_out=2)", _groupby_split, _spark_groupby, 2),
    Case("shuffle", 'df.shuffle("category")', _shuffle, _spark_shuffle, 8),
    Case("merge", 'df.merge(other, on="id")', _merge, _spark_merge, 8),
    Case("sort-persist", 'sort_values("value").persist()', _sort_persist, _spark_sort, 8),
    Case("to-parquet", "to_parquet(path)", _to_parquet, _spark_parquet, 8),
]

#: Input sizes used by the tests and the comparison: tiny on purpose.
ROWS, PARTITIONS, OTHER_PARTITIONS = 8_000, 8, 4


def dask_inputs(rows: int = ROWS, partitions: int = PARTITIONS, other_partitions: int = OTHER_PARTITIONS):
    """The two Dask frames the cases read: ``sales`` and a second table keyed by the same ``id``."""
    return sales(rows=rows, partitions=partitions), sales(rows=rows, partitions=other_partitions, seed=1)


def spark_inputs(spark, rows: int = ROWS, partitions: int = PARTITIONS, other_partitions: int = OTHER_PARTITIONS):
    """The same two frames in PySpark, one input partition per Dask partition, made where they run."""
    return _spark_sales(spark, rows, partitions, 0), _spark_sales(spark, rows, other_partitions, 1)


def _spark_sales(spark, rows: int, partitions: int, seed: int):
    per = rows // partitions
    schema = "id long, category string, value double"

    def build(batches):
        for batch in batches:
            for index in batch["id"]:
                frame = make_partition(int(index), per, seed)
                frame["category"] = frame["category"].astype(object)
                yield frame

    return spark.range(0, partitions, numPartitions=partitions).mapInPandas(build, schema)
