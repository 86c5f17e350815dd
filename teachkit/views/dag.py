"""Stage DAG and task DAG of a job, drawn with Graphviz like Spark's DAG visualisation.

Building the DOT text is pure string work (``.source``, testable without the
``dot`` program); :class:`~teachkit.views.display.DotGraph` renders it.

Node ids (stable, no dashes, so the step-through player can find and colour them):

========================  ==============================================
``s{stage}``              a stage box (stage DAG)
``s{stage}p{partition}``  one Spark-style task (task DAG)
``s{stage}more``          the collapsed tasks of a stage (task DAG)
``x{parent}s{child}``     the shuffle exchange between two stages (task DAG, big shuffles),
                          or the junction where many tasks feed one (task DAG, tree reductions)
``driver``                the driver receiving the final result
``memory``                results kept on the workers (``persist()``)
``cluster_s{stage}``      the box around a stage's tasks (task DAG)
``s{stage}title``         the stage's name, left of its tasks (task DAG)
``legend``                the legend
========================  ==============================================
"""

from __future__ import annotations

import textwrap
from collections import Counter, defaultdict
from collections.abc import Iterable

from teachkit.views.common import job_and_stages, job_title, key_owners
from teachkit.views.display import DotGraph
from teachkit.views.style import (DRIVER_COLOR, FONT, esc, fmt_bytes, fmt_seconds, stage_color, text_on, tint,
                                  worker_colors)

#: All-to-all shuffle edges are drawn up to this many; above it, through one exchange node.
MAX_SHUFFLE_EDGES = 12
#: More drawn tasks than this feeding one task (a tree reduction) meet in a junction node first.
MAX_FAN_IN = 6
#: A stage with more tasks than this draws a sample of them and one counted node for the rest.
MAX_TASKS_PER_STAGE = 16
_HEAD = ('\tgraph [fontname="{f}" fontsize=16 labelloc=t rankdir={r} nodesep={n} ranksep={s} label="{t}"]\n'
         '\tnode [fontname="{f}" fontsize=13]\n\tedge [fontname="{f}" fontsize=12 color="#444444"]\n')


