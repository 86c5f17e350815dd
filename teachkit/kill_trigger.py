"""The scheduler side of :func:`teachkit.faults.kill_worker`: count finished tasks, kill at the moment.

:class:`KillTrigger` is a tiny scheduler plugin.  It binds to the next job
submitted (or the one already running), counts its finished tasks as the
scheduler sees them, and sends SIGKILL to the worker's process at once, inside
the scheduler's own event loop, so the user's ``compute()`` is never blocked or
polled.  The moment is any object with ``describe()``, ``reached(done, total)``,
``delay`` (seconds, or ``None``), ``done_text(tasks_done)`` and ``stage`` (see
the helpers in :mod:`teachkit.faults`).  A kill is noted in a running teachkit
recording through :func:`teachkit.record.scheduler_recorder.note_event`.
"""

from __future__ import annotations

import os
import signal
from time import time
from typing import Any

from distributed.diagnostics.plugin import SchedulerPlugin

from teachkit.record.events import key_str
from teachkit.record.scheduler_recorder import note_event

#: Task states of a job that has not finished (``released`` only while a graph arrives).
ACTIVE = ("released", "waiting", "queued", "processing", "no-worker")
#: Addresses of worker processes killed from this interpreter (a restarted worker gets a new address).
KILLED: set[str] = set()


class KillTrigger(SchedulerPlugin):
    """Scheduler plugin: count finished tasks of the next job and kill at the chosen moment.

    ``kill`` is the client's :class:`teachkit.faults.Kill`: the trigger fills in
    what happened and calls its ``_finish(status, message)`` once.
    """

    def __init__(self, kill: Any, scheduler: Any, nanny: Any, name: str, start_timeout: float) -> None:
        self.kill, self.scheduler, self.nanny, self.name = kill, scheduler, nanny, name
        self.on_kill: Any = None  # called with nothing once the worker is killed
        self.start_timeout = start_timeout
        self.job: set | None = None  # keys of the job's tasks
        self.remaining: set = set()
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.started: float | None = None
        self.timers: list = []
        self.fired = False

    async def close(self) -> None:
        self._cancel_timers()

    def update_graph(self, scheduler, *, keys, tasks=None, **kw) -> None:
        if self.job is None and not self.fired:
            self.bind(list(tasks or keys))

    def bind(self, keys: list) -> None:
        """Count the tasks of this job (its keys) from now on."""
        self.job = set(keys)
        self.remaining = {k for k in keys if k in self.scheduler.tasks and self.scheduler.tasks[k].state in ACTIVE}
        self.started = time()
        for k in keys:
            ts = self.scheduler.tasks.get(k)
            if ts is not None:
                self.totals[ts.prefix.name] = self.totals.get(ts.prefix.name, 0) + 1
        stage = getattr(self.kill.when, "stage", None)
        if stage and not any(p.startswith(stage) for p in self.totals):
            names = ", ".join(sorted(self.totals))
            return self._give_up(f"the job has no stage {stage!r}: its task prefixes are {names}")
        delay = getattr(self.kill.when, "delay", None)
        if delay is not None:
            self.timers.append(self.scheduler.loop.call_later(delay, self.fire))
        self._check()

    def transition(self, key, start, finish, *args, **kwargs) -> None:
        if self.job is None or self.fired or key not in self.job:
            return
        if finish == "memory" and start == "processing":
            ts = self.scheduler.tasks.get(key)
            prefix = ts.prefix.name if ts is not None else ""
            self.done[prefix] = self.done.get(prefix, 0) + 1
        if finish in ("memory", "erred", "forgotten"):
            self.remaining.discard(key)
        self._check()
        if not self.fired and not self.remaining:  # the job is done and the moment never came
            self._finish("missed", f"teachkit: did not kill {self.kill.worker}: the job finished "
                         f"({self._count()} tasks) before {self.kill.when.describe()}")

    def _count(self) -> int:
        stage = getattr(self.kill.when, "stage", None)
        return sum(n for p, n in self.done.items() if not stage or p.startswith(stage))

    def _check(self) -> None:
        when = self.kill.when
        if self.fired or self.job is None:
            return
        stage = getattr(when, "stage", None)
        total = sum(n for p, n in self.totals.items() if not stage or p.startswith(stage))
        if when.reached(self._count(), total):
            self.fire()

    def fire(self) -> None:
        """Kill now (runs on the scheduler's event loop)."""
        if self.fired:
            return
        self.fired = True
        self._cancel_timers()
        kill, s = self.kill, self.scheduler
        ws = s.workers.get(kill.address)
        if ws is None or kill.address in KILLED:
            return self._give_up(f"{kill.worker} was already gone (killed before)")
        if len(s.workers) < 2:
            return self._give_up(f"{kill.worker} is the last live worker; the job could not finish without it")
        pid = self.nanny.pid
        if pid is None:
            return self._give_up(f"{kill.worker} has no running process")
        kill.pid, kill.t = pid, time()
        kill.after_s = kill.t - self.started if self.started is not None else None
        kill.tasks_done = self._count()
        kill.running = sorted(key_str(ts.key) for ts in ws.processing)
        kill.held = sorted(key_str(ts.key) for ts in ws.has_what)
        if not kill.restart:
            from distributed.core import Status

            self.nanny.status = Status.closing_gracefully  # the Nanny then closes instead of restarting
        os.kill(pid, signal.SIGKILL)
        KILLED.add(kill.address)
        if self.on_kill is not None:
            self.on_kill()
        note_event(s, {  # into a running teachkit recording, if any
            "kind": "fault", "t": kill.t, "action": "kill", "worker": kill.address, "pid": kill.pid,
            "restart": kill.restart, "when": kill.when.describe() if kill.when else "now",
            "tasks_done": kill.tasks_done, "running": kill.running, "held": kill.held,
        })
        self._finish("killed", kill_line(kill))

    def _give_up(self, why: str) -> None:
        self.fired = True
        self._finish("failed", f"teachkit: did not kill {self.kill.worker}: {why}.")

    def _finish(self, status: str, message: str) -> None:
        self.fired = True  # once: later transitions and timers do nothing
        self._cancel_timers()
        self.scheduler.loop.add_callback(self._remove)  # never change the plugin dict while it is iterated
        self.kill._finish(status, message)

    def _remove(self) -> None:
        if self.scheduler.plugins.get(self.name) is self:
            self.scheduler.remove_plugin(name=self.name)

    def _cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers = []

    def cancel(self, why: str = "") -> None:
        """Disarm (on the scheduler's event loop); ``why`` ends the printed line."""
        if not self.fired:
            self.fired = True
            when = self.kill.when.describe() if self.kill.when else "now"
            self._finish("cancelled", f"teachkit: cancelled the kill of {self.kill.worker} ({when}){why}.")

    def timeout(self) -> None:
        if self.job is None and not self.fired:
            self._give_up(f"no job started within {self.start_timeout:g} s; call kill_worker just before compute()")


def kill_line(kill: Any) -> str:
    """The one line printed for a kill that happened."""
    when = f" {kill.when.done_text(kill.tasks_done)}" if kill.when is not None else ""
    held = f"{len(kill.running)} task(s) assigned there go elsewhere, {len(kill.held)} result(s) held there are lost"
    then = "its Nanny restarts it under a new address" if kill.restart else "it stays dead (restart=False)"
    return f"teachkit: killed {kill.worker} (pid {kill.pid}){when}; {held}; {then}"
