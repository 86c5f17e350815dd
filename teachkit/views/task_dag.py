"""Task DAG of a job: one node per Spark-style task, a box per stage (node ids: see :mod:`teachkit.views.dag`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import graphviz

from teachkit.model.vocabulary import fmt_bytes, fmt_seconds
from teachkit.views.common import job_and_stages, job_title, key_owners, runs
from teachkit.views.dag import add_legend, add_sinks, new_graph, plain
from teachkit.views.display import DotGraph
from teachkit.views.style import esc, stage_color, text_on, tint, worker_colors

#: All-to-all shuffle edges are drawn up to this many; above it, through one exchange node.
MAX_SHUFFLE_EDGES = 12
#: More drawn tasks than this feeding one task (a tree reduction) meet in a junction node first.
MAX_FAN_IN = 6
#: A stage with more tasks than this draws a sample of them and one counted node for the rest.
MAX_TASKS_PER_STAGE = 16


def task_dag(job, color_by: str = "stage", max_tasks_per_stage: int = MAX_TASKS_PER_STAGE,
             partitions: Iterable[int] | None = None, sample: int = 4, more_width: float | None = None) -> DotGraph:
    """One node per Spark-style task, a box per stage, coloured by stage or by worker.

    Stages are stacked top to bottom, each stage's tasks one row in partition
    order (wide rather than tall: it fits a projector).  A stage with more than
    ``max_tasks_per_stage`` (16) tasks draws ``sample`` of them (the first ones
    and the last) and one counted node for the rest (``"… 494 more tasks"``),
    so the picture stays readable and fast at any size; ``more_width`` (inches)
    makes that node wider (the player writes live counts into it).
    ``partitions`` (a list or ``range``) picks the partitions to draw in full
    in every stage; a stage with none of them and at most ``sample`` tasks is
    drawn in full.  Shuffles are drawn all-to-all (every map task feeds every
    reduce task) or, when that would be more than 12 arrows, through one
    exchange node (``x{parent}s{child}``); other boundaries follow the recorded
    dependencies.  A task that ran again after a failure is marked ``×2``; one
    Dask moved before it ran (rescheduled, stolen) ``↷``.
    """
    if color_by not in ("stage", "worker"):
        raise ValueError(f"color_by must be 'stage' or 'worker', not {color_by!r}")
    job, stages, message = job_and_stages(job)
    if message:
        return message
    wanted = None if partitions is None else set(partitions)
    wcolors = worker_colors(job.recording.workers) if job.recording is not None else {}
    g = new_graph("tasks", job_title(job, stages) + f" — colour = {color_by}", rankdir="TB", nodesep=0.14,
                  ranksep=0.5)
    where: dict[int, dict[int, str]] = {}  # stage -> partition -> node id
    info: dict = {"tasks": {}, "collapsed": {}, "stages": [s.id for s in stages]}
    for s in stages:
        shown, hidden = _pick(s.tasks, max_tasks_per_stage, wanted, sample)
        with g.subgraph(name=f"cluster_s{s.id}") as box:
            where[s.id] = _cluster(box, job, s, shown, hidden, color_by, wcolors, info, more_width)
    deps = _task_deps(job, stages)
    for b in job.boundaries:
        if b.parent not in where:
            continue
        pairs = deps.get((b.parent, b.child))
        if b.kind == "shuffle" or not pairs:
            _all_to_all(g, b, where)
        else:
            counts = Counter((where[b.parent][x], where[b.child][y]) for x, y in pairs)
            _narrow_edges(g, b.parent, b.child, b.kind, counts)
    sinks = add_sinks(g, job, stages, {s.id: list(dict.fromkeys(where[s.id].values())) for s in stages})
    add_legend(g, sinks, _task_legend(job, stages, color_by, wcolors, info))
    return DotGraph(g, kind="task DAG", info=info)


def _pick(tasks: list, limit: int, wanted: set | None, sample: int) -> tuple[list, list]:
    """Split a stage's tasks into (drawn, collapsed)."""
    if wanted is not None:
        shown = [t for t in tasks if t.partition in wanted]
        if not shown and len(tasks) <= sample:
            shown = list(tasks)
    elif len(tasks) <= limit:
        shown = list(tasks)
    else:
        ordered = sorted(tasks, key=lambda t: t.partition)
        shown = ordered[: max(sample - 1, 1)] + ordered[-1:] if sample > 1 else ordered[:1]
    ids = {id(t) for t in shown}
    return shown, [t for t in tasks if id(t) not in ids]


