"""Replay mode (issue 16): every lesson runs with no worker process, from the shipped recordings of its runs.

- the shipped recordings: at least 8, each with a description, each loads and builds its player, the index agrees;
- a record block in replay mode is the shipped run of its jobs (the results computed here, for real); a changed or
  unknown job says so in one line and its checks say it needs a live cluster; faults are read from the run;
- the one switch (TEACHKIT_REPLAY, teachkit.replay) and the fallback when worker processes cannot start;
- every course notebook top to bottom in replay mode, with no dask worker process ever started;
- ``teachkit gallery`` where no cluster can start builds every page from replay.

No test here starts a cluster: replay needs none.  The course notebooks run once each per session (replayed), shared
by the notebook and gallery tests below.
"""

from __future__ import annotations

import html
import os
import re
import time
from pathlib import Path

import nbformat
import pytest

import teachkit
from teachkit import faults, replay_mode, runs
from teachkit.data import read_index
from teachkit.datasets import sales, sales_pandas
from teachkit.errors import ClusterError
from teachkit.local_runs import OUTSIDE_LINE
from teachkit.model.recording import Recording

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
DATA = Path(teachkit.__file__).parent / "data"
NOTICE = "teachkit: replay mode"
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def replaying(monkeypatch):
    """Replay mode on for one test, the one line not yet said, everything put back afterwards."""
    monkeypatch.delenv(replay_mode.REPLAY_ENV, raising=False)
    monkeypatch.delenv(replay_mode.NO_WORKERS_ENV, raising=False)
    monkeypatch.setattr(replay_mode, "_said", False)
    teachkit.replay(True)
    yield
    teachkit.replay(None)
    current = teachkit.cluster.current()
    if current is not None and getattr(current, "replay", False):
        current.close()
    from teachkit import replay_faults

    replay_faults.take_kills()
    replay_faults._SLOW.clear()


def shipped(name: str) -> Recording:
    return Recording.load(teachkit.example_path(name))


#: Shipped runs of course blocks that the tests below run again: lesson 2's groupby, lesson 7's worker death.
GROUPBY, GROUPBY_JOB = "02-count-per-category", "02 · count per category"
KILLED, KILLED_JOB = "07-groupby-count-worker-2-killed-task-based-shuffle", \
    "07 · groupby count, worker-2 killed (task-based shuffle)"


def groupby_block(cluster, rows=200_000, partitions=20, name=GROUPBY_JOB):
    """Lesson 2's "count per category" block (its run is shipped), run here."""
    df = sales(rows=rows, partitions=partitions)
    with teachkit.record(cluster) as rec:
        with teachkit.job(name):
            result = df.groupby("category").count(split_out=3).compute()
    return rec, result


_BEFORE: set[int] = set()


@pytest.fixture(autouse=True)
def _processes_before():
    """The processes this test process already had (the session's Chromium, a forkserver an earlier cluster test
    left to multiprocessing): ``children()`` reports only the ones a test starts."""
    import psutil

    _BEFORE.clear()
    _BEFORE.update(p.pid for p in psutil.Process().children(recursive=True))
    yield


def children() -> list[str]:
    """Processes started under this test process since the test began (a replay must start none)."""
    import psutil

    found = []
    for proc in psutil.Process().children(recursive=True):
        if proc.pid not in _BEFORE:
            try:
                found.append(" ".join(proc.cmdline()) or proc.name())
            except psutil.Error:
                continue
    return found


# -- the shipped recordings ----------------------------------------------------------------------
def test_examples_lists_at_least_eight_with_a_description_each():
    examples = teachkit.examples()
    assert len(examples) >= 8
    assert all(isinstance(ex, str) and ex.description for ex in examples), examples.rows()
    assert examples["killed"] == "killed" and examples["killed"].path == teachkit.example_path("killed")
    table = examples._repr_html_()
    assert all(html.escape(ex.description[:20]) in table for ex in examples)
    assert repr(examples).count("\n") == len(examples) - 1
    with pytest.raises(LookupError, match="groupby"):
        teachkit.example_path("no such run")


