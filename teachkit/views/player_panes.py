"""The player's static pictures: the task DAG and the worker timeline, drawn once as SVG.

The player colours DAG nodes by id (``s{stage}p{partition}``, ``s{stage}more``)
and moves a cursor over the timeline; both pictures are pre-rendered here.
The timeline is :func:`teachkit.views.timeline.timeline`'s, so the player shows
the same picture as ``job.timeline()``.  The DAG is
:func:`teachkit.views.dag.task_dag`'s when it can draw the job; otherwise the
small drawing below, which keeps the same node ids.
"""

from __future__ import annotations

import re
from typing import Any

from teachkit.model.frames import Frames
from teachkit.views.display import DotGraph
from teachkit.views.style import FONT, STATE_COLORS, stage_color

#: Partitions drawn per stage before the rest collapse into one counted node.
MAX_TASKS_PER_STAGE = 10
_MORE_NODE = re.compile(r"^(\t+s\d+more) \[", re.M)


def dag_svg(job: Any, frames: Frames, max_tasks_per_stage: int = MAX_TASKS_PER_STAGE) -> str:
    """The task DAG as SVG, nodes with ids ``s{stage}p{partition}`` / ``s{stage}more``."""
    try:
        from teachkit.views.dag import task_dag

        view = task_dag(job, max_tasks_per_stage=max_tasks_per_stage, sample=min(6, max_tasks_per_stage))
        if isinstance(view, DotGraph):  # room on "… N more" for the live counts ("235 pending, 4 running, 255 done")
            view = DotGraph(_MORE_NODE.sub(r"\1 [width=3 ", view.source), kind=view.kind, info=view.info)
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


def timeline_svg(job: Any, width: int = 1000) -> dict:
    """The job's worker timeline, the very picture ``job.timeline()`` draws, for the player to move a cursor on.

    Returns ``{"svg", "prefix", "t0", "x0", "scale"}``: the player moves the
    group ``{prefix}cursor`` to ``x = x0 + (t - t0) * scale`` and writes the time
    into ``{prefix}cursortext`` (the same numbers sit on the SVG root as
    ``data-t0``, ``data-x0``, ``data-scale``).  The prefix is per job, so two
    players on one page do not share element ids.
    """
    from teachkit.views.timeline import timeline

    prefix = f"tkp{getattr(job, 'index', 0)}"
    view = timeline(job, width=width, id_prefix=prefix)
    info = getattr(view, "info", {})
    if "scale" not in info:  # nothing to draw: the view is a message saying why
        return {"svg": view.svg(), "prefix": prefix, "t0": 0.0, "x0": 0.0, "scale": 0.0}
    return {"svg": view.svg(), "prefix": prefix, "t0": info["t0"], "x0": info["x0"], "scale": info["scale"]}