def _cluster(box: graphviz.Digraph, job, s, shown: list, hidden: list, color_by: str, wcolors: dict, info: dict,
             more_width: float | None) -> dict[int, str]:
    color = stage_color(s.id)
    box.attr(id=f"cluster_s{s.id}", label="", style="rounded,filled", fillcolor=tint(color, 0.88), color=color,
             penwidth="2", margin="6")
    _stage_title_node(box, s)
    where: dict[int, str] = {}
    hidden_parts = sorted(t.partition for t in hidden)
    more = f"s{s.id}more"
    inserted = not hidden_parts
    for t in sorted(shown, key=lambda t: t.partition):
        if not inserted and t.partition > hidden_parts[0]:  # the collapsed node sits where its partitions are
            _more_node(box, s, hidden, hidden_parts, color_by, more_width)
            inserted = True
        node = f"s{s.id}p{t.partition}"
        where[t.partition] = node
        info["tasks"][node] = (s.id, t.partition)
        _task_node(box, job, node, t, color if color_by == "stage" else wcolors.get(t.worker, "#FFFFFF"))
    if not inserted:
        _more_node(box, s, hidden, hidden_parts, color_by, more_width)
    for p in hidden_parts:
        where[p] = more
    if hidden_parts:
        info["collapsed"][more] = hidden_parts
    row = [f"s{s.id}title"] + list(dict.fromkeys(where[p] for p in sorted(where)))
    if len(row) > 1:  # one row, in partition order (invisible edges hold the order)
        with box.subgraph() as line:
            line.attr(rank="same")
            for a, b in zip(row, row[1:]):
                line.edge(a, b, style="invis")
    return where


def _stage_title_node(box: graphviz.Digraph, s) -> None:
    """The stage's name, left of its row of tasks (a cluster label on top would sit in the arrows' way)."""
    lines = _wrap_ops(s.name, 30)
    name = '<BR ALIGN="LEFT"/>'.join(esc(line) for line in lines[:3]) + ("…" if len(lines) > 3 else "")
    label = (f'<<B>Stage {s.id}</B><BR ALIGN="LEFT"/>{name}<BR ALIGN="LEFT"/>'
             f'<I>{s.num_tasks} task{"s" * (s.num_tasks != 1)}</I><BR ALIGN="LEFT"/>>')
    box.node(f"s{s.id}title", label=label, id=f"s{s.id}title", shape="plaintext", margin="0.04,0")


def _wrap_ops(name: str, width: int) -> list[str]:
    """``"read → filter → sum"`` in lines of at most ``width`` characters, broken after an arrow."""
    lines: list[str] = []
    for op in name.split(" → "):
        if lines and len(lines[-1]) + 3 + len(op) <= width:
            lines[-1] += " → " + op
        else:
            if lines:
                lines[-1] += " →"
            lines.append(op)
    return lines or [""]


def _task_node(box: graphviz.Digraph, job, node: str, t, fill: str) -> None:
    reruns, moves = runs(job, t)
    label = f"p{t.partition}" + (f" ×{reruns + 1}" if reruns else " ↷" if moves else "") \
        + (" ✗" if t.status == "failed" else "")
    style, extra = "rounded,filled", {}
    if t.status == "failed":
        extra = {"color": "#B00000", "penwidth": "3"}
    elif t.status in ("pending", "lost") or t.start is None:
        style, fill = "rounded,dashed,filled", "#FFFFFF"
    why = (f"ran {reruns + 1} times (re-run after a failure)" if reruns else
           "moved by Dask before it ran (rescheduled or stolen; not a failure)" if moves else "ran once")
    tip = plain(f"Stage {t.stage}, partition {t.partition}: {t.status}",
                f"{t.worker or 'no worker'}{f' slot {t.slot}' if t.slot else ''}", _span(t.start, t.stop), why,
                f"{len(t.keys)} Dask task(s): {', '.join(t.keys[:3])}{' …' if len(t.keys) > 3 else ''}")
    box.node(node, label=plain(label), id=node, shape="box", style=style, fillcolor=fill, fontcolor=text_on(fill),
             tooltip=tip, width="0.45", height="0.3", margin="0.06,0.03", **extra)


