"""The course's data: a sales-like table generated *on the workers*, partition by partition.

Shipping a big pandas frame through the scheduler (``from_pandas``) embeds the
data in the graph; ``dask.dataframe.from_map`` builds each partition where it
runs, so the graph stays small, as a Spark job reading files would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from teachkit import arguments
from teachkit.errors import ArgumentError

CATEGORIES = ("books", "games", "garden", "kitchen", "music", "sports", "tools", "toys")
#: Most rows in one partition (about 25 bytes a row: 250 MB, already more than a worker should hold at once).
MAX_ROWS_PER_PARTITION = 10_000_000
#: Most partitions (each one is at least one task, and dask's graph grows with them).
MAX_PARTITIONS = 100_000


def make_partition(index: int, rows: int, seed: int = 0) -> pd.DataFrame:
    """Build partition ``index``: ``rows`` rows of (id, category, value), deterministic per seed."""
    rng = np.random.default_rng([seed, index])
    cats = np.asarray(CATEGORIES, dtype=object)
    return pd.DataFrame(
        {
            "id": np.arange(index * rows, (index + 1) * rows, dtype="int64"),
            "category": pd.array(cats[rng.integers(0, len(CATEGORIES), rows)], dtype="str"),
            "value": rng.random(rows),
        }
    )


def sales(rows: int = 1_000_000, partitions: int = 500, seed: int = 0):
    """A ``dask.dataframe`` of ``rows`` rows in ``partitions`` partitions, made on the workers.

    Parameters
    ----------
    rows, partitions : int
        Total rows and number of partitions (rows are split evenly; the
        remainder is dropped so every partition has the same size).  At
        least one row per partition, at most 10,000,000 rows per partition
        and 100,000 partitions.
    seed : int
        Seed of the random values (0 or more); the same seed gives the same data.

    Raises
    ------
    teachkit.errors.ArgumentError
        A count that is not a whole number, or out of range.

    Examples
    --------
    >>> df = sales(rows=1_000, partitions=4)
    >>> df.npartitions
    4
    >>> len(df.partitions[0].compute(scheduler="sync"))
    250
    """
    import dask.dataframe as dd

    rows, partitions, seed = check_sizes(rows, partitions, seed)
    per = rows // partitions
    meta = make_partition(0, 0, seed)
    return dd.from_map(make_partition, range(partitions), rows=per, seed=seed, meta=meta, enforce_metadata=False)


def sales_pandas(rows: int = 1_000_000, partitions: int = 500, seed: int = 0) -> pd.DataFrame:
    """The same table as :func:`sales`, built locally with pandas (to check answers)."""
    rows, partitions, seed = check_sizes(rows, partitions, seed)
    per = rows // partitions
    return pd.concat([make_partition(i, per, seed) for i in range(partitions)], ignore_index=True)


def check_sizes(rows: int, partitions: int, seed: int = 0) -> tuple[int, int, int]:
    """The arguments of :func:`sales`, checked (raises ``ArgumentError`` naming the first bad one)."""
    rows = arguments.count("rows", rows, example=1_000_000)
    partitions = arguments.count("partitions", partitions, maximum=MAX_PARTITIONS, example=100,
                                 why=f"at most {MAX_PARTITIONS:,} partitions (each one is a task)")
    seed = arguments.count("seed", seed, minimum=0, example=0)
    if rows < partitions:
        raise ArgumentError(f"rows={rows} is fewer than partitions={partitions}: each partition needs at least one "
                            "row, so use fewer partitions or more rows.")
    if rows // partitions > MAX_ROWS_PER_PARTITION:
        raise ArgumentError(f"rows={rows:,} in {partitions} partition(s) is {rows // partitions:,} rows a partition, "
                            f"more than a worker should hold at once (at most {MAX_ROWS_PER_PARTITION:,}): "
                            "use more partitions.")
    return rows, partitions, seed
