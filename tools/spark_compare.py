"""Ground truth: teachkit's stages for each reference job against Apache Spark's own count.

Runs every case of :mod:`teachkit.cases` twice:

- in teachkit, on a real local cluster (2 workers x 1 thread), reading ``job.stages``;
- in PySpark 4.x local mode (``local[2]``), adaptive query execution off, the same
  input partitions, ``spark.sql.shuffle.partitions`` set to what Dask uses, and
  broadcast joins off (Dask shuffles both sides of a merge).  Stage and task counts
  come from Spark's status tracker (what its UI and REST API show), per job.

Prints one table (markdown).  Run (about a minute; needs ``pip install pyspark`` and Java 17+):

    timeout 900 .venv/bin/python tools/spark_compare.py [case ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import teachkit
from teachkit.cases import CASES, dask_inputs, spark_inputs


def teachkit_stages(cases) -> dict[str, list[list[tuple[str, int]]]]:
    """Per case: for each job, its stages as (name, Spark-style tasks)."""
    out = {}
    cluster = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        df, other = dask_inputs()
        for case in cases:
            with tempfile.TemporaryDirectory() as tmp, teachkit.record(cluster) as rec:
                case.dask(df, other, Path(tmp) / "out")
            out[case.name] = [[(s.name, s.num_tasks) for s in job.stages] for job in rec.jobs]
    finally:
        cluster.close()
    return out


def spark_session():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master("local[2]")
        .appName("teachkit-compare")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.autoBroadcastJoinThreshold", "-1")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


def spark_stages(cases) -> dict[str, list[list[tuple[str, int]]]]:
    """Per case: for each Spark job, its stages as (name, tasks); skipped stages left out."""
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    tracker = spark.sparkContext.statusTracker()
    out = {}
    try:
        df, other = spark_inputs(spark)
        for case in cases:
            spark.conf.set("spark.sql.shuffle.partitions", str(case.shuffle_partitions))
            spark.sparkContext.setJobGroup(case.name, case.title)
            with tempfile.TemporaryDirectory() as tmp:
                case.spark(df, other, Path(tmp) / "out")
            jobs = []
            for job_id in sorted(tracker.getJobIdsForGroup(case.name)):
                info = tracker.getJobInfo(job_id)
                stages = []
                for sid in sorted(info.stageIds):
                    st = tracker.getStageInfo(sid)
                    if st is not None and st.numCompletedTasks > 0:  # skipped stages ran no task
                        stages.append((st.name.split(" at ")[0], st.numTasks))
                jobs.append(stages)
            out[case.name] = jobs
    finally:
        spark.stop()
    return out


def counts(jobs: list[list[tuple[str, int]]]) -> str:
    return " + ".join("[" + ", ".join(str(n) for _, n in job) + "]" for job in jobs) or "-"


def verdict(tk: list, sp: list) -> str:
    if [[n for _, n in j] for j in tk] == [[n for _, n in j] for j in sp]:
        return "same"
    if sorted(n for j in tk for _, n in j) == sorted(n for j in sp for _, n in j):
        return "same stages, other order/jobs"
    return "differs"


def main(names: list[str]) -> None:
    cases = [c for c in CASES if not names or c.name in names]
    t0 = time.time()
    tk = teachkit_stages(cases)
    t1 = time.time()
    sp = spark_stages(cases)
    t2 = time.time()
    import dask
    import pyspark

    print(f"teachkit (dask {dask.__version__}, 2 workers): {t1 - t0:.1f} s; "
          f"PySpark {pyspark.__version__} local[2], AQE off: {t2 - t1:.1f} s")
    print("Tasks per stage, one [...] per job.\n")
    print("| case | job | teachkit stages | Spark stages | verdict |")
    print("|---|---|---|---|---|")
    for case in cases:
        print(f"| {case.name} | `{case.title}` | {counts(tk[case.name])} | {counts(sp[case.name])} | "
              f"{verdict(tk[case.name], sp[case.name])} |")
    print("\nStage names:")
    for case in cases:
        print(f"- {case.name}: teachkit {tk[case.name]}; Spark {sp[case.name]}")


if __name__ == "__main__":
    main(sys.argv[1:])
