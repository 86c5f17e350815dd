"""Does the live view slow the job?  The same job plain, recorded, and recorded with ``live=True``.

Times only the ``compute()`` call (building the player at the end of the block
is not part of the job), the three variants interleaved run after run so that
a change in the machine's load hits them alike.  Prints the medians, the live
view's polls (how many, seconds each, its share of the job's time) and
``live ratio=<live/recorded>``: what the live view adds on top of recording.

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
    from teachkit.views import live

    views: list = []
    start = live.LiveView.start

    def keep(session, *a, **kw):  # the benchmark keeps each live view to read its poll counters
        views.append(start(session, *a, **kw))
        return views[-1]

    live.LiveView.start = keep
    cluster = teachkit.start_cluster(workers=args.workers, threads_per_worker=1, dashboard=False)
    times: dict[str, list[float]] = {"plain": [], "recorded": [], "live": []}
    try:
        query = sales(rows=args.rows, partitions=args.partitions).groupby("category").count()
        query.compute()  # warm up
        for _ in range(args.runs):
            for variant in times:
                with contextlib.redirect_stdout(io.StringIO()):  # outside Jupyter the widgets print their repr
                    with (teachkit.record(cluster, live=variant == "live") if variant != "plain"
                          else contextlib.nullcontext()):
                        t = time.perf_counter()
                        query.compute()
                        times[variant].append(time.perf_counter() - t)
    finally:
        live.LiveView.start = start
        cluster.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    polls = sum(v.polls for v in views)
    poll_s = sum(v.poll_seconds for v in views)
    print(f"{args.rows:,} rows, {args.partitions} partitions, {args.workers} workers, median of {args.runs}")
    print(f"plain job: {med['plain']:.2f} s; recorded: {med['recorded']:.2f} s; recorded with the live view: "
          f"{med['live']:.2f} s")
    print(f"live view: {polls} polls, {poll_s / max(polls, 1):.3f} s each, {poll_s:.1f} s in all "
          f"({100 * poll_s / max(sum(times['live']), 1e-9):.0f}% of the live runs' time)")
    print(f"record ratio={med['recorded'] / med['plain']:.3f} live ratio={med['live'] / med['recorded']:.3f}")


if __name__ == "__main__":
    main()
