"""The Spark side of the comparison: run reference jobs in PySpark, or read the figures of a saved run.

The course's last lesson sets each reference job of :mod:`teachkit.cases` in
PySpark next to the same job in Dask.  With ``pyspark`` and Java installed,
:func:`spark_stages` runs a few of them for real in one quiet local session
(adaptive query execution off, broadcasts only where asked, the same input
partitions, ``spark.sql.shuffle.partitions`` set to what Dask uses) and reads
each job's stages from Spark's own status tracker.  Without them,
:func:`saved_run` returns the figures of a full run shipped with teachkit
(``teachkit/data/spark_stages.json``, written by ``python -m teachkit.spark_run``),
with the date and versions it came from.

Spark's JVM writes its start-up warnings to the process's standard error,
which a Jupyter kernel shows in the notebook; :func:`spark_session` points
that stream at a log file while the JVM starts, so a lesson's output stays
clean.  ``tools/spark_compare.py`` (the full 32-job comparison) uses the same
session and stage reader.

>>> sorted(saved_run()["stages"])[:2]
['coalesce', 'coalesce-persist']
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from teachkit.cases import CASES, Case, run_spark, spark_inputs

__all__ = ["SAVED", "missing", "same_stages", "saved_run", "spark_session", "spark_stages"]

#: The figures of a full run shipped with teachkit.
SAVED = Path(__file__).resolve().parent / "data" / "spark_stages.json"

#: Spark's own logging, quiet: errors only (its start-up banner and warnings would flood a lesson).
LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark %p %c{1}: %m%n
logger.spark.name = org.apache.spark
logger.spark.level = error
"""


def missing() -> str | None:
    """Why PySpark cannot run here (one sentence), or ``None`` when it can."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install pyspark)"
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and (Path(java_home) / "bin" / "java").exists()) and shutil.which("java") is None:
        return "Java is not installed (PySpark needs Java 17 or later: apt-get install openjdk-17-jre-headless)"
    return None


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send this process's standard error (file descriptor 2, which child processes inherit) to ``path``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def spark_session(cores: int = 2, log: Path | None = None) -> Iterator[Any]:
    """One quiet local SparkSession (AQE off, no automatic broadcast, no UI, loopback only), stopped on exit.

    Parameters
    ----------
    cores : int
        ``local[cores]``: Spark's task slots, all in one JVM.
    log : path, optional
        Where the JVM's standard error goes (default: a file in the session's temporary folder).
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    with tempfile.TemporaryDirectory(prefix="teachkit-spark-") as tmp, warnings.catch_warnings():
        # PySpark 4.3 warns that it does not fully support pandas 3; the cases' pandas code works with it.
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        config = Path(tmp) / "log4j2.properties"
        config.write_text(LOG4J2)
        with _stderr_to(log or Path(tmp) / "spark.log"):
            spark = (
                SparkSession.builder.master(f"local[{cores}]")
                .appName("teachkit-compare")
                .config("spark.sql.adaptive.enabled", "false")
                .config("spark.sql.autoBroadcastJoinThreshold", "-1")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.memory", "1g")
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


def finished_jobs(tracker: Any, group: str, timeout: float = 60.0) -> list[list[int]]:
    """Tasks per stage of each job of ``group``, once Spark's listener has seen every job end.

    An action can return before the status tracker (fed asynchronously by
    Spark's listener bus) marks its job done; skipped stages ran no task.
    """
    deadline = time.monotonic() + timeout
    while True:
        infos = [tracker.getJobInfo(j) for j in sorted(tracker.getJobIdsForGroup(group))]
        ended = all(info is not None and info.status in ("SUCCEEDED", "FAILED") for info in infos)
        if ended or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    jobs = []
    for info in infos:
        stages = [tracker.getStageInfo(sid) for sid in sorted(info.stageIds)] if info is not None else []
        jobs.append([st.numTasks for st in stages if st is not None and st.numCompletedTasks > 0])
    return jobs


def spark_stages(cases: Sequence[Case], cores: int = 2) -> dict[str, list[list[int]]]:
    """Per case: for each Spark job it ran, the tasks of each stage (from Spark's status tracker).

    Raises
    ------
    teachkit.errors.ArgumentError
        When PySpark cannot run here (the message says what is missing).
    """
    from teachkit.errors import ArgumentError

    why = missing()
    if why:
        raise ArgumentError(f"PySpark cannot run here: {why}; use saved_run() for the figures of a saved run.")
    out = {}
    with spark_session(cores) as spark:
        tracker = spark.sparkContext.statusTracker()
        frames = spark_inputs(spark)
        for case in cases:
            spark.conf.set("spark.sql.shuffle.partitions", str(case.shuffle_partitions))
            spark.sparkContext.setJobGroup(case.name, case.spark)
            with tempfile.TemporaryDirectory() as tmp:
                run_spark(case, frames, Path(tmp) / "out")
            out[case.name] = [job for job in finished_jobs(tracker, case.name) if job]
    return out


def same_stages(ours: list[list[int]], theirs: list[list[int]]) -> bool:
    """Same jobs with the same stages: each job's task counts, in any order but the last stage's.

    Stages are listed parents first; Spark numbers the two map stages of a join
    left side first, teachkit by the tasks' names, so siblings may swap.

    >>> same_stages([[4, 8, 8]], [[8, 4, 8]]), same_stages([[8, 1]], [[1, 8]]), same_stages([[8]], [[8], [8]])
    (True, False, False)
    """
    return len(ours) == len(theirs) and all(
        sorted(a) == sorted(b) and a[-1:] == b[-1:] for a, b in zip(ours, theirs))


def saved_run() -> dict[str, Any]:
    """The shipped figures: ``{"meta": {date, versions, settings}, "stages": {case: [[tasks per stage], ...]}}``."""
    return json.loads(SAVED.read_text(encoding="utf-8"))


def save_run(path: Path = SAVED, cases: Sequence[Case] = CASES) -> Path:
    """Run every case in PySpark and write the figures (with the date and versions) to ``path``."""
    import platform

    import pyspark

    t0 = time.time()
    found = spark_stages(cases)
    meta = {"date": time.strftime("%Y-%m-%d"), "pyspark": pyspark.__version__, "python": platform.python_version(),
            "java": _java_version(), "master": "local[2]", "settings": "spark.sql.adaptive.enabled=false, "
            "spark.sql.autoBroadcastJoinThreshold=-1, spark.sql.shuffle.partitions per job as in teachkit.cases",
            "seconds": round(time.time() - t0, 1), "made_by": "python -m teachkit.spark_run"}
    path.write_text(_dumps(meta, found), encoding="utf-8")
    return path


def _dumps(meta: dict, stages: dict) -> str:
    """The file's text: the meta indented, one line per case."""
    lines = [f"  {json.dumps(name)}: {json.dumps(jobs)}" for name, jobs in stages.items()]
    return '{"meta": ' + json.dumps(meta, indent=1) + ',\n "stages": {\n' + ",\n".join(lines) + "\n }\n}\n"


def _java_version() -> str:
    import subprocess

    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.splitlines()[0] if out else "unknown"


if __name__ == "__main__":
    print(f"wrote {save_run()}")