def test_the_index_lists_every_file_and_each_run_as_it_is():
    entries = read_index()
    files = sorted(p.name for p in DATA.glob("*.json.gz"))
    assert sorted(e["file"] for e in entries) == files, "run tools/make_examples.py"
    for e in entries:
        rec = Recording.load(DATA / e["file"])
        assert e["jobs"] == runs.signature(rec), e["name"]
        assert e["deaths"] == sum(1 for j in rec.jobs for f in j.faults if f.get("action") == "kill")


def test_the_course_runs_include_the_detailed_example_and_a_death():
    course = [e for e in read_index() if e.get("lesson")]
    assert course, "no course run is shipped: run tools/make_examples.py"
    detailed = []
    for e in course:
        for job in Recording.load(DATA / e["file"]).jobs:
            sizes = [s.num_tasks for s in job.stages]
            workers = {t.worker for t in job.tasks}
            shuffles = [s for s in job.stages if "shuffle" in s.boundaries.values()]
            if sizes and max(sizes) >= 500 and len(workers) >= 5 and shuffles:
                detailed.append(e["name"])
    assert detailed, "the detailed example (a 500-task stage on 5 workers, then the shuffle) is not shipped"
    assert any(e["deaths"] for e in course), "no course run with a worker death is shipped"
    assert sum(p.stat().st_size for p in DATA.glob("*")) <= 5_000_000


@pytest.mark.parametrize("name", teachkit.examples())
def test_every_shipped_recording_loads_and_its_player_builds(name):
    rec = shipped(name)
    player = teachkit.Player(rec)
    assert player.num_steps > 1 and player.caption(0)


def test_which_shipped_run_a_block_is():
    a, b = {"name": "01 · count", "plan": "p1"}, {"name": "01 · sort", "plan": "p2"}
    assert runs.covers([a], [a]) and runs.covers([{"name": None, "plan": "p1"}], [a])
    assert not runs.covers([{"name": "01 · count", "plan": "p9"}], [a]), "a changed job"
    assert not runs.covers([a, b], [a]) and not runs.covers([a], [a, b]), "a job more, a job less"
    assert runs.covers([b], [{"name": "01 · sort", "plan": "p0"}, b]), "a sort's split-point job, cached here"
    assert not runs.covers([{"name": None, "plan": "p2"}], [{"name": None, "plan": "p0"}, b])
    assert not runs.covers([], [a]) and not runs.covers([{"name": None, "plan": None}], [a])


@pytest.mark.parametrize("module", ["teachkit.runs", "teachkit.data", "teachkit.replay_mode"])
def test_the_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0


# -- a replayed block ----------------------------------------------------------------------------
def test_a_replayed_block_is_the_shipped_run_and_its_result_is_computed_here(replaying, capsys):
    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1)
    assert isinstance(cluster, teachkit.Cluster) and cluster.running and list(cluster.workers) == [
        "worker-1", "worker-2", "worker-3"]
    assert "replay" in cluster._repr_html_() and "replay" in repr(cluster)
    rec, result = groupby_block(cluster)
    assert rec.events == shipped(GROUPBY).events and rec.meta["replay"]["run"] == GROUPBY
    expected = sales_pandas(rows=200_000, partitions=20).groupby("category").count()
    assert result.sort_index().equals(expected.sort_index())
    assert not children(), "replay mode started a process"
    from teachkit.checks import check_num_stages

    stages = len(rec.job(GROUPBY_JOB).stages)
    assert check_num_stages(rec, stages, job=GROUPBY_JOB).ok is True
    assert check_num_stages(rec, stages + 1, job=GROUPBY_JOB).ok is False
    groupby_block(cluster)  # a second block: no second notice
    cluster.close()
    out = capsys.readouterr().out
    assert out.count(NOTICE) == 1 and len(out.strip().splitlines()) == 1, out
    assert OUTSIDE_LINE not in out and "local threads" not in out


