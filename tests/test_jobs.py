"""The one reader of the events (teachkit.model.jobs): cause rules, the log of changes and its slot rule.

Table-driven, on small hand-made event lists in the recorder's wire format: each
case is a story of one or two tasks, and the attempts' causes and the log's
changes it must give.
"""

from __future__ import annotations

import pytest

from teachkit.model.changes import Change
from teachkit.model.recording import Recording

A, B = "tcp://127.0.0.1:1", "tcp://127.0.0.1:2"  # worker-1, worker-2
CLEANUP = "handle-worker-cleanup-5.0"


def tr(t, key, start, finish, stim="s", **kw):
    return {"kind": "tr", "t": t, "key": key, "start": start, "finish": finish, "stimulus": stim, **kw}


def run(t, key, worker, *, stop=None, thread=1, stim=None, nbytes=8):
    """``key`` assigned to ``worker`` at ``t``, computed ``t+0.01 .. stop`` and heard finished at ``stop+0.001``."""
    stop = t + 0.1 if stop is None else stop
    return [tr(t, key, "waiting", "processing", stim or f"update-{t}", worker=worker),
            tr(stop + 0.001, key, "processing", "memory", f"task-finished-{stop}", worker=worker, thread=thread,
               nbytes=nbytes, compute=[t + 0.01, stop])]


def recording(*events, prefix="x", keys=("x|0",), threads=1, lost=()) -> Recording:
    tasks = [{"key": k, "group": k.split("|")[0], "prefix": prefix if not k.startswith("y") else "y",
              "index": int(k.split("|")[1]), "deps": []} for k in keys]
    ev = [{"kind": "worker-present", "t": 0.0, "worker": w, "name": str(i), "nthreads": threads}
          for i, w in enumerate((A, B))]
    ev += [{"kind": "graph", "t": 0.05, "job": 0, "client": "c", "keys": list(keys), "span": [], "tasks": tasks}]
    ev += [e for group in events for e in group]
    ev += [{"kind": "worker-removed", "t": 5.0, "worker": w, "cause": "lost", "stimulus": CLEANUP} for w in lost]
    return Recording(sorted(ev, key=lambda e: e["t"]), {"t0": 0.0})


def story(rec: Recording, key: str = "x|0") -> dict:
    job = rec.jobs[0]
    task = job.dask_tasks[key]
    return {
        "causes": [a.cause for a in task.attempts],
        "ends": [a.end_cause for a in task.attempts],
        "lost": [a.lost is not None for a in task.attempts],
        "changes": [(c.change, c.worker, c.cause) for c in job.changes if c.key == key],
        "reruns": task.reruns,
        "moves": task.moves,
    }


