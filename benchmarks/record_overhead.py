"""How much does recording cost?  The seed job with and without ``teachkit.record``.

The seed's detailed example: 1,000,000 rows in 500 partitions (generated on the
workers with ``from_map``), the rows of each category counted, 5 worker
processes x 1 thread, timed under two plans:

- ``seed plan``: the course's plan (:func:`teachkit.seed.seed_query`:
  ``df["category"].value_counts(split_out=8)``, the task-based shuffle, fused):
  Spark's two stages, 500 tasks then 8, about 600 Dask tasks.  This is
  ``teachkit demo``'s job.
- ``dask default``: ``df.groupby("category").count()`` as a learner first types it.
  Dask picks ``split_out=ceil(500/15)=34`` whatever the number of groups, and runs
  it as a P2P shuffle, unfused (about 3,200 Dask tasks).

Runs are interleaved (both plans, plain and recorded, order alternating) on one
warm cluster; each timed run lasts until the scheduler has forgotten the job's
tasks (see :func:`settle`).  Prints the medians, the recording's size per event in memory and on disk,
the untraced wall time, and ``overhead ratio=<ratio>``: for each plan, the
median over the runs of recorded time / plain time of the same run (the two ran
back to back), and of the two plans the larger.

Targets (issues 3 and 17): ratio <= 1.03, recording <= 1 MB gzipped.  The seed job
against PySpark is ``benchmarks/seed_vs_spark.py``.

Usage: ``.venv/bin/python benchmarks/record_overhead.py [--runs 15] [--rows N] [--partitions P] [--workers W]
[--plans "seed plan" "dask default"]``
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import statistics
import sys
import time


def _seed_plan(df):
    from teachkit.seed import seed_query

    return seed_query(df)


#: The plans timed: the query each builds on the seed's frame.
PLANS = {"seed plan": _seed_plan, "dask default": lambda df: df.groupby("category").count()}


def deep_size(obj, seen=None) -> int:
    """Approximate bytes held by plain Python data (dicts, lists, strings, numbers)."""
    seen = seen if seen is not None else set()
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple)):
        size += sum(deep_size(v, seen) for v in obj)
    return size


def settle(client, timeout: float = 10.0) -> None:
    """Wait until the scheduler has forgotten every task (the job *and* its clean-up are over).

    ``compute()`` returns before the scheduler has released the job's tasks, while
    a recording block ends after it (its final drain waits for the clean-up, so that
    every recording ends the same way).  Each timed run therefore ends here, in
    both modes: the clean-up counts the same in both, and no run pays for the one
    before.  The wait happens on the scheduler, in one round trip, the way the
    recorder's final drain waits: polling from the client would load the
    scheduler with requests while it cleans up, and slow the plain runs only.
    """
    client.run_on_scheduler(_forgotten_all, timeout)


async def _forgotten_all(timeout: float, dask_scheduler=None) -> bool:
    import asyncio

    deadline = time.monotonic() + timeout
    while dask_scheduler.tasks and time.monotonic() < deadline:
        await asyncio.sleep(0.002)
    return not dask_scheduler.tasks


def timed_run(cluster, query, record: bool) -> tuple[float, object]:
    """One timed run of ``query``, plain or recorded: (seconds, the recording or None).

    Starts from a settled scheduler and a collected heap, and ends when the
    scheduler has forgotten the job (see :func:`settle`).
    """
    import teachkit

    settle(cluster.client)
    gc.collect()
    rec = None
    t = time.perf_counter()
    if record:
        with teachkit.record(cluster) as rec:
            query.compute()
    else:
        query.compute()
    settle(cluster.client)
    return time.perf_counter() - t, rec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=500)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--plans", nargs="+", choices=list(PLANS), default=list(PLANS), metavar="PLAN",
                        help="plans to time (default: both: %(choices)s)")
    args = parser.parse_args()
    plans_timed = {plan: PLANS[plan] for plan in args.plans}

    import teachkit
    from teachkit.datasets import sales

    print(f"seed job: {args.rows:,} rows, {args.partitions} partitions, {args.workers} workers x 1 thread", flush=True)
    t = time.perf_counter()
    cluster = teachkit.start_cluster(workers=args.workers, threads_per_worker=1, dashboard=False)
    print(f"cluster start: {time.perf_counter() - t:.2f} s", flush=True)
    df = sales(rows=args.rows, partitions=args.partitions)
    queries = {plan: build(df) for plan, build in plans_timed.items()}
    plain = {plan: [] for plan in plans_timed}
    recorded = {plan: [] for plan in plans_timed}
    recordings = {}
    try:
        for query in queries.values():
            # Warm up both modes: imports and first-run costs on every worker (the first
            # recording also imports the recorder's module in each worker process).
            query.compute()
            with teachkit.record(cluster):
                query.compute()
        for i in range(args.runs):
            # Alternate the order of plans and of modes so that drift cancels out.
            plans = list(plans_timed) if i % 2 == 0 else list(plans_timed)[::-1]
            for plan in plans:
                query = queries[plan]
                for mode in ("plain", "recorded") if i % 2 == 0 else ("recorded", "plain"):
                    recordings.pop(plan, None)  # free the last recording before the clock starts
                    seconds, rec = timed_run(cluster, query, mode == "recorded")
                    (plain if mode == "plain" else recorded)[plan].append(seconds)
                    if rec is not None:
                        recordings[plan] = rec
            print(f"run {i + 1}: " + "; ".join(
                f"{plan}: plain {plain[plan][-1]:.2f} s, recorded {recorded[plan][-1]:.2f} s" for plan in plans_timed
            ), flush=True)
    finally:
        cluster.close()

    ratios = {}
    for plan in plans_timed:
        p, r = statistics.median(plain[plan]), statistics.median(recorded[plan])
        # Each run's recorded time over the plain time of the same run (they ran back to
        # back), then the median of those ratios: drift of the machine cancels out.
        paired = sorted(b / a for a, b in zip(plain[plan], recorded[plan]))
        ratios[plan] = statistics.median(paired)
        q1, _, q3 = statistics.quantiles(paired, n=4) if len(paired) > 1 else (paired[0],) * 3
        rec = recordings[plan]
        events = rec.events
        text = json.dumps(rec.to_dict(), separators=(",", ":")).encode()
        print(f"plan {plan}: {len(rec.jobs[0].dask_tasks)} dask tasks, {len(events)} events")
        print(f"  plain median {p:.2f} s, recorded median (incl. plugin set-up and drain) {r:.2f} s, "
              f"median of the runs' recorded/plain={ratios[plan]:.3f} (middle half of the runs: {q1:.3f} to {q3:.3f})")
        print(f"  recording: {deep_size(events) / len(events):.0f} B/event in memory; "
              f"JSON {len(text) / 1e6:.2f} MB, gzipped {len(gzip.compress(text, 6)) / 1e6:.3f} MB (target <= 1 MB)")
    print("untraced seed job: " + "; ".join(f"{statistics.median(plain[plan]):.2f} s with the {plan}"
                                            for plan in plans_timed))
    print(f"overhead ratio={max(ratios.values()):.3f}")


if __name__ == "__main__":
    main()