def q(text: object) -> str:
    """A DOT double-quoted string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**kw) -> str:
    return " [" + " ".join(f"{k}={v if str(v).startswith('<') else q(v)}" for k, v in kw.items()) + "]"


def _digraph(name: str, title: str, body: list[str], rankdir: str = "LR", nodesep: float = 0.25,
             ranksep: float = 0.6) -> str:
    head = _HEAD.format(f=FONT, t=esc(title).replace('"', "'"), r=rankdir, n=nodesep, s=ranksep)
    return f"digraph {name} {{\n" + head + "".join(body) + "}\n"


def _legend_beside_sinks(job, stages: list, label: str) -> list[str]:
    """The legend node, on the last rank next to the driver / memory node (where there is room), not on a rank of its own."""
    sinks = [n for n in ("driver", "memory") if any(s.output == n for s in stages)]
    node = f"\tlegend{_attrs(id='legend', shape='plaintext', margin='0', label=label)}\n"
    if not sinks:
        return [node, "\t{rank=max; legend}\n"]
    # a flat invisible edge puts the legend after the sink: right of it (top to bottom) or below it (left to right)
    return [node, "\t{rank=same; " + " -> ".join(sinks + ["legend"]) + " [style=invis]}\n"]


# -- stage DAG ---------------------------------------------------------------------------------
def stage_dag(job, max_ops: int = 6) -> DotGraph:
    """Spark-style stage DAG: one box per stage (its pipelined operations, tasks, duration).

    Arrows between stages are the boundaries: bold for a shuffle (labelled with
    the bytes moved), dashed for other kinds (e.g. a tree reduction).  The final
    result goes to a ``driver`` node, persisted results to ``memory``.

    >>> import teachkit
    >>> rec = teachkit.Recording.load(teachkit.example_path("pipeline"))
    >>> dag = rec.jobs[0].stage_dag()
    >>> dag.info["stages"], "s0 -> s1 [" in dag.source, "driver [" in dag.source
    ([0, 1], True, True)
    """
    job, stages, message = job_and_stages(job)
    if message:
        return message
    body = [f"\t{_stage_node(s, max_ops)}\n" for s in stages]
    children = Counter(p for s in stages for p in s.parents)
    by_id = {s.id: s for s in stages}
    for s in stages:
        for p in s.parents:
            kind = s.boundaries.get(p, "shuffle")
            nbytes = None
            if kind == "shuffle":
                parent = by_id.get(p)
                if parent is not None and children[p] == 1 and parent.shuffle_write_bytes:
                    nbytes = parent.shuffle_write_bytes
                elif len(s.parents) == 1 and s.shuffle_read_bytes:
                    nbytes = s.shuffle_read_bytes
            body.append(f"\ts{p} -> s{s.id}{_boundary_attrs(kind, nbytes)}\n")
    body += _sinks(job, stages, {s.id: [f"s{s.id}"] for s in stages})
    body += _deaths(job, stages)
    body += _legend_beside_sinks(job, stages, _stage_legend(stages))
    return DotGraph(_digraph("stages", job_title(job, stages), body), kind="stage DAG",
                    info={"stages": [s.id for s in stages]})


def _stage_node(s, max_ops: int) -> str:
    color = stage_color(s.id)
    ops = list(s.ops or [s.name])
    if len(ops) > max_ops:
        ops = ops[: max_ops - 1] + [f"… {len(ops) - max_ops + 1} more"]
    rows = "<TR><TD>↓</TD></TR>".join(f"<TR><TD>{esc(op)}</TD></TR>" for op in ops)
    failed = sum(t.status == "failed" for t in s.tasks)
    stats = f"<B>{s.num_tasks} task{'s' * (s.num_tasks != 1)}</B> · {fmt_seconds(s.duration_s)}"
    if failed:
        stats += f' · <FONT COLOR="#B00000"><B>{failed} failed</B></FONT>'
    rerun = sum(t.attempts > 1 for t in s.tasks)
    if rerun:
        stats += f' · <FONT COLOR="#A0522D"><B>{rerun} re-run</B></FONT>'
    note = "".join(f'<TR><TD><FONT POINT-SIZE="10" COLOR="#444444"><I>{esc(line)}</I></FONT></TD></TR>'
                   for line in textwrap.wrap(s.note or "", 44, max_lines=4, placeholder=" …"))
    label = (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">'
             f'<TR><TD BGCOLOR="{color}"><FONT COLOR="{text_on(color)}"><B>Stage {s.id}</B></FONT></TD></TR>'
             f'{rows}<TR><TD>{stats}</TD></TR>{note}</TABLE>>')
    workers = ", ".join(f"{w}: {n}" for w, n in sorted(s.workers.items()))
    return f"s{s.id}" + _attrs(id=f"s{s.id}", shape="box", style="rounded,filled", fillcolor=tint(color, 0.8), color=color,
                                penwidth=2.5, margin="0.1", label=label,
                                tooltip=f"Stage {s.id}: {s.name}\n{s.num_tasks} tasks\nworkers: {workers or '—'}")


def _deaths(job, stages: list) -> list[str]:
    """A red note per worker that died during the job, pointing at the stages running then."""
    from teachkit.model.failures import job_faults

    body = []
    for i, lost in enumerate(job_faults(job)["workers_lost"]):
        t = lost["t_s"]
        hit = [s for s in stages if s.start is not None and s.start <= t <= (s.end if s.end is not None else t)]
        hit = hit or [s for s in stages if any(tk.attempts > 1 for tk in s.tasks)][:1]
        label = (f"{lost['worker']} died at {fmt_seconds(t)}\n{len(lost['running'])} running task(s) re-assigned,"
                 f"\n{len(lost['held'])} lost result(s) recomputed")
        body.append(f"	death{i}{_attrs(id=f'death{i}', shape='box', style='rounded,filled,dashed', color='#B00000', fillcolor='#FDECEA', fontcolor='#B00000', label=label)}\n")
        body += [f"	death{i} -> s{s.id}{_attrs(style='dashed', color='#B00000', arrowhead='vee')}\n" for s in hit]
    return body


def _boundary_attrs(kind: str, nbytes: int | None) -> str:
    if kind == "shuffle":
        label = "shuffle" + (f"\n{fmt_bytes(nbytes)}" if nbytes else "")
        return _attrs(label=label, penwidth=3, color="#000000", arrowsize=1.2)
    return _attrs(label=kind.replace("-", " "), style="dashed", penwidth=1.5)


def _sinks(job, stages: list, nodes: dict[int, list[str]]) -> list[str]:
    """Edges from the last stages to the driver (collect) or to worker memory (persist)."""
    body: list[str] = []
    outputs = {s.output for s in stages}
    if "driver" in outputs:
        result = [job.dask_tasks[k].final for k in job.keys if k in job.dask_tasks]
        nbytes = sum(a.nbytes or 0 for a in result if a is not None)
        body.append(f"\tdriver{_attrs(id='driver', shape='box', style='filled', fillcolor=DRIVER_COLOR, fontcolor='white', label='Driver' + chr(10) + 'result collected: ' + fmt_bytes(nbytes), penwidth=0)}\n")
    if "memory" in outputs:
        body.append(f"\tmemory{_attrs(id='memory', shape='cylinder', label='kept in worker memory' + chr(10) + '(persist)')}\n")
    for s in stages:
        if s.output in ("driver", "memory"):
            for node in nodes[s.id]:
                body.append(f"\t{node} -> {s.output}{_attrs(style='bold', color=DRIVER_COLOR)}\n")
    return body


def _stage_legend(stages: list) -> str:
    """A small legend: the kinds of arrow this DAG has, and what a box is."""
    kinds = {s.boundaries.get(p, "shuffle") for s in stages for p in s.parents}
    rows = [("<B>━━▶</B>", "shuffle: a new stage starts")] if "shuffle" in kinds else []
    rows += [("┄┄▶", "other boundary (e.g. tree reduction)")] if kinds - {"shuffle"} else []
    rows += [("box", "a stage: operations pipelined per partition")]
    cells = "".join(f'<TR><TD>{mark}</TD><TD ALIGN="LEFT">{text}</TD></TR>' for mark, text in rows)
    return (f'<<FONT POINT-SIZE="12"><TABLE BORDER="1" COLOR="#BBBBBB" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
            f'{cells}</TABLE></FONT>>')


# -- task DAG ----------------------------------------------------------------------------------
def task_dag(job, color_by: str = "stage", max_tasks_per_stage: int = MAX_TASKS_PER_STAGE,
             partitions: Iterable[int] | None = None, sample: int = 4) -> DotGraph:
    """One node per Spark-style task, a box per stage, coloured by stage or by worker.

    Stages are stacked top to bottom, each stage's tasks one row in partition
    order (wide rather than tall: it fits a projector).  A stage with more than
    ``max_tasks_per_stage`` (16) tasks draws ``sample`` of them (the first ones
    and the last) and one counted node for the rest (``"… 494 more tasks"``),
    so the picture stays readable and fast at any size.  ``partitions`` (a
    list or ``range``) picks the partitions to draw in full in every stage; a
    stage with none of them and at most ``sample`` tasks is drawn in full.
    Shuffles are drawn all-to-all (every map task feeds every reduce task) or,
    when that would be more than 12 arrows, through one exchange node
    (``x{parent}s{child}``); other boundaries follow the recorded dependencies.
    """
    if color_by not in ("stage", "worker"):
        raise ValueError(f"color_by must be 'stage' or 'worker', not {color_by!r}")
    job, stages, message = job_and_stages(job)
    if message:
        return message
    wanted = None if partitions is None else set(partitions)
    wcolors = worker_colors(job.recording.workers) if job.recording is not None else {}
    body: list[str] = []
    where: dict[int, dict[int, str]] = {}  # stage -> partition -> node id
    info: dict = {"tasks": {}, "collapsed": {}, "stages": [s.id for s in stages]}
    for s in stages:
        shown, hidden = _pick(s.tasks, max_tasks_per_stage, wanted, sample)
        where[s.id] = _cluster(s, shown, hidden, color_by, wcolors, body, info)
    by_id = {s.id: s for s in stages}
    deps = _task_deps(job, stages, by_id)
    for s in stages:
        for p in s.parents:
            if p not in where:
                continue
            kind = s.boundaries.get(p, "shuffle")
            pairs = deps.get((p, s.id))
            if kind == "shuffle" or not pairs:
                body += _all_to_all(p, s.id, where, kind, by_id)
            else:
                counts = Counter((where[p][a], where[s.id][b]) for a, b in pairs)
                body += _narrow_edges(p, s.id, kind, counts)
    body += _sinks(job, stages, {s.id: list(dict.fromkeys(where[s.id].values())) for s in stages})
    body += _legend_beside_sinks(job, stages, _task_legend(stages, color_by, wcolors, info))
    title = job_title(job, stages) + f" — colour = {color_by}"
    return DotGraph(_digraph("tasks", title, body, rankdir="TB", nodesep=0.14, ranksep=0.5), kind="task DAG",
                    info=info)


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


def _cluster(s, shown: list, hidden: list, color_by: str, wcolors: dict, body: list, info: dict) -> dict[int, str]:
    color = stage_color(s.id)
    style = _attrs(id=f"cluster_s{s.id}", label="", style="rounded,filled", fillcolor=tint(color, 0.88), color=color,
                   penwidth=2, margin=6)
    body.append(f"\tsubgraph cluster_s{s.id} {{\n\t\tgraph{style}\n")
    body.append(_stage_title_node(s))
    where: dict[int, str] = {}
    hidden_parts = sorted(t.partition for t in hidden)
    more = f"s{s.id}more"
    inserted = not hidden_parts
    for t in sorted(shown, key=lambda t: t.partition):
        if not inserted and t.partition > hidden_parts[0]:  # the collapsed node sits where its partitions are
            body.append(_more_node(s, hidden, hidden_parts, color_by, wcolors))
            inserted = True
        node = f"s{s.id}p{t.partition}"
        where[t.partition] = node
        info["tasks"][node] = (s.id, t.partition)
        body.append(_task_node(node, t, color if color_by == "stage" else wcolors.get(t.worker, "#FFFFFF")))
    if not inserted:
        body.append(_more_node(s, hidden, hidden_parts, color_by, wcolors))
    for p in hidden_parts:
        where[p] = more
    if hidden_parts:
        info["collapsed"][more] = hidden_parts
    row = [f"s{s.id}title"] + list(dict.fromkeys(where[p] for p in sorted(where)))
    if len(row) > 1:  # one row, in partition order (invisible edges hold the order)
        body.append("\t\t{rank=same; " + " -> ".join(row) + " [style=invis]}\n")
    body.append("\t}\n")
    return where


def _stage_title_node(s) -> str:
    """The stage's name, left of its row of tasks (a cluster label on top would sit in the arrows' way)."""
    lines = _wrap_ops(s.name, 30)
    name = "<BR ALIGN=\"LEFT\"/>".join(esc(line) for line in lines[:3]) + ("…" if len(lines) > 3 else "")
    label = (f'<<B>Stage {s.id}</B><BR ALIGN="LEFT"/>{name}<BR ALIGN="LEFT"/>'
             f'<I>{s.num_tasks} task{"s" * (s.num_tasks != 1)}</I><BR ALIGN="LEFT"/>>')
    return f"\t\ts{s.id}title" + _attrs(id=f"s{s.id}title", shape="plaintext", label=label, margin="0.04,0") + "\n"


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


def _task_node(node: str, t, fill: str) -> str:
    label = f"p{t.partition}" + (f" ×{t.attempts}" if t.attempts > 1 else "") + (" ✗" if t.status == "failed" else "")
    style, extra = "rounded,filled", {}
    if t.status == "failed":
        extra = {"color": "#B00000", "penwidth": 3}
    elif t.status in ("pending", "lost") or t.start is None:
        style, fill = "rounded,dashed,filled", "#FFFFFF"
    tip = (f"Stage {t.stage}, partition {t.partition}: {t.status}\n{t.worker or 'no worker'}"
           f"{f' slot {t.slot}' if t.slot else ''}\n{_span(t.start, t.stop)}\nattempts: {t.attempts}\n"
           f"{len(t.keys)} Dask task(s): {', '.join(t.keys[:3])}{' …' if len(t.keys) > 3 else ''}")
    return f"\t\t{node}" + _attrs(id=node, shape="box", style=style, fillcolor=fill, fontcolor=text_on(fill), label=label,
                                  tooltip=tip, width=0.45, height=0.3, margin="0.06,0.03", **extra) + "\n"


def _span(start, stop) -> str:
    if start is None or stop is None:
        return "did not run to the end"
    return f"{start:.3f}–{stop:.3f} s ({fmt_seconds(stop - start)})"


def _more_node(s, hidden: list, parts: list[int], color_by: str, wcolors: dict) -> str:
    n = len(parts)
    contiguous = parts[-1] - parts[0] + 1 == n
    label = f"… {n} more task{'s' * (n != 1)}\n" + (f"partitions {parts[0]}–{parts[-1]}" if contiguous and n > 1
                                                     else f"partition {parts[0]}" if n == 1 else f"{n} partitions")
    per = Counter(t.worker for t in hidden if t.worker)
    failed = sum(t.status == "failed" for t in hidden)
    if color_by == "worker" and per:
        label += "\n" + "\n".join(f"{w}: {c}" for w, c in sorted(per.items())[:6])
    if failed:
        label += f"\n✗ {failed} failed"
    fill = tint(stage_color(s.id), 0.55) if color_by == "stage" else "#FFFFFF"
    return f"\t\ts{s.id}more" + _attrs(id=f"s{s.id}more", shape="box", style="rounded,dashed,filled", fillcolor=fill, label=label,
                                        penwidth=1.5, tooltip=f"{n} tasks of stage {s.id} not drawn: "
                                        "ask for them with task_dag(partitions=...)") + "\n"


def _all_to_all(p: int, c: int, where: dict, kind: str, by_id: dict) -> list[str]:
    src = list(dict.fromkeys(where[p].values()))
    dst = list(dict.fromkeys(where[c].values()))
    nbytes = by_id[p].shuffle_write_bytes or by_id[c].shuffle_read_bytes
    label = kind.replace("-", " ") + (f"\n{fmt_bytes(nbytes)}" if kind == "shuffle" and nbytes else "")
    style = {"color": "#666666"} if kind == "shuffle" else {"style": "dashed", "color": "#666666"}
    if len(src) * len(dst) <= MAX_SHUFFLE_EDGES:
        lines = [f"\t{a} -> {b}{_attrs(arrowsize=0.6, **style)}\n" for a in src for b in dst]
        lines[len(lines) // 2] = lines[len(lines) // 2].rstrip("]\n") + f" label={q(label)}]\n"
        return lines
    x = f"x{p}s{c}"
    lines = [f"\t{x}{_attrs(id=x, shape='diamond', style='filled', fillcolor='#FFFFFF', label=label, fontsize=11)}\n"]
    lines += [f"\t{a} -> {x}{_attrs(arrowsize=0.6, **style)}\n" for a in src]
    lines += [f"\t{x} -> {b}{_attrs(arrowsize=0.6, **style)}\n" for b in dst]
    return lines


def _narrow_edges(p: int, c: int, kind: str, counts: Counter) -> list[str]:
    """Dashed arrows between drawn tasks (labelled with how many recorded edges each stands for).

    When more than ``MAX_FAN_IN`` drawn tasks feed one task (a tree reduction's
    last step), they meet in a junction node ``x{parent}s{child}`` first, so a
    dozen arrowheads do not pile up on one small box.
    """
    heads = {b for _, b in counts}
    if len(heads) > 1 or len(counts) <= MAX_FAN_IN:
        return [f"\t{a} -> {b}{_attrs(style='dashed', **({'label': n} if n > 1 else {}))}\n"
                for (a, b), n in counts.items()]
    x, (head,) = f"x{p}s{c}", heads
    lines = [f"\t{x}{_attrs(id=x, shape='box', style='rounded,dashed', label=kind.replace('-', ' '), fontsize=11, height=0.25, margin='0.06,0.02')}\n"]
    lines += [f"\t{a} -> {x}{_attrs(style='dashed', arrowsize=0.6, **({'label': n} if n > 1 else {}))}\n"
              for (a, _), n in counts.items()]
    lines.append(f"\t{x} -> {head}{_attrs(style='dashed', penwidth=1.5)}\n")
    return lines


def _task_deps(job, stages: list, by_id: dict) -> dict[tuple[int, int], set[tuple[int, int]]]:
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


def _task_legend(stages: list, color_by: str, wcolors: dict, info: dict) -> str:
    """A small legend: the colours (workers only: stage boxes name their stage) and the marks this DAG uses.

    One row; colouring by worker puts the workers on a first row and the marks
    under them, mark under swatch and text under name.
    """
    swatches = [(f'<TD BGCOLOR="{c}" WIDTH="12"> </TD>', w) for w, c in list(wcolors.items())[:10]] \
        if color_by == "worker" else []
    tasks = [t for s in stages for t in s.tasks]
    marks = [("<TD><B>p7</B></TD>", "task of partition 7")]
    marks += [("<TD><B>×2</B></TD>", "ran twice (re-run)")] if any(t.attempts > 1 for t in tasks) else []
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