#: name -> (recording, expected facts about x|0)
CASES = {
    "ran once": (
        lambda: recording(run(0.1, "x|0", A)),
        {"causes": [None], "ends": [None], "reruns": 0, "moves": 0,
         "changes": [("assigned", "worker-1", None), ("started", "worker-1", None), ("done", "worker-1", None)]},
    ),
    "rescheduled (a P2P unpack moved where its data is)": (
        lambda: recording([tr(0.1, "x|0", "waiting", "processing", worker=A),
                           tr(0.2, "x|0", "processing", "released", "reschedule-0.2"),
                           tr(0.2, "x|0", "released", "waiting", "reschedule-0.2")],
                          run(0.2001, "x|0", B, stim="reschedule-0.2"), prefix="p2pshuffle"),
        {"causes": [None, "rescheduled"], "ends": ["rescheduled", None], "reruns": 0, "moves": 1,
         "changes": [("assigned", "worker-1", None), ("taken-back", "worker-1", "rescheduled"),
                     ("assigned", "worker-2", "rescheduled"), ("started", "worker-2", None),
                     ("done", "worker-2", None)]},
    ),
    "its worker died while running it": (
        lambda: recording([tr(0.1, "x|0", "waiting", "processing", worker=B),
                           tr(5.0, "x|0", "processing", "released", CLEANUP),
                           tr(5.0, "x|0", "released", "waiting", CLEANUP)],
                          run(5.01, "x|0", A), lost=[B]),
        {"causes": [None, "worker-lost"], "ends": ["worker-lost", None], "reruns": 1, "moves": 0,
         "changes": [("assigned", "worker-2", None), ("taken-back", "worker-2", "worker-lost"),
                     ("assigned", "worker-1", "worker-lost"), ("started", "worker-1", None),
                     ("done", "worker-1", None)]},
    ),
    "its result died with its worker": (
        lambda: recording(run(0.1, "x|0", B), [tr(5.0, "x|0", "memory", "released", CLEANUP)],
                          run(5.01, "x|0", A), lost=[B]),
        {"causes": [None, "result-lost"], "lost": [True, False], "reruns": 1,
         "changes": [("assigned", "worker-2", None), ("started", "worker-2", None), ("done", "worker-2", None),
                     ("lost", "worker-2", "worker-lost"), ("assigned", "worker-1", "result-lost"),
                     ("started", "worker-1", None), ("done", "worker-1", None)]},
    ),
    "its result was freed, then needed again (lineage)": (
        lambda: recording(run(0.1, "x|0", A), [tr(0.5, "x|0", "memory", "released", "release-0.5")],
                          run(6.0, "x|0", A)),
        {"causes": [None, "lineage"], "reruns": 1,
         "changes": [("assigned", "worker-1", None), ("started", "worker-1", None), ("done", "worker-1", None),
                     ("released", "worker-1", None), ("assigned", "worker-1", "lineage"),
                     ("started", "worker-1", None), ("done", "worker-1", None)]},
    ),
    "a survivor's P2P result dropped for the shuffle restart": (
        lambda: recording(run(0.1, "x|0", A), [tr(5.0, "x|0", "memory", "released", CLEANUP)],
                          run(5.01, "x|0", A), prefix="shuffle-transfer", lost=[B]),
        {"causes": [None, "shuffle-restart"], "ends": ["shuffle-restart", None], "lost": [False, False], "reruns": 1,
         "changes": [("assigned", "worker-1", None), ("started", "worker-1", None), ("done", "worker-1", None),
                     ("discarded", "worker-1", "shuffle-restart"), ("assigned", "worker-1", "shuffle-restart"),
                     ("started", "worker-1", None), ("done", "worker-1", None)]},
    ),
    "a survivor's running task taken back (an input died)": (
        lambda: recording([tr(0.1, "x|0", "waiting", "processing", worker=A),
                           tr(5.0, "x|0", "processing", "released", CLEANUP)],
                          run(5.01, "x|0", A), lost=[B]),
        {"causes": [None, "input-lost"], "ends": ["input-lost", None], "reruns": 1,
         "changes": [("assigned", "worker-1", None), ("taken-back", "worker-1", "input-lost"),
                     ("assigned", "worker-1", "input-lost"), ("started", "worker-1", None),
                     ("done", "worker-1", None)]},
    ),
    "an idle worker stole it before it started": (
        lambda: recording([tr(0.1, "x|0", "waiting", "processing", worker=A),
                           {"kind": "steal", "t": 0.15, "key": "x|0", "victim": A, "thief": B, "outcome": "confirm"},
                           tr(0.3, "x|0", "processing", "memory", "task-finished-0.3", worker=B, thread=1,
                              nbytes=8, compute=[0.2, 0.29])]),
        {"causes": [None], "reruns": 0,
         "changes": [("assigned", "worker-1", None), ("stolen", "worker-2", "stolen"),
                     ("started", "worker-2", None), ("done", "worker-2", None)]},
    ),
    "it raised an error": (
        lambda: recording([tr(0.1, "x|0", "waiting", "processing", worker=A),
                           tr(0.2, "x|0", "processing", "erred", "task-erred-0.2", worker=A, error="ZeroDivisionError")]),
        {"causes": [None], "ends": [None],
         "changes": [("assigned", "worker-1", None), ("failed", "worker-1", None)]},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_cause_rules(name):
    build, want = CASES[name]
    got = story(build())
    assert {k: got[k] for k in want} == want


def test_a_failed_task_is_a_job_error():
    rec = CASES["it raised an error"][0]()
    assert rec.jobs[0].errors == ["ZeroDivisionError"]


def test_the_log_is_ordered_and_every_change_names_its_attempt():
    rec = CASES["its result died with its worker"][0]()
    log = rec.jobs[0].changes
    assert all(isinstance(c, Change) for c in log)
    assert [c.t for c in log] == sorted(c.t for c in log)
    assert [c.attempt for c in log] == [1, 1, 1, 1, 2, 2, 2]


# -- the one slot rule ------------------------------------------------------------------------
def test_reported_threads_are_numbered_as_slots_per_worker():
    rec = recording(run(0.1, "x|0", A, thread=70), run(0.15, "x|1", A, thread=90), keys=("x|0", "x|1"), threads=2)
    job = rec.jobs[0]
    assert [job.dask_tasks[k].attempts[0].slot for k in ("x|0", "x|1")] == [1, 2]
    assert [(c.key, c.slot) for c in job.changes if c.change == "started"] == [("x|0", 1), ("x|1", 2)]


def test_an_attempt_without_a_thread_takes_the_first_free_slot():
    no_thread = run(0.12, "x|1", A)
    del no_thread[1]["thread"]
    rec = recording(run(0.1, "x|0", A, thread=70), no_thread, keys=("x|0", "x|1"), threads=2)
    atts = [rec.jobs[0].dask_tasks[k].attempts[0] for k in ("x|0", "x|1")]
    assert [a.slot for a in atts] == [1, 2]  # slot 1 was busy while it ran


def test_a_finish_heard_late_moves_with_its_stimulus():
    """The worker stopped at 0.15, the scheduler heard at 0.18 and gave it the next task then: both shown at 0.15."""
    rec = recording([tr(0.1, "x|0", "waiting", "processing", worker=A),
                     tr(0.18, "x|0", "processing", "memory", "task-finished-0.18", worker=A, thread=1, nbytes=8,
                        compute=[0.11, 0.15]),
                     tr(0.1801, "x|1", "waiting", "processing", "task-finished-0.18", worker=A),
                     tr(0.3, "x|1", "processing", "memory", "task-finished-0.3", worker=A, thread=1, nbytes=8,
                        compute=[0.16, 0.29])], keys=("x|0", "x|1"))
    log = [(c.key, c.change, round(c.t, 4)) for c in rec.jobs[0].changes]
    assert ("x|0", "done", 0.15) in log and ("x|1", "assigned", 0.15) in log
    assert log.index(("x|0", "done", 0.15)) < log.index(("x|1", "assigned", 0.15))


def test_attempts_still_open_start_when_their_worker_has_a_free_slot():
    """While a job runs, a task's start is heard with its finish: an open attempt starts on a free slot, else waits."""
    rec = recording([tr(0.1, "x|0", "waiting", "processing", worker=A),
                     tr(0.12, "x|1", "waiting", "processing", worker=A)], keys=("x|0", "x|1"))
    started = [(c.key, c.slot, c.t) for c in rec.jobs[0].changes if c.change == "started"]
    assert started == [("x|0", 1, 0.1)]  # one slot: x|1 waits on its worker


# -- data moves and faults attach to their job --------------------------------------------------
def test_sends_fetches_and_faults_attach_to_their_job():
    rec = recording(run(0.1, "shuffle-transfer-ab12|0", A), keys=("shuffle-transfer-ab12|0",),
                    prefix="shuffle-transfer")
    rec._extend([
        {"kind": "p2p", "t": 0.2, "shuffle": "ab12", "source": A, "dest": B, "nbytes": 100, "partitions": {"0": 100}},
        {"kind": "p2p", "t": 0.2, "shuffle": "zz99", "source": A, "dest": B, "nbytes": 5, "partitions": {"0": 5}},
        {"kind": "fetch", "t": 0.25, "worker": B, "source": A, "start": 0.21, "stop": 0.25,
         "keys": {"shuffle-transfer-ab12|0": 64}, "nbytes": 64},
        {"kind": "fault", "t": 0.15, "action": "kill", "worker": B, "pid": 42, "when": "now"},
    ])
    job = rec.jobs[0]
    assert [(s["from"], s["to"], s["nbytes"]) for s in job.sends if s["shuffle"] == "ab12"] == [("worker-1", "worker-2", 100)]
    assert [(f["from"], f["to"], f["nbytes"]) for f in job.fetches] == [("worker-1", "worker-2", 64)]
    assert [(f["worker"], f["pid"]) for f in job.faults] == [("worker-2", 42)]
