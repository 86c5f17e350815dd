"""The work behind ``teachkit demo`` and ``teachkit summary``."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path


def _say(message: str) -> None:
    print(f"teachkit: {message}", flush=True)


def summary(args: argparse.Namespace) -> int:
    """Print a saved recording's summary as JSON (exit 1 with one line if it cannot be read).

    A warning while loading (e.g. events put back in time order) is one line on stderr.
    """
    from teachkit.errors import RecordingFileError
    from teachkit.model.recording import Recording

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rec = Recording.load(args.recording)
        except RecordingFileError as exc:
            print(f"teachkit summary: {exc}", file=sys.stderr)
            return 1
    for warning in caught:
        print(f"teachkit summary: warning: {warning.message}", file=sys.stderr)
    json.dump(rec.summary(), sys.stdout, indent=2)
    print()
    return 0


def run_seed_job(rows: int, partitions: int, workers: int, threads: int = 1):
    """Record the course's main example: ``groupby("category").count()`` on generated sales data.

    Returns
    -------
    tuple
        ``(recording, result, seconds)``.
    """
    import teachkit
    from teachkit.datasets import sales

    t0 = time.perf_counter()
    _say(f"starting a local cluster: {workers} worker processes x {threads} thread(s), 127.0.0.1 only ...")
    cluster = teachkit.start_cluster(workers=workers, threads_per_worker=threads, dashboard=False)
    _say(f"cluster ready in {time.perf_counter() - t0:.1f} s: {', '.join(cluster.workers)}")
    try:
        df = sales(rows=rows, partitions=partitions)
        _say(f"running groupby('category').count() on {rows:,} rows in {partitions} partitions, recording ...")
        t1 = time.perf_counter()
        with teachkit.record(cluster) as rec:
            with teachkit.job("groupby count"):
                result = df.groupby("category").count().compute()
        seconds = time.perf_counter() - t1
    finally:
        cluster.close()
    return rec, result, seconds


def demo(args: argparse.Namespace) -> int:
    """Run the seed example headless and write its recording and pictures to ``args.out``.

    ``args`` were checked by :mod:`teachkit.cli` (whole numbers in range, a folder that can be written).
    """
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"teachkit demo: --out {str(out)!r} cannot be made ({exc.strerror or exc}).", file=sys.stderr)
        return 2
    rec, result, seconds = run_seed_job(args.rows, args.partitions, args.workers)
    job = rec.jobs[0]
    _say(f"job done in {seconds:.1f} s: {len(job.dask_tasks):,} Dask tasks; result has {len(result)} categories")
    written = [rec.save(out / "recording.json.gz")]
    summary_data = rec.summary()
    (out / "summary.json").write_text(json.dumps(summary_data, indent=2))
    written.append(out / "summary.json")
    for stage in summary_data["jobs"][0].get("stages", []):
        _say(f"  stage {stage['id']}: {stage['name']} ({stage['num_tasks']} tasks, {stage['duration_s']:.2f} s)")
    _say("drawing the stage DAG, the task DAG and the worker timeline ...")
    written.append(job.stage_dag().save(out / "stage_dag.svg"))
    written.append(job.task_dag().save(out / "task_dag.svg"))
    written.append(job.timeline().save(out / "timeline.svg"))
    _say("building the step-through walkthrough ...")
    from teachkit.views.player import write_walkthrough

    written.append(write_walkthrough(rec, out / "walkthrough.html"))
    for path in written:
        _say(f"wrote {path}")
    _say(f"open {out / 'walkthrough.html'} in a browser to step through the run (works offline)")
    return 0
