"""Where the seed job's time goes: the same groupby count under different Dask plans.

The seed job (1,000,000 rows in 500 partitions, ``groupby("category").count()``)
runs with Dask's defaults in the course.  This script times it next to three
variants that change *what Dask runs*, to show which lever moves the wall time:

- ``default``: P2P shuffle (Dask picks ``split_out=ceil(500/15)=34``), unfused ``compute()``;
- ``fused``: ``q.optimize().compute()`` (blockwise fusion, as ``persist()`` does);
- ``tasks shuffle``: ``dataframe.shuffle.method="tasks"``;
- ``tree``: ``split_out=1``, a tree reduction instead of a shuffle (the seed
  job of ``record_overhead.py``: 8 groups need no shuffle);
- ``tree, fused``: the same, fused;
- ``tasks 500->8, fused``: Spark's shape (one exchange into 8 partitions:
  ``split_out=8, split_every=500``, task-based shuffle), fused.

``compute()`` in Dask 2026.8 does not fuse blockwise tasks (it optimises with
``fuse=False``; ``persist()`` fuses), so the fused variants call
``q.optimize().compute()``.  teachkit does not change what ``compute()`` runs.

Usage: ``.venv/bin/python benchmarks/seed_variants.py [--runs 3] [--workers 5] [--threads 1]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import dask


def median_seconds(run, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import teachkit
    from teachkit.datasets import sales

    cluster = teachkit.start_cluster(workers=args.workers, threads_per_worker=args.threads, dashboard=False)
    try:
        df = sales(rows=1_000_000, partitions=500)
        query = df.groupby("category").count()
        query.compute()  # warm up every worker
        with dask.config.set({"dataframe.shuffle.method": "tasks"}):
            tasks_query = df.groupby("category").count()
            spark_shape = df.groupby("category").count(split_out=8, split_every=500)
        tree = df.groupby("category").count(split_out=1)
        variants = {
            "default (P2P shuffle, split_out=34)": query.compute,
            "fused (q.optimize().compute())": lambda: query.optimize().compute(),
            "tasks shuffle": tasks_query.compute,
            "tree (split_out=1)": tree.compute,
            "tree, fused": lambda: tree.optimize().compute(),
            "tasks 500->8, fused": lambda: spark_shape.optimize().compute(),
        }
        print(f"seed job, {args.workers} workers x {args.threads} thread(s), median of {args.runs}:")
        for name, run in variants.items():
            print(f"  {name:38s} {median_seconds(run, args.runs):6.2f} s", flush=True)
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
