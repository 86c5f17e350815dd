"""Lesson support for lessons 5-9: dynamic assignment, recovery, the seed's numbers, their tables and charts.

All on shipped recordings (real runs, saved): no cluster needed.  Each fact
the lessons print is checked against the model's own objects or raw events,
never against a typed-in number.
"""

from __future__ import annotations

import os

import pytest

import teachkit
from teachkit.checks import facts as check_facts
from teachkit.model import balance, recovery
from teachkit.model.seed_facts import SEED, seed_vs_run
from teachkit.views.balance_chart import tasks_chart
from teachkit.views.display import Message, SvgDrawing
from teachkit.views.fact_table import FactTable, seed_table


def load(name: str):
    return teachkit.Recording.load(teachkit.example_path(name))


@pytest.fixture(scope="module")
def straggler():
    return load("straggler").job("work on kept partitions, worker-3 slowed")


@pytest.fixture(scope="module")
def killed():
    return load("killed").job("groupby count, worker-2 killed")


@pytest.fixture(scope="module")
def seed():
    return load("seed").job("groupby count, full size")


ALL = [("groupby", "groupby count"), ("pipeline", "filter and sum"), ("killed", "groupby count, worker-2 killed"),
       ("straggler", "work on kept partitions, worker-3 slowed"), ("seed", "groupby count, full size")]


# -- balance ---------------------------------------------------------------------
@pytest.mark.parametrize("name,job", ALL)
def test_tasks_per_worker_adds_up_and_lists_every_worker(name, job):
    j = load(name).job(job)
    alive = [w.name for w in balance.workers_at_start(j)]
    for stage in j.stages:
        counts = balance.tasks_per_worker(j, stage)
        assert set(alive) <= set(counts)
        assert sum(counts.values()) == sum(1 for t in stage.tasks if t.worker)
        assert {w: n for w, n in counts.items() if n} == dict(stage.workers)
    assert balance.done_by(j, j.end + 1) == balance.tasks_per_worker(j)
    assert all(t <= j.end + 1e-6 for t in balance.busy_until(j).values())


def test_a_dead_worker_shows_with_no_tasks(killed):
    counts = balance.tasks_per_worker(killed, killed.stages[0])
    assert counts["worker-2"] == 0  # its results died with it; the survivors made every result


@pytest.mark.parametrize("name,job", ALL)
def test_peaks_never_exceed_the_slots(name, job):
    j = load(name).job(job)
    slots = {w.name: w.nthreads for w in j.recording.workers}
    peaks = balance.peak_per_worker(j)
    assert all(0 <= n <= slots[w] for w, n in peaks.items())
    assert balance.peak_running(j) == check_facts.peak_running(j)  # the checks count the same way
    assert max(peaks.values()) <= balance.peak_running(j) <= sum(peaks.values())


def test_twenty_slots_are_used_in_the_full_size_run(seed):
    peaks = balance.peak_per_worker(seed, seed.stages[0])
    assert max(peaks.values()) >= 4 and all(w.nthreads == SEED["slots"] for w in seed.recording.workers)


def test_steals_match_the_recorded_steal_events(straggler):
    rec = straggler.recording
    names = {w.address: w.name for w in rec.workers}
    confirmed = {(e["key"], names[e["victim"]], names[e["thief"]]) for e in rec.events
                 if e["kind"] == "steal" and e.get("outcome") == "confirm"}
    found = balance.steals(straggler)
    assert found, "the shipped straggler run was kept because it has a steal"
    for s in found:
        assert (s.key, s.victim, s.thief) in confirmed
        task = next(t for t in straggler.stages[s.stage].tasks if t.partition == s.partition)
        assert s.key in task.keys and task.worker == s.thief
    assert [s.start for s in found] == sorted(s.start for s in found)


def test_no_steal_in_runs_without_one():
    for name, job in ALL[:3]:
        assert balance.steals(load(name).job(job)) == []


def test_assigned_first_counts_each_task_once_and_stolen_ones_for_their_victim(straggler):
    stage = straggler.stages[0]
    first = balance.assigned_first(straggler, stage)
    ran = balance.tasks_per_worker(straggler, stage)
    assert sum(first.values()) == stage.num_tasks == sum(ran.values())
    for s in balance.steals(straggler):
        assert first[s.victim] >= 1
    lost_by = {w: first[w] - ran[w] for w in first}
    stolen_from = {w: sum(s.victim == w for s in balance.steals(straggler)) for w in first}
    assert lost_by["worker-3"] >= stolen_from["worker-3"] > 0


def test_uneven_stages_find_the_straggler_and_not_an_even_run(straggler):
    found = balance.uneven_stages(straggler, ratio=1.5)
    assert found and found[0].quietest == "worker-3" and found[0].ratio >= 1.5
    counts = balance.tasks_per_worker(straggler, straggler.stages[found[0].stage])
    assert counts[found[0].busiest] == found[0].most == max(counts.values())
    pipeline = load("pipeline").job("filter and sum")
    assert balance.uneven_stages(pipeline, ratio=1.5) == []