def test_a_changed_job_is_not_replayed_and_its_check_needs_a_live_cluster(replaying, capsys):
    from teachkit.checks import check_num_stages
    from teachkit.views.display import Message

    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1)
    capsys.readouterr()
    rec, result = groupby_block(cluster, partitions=8)  # the learner changed the partitions
    assert len(result) == 8, "the job itself still ran, here"
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and f"'{GROUPBY_JOB}' is not the one in the shipped run" in lines[0], lines
    assert "needs a live cluster" in lines[0] or "need a live cluster" in lines[0]
    assert rec.jobs == [] and rec.summary()["jobs"] == []
    feedback = check_num_stages(rec, 2, job=GROUPBY_JOB)
    assert feedback.ok is None and "needs a live cluster" in feedback.message and not feedback
    assert isinstance(rec.play(), Message) and "live cluster" in str(rec.play())
    assert isinstance(rec.cluster_view(), Message)
    with pytest.raises(replay_mode.ReplayGapError, match="needs a live cluster") as info:
        rec.job(GROUPBY_JOB)
    assert len(info.value._render_traceback_()) == 1, "one line in a notebook, not a traceback"
    assert "live cluster" in rec._repr_html_()


def test_a_job_with_no_shipped_run_says_so_in_one_line(replaying, capsys):
    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1)
    capsys.readouterr()
    rec, _ = groupby_block(cluster, name="my own job")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["teachkit: replay: there is no shipped run of the job 'my own job', so this block cannot be "
                     "replayed: its pictures and checks need a live cluster."]
    assert rec.meta["replay"]["state"] == "missing" and not rec.jobs


def test_a_block_that_runs_no_job_is_empty_and_quiet(replaying, capsys):
    cluster = teachkit.start_cluster(workers=2, threads_per_worker=1)
    capsys.readouterr()
    with teachkit.record(cluster) as rec:
        pass
    assert rec.jobs == [] and capsys.readouterr().out == ""


PLACED, PLACED_JOB = "04-count-per-category-kept-on-the-workers", "04 · count per category, kept on the workers"


def test_a_result_kept_in_a_replayed_block_is_placed_by_the_run(replaying):
    """Lesson 4: a kept result's keys and rows are read from the data computed here, where each partition was kept
    from the replayed run; the data here is partitioned as in the run (each partition's size differs from the
    recorded one by the same constant: the same rows in the same partitions)."""
    from dask.sizeof import sizeof

    from teachkit.placement import _parts, holders, keys_by_partition, rows_by_partition

    cluster = teachkit.start_cluster(workers=5, threads_per_worker=1)
    df = sales(rows=200_000, partitions=20)
    with teachkit.record(cluster) as rec:
        with teachkit.job(PLACED_JOB):
            grouped = df.groupby("category").value.count(split_out=5).persist()
    assert rec.meta["replay"]["run"] == PLACED
    job = rec.job(PLACED_JOB)
    kept = job.stages[-1]
    assert kept.output == "memory" and holders(grouped) == {t.partition: [t.worker] for t in kept.tasks}
    keys, rows = keys_by_partition(grouped), rows_by_partition(grouped)
    expected = sales_pandas(rows=200_000, partitions=20).groupby("category").value.count()
    assert sorted(k for ks in keys.values() for k in ks) == sorted(expected.index)
    assert rows == {p: len(ks) for p, ks in keys.items()}
    recorded = {t.partition: job.dask_tasks[t.keys[-1]].attempts[-1].nbytes for t in kept.tasks}
    here = {p: sizeof(part) for p, part in enumerate(_parts(grouped))}
    assert len({here[p] - recorded[p] for p in here}) == 1, (here, recorded)
    assert not children()
    with pytest.raises(teachkit.ArgumentError, match="not kept on the workers"):
        holders(df.persist())  # kept outside a replayed block: no run says where


def test_warm_up_imports_here_and_other_client_calls_need_a_live_cluster(replaying):
    import sys

    cluster = teachkit.start_cluster(workers=2, threads_per_worker=1)
    sys.modules.pop("colorsys", None)
    cluster.warm_up("colorsys")
    assert "colorsys" in sys.modules and not children()
    with pytest.raises(replay_mode.ReplayModeError, match=r"client\.run needs a live cluster.*cluster\.warm_up"):
        cluster.client.run(print)


