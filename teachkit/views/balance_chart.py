"""Tasks per worker, as bars: who ran how many Spark-style tasks of a stage (and how many of them it stole).

The picture for "a worker that finishes early gets more tasks": one bar per
worker, its length the tasks it ran, coloured as the worker is everywhere in
the kit; tasks it stole from a busy worker are hatched and counted in the
label.  Reads :mod:`teachkit.model.balance` only.  The SVG has a ``viewBox``
so it scales down to any column without being cut.
"""

from __future__ import annotations

from typing import Any

from teachkit.model.balance import steals, tasks_per_worker
from teachkit.views.display import Message, SvgDrawing
from teachkit.views.style import FONT, esc, worker_colors

__all__ = ["tasks_chart"]

_ROW_H, _LABEL_W, _TOP, _WIDTH = 30, 110, 40, 640


def tasks_chart(job: Any, stage: Any = None, title: str | None = None) -> SvgDrawing | Message:
    """Bars of Spark-style tasks per worker in ``stage`` (a Stage, its id, or ``None`` for the whole job)."""
    if isinstance(stage, int) and not isinstance(stage, bool):
        found = [s for s in job.stages if s.id == stage]
        if not found:
            return Message(f"Job {job.name!r} has no stage {stage}: its stages are 0 to {len(job.stages) - 1}.")
        stage = found[0]
    counts = tasks_per_worker(job, stage)
    if not counts:
        return Message(f"No task of {job.name!r} finished on any worker, so there is nothing to count.")
    stolen: dict[str, int] = {}
    for s in steals(job):
        if stage is None or s.stage == stage.id:
            stolen[s.thief] = stolen.get(s.thief, 0) + 1
    rec = job.recording
    colours = worker_colors(rec.workers) if rec is not None else {}
    where = "the whole job" if stage is None else f"stage {stage.id} ({stage.num_tasks} tasks)"
    title = title or f"Spark-style tasks each worker ran in {where}"
    subtitle = job.name if len(job.name) <= 90 else job.name[:89] + "…"
    top = max(counts.values()) or 1
    scale = (_WIDTH - _LABEL_W - 150) / top
    height = _TOP + _ROW_H * len(counts) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" '
           f'height="{height}" style="max-width:100%;height:auto" font-family="{FONT}" font-size="14">',
           '<defs><pattern id="tkhatch" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="white" fill-opacity="0.0"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="white" stroke-width="3"/></pattern></defs>',
           f'<text x="4" y="16" font-weight="bold">{esc(title)}</text>',
           f'<text x="4" y="31" font-size="11" fill="#555">{esc(subtitle)}</text>']
    for i, (name, n) in enumerate(counts.items()):
        y = _TOP + i * _ROW_H
        colour = colours.get(name, "#888888")
        w = n * scale
        k = stolen.get(name, 0)
        out.append(f'<text x="4" y="{y + 19}">{esc(name)}</text>')
        out.append(f'<rect x="{_LABEL_W}" y="{y + 4}" width="{w:.1f}" height="{_ROW_H - 8}" fill="{colour}">'
                   f'<title>{esc(name)}: {n} task(s){f", {k} stolen from a busy worker" if k else ""}</title></rect>')
        if k:
            out.append(f'<rect x="{_LABEL_W + w - k * scale:.1f}" y="{y + 4}" width="{k * scale:.1f}" '
                       f'height="{_ROW_H - 8}" fill="url(#tkhatch)"/>')
        label = f"{n}" + (f" ({k} stolen)" if k else "")
        out.append(f'<text x="{_LABEL_W + w + 6:.1f}" y="{y + 19}">{esc(label)}</text>')
    out.append("</svg>")
    return SvgDrawing("".join(out), kind="tasks per worker",
                      info={"counts": counts, "stolen": stolen, "stage": None if stage is None else stage.id})
