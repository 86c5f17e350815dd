"""The exercise checks: never raise, never ✔ a wrong answer, say what they want, hint without answering.

Most tests read the shipped recordings (no cluster): every check gives ✔ for the
truth (computed here from the model, not copied from the check) and never for
any of a table of bad answers.  One module-scoped 2-worker cluster records the
"change the job" targets, a broadcast join and a run whose tasks overlap.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import teachkit
from teachkit import checks
from teachkit.checks import CHECKS, MIME, CheckFailed, reset_hints
from teachkit.errors import ArgumentError

G, K = "groupby count", "groupby count, worker-2 killed"


@pytest.fixture(scope="module")
def shipped() -> dict:
    return {name: teachkit.Recording.load(teachkit.example_path(name)) for name in ("groupby", "killed", "pipeline")}


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()
    yield
    reset_hints()


def truths(rec: dict) -> dict:
    """For every check: (recording, fixed arguments, the true answer or None for a target), from the model."""
    g, k, p = rec["groupby"].job(G), rec["killed"].job(K), rec["pipeline"].jobs[0]
    per_worker = {}
    for t in g.tasks:
        per_worker[t.worker] = per_worker.get(t.worker, 0) + 1
    busiest = max(per_worker, key=per_worker.get)
    quietest = min(per_worker, key=per_worker.get)
    dead = [w.name for w in rec["killed"].workers if w.cause == "lost"]
    reran = sorted(t.partition for t in k.stages[0].tasks if t.attempts > 1)
    lost = sum(any(a.cause == "result-lost" for key in t.keys for a in k.dask_tasks[key].attempts) for t in k.tasks)
    key = next(key for key in g.stages[1].tasks[0].keys if key.startswith("p2pshuffle"))
    short_key = re.sub(r"-[0-9a-f]{32}", "", key)
    return {
        "check_num_stages": ("groupby", {"job": G}, len(g.stages)),
        "check_tasks_per_stage": ("groupby", {"job": G}, [s.num_tasks for s in g.stages]),
        "check_busiest_worker": ("groupby", {"job": G}, busiest),
        "check_quietest_worker": ("groupby", {"job": G}, quietest),
        "check_tasks_per_worker": ("groupby", {"job": G}, round(g.stages[0].num_tasks / len(rec["groupby"].workers))),
        "check_shuffle_bytes": ("groupby", {"job": G}, g.stages[0].shuffle_write_bytes),
        "check_parallel_tasks": ("groupby", {"job": G}, _peak(g)),
        "check_dead_worker": ("killed", {"job": K}, dead[0]),
        "check_recomputed": ("killed", {"job": K}, lost),
        "check_rerun_tasks": ("killed", {"job": K, "stage": 0}, reran),
        "check_task_attempts": ("killed", {"job": K, "stage": 0, "partition": 0}, k.stages[0].tasks[0].attempts),
        "check_num_tasks": ("groupby", {"job": G, "stage": 1}, g.stages[1].num_tasks),
        "check_task_worker": ("groupby", {"job": G, "stage": 1, "partition": 0}, g.stages[1].tasks[0].worker),
        "check_task_stage": ("groupby", {"job": G, "key": short_key}, 1),
        "check_stage_parents": ("groupby", {"job": G, "stage": 1}, list(g.stages[1].parents)),
        "check_two_stage_job": ("groupby", {"job": G}, None),
        "check_runs_in_stages": ("groupby", {"job": G, "stages": len(g.stages)}, None),
        "check_partitions_for_workers": ("groupby", {"job": G, "workers": 3, "per_worker": 5}, None),
        "check_no_shuffle": ("pipeline", {"job": p.name}, None),
        "check_broadcast_join": (None, {}, None),  # needs a real join: see the cluster tests below
    }


def _peak(job) -> int:
    """Most tasks computing at once, counted independently: at every start, tasks running and slots busy."""
    spans = [(a.start, a.stop, (t.stage, t.partition), (a.worker, a.slot)) for t in job.tasks for key in t.keys
             for a in job.dask_tasks[key].attempts if a.start is not None and a.stop is not None]
    return max(min(len({who for s, e, who, _ in spans if s <= t0 < e}),
                   len({slot for s, e, _, slot in spans if s <= t0 < e})) for t0, _, _, _ in spans)


def call(name: str, rec, kwargs: dict, answer=...):
    fn = CHECKS[name]
    return fn(rec, **kwargs) if truths_is_target(name) else fn(rec, answer, **kwargs)


def truths_is_target(name: str) -> bool:
    return name in ("check_two_stage_job", "check_runs_in_stages", "check_partitions_for_workers",
                    "check_no_shuffle", "check_broadcast_join")


def test_there_are_enough_checks_for_the_course():
    assert len(CHECKS) >= 15
    assert {"check_num_stages", "check_tasks_per_stage", "check_two_stage_job", "check_busiest_worker",
            "check_recomputed"} <= set(CHECKS)
    assert callable(checks.tasks_per_worker) and checks.Feedback


def test_every_check_is_in_the_tables(shipped):
    assert set(truths(shipped)) == set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_truth_earns_a_tick(shipped, name):
    which, kwargs, truth = truths(shipped)[name]
    if which is None:
        pytest.skip("checked on a real join below")
    fb = call(name, shipped[which], kwargs, truth)
    assert fb.ok is True, str(fb)
    assert str(fb).startswith("✔ Correct:")


def _bad_answers(shipped) -> list:
    job = shipped["groupby"].jobs[0]
    return ["2", "12", "[1, 2]", "", "worker-99", 2.5, 1e308, float("nan"), float("inf"), -1, -3.5, 10**100,
            True, False, None, {"stages": 2}, [], [1, 2, 3, 4, 5, 6, 7], [True, False], ["worker-1", "worker-2"],
            ("x",), {1, 99}, np.float64(2.5), np.array([0.5, 1.5]), pd.Series([1, 2]), shipped["groupby"], job,
            object(), print]


@pytest.mark.parametrize("name", sorted(n for n in CHECKS if not truths_is_target(n)))
def test_bad_answers_never_raise_and_never_tick(shipped, name):
    which, kwargs, truth = truths(shipped)[name]
    for bad in _bad_answers(shipped):
        fb = call(name, shipped[which], kwargs, bad)
        assert isinstance(fb, checks.Feedback), bad
        assert fb.ok is not True, f"{name} accepted {bad!r}: {fb}"
        assert fb.message and "Traceback" not in fb.message


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_anything_but_a_recording_never_raises_and_never_ticks(shipped, name):
    which, kwargs, truth = truths(shipped)[name]
    answer = truth if truth is not None else ...
    for bad_rec in [None, "rec", 3, 2.5, True, [], {"jobs": []}, shipped["groupby"].jobs[0], object(),
                    teachkit.Recording()]:
        fb = call(name, bad_rec, kwargs, answer) if truth is not None else CHECKS[name](bad_rec, **kwargs)
        assert fb.ok is not True, f"{name} accepted {bad_rec!r}"
    fb = CHECKS[name]()  # no arguments at all
    assert fb.ok is False and "arguments" in fb.message


def test_answers_of_the_right_value_but_the_wrong_kind_are_refused(shipped):
    rec = shipped["groupby"]
    two = len(rec.job(G).stages)
    assert two == 2
    for wrong_kind in ("2", 2.0, [2], np.float64(2.0), "two"):
        fb = checks.check_num_stages(rec, wrong_kind, job=G)
        assert fb.ok is False and "whole number" in fb.message, wrong_kind
    assert checks.check_num_stages(rec, np.int64(two), job=G).ok is True  # a numpy integer is a whole number
    one_task = shipped["pipeline"].jobs[0].stages[1]
    assert one_task.num_tasks == 1
    fb = checks.check_num_tasks(shipped["pipeline"], True, stage=1)
    assert fb.ok is False and "True/False" in fb.message
    counts = [s.num_tasks for s in rec.job(G).stages]
    text = "".join(map(str, counts))
    fb = checks.check_tasks_per_stage(rec, text, job=G)
    assert fb.ok is False and "text, not a list" in fb.message
    assert checks.check_tasks_per_stage(rec, tuple(counts), job=G).ok is True


def test_the_blank_is_your_turn_for_every_check(shipped):
    for name, (which, kwargs, truth) in truths(shipped).items():
        if truth is None:
            continue
        fb = call(name, shipped[which], kwargs, ...)
        assert fb.ok is None and str(fb).startswith("… Your turn:"), name
        assert fb.to_dict()["state"] == "unanswered"


def test_a_recording_of_another_question_is_refused(shipped):
    for name, (which, kwargs, truth) in truths(shipped).items():
        if which is None:
            continue
        other = shipped["killed" if which != "killed" else "groupby"]
        fb = call(name, other, kwargs, truth)
        assert fb.ok is False and "no job named" in fb.message, (name, str(fb))


def _tokens(truth) -> list[str]:
    if isinstance(truth, str):
        return [truth]
    if isinstance(truth, int):
        return [rf"(?<![\w.,]){truth}(?![\w.,])", f"{truth:,}"]
    if isinstance(truth, list) and len(truth) <= 3:
        return [re.escape(repr(truth))] + [rf"(?<![\w.,]){n}(?![\w.,])" for n in truth]
    return [re.escape(", ".join(map(str, truth))), re.escape(repr(truth))]


WRONG = {"check_num_stages": 7, "check_tasks_per_stage": None, "check_busiest_worker": None,
         "check_quietest_worker": None, "check_tasks_per_worker": 40, "check_shuffle_bytes": 10**9,
         "check_parallel_tasks": 9, "check_dead_worker": "worker-1", "check_recomputed": 9,
         "check_rerun_tasks": [1], "check_task_attempts": 5, "check_num_tasks": 9, "check_task_worker": None,
         "check_task_stage": 0, "check_stage_parents": [3]}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_hints_grow_with_each_miss_and_never_hold_the_answer(shipped, name):
    which, kwargs, truth = truths(shipped)[name]
    wrong = WRONG[name]
    if wrong is None:  # the other workers / a list one off
        names = [w.name for w in shipped[which].workers if w.name != truth]
        wrong = names[0] if isinstance(truth, str) else [truth[0] + 5, *truth[1:]]
    messages = [call(name, shipped[which], kwargs, wrong) for _ in range(4)]
    assert [m.ok for m in messages] == [False] * 4
    assert [m.hint_level for m in messages] == [1, 2, 3, 3]
    assert len({m.message for m in messages[:3]}) == 3, "each miss should give a stronger hint"
    for fb in messages:
        text = fb.message.replace(repr(kwargs.get("job", "")), "").replace(str(kwargs.get("key", "")), "")
        text = text.replace(repr(wrong), "").replace(str(wrong), "")
        for token in _tokens(truth):
            assert not re.search(token, text), f"{name} gave the answer away ({truth!r}) in: {fb.message}"
    if isinstance(truth, int) and name == "check_shuffle_bytes":
        assert not re.search(r"32(\.0)? ?KiB", " ".join(m.message for m in messages))


def test_hints_are_counted_per_question(shipped):
    rec = shipped["groupby"]
    assert checks.check_num_stages(rec, 7, job=G).hint_level == 1
    assert checks.check_num_stages(rec, 7, job=G).hint_level == 2
    assert checks.check_num_stages(rec, 7, job=G, question="another").hint_level == 1
    assert checks.check_num_tasks(rec, 9, stage=0, job=G).hint_level == 1
    assert checks.check_num_tasks(rec, 9, stage=1, job=G).hint_level == 1
    reset_hints()
    assert checks.check_num_stages(rec, 7, job=G).hint_level == 1


def test_units_and_tolerance_of_shuffle_bytes(shipped):
    rec = shipped["groupby"]
    nbytes = rec.job(G).stages[0].shuffle_write_bytes
    for close in (nbytes * 1.08, nbytes * 0.93, f"{nbytes / 1024:.1f} KiB", f"{nbytes / 1000:.1f} kB",
                  f"{nbytes} B", f"{nbytes / 1024 ** 2:.4f}MiB"):
        assert checks.check_shuffle_bytes(rec, close, job=G).ok is True, close
    for far in (nbytes * 1.2, nbytes * 0.5, f"{nbytes / 1024:.1f} MiB", f"{nbytes}", "32 apples", "1e999 B"):
        fb = checks.check_shuffle_bytes(rec, far, job=G)
        assert fb.ok is False, far
    assert "bytes" in checks.check_shuffle_bytes(rec, "lots", job=G).message
    assert checks.check_shuffle_bytes(shipped["pipeline"], 100).ok is False  # a job without a shuffle


def test_counts_are_spark_style_tasks_in_check_and_hint(shipped):
    rec = shipped["groupby"]
    job = rec.job(G)
    spark = {w: sum(t.worker == w for t in job.tasks) for w in {t.worker for t in job.tasks}}
    assert checks.tasks_per_worker(rec, job=G) == spark
    dask = rec.summary()["jobs"][0]["workers"]  # Dask tasks: a different (larger) unit
    assert sum(dask.values()) > sum(spark.values())
    loser = min(spark, key=spark.get)
    reset_hints()
    checks.check_busiest_worker(rec, loser, job=G)
    fb = checks.check_busiest_worker(rec, loser, job=G)
    assert f"{loser} ran {spark[loser]} " in fb.message and "one per partition" in fb.message


def test_a_tie_and_a_run_without_a_death_have_no_answer(shipped):
    rec = shipped["pipeline"]
    job = rec.jobs[0]
    spread = {w: sum(t.worker == w for t in job.tasks) for w in {t.worker for t in job.tasks}}
    top = max(spread.values())
    if list(spread.values()).count(top) > 1:
        fb = checks.check_busiest_worker(rec, max(spread, key=spread.get))
        assert fb.ok is None and "tied" in fb.message
    for name in ("check_dead_worker", "check_recomputed"):
        fb = CHECKS[name](shipped["groupby"], "worker-1" if name == "check_dead_worker" else 0, job=G)
        assert fb.ok is None and "no worker died" in fb.message
    fb = checks.check_rerun_tasks(shipped["groupby"], [], job=G)
    assert fb.ok is None


def test_the_grader_can_read_every_result(shipped):
    fb = checks.check_num_stages(shipped["groupby"], 7, job=G)
    bundle = fb._repr_mimebundle_()
    assert bundle[MIME] == {"check": "check_num_stages", "question": G, "state": "wrong",
                            "message": fb.message, "hint_level": 1}
    assert bundle["text/plain"].startswith("✘ Not yet:") and "✘ Not yet:" in bundle["text/html"]
    assert checks.check_num_stages(shipped["groupby"], 7, job=G, question="q1").to_dict()["question"] == "q1"


def test_raise_mode_for_nbgrader_and_otter(shipped, monkeypatch):
    monkeypatch.setenv("TEACHKIT_CHECKS", "raise")
    rec = shipped["groupby"]
    assert checks.check_num_stages(rec, len(rec.job(G).stages), job=G).ok is True
    with pytest.raises(CheckFailed, match="Not yet"):
        checks.check_num_stages(rec, "two", job=G)
    with pytest.raises(CheckFailed, match="Your turn"):
        checks.check_num_stages(rec, ..., job=G)


def test_tasks_per_worker_says_what_is_wrong():
    with pytest.raises(ArgumentError, match="recording"):
        checks.tasks_per_worker("not a recording")


# -- on a real, tiny cluster ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs():
    """One recording of named jobs on a 2-worker cluster, plus one of another question."""
    from conftest import small_cluster

    from teachkit.datasets import sales
    from teachkit.faults import slow_partitions

    with small_cluster(2) as cluster:
        df = sales(rows=12_000, partitions=12)
        other = sales(rows=4_000, partitions=4, seed=1)
        small = pd.DataFrame({"category": ["books", "games", "toys"], "label": ["B", "G", "T"]})
        import dask.dataframe as dd

        out = {}
        with teachkit.record(cluster) as rec:
            with teachkit.job("two"):
                df.shuffle("category").persist()
            with teachkit.job("narrow"):
                df.assign(half=df.value / 2).persist()
            with teachkit.job("shuffled"):
                out["shuffled"] = df.shuffle("category").groupby("category").value.sum().compute()
            with teachkit.job("tree"):
                out["tree"] = df.groupby("category").value.sum(split_out=1).compute()
            with teachkit.job("bcast"):
                df.merge(dd.from_pandas(small, npartitions=1), on="category").persist()
            with teachkit.job("shufjoin"):
                df.merge(other, on="id").persist()
            with teachkit.job("slow"):
                slow_partitions(sales(rows=8_000, partitions=8), partitions=range(8), seconds=0.3).persist()
        with teachkit.record(cluster) as rec_other:
            with teachkit.job("other question"):
                df.shuffle("category").persist()
        yield rec, rec_other, out


@pytest.mark.cluster
@pytest.mark.timeout(240)
def test_targets_on_real_jobs(runs):
    rec, rec_other, out = runs
    assert checks.check_two_stage_job(rec, job="two").ok is True
    assert checks.check_two_stage_job(rec, job="narrow").ok is False
    tree = checks.check_two_stage_job(rec, job="tree")  # two stages, but a tree reduction is not a shuffle
    assert tree.ok is False and "not joined by the shuffles" in tree.message
    assert checks.check_two_stage_job(rec_other, job="two").ok is False  # another question's recording
    assert checks.check_runs_in_stages(rec, 1, job="narrow").ok is True
    assert checks.check_runs_in_stages(rec, "1", job="narrow").ok is False
    assert checks.check_partitions_for_workers(rec, workers=2, per_worker=6, job="narrow").ok is True
    assert checks.check_partitions_for_workers(rec, workers=2, per_worker=20, job="narrow").ok is False
    assert checks.check_partitions_for_workers(rec, workers=5, per_worker=6, job="narrow").ok is False
    assert checks.check_tasks_per_worker(rec, 6, job="narrow").ok is True


@pytest.mark.cluster
@pytest.mark.timeout(240)
def test_removing_a_shuffle_is_checked_against_the_original(runs):
    rec, rec_other, out = runs
    same = checks.check_no_shuffle(rec, job="tree", before="shuffled", result=out["tree"], expected=out["shuffled"])
    assert same.ok is True, str(same)
    assert checks.check_no_shuffle(rec, job="shuffled").ok is False
    wrong = checks.check_no_shuffle(rec, job="tree", before="shuffled", result=out["tree"] * 2,
                                    expected=out["shuffled"])
    assert wrong.ok is False and "result differs" in wrong.message
    assert checks.check_no_shuffle(rec_other, job="other question", before="shuffled").ok is False
    hints = [checks.check_no_shuffle(rec, job="shuffled").message for _ in range(3)]
    assert not any(code in h for h in hints for code in ("split_out", "shuffle(", "sum("))


@pytest.mark.cluster
@pytest.mark.timeout(240)
def test_a_broadcast_join_is_told_from_a_shuffle_join(runs):
    rec, _, _ = runs
    fb = checks.check_broadcast_join(rec, job="bcast")
    assert fb.ok is True, str(fb)
    hints = [checks.check_broadcast_join(rec, job="shufjoin") for _ in range(3)]
    assert all(h.ok is False for h in hints) and "still shuffles" in hints[0].message
    assert not any("broadcast=" in h.message for h in hints)
    assert checks.check_broadcast_join(rec, job="narrow").ok is False  # no join at all


@pytest.mark.cluster
@pytest.mark.timeout(240)
def test_tasks_at_once_are_bounded_by_the_slots(runs):
    rec, _, _ = runs
    job = rec.job("slow")
    slots = sum(w.nthreads for w in rec.workers)
    assert _peak(job) == slots == 2
    assert checks.check_parallel_tasks(rec, slots, job="slow").ok is True
    for wrong in (slots + 1, 1, 8, math.pi):
        assert checks.check_parallel_tasks(rec, wrong, job="slow").ok is False


def test_checks_read_what_the_pictures_draw(shipped):
    """The truths the checks compare with are the model's, so a check never disagrees with a picture: the shuffle
    bytes are the stage DAG's arrow labels, the re-run tasks the task DAG's ×N marks, the peak of tasks at once the
    most slots the player ever shows busy, the lost results the player's 'lost' states that ran again."""
    from teachkit.checks import facts
    from teachkit.model.frames import build_frames
    from teachkit.model.vocabulary import LOST, RERUN, RUNNING, fmt_bytes

    for rec in shipped.values():
        job = rec.jobs[-1]
        source = job.stage_dag().source
        for p, c, nbytes in facts.shuffle_edges(job):
            assert f's{p} -> s{c} [label="shuffle\\n{fmt_bytes(nbytes)}"' in source
        dag = job.task_dag(max_tasks_per_stage=400).source
        marked = {(int(s), int(p)) for s, p in re.findall(r"\ts(\d+)p(\d+) \[label=\"p\d+ ×\d", dag)}
        assert marked == {(s, p) for s, ps in facts.fault_reruns(job).items() for p in ps}
        frames = build_frames(rec, job)
        busy = [sum(1 for s in frames.tasks_at(n) if s[0] in (RUNNING, RERUN) and s[2] > 0) for n in range(len(frames))]
        assert facts.peak_running(job) == max(busy) > 0
        lost = {tuple(frames.tasks[i]) for n in range(len(frames)) for i, s in enumerate(frames.tasks_at(n))
                if s[0] == LOST}
        assert set(facts.lost_results(job)) <= lost
        assert bool(facts.lost_results(job)) == bool(lost)
    killed = shipped["killed"].jobs[-1]
    assert facts.fault_reruns(killed) and facts.lost_results(killed) and facts.shuffle_edges(killed)  # not vacuous
