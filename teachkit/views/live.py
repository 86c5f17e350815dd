"""The live view: progress per stage and the cluster picture while a job runs, then the player.

``teachkit.record(..., live=True)`` calls :meth:`LiveView.start` before the
block, :meth:`LiveView.halt` before its final drain and :meth:`LiveView.finish`
after it.  A background thread polls ``session.drain()`` (the scheduler's new
events, and the jobs' plans) every ``interval`` seconds and redraws two small
HTML widgets; nothing runs on the scheduler or the workers besides the drain the
recording does anyway.

What it shows is read from the model, as the finished recording is: the newest
job's stages (derived once, when its graph and plan arrive, so a job shows the
stages and the name it will have when it ends), and its log of changes folded
up to now (:func:`teachkit.model.fold.state_at`), with the states, colours and
words of the player and the cluster picture.  While a job runs the scheduler
hears of a task's start only with its finish, so a task given to a worker with
a free slot counts as running there (:mod:`teachkit.model.changes`).
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

from teachkit.model.fold import state_at
from teachkit.model.vocabulary import SUMMARY_ORDER
from teachkit.views.style import FONT, STATE_COLORS, stage_color, worker_color

#: Seconds between two polls of the scheduler.
INTERVAL_S = 0.3
#: A poll waits at least this many times as long as the last one took, so the view never takes more than a
#: small share of the notebook's process (which, with a local cluster, also runs the scheduler).
BACKOFF = 4


class Progress:
    """Per-stage and per-worker counts of a recording's newest job, folded from the model's log."""

    def __init__(self, rec: Any) -> None:
        self.rec = rec
        self._stages: dict[tuple[int, float], list] = {}  # per job: its stages, derived once
        self.title = ""

    def counts(self, at: float | None = None) -> tuple[list[dict], list[dict]]:
        """``(stage rows, worker rows)`` for the newest job, at ``at`` (default: all that was recorded)."""
        jobs = self.rec.jobs
        if not jobs:
            return [], []
        job = jobs[-1]
        ident = (job.index, job.submitted)
        if ident not in self._stages:
            self._stages = {ident: list(job.stages)}  # the graph is complete when it arrives
        stages = self._stages[ident]
        self.title = job.name
        snap = state_at(job, at, stages)
        rows = []
        for s in stages:
            c = snap.counts(s.id)
            rows.append({"id": s.id, "name": s.name, "total": len(s.tasks), **{k: c[k] for k in SUMMARY_ORDER}})
        running, waiting = snap.running(), snap.waiting()
        t = snap.t
        workers = [{"name": w.name, "alive": w.removed is None or w.removed > t, "slots": w.nthreads,
                    "running": len(running.get(w.name, [])), "waiting": len(waiting.get(w.name, []))}
                   for w in snap.workers if w.added is None or w.added <= t]
        return rows, workers


def progress(rec: Any, at: float | None = None) -> tuple[list[dict], list[dict]]:
    """Per-stage counts (one per state) and per-worker slots of the newest job, at ``at`` (default: the end)."""
    return Progress(rec).counts(at)


def stages_html(rows: list[dict], title: str = "") -> str:
    """One progress bar per stage, in the states' colours, with the counts in words."""
    out = [f'<div style="font:16px {FONT};max-width:100%"><b>{html.escape(title)}</b>']
    for r in rows:
        total = max(r["total"], 1)
        seg = "".join(f'<div style="width:{100 * r[k] / total:.2f}%;background:{STATE_COLORS[k]}"></div>'
                      for k in SUMMARY_ORDER if r.get(k))
        words = ", ".join(f"{r[k]} {k}" for k in SUMMARY_ORDER if r.get(k)) or "no tasks"
        out.append(
            f'<div style="margin:6px 0"><span style="color:{stage_color(r["id"])}">■</span> Stage {r["id"]}: '
            f'{html.escape(r["name"])} — {words} of {r["total"]}'
            f'<div style="display:flex;height:18px;border:1px solid #888;width:100%;max-width:700px">{seg}</div></div>')
    return "".join(out) + "</div>"


def workers_html(workers: list[dict]) -> str:
    """The driver and one box per worker: its busy slots and the tasks waiting on it."""
    boxes = "".join(
        f'<div style="border:3px {"solid" if w["alive"] else "dashed"} {worker_color(i)};border-radius:6px;'
        f'padding:4px 8px;opacity:{1 if w["alive"] else 0.5}"><b>{html.escape(w["name"])}</b><br>'
        f'{w["running"]} of {w["slots"]} slot{"s" * (w["slots"] != 1)} busy'
        f'{" · %d waiting" % w["waiting"] if w["waiting"] else ""}{"" if w["alive"] else " (dead)"}</div>'
        for i, w in enumerate(workers))
    return f'<div style="display:flex;gap:8px;flex-wrap:wrap;font:16px {FONT}">' \
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
        wait = self.interval
        while not self._stop.wait(wait):
            with self._lock:
                if self._stop.is_set():
                    return
                t = time.perf_counter()
                try:
                    self.session.drain()  # into the recording: its model is rebuilt on the next count
                    self._draw()
                except Exception as exc:  # never break the job; note it in the recording
                    self.session.warn("live view", exc)
                took = time.perf_counter() - t
                self.polls += 1
                self.poll_seconds += took
                wait = max(self.interval, BACKOFF * took)

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
        self._draw()
        self.stages.value = note + self.stages.value
