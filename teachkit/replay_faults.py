"""Faults in replay mode: nothing is killed or slowed here; the replayed run carries the fault.

``faults.kill_worker`` on a :class:`~teachkit.replay_mode.ReplayCluster` arms a
:class:`ReplayKill` for the next record block.  When that block's shipped run
is found, the kill must be the one the run carries (same worker, same moment,
same ``restart``: a recording's ``fault`` event); then the kill's one line is
printed from that event (the pid, the tasks done, what was lost) and the
``Kill`` holds what happened, as on a live cluster.  Another kill (or none
where the run had one) is a changed job: the block is not replayed.

``faults.slow_worker`` prints its line and notes the slowdown; a run saved with
``TEACHKIT_SAVE_RUNS`` lists the slowed workers (``meta["run"]["slow_workers"]``;
a run that lists none was made with none), and a block whose slowdowns differ
is not replayed either.
``faults.slow_partitions`` needs nothing here: it is part of the job's plan.
"""

from __future__ import annotations

from typing import Any

from teachkit.errors import FaultError
from teachkit.faults import Kill
from teachkit.kill_trigger import kill_line
from teachkit.stragglers import Slow

_ARMED: list[ReplayKill] = []  # armed for the next replayed block
_SLOW: dict[str, ReplaySlow] = {}  # in force, by worker name


class ReplayKill(Kill):
    """A kill in replay mode: filled in from the replayed run's fault when its block ends."""

    def wait(self, timeout: float | None = None) -> Kill:
        """Return at once: in replay mode the kill is read from the run when the record block ends."""
        return self

    def cancel(self, why: str = "") -> None:
        if self.status == "armed" and self in _ARMED:
            _ARMED.remove(self)
            when = self.when.describe() if self.when else "now"
            self._finish("cancelled", f"teachkit: cancelled the kill of {self.worker} ({when}){why}.")


class ReplaySlow(Slow):
    """A slowdown in replay mode: noted, so that the block replays the run made with it."""

    def undo(self) -> None:
        if self.undone:
            return
        self.undone = True
        if _SLOW.get(self.worker) is self:
            del _SLOW[self.worker]
            print(f"teachkit: {self.worker} runs at normal speed again", flush=True)


def arm_kill(cluster: Any, worker: str, when: Any, restart: bool) -> ReplayKill:
    """``faults.kill_worker`` on a replay cluster (arguments already checked)."""
    try:
        address = cluster.address_of(worker)
    except KeyError as exc:
        raise FaultError(exc.args[0]) from None
    for earlier in [k for k in _ARMED if k.worker == worker]:
        earlier.cancel(": the new kill_worker call replaces it")
    kill = ReplayKill(worker, address, when, restart)
    _ARMED.append(kill)
    return kill


def slow(cluster: Any, worker: str, factor: float) -> ReplaySlow:
    """``faults.slow_worker`` on a replay cluster (arguments already checked)."""
    try:
        cluster.address_of(worker)
    except KeyError as exc:
        raise FaultError(exc.args[0]) from None
    earlier = _SLOW.get(worker)
    instead = f" (instead of {earlier.factor:g}x)" if earlier is not None else ""
    if earlier is not None:
        earlier.undone = True
    handle = _SLOW[worker] = ReplaySlow(None, worker, "", factor)
    print(f"teachkit: {worker} now runs every task {factor:g}x slower{instead} in the replayed run (a straggler; "
          "nothing runs here in replay mode); undo() to stop", flush=True)
    return handle


def take_kills() -> list[ReplayKill]:
    """The kills armed for the block that ends now (taken: the next block starts with none)."""
    kills = list(_ARMED)
    _ARMED.clear()
    return kills


def rearm(kills: list[ReplayKill]) -> None:
    """Put back kills a block did not use (it ran no job: the kill waits for the next one, as on a live cluster)."""
    _ARMED[:0] = [k for k in kills if k.status == "armed"]


def slows() -> set[tuple[str, float]]:
    """``(worker, factor)`` of the slowdowns in force."""
    return {(w, float(s.factor)) for w, s in _SLOW.items()}


def _kill_faults(run: Any) -> list[dict]:
    return [f for job in run.jobs for f in job.faults if f.get("action") == "kill"]


def _describe(fault_or_kill: Any) -> str:
    if isinstance(fault_or_kill, dict):
        return f"{fault_or_kill.get('worker')} {fault_or_kill.get('when')}"
    return f"{fault_or_kill.worker} {fault_or_kill.when.describe() if fault_or_kill.when else 'now'}"


def _pair(kill: ReplayKill, faults: list[dict]) -> dict | None:
    when = kill.when.describe() if kill.when else "now"
    return next((f for f in faults if f.get("worker") == kill.worker and f.get("when") == when
                 and bool(f.get("restart", True)) == bool(kill.restart)), None)


def mismatch(run: Any, kills: list[ReplayKill], slowed: set[tuple[str, float]]) -> str | None:
    """Why the faults armed here are not those of the shipped ``run`` (one clause), or ``None``."""
    faults = _kill_faults(run)
    if kills or faults:
        if not faults:
            return f"the shipped run has no worker death, but a kill of {_describe(kills[0])} is armed here"
        if not kills:
            return f"the shipped run killed {_describe(faults[0])}, but no kill_worker is armed here"
        for kill in kills:
            if _pair(kill, faults) is None:
                return f"the shipped run killed {_describe(faults[0])}, not {_describe(kill)} as armed here"
        if len(kills) != len(faults):
            return f"the shipped run has {len(faults)} worker death(s), and {len(kills)} kill(s) are armed here"
    shipped = (run.meta.get("run") or {}).get("slow_workers") or []  # none noted: made with none
    theirs = {(s.get("worker"), float(s.get("factor", 0))) for s in shipped}
    if theirs != slowed:
        said = ", ".join(f"{w} {f:g}x" for w, f in sorted(theirs)) or "no slowed worker"
        return f"the shipped run was made with {said}, and the slowdowns here differ"
    return None


def announce(rec: Any, kills: list[ReplayKill]) -> None:
    """Fill each kill from the replayed run's fault event and print its line (as the live kill would)."""
    faults = _kill_faults(rec)
    for kill in kills:
        fault = _pair(kill, faults)
        if fault is None:  # pragma: no cover - mismatch() ruled it out
            continue
        job = next((j for j in rec.jobs if fault in j.faults), None)
        kill.pid = fault.get("pid")
        kill.t = rec.t0 + float(fault["t"])
        kill.after_s = float(fault["t"]) - job.submitted if job is not None else None
        kill.tasks_done = int(fault.get("tasks_done", 0))
        kill.running, kill.held = list(fault.get("running", [])), list(fault.get("held", []))
        line = kill_line(kill).replace("teachkit: killed", "teachkit (replayed run): killed", 1)
        kill._finish("killed", line)


def drop(kills: list[ReplayKill], why: str) -> None:
    """Close the kills of a block that is not replayed (quietly: the block said why in its own line)."""
    for kill in kills:
        kill.status, kill.message = "cancelled", f"teachkit: {kill.worker} was not killed: {why}."
        kill._done.set()
