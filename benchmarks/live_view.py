"""Does the live view slow the job?  The same job plain and inside ``record(..., live=True)``.

Times only the ``compute()`` call (building the player at the end of the block
is not part of the job).  Prints the medians and ``live ratio=<live/plain>``.

Usage: ``.venv/bin/python benchmarks/live_view.py [--runs 3] [--rows 1000000] [--partitions 500] [--workers 5]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=500)
    parser.add_argument("--workers", type=int, default=5)
    args = parser.parse_args()

    import teachkit
    from teachkit.datasets import sales

    cluster = teachkit.start_cluster(workers=args.workers, threads_per_worker=1, dashboard=False)
    try:
        query = sales(rows=args.rows, partitions=args.partitions).groupby("category").count()
        query.compute()  # warm up
        plain, live = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            query.compute()
            plain.append(time.perf_counter() - t)
            with contextlib.redirect_stdout(io.StringIO()):  # outside Jupyter the widgets print their repr
                with teachkit.record(cluster, live=True):
                    t = time.perf_counter()
                    query.compute()
                    live.append(time.perf_counter() - t)
    finally:
        cluster.close()
    p, q = statistics.median(plain), statistics.median(live)
    print(f"{args.rows:,} rows, {args.partitions} partitions, {args.workers} workers, median of {args.runs}")
    print(f"plain job: {p:.2f} s; job inside a live block: {q:.2f} s")
    print(f"live ratio={q / p:.3f}")


if __name__ == "__main__":
    main()
