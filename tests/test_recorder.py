"""The recorder on a real, tiny cluster: what it records, and that it never harms the job."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

import teachkit
from conftest import small_cluster
from teachkit.datasets import sales, sales_pandas
from teachkit.model.recording import Recording

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]

ROWS, PARTS = 8_000, 8


@pytest.fixture(scope="module")
def tk_cluster():
    with small_cluster(2) as cluster:
        yield cluster


@pytest.fixture
def df():
    return sales(rows=ROWS, partitions=PARTS)


def _done_attempts(job):
    return [a for t in job.dask_tasks.values() for a in t.attempts if a.outcome == "done"]


def test_cluster_binds_to_loopback_and_names_workers(tk_cluster):
    assert tk_cluster.address.startswith("tcp://127.0.0.1:")
    assert list(tk_cluster.workers) == ["worker-1", "worker-2"]
    assert all(a.startswith("tcp://127.0.0.1:") for a in tk_cluster.workers.values())
    assert teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard=False) is tk_cluster
    assert "worker-2" in tk_cluster._repr_html_()


def test_map_only_job(tk_cluster, df):
    with teachkit.record(tk_cluster) as rec:
        lengths = df.map_partitions(len).compute()
    assert list(lengths) == [ROWS // PARTS] * PARTS
    (job,) = rec.jobs
    assert len(job.dask_tasks) >= PARTS
    partitions = {t.index for t in job.dask_tasks.values() if t.prefix == "make_partition"}
    assert partitions == set(range(PARTS))
    done = _done_attempts(job)
    assert len(done) == len(job.dask_tasks)
    assert {a.worker for a in done} <= {"worker-1", "worker-2"}
    for a in done:
        assert a.start is not None and a.assigned <= a.start + 0.05 and a.start <= a.stop
        assert a.slot == 1 and a.nbytes is not None
    assert job.duration_s > 0
    assert rec.warnings == []


def test_a_block_leaves_no_plugin_behind(tk_cluster, df):
    client = tk_cluster.client
    with teachkit.record(tk_cluster) as rec:
        df.value.sum().compute()
        on_workers = client.run(lambda dask_worker: sorted(dask_worker.plugins))
        assert all("teachkit-worker-recorder" in names for names in on_workers.values())
    assert rec.warnings == []
    left = client.run_on_scheduler(lambda dask_scheduler: [*dask_scheduler.plugins, *dask_scheduler.worker_plugins])
    assert "teachkit-recorder" not in left and "teachkit-worker-recorder" not in left
    on_workers = client.run(lambda dask_worker: sorted(dask_worker.plugins))
    assert not any("teachkit-worker-recorder" in names for names in on_workers.values())


def test_groupby_with_shuffle_records_moves(tk_cluster):
    df = sales(rows=16_000, partitions=16)  # 16 partitions: dask picks split_out=2, a P2P shuffle
    with teachkit.record(tk_cluster) as rec:
        result = df.groupby("category").value.count().compute()
    expected = sales_pandas(16_000, 16).groupby("category").value.count()
    assert result.sort_index().tolist() == expected.sort_index().tolist()
    (job,) = rec.jobs
    prefixes = {t.prefix for t in job.dask_tasks.values()}
    assert {"shuffle-transfer", "shuffle-barrier"} <= prefixes  # dask's default P2P shuffle
    p2p = [e for e in rec.events if e["kind"] == "p2p"]
    assert p2p and all(e["nbytes"] > 0 for e in p2p)
    assert {e["source"] for e in p2p} <= set(tk_cluster.workers.values())
    summary = rec.summary()["jobs"][0]
    assert summary["num_tasks"] == len(job.dask_tasks)
    assert sum(summary["workers"].values()) >= len(job.dask_tasks)


def test_two_jobs_in_one_block_have_names(tk_cluster, df):
    with teachkit.record(tk_cluster) as rec:
        with teachkit.job("count rows"):
            n = len(df)
        total = df.value.sum().compute()
    assert n == ROWS and total == pytest.approx(sales_pandas(ROWS, PARTS).value.sum())
    assert [j.name for j in rec.jobs][0] == "count rows"
    assert len(rec.jobs) == 2 and rec.jobs[1].name  # derived from the operation
    assert rec.jobs[1].expr.get("logical") and rec.jobs[1].expr.get("optimized")
    assert rec.jobs[0].submitted < rec.jobs[1].submitted


def test_persist_is_recorded_until_done(tk_cluster, df):
    with teachkit.record(tk_cluster) as rec:
        kept = df.assign(double=df.value * 2).persist()
    (job,) = rec.jobs
    assert all(t.final is not None and t.final.outcome == "done" for t in job.dask_tasks.values())
    del kept


def test_failing_task_is_recorded_and_raised(tk_cluster, df):
    def boom(part):
        if part["id"].iloc[0] == 0:
            raise ValueError("bad partition 0")
        return part

    with pytest.raises(ValueError, match="bad partition 0"):
        with teachkit.record(tk_cluster) as rec:
            df.map_partitions(boom, meta=df._meta).compute()
    (job,) = rec.jobs
    erred = [a for t in job.dask_tasks.values() for a in t.attempts if a.outcome == "erred"]
    assert erred and "bad partition 0" in erred[0].error
    assert any("bad partition 0" in e for e in rec.summary()["jobs"][0]["errors"])


def test_recorder_failure_never_breaks_the_job(tk_cluster, df):
    scheduler = tk_cluster.local.scheduler

    def broken_snapshot(*args, **kwargs):
        raise RuntimeError("injected recorder failure")

    with teachkit.record(tk_cluster) as rec:
        plugin = scheduler.plugins["teachkit-recorder"]
        plugin._snapshot = broken_snapshot
        plugin._flat = None  # every transition hook now fails too
        total = df.value.sum().compute()
    assert total == pytest.approx(sales_pandas(ROWS, PARTS).value.sum())
    assert any("injected recorder failure" in w for w in rec.warnings)
    assert 0 < sum("transition" in w for w in rec.warnings) <= plugin.MAX_WARNINGS
    assert "teachkit-recorder" not in scheduler.plugins  # removed at the end of the block


def test_round_trip_equality(tk_cluster, df, tmp_path):
    with teachkit.record(tk_cluster) as rec:
        df.groupby("category").value.sum().compute()
    for name in ("rec.json", "rec.json.gz"):
        path = rec.save(tmp_path / name)
        loaded = Recording.load(path)
        assert loaded == rec
        assert loaded.summary() == rec.summary()  # derived data is the same too


def test_record_without_cluster_says_what_to_do():
    with pytest.raises(teachkit.RecordingStartError, match="start_cluster"):
        with teachkit.record(object()):
            pass


def test_a_key_released_by_one_job_is_run_again_by_the_next(tk_cluster, df):
    with teachkit.record(tk_cluster) as rec:
        df.value.sum().compute()
        df.repartition(npartitions=2).value.max().compute()
    first, second = rec.jobs
    reads = lambda job: {t.key for t in job.dask_tasks.values() if t.prefix == "make_partition"}  # noqa: E731
    assert len(reads(first)) == PARTS and reads(second) == reads(first)
    assert all(len(t.attempts) == 1 for t in first.dask_tasks.values())
    assert [first.expr.get("action"), second.expr.get("action")] == ["compute", "compute"]


def test_persist_keeps_results_in_memory(tk_cluster):
    df = sales(rows=16_000, partitions=16)
    with teachkit.record(tk_cluster) as rec:
        kept = df.groupby("category").count().persist()
    (job,) = rec.jobs
    assert job.expr.get("action") == "persist"
    assert job.stages[-1].output == "memory"
    del kept


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connect_to_external_scheduler(tmp_path):
    dask_cli = shutil.which("dask", path=os.path.dirname(sys.executable))
    assert dask_cli, "the dask command-line tool should be installed with distributed"
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ]
    try:
        for name in ("0", "1"):
            procs.append(subprocess.Popen(
                [dask_cli, "worker", address, "--name", name, "--nthreads", "1", "--host", "127.0.0.1",
                 "--no-dashboard", "--memory-limit", "1GiB"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        cluster = None
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                cluster = teachkit.connect(address, timeout=5)
                cluster.client.wait_for_workers(2, timeout=30)
                break
            except teachkit.ClusterError:
                time.sleep(0.5)
        assert cluster is not None, "the external scheduler never answered"
        try:
            with teachkit.record(cluster) as rec:
                result = sales(rows=ROWS, partitions=PARTS).groupby("category").value.count().compute()
            assert int(result.sum()) == ROWS
            (job,) = rec.jobs
            assert {a.worker for a in _done_attempts(job)} == {"worker-1", "worker-2"}
            assert [w.name for w in rec.workers] == ["worker-1", "worker-2"]
        finally:
            cluster.close()
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def test_connect_to_nothing_gives_one_clear_error():
    port = _free_port()
    with pytest.raises(teachkit.ClusterError, match="Could not reach a Dask scheduler"):
        teachkit.connect(f"tcp://127.0.0.1:{port}", timeout=1)