def _span(start, stop) -> str:
    if start is None or stop is None:
        return "did not run to the end"
    return f"{start:.3f}–{stop:.3f} s ({fmt_seconds(stop - start)})"


def _more_node(box: graphviz.Digraph, s, hidden: list, parts: list[int], color_by: str,
               more_width: float | None) -> None:
    n = len(parts)
    contiguous = parts[-1] - parts[0] + 1 == n
    lines = [f"… {n} more task{'s' * (n != 1)}",
             f"partitions {parts[0]}–{parts[-1]}" if contiguous and n > 1 else f"partition {parts[0]}" if n == 1
             else f"{n} partitions"]
    per = Counter(t.worker for t in hidden if t.worker)
    failed = sum(t.status == "failed" for t in hidden)
    if color_by == "worker" and per:
        lines += [f"{w}: {c}" for w, c in sorted(per.items())[:6]]
    if failed:
        lines.append(f"✗ {failed} failed")
    fill = tint(stage_color(s.id), 0.55) if color_by == "stage" else "#FFFFFF"
    size = {"width": str(more_width)} if more_width else {}
    box.node(f"s{s.id}more", label=plain(*lines), id=f"s{s.id}more", shape="box", style="rounded,dashed,filled",
             fillcolor=fill, penwidth="1.5", **size,
             tooltip=plain(f"{n} tasks of stage {s.id} not drawn: ask for them with task_dag(partitions=...)"))


