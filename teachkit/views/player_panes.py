"""The player's static pictures: the task DAG and the worker timeline, drawn once as SVG.

The player colours DAG nodes by id (``s{stage}p{partition}``, ``s{stage}more``)
and moves a cursor over the timeline; both pictures are pre-rendered here.
They are the very pictures ``job.task_dag()`` and ``job.timeline()`` draw
(:func:`teachkit.views.task_dag.task_dag`, :func:`teachkit.views.timeline.timeline`),
so the player shows what the rest of the kit shows.
"""

from __future__ import annotations

from typing import Any

from teachkit.views.task_dag import task_dag
from teachkit.views.timeline import timeline

#: Partitions drawn per stage before the rest collapse into one counted node.
MAX_TASKS_PER_STAGE = 10
#: Width (inches) of a stage's "… N more" node: room for the live counts ("235 pending, 4 running, 255 done").
MORE_WIDTH = 3


def dag_svg(job: Any, max_tasks_per_stage: int = MAX_TASKS_PER_STAGE) -> str:
    """The task DAG as SVG, nodes with ids ``s{stage}p{partition}`` / ``s{stage}more``.

    A job with nothing to draw gives the message saying why, as SVG.
    """
    view = task_dag(job, max_tasks_per_stage=max_tasks_per_stage, sample=min(6, max_tasks_per_stage),
                    more_width=MORE_WIDTH)
    return view.svg()


def timeline_svg(job: Any, width: int = 1000) -> dict:
    """The job's worker timeline, the very picture ``job.timeline()`` draws, for the player to move a cursor on.

    Returns ``{"svg", "prefix", "t0", "x0", "scale"}``: the player moves the
    group ``{prefix}cursor`` to ``x = x0 + (t - t0) * scale`` and writes the time
    into ``{prefix}cursortext`` (the same numbers sit on the SVG root as
    ``data-t0``, ``data-x0``, ``data-scale``).  The prefix is per job, so two
    players on one page do not share element ids.
    """
    prefix = f"tkp{getattr(job, 'index', 0)}"
    view = timeline(job, width=width, id_prefix=prefix)
    info = getattr(view, "info", {})
    if "scale" not in info:  # nothing to draw: the view is a message saying why
        return {"svg": view.svg(), "prefix": prefix, "t0": 0.0, "x0": 0.0, "scale": 0.0}
    return {"svg": view.svg(), "prefix": prefix, "t0": info["t0"], "x0": info["x0"], "scale": info["scale"]}
