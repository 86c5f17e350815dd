"""Ground truth: teachkit's stages for each reference job against Apache Spark's own.

Runs every case of :mod:`teachkit.cases` twice:

- in Dask, recorded by teachkit on a small local cluster (2 workers x 1 thread),
  reading ``job.stages``;
- in PySpark local mode (``local[2]``, one session for all cases), adaptive
  query execution off, broadcast joins only where the code asks for one, the
  same input partitions and ``spark.sql.shuffle.partitions`` set to what Dask
  uses.  Spark's stages come from its own status tracker (what its UI and REST
  API show), per job, skipped stages left out.

Prints one table (markdown) and, under it, what each difference is: Dask ran a
different job (then teachkit's stage note must name it) or teachkit is wrong (a
bug).  ``compare()`` returns the rows, for ``tests/test_spark_compare.py``.

Run (a minute or two; needs ``pip install -e '.[test]'`` and Java 17+)::

    timeout 900 .venv/bin/python tools/spark_compare.py [case ...]
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import teachkit
from teachkit.cases import CASES, Case, dask_inputs, run_dask
# The quiet PySpark session and the stage reader are shared with the course's last lesson.
from teachkit.spark_run import finished_jobs as _finished_jobs  # noqa: F401
from teachkit.spark_run import same_stages, spark_session, spark_stages  # noqa: F401


@dataclass
class Row:
    """One case of the comparison: both systems' stages and the verdict."""

    case: Case
    spark: list[list[int]]  # tasks per stage, one list per Spark job
    teachkit: list[list[int]]  # tasks per stage, one list per recorded Dask job
    names: list[list[str]]  # teachkit's stage names
    notes: list[str] = field(default_factory=list)  # teachkit's stage notes
    equal: bool = False
    verdict: str = ""
    bug: bool = False


def dask_stages(cases: list[Case], workers: int = 2) -> dict[str, list]:
    """Per case: the recorded jobs (``Job`` objects, with their stages)."""
    out = {}
    cluster = teachkit.start_cluster(workers=workers, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        frames = dask_inputs()
        for case in cases:
            with tempfile.TemporaryDirectory() as tmp, teachkit.record(cluster) as rec:
                result = run_dask(case, frames, Path(tmp) / "out")
            del result
            out[case.name] = [job for job in rec.jobs]
            for job in out[case.name]:
                job.stages  # noqa: B018 - derive while the recording is at hand
    finally:
        cluster.close()
    return out


def verdict(case: Case, spark: list[list[int]], jobs: list) -> Row:
    """Compare one case: equal, a different job Dask ran (with its note), or a teachkit bug."""
    row = Row(case=case, spark=spark, teachkit=[[s.num_tasks for s in job.stages] for job in jobs],
              names=[[s.name for s in job.stages] for job in jobs],
              notes=[s.note for job in jobs for s in job.stages if s.note])
    row.equal = same_stages(row.teachkit, row.spark)
    noted = case.note_says is not None and any(case.note_says in note for note in row.notes)
    if row.equal and case.dask_differs is None:
        row.verdict = "yes"
    elif row.equal:
        row.verdict, row.bug = "yes, though the case says Dask differs: update the case", True
    elif case.dask_differs is not None and noted:
        row.verdict = f"no: Dask ran a different job ({case.dask_differs}); teachkit's note says so"
    elif case.dask_differs is not None:
        row.verdict, row.bug = f"no: Dask ran a different job, but no note contains {case.note_says!r} (bug)", True
    else:
        row.verdict, row.bug = "no: teachkit is wrong on the same job (bug)", True
    return row


def compare(cases: list[Case] | None = None, workers: int = 2) -> list[Row]:
    """Run the cases in Dask (recorded) and in PySpark and compare them, one :class:`Row` per case."""
    cases = list(CASES if cases is None else cases)
    recorded = dask_stages(cases, workers)
    spark = spark_stages(cases)
    return [verdict(case, spark[case.name], recorded[case.name]) for case in cases]


def _counts(jobs: list[list[int]]) -> str:
    return " + ".join("[" + ", ".join(str(n) for n in job) + "]" for job in jobs) or "-"


def table(rows: list[Row]) -> str:
    """The comparison as one markdown table, then the stage names and each difference explained."""
    lines = ["| job | Dask code | Spark code | Spark's stages | teachkit's stages | equal? |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        equal = "yes" if r.verdict == "yes" else ("**BUG**: " if r.bug else "") + r.verdict
        lines.append(f"| {r.case.name} | `{r.case.dask}` | `{r.case.spark}` | {_counts(r.spark)} | "
                     f"{_counts(r.teachkit)} | {equal} |")
    lines += ["", "teachkit's stage names (one [...] per job):", ""]
    lines += [f"- {r.case.name}: " + " + ".join("[" + "; ".join(job) + "]" for job in r.names) for r in rows]
    differ = [r for r in rows if not r.equal or r.bug]
    if differ:
        lines += ["", "Differences:", ""]
        for r in differ:
            why = "a teachkit bug" if r.bug else "Dask ran a different job"
            sentences = [x for n in r.notes for x in re.split(r"(?<=\.)\s+", n)]
            note = next((x for x in sentences if r.case.note_says and r.case.note_says in x), "(none)")
            what = f" ({r.case.dask_differs})" if r.case.dask_differs else ""
            lines.append(f"- **{r.case.name}**: {why}{what}. teachkit's note: \"{note}\"")
    return "\n".join(lines)


def main(names: list[str]) -> int:
    cases = [c for c in CASES if not names or c.name in names]
    t0 = time.time()
    rows = compare(cases)
    import dask
    import pyspark

    print(f"dask {dask.__version__} (2 workers x 1 thread) and PySpark {pyspark.__version__} "
          f"(local[2], AQE off): {len(rows)} jobs in {time.time() - t0:.0f} s\n")
    print(table(rows))
    return 1 if any(r.bug for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
