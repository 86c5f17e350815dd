"""The course's data: a sales-like table generated *on the workers*, partition by partition.

Shipping a big pandas frame through the scheduler (``from_pandas``) embeds the
data in the graph; ``dask.dataframe.from_map`` builds each partition where it
runs, so the graph stays small, as a Spark job reading files would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORIES = ("books", "games", "garden", "kitchen", "music", "sports", "tools", "toys")


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
        remainder is dropped so every partition has the same size).
    seed : int
        Seed of the random values; the same seed gives the same data.

    Examples
    --------
    >>> df = sales(rows=1_000, partitions=4)
    >>> df.npartitions
    4
    >>> len(df.partitions[0].compute(scheduler="sync"))
    250
    """
    import dask.dataframe as dd

    if partitions < 1 or rows < partitions:
        raise ValueError(f"Need at least one row per partition: rows={rows}, partitions={partitions}.")
    per = rows // partitions
    meta = make_partition(0, 0, seed)
    return dd.from_map(make_partition, range(partitions), rows=per, seed=seed, meta=meta, enforce_metadata=False)


def sales_pandas(rows: int = 1_000_000, partitions: int = 500, seed: int = 0) -> pd.DataFrame:
    """The same table as :func:`sales`, built locally with pandas (to check answers)."""
    per = rows // partitions
    return pd.concat([make_partition(i, per, seed) for i in range(partitions)], ignore_index=True)
