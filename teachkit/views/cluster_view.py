"""The cluster at one moment: the driver, and each worker with its task slots and the results it holds.

Drawn from the job's log of changes folded up to ``t``
(:func:`teachkit.model.fold.state_at`), the very fold the player steps
through: the same states (:data:`teachkit.model.vocabulary.STATES`), on the
same slots, with the same colours.  A task is *running* on a slot, *assigned*
to a worker that has not started it (or that runs another task between two of
its pieces), and its result is *held in memory* by the worker that keeps it
until the scheduler releases it or the worker dies.
"""

from __future__ import annotations

from collections import Counter

from teachkit.model.fold import state_at
from teachkit.model.vocabulary import SUMMARY_ORDER, fmt_bytes, fmt_seconds
from teachkit.views.common import job_and_stages
from teachkit.views.display import Message, SvgDrawing
from teachkit.views.style import (DEATH_COLOR, DRIVER_COLOR, FONT, OTHER_COLOR, STATE_COLORS, esc, stage_color,
                                  text_on, worker_colors)

BOX_W, GAP, PER_ROW, SLOT_H, CHIP_ROWS = 330, 20, 4, 24, 3
DASH = ' stroke-dasharray="6 3"'


def cluster_view(rec, at: float | None = None, job=None) -> SvgDrawing | Message:
    """Draw the driver and the workers at time ``at`` (seconds since recording start; default: the job's end).

    ``job`` (a Job or its index) picks whose stages colour the tasks; by default
    the job running at ``at`` (or the last one submitted before it).
    """
    jobs = list(getattr(rec, "jobs", []) or [])
    if not jobs:
        return Message("This recording has no jobs: run a compute() or persist() inside teachkit.record(...).")
    job = _pick_job(jobs, job, at)
    job, stages, message = job_and_stages(job)
    if message:
        return message
    t = at if at is not None else (job.end if job.end is not None else job.submitted)
    state = _state_at(job, stages, t)
    workers = list(rec.workers)
    wcol = worker_colors(workers)
    nrows = (len(workers) + PER_ROW - 1) // PER_ROW
    ncols = min(len(workers), PER_ROW) or 1
    width = max(ncols * (BOX_W + GAP) + GAP, 700)
    driver_h = 70 + 18 * len(stages[:8])
    slots = {w.name: max([w.nthreads] + [s for s, *_ in state["running"].get(w.name, [])]) for w in workers}
    box_h = 46 + max(slots.values(), default=1) * SLOT_H + 20 + CHIP_ROWS * 20 + 10
    out: list[str] = []
    out += _driver(job, stages, state, t, width, driver_h)
    top = driver_h + 50
    places = [(w, GAP + (i % PER_ROW) * (BOX_W + GAP), top + (i // PER_ROW) * (box_h + GAP))
              for i, w in enumerate(workers)]
    for w, bx, by in places:  # the driver's links first, so the (opaque) worker boxes sit on top of them
        out.append(f'<line x1="{width / 2:.0f}" y1="{driver_h + 10}" x2="{bx + BOX_W / 2:.0f}" y2="{by}" '
                   f'stroke="#999999" stroke-width="1.5"/>')
    for w, bx, by in places:
        out += _worker(w, slots[w.name], state, t, bx, by, box_h, wcol.get(w.name, OTHER_COLOR))
    legend_y = top + nrows * (box_h + GAP) + 10
    out += _legend(stages, legend_y)
    height = legend_y + 50
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" font-family="{FONT}" '
           f'font-size="13" data-t="{t:.6f}">' + "".join(out) + "</svg>")
    info = {"t": t, "job": job.index, "memory": state["memory_parts"],
            "running": {w: [(slot, what) for slot, what, _ in items] for w, items in state["running"].items()},
            "assigned": state["assigned"], "counts": state["counts"]}
    return SvgDrawing(svg, kind="cluster view", info=info)


def _pick_job(jobs: list, job, at: float | None):
    if job is not None:
        return jobs[job] if isinstance(job, int) else job
    if at is None:
        return jobs[-1]
    for j in jobs:
        if j.submitted <= at <= (j.end if j.end is not None else j.submitted):
            return j
    before = [j for j in jobs if j.submitted <= at]
    return before[-1] if before else jobs[0]


def _state_at(job, stages: list, t: float) -> dict:
    """Who runs what on which slot, what waits and what is held where, at time ``t`` (the fold of the log)."""
    snap = state_at(job, t, stages)
    running = {w: [(slot, (st.stage, st.partition), word) for slot, st, word in items]
               for w, items in snap.running().items()}
    held = {w: sorted((st.stage, st.partition) for st in items) for w, items in snap.held().items()}
    return {"running": running, "assigned": {w: len(items) for w, items in snap.waiting().items()},
            "counts": {s.id: snap.counts(s.id) for s in stages}, "memory_parts": held,
            "memory_bytes": snap.memory_bytes}


def _driver(job, stages, state, t, width, h) -> list[str]:
    lines = [f'<rect x="{GAP}" y="10" width="{width - 2 * GAP}" height="{h}" rx="8" fill="{DRIVER_COLOR}"/>',
             f'<text x="{GAP + 12}" y="32" fill="#FFFFFF" font-size="16" font-weight="bold">Driver '
             f'<tspan font-weight="normal" font-size="13">(your notebook + the Dask scheduler: plans, assigns, '
             f'tracks, gathers)</tspan></text>',
             f'<text x="{GAP + 12}" y="54" fill="#FFFFFF">Job {job.index}: {esc(job.name)} — at t = '
             f'{fmt_seconds(t) if t >= 0 else f"{t:.3f} s"}'
             f'{" — FAILED" if job.errors and job.end is not None and t >= job.end else ""}</text>']
    for i, s in enumerate(stages[:8]):
        c = state["counts"].get(s.id, Counter())
        parts = [f"{c[k]} {k}" for k in SUMMARY_ORDER if c[k]]
        y = 74 + 18 * i
        lines.append(f'<rect x="{GAP + 12}" y="{y - 11}" width="12" height="12" fill="{stage_color(s.id)}"/>'
                     f'<text x="{GAP + 30}" y="{y}" fill="#FFFFFF">Stage {s.id} ({esc(_short(s.name))}): '
                     f'{esc(", ".join(parts) or "no tasks")} of {s.num_tasks}</text>')
    return lines


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _worker(w, nslots, state, t, x, y, h, color) -> list[str]:
    dead = w.removed is not None and w.removed <= t
    absent = w.added is not None and w.added > t
    out = [f'<g><title>{esc(w.name)} ({esc(w.address)}), {w.nthreads} thread(s)</title>'
           f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{h}" rx="6" fill="{"#F0F0F0" if dead or absent else "#FFFFFF"}" '
           f'stroke="{DEATH_COLOR if dead else color}" stroke-width="{3 if dead else 2}"'
           f'{DASH if absent else ""}/></g>',
           f'<rect x="{x}" y="{y}" width="{BOX_W}" height="26" rx="6" fill="{color}"/>',
           f'<text x="{x + 10}" y="{y + 18}" font-weight="bold" fill="{text_on(color)}">{esc(w.name)}'
           f'<tspan font-weight="normal"> · {nslots} slot{"s" * (nslots != 1)}</tspan></text>']
    if dead or absent:
        what = (f"✕ died at {w.removed:.2f} s", "its running tasks and the results", "it held are lost") if dead \
            else (f"joins at {w.added:.2f} s",)
        for i, line in enumerate(what):
            out.append(f'<text x="{x + 10}" y="{y + 50 + 18 * i}" fill="{DEATH_COLOR if dead else "#444444"}" '
                       f'font-weight="{"bold" if i == 0 else "normal"}">{esc(line)}</text>')
        return out
    running = {slot: (what, word) for slot, what, word in state["running"].get(w.name, [])}
    for s in range(1, nslots + 1):
        sy = y + 34 + (s - 1) * SLOT_H
        what, word = running.get(s, (None, None))
        fill = stage_color(what[0]) if what else "#F4F4F4"
        label = f"slot {s}: Stage {what[0]} · partition {what[1]}" if what else f"slot {s}: idle"
        label += " · re-run" if word == "re-run" else ""
        edge = f' stroke="{STATE_COLORS[word]}" stroke-width="3"' if word == "re-run" else ""
        out.append(f'<rect x="{x + 8}" y="{sy}" width="{BOX_W - 16}" height="{SLOT_H - 4}" rx="3" fill="{fill}"{edge}/>'
                   f'<text x="{x + 14}" y="{sy + 15}" fill="{text_on(fill)}">{esc(label)}</text>')
    qy = y + 34 + nslots * SLOT_H + 12
    out.append(f'<text x="{x + 10}" y="{qy}" font-size="12" fill="#444444">'
               f'{esc(_waiting_text(state["assigned"].get(w.name, 0), len(running) < nslots))}</text>')
    parts = state["memory_parts"].get(w.name, [])
    out.append(f'<text x="{x + 10}" y="{qy + 20}" font-size="12">In memory: {len(parts)} task result'
               f'{"s" * (len(parts) != 1)} ({fmt_bytes(state["memory_bytes"].get(w.name, 0))} of Dask results)</text>')
    out += _chips(parts, x + 10, qy + 28)
    return out


def _waiting_text(n: int, idle: bool) -> str:
    """What waits on a worker: with every slot busy it waits for one; with a slot idle it is just not on one now
    (given a moment ago, or between two of its Dask pieces)."""
    if not n:
        return "no tasks waiting"
    if idle:
        return f"{n} assigned, not on a slot at this moment"
    return f"{n} more assigned, waiting for a free slot"


def _chips(parts: list[tuple[int, int]], x: float, y: float) -> list[str]:
    """Small coloured chips ``p7`` for the partitions held, by stage; the overflow is counted."""
    out, cx, cy, row = [], x, y, 0
    for i, (sid, p) in enumerate(parts):
        w = 8 + 7 * len(str(p))
        if cx + w > x + BOX_W - 60:
            row, cx, cy = row + 1, x, cy + 20
        if row >= CHIP_ROWS - 1 and cx + w > x + BOX_W - 110:
            out.append(f'<text x="{cx + 2:.0f}" y="{cy + 13}" font-size="12">… +{len(parts) - i} more</text>')
            break
        fill = stage_color(sid)
        out.append(f'<g><title>Stage {sid}, partition {p}</title><rect x="{cx:.0f}" y="{cy}" width="{w}" height="16" '
                   f'rx="3" fill="{fill}"/><text x="{cx + 4:.0f}" y="{cy + 12}" font-size="11" fill="{text_on(fill)}">'
                   f'{p}</text></g>')
        cx += w + 3
    return out


def _legend(stages, y) -> list[str]:
    out, x = [], GAP
    for s in stages[:8]:
        out.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{stage_color(s.id)}"/>'
                   f'<text x="{x + 18}" y="{y + 12}" font-size="12">Stage {s.id}</text>')
        x += 80
    y += 20  # the marks on a line of their own: the picture is never wider than its boxes
    out.append(f'<rect x="{GAP}" y="{y}" width="14" height="14" fill="#F4F4F4" stroke="#999999"/>'
               f'<text x="{GAP + 18}" y="{y + 12}" font-size="12">idle slot · chips: results held in memory'
               f' (number = partition) · red frame: dead worker</text>')
    return out
