"""How long the views take: stage DAG, task DAG (collapsed), timeline, cluster picture, shuffle matrix.

Run: ``.venv/bin/python benchmarks/render.py``.  Prints, per recording, the time
to build each view (Python) and, for the DAGs, to render it with ``dot``, best
of three.  Targets (issue 5): stage DAG ≤ 0.1 s, task DAG ≤ 0.5 s at any size
(collapsed), timeline of ~1,000–3,000 tasks ≤ 1 s.  Besides the shipped
recordings it builds synthetic ones in the recorder's wire format
(tests/helpers_views.py): the seed's shape (500 partitions, P2P shuffle to 34)
and a 50,000-task job.  No cluster is started.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import teachkit  # noqa: E402
from helpers_views import synthetic_recording  # noqa: E402

TARGETS = {"stage DAG": 0.1, "task DAG": 0.5, "timeline": 1.0}


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(label: str, rec) -> None:
    job = rec.jobs[0]
    job.stages  # derive once: that cost belongs to the stage rule's own benchmark
    have_dot = shutil.which("dot") is not None
    rows = [
        ("stage DAG", best(job.stage_dag), best(lambda: job.stage_dag().svg()) if have_dot else None),
        ("task DAG", best(job.task_dag), best(lambda: job.task_dag().svg()) if have_dot else None),
        ("timeline", best(lambda: job.timeline().svg()), None),
        ("cluster view", best(lambda: rec.cluster_view(at=(job.start + job.end) / 2).svg()), None),
        ("shuffle view", best(lambda: [s.shuffle_view() for s in job.stages]), None),
    ]
    print(f"\n{label}: {len(job.dask_tasks):,} Dask tasks, {sum(s.num_tasks for s in job.stages):,} Spark-style "
          f"tasks, {len(job.stages)} stages")
    for name, build, render in rows:
        total = render if render is not None else build  # render() includes the build
        target = TARGETS.get(name)
        if name == "timeline" and len(job.dask_tasks) > 3000:
            target = None  # the target is for the seed's size (1,000-3,000 tasks)
        verdict = "" if target is None else (" ok" if total <= target else f" SLOWER than {target} s")
        rendered = f"   with dot: {render:7.3f} s" if render is not None else ""
        print(f"  {name:13s} build {build:7.3f} s{rendered}{verdict}")


def main() -> None:
    for name in teachkit.examples():
        measure(f"shipped '{name}'", teachkit.Recording.load(teachkit.example_path(name)))
    for label, options in (("synthetic seed shape (500 → 34 partitions, 5 workers)",
                            dict(partitions=500, out_partitions=34, workers=5)),
                           ("synthetic 50,000 tasks (10,000 partitions, 5 workers × 2 slots)",
                            dict(partitions=10_000, workers=5, threads=2))):
        start = time.perf_counter()
        rec = synthetic_recording(**options)
        rec.jobs
        print(f"\n(built {label} in {time.perf_counter() - start:.2f} s)")
        measure(label, rec)


if __name__ == "__main__":
    main()
