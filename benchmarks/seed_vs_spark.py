"""The seed job on teachkit against tuned PySpark on the same machine, interleaved in one run.

Both sides run Spark's ``groupBy("category").count()`` over 1,000,000 rows in
500 partitions of (id, category, value), 8 categories, made inside the job,
partition by partition, where the tasks run:

- **teachkit**: ``teachkit demo``'s job (:mod:`teachkit.seed`: the course's plan,
  fused, task-based shuffle, Spark's two stages 500 → 8), recorded with
  ``teachkit.record`` exactly as the demo records it, on a local cluster of 5
  worker processes x 1 thread with the kit's teaching settings.  Each timed run is
  the whole recorded block: plugins in, the job, every event collected.
- **PySpark** ``local[5]``, tuned: adaptive execution off, 8 shuffle partitions
  (``spark.sql.shuffle.partitions=8``, one per category, as the Dask plan), no UI.
  Its data is made in the JVM (``spark.range`` + column expressions, as
  ``teachkit.cases`` makes the stage comparison's tables): the same shape and
  sizes, without a Python worker, which is Spark's fastest way to make it and the
  stricter comparison.  ``--spark-data pandas`` makes the very same rows as teachkit
  with ``mapInPandas`` (Python workers and Arrow: slower for Spark).

Both sides are warmed up before any run counts: teachkit twice (imports, the
workers' first tasks), PySpark ``--spark-warmup`` times (default 12), because the
JVM's just-in-time compiler keeps speeding Spark up over its first runs (2.9 s,
then 2.4, 1.6, 1.4 s on our machines): timing it after two runs would flatter
teachkit.  Before each timed run the benchmark waits until the machine is quiet
(under 15% of its CPU busy over a quarter second, at most 5 s), so neither side
pays for the other's clean-up (the JVM compiles and collects garbage for about
half a second after a job).  Warm runs alternate which side goes first.  Prints
every run, both medians and
``seed job ratio teachkit/spark=<r>`` (median over median), then the cold times:
``teachkit demo`` in a subprocess from the command to ``walkthrough.html``
written, and a fresh PySpark session (JVM start) plus its first job, also in a
subprocess.  The load average is printed before and after: compare figures only
from a quiet machine (load below 1).

Targets (issue 17): ratio <= 0.75; ``teachkit demo`` cold <= 10 s.

Usage: ``.venv/bin/python benchmarks/seed_vs_spark.py [--runs 9] [--cold-runs 2] [--spark-data jvm|pandas]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from teachkit.spark_run import LOG4J2  # Spark's logging, quiet: the kit's own settings

ROOT = Path(__file__).resolve().parents[1]
#: A quiet machine: less than this share of all CPUs busy over ``QUIET_WINDOW`` seconds (waited for at most ``QUIET_MAX``).
QUIET_SHARE, QUIET_WINDOW, QUIET_MAX = 15.0, 0.25, 5.0


def wait_until_quiet() -> float:
    """Wait until the machine is quiet (see ``QUIET_SHARE``); the seconds waited."""
    import psutil

    t = time.perf_counter()
    while psutil.cpu_percent(interval=QUIET_WINDOW) >= QUIET_SHARE and time.perf_counter() - t < QUIET_MAX:
        pass
    return time.perf_counter() - t


@contextlib.contextmanager
def spark_session(cores: int, out_partitions: int):
    """A quiet local SparkSession, tuned: AQE off, ``out_partitions`` shuffle partitions, no UI, loopback only."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        config = Path(tmp) / "log4j2.properties"
        config.write_text(LOG4J2)
        spark = (
            SparkSession.builder.master(f"local[{cores}]")
            .appName("teachkit-seed-vs-spark")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(out_partitions))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", "2g")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.local.dir", tmp)
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{config}")
            .getOrCreate()
        )
        try:
            yield spark
        finally:
            spark.stop()


def spark_frame(spark, rows: int, partitions: int, how: str):
    """The seed's table in Spark: made in the JVM (``jvm``) or by teachkit's own generator (``pandas``)."""
    if how == "jvm":
        from teachkit.cases import _spark_sales

        return _spark_sales(spark, rows, partitions, 0)
    from teachkit.datasets import _dask_partition

    per = rows // partitions

    def make(batches):
        for batch in batches:
            for index in batch["i"]:
                yield _dask_partition(int(index), per, 0)

    return spark.range(0, partitions, numPartitions=partitions).withColumnRenamed("id", "i").mapInPandas(
        make, "id long, category string, value double")


def spark_job(frame) -> dict[str, int]:
    """Spark's ``groupBy("category").count()``, collected: rows per category."""
    return {row["category"]: row["count"] for row in frame.groupBy("category").count().collect()}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _time_to_line(cmd: list[str], done, what: str) -> tuple[float, float]:
    """Run ``cmd``: seconds until a line of its output satisfies ``done``, and until it exits."""
    t = time.perf_counter()
    seen = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env()) as proc:
        for line in proc.stdout:
            if seen is None and done(line.rstrip()):
                seen = time.perf_counter() - t
        err = proc.stderr.read()
    total = time.perf_counter() - t
    if proc.returncode != 0 or seen is None:
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{err[-2000:]}")
    return seen, total


def cold_spark(args) -> float:
    """Seconds from the command to the first job's answer: a fresh Python, JVM and session (a subprocess)."""
    code = ("import sys; sys.path.insert(0, %r); import seed_vs_spark as b\n"
            "with b.spark_session(%d, %d) as spark:\n"
            "    answer = b.spark_job(b.spark_frame(spark, %d, %d, %r))\n"
            "    print('ANSWER', sum(answer.values()), len(answer), flush=True)\n") % (
        str(ROOT / "benchmarks"), args.workers, args.out_partitions, args.rows, args.partitions, args.spark_data)
    seen, _ = _time_to_line([sys.executable, "-c", code], lambda line: line.startswith("ANSWER"), "the cold PySpark run")
    return seen


