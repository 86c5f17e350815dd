"""The cluster at one moment: the driver, and each worker with its task slots and the results it holds.

Drawn only from the recording: a task is *running* at ``t`` when one of its
attempts computes at ``t`` (start ≤ t < stop); *assigned* when the driver gave
it to a worker that has not started it yet; a result is *held in memory* by a
worker from the moment the task finished there until the scheduler released it
or the worker died (the task's recorded state changes).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict

from teachkit.views.common import job_and_stages, key_owners
from teachkit.views.display import Message, SvgDrawing
from teachkit.views.style import (DEATH_COLOR, DRIVER_COLOR, FONT, OTHER_COLOR, esc, fmt_bytes, fmt_seconds,
                                  stage_color, text_on, worker_colors)

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
    slots = {w.name: max([w.nthreads] + [s for s, _ in state["running"].get(w.name, [])]) for w in workers}
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
    height = legend_y + 30
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="{FONT}" '
           f'font-size="13" data-t="{t:.6f}">' + "".join(out) + "</svg>")
    info = {"t": t, "job": job.index, "running": state["running"], "memory": state["memory_parts"],
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
    """Who runs what, what is assigned and what is held where, at time ``t``."""
    owner = key_owners(stages)
    running: dict[str, list] = defaultdict(list)  # worker -> [(slot, label)]
    assigned: Counter = Counter()
    memory_parts: dict[str, set] = defaultdict(set)
    memory_bytes: Counter = Counter()
    per_task: dict[tuple, set] = defaultdict(set)  # (stage, partition) -> states of its keys
    for key, task in job.dask_tasks.items():
        st = owner.get(key)
        kind = _key_state(task, t)
        if st is not None:
            per_task[(st.stage, st.partition)].add(kind[0])
        if kind[0] == "running":
            att = kind[1]
            running[att.worker].append((att.slot or 0, (st.stage, st.partition) if st else None, key))
        elif kind[0] == "assigned":
            assigned[kind[1].worker] += 1
        elif kind[0] == "memory":
            att = kind[1]
            memory_bytes[att.worker] += att.nbytes or 0
            if st is not None:
                memory_parts[att.worker].add((st.stage, st.partition))
    counts: dict[int, Counter] = {s.id: Counter() for s in stages}
    for (sid, _), kinds in per_task.items():
        if "failed" in kinds:
            label = "failed"
        elif "running" in kinds:
            label = "running"
        elif kinds & {"memory", "done"} and not kinds <= {"memory", "done"}:
            label = "in progress"  # some of its pipelined (fused) steps are done, the next is not running yet
        elif kinds <= {"memory", "done"}:
            label = "done"
        elif "assigned" in kinds:
            label = "assigned"
        else:
            label = "pending"
        counts[sid][label] += 1
    slotted: dict[str, list] = {}
    for w, items in running.items():  # attempts whose slot was never recorded go to a free slot
        used = {s for s, _, _ in items if s}
        free = (n for n in range(1, 1000) if n not in used)
        slotted[w] = sorted((s or next(free), what) for s, what, _ in items)
    return {"running": slotted, "assigned": dict(assigned), "counts": counts,
            "memory_parts": {w: sorted(p) for w, p in memory_parts.items()}, "memory_bytes": dict(memory_bytes)}


def _key_state(task, t: float):
    """``(state, attempt)`` of one Dask task at ``t``: running, assigned, memory, done, failed or pending."""
    att = next((a for a in reversed(task.attempts) if a.assigned is None or a.assigned <= t), None)
    if att is None:
        return "pending", None
    stop = att.stop if att.stop is not None else float("inf")
    started = att.start is not None and att.start <= t
    if att.outcome == "pending":
        return "pending", att
    if t < stop or att.outcome == "running":
        return ("running" if started else "assigned"), att
    if att.outcome == "erred":
        return "failed", att
    if att.outcome == "done" and (att.lost is None or t < att.lost):
        return ("memory" if _held(task, t) else "done"), att
    return "pending", att  # taken back, or its result was lost: waits to run again


def _held(task, t: float) -> bool:
    """Whether a finished task's result is still in memory at ``t`` (not yet released by the scheduler)."""
    i = bisect_right([s[0] for s in task.states], t)
    return i == 0 or task.states[i - 1][2] in ("memory", "processing")


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
        parts = [f"{c[k]} {k}" for k in ("done", "running", "in progress", "assigned", "pending", "failed") if c[k]]
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
    running = dict(state["running"].get(w.name, []))
    for s in range(1, nslots + 1):
        sy = y + 34 + (s - 1) * SLOT_H
        what = running.get(s)
        fill = stage_color(what[0]) if what else "#F4F4F4"
        label = f"slot {s}: Stage {what[0]} · partition {what[1]}" if what else f"slot {s}: idle"
        out.append(f'<rect x="{x + 8}" y="{sy}" width="{BOX_W - 16}" height="{SLOT_H - 4}" rx="3" fill="{fill}"/>'
                   f'<text x="{x + 14}" y="{sy + 15}" fill="{text_on(fill)}">{esc(label)}</text>')
    qy = y + 34 + nslots * SLOT_H + 12
    queued = state["assigned"].get(w.name, 0)
    out.append(f'<text x="{x + 10}" y="{qy}" font-size="12" fill="#444444">'
               f'{f"{queued} more assigned, waiting for a free slot" if queued else "no tasks waiting"}</text>')
    parts = state["memory_parts"].get(w.name, [])
    out.append(f'<text x="{x + 10}" y="{qy + 20}" font-size="12">In memory: {len(parts)} partition result'
               f'{"s" * (len(parts) != 1)} ({fmt_bytes(state["memory_bytes"].get(w.name, 0))})</text>')
    out += _chips(parts, x + 10, qy + 28)
    return out


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
    out.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="#F4F4F4" stroke="#999999"/>'
               f'<text x="{x + 18}" y="{y + 12}" font-size="12">idle slot · chips: partition results held in memory'
               f' (number = partition) · red frame: dead worker</text>')
    return out
