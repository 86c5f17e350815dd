"""Regenerate the small saved recordings shipped in ``teachkit/data/``.

Run: ``.venv/bin/python tools/make_examples.py`` (about half a minute on 2 cores).
Each example is a real run on a local cluster; never edit the files by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import teachkit
from teachkit.datasets import sales

OUT = Path(teachkit.__file__).parent / "data"


def groupby(cluster) -> teachkit.Recording:
    """A groupby count with Dask's default P2P shuffle: 16 partitions, 3 workers."""
    df = sales(rows=160_000, partitions=16)
    with teachkit.record(cluster) as rec:
        with teachkit.job("groupby count"):
            df.groupby("category").count().compute()
    return rec


def pipeline(cluster) -> teachkit.Recording:
    """Narrow operations only, then a tree reduction: filter → assign → sum."""
    df = sales(rows=120_000, partitions=12)
    with teachkit.record(cluster) as rec:
        with teachkit.job("filter and sum"):
            big = df[df.value > 0.5]
            big.assign(double=big.value * 2).double.sum().compute()
    return rec


def killed(cluster) -> teachkit.Recording:
    """The groupby count again, with worker-2 SIGKILLed mid-shuffle (its Nanny restarts it as worker-2b).

    Kept from the first of up to 5 real runs that shows all three ways the driver
    copes: tasks re-assigned (worker-lost), results recomputed from lineage
    (result-lost) and the P2P shuffle starting over (shuffle-restart).
    """
    from teachkit import faults
    from teachkit.model.failures import job_faults

    df = sales(rows=160_000, partitions=16)
    for _ in range(5):
        cluster.client.wait_for_workers(3, timeout=60)
        kill = faults.kill_worker(cluster, "worker-2", when=faults.after_tasks(4, stage="shuffle-transfer"))
        with teachkit.record(cluster) as rec:
            with teachkit.job("groupby count, worker-2 killed"):
                df.groupby("category").count().compute()
            kill.wait(timeout=30)
            cluster.client.wait_for_workers(3, timeout=60)  # record the restarted worker joining
        facts = job_faults(rec.jobs[0])
        reruns = rec.summary()["jobs"][0]["reruns"]
        if facts["shuffle_restarted"] and reruns.get("worker-lost") and reruns.get("result-lost"):
            break
    return rec


def _work(part):
    """Every task takes at least 0.15 s, so the work, not Dask's overhead, sets the pace."""
    import time

    time.sleep(0.15)
    return part


def straggler(cluster) -> teachkit.Recording:
    """Lesson 6's steal: 24 partitions kept in memory, worker-3 made 6x slower, idle workers steal its queued tasks.

    Only the job on the kept partitions is recorded (its stage reads from
    memory).  Kept from the first of up to 8 real runs in which idle workers
    stole at least two tasks, all from worker-3, and one worker ran at least
    1.5 times the tasks of another in a stage.
    """
    import distributed

    from teachkit import faults
    from teachkit.model.balance import steals, uneven_stages

    df = sales(rows=240_000, partitions=24)
    for _ in range(8):
        kept = df.persist()
        distributed.wait(kept)
        with teachkit.record(cluster) as rec:
            with faults.slow_worker(cluster, "worker-3", factor=6):
                with teachkit.job("work on kept partitions, worker-3 slowed"):
                    kept.map_partitions(_work, meta=kept._meta).value.sum().compute()
        del kept
        job = rec.job("work on kept partitions, worker-3 slowed")
        moved = steals(job)
        if len(moved) >= 2 and all(s.victim == "worker-3" for s in moved) and uneven_stages(job, ratio=1.5):
            break
    return rec


def seed(cluster) -> teachkit.Recording:
    """Lesson 8's detailed example at full size: 1,000,000 rows, 500 partitions, 5 workers x 20 task slots."""
    df = sales(rows=1_000_000, partitions=500)
    plan = df.groupby("category").count(split_out=8, split_every=500, shuffle_method="tasks").optimize()
    with teachkit.record(cluster) as rec:
        with teachkit.job("groupby count, full size"):
            plan.compute()
    return rec


#: name -> (function, cluster: workers, threads per worker).
EXAMPLES = {"groupby": (groupby, 3, 1), "pipeline": (pipeline, 3, 1), "killed": (killed, 3, 1),
            "straggler": (straggler, 3, 1), "seed": (seed, 5, 20)}


def main(names: list[str]) -> None:
    for name in names or list(EXAMPLES):
        make, workers, threads = EXAMPLES[name]
        cluster = teachkit.start_cluster(workers=workers, threads_per_worker=threads, memory_limit="1GiB",
                                         dashboard=False)  # reused while the shape stays the same
        try:
            rec = make(cluster)
        except BaseException:
            cluster.close()
            raise
        rec.meta["example"] = name
        path = rec.save(OUT / f"{name}.json.gz")
        print(f"{path.name}: {len(rec.events)} events, {path.stat().st_size / 1024:.1f} KiB, "
              f"jobs={[j.name for j in rec.jobs]}")
    cluster = teachkit.cluster.current()
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main(sys.argv[1:])
