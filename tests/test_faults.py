"""Faults on a real, tiny cluster: kill a worker mid-job, slow one down, wrong use.

Every kill must leave the job's result right (compared with pandas) and a
recording that shows the re-runs.  One 3-worker cluster serves the kill tests;
each test first waits until the Nanny has brought every worker back.
"""

from __future__ import annotations

import time
import types

import distributed
import pandas as pd
import pytest

import teachkit
from conftest import small_cluster
from teachkit import faults
from teachkit.errors import ArgumentError
from teachkit.datasets import sales, sales_pandas
from teachkit.model.failures import job_faults, job_notes


ROWS, PARTS = 48_000, 16  # 16 partitions: dask-expr picks a P2P shuffle (split_out=2)


def _expected() -> pd.DataFrame:
    return sales_pandas(rows=ROWS, partitions=PARTS).groupby("category").count()


def _same(got: pd.DataFrame, want: pd.DataFrame) -> bool:
    return got.sort_index().astype("int64").equals(want.sort_index().astype("int64"))


@pytest.mark.cluster
@pytest.mark.timeout(60)
def test_last_live_worker_cannot_be_killed():
    c = teachkit.start_cluster(workers=1, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        with pytest.raises(faults.FaultError, match="last live worker"):
            faults.kill_worker(c, "worker-1", when=faults.after_tasks(1))
    finally:
        c.close()


@pytest.fixture(scope="module")
def cluster3():
    with small_cluster(3) as c:
        yield c


@pytest.fixture
def ready(cluster3):
    """The module's cluster, with all 3 workers alive (a killed one has been restarted)."""
    cluster3.client.wait_for_workers(3, timeout=60)
    return cluster3


def _run_with_kill(cluster, when, **groupby):
    kill = faults.kill_worker(cluster, "worker-2", when=when)
    with teachkit.record(cluster) as rec:
        got = sales(rows=ROWS, partitions=PARTS).groupby("category").count(**groupby).compute()
    kill.wait(timeout=30)
    return kill, rec, got


def _assert_reruns(kill, rec, capfd):
    assert kill.status == "killed", kill.message
    job = rec.jobs[0]
    reruns = [a for t in job.dask_tasks.values() for a in t.attempts if a.number > 1]
    assert reruns, "the recording shows no re-run attempt"
    assert any(w.name == "worker-2" and w.cause == "lost" for w in rec.workers)
    facts = rec.summary()["jobs"][0]["faults"]
    assert [w["worker"] for w in facts["workers_lost"]] == ["worker-2"]
    assert facts["workers_lost"][0]["killed"]["pid"] == kill.pid
    out, err = capfd.readouterr()
    assert [line for line in out.splitlines() if line.startswith("teachkit: killed")] == [kill.message]
    assert "Traceback" not in err and "ERROR" not in err
    return facts


@pytest.mark.timeout(90)
@pytest.mark.cluster
def test_kill_during_map_stage(ready, capfd):
    kill, rec, got = _run_with_kill(ready, faults.after_tasks(3, stage="make_partition"), split_out=1)
    assert _same(got, _expected())
    facts = _assert_reruns(kill, rec, capfd)
    causes = rec.summary()["jobs"][0]["reruns"]
    assert causes.get("worker-lost", 0) + causes.get("result-lost", 0) >= 1, causes
    assert facts["workers_lost"][0]["running"] or facts["workers_lost"][0]["held"]


@pytest.mark.timeout(90)
@pytest.mark.cluster
def test_kill_during_shuffle(ready, capfd):
    kill, rec, got = _run_with_kill(ready, faults.after_tasks(2, stage="shuffle-transfer"))
    assert _same(got, _expected())
    facts = _assert_reruns(kill, rec, capfd)
    # It died while the shuffle ran: after 2 transfers, before the barrier.
    barrier = next(t for t in rec.jobs[0].dask_tasks.values() if t.prefix == "shuffle-barrier")
    assert facts["workers_lost"][0]["t_s"] < barrier.attempts[-1].stop
    # Dask restarts the whole P2P shuffle when an *output* worker dies; when the dead worker only sent
    # data (2 output partitions here, 3 workers), just its lost work runs again elsewhere.
    if facts["shuffle_restarted"]:
        assert any("P2P shuffle started over" in note for note in facts["notes"])


@pytest.mark.timeout(90)
@pytest.mark.cluster
def test_kill_during_final_gather(ready, capfd):
    # Tree reduction: once every chunk is done, the combine/aggregate tasks gather the partial results.
    when = faults.after_tasks(PARTS, stage="chunk")
    kill, rec, got = _run_with_kill(ready, when, split_out=1)
    assert _same(got, _expected())
    _assert_reruns(kill, rec, capfd)


@pytest.mark.timeout(90)
@pytest.mark.cluster
def test_restarted_worker_gets_a_new_name(ready):
    kill = faults.kill_worker(ready, "worker-2", when=faults.stage_progress(0.3))
    with teachkit.record(ready) as rec:
        sales(rows=ROWS, partitions=PARTS).value.sum().compute()
        kill.wait(timeout=30)
        ready.client.wait_for_workers(3, timeout=60)
    names = [w.name for w in rec.workers]
    assert "worker-2b" in names, names


@pytest.mark.timeout(90)
@pytest.mark.cluster
def test_straggler_gets_fewer_tasks_and_the_recording_says_why(ready, capsys):
    # Tasks of ~20 ms (slow_partitions) so that the slowdown, not noise, decides; warm every worker first.
    df = faults.slow_partitions(sales(rows=ROWS, partitions=PARTS), partitions=range(PARTS), seconds=0.02)
    df.value.sum().compute()
    with faults.slow_worker(ready, "worker-3", factor=25):
        with teachkit.record(ready) as rec:
            df.value.sum().compute()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("teachkit: worker-3 now runs every task 25x slower")
    assert out[-1] == "teachkit: worker-3 runs at normal speed again"
    facts = rec.summary()["jobs"][0]["faults"]
    counts = facts["tasks_per_worker"]
    assert counts["worker-3"] < min(counts["worker-1"], counts["worker-2"]), counts
    assert any(note.startswith("Uneven work") for note in facts["notes"]), facts["notes"]


@pytest.mark.timeout(90)
@pytest.mark.cluster
def test_kill_now_loses_persisted_results_and_lineage_rebuilds_them(ready, capsys):
    with teachkit.record(ready) as rec:
        df = sales(rows=ROWS, partitions=PARTS).persist()
        distributed.wait(df, timeout=30)
        kill = faults.kill_worker(ready, "worker-2")  # when=None: now, between two jobs
        assert kill.status == "killed" and kill.held, "worker-2 held persisted partitions"
        total = len(df.compute())
    assert total == ROWS
    persist = rec.jobs[0]
    rebuilt = [t.key for t in persist.dask_tasks.values() if any(a.cause == "result-lost" for a in t.attempts)]
    assert rebuilt, "the partitions held by worker-2 were recomputed from lineage"
    assert job_faults(persist)["workers_lost"][0]["held"]
    assert capsys.readouterr().out.count("teachkit: killed worker-2") == 1


@pytest.mark.timeout(60)
@pytest.mark.cluster
def test_slow_partitions_keeps_the_data(ready):
    df = faults.slow_partitions(sales(rows=ROWS, partitions=PARTS), partitions=[0, 5], seconds=0.2)
    assert len(df.compute()) == ROWS


# -- wrong use ----------------------------------------------------------------------
@pytest.mark.timeout(60)
@pytest.mark.cluster
def test_wrong_use_gives_one_sentence_errors(ready, capsys):
    with pytest.raises(faults.FaultError, match=r"no worker named 'worker-9'; the workers are: worker-1, worker-2"):
        faults.kill_worker(ready, "worker-9")
    with pytest.raises(faults.FaultError, match="No job is running"):
        faults.kill_worker(ready, "worker-2")  # when=None, idle cluster, nothing held
    kill = faults.kill_worker(ready, "worker-2", when=faults.after_tasks(1), start_timeout=0.3)
    with pytest.raises(faults.FaultError, match="no job started within 0.3 s"):
        kill.wait(timeout=10)
    remote = teachkit.Cluster(ready.client, None)  # what teachkit.connect() returns
    with pytest.raises(faults.FaultError, match="retire_workers"):
        faults.kill_worker(remote, "worker-2")
    kill = faults.kill_worker(ready, "worker-2", when=faults.after_tasks(1, stage="nope"))
    sales(rows=ROWS, partitions=PARTS).value.sum().compute()
    with pytest.raises(faults.FaultError, match="the job has no stage 'nope': its task prefixes are"):
        kill.wait(timeout=10)
    with pytest.raises(ArgumentError, match="factor=0.5 is too small: pass a number at least 1"):
        faults.slow_worker(ready, "worker-1", factor=0.5)
    kill = faults.kill_worker(ready, "worker-2", when=faults.after_tasks(10_000))
    sales(rows=ROWS, partitions=PARTS).value.sum().compute()
    assert kill.wait(timeout=10).status == "missed"
    assert len(ready.workers) == 3
    out = capsys.readouterr().out
    assert out.count("teachkit: did not kill worker-2: the job finished") == 1, out


def test_when_helpers_check_their_arguments():
    with pytest.raises(ArgumentError):
        faults.after_tasks(-1)
    with pytest.raises(ArgumentError):
        faults.stage_progress(1.5)
    with pytest.raises(ValueError):  # ArgumentError is a ValueError, for older `except ValueError` code
        faults.seconds(-2)
    with pytest.raises(ArgumentError, match="no partition 7"):
        faults.slow_partitions(sales(rows=400, partitions=4), partitions=[7])
    assert faults.after_tasks(3, "chunk").describe() == "after 3 tasks of chunk"


def test_shipped_killed_example_tells_the_whole_story():
    """No cluster: the saved recording of a real kill (tools/make_examples.py killed)."""
    rec = teachkit.Recording.load(teachkit.example_path("killed"))
    job = rec.jobs[0]
    facts = job_faults(job)
    (lost,) = facts["workers_lost"]
    assert lost["worker"] == "worker-2" and lost["killed"]["when"].startswith("after 4 tasks")
    assert lost["running"] and lost["held"] and lost["restarted_as"] == "worker-2b"
    for key in lost["running"]:  # re-assigned: a new attempt elsewhere
        attempts = job.dask_tasks[key].attempts
        assert attempts[0].end_cause == "worker-lost" and attempts[1].cause == "worker-lost"
        assert attempts[-1].outcome == "done" and attempts[-1].worker != "worker-2"
    for key in lost["held"]:  # lost with the worker, recomputed from lineage
        attempts = job.dask_tasks[key].attempts
        assert attempts[0].lost is not None and attempts[1].cause == "result-lost"
    assert facts["shuffle_restarted"] and facts["lineage"] > 0
    assert rec.summary()["jobs"][0]["faults"]["notes"] == job_notes(job)


KILL_NOTEBOOK = [
    "import teachkit\nfrom teachkit import faults\nfrom teachkit.datasets import sales\n"
    "cluster = teachkit.start_cluster(workers=3, threads_per_worker=1, memory_limit='1GiB', dashboard=False)",
    "kill = faults.kill_worker(cluster, 'worker-2', when=faults.after_tasks(4))\n"
    "with teachkit.record(cluster) as rec:\n"
    "    out = sales(rows=48_000, partitions=16).groupby('category').count().compute()\n"
    "print('rows', len(out))",
    "kill.wait(timeout=30).status",
    "cluster.close()",
]


@pytest.mark.slow
@pytest.mark.cluster
@pytest.mark.timeout(240)
def test_kill_line_shows_in_the_notebook_cell_that_ran_the_job(tmp_path):
    """The kill fires in the scheduler's thread; Jupyter must still show its line in the job's cell."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in KILL_NOTEBOOK])
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    texts = ["".join(o.get("text", "") for o in cell.outputs) for cell in nb.cells]
    assert "teachkit: killed worker-2 (pid " in texts[1], texts
    assert texts[1].index("teachkit: killed") < texts[1].index("rows 8")  # printed while the job ran
    assert "teachkit: killed" not in texts[0] + texts[2] + texts[3]
    assert nb.cells[2].outputs[0]["data"]["text/plain"] == "'killed'"


def test_a_teaching_cluster_waits_for_a_slow_restart():
    """dask gives a lost worker up after 15 s; on two loaded cores a Nanny's restart can take longer."""
    import dask

    from teachkit.restarts import RESTART_PATIENCE_S, be_patient

    seen = []
    local = types.SimpleNamespace(_update_worker_status=lambda op, msg: seen.append(
        dask.config.get("distributed.deploy.lost-worker-timeout")))
    be_patient(local)
    local._update_worker_status("remove", "tcp://127.0.0.1:1")
    assert seen == [f"{RESTART_PATIENCE_S}s"] and RESTART_PATIENCE_S > 15
    assert dask.config.get("distributed.deploy.lost-worker-timeout") != seen[0]  # only around that call


def test_a_missing_worker_is_explained():
    from teachkit.restarts import missing_reason

    running, closed = types.SimpleNamespace(name="running"), types.SimpleNamespace(name="closed")
    local = types.SimpleNamespace(workers={0: types.SimpleNamespace(status=running),
                                           1: types.SimpleNamespace(status=running),
                                           2: types.SimpleNamespace(status=closed)})
    killed = {"worker-2": (time.monotonic() - 3, True, "tcp://a"), "worker-3": (time.monotonic(), False, "tcp://b")}
    assert missing_reason(local, killed, "worker-9") is None
    assert missing_reason(local, killed, "worker-2") == (
        "worker-2 was killed 3 s ago and its Nanny is restarting it, which takes a few seconds (up to about 10 s on "
        "a busy machine): wait with cluster.client.wait_for_workers(3), then run this again.")
    assert missing_reason(local, killed, "worker-3").startswith("worker-3 was killed 0 s ago and stays dead")