def test_workers_that_died_are_left_out_of_unevenness(killed):
    assert all("worker-2" not in (u.busiest, u.quietest) for u in balance.uneven_stages(killed, ratio=1.0))


# -- recovery ----------------------------------------------------------------------
def test_reruns_agree_with_the_checks(killed):
    got: dict[int, set[int]] = {}
    for r in recovery.reruns(killed):
        got.setdefault(r.stage, set()).add(r.partition)
        assert r.cause in recovery.FAULT_CAUSES and r.attempts >= 2 and r.why
    assert got == check_facts.fault_reruns(killed)
    lost = {(r.stage, r.partition) for r in recovery.reruns(killed) if "result-lost" in r.causes}
    assert lost == set(check_facts.lost_results(killed))
    assert sum(sum(c.values()) for c in recovery.causes_by_stage(killed).values()) == sum(
        len(r.causes) for r in recovery.reruns(killed))
    assert all(r.cause == r.causes[0] and list(r.causes) == sorted(r.causes, key=recovery.FAULT_CAUSES.index)
               for r in recovery.reruns(killed))


def test_lost_results_ran_first_on_the_dead_worker(killed):
    firsts = {r.first_worker for r in recovery.reruns(killed) if r.cause == "result-lost"}
    assert firsts == {"worker-2"}


@pytest.mark.parametrize("name,job", [ALL[0], ALL[1], ALL[3]])
def test_no_rerun_without_a_death(name, job):
    assert recovery.reruns(load(name).job(job)) == []  # Dask's routine P2P reschedules are not a death's work


# -- the seed's numbers ------------------------------------------------------------------
def test_the_full_size_run_meets_the_seed(seed):
    counts = {c: 125_000 for c in "abcdefgh"}
    by_topic = {f.topic: f for f in seed_vs_run(seed, counts)}
    for topic in ("rows", "partitions", "workers", "slots", "shuffle", "driver"):
        assert by_topic[topic].agrees is True, by_topic[topic]
    assert str(seed.stages[0].num_tasks) in by_topic["partitions"].run
    low, high = min(seed.stages[0].workers.values()), max(seed.stages[0].workers.values())
    assert f"{low} to {high}" in by_topic["tasks per worker"].run


def test_a_wrong_total_or_a_small_run_disagrees(seed):
    rows = next(f for f in seed_vs_run(seed, {"a": 999_999}) if f.topic == "rows")
    assert rows.agrees is False and rows.mark == "≠"
    small = {f.topic: f for f in seed_vs_run(load("groupby").job("groupby count"))}
    assert "rows" not in small  # no counts given: nothing to compare
    assert small["partitions"].agrees is False and small["workers"].agrees is False


def test_seed_table_shows_each_fact(seed):
    table = seed_table(seed, {"books": 1})
    assert len(table.rows) == len(seed_vs_run(seed, {"books": 1}))
    assert "groupby count, full size" in table.header[2]
    assert "✘" not in str(table)  # the course tests read ✘ as a failed check


# -- views ----------------------------------------------------------------------------------
def test_fact_table_escapes_and_keeps_short_cells_on_one_line():
    t = FactTable(["a", "code"], [["<script>", "df.groupby('x').count(split_out=4).compute()"], ["✔", "same"]],
                  title="T & U", note="n", code=[1])
    html = t._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "T &amp; U" in html
    assert "font-family:monospace" in html and "white-space:nowrap" in html
    assert str(t).splitlines()[0] == "T & U"


def test_tasks_chart_counts_and_fits(straggler):
    chart = tasks_chart(straggler, 0)
    assert isinstance(chart, SvgDrawing)
    assert chart.info["counts"] == balance.tasks_per_worker(straggler, straggler.stages[0])
    assert sum(chart.info["stolen"].values()) == len(balance.steals(straggler))
    assert 'viewBox="0 0 ' in chart.svg() and "max-width:100%" in chart.svg()
    assert isinstance(tasks_chart(straggler, 7), Message)


# -- the Spark side -------------------------------------------------------------------------
def test_saved_spark_figures_cover_every_case():
    from teachkit.cases import CASES
    from teachkit.spark_run import saved_run

    saved = saved_run()
    assert set(saved["stages"]) == {c.name for c in CASES}
    assert saved["meta"]["pyspark"] and saved["meta"]["date"]
    assert all(jobs and all(job for job in jobs) for jobs in saved["stages"].values())


def test_missing_says_what_is_missing(monkeypatch):
    import importlib.util

    from teachkit import spark_run
    from teachkit.errors import ArgumentError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a))
    assert "pyspark is not installed" in spark_run.missing()
    with pytest.raises(ArgumentError, match="saved_run"):
        spark_run.spark_stages([])


def test_stderr_goes_to_the_log_while_spark_starts(tmp_path):
    from teachkit.spark_run import _stderr_to

    log = tmp_path / "spark.log"
    with _stderr_to(log):
        os.write(2, b"WARNING: Using incubator modules\n")
    assert log.read_text() == "WARNING: Using incubator modules\n"
