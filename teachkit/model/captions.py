"""Captions for the player's steps, in Spark's vocabulary.

:class:`Facts` collects what happened in one step (filled in by
:mod:`teachkit.model.frames`); :func:`caption` turns it into one or two
sentences a learner can read aloud, e.g. "The driver assigns task 37 of
stage 1 (partition 37: read → partial count) to worker-3".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from teachkit.model.vocabulary import (ACTIVE, ASSIGNED, DONE, FAILED, LOST, PENDING, RERUN, RUNNING, fmt_bytes,
                                       fmt_seconds, plural)


@dataclass
class Facts:
    """What one step changed (raw events and Spark-level state changes)."""

    graph: tuple | None = None  # (dask tasks, spark tasks, stages)
    steals: list = field(default_factory=list)  # (task, victim, thief)
    workers: list = field(default_factory=list)  # (name, kind, cause, nthreads)
    fetches: list = field(default_factory=list)  # (from, to, nbytes, nkeys)
    sends: list = field(default_factory=list)  # (from, to, nbytes)
    causes: set = field(default_factory=set)
    nbytes: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # (task, message)
    requeued: list = field(default_factory=list)  # (task, cause, worker name): a running task taken back
    lost_results: list = field(default_factory=list)  # (task, worker name): died with its worker
    discarded: list = field(default_factory=list)  # (task, cause, worker name): a survivor's result dropped
    plumbing: list = field(default_factory=list)  # (prefix, worker name)
    # Spark-level changes (filled by note_change)
    first_assigned: list = field(default_factory=list)  # task: pending/lost -> active
    spark_started: list = field(default_factory=list)  # task: assigned -> running
    slot_started: list = field(default_factory=list)  # task: onto a slot for the first time in this run
    resumed: list = field(default_factory=list)  # task: back onto a slot for its next Dask piece
    paused: list = field(default_factory=list)  # task: off its slot between two Dask pieces
    finished: list = field(default_factory=list)
    undone: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    freed: list = field(default_factory=list)  # (task, worker)
    failed: list = field(default_factory=list)
    moved: list = field(default_factory=list)
    stage_started: list = field(default_factory=list)
    stage_done: list = field(default_factory=list)
    new: dict = field(default_factory=dict)  # task -> [state, worker, slot, holder]

    def note_change(self, idx: int, old: list, new: list) -> None:
        self.new[idx] = new
        if new[0] in ACTIVE and old[0] in (PENDING, LOST, DONE):
            self.first_assigned.append(idx)
        elif new[0] == RUNNING and old[0] == ASSIGNED:
            self.spark_started.append(idx)
        elif new[0] in ACTIVE and new[1] != old[1]:
            self.moved.append(idx)
        if new[0] == DONE and old[0] != DONE:
            self.finished.append(idx)
        if old[0] == DONE and new[0] != DONE:
            self.undone.append(idx)
        if new[0] == LOST and old[0] != LOST:
            self.lost.append(idx)
        if new[0] == FAILED and old[0] != FAILED:
            self.failed.append(idx)
        if old[3] >= 0 and new[3] < 0 and new[0] == DONE:
            self.freed.append((idx, old[3]))


def _task(b: Any, idx: int, long: bool = False) -> str:
    if idx < 0:
        return "a shuffle task"
    st = b.tasks[idx]
    text = f"task {st.partition} of stage {st.stage}"
    if long:
        text += f" (partition {st.partition}: {b.stage_by_id[st.stage].name})"
    return text


def _where(b: Any, idx: int, facts: Facts) -> str:
    state = facts.new.get(idx) or b.shown[idx]
    w, slot = state[1], state[2]
    name = b.wname[w] if w >= 0 else "a worker"
    return f"{name}, slot {slot}" if slot else name


def _several(b: Any, idxs: list[int]) -> str:
    stages = sorted({b.tasks[i].stage for i in idxs})
    parts = sorted(b.tasks[i].partition for i in idxs)
    if len(stages) == 1:
        s = b.stage_by_id[stages[0]]
        if len(parts) == 1:
            rng = f"partition {parts[0]}"
        elif parts[-1] - parts[0] == len(parts) - 1:
            rng = f"partitions {parts[0]}–{parts[-1]}"
        else:
            rng = "partitions " + ", ".join(map(str, parts[:5])) + (" …" if len(parts) > 5 else "")
        return f"{plural(len(idxs), 'task')} of stage {stages[0]} ({rng}: {s.name})"
    return f"{plural(len(idxs), 'task')} of stages {', '.join(map(str, stages))}"


def _workers_of(b: Any, idxs: list[int], facts: Facts) -> str:
    names = sorted({_where(b, i, facts).split(",")[0] for i in idxs})
    return ", ".join(names[:4]) + (" …" if len(names) > 4 else "")


def _assign_text(b: Any, facts: Facts) -> str:
    idxs = [i for i in facts.first_assigned if i >= 0]
    if not idxs:
        return ""
    reruns = [i for i in idxs if (facts.new.get(i) or b.shown[i])[0] == RERUN]
    if len(idxs) == 1:
        i = idxs[0]
        if reruns:
            why = _rerun_reason(b, i)
            return f"The driver re-runs {_task(b, i, True)} on {_where(b, i, facts)} ({why})"
        again = " again (Dask rescheduled it)" if "rescheduled" in facts.causes or b.key_attempt(i) > 1 else ""
        return f"The driver assigns {_task(b, i, True)} to {_where(b, i, facts)}{again}"
    verb = "re-assigns" if reruns else "assigns"
    return f"The driver {verb} {_several(b, idxs)} to {_workers_of(b, idxs, facts)}"


def _rerun_reason(b: Any, idx: int) -> str:
    cause = b.rerun_cause(idx)
    if cause == "result-lost":
        return "its result was lost with a dead worker: Spark-style recomputation from lineage"
    if cause == "worker-lost":
        return "the worker running it died"
    if cause == "lineage":
        return "its result had been freed and is needed again to rebuild what was lost: recomputation from lineage"
    if cause == "shuffle-restart":
        return "the P2P shuffle started over after a worker died"
    if cause == "input-lost":
        return "an input it needed was lost with a dead worker"
    return "a retry"


def caption(facts: Facts, kind: str, b: Any) -> tuple[str, str]:
    """Return (caption, step kind) for one step."""
    parts: list[str] = []
    step_kind = "tasks"
    died = [w for w in facts.workers if w[1] == "worker-removed" and w[2] in ("lost", None)]
    dead_running = [r for r in facts.requeued if r[1] == "worker-lost"]
    survivors = [r for r in facts.requeued + facts.discarded if r[1] in ("shuffle-restart", "input-lost")]
    cleanup = dead_running or facts.lost_results or survivors
    if died:
        parts.append(f"{died[0][0]} died: the driver stops sending it tasks")
        step_kind = "worker-lost"
    elif facts.workers:
        name, wkind, why, nthreads = facts.workers[0]
        if wkind == "worker-added":
            parts.append(f"{name} joins the cluster with {plural(nthreads, 'task slot')}")
        else:
            parts.append(f"{name} leaves the cluster ({why or 'closed'})")
        step_kind = "worker"
    if facts.graph:
        n_dask, n_spark, n_stages = facts.graph
        parts.append(
            f"The driver receives the job's graph: {n_dask:,} Dask tasks, which make "
            f"{plural(n_spark, 'task')} in {plural(n_stages, 'stage')} (one task per partition of a stage)"
        )
        step_kind = "graph"
    if cleanup:
        running = len({r[0] for r in dead_running})
        results = len({r[0] for r in facts.lost_results})
        again = len({r[0] for r in survivors if r[0] >= 0})
        who = (dead_running[0][2] if dead_running else facts.lost_results[0][1] if facts.lost_results
               else died[0][0] if died else "A worker")
        todo = [f"re-assigns its {plural(running, 'running task')}" if running else "",
                f"recomputes {plural(results, 'lost result')}" if results else ""]
        if again and any(r[1] == "shuffle-restart" for r in survivors):
            todo.append(f"starts the P2P shuffle over ({plural(again, 'task')} on other workers will run again)")
        elif again:
            todo.append(f"takes back {plural(again, 'task')} from other workers (an input they need was lost)")
        todo = [x for x in todo if x]
        did = ", ".join(todo[:-1]) + " and " + todo[-1] if len(todo) > 1 else todo[0]
        parts.append(f"{who} died: the driver {did}")
        step_kind = "cleanup" if not died else "worker-lost"
    for idx, message in facts.errors:
        first = str(message).strip().splitlines()[0][:120] if message else "an error"
        parts.append(f"{_task(b, idx, True)} failed on {_where(b, idx, facts)}: {first}")
        step_kind = "failure"
    if facts.steals:
        idx, victim, thief = facts.steals[0]
        more = f" (and {len(facts.steals) - 1} more)" if len(facts.steals) > 1 else ""
        parts.append(f"{thief} is idle and steals {_task(b, idx)}{more} from {victim}")
        step_kind = "steal"
    resched = [r for r in facts.requeued if r[1] == "rescheduled"]
    if resched and not cleanup:
        parts.append(
            f"Dask takes back {_task(b, resched[0][0])} from {resched[0][2]} (rescheduled: a P2P output "
            "partition must run where its shuffled data is)"
        )
    if facts.sends:
        total = sum(s[2] for s in facts.sends)
        if len(facts.sends) == 1:
            src, dst, n = facts.sends[0]
            if src == dst:  # the rows of its own output partitions: buffered locally, not sent over the network
                parts.append(f"{src} keeps {fmt_bytes(n)} of shuffle data for the output partitions it will build")
            else:
                parts.append(f"{src} sends {fmt_bytes(n)} of shuffle data to {dst}")
        else:
            parts.append(f"Workers send {fmt_bytes(total)} of shuffle data to each other in {len(facts.sends)} transfers")
        parts[-1] += " (P2P shuffle: the exchange happens outside the task graph)"
        step_kind = "p2p"
    if facts.fetches:
        total = sum(f[2] for f in facts.fetches)
        nkeys = sum(f[3] for f in facts.fetches)
        src, dst = facts.fetches[0][0], facts.fetches[0][1]
        if len(facts.fetches) == 1:
            parts.append(f"{dst} fetches {plural(nkeys, 'result')} ({fmt_bytes(total)}) from {src}")
        else:
            parts.append(f"Workers fetch {plural(nkeys, 'result')} ({fmt_bytes(total)}) from each other")
        step_kind = "fetch"
    done = [i for i in facts.finished if i >= 0]
    if done:
        i = done[0]
        nb = _result_bytes(b, i, facts)
        keep = f" and keeps its result ({fmt_bytes(nb)}) in memory" if nb else ""
        if len(done) == 1:
            parts.append(f"{_where(b, i, facts).split(',')[0]} finishes {_task(b, i)}{keep}")
        else:
            who = _workers_of(b, done, facts)
            parts.append(f"{who} {'finish' if ',' in who else 'finishes'} {_several(b, done)}")
    assign = _assign_text(b, facts)
    if assign:
        if len(done) == 1 and len(facts.first_assigned) == 1 and not cleanup:
            i = facts.first_assigned[0]
            same = (facts.new.get(i) or b.shown[i])[1] == (facts.new.get(done[0]) or b.shown[done[0]])[1]
            if same and (facts.new.get(i) or b.shown[i])[0] != RERUN:
                assign = f"the driver gives it {_task(b, i)} next"
            else:
                assign = "t" + assign[1:]
        parts.append(assign)
    starts = [i for i in dict.fromkeys(facts.spark_started + facts.slot_started) if i >= 0 and i not in facts.resumed]
    if (starts or facts.resumed) and not parts:
        i = (starts or facts.resumed)[0]
        verb = "starts running" if starts else "resumes"
        n = len(starts or facts.resumed)
        more = f" (and {n - 1} more)" if n > 1 else ""
        parts.append(f"{_where(b, i, facts).split(',')[0]} {verb} {_task(b, i)}{more}")
        step_kind = "start"
        if facts.paused:
            waits = ", ".join(_task(b, j) for j in facts.paused[:3]) + (" …" if len(facts.paused) > 3 else "")
            one = len(facts.paused) == 1
            parts[-1] += (f" ({waits} {'has' if one else 'have'} run part of {'its' if one else 'their'} Dask pieces "
                          f"and {'waits' if one else 'wait'} for the slot again)")
    if facts.lost and not cleanup:
        parts.append(f"the result of {_several(b, facts.lost)} is lost")
    if facts.freed and not parts:
        w = b.wname[facts.freed[0][1]]
        parts.append(f"{w} frees {plural(len(facts.freed), 'result')} that no later task needs any more")
    if facts.plumbing and not parts:
        prefix, w = facts.plumbing[0]
        parts.append(f"{w} runs Dask's {prefix.replace('_', ' ').strip()} task (shuffle plumbing between stages)")
    if not parts:
        parts.append("The driver updates its bookkeeping")
    parts = parts[:1] + ["t" + p[1:] if p.startswith("The ") else p for p in parts[1:]]
    text = "; ".join(parts)
    if text.startswith("the "):
        text = "T" + text[1:]
    text += "."
    for sid in facts.stage_done:
        text += " " + stage_done_text(b, sid)
    return text, step_kind


def window_text(seconds: float, n: int, text: str) -> str:
    """A step that stands for several moments of a big job: ``"In 12.0 ms (5 events): worker-1 finishes ..."``."""
    return f"In {fmt_seconds(seconds)} ({n} events): {text[:1].lower()}{text[1:]}"


def turns_text(b: Any, by_worker: dict[int, set[int]]) -> str:
    """Steps that only swap begun tasks on and off workers' slots, as one caption."""
    spec = "; ".join(f"{b.wname[w]}: {_tasks_short(b, sorted(idxs))}" for w, idxs in sorted(by_worker.items()))
    who = b.wname[next(iter(by_worker))] if len(by_worker) == 1 else "Workers"
    return (f"{who} {'runs' if len(by_worker) == 1 else 'run'} tasks by turns ({spec}): Dask runs the pieces of a "
            "worker's tasks one after another, not each task's pieces in one go as Spark would.")


