"""Where the seed job's time goes: the same groupby count under different Dask plans.

The seed job (1,000,000 rows in 500 partitions, ``groupby("category").count()``),
timed plain (not recorded) under the plans that change *what Dask runs*:

- ``dask default``: what a learner types: P2P shuffle (Dask picks
  ``split_out=ceil(500/15)=34``), unfused ``compute()``;
- ``seed plan, unfused``: the course's plan (``split_out=8, split_every=500``,
  task-based shuffle) with a plain ``compute()``;
- ``seed plan``: :func:`teachkit.seed.seed_query`, the same fused
  (``q.optimize().compute()``): Spark's shape, 500 tasks then 8 (``teachkit demo``'s job);
- ``tree, fused``: ``split_out=1``, a tree reduction instead of a shuffle (not Spark's shape).

``compute()`` in Dask 2026.8 does not fuse blockwise tasks (it optimises with
``fuse=False``; ``persist()`` fuses), so the fused plans call
``q.optimize().compute()``.  teachkit does not change what ``compute()`` runs.
Every timed run ends when the scheduler has forgotten the job (a ``compute()``
of the same keys sent before the last one's are released would be served from
memory in a few milliseconds).

Usage: ``.venv/bin/python benchmarks/seed_variants.py [--runs 3] [--workers 5] [--threads 1]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import dask


def median_seconds(client, run, runs: int) -> float:
    from record_overhead import settle

    times = []
    for _ in range(runs):
        settle(client)
        t = time.perf_counter()
        run()
        settle(client)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import teachkit
    from teachkit import seed
    from teachkit.datasets import sales

    cluster = teachkit.start_cluster(workers=args.workers, threads_per_worker=args.threads, dashboard=False)
    try:
        df = sales(rows=1_000_000, partitions=500)
        with dask.config.set(seed.SHUFFLE_CONFIG):
            unfused = df.groupby("category").count(split_out=8, split_every=500)
        tree = df.groupby("category").count(split_out=1)

        def unfused_run():
            with dask.config.set(seed.SHUFFLE_CONFIG):  # compute() lowers the plan: the setting must hold here
                return unfused.compute()

        variants = {
            "dask default (P2P, split_out=34)": seed.dask_default_query(df).compute,
            "seed plan, unfused": unfused_run,
            "seed plan (teachkit.seed, fused)": seed.seed_query(df).compute,
            "tree (split_out=1), fused": lambda: tree.optimize().compute(),
        }
        for run in variants.values():
            run()  # warm up every worker
        print(f"seed job, {args.workers} workers x {args.threads} thread(s), median of {args.runs}:")
        for name, run in variants.items():
            print(f"  {name:38s} {median_seconds(cluster.client, run, args.runs):6.2f} s", flush=True)
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
