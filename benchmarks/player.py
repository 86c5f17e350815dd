"""Time building the step-through player for a seed-sized job (~3,000 Dask tasks).

    .venv/bin/python benchmarks/player.py            # synthetic seed-shaped job
    .venv/bin/python benchmarks/player.py REC.json.gz   # a saved recording (its last job)

(A 50,000-task job, and every view besides the player: ``benchmarks/scale.py``.)

The synthetic job has the seed's shape: 500 input partitions, each a chain of
read -> to string -> chunk -> shuffle transfer (P2P), one barrier, 34 output
partitions of unpack -> operation -> aggregate, a final concat; 5 workers with
one task slot each, simulated with ``benchmarks/scale.py``'s greedy list scheduler.  Target: <= 2 s.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scale.py's simulator

from teachkit.model.recording import Recording  # noqa: E402


def seed_shaped_graph(partitions: int = 500, outputs: int = 34) -> list[dict]:
    tasks = []

    def add(prefix, i, deps):
        key = f"{prefix}-abc|{i}" if i is not None else f"{prefix}-abc"
        tasks.append({"key": key, "group": f"{prefix}-abc", "prefix": prefix, "index": i, "deps": deps})
        return key

    transfers = []
    for i in range(partitions):
        k = add("make_partition", i, [])
        k = add("to_string_dtype", i, [k])
        k = add("chunk", i, [k])
        k = add("reset_index", i, [k])
        transfers.append(add("shuffle-transfer", i, [k]))
    barrier = add("shuffle-barrier", None, transfers)
    finals = []
    for j in range(outputs):
        k = add("p2pshuffle", j, [barrier])
        k = add("operation", j, [k])
        k = add("aggregate", j, [k])
        finals.append(k)
    add("concat", 0, finals)
    return tasks


def simulate(tasks: list[dict], workers: int = 5, t0: float = 1000.0) -> Recording:
    """A plausible event stream for the graph on ``workers`` one-slot workers (``benchmarks/scale.py``'s simulator)."""
    from scale import simulate as run

    return run(tasks, [tasks[-1]["key"]], workers=workers, t0=t0, name="groupby count")


def main() -> None:
    from teachkit.model.frames import build_frames

    if len(sys.argv) > 1:
        rec = Recording.load(sys.argv[1])
        label = sys.argv[1]
    else:
        rec = simulate(seed_shaped_graph())
        label = "synthetic seed-shaped job"
    t = time.perf_counter()
    job = rec.jobs[-1]
    stages = job.stages if _has_stages(job) else None
    t_stages = time.perf_counter() - t  # jobs + attempts + stages from the events
    t = time.perf_counter()
    frames = build_frames(rec, job, stages=stages)
    t_frames = time.perf_counter() - t
    size = len(json.dumps(frames.to_json(), separators=(",", ":")))
    print(f"{label}: {len(job.dask_tasks):,} Dask tasks, {len(frames.tasks):,} Spark tasks, {len(frames.stages)} stages, {len(rec.events):,} events")
    print(f"jobs and stages {t_stages:.3f} s + frames {t_frames:.3f} s = {t_stages + t_frames:.3f} s (target <= 2 s); "
          f"{len(frames):,} steps, {size / 1e6:.2f} MB of JSON")

    from teachkit.views.player import player_data

    t = time.perf_counter()
    player_data(rec, job)
    print(f"whole player (frames + task DAG SVG + timeline SVG, jobs cached): {time.perf_counter() - t:.3f} s")


def _has_stages(job) -> bool:
    try:
        job.stages
        return True
    except (ImportError, AttributeError, NotImplementedError):
        return False


if __name__ == "__main__":
    main()