def cold_demo(args) -> tuple[float, float]:
    """``teachkit demo`` in a subprocess: seconds to ``walkthrough.html`` written, and to the command's exit."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "teachkit.cli", "demo", "--out", tmp, "--rows", str(args.rows),
               "--partitions", str(args.partitions), "--workers", str(args.workers)]
        return _time_to_line(cmd, lambda line: line.startswith("teachkit: wrote") and line.endswith("walkthrough.html"),
                             "teachkit demo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="warm runs of each side (default: %(default)s)")
    parser.add_argument("--cold-runs", type=int, default=2, help="cold runs of each side; 0 skips them")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=500)
    parser.add_argument("--workers", type=int, default=5, help="teachkit's worker processes and Spark's local[N]")
    parser.add_argument("--out-partitions", type=int, default=8)
    parser.add_argument("--spark-data", choices=("jvm", "pandas"), default="jvm")
    parser.add_argument("--spark-warmup", type=int, default=12, help="PySpark runs before timing (default: %(default)s)")
    args = parser.parse_args()

    import teachkit
    from teachkit import seed
    from teachkit.datasets import sales

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    print(f"seed job: {args.rows:,} rows in {args.partitions} partitions, groupBy(\"category\").count() into "
          f"{args.out_partitions} partitions; teachkit: {args.workers} workers x 1 thread, recorded, "
          f"{seed.plan_line(args.partitions)}; Spark: local[{args.workers}], AQE off, data made "
          f"{'in the JVM' if args.spark_data == 'jvm' else 'by mapInPandas'}", flush=True)

    colds: dict[str, list[float]] = {"demo": [], "demo exit": [], "spark": []}
    for i in range(args.cold_runs):
        for side in (("demo", "spark") if i % 2 == 0 else ("spark", "demo")):
            wait_until_quiet()
            if side == "demo":
                written, total = cold_demo(args)
                colds["demo"].append(written)
                colds["demo exit"].append(total)
                print(f"cold {i + 1}: teachkit demo, command to walkthrough written {written:.2f} s "
                      f"(command done {total:.2f} s)", flush=True)
            else:
                colds["spark"].append(cold_spark(args))
                print(f"cold {i + 1}: PySpark, command to session + first job done {colds['spark'][-1]:.2f} s", flush=True)

    times: dict[str, list[float]] = {"teachkit": [], "spark": []}
    cluster = teachkit.start_cluster(workers=args.workers, threads_per_worker=1, dashboard=False)
    try:
        query = seed.seed_query(sales(rows=args.rows, partitions=args.partitions), out_partitions=args.out_partitions)
        with spark_session(args.workers, args.out_partitions) as spark:
            frame = spark_frame(spark, args.rows, args.partitions, args.spark_data)
            answers, warm = {}, {"teachkit": [], "spark": []}
            for i in range(max(2, args.spark_warmup)):  # imports, the JIT, the workers' first tasks, the recorder
                t = time.perf_counter()
                answers["spark"] = spark_job(frame)
                warm["spark"].append(time.perf_counter() - t)
                if i < 2:
                    _, result, seconds = seed.run_seed_job(cluster, query)
                    answers["teachkit"] = seed.answer(result)
                    warm["teachkit"].append(seconds)
            print("warm-up runs (not counted): " + "; ".join(
                f"{side} {', '.join(f'{x:.2f}' for x in xs)} s" for side, xs in warm.items()), flush=True)
            for side, answer in answers.items():
                if sum(answer.values()) != args.rows // args.partitions * args.partitions or len(answer) != 8:
                    raise SystemExit(f"{side} answered {answer}: not the seed's counts")
            for i in range(args.runs):
                for side in (("teachkit", "spark") if i % 2 == 0 else ("spark", "teachkit")):
                    wait_until_quiet()
                    if side == "teachkit":
                        rec, _, seconds = seed.run_seed_job(cluster, query)
                        shape = [stage.num_tasks for stage in rec.jobs[0].stages]
                        del rec
                    else:
                        t = time.perf_counter()
                        spark_job(frame)
                        seconds = time.perf_counter() - t
                    times[side].append(seconds)
                print(f"run {i + 1}: teachkit {times['teachkit'][-1]:.2f} s (recorded, stages {shape}), "
                      f"spark {times['spark'][-1]:.2f} s", flush=True)
    finally:
        cluster.close()

    ours, theirs = statistics.median(times["teachkit"]), statistics.median(times["spark"])
    print(f"medians of {args.runs}: teachkit {ours:.2f} s (recorded), PySpark {theirs:.2f} s")
    for name, values in colds.items():
        if values:
            print(f"cold, median of {len(values)}: "
                  + {"demo": "teachkit demo, command to walkthrough written",
                     "demo exit": "teachkit demo, command done",
                     "spark": "PySpark session + first job"}[name] + f" {statistics.median(values):.2f} s")
    ratio = ours / theirs
    print(f"seed job ratio teachkit/spark={ratio:.2f} (target <= 0.75: {'met' if ratio <= 0.75 else 'NOT met'})")
    if colds["demo"]:
        cold = statistics.median(colds["demo"])
        print(f"teachkit demo cold={cold:.2f} s (target <= 10 s: {'met' if cold <= 10 else 'NOT met'})")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