# -- faults ------------------------------------------------------------------------------------------
def work(part):
    """Lesson 7's stand-in for real work (same name, same job: its plan names the function)."""
    time.sleep(0.05)
    return part


def killed_block(cluster, when, method="tasks", name=KILLED_JOB):
    """Lesson 7's blocks (worker-2 killed half-way through a task-based or a P2P shuffle), run here."""
    kill = faults.kill_worker(cluster, "worker-2", when=when)
    df = sales(rows=240_000, partitions=24)
    busy = df.map_partitions(work, meta=df._meta)
    with teachkit.record(cluster) as rec:
        with teachkit.job(name):
            result = busy.groupby("category").count(split_out=3, shuffle_method=method).compute()
        kill.wait(timeout=30)
    rec.result = result
    return kill, rec


def test_a_kill_is_read_from_the_replayed_run(replaying, capsys):
    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1)
    capsys.readouterr()
    kill, rec = killed_block(cluster, faults.stage_progress(0.5))
    fault = next(f for j in shipped(KILLED).jobs for f in j.faults)
    line = capsys.readouterr().out.strip()
    assert kill.status == "killed" and kill.pid == fault["pid"] and kill.tasks_done == fault["tasks_done"]
    assert line.startswith("teachkit (replayed run): killed worker-2") and f"(pid {fault['pid']})" in line
    assert len(line.splitlines()) == 1 and rec.events == shipped(KILLED).events
    assert not children()


def test_a_p2p_shuffle_computes_here_and_replays_the_p2p_run(replaying):
    """P2P needs worker processes: here it runs as a task-based shuffle (same rows per partition), only while a
    replay cluster is open; the block replays the real P2P run (its plan, read before dask lowers it, says P2P)."""
    from dask.dataframe.dask_expr._shuffle import Shuffle

    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1)
    kill, rec = killed_block(cluster, faults.stage_progress(0.5), method="p2p",
                             name="07 · groupby count, worker-2 killed (P2P shuffle)")
    assert rec.meta["replay"]["run"] == "07-groupby-count-worker-2-killed-p2p-shuffle" and kill.status == "killed"
    expected = sales_pandas(rows=240_000, partitions=24).groupby("category").count()
    assert rec.result.sort_index().equals(expected.sort_index())
    cluster.close()
    assert "_teachkit_original" not in Shuffle.__dict__, "dask's own P2P shuffle is back once replay mode closes"


def test_another_kill_than_the_runs_is_a_changed_job(replaying, capsys):
    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1)
    capsys.readouterr()
    kill, rec = killed_block(cluster, faults.stage_progress(0.9))
    out = capsys.readouterr().out
    fault = next(f for j in shipped(KILLED).jobs for f in j.faults)
    assert f"the shipped run killed worker-2 {fault['when']}, not worker-2" in out and not rec.jobs
    assert kill.status == "cancelled"
    # and a kill armed before a block whose run had none
    faults.kill_worker(cluster, "worker-3", when=faults.after_tasks(1))
    rec, _ = groupby_block(cluster)
    assert "has no worker death" in capsys.readouterr().out and not rec.jobs


def test_slowed_workers_must_be_the_runs_and_a_folder_of_saved_runs_comes_first(replaying, tmp_path, capsys):
    run = shipped(GROUPBY)
    run.meta["run"] = {**run.meta["run"], "slow_workers": [{"worker": "worker-3", "factor": 5.0}]}
    run.save(tmp_path / "rehearsal.json.gz")
    teachkit.replay(tmp_path)
    cluster = teachkit.start_cluster(workers=3, threads_per_worker=1)
    rec, _ = groupby_block(cluster)  # no slowdown here: not the rehearsal, the shipped run (made with none)
    assert rec.meta["replay"]["run"] == GROUPBY and rec.jobs
    with faults.slow_worker(cluster, "worker-3", factor=5):
        rec, _ = groupby_block(cluster)
    assert rec.meta["replay"]["run"] == "rehearsal" and rec.jobs
    with faults.slow_worker(cluster, "worker-3", factor=7):
        rec, _ = groupby_block(cluster)
    out = capsys.readouterr().out
    assert not rec.jobs and "the shipped run was made with worker-3 5x, and the slowdowns here differ" in out
    assert "worker-3 now runs every task 5x slower in the replayed run" in out and "normal speed again" in out


