"""The player's static pictures: the task DAG and the worker timeline, drawn once as SVG.

The player colours DAG nodes by id (``s{stage}p{partition}``, ``s{stage}more``)
and moves a cursor over the timeline; both pictures are pre-rendered here.
They come from :mod:`teachkit.views.dag` and :mod:`teachkit.views.timeline`
when those can give them; otherwise from the small drawings below, which keep
the same node ids.
"""

from __future__ import annotations

import re
from typing import Any

from teachkit.model.frames import Frames
from teachkit.views.style import FONT, OTHER_COLOR, STATE_COLORS, esc, stage_color

#: Partitions drawn per stage before the rest collapse into one counted node.
MAX_TASKS_PER_STAGE = 10


def dag_svg(job: Any, frames: Frames, max_tasks_per_stage: int = MAX_TASKS_PER_STAGE) -> str:
    """The task DAG as SVG, nodes with ids ``s{stage}p{partition}`` / ``s{stage}more``."""
    try:
        from teachkit.views.dag import task_dag

        try:
            view = task_dag(job, max_tasks_per_stage=max_tasks_per_stage, sample=min(6, max_tasks_per_stage))
        except TypeError:
            view = task_dag(job, max_tasks_per_stage=max_tasks_per_stage)
        svg = view.svg()
        # nodes are found by their id or, as Graphviz writes by default, by their <title>
        if re.search(r'(id="|<title>)s\d+(p\d+|more)("|</title>)', svg):
            return _strip_xml_header(svg)
    except Exception:  # the DAG view is not there (yet) or cannot draw this job: draw our own
        pass
    return _strip_xml_header(_render_dot(fallback_dag_dot(frames, max_tasks_per_stage)))


def fallback_dag_dot(frames: Frames, max_tasks_per_stage: int = MAX_TASKS_PER_STAGE) -> str:
    """DOT source: one cluster per stage, a few partitions drawn, the rest counted."""
    pending = STATE_COLORS["pending"]
    by_stage: dict[int, list[int]] = {}
    for stage, part in frames.tasks:
        by_stage.setdefault(stage, []).append(part)
    lines = [
        "digraph G {",
        f'graph [rankdir=TB, compound=true, nodesep=0.12, ranksep=0.45, fontname="{FONT}", fontsize=18, bgcolor="transparent"];',
        f'node [shape=box, style="rounded,filled", fillcolor="{pending}", fontname="{FONT}", fontsize=18, '
        "width=0.5, height=0.4, margin=\"0.06,0.02\"];",
        'edge [color="#777777", arrowsize=0.6];',
    ]
    anchor: dict[int, str] = {}
    for st in frames.stages:
        sid = st["id"]
        parts = sorted(by_stage.get(sid, []))
        shown = parts if len(parts) <= max_tasks_per_stage else parts[: max_tasks_per_stage - 2] + parts[-1:]
        lines.append(f"subgraph cluster_s{sid} {{")
        label = f"Stage {sid}: {st['name']}"
        label = label if len(label) <= 60 else label[:57] + "…"
        lines.append(f'id="s{sid}"; label="{_q(label)}"; style="rounded,filled"; color="{stage_color(sid)}"; '
                     f'fillcolor="{stage_color(sid)}22"; penwidth=2;')
        for p in shown:
            lines.append(f's{sid}p{p} [id="s{sid}p{p}", label="{p}", tooltip="task {p} of stage {sid}"];')
        hidden = len(parts) - len(shown)
        if hidden:
            lines.append(f's{sid}more [id="s{sid}more", label="… {hidden} more tasks\\n{hidden} pending", width=3, fontsize=15];')
        order = [f"s{sid}p{p}" for p in shown] + ([f"s{sid}more"] if hidden else [])
        if len(order) > 1:
            lines.append("{rank=same; " + " -> ".join(order) + " [style=invis];}")
        lines.append("}")
        anchor[sid] = f"s{sid}more" if hidden else (f"s{sid}p{shown[len(shown) // 2]}" if shown else "")
    for st in frames.stages:
        for parent in st["parents"]:
            a, b = anchor.get(parent), anchor.get(st["id"])
            if a and b:
                lines.append(f'{a} -> {b} [ltail=cluster_s{parent}, lhead=cluster_s{st["id"]}, penwidth=2];')
    lines.append("}")
    return "\n".join(lines)


def _q(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _render_dot(source: str) -> str:
    import graphviz

    return graphviz.Source(source).pipe(format="svg", encoding="utf-8")


def _strip_xml_header(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start > 0 else svg


def timeline_svg(job: Any, frames: Frames, stages: list, width: int = 1100) -> dict:
    """The worker timeline with a cursor: ``{"svg", "t0", "x0", "scale"}`` (x = x0 + (t - t0) * scale)."""
    rows: dict[tuple[str, int], list] = {}
    stage_of = {}
    for stage in stages:
        for st in stage.tasks:
            for key in st.keys:
                stage_of[key] = stage.id
    workers = [w["name"] for w in frames.workers]
    for key, task in job.dask_tasks.items():
        for att in task.attempts:
            if att.worker is None or att.stop is None:
                continue
            begin = att.start if att.start is not None else att.assigned
            rows.setdefault((att.worker, att.slot or 1), []).append((begin, att.stop, stage_of.get(key), att.outcome))
    order = sorted(rows, key=lambda r: (workers.index(r[0]) if r[0] in workers else 99, r[0], r[1]))
    t0, t1 = frames.start, max(frames.end, frames.start + 1e-3)
    label_w, row_h, top = 150, 26, 30
    scale = (width - label_w - 20) / (t1 - t0)
    height = top + row_h * max(1, len(order)) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="{FONT}" font-size="15" class="tk-timeline">']
    out.append('<text x="4" y="18" font-weight="bold">Worker timeline (one row per task slot)</text>')
    for n, (worker, slot) in enumerate(order):
        y = top + n * row_h
        out.append(f'<text x="4" y="{y + 18}">{esc(worker)} slot {slot}</text>')
        out.append(f'<line x1="{label_w}" x2="{width - 20}" y1="{y + row_h - 2}" y2="{y + row_h - 2}" stroke="#eee"/>')
        for begin, stop, sid, outcome in rows[(worker, slot)]:
            x = label_w + (max(begin, t0) - t0) * scale
            w = max(1.0, (stop - max(begin, t0)) * scale)
            fill = stage_color(sid) if sid is not None else OTHER_COLOR
            stroke = ' stroke="#D55E00" stroke-width="2"' if outcome != "done" else ""
            out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{fill}"{stroke}/>')
    out.append(f'<line id="tk-cursor" class="tk-cursor" x1="{label_w}" x2="{label_w}" y1="{top - 6}" y2="{height}" '
               'stroke="#C00000" stroke-width="3"/>')
    out.append("</svg>")
    return {"svg": "".join(out), "t0": t0, "x0": label_w, "scale": scale}
