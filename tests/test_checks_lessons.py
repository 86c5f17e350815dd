"""The checks of lessons 6 and 7 (steals, a straggler's share, recovering only the lost work), held to the promises
of every check: never raise, never ✔ a wrong answer, say what they want, hint without answering.

The truth is computed here from the model (the Attempt objects and raw steal
events), not copied from the checks.  The shipped recordings need no cluster;
one module-scoped 3-worker cluster records a kill with each shuffle method.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

import teachkit
from teachkit.checks import Feedback, reset_hints
from teachkit.checks.balance import check_steals, check_straggler_share
from teachkit.checks.recovery import check_only_lost_work

S = "work on kept partitions, worker-3 slowed"
K = "groupby count, worker-2 killed"


@pytest.fixture(scope="module")
def shipped() -> dict:
    return {n: teachkit.Recording.load(teachkit.example_path(n)) for n in ("straggler", "killed", "groupby", "seed")}


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()
    yield
    reset_hints()


def true_steals(rec) -> int:
    """Spark-style tasks moved by a confirmed steal, counted from the attempts (one per task)."""
    job = rec.job(S)
    return sum(any(a.stolen_from for k in t.keys for a in job.dask_tasks[k].attempts) for t in job.tasks)


def bad_answers(rec) -> list:
    return ["5", "", "worker-3", 2.5, 5.0, float("nan"), float("inf"), -1, 10**100, True, False, None, {"n": 5},
            [], [5], ("x",), {5}, np.float64(5.0), pd.Series([5]), rec, rec.jobs[0], object(), print]


def test_the_true_number_of_steals_earns_a_tick(shipped):
    truth = true_steals(shipped["straggler"])
    assert truth > 0
    fb = check_steals(shipped["straggler"], truth, job=S)
    assert fb.ok is True and str(fb).startswith("✔ Correct:")
    assert check_steals(shipped["straggler"], np.int64(truth), job=S).ok is True


def test_bad_steal_answers_never_raise_and_never_tick(shipped):
    rec = shipped["straggler"]
    for bad in bad_answers(rec) + [true_steals(rec) + 1, true_steals(rec) - 1, 0]:
        fb = check_steals(rec, bad, job=S)
        assert isinstance(fb, Feedback) and fb.ok is not True, bad
        assert fb.message and "Traceback" not in fb.message


def test_checks_refuse_what_is_not_their_recording(shipped):
    truth = true_steals(shipped["straggler"])
    for bad_rec in [None, "rec", 3, [], {"jobs": []}, shipped["straggler"].jobs[0], object(), teachkit.Recording()]:
        assert check_steals(bad_rec, truth, job=S).ok is not True
        assert check_straggler_share(bad_rec, "worker-3", job=S).ok is not True
        assert check_only_lost_work(bad_rec, job=K).ok is not True
    for check in (check_steals, check_straggler_share, check_only_lost_work):
        fb = check()
        assert fb.ok is False and "arguments" in fb.message
    other = check_steals(shipped["killed"], truth, job=S)  # another question's recording
    assert other.ok is False and "no job named" in other.message
    assert check_straggler_share(shipped["killed"], "worker-3", job=S).ok is False


def test_the_blank_and_a_run_without_a_steal_or_death_are_your_turn(shipped):
    assert check_steals(shipped["straggler"], ..., job=S).ok is None
    none = check_steals(shipped["groupby"], 0, job="groupby count")
    assert none.ok is None and "again" in none.message  # no steal in that run: no single answer
    alive = check_only_lost_work(shipped["groupby"], job="groupby count")
    assert alive.ok is None and "no worker died" in alive.message
    assert alive.to_dict()["state"] == "unanswered"


def test_steal_hints_grow_and_never_hold_the_answer(shipped):
    rec = shipped["straggler"]
    truth = true_steals(rec)
    wrong = truth + 7
    messages = [check_steals(rec, wrong, job=S) for _ in range(4)]
    assert [m.hint_level for m in messages] == [1, 2, 3, 3]
    assert len({m.message for m in messages[:3]}) == 3
    for fb in messages:
        text = fb.message.replace(repr(S), "").replace(str(wrong), "")
        assert not re.search(rf"(?<![\w.,-]){truth}(?![\w.,])", text), fb.message


def test_a_straggler_share_is_checked_on_the_stage_and_its_size(shipped):
    rec = shipped["straggler"]
    job = rec.job(S)
    stage = job.stages[0]
    share = stage.workers.get("worker-3", 0) / stage.num_tasks
    assert check_straggler_share(rec, "worker-3", at_most=min(0.99, share + 0.01), job=S).ok is True
    assert check_straggler_share(rec, "worker-3", at_most=max(0.01, share - 0.01), job=S).ok is False
    busiest = max(stage.workers, key=stage.workers.get)
    assert check_straggler_share(rec, busiest, at_most=0.2, job=S).ok is False
    few = check_straggler_share(shipped["groupby"], "worker-1", at_most=0.5, stage=1, job="groupby count")
    assert few.ok is False and "only" in few.message  # 2 tasks for 3 workers: nothing to share out
    for bad in [3, None, ["worker-3"], "worker-9"]:
        assert check_straggler_share(rec, bad, job=S).ok is False, bad
    for bad in [0, 1, 1.5, -0.2, float("nan"), True, "0.2", None]:
        assert check_straggler_share(rec, "worker-3", at_most=bad, job=S).ok is False, bad


def test_a_straggler_hint_never_gives_the_code(shipped):
    hints = [check_straggler_share(shipped["straggler"], "worker-1", job=S).message for _ in range(3)]
    assert not any(code in h for h in hints for code in ("partitions=", "npartitions", "repartition("))


def test_a_restarted_shuffle_is_not_only_the_lost_work(shipped):
    hints = [check_only_lost_work(shipped["killed"], job=K) for _ in range(3)]
    assert all(h.ok is False for h in hints) and "started over" in hints[0].message
    assert not any('"tasks"' in h.message or "'tasks'" in h.message for h in hints)


def _work(part):
    time.sleep(0.05)
    return part


@pytest.fixture(scope="module")
def kills():
    """The same groupby, worker-2 killed half-way, once with each shuffle method."""
    from conftest import small_cluster

    from teachkit import faults
    from teachkit.datasets import sales

    with small_cluster(3) as cluster:
        busy = sales(rows=120_000, partitions=24)
        busy = busy.map_partitions(_work, meta=busy._meta)
        recs = {}
        for method in ("tasks", "p2p"):
            cluster.client.wait_for_workers(3, timeout=60)
            kill = faults.kill_worker(cluster, "worker-2", when=faults.stage_progress(0.5))
            with teachkit.record(cluster) as rec:
                with teachkit.job(f"kill, {method}"):
                    busy.groupby("category").count(split_out=3, shuffle_method=method).compute()
                kill.wait()
            recs[method] = rec
        yield recs


@pytest.mark.cluster
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_only_the_lost_work_with_the_task_shuffle(kills):
    from teachkit.model.recovery import reruns

    tasks = check_only_lost_work(kills["tasks"], job="kill, tasks")
    assert tasks.ok is True, str(tasks)
    assert reruns(kills["tasks"].job("kill, tasks"))
    p2p = check_only_lost_work(kills["p2p"], job="kill, p2p")
    assert p2p.ok is False and "started over" in p2p.message
    assert check_only_lost_work(kills["p2p"], job="kill, tasks").ok is False  # another question's recording
