"""Where the seed job's time goes: the same groupby count under different Dask plans.

The seed job (1,000,000 rows in 500 partitions, ``groupby("category").count()``),
timed plain (not recorded) under the plans that change *what Dask runs*:

- ``dask default``: what a learner types: P2P shuffle (Dask picks
  ``split_out=ceil(500/15)=34``), unfused ``compute()``;
- ``seed plan, unfused``: the course's plan (``df["category"].value_counts(split_out=8)``,
  task-based shuffle) with a plain ``compute()``;
- ``seed plan with groupby().count()``: the plan the course used before
  (``groupby("category").count(split_out=8, split_every=500)``, task-based shuffle), fused;
- ``seed plan``: :func:`teachkit.seed.seed_query`, fused
  (``q.optimize().compute()``): Spark's shape, 500 tasks then 8 (``teachkit demo``'s job);
- ``tree``: ``value_counts(split_out=1)``, a tree reduction instead of a shuffle (not Spark's shape).

Then the two parts of the seed plan's time, which bound it from below on this
machine: the same number of tasks doing nothing (``empty tasks``: 500 no-op
tasks, then 96 tasks that gather their results in 8 groups and 1 that gathers
those, as the seed plan's 597), and the pandas work of its tasks alone
(``data work``: the plan run in this process, one task after another, with
Dask's synchronous scheduler; spread over every core it takes at least that
time divided by the cores).

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
import os
import statistics
import time

import dask


def _nothing(i):
    return i


def _gather(*parts):
    return len(parts)


def empty_plan(maps: int = 500, groups: int = 8):
    """``maps`` no-op tasks, ``groups`` x 12 tasks gathering them, 1 final: the seed plan's task count, no work."""
    mapped = [dask.delayed(_nothing, pure=False)(i) for i in range(maps)]
    per = -(-maps // groups)
    gathered = [dask.delayed(_gather, pure=False)(*mapped[g * per:(g + 1) * per]) for g in range(groups)]
    middle = [dask.delayed(_gather, pure=False)(*gathered) for _ in range(groups * 11)]
    return dask.delayed(_gather, pure=False)(*middle)


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its children still running (the cluster's processes)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def median_seconds(client, run, runs: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (all of the cluster's processes) of ``runs`` runs."""
    from record_overhead import settle

    times, cpus = [], []
    for _ in range(runs):
        settle(client)
        t, c = time.perf_counter(), cpu_seconds()
        run()
        settle(client)
        times.append(time.perf_counter() - t)
        cpus.append(cpu_seconds() - c)
    return statistics.median(times), statistics.median(cpus)


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
            unfused = df["category"].value_counts(split_out=8)
            count_fused = df.groupby("category").count(split_out=8, split_every=500).optimize()
        tree = df["category"].value_counts(split_out=1)

        def unfused_run():
            with dask.config.set(seed.SHUFFLE_CONFIG):  # compute() lowers the plan: the setting must hold here
                return unfused.compute()

        variants = {
            "dask default (P2P, split_out=34)": seed.dask_default_query(df).compute,
            "seed plan, unfused": unfused_run,
            "seed plan with groupby().count(), fused": count_fused.compute,
            "seed plan (teachkit.seed, fused)": seed.seed_query(df).compute,
            "tree (split_out=1), fused": lambda: tree.optimize().compute(),
        }
        for run in variants.values():
            run()  # warm up every worker
        print(f"seed job, {args.workers} workers x {args.threads} thread(s), median of {args.runs}:")
        for name, run in variants.items():
            wall, cpu = median_seconds(cluster.client, run, args.runs)
            print(f"  {name:38s} {wall:6.2f} s  (CPU {cpu:5.2f} s)", flush=True)
        fused = seed.seed_query(df)
        empty = empty_plan()
        cores = os.cpu_count() or 1
        print(f"the seed plan's two parts ({len(fused.__dask_graph__())} Dask tasks):")
        wall, empty_cpu = median_seconds(cluster.client, lambda: dask.compute(empty), args.runs)
        print(f"  {'empty tasks (same count, no work)':38s} {wall:6.2f} s  (CPU {empty_cpu:5.2f} s)", flush=True)
        data, data_cpu = median_seconds(cluster.client, lambda: fused.compute(scheduler="sync"), args.runs)
        print(f"  {'data work (one thread, no cluster)':38s} {data:6.2f} s  (CPU {data_cpu:5.2f} s)")
        print(f"  both parts' CPU spread evenly over {cores} cores: {(empty_cpu + data_cpu) / cores:.2f} s at best")
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
