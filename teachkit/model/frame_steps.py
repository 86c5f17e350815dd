"""Player frames, second half: per-Spark-task state out of per-Dask-key state, encoded as steps.

:class:`StepEncoder` is mixed into the replay of :mod:`teachkit.model.frames`:
after each candidate step it derives every changed Spark task's
``[state, worker, slot, holder]`` (:meth:`StepEncoder._spark_state`), keeps
only what changed (the ``"d"`` deltas), captions it and appends the step.

Slots: ``slot`` is the slot a task is **on now**; 0 while it waits on its
worker.  Dask does not run a fused Spark task's pieces in one go: a worker
with a free thread runs whichever queued piece comes first, so two Spark tasks
assigned to a one-thread worker take turns.  A task whose piece starts takes
its slot; a task it displaces between two of its pieces shows as assigned
(waiting for the slot) until its next piece starts.  So no slot ever holds two
running tasks, and runs of such turn-taking steps fold into one step.
"""

from __future__ import annotations

from typing import TypedDict

from teachkit.model import captions

#: Node states, in the order of their integer codes in the frame data.
STATES = ("pending", "assigned", "running", "done", "lost", "re-run", "failed")
PENDING, ASSIGNED, RUNNING, DONE, LOST, RERUN, FAILED = range(7)

#: Bookmark kinds, for the player's jump buttons.
BOOKMARKS = ("stage", "shuffle", "failure", "steal")

#: Attempt causes (see :mod:`teachkit.model.jobs`) that make a task run again because of a failure.
_RERUN_CAUSES = ("worker-lost", "result-lost", "retried", "lineage", "shuffle-restart", "input-lost")
#: The Spark task's reason when its Dask keys re-run for several: the one that explains the others.
_RERUN_PRIORITY = ("result-lost", "worker-lost", "shuffle-restart", "input-lost", "lineage", "retried")
#: End causes of an attempt on a surviving worker, taken back or discarded after another worker died.
_SURVIVOR_CAUSES = ("shuffle-restart", "input-lost")


class Step(TypedDict, total=False):
    """One step of the player (the wire format of ``Frames.steps``)."""

    t: float  # seconds since recording start (the timeline cursor)
    kind: str  # graph | tasks | start | fetch | p2p | steal | worker | failure
    caption: str
    d: list[list[int]]  # [task, state, worker, slot, holder]
    w: list[list[int]]  # [worker, alive 0/1]