def _tasks_short(b: Any, idxs: list[int]) -> str:
    stages = sorted({b.tasks[i].stage for i in idxs})
    if len(stages) == 1:
        word = "task" if len(idxs) == 1 else "tasks"
        return f"{word} {', '.join(str(b.tasks[i].partition) for i in idxs)} of stage {stages[0]}"
    return ", ".join(_task(b, i) for i in idxs)


def _result_bytes(b: Any, idx: int, facts: Facts) -> int:
    out_key = b.output_of.get(idx)
    return int(facts.nbytes.get(out_key) or 0)


def stage_done_text(b: Any, sid: int) -> str:
    """"Stage 1 is done: 500 tasks on 5 workers; the shuffle moves 3.1 MB"."""
    stage = b.stage_by_id[sid]
    workers = stage.workers or {}
    n_workers = len(workers) or len({b.shown[i][1] for i, t in enumerate(b.tasks) if t.stage == sid})
    text = f"Stage {sid} is done: {plural(len(stage.tasks), 'task')} on {plural(n_workers, 'worker')}"
    if stage.output == "shuffle":
        moved = _written(b, stage)
        text += f"; the shuffle moves {fmt_bytes(moved)}" if moved else "; its output feeds a shuffle"
    elif stage.output == "driver":
        text += "; its results go to the driver"
    elif stage.output == "write":
        text += "; its results are written to storage"
    elif stage.output == "broadcast":
        text += "; its results go whole to every task of the next stage (a broadcast)"
    elif stage.output == "memory":
        text += "; its results stay in the workers' memory (persist)"
    return text + "."


