"""Stage DAG of a job, drawn with Graphviz like Spark's DAG visualisation; what it shares with the task DAG.

Graphs are built with ``graphviz.Digraph`` (its quoting, its HTML-like labels)
and returned as :class:`~teachkit.views.display.DotGraph`: ``.source`` is
testable without the ``dot`` program, ``.svg()`` renders.  The task DAG is
:func:`teachkit.views.task_dag.task_dag`.

Node ids (stable, no dashes, so the step-through player can find and colour them):

========================  ==============================================
``s{stage}``              a stage box (stage DAG)
``s{stage}p{partition}``  one Spark-style task (task DAG)
``s{stage}more``          the collapsed tasks of a stage (task DAG)
``x{parent}s{child}``     the shuffle exchange between two stages (task DAG, big shuffles),
                          or the junction where many tasks feed one (task DAG, tree reductions)
``driver``                the driver receiving the final result
``memory``                results kept on the workers (``persist()``)
``write``                 results written to storage (``to_parquet``, ``to_csv``)
``cluster_s{stage}``      the box around a stage's tasks (task DAG)
``s{stage}title``         the stage's name, left of its tasks (task DAG)
``legend``                the legend
========================  ==============================================
"""

from __future__ import annotations

import textwrap

import graphviz

from teachkit.model.failures import job_faults
from teachkit.model.vocabulary import fmt_bytes, fmt_seconds, plural
from teachkit.views.common import job_and_stages, job_title, runs
from teachkit.views.display import DotGraph
from teachkit.views.style import DRIVER_COLOR, FONT, esc, stage_color, text_on, tint

#: The sink nodes, in drawing order: where a job's last stage sends its results.
SINKS = {
    "driver": {"shape": "box", "style": "filled", "fillcolor": DRIVER_COLOR, "fontcolor": "white", "penwidth": "0"},
    "memory": {"shape": "cylinder"},
    "write": {"shape": "folder"},
}


def plain(*lines: str) -> str:
    """Plain label text, one line per argument (never read as an HTML-like label)."""
    return graphviz.nohtml("\\n".join(str(line).replace("\\", "\\\\") for line in lines))


def new_graph(name: str, title: str, rankdir: str = "LR", nodesep: float = 0.25, ranksep: float = 0.6) -> graphviz.Digraph:
    """An empty graph in the kit's look, titled on top."""
    return graphviz.Digraph(
        name,
        graph_attr={"fontname": FONT, "fontsize": "16", "labelloc": "t", "rankdir": rankdir, "nodesep": str(nodesep),
                    "ranksep": str(ranksep), "label": plain(title)},
        node_attr={"fontname": FONT, "fontsize": "13"},
        edge_attr={"fontname": FONT, "fontsize": "12", "color": "#444444"},
    )


def add_sinks(g: graphviz.Digraph, job, stages: list, nodes: dict[int, list[str]]) -> list[str]:
    """Edges from the last stages to the driver (collect), worker memory (persist) or storage (write)."""
    outputs = {s.output for s in stages}
    sinks = [name for name in SINKS if name in outputs]
    for name in sinks:
        g.node(name, label=plain(*_sink_label(job, name)), id=name, **SINKS[name])
    for s in stages:
        if s.output in SINKS:
            for node in nodes[s.id]:
                g.edge(node, s.output, style="bold", color=DRIVER_COLOR)
    return sinks


def _sink_label(job, name: str) -> tuple[str, ...]:
    if name == "driver":
        result = job.result
        return "Driver", f"result collected: {fmt_bytes(result.nbytes if result is not None else 0)}"
    if name == "memory":
        return "kept in worker memory", "(persist)"
    return "written to storage", "(files)"


def add_legend(g: graphviz.Digraph, sinks: list[str], label: str) -> None:
    """The legend node, on the last rank next to the sink nodes (where there is room), not on a rank of its own."""
    g.node("legend", label=label, id="legend", shape="plaintext", margin="0")
    with g.subgraph() as rank:
        rank.attr(rank="same" if sinks else "max")
        chain = sinks + ["legend"]  # a flat invisible edge puts the legend after the sink
        for a, b in zip(chain, chain[1:]):
            rank.edge(a, b, style="invis")
        if not sinks:
            rank.node("legend")