def _all_to_all(g: graphviz.Digraph, b, where: dict) -> None:
    src = list(dict.fromkeys(where[b.parent].values()))
    dst = list(dict.fromkeys(where[b.child].values()))
    kind = b.kind.replace("-", " ")
    label = plain(kind, fmt_bytes(b.nbytes)) if b.kind == "shuffle" and b.nbytes else plain(kind)
    style = {"color": "#666666", "arrowsize": "0.6"} | ({} if b.kind == "shuffle" else {"style": "dashed"})
    if len(src) * len(dst) <= MAX_SHUFFLE_EDGES:
        pairs = [(x, y) for x in src for y in dst]
        for i, (x, y) in enumerate(pairs):
            g.edge(x, y, **style, **({"label": label} if i == len(pairs) // 2 else {}))
        return
    x = f"x{b.parent}s{b.child}"
    g.node(x, label=label, id=x, shape="diamond", style="filled", fillcolor="#FFFFFF", fontsize="11")
    for a in src:
        g.edge(a, x, **style)
    for c in dst:
        g.edge(x, c, **style)


def _narrow_edges(g: graphviz.Digraph, p: int, c: int, kind: str, counts: Counter) -> None:
    """Dashed arrows between drawn tasks (labelled with how many recorded edges each stands for).

    When more than ``MAX_FAN_IN`` drawn tasks feed one task (a tree reduction's
    last step), they meet in a junction node ``x{parent}s{child}`` first, so a
    dozen arrowheads do not pile up on one small box.
    """
    heads = {y for _, y in counts}
    if len(heads) > 1 or len(counts) <= MAX_FAN_IN:
        for (a, b), n in counts.items():
            g.edge(a, b, style="dashed", **({"label": str(n)} if n > 1 else {}))
        return
    x, (head,) = f"x{p}s{c}", heads
    g.node(x, label=plain(kind.replace("-", " ")), id=x, shape="box", style="rounded,dashed", fontsize="11",
           height="0.25", margin="0.06,0.02")
    for (a, _), n in counts.items():
        g.edge(a, x, style="dashed", arrowsize="0.6", **({"label": str(n)} if n > 1 else {}))
    g.edge(x, head, style="dashed", penwidth="1.5")


def _task_deps(job, stages: list) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """Recorded task-level edges between stages joined by non-shuffle boundaries.

    Returns ``{(parent stage, child stage): {(parent partition, child partition)}}``.
    Dependencies through keys that belong to no stage (plumbing) are followed.
    """
    narrow = {(p, s.id) for s in stages for p in s.parents if s.boundaries.get(p, "shuffle") != "shuffle"}
    if not narrow:
        return {}
    owner = key_owners(stages)
    memo: dict[str, frozenset] = {}

    def resolve(key: str, depth: int = 0) -> frozenset:
        if key in owner:
            return frozenset([key])
        if key not in memo:
            task = job.dask_tasks.get(key)
            memo[key] = frozenset()  # cycles cannot happen in a DAG; this guards malformed input
            if task is not None and depth < 50:
                memo[key] = frozenset().union(*(resolve(d, depth + 1) for d in task.deps))
        return memo[key]

    edges: dict[tuple[int, int], set] = defaultdict(set)
    for s in stages:
        if not any((p, s.id) in narrow for p in s.parents):
            continue
        for t in s.tasks:
            for key in t.keys:
                task = job.dask_tasks.get(key)
                for d in task.deps if task is not None else ():
                    for k in resolve(d):
                        src = owner[k]
                        if (src.stage, s.id) in narrow:
                            edges[(src.stage, s.id)].add((src.partition, t.partition))
    return edges


def _task_legend(job, stages: list, color_by: str, wcolors: dict, info: dict) -> str:
    """A small legend: the colours (workers only: stage boxes name their stage) and the marks this DAG uses.

    One row; colouring by worker puts the workers on a first row and the marks
    under them, mark under swatch and text under name.
    """
    swatches = [(f'<TD BGCOLOR="{c}" WIDTH="12"> </TD>', w) for w, c in list(wcolors.items())[:10]] \
        if color_by == "worker" else []
    tasks = [t for s in stages for t in s.tasks]
    counts = [runs(job, t) for t in tasks]
    marks = [("<TD><B>p7</B></TD>", "task of partition 7")]
    marks += [("<TD><B>×2</B></TD>", "ran twice (re-run after a failure)")] if any(r for r, _ in counts) else []
    marks += [("<TD><B>↷</B></TD>", "moved by Dask before it ran (not a failure)")] \
        if any(m and not r for r, m in counts) else []
    marks += [("<TD><B>✗</B></TD>", "failed")] if any(t.status == "failed" for t in tasks) else []
    dashed = '<TD BORDER="1" STYLE="dashed" BGCOLOR="{}">{}</TD>'
    if info["collapsed"]:
        marks += [(dashed.format("#EEEEEE", "…"), "tasks not drawn, counted")]
    if any(t.status in ("pending", "lost") or t.start is None for t in tasks):
        marks += [(dashed.format("#FFFFFF", "p7"), "did not run")]

    def cells(items: list, width: int = 0) -> str:
        out = [f'{mark}<TD ALIGN="LEFT"> {esc(text)}  </TD>' for mark, text in items]
        if width > len(items):  # the last text spans the columns left over
            out[-1] = out[-1].replace('<TD ALIGN="LEFT">', f'<TD ALIGN="LEFT" COLSPAN="{2 * (width - len(items)) + 1}">')
        return "".join(out)

    head = f'<TD ALIGN="LEFT"><B>Colour = {color_by}:</B> </TD>'
    if swatches:
        width = max(len(swatches), len(marks))
        rows = f"<TR>{head}{cells(swatches, width)}</TR><TR><TD></TD>{cells(marks, width)}</TR>"
    else:
        rows = f"<TR>{head}{cells(marks)}</TR>"
    return (f'<<FONT POINT-SIZE="12"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{rows}'
            '</TABLE></FONT>>')