class StepEncoder:
    """Mixin of the frames' replay: Spark-task states, deltas, captions and steps (see module docstring)."""

    # set by the replay (teachkit.model.frames._Builder)
    tasks: list
    shown: list
    steps: list
    key_state: dict
    on_slot: dict
    slot_holder: dict
    begun: set
    turns: tuple | None
    output_of: dict
    stage_seen: set
    stage_left: dict
    marks: dict

    def _deltas(self, changed: set[int], facts: captions.Facts) -> list[list[int]]:
        out = []
        for idx in sorted(changed):
            new = self._spark_state(idx)
            old = self.shown[idx]
            if new == old:
                continue
            self.shown[idx] = new
            out.append([idx, *new])
            facts.note_change(idx, old, new)
            was_on, is_on = old[0] in (RUNNING, RERUN) and old[2] > 0, new[0] in (RUNNING, RERUN) and new[2] > 0
            if is_on and not was_on:
                (facts.resumed if idx in self.begun else facts.slot_started).append(idx)
                self.begun.add(idx)
            elif was_on and not is_on and new[0] in (ASSIGNED, RERUN):
                facts.paused.append(idx)
            elif new[0] not in (ASSIGNED, RUNNING, RERUN):  # off its worker: a later run starts afresh
                self.begun.discard(idx)
                place = self.on_slot.pop(idx, None)
                if place is not None and self.slot_holder.get(place) == idx:
                    del self.slot_holder[place]
        return out

    def _spark_state(self, idx: int) -> list[int]:
        """State of one Spark task from its Dask keys: [state, worker, slot, holder]."""
        st = self.tasks[idx]
        phases = []
        worker, rerun = -1, False
        for key in st.keys:
            ks = self.key_state.get(key)
            if ks is None:
                phases.append("pending")
                continue
            phases.append(ks[0])
            if ks[0] in ("assigned", "running") or worker < 0:
                worker = ks[1]
            rerun = rerun or ks[3] in _RERUN_CAUSES
        active = any(p in ("assigned", "running") for p in phases)
        if "erred" in phases:
            state = FAILED
        elif all(p in ("done", "released") for p in phases):
            state = DONE
        elif "lost" in phases and not active:
            state = LOST
        elif ("requeued" in phases or "discarded" in phases) and not active:
            state = PENDING  # taken back or dropped after a worker died: waits to run again
        elif any(p in ("assigned", "running") for p in phases) or any(p in ("done", "released") for p in phases):
            started = any(p in ("running", "done", "released") for p in phases)
            state = RERUN if rerun else (RUNNING if started else ASSIGNED)
        else:
            state = PENDING
        slot = 0  # the slot it is on now (0: waiting on its worker, or not on one)
        place = self.on_slot.get(idx)
        if state in (ASSIGNED, RUNNING, RERUN) and place is not None:
            if place[0] == worker and self.slot_holder.get(place) == idx:
                slot = place[1]
            elif state == RUNNING:  # between two of its Dask pieces, and another task took the slot
                state = ASSIGNED
        holder = -1
        if state == DONE:  # who keeps the result: the output key's worker, else any key still in memory
            held = [k for k in st.keys if self.key_state.get(k, ("",))[0] == "done"]
            out_key = self.output_of.get(idx)
            if held:
                holder = self.key_state[out_key if out_key in held else held[-1]][1]
        if state in (PENDING, LOST):
            worker, slot = -1, 0
        return [state, worker, slot, holder]

    def _resume_only(self, step_kind: str, facts: captions.Facts, alive: list) -> tuple[int, set[int]] | None:
        """(worker, tasks) when a step only swaps begun tasks on and off one worker's slots, else None."""
        if step_kind != "start" or not facts.resumed or alive or facts.finished or facts.first_assigned:
            return None
        if not set(facts.spark_started + facts.slot_started) <= set(facts.resumed):
            return None
        tasks = set(facts.resumed + facts.paused)
        workers = {self.shown[i][1] for i in tasks}
        return (workers.pop(), tasks) if len(workers) == 1 else None

    def _emit(self, t: float, kind: str, facts: captions.Facts, deltas: list, alive: list) -> None:
        n = len(self.steps)
        for idx in facts.first_assigned:
            stage = self.tasks[idx].stage
            if stage not in self.stage_seen:
                self.stage_seen.add(stage)
                facts.stage_started.append(stage)
        for idx in facts.finished:
            stage = self.tasks[idx].stage
            self.stage_left[stage] -= 1
            if self.stage_left[stage] == 0:
                facts.stage_done.append(stage)
        for idx in facts.undone:
            self.stage_left[self.tasks[idx].stage] += 1
        text, step_kind = captions.caption(facts, kind, self)
        turn = self._resume_only(step_kind, facts, alive)
        if turn is not None and self.turns is not None and self.turns[0] == n - 1:
            # tasks taking turns on their workers' slots, step after step: one step, not dozens
            by_worker = self.turns[1]
            by_worker.setdefault(turn[0], set()).update(turn[1])
            prev = self.steps[-1]
            prev["caption"] = captions.turns_text(self, by_worker)
            prev["d"] = prev.get("d", []) + deltas
            return
        self.turns = (n, {turn[0]: turn[1]}) if turn is not None else None
        if self.steps and captions.merges(self.steps[-1], step_kind, facts):
            prev = self.steps[-1]
            prev["caption"] = captions.merged_caption(prev, text)
            prev["d"] = prev.get("d", []) + deltas
            prev["w"] = prev.get("w", []) + alive
            n -= 1
        else:
            step: Step = {"t": round(t, 4), "kind": step_kind, "caption": text}
            if deltas:
                step["d"] = deltas
            if alive:
                step["w"] = alive
            self.steps.append(step)
        for mark in captions.bookmarks(facts, step_kind, self):
            if n not in self.marks[mark]:
                self.marks[mark].append(n)

