"""``job.explain()``: the driver's three plan levels, logical → optimised → physical (stages).

A view: it reads a recorded job (``job.plan``), never a cluster.  ``str()``
gives terminal text (the levels stacked); in a notebook the object shows
three columns side by side.

>>> import teachkit
>>> job = teachkit.Recording.load(teachkit.example_path("pipeline")).jobs[0]
>>> print(str(explain(job)).splitlines()[-2])
  Stage 0  read → filter → withColumn → partial sum   12 tasks  → shuffle
"""

from __future__ import annotations

import html
import re
from typing import Any

_CALL = re.compile(r"([A-Z][A-Za-z0-9_]*)\(|[()]")


def outline(text: str | None) -> str:
    """An expression's text as an indented tree of operation names.

    Multi-line text (a ``tree_repr``) is kept; a one-line ``repr`` such as
    ``Sum(frame=Filter(frame=FromMap(ab12)))`` becomes one name per line.

    >>> print(outline("Sum(frame=Filter(frame=FromMap(ab12), predicate=x > 1))"))
    Sum
      Filter
        FromMap
    """
    if not text:
        return "(not recorded)"
    if "\n" in text.strip():
        return "\n".join(_short(line) for line in text.rstrip().splitlines())
    lines, depth, stack = [], 0, []
    for m in _CALL.finditer(text):
        if m.group(1):
            lines.append("  " * len(stack) + m.group(1))
            stack.append(depth)
            depth += 1
        elif m.group(0) == "(":
            depth += 1
        else:
            depth -= 1
            if stack and stack[-1] == depth:
                stack.pop()
    return "\n".join(lines) if lines else text


def _short(line: str, width: int = 96) -> str:
    line = re.sub(r" at 0x[0-9a-f]+", "", line)
    return line if len(line) <= width else line[: width - 1] + "…"


def _stage_lines(stages: list) -> list[str]:
    width = max((len(s.name) for s in stages), default=0)
    out = []
    for s in stages:
        parents = ", ".join(f"{s.boundaries.get(p, '?')} from stage {p}" for p in s.parents)
        line = f"Stage {s.id}  {s.name:<{width}}  {s.num_tasks:>3} task{'s' if s.num_tasks != 1 else ' '}  → {s.output}"
        out.append(line + (f"   ({parents})" if parents else ""))
    return out


class Explain:
    """The three plan levels of one job (text with ``str()``, three columns in a notebook)."""

    def __init__(self, job: Any) -> None:
        plan = job.plan
        self.name = job.name
        self.logical = outline(plan.logical)
        self.optimized = outline(plan.optimized)
        self.stages = plan.stages

    def __str__(self) -> str:
        parts = [f"== {self.name} ==", "Logical plan (as written):", _indent(self.logical),
                 "Optimised plan (after optimize()):", _indent(self.optimized),
                 f"Physical plan: {len(self.stages)} stage{'s' if len(self.stages) != 1 else ''}, "
                 f"{sum(s.num_tasks for s in self.stages)} tasks:"]
        parts += ["  " + line for line in _stage_lines(self.stages)]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        stages = "".join(
            f"<li><b>Stage {s.id}</b>: {html.escape(s.name)} — {s.num_tasks} task{'s' if s.num_tasks != 1 else ''}"
            f" → {html.escape(s.output)}"
            + (f"<br><small>after: {html.escape(', '.join(f'{b} from stage {p}' for p, b in s.boundaries.items()))}</small>"
               if s.boundaries else "")
            + (f"<br><small><i>{html.escape(s.note)}</i></small>" if s.note else "")
            + "</li>"
            for s in self.stages
        )
        col = "flex:1;min-width:14em;padding:0 .8em;border-left:3px solid #56B4E9"
        pre = "white-space:pre;font-size:85%;overflow-x:auto"
        return (
            f'<div class="teachkit-explain"><div><b>{html.escape(self.name)}</b></div>'
            '<div style="display:flex;gap:.5em;align-items:flex-start">'
            f'<div style="{col}"><div><b>1. Logical plan</b></div><div style="{pre}">{html.escape(self.logical)}</div></div>'
            f'<div style="{col}"><div><b>2. Optimised plan</b></div><div style="{pre}">{html.escape(self.optimized)}</div></div>'
            f'<div style="{col}"><div><b>3. Physical plan: stages</b></div><ol start="0" style="padding-left:1.2em">{stages}</ol></div>'
            "</div></div>"
        )


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def explain(job: Any) -> Explain:
    """The three plan levels of ``job`` side by side (``print()`` it in a terminal)."""
    return Explain(job)
