"""The live view: progress per stage and the cluster picture while a job runs, then the player.

``teachkit.record(..., live=True)`` calls :meth:`LiveView.start` before the
block and :meth:`LiveView.finish` after it.  A background thread polls
``session.drain()`` (the scheduler's new events) every ``interval`` seconds
and redraws two small HTML widgets; nothing runs on the scheduler or the
workers besides the drain the recording does anyway.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

from teachkit.views.style import STATE_COLORS, stage_color, worker_color

#: Seconds between two polls of the scheduler.
INTERVAL_S = 0.3


class Progress:
    """Per-stage and per-worker counts, kept up to date from the events of each poll.

    The stage structure of a job is derived once, when its graph arrives (the
    graph is complete then); each poll only folds the new transitions into a
    per-key state, so a poll costs the same early and late in a long job.
    """

    _WORKER_KINDS = ("worker-present", "worker-added", "worker-removed")

    def __init__(self, rec: Any) -> None:
        self.rec = rec
        self.structure: list[tuple[int, str, list[list[str]]]] | None = None
        self.title = ""
        self.workers: list | None = None
        self.state: dict[str, tuple[str, str | None]] = {}  # key -> (latest state, worker)
        self.finished: set[str] = set()  # keys whose result reached memory in this job

    def update(self, events: list[dict]) -> None:
        """Fold a poll's new events in."""
        for ev in events:
            kind = ev["kind"]
            if kind == "tr":
                self.state[ev["key"]] = (ev["finish"], ev.get("worker"))
                if ev["finish"] == "memory":
                    self.finished.add(ev["key"])
            elif kind == "graph":  # a new job: its stages are derived on the next count
                self.structure = None
                self.finished.difference_update(t["key"] for t in ev["tasks"])
            elif kind in self._WORKER_KINDS:
                self.workers = None

    def counts(self) -> tuple[list[dict], list[dict]]:
        """``(stage rows, worker rows)`` for the newest job."""
        if self.structure is None:
            jobs = self.rec.jobs
            if not jobs:
                return [], []
            try:
                stages = list(jobs[-1].stages)
            except Exception:  # a graph still arriving: no bars this round, the next poll will have them
                return [], []
            self.structure = [(s.id, s.name, [list(t.keys) for t in s.tasks]) for s in stages]
            self.title = jobs[-1].name
        if self.workers is None:
            self.workers = list(self.rec.workers)
        slot_of = {w.address: i for i, w in enumerate(self.workers)}
        running_on = [0] * len(self.workers)
        rows = []
        for sid, name, tasks in self.structure:
            done = running = 0
            for keys in tasks:
                if all(k in self.finished for k in keys):
                    done += 1
                    continue
                busy = [self.state[k][1] for k in keys if self.state.get(k, ("",))[0] == "processing"]
                if busy:
                    running += 1
                    if busy[0] in slot_of:
                        running_on[slot_of[busy[0]]] += 1
            rows.append({"id": sid, "name": name, "total": len(tasks), "done": done, "running": running})
        workers = [{"name": w.name, "alive": w.removed is None, "running": running_on[i], "slots": w.nthreads}
                   for i, w in enumerate(self.workers)]
        return rows, workers


def progress(rec: Any) -> tuple[list[dict], list[dict]]:
    """Per-stage counts (done, running, pending) and per-worker running counts of the newest job."""
    tracker = Progress(rec)
    tracker.update(rec.events)
    return tracker.counts()


def stages_html(rows: list[dict], title: str = "") -> str:
    out = [f'<div style="font:16px Helvetica,Arial,sans-serif"><b>{html.escape(title)}</b>']
    for r in rows:
        total = max(r["total"], 1)
        pend = r["total"] - r["done"] - r["running"]
        seg = "".join(
            f'<div style="width:{100 * n / total:.2f}%;background:{c}"></div>'
            for n, c in ((r["done"], STATE_COLORS["done"]), (r["running"], STATE_COLORS["running"]),
                         (pend, STATE_COLORS["pending"])) if n)
        out.append(
            f'<div style="margin:6px 0"><span style="color:{stage_color(r["id"])}">■</span> Stage {r["id"]}: '
            f'{html.escape(r["name"])} — {r["done"]} done, {r["running"]} running, {pend} pending of {r["total"]}'
            f'<div style="display:flex;height:18px;border:1px solid #888;width:100%;max-width:700px">{seg}</div></div>')
    return "".join(out) + "</div>"


def workers_html(workers: list[dict]) -> str:
    boxes = "".join(
        f'<div style="border:3px {"solid" if w["alive"] else "dashed"} {worker_color(i)};border-radius:6px;'
        f'padding:4px 8px;opacity:{1 if w["alive"] else 0.5}"><b>{html.escape(w["name"])}</b><br>'
        f'{w["running"]} of {w["slots"]} slots busy{"" if w["alive"] else " (dead)"}</div>'
        for i, w in enumerate(workers))
    return f'<div style="display:flex;gap:8px;flex-wrap:wrap;font:16px Helvetica,Arial,sans-serif">' \
           f'<div style="border:3px solid #333;border-radius:6px;padding:4px 8px"><b>Driver</b></div>{boxes}</div>'


class LiveView:
    """Progress bars per stage and the cluster picture, updated from a background thread."""

    def __init__(self, session: Any, interval: float = INTERVAL_S) -> None:
        import ipywidgets as widgets

        self.session = session
        self.interval = interval
        self.tracker = Progress(session.rec)
        self.polls = 0
        self.poll_seconds = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.stages = widgets.HTML("<i>waiting for a job…</i>")
        self.cluster = widgets.HTML("")
        self.box = widgets.VBox([self.stages, self.cluster])
        self._thread = threading.Thread(target=self._run, name="teachkit-live", daemon=True)

    @classmethod
    def start(cls, session: Any, interval: float = INTERVAL_S) -> LiveView:
        """Show the live view and start polling ``session.drain()``."""
        view = cls(session, interval)
        try:
            from IPython.display import display

            display(view.box)
        except Exception:  # no notebook: nothing to show, keep polling harmlessly
            pass
        view._thread.start()
        return view

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self._stop.is_set():
                    return
                t = time.perf_counter()
                try:
                    self.tracker.update(self.session.drain())
                    self._draw()
                except Exception as exc:  # never break the job; note it in the recording
                    self.session.warn("live view", exc)
                self.polls += 1
                self.poll_seconds += time.perf_counter() - t

    def _draw(self) -> None:
        rows, workers = self.tracker.counts()
        if rows:
            self.stages.value = stages_html(rows, self.tracker.title)
        self.cluster.value = workers_html(workers)

    def halt(self) -> None:
        """Stop polling (``teachkit.record`` calls it before its final drain, which must not race a poll)."""
        self._stop.set()
        with self._lock:  # wait for a poll in progress
            pass
        self._thread.join(timeout=5)

    def finish(self, rec: Any) -> None:
        """Stop polling and turn into the step-through player of the last job."""
        self.halt()
        note = ""
        if rec.jobs:
            try:
                from teachkit.views.player import Player

                self.box.children = [Player(rec)]
                return
            except Exception as exc:
                note = f"<i>The player could not be built: {html.escape(str(exc))}</i>"
        self.tracker = Progress(rec)  # the final counts, including the events of the last drain
        self.tracker.update(rec.events)
        self._draw()
        self.stages.value = note + self.stages.value