def _written(b: Any, stage: Any) -> int:
    """Bytes that leave a stage for the next: its one boundary's (the number every view shows)."""
    out = [x for x in b.boundaries if x.parent == stage.id]
    return out[0].nbytes if len(out) == 1 else stage.shuffle_write_bytes


def gather_text(result: Any) -> str:
    """"The driver gathers the result: 4.5 KiB from worker-3 (1 partition); compute() returns it to your notebook."."""
    where = ", ".join(result.workers)
    return (f"The driver gathers the result: {fmt_bytes(result.nbytes)} from {where} "
            f"({plural(len(result.keys), 'partition')}); compute() returns it to your notebook.")


def merges(prev: dict, kind: str, facts: Facts) -> bool:
    """A worker's death and the scheduler's clean-up for it make one step."""
    return {prev.get("kind"), kind} == {"worker-lost", "cleanup"}


def merged_caption(prev: dict, text: str) -> str:
    return text if prev.get("kind") == "worker-lost" else prev["caption"]


def bookmarks(facts: Facts, kind: str, b: Any) -> list[str]:
    """Bookmark kinds this step starts (see :data:`teachkit.model.frames.BOOKMARKS`)."""
    marks = []
    if facts.stage_done or (facts.stage_started and not facts.graph):
        marks.append("stage")
    # The shuffle, at teaching pace: data first moving between workers, and each stage that reads a shuffle
    # starting (not every run of fetches: a big job's task shuffle interleaves hundreds of them with its tasks).
    shuffle_start = any("shuffle" in b.stage_by_id[s].boundaries.values() for s in facts.stage_started)
    if (kind in ("p2p", "fetch") and not b.marks["shuffle"]) or shuffle_start:
        marks.append("shuffle")
    if kind in ("worker-lost", "cleanup", "failure"):
        marks.append("failure")
    if kind == "steal":
        marks.append("steal")
    if kind == "gather":
        marks.append("gather")
    return marks