# -- the switch ------------------------------------------------------------------------------------
def test_the_switch(monkeypatch, tmp_path):
    monkeypatch.setattr(replay_mode, "_setting", None)
    for value, on, off in [("1", True, False), ("0", False, True), ("", False, False), (str(tmp_path), True, False)]:
        monkeypatch.setenv(replay_mode.REPLAY_ENV, value)
        assert (replay_mode.replaying(), replay_mode.never()) == (on, off), value
    assert replay_mode.folders()[0] == tmp_path
    teachkit.replay(False)
    try:
        assert not replay_mode.replaying() and replay_mode.never()
        with pytest.raises(teachkit.ArgumentError, match="folder"):
            teachkit.replay(tmp_path / "missing")
    finally:
        teachkit.replay(None)


def test_a_notebook_whose_workers_cannot_start_replays(monkeypatch, capsys):
    monkeypatch.setattr(replay_mode, "_setting", None)
    monkeypatch.setattr(replay_mode, "_said", False)
    monkeypatch.delenv(replay_mode.REPLAY_ENV, raising=False)
    monkeypatch.setenv(replay_mode.NO_WORKERS_ENV, "1")
    with pytest.raises(ClusterError, match="TEACHKIT_NO_WORKERS"):  # a script: the error, as before
        teachkit.start_cluster(workers=2, dashboard=False)
    monkeypatch.setattr(replay_mode, "in_notebook", lambda: True)
    try:
        cluster = teachkit.start_cluster(workers=2, dashboard=False)
        out = capsys.readouterr().out.strip()
        assert isinstance(cluster, replay_mode.ReplayCluster) and len(out.splitlines()) == 1
        assert out.startswith("teachkit: worker processes cannot start here (TEACHKIT_NO_WORKERS is set")
        rec, _ = groupby_block(cluster)
        assert rec.jobs and not children()
        cluster.close()
        monkeypatch.setenv(replay_mode.REPLAY_ENV, "0")  # never replay: the error again
        with pytest.raises(ClusterError):
            teachkit.start_cluster(workers=2, dashboard=False)
    finally:
        current = teachkit.cluster.current()
        if current is not None:
            current.close()


# -- the course, replayed ------------------------------------------------------------------------
_replayed: dict[Path, object] = {}


def worker_processes(pid: int | None) -> list[str]:
    """Command lines of dask worker processes (or any process spawned for one) under the kernel ``pid``."""
    import psutil

    if pid is None:
        return []
    found = []
    try:
        for proc in psutil.Process(pid).children(recursive=True):
            try:
                line = " ".join(proc.cmdline())
            except psutil.Error:
                continue
            if re.search(r"spawn_main|distributed|dask|multiprocessing", line):
                found.append(line)
    except psutil.Error:
        pass
    return found


def replay_notebook(path: Path, tmp_dir: Path):
    """Run a course notebook in replay mode (once per session); (notebook, worker processes seen while it ran)."""
    from nbclient import NotebookClient

    if path not in _replayed:
        nb = nbformat.read(path, as_version=4)
        state: dict = {"pid": None, "seen": []}

        def started(**_):
            state["pid"] = getattr(getattr(client.km, "provisioner", None), "pid", None)

        def cell_done(**_):
            state["seen"] += worker_processes(state["pid"])

        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_dir)}},
                                on_notebook_start=started, on_cell_executed=cell_done, allow_errors=True)
        env = {k: v for k, v in os.environ.items() if k not in (runs.SAVE_ENV, replay_mode.NO_WORKERS_ENV)}
        client.execute(env={**env, replay_mode.REPLAY_ENV: "1"})
        _replayed[path] = (nb, state["seen"])
    return _replayed[path]


def outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def text_of(out: dict) -> str:
    return out.get("text", "") + "".join(str(out.get("data", {}).get(m, "")) for m in ("text/plain", "text/html"))


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_course_notebook_runs_in_replay_mode_with_no_worker_process(path, tmp_path_factory):
    nb, workers_seen = replay_notebook(path, tmp_path_factory.mktemp(path.stem))
    outs = outputs(nb)
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in outs if o.get("output_type") == "error"]
    assert not errors, f"{path.name} in replay mode: {errors}"
    assert not workers_seen, f"a dask worker process ran under the kernel: {workers_seen[:2]}"
    text = "\n".join(text_of(o) for o in outs)
    assert "Traceback" not in text and "cannot be replayed" not in text, "every block has its shipped run"
    assert OUTSIDE_LINE not in text and "on dask's local threads" not in text
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    if "start_cluster(" in source:
        assert text.count(NOTICE) == 1, "the one-line replay notice, once"
    if "teachkit.record(" in source:
        pictures = [o for o in outs if "image/svg+xml" in o.get("data", {}) or "<svg" in text_of(o)]
        assert pictures, f"{path.name}: no picture in replay mode"
    if re.search(r"\.play\(|Player\(|live=True", source):
        assert [o for o in outs if WIDGET in o.get("data", {})], f"{path.name}: no player in replay mode"


def checks_of(nb) -> list[dict]:
    from teachkit.checks import MIME

    return [o["data"][MIME] for o in outputs(nb) if MIME in o.get("data", {})]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_every_check_of_a_solution_is_correct_in_replay_mode(path, tmp_path_factory):
    """The solutions' runs are shipped too: in replay mode every check reads them and earns its ✔."""
    nb, workers_seen = replay_notebook(path, tmp_path_factory.mktemp(path.stem))
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"] and not workers_seen
    checks = checks_of(nb)
    assert checks and [c for c in checks if c["state"] != "correct"] == []


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_an_exercise_runs_in_replay_mode_and_waits_for_answers(path, tmp_path_factory):
    nb, workers_seen = replay_notebook(path, tmp_path_factory.mktemp(path.stem))
    assert not [o for o in outputs(nb) if o.get("output_type") == "error"] and not workers_seen
    checks = checks_of(nb)
    assert checks and all(c["state"] == "unanswered" for c in checks), [c["message"] for c in checks]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_gallery_where_no_cluster_can_start_builds_every_page_from_replay(tmp_path, monkeypatch, tmp_path_factory):
    from teachkit import gallery
    from teachkit.cli import main as cli_main

    made = []

    def run_notebook(path, *, env=None, **_):  # the replayed runs of this session, after checking the switch
        assert env == {replay_mode.REPLAY_ENV: "1"}, "the gallery's no-cluster path must replay"
        made.append(Path(path).name)
        return nbformat.from_dict(replay_notebook(Path(path).resolve(), tmp_path_factory.mktemp("g"))[0])

    monkeypatch.setenv(replay_mode.NO_WORKERS_ENV, "1")
    monkeypatch.delenv(replay_mode.REPLAY_ENV, raising=False)
    monkeypatch.setattr(gallery, "run_notebook", run_notebook)
    assert cli_main(["gallery", "--out", str(tmp_path / "site"), "--notebooks", str(ROOT / "notebooks")]) == 0
    assert made == [p.name for p in NOTEBOOKS]
    pages = sorted(p.name for p in (tmp_path / "site").glob("*.html"))
    assert pages == sorted(["index.html", *(f"{p.stem}.html" for p in NOTEBOOKS)])
    for path in NOTEBOOKS:
        page = (tmp_path / "site" / f"{path.stem}.html").read_text(encoding="utf-8")
        assert "<script src=" not in page and "Traceback" not in page
        if "start_cluster(" in path.read_text(encoding="utf-8"):
            assert NOTICE in page
        if re.search(r"\.play\(|Player\(|live=True", path.read_text(encoding="utf-8")):
            assert "data-teachkit-export" in page, f"{path.stem}: the player did not make it to the page"
