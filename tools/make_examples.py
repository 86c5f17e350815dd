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


EXAMPLES = {"groupby": groupby, "pipeline": pipeline, "killed": killed}


def main(names: list[str]) -> None:
    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        for name in names or list(EXAMPLES):
            rec = EXAMPLES[name](cluster)
            rec.meta["example"] = name
            path = rec.save(OUT / f"{name}.json.gz")
            print(f"{path.name}: {len(rec.events)} events, {path.stat().st_size / 1024:.1f} KiB, "
                  f"jobs={[j.name for j in rec.jobs]}")
    finally:
        cluster.close()


if __name__ == "__main__":
    main(sys.argv[1:])
