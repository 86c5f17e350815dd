"""How much does recording cost?  The seed job with and without ``teachkit.record``.

The seed's detailed example: 1,000,000 rows in 500 partitions (generated on the
workers with ``from_map``), ``groupby("category").count()``, 5 worker
processes x 1 thread.  Runs are interleaved (plain, recorded, plain, ...) on one
warm cluster; prints the medians, ``overhead ratio=<recorded/plain>``, and the
recording's size per event in memory and on disk.

Targets (issue 3): ratio <= 1.03, recording <= 1 MB gzipped, plain job <= 3 s.

Usage: ``.venv/bin/python benchmarks/record_overhead.py [--runs 5] [--rows N] [--partitions P] [--workers W]``
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import statistics
import sys
import time


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
    """Wait until the scheduler has forgotten the last job, so no run pays for the one before.

    ``compute()`` returns before the scheduler has released the job's tasks; without
    this, each run would start while the previous run's clean-up still competes for
    the two cores, whichever mode it was.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.run_on_scheduler(_scheduler_tasks) == 0:
            break
        time.sleep(0.02)
    gc.collect()


def _scheduler_tasks(dask_scheduler=None) -> int:
    return len(dask_scheduler.tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=500)
    parser.add_argument("--workers", type=int, default=5)
    args = parser.parse_args()

    import teachkit
    from teachkit.datasets import sales

    print(f"seed job: {args.rows:,} rows, {args.partitions} partitions, {args.workers} workers x 1 thread", flush=True)
    t = time.perf_counter()
    cluster = teachkit.start_cluster(workers=args.workers, threads_per_worker=1, dashboard=False)
    print(f"cluster start: {time.perf_counter() - t:.2f} s", flush=True)
    df = sales(rows=args.rows, partitions=args.partitions)
    query = df.groupby("category").count()
    try:
        query.compute()  # warm up: imports and first-run costs on every worker
        plain, recorded = [], []
        for i in range(args.runs):
            # Alternate the order (plain first, then recorded first) so drift cancels out.
            for mode in ("plain", "recorded") if i % 2 == 0 else ("recorded", "plain"):
                settle(cluster.client)
                t = time.perf_counter()
                if mode == "plain":
                    query.compute()
                    plain.append(time.perf_counter() - t)
                else:
                    with teachkit.record(cluster) as rec:
                        query.compute()
                    recorded.append(time.perf_counter() - t)
            print(f"run {i + 1}: plain {plain[-1]:.2f} s, recorded {recorded[-1]:.2f} s", flush=True)
    finally:
        cluster.close()

    p, r = statistics.median(plain), statistics.median(recorded)
    events = rec.events
    text = json.dumps(rec.to_dict(), separators=(",", ":")).encode()
    job = rec.jobs[0]
    print(f"dask tasks per job: {len(job.dask_tasks)}")
    print(f"plain job median: {p:.2f} s (target <= 3 s)")
    print(f"recorded job median (incl. plugin set-up and drain): {r:.2f} s")
    print(f"events: {len(events)}; in memory {deep_size(events) / len(events):.0f} B/event; "
          f"JSON {len(text) / 1e6:.2f} MB, gzipped {len(gzip.compress(text, 6)) / 1e6:.3f} MB (target <= 1 MB)")
    print(f"overhead ratio={r / p:.3f}")


if __name__ == "__main__":
    main()
