"""Work stealing is recorded for real: steals are scheduler log events, not task transitions."""

from __future__ import annotations

import dask
import pytest

import teachkit
from teachkit import faults
from teachkit.datasets import sales


@pytest.mark.cluster
@pytest.mark.timeout(180)
def test_an_idle_worker_steals_from_a_straggler():
    # No queuing on the scheduler: every task is assigned up front, so the fast worker
    # runs dry and steals from the slow one's backlog.
    with dask.config.set({"distributed.scheduler.worker-saturation": "inf"}):
        cluster = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        df = faults.slow_partitions(sales(rows=4_000, partitions=40), partitions=range(40), seconds=0.05)
        df.value.sum().compute()
        with faults.slow_worker(cluster, "worker-2", factor=10):
            with teachkit.record(cluster) as rec:
                df.value.sum().compute()
    finally:
        cluster.close()
    steals = [e for e in rec.events if e["kind"] == "steal" and e["outcome"] == "confirm"]
    assert steals, "the idle worker should have stolen queued tasks"
    workers = {w.address: w.name for w in rec.workers}
    assert {workers[e["victim"]] for e in steals} == {"worker-2"}
    assert {workers[e["thief"]] for e in steals} == {"worker-1"}
    stolen = [a for t in rec.jobs[0].dask_tasks.values() for a in t.attempts if a.stolen_from]
    assert len(stolen) == len({e["key"] for e in steals})
    assert all(a.stolen_from == "worker-2" and a.worker == "worker-1" for a in stolen)
    assert rec.summary()["jobs"][0]["faults"]["steals"] == len(stolen)