# -- stage DAG ---------------------------------------------------------------------------------
def stage_dag(job, max_ops: int = 6) -> DotGraph:
    """Spark-style stage DAG: one box per stage (its pipelined operations, tasks, duration).

    Arrows between stages are the boundaries: bold for a shuffle (labelled with
    the bytes moved), dashed for other kinds (e.g. a tree reduction).  The final
    result goes to a ``driver`` node, persisted results to ``memory``, written
    ones to ``write``.

    >>> import teachkit
    >>> rec = teachkit.Recording.load(teachkit.example_path("pipeline"))
    >>> dag = rec.jobs[0].stage_dag()
    >>> dag.info["stages"], "s0 -> s1 [" in dag.source, "\\tdriver [" in dag.source
    ([0, 1], True, True)
    """
    job, stages, message = job_and_stages(job)
    if message:
        return message
    g = new_graph("stages", job_title(job, stages))
    for s in stages:
        _stage_node(g, job, s, max_ops)
    for b in job.boundaries:
        if b.kind == "shuffle":
            label = plain("shuffle", fmt_bytes(b.nbytes)) if b.nbytes else plain("shuffle")
            g.edge(f"s{b.parent}", f"s{b.child}", label=label, penwidth="3", color="#000000", arrowsize="1.2")
        else:
            g.edge(f"s{b.parent}", f"s{b.child}", label=plain(b.kind.replace("-", " ")), style="dashed",
                   penwidth="1.5")
    sinks = add_sinks(g, job, stages, {s.id: [f"s{s.id}"] for s in stages})
    _deaths(g, job, stages)
    add_legend(g, sinks, _stage_legend(stages))
    return DotGraph(g, kind="stage DAG", info={"stages": [s.id for s in stages]})


def _stage_node(g: graphviz.Digraph, job, s, max_ops: int) -> None:
    color = stage_color(s.id)
    ops = list(s.ops or [s.name])
    if len(ops) > max_ops:
        ops = ops[: max_ops - 1] + [f"… {len(ops) - max_ops + 1} more"]
    rows = "<TR><TD>↓</TD></TR>".join(f"<TR><TD>{esc(op)}</TD></TR>" for op in ops)
    stats = f"<B>{plural(s.num_tasks, 'task')}</B> · {fmt_seconds(s.duration_s)}"
    failed = sum(t.status == "failed" for t in s.tasks)
    if failed:
        stats += f' · <FONT COLOR="#B00000"><B>{failed} failed</B></FONT>'
    counts = [runs(job, t) for t in s.tasks]
    rerun, moved = sum(r > 0 for r, _ in counts), sum(m > 0 and r == 0 for r, m in counts)
    if rerun:
        stats += f' · <FONT COLOR="#A0522D"><B>{rerun} re-run</B></FONT>'
    if moved:
        stats += f' · <FONT COLOR="#444444">{moved} moved by Dask</FONT>'
    note = "".join(f'<TR><TD><FONT POINT-SIZE="10" COLOR="#444444"><I>{esc(line)}</I></FONT></TD></TR>'
                   for line in textwrap.wrap(s.note or "", 44, max_lines=4, placeholder=" …"))
    label = (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">'
             f'<TR><TD BGCOLOR="{color}"><FONT COLOR="{text_on(color)}"><B>Stage {s.id}</B></FONT></TD></TR>'
             f'{rows}<TR><TD>{stats}</TD></TR>{note}</TABLE>>')
    workers = ", ".join(f"{w}: {n}" for w, n in sorted(s.workers.items()))
    g.node(f"s{s.id}", label=label, id=f"s{s.id}", shape="box", style="rounded,filled", fillcolor=tint(color, 0.8),
           color=color, penwidth="2.5", margin="0.1",
           tooltip=plain(f"Stage {s.id}: {s.name}", f"{s.num_tasks} tasks", f"workers: {workers or '—'}"))


def _deaths(g: graphviz.Digraph, job, stages: list) -> None:
    """A red note per worker that died during the job, pointing at the stages running then."""
    for i, lost in enumerate(job_faults(job)["workers_lost"]):
        t = lost["t_s"]
        hit = [s for s in stages if s.start is not None and s.start <= t <= (s.end if s.end is not None else t)]
        hit = hit or [s for s in stages if any(runs(job, tk)[0] for tk in s.tasks)][:1]
        label = plain(f"{lost['worker']} died at {fmt_seconds(t)}", f"{len(lost['running'])} running task(s) re-assigned,",
                      f"{len(lost['held'])} lost result(s) recomputed")
        g.node(f"death{i}", label=label, id=f"death{i}", shape="box", style="rounded,filled,dashed", color="#B00000",
               fillcolor="#FDECEA", fontcolor="#B00000")
        for s in hit:
            g.edge(f"death{i}", f"s{s.id}", style="dashed", color="#B00000", arrowhead="vee")


def _stage_legend(stages: list) -> str:
    """A small legend: the kinds of arrow this DAG has, and what a box is."""
    kinds = {s.boundaries.get(p, "shuffle") for s in stages for p in s.parents}
    rows = [("<B>━━▶</B>", "shuffle: a new stage starts")] if "shuffle" in kinds else []
    rows += [("┄┄▶", "other boundary (e.g. tree reduction)")] if kinds - {"shuffle"} else []
    rows += [("box", "a stage: operations pipelined per partition")]
    cells = "".join(f'<TR><TD>{mark}</TD><TD ALIGN="LEFT">{text}</TD></TR>' for mark, text in rows)
    return (f'<<FONT POINT-SIZE="12"><TABLE BORDER="1" COLOR="#BBBBBB" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
            f'{cells}</TABLE></FONT>>')
