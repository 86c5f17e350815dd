"""The kit's words, in one place: task states, causes, changes, stage kinds and outputs; how bytes and times read.

Every view and every caption takes its words from here, so a state, a cause or
a number of bytes reads the same in the player, the DAGs, the timeline, the
cluster picture and the live view.  The names are ``Literal`` types, so a
type checker catches a state or a cause that the kit does not know.

>>> STATES[RERUN], fmt_bytes(3_100_000), fmt_seconds(0.0042), plural(2, "task")
('re-run', '3.0 MiB', '4.2 ms', '2 tasks')
"""

from __future__ import annotations

from typing import Literal, get_args

#: A Spark-style task's state as the player, the cluster picture and the live view show it.
State = Literal["pending", "assigned", "running", "done", "lost", "re-run", "failed"]
#: The states, in the order of their integer codes in the player's frame data.
STATES: tuple[State, ...] = get_args(State)
PENDING, ASSIGNED, RUNNING, DONE, LOST, RERUN, FAILED = range(len(STATES))
#: States of a task that is on a worker (given to it, or running there).
ACTIVE = (ASSIGNED, RUNNING, RERUN)
#: The order in which counts of tasks per state are listed (cluster picture, live view).
SUMMARY_ORDER: tuple[State, ...] = ("done", "running", "re-run", "assigned", "pending", "lost", "failed")

#: Why an attempt of a task exists, or why it ended (see :mod:`teachkit.model.jobs`).
Cause = Literal["worker-lost", "result-lost", "lineage", "shuffle-restart", "input-lost", "rescheduled", "stolen",
                "retried", "released"]
#: Causes that make an attempt a re-run because something failed (a worker died, a result was lost).
RERUN_CAUSES: tuple[Cause, ...] = ("worker-lost", "result-lost", "retried", "lineage", "shuffle-restart", "input-lost")
#: When a Spark task's Dask pieces re-run for several causes, the one that explains the others comes first.
RERUN_PRIORITY: tuple[Cause, ...] = ("result-lost", "worker-lost", "shuffle-restart", "input-lost", "lineage", "retried")
#: End causes of an attempt on a surviving worker, taken back or dropped after another worker died.
SURVIVOR_CAUSES: tuple[Cause, ...] = ("shuffle-restart", "input-lost")
#: Extra attempts that are no failure: Dask moved the task (rescheduled it, or an idle worker stole it).
MOVE_CAUSES: tuple[Cause, ...] = ("rescheduled", "stolen")

#: Seconds after a job's last task during which what happens in the cluster (a worker joins, leaves or is
#: killed) still belongs to the job: its replay shows it, its faults list it.
GRACE_S = 0.5

#: How an attempt ended.
Outcome = Literal["pending", "running", "done", "erred", "released"]

#: One entry of a job's log of task changes (:mod:`teachkit.model.changes`).
ChangeKind = Literal[
    "assigned",    # the driver gave the task to a worker (a new attempt)
    "started",     # the worker started computing it, on a slot
    "done",        # it finished; the worker keeps the result
    "failed",      # it raised an error
    "taken-back",  # the driver took it back before it finished (its cause says why)
    "released",    # its result was freed (no later task needs it, or the client has it)
    "lost",        # its result died with its worker
    "discarded",   # a surviving worker dropped its result for a restarted shuffle
    "stolen",      # an idle worker took it over before it started (work stealing)
]

#: How a stage starts (what it reads), and where its results go.
StageKind = Literal["map", "shuffle", "reduce", "coalesce", "broadcast"]
StageOutput = Literal["shuffle", "driver", "memory", "write"]
#: What separates a stage from its parent.
BoundaryKind = Literal["shuffle", "tree-reduce", "coalesce", "broadcast"]
#: Why a worker left the cluster.
WorkerExit = Literal["lost", "retired", "closed"]

#: What a player step shows (the ``kind`` of a step).
StepKind = Literal["graph", "tasks", "start", "fetch", "p2p", "steal", "worker", "worker-lost", "cleanup", "failure",
                   "gather"]
#: Bookmark lists of the player's frames: where each stage starts and ends, the shuffles, failures, steals,
#: and the final gather.
BOOKMARKS = ("stage", "shuffle", "failure", "steal", "gather")


def fmt_bytes(n: float | None) -> str:
    """Bytes in binary units, as Spark's UI and Dask's dashboard write them (``"—"`` when unknown).

    >>> fmt_bytes(0), fmt_bytes(2048), fmt_bytes(None)
    ('0 B', '2.0 KiB', '—')
    """
    if n is None:
        return "—"
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def fmt_seconds(s: float | None) -> str:
    """A duration, or a time since the recording started (``"—"`` when unknown).

    >>> fmt_seconds(0.0000421), fmt_seconds(0.5), fmt_seconds(12.5), fmt_seconds(150)
    ('42 µs', '500.0 ms', '12.5 s', '2 min 30 s')
    """
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    if s < 120:
        return f"{s:.1f} s" if s >= 10 else f"{s:.2f} s"
    return f"{int(s // 60)} min {s % 60:.0f} s"


def plural(n: int, word: str) -> str:
    """``"1 task"``, ``"2 tasks"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
