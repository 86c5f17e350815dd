"""Shuffle matrix: for one shuffle boundary, who sent how many bytes to whom (worker × worker).

For Dask's P2P shuffle the bytes come from the ``p2p`` events (worker-to-worker
sends outside the task graph, with bytes per output partition, so each output
partition's destination is shown too).  For other boundaries (task-based
shuffle, tree reduction) they come from the recorded dependency fetches;
results a task read on its own worker count on the diagonal.
"""

from __future__ import annotations

from collections import defaultdict

from teachkit.views.common import key_owners
from teachkit.views.display import HtmlView, Message
from teachkit.views.style import FONT, esc, fmt_bytes, text_on, worker_colors

MAX_PARTITION_ROWS = 40
_PLUMBING = ("shuffle-transfer-", "shuffle-barrier-", "p2pshuffle-")


def shuffle_view(stage) -> HtmlView | Message:
    """Worker × worker bytes for the shuffle that ``stage`` reads (or, for a map stage, writes)."""
    job = getattr(stage, "job", None)
    if job is None or job.recording is None:
        return Message(f"Stage {stage.id} is not attached to a recorded job, so its shuffle cannot be shown.")
    stages = list(job.stages)
    maps, reduces = _sides(stage, stages, "shuffle")
    if not reduces:  # no shuffle: show the data movement of its other boundary (e.g. a tree reduction)
        maps, reduces = _sides(stage, stages, None)
    if not reduces:
        return Message(f"Stage {stage.id} has no boundary with another stage: no data moves between stages here.",
                       title="shuffle view")
    by_id = {s.id: s for s in stages}
    ids = _p2p_ids(job, [by_id[i] for i in maps + reduces if i in by_id])
    rec = job.recording
    p2p = [e for e in rec.events if e["kind"] == "p2p" and e.get("shuffle") in ids]
    names = {w.address: w.name for w in rec.workers}
    if p2p:
        matrix, parts, source = _from_p2p(p2p, names), _partitions(p2p, names), "P2P shuffle sends"
    else:
        matrix, parts, source = _from_fetches(job, stages, set(maps), set(reduces)), {}, "dependency transfers"
    workers = [w.name for w in rec.workers if any(w.name in row for row in matrix.values()) or w.name in matrix]
    kind = by_id[reduces[0]].boundaries.get(maps[0], "shuffle") if reduces[0] in by_id else "shuffle"
    title = (f"{kind.replace('-', ' ').capitalize()} {' + '.join(f'Stage {i}' for i in maps)} → {' + '.join(f'Stage {i}' for i in reduces)}: "
             f"who sent how many bytes to whom (from {source})")
    if not matrix:
        return Message(f"{title}: nothing was recorded for this boundary.", title="shuffle view")
    html = _matrix_html(title, matrix, workers, maps, reduces) + (_partition_html(parts, workers, worker_colors(rec.workers)) if parts else
           '<p style="font-size:12px;color:#444">Bytes per output partition are recorded only for P2P shuffles.</p>')
    return HtmlView(f'<div style="font-family:{FONT};font-size:14px">{html}</div>', kind="shuffle view",
                    info={"matrix": matrix, "source": source, "partitions": parts, "maps": maps, "reduces": reduces})


def _sides(stage, stages: list, kind: str | None) -> tuple[list[int], list[int]]:
    """(map-side, reduce-side) stage ids of the boundary ``stage`` reads, else of the one it writes."""
    ok = lambda b: b == kind if kind else b is not None  # noqa: E731
    parents = [p for p in stage.parents if ok(stage.boundaries.get(p, "shuffle"))]
    if parents:
        return parents, [stage.id]
    return [stage.id], [s.id for s in stages if stage.id in s.parents and ok(s.boundaries.get(stage.id, "shuffle"))]


def _p2p_ids(job, stages: list) -> set[str]:
    """P2P shuffle ids whose tasks belong to these stages (or the only P2P shuffle of the job)."""
    every = {k.split("|")[0].rsplit("-", 1)[-1] for k in job.dask_tasks if k.startswith(_PLUMBING)}
    mine = set()
    for s in stages:
        names = list(s.groups) + [k for t in s.tasks for k in t.keys[:4]] + list(getattr(s, "collapsed", []) or [])
        mine |= {i for i in every if any(i in str(n) for n in names)}
    return mine or (every if len(every) == 1 else set())


def _from_p2p(events: list[dict], names: dict) -> dict:
    matrix: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in events:
        matrix[names.get(e["source"], e["source"])][names.get(e["dest"], e["dest"])] += e["nbytes"]
    return {a: dict(b) for a, b in matrix.items()}


def _partitions(events: list[dict], names: dict) -> dict[int, dict]:
    """Per **input** partition: the worker that split it and the bytes it sent to each worker."""
    parts: dict[int, dict] = {}
    for e in events:
        src, dst = names.get(e["source"], e["source"]), names.get(e["dest"], e["dest"])
        for p, n in e["partitions"].items():
            row = parts.setdefault(int(p), {"source": src, "to": defaultdict(int)})
            row["to"][dst] += n
    return {p: {"source": r["source"], "to": dict(r["to"])} for p, r in sorted(parts.items())}


def _from_fetches(job, stages: list, maps: set, reduces: set) -> dict:
    """Bytes moved from map-side results to reduce-side tasks: fetched between workers, or read locally."""
    owner = key_owners(stages)
    map_side = lambda k: (owner[k].stage in maps) if k in owner else True  # noqa: E731 (unowned: plumbing)
    matrix: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in job.fetches:
        if map_side(f["key"]) and f["from"] and f["to"]:
            matrix[f["from"]][f["to"]] += f["nbytes"] or 0
    for key, st in owner.items():
        if st.stage not in reduces:
            continue
        task = job.dask_tasks.get(key)
        final = task.final if task else None
        for d in task.deps if final else ():
            dep = job.dask_tasks.get(d)
            src = dep.final if dep else None
            if src is not None and map_side(d) and src.worker == final.worker:
                matrix[src.worker][src.worker] += src.nbytes or 0
    return {a: dict(b) for a, b in matrix.items()}


def _blue(frac: float) -> str:
    lo, hi = (0xF7, 0xFB, 0xFF), (0x08, 0x30, 0x6B)
    return "#{:02X}{:02X}{:02X}".format(*(round(a + (b - a) * frac) for a, b in zip(lo, hi)))


def _matrix_html(title: str, matrix: dict, workers: list, maps: list, reduces: list) -> str:
    top = max((n for row in matrix.values() for n in row.values()), default=1) or 1
    th = 'style="padding:4px 10px;text-align:right"'
    head = "".join(f"<th {th}>to {esc(w)}</th>" for w in workers) + f"<th {th}>sent in all</th>"
    rows = []
    for a in workers:
        cells = []
        for b in workers:
            n = matrix.get(a, {}).get(b, 0)
            fill = _blue(n / top)
            note = "<br><small>stays on the worker</small>" if a == b and n else ""
            cells.append(f'<td style="background:{fill};color:{text_on(fill)};padding:6px 10px;text-align:right;'
                         f'min-width:7em" title="{esc(a)} → {esc(b)}: {n} bytes">{fmt_bytes(n)}{note}</td>')
        total = sum(matrix.get(a, {}).values())
        rows.append(f"<tr><th {th}>from {esc(a)}</th>{''.join(cells)}<td {th}><b>{fmt_bytes(total)}</b></td></tr>")
    received = "".join(f"<td {th}><b>{fmt_bytes(sum(matrix.get(a, {}).get(b, 0) for a in workers))}</b></td>"
                       for b in workers)
    rows.append(f"<tr><th {th}>received in all</th>{received}<td></td></tr>")
    legend = (f'<div style="margin:6px 0;font-size:12px">Rows: sending worker (Stage {maps[0]}, map side). '
              f'Columns: receiving worker (Stage {reduces[0]}, reduce side). Colour: bytes, '
              f'<span style="background:{_blue(0)};padding:0 8px;border:1px solid #ccc">0</span>'
              f'<span style="background:linear-gradient(to right,{_blue(0)},{_blue(1)});padding:0 40px"></span>'
              f'<span style="background:{_blue(1)};color:#fff;padding:0 8px">{fmt_bytes(top)}</span></div>')
    return (f'<div style="font-weight:bold;font-size:15px;margin-bottom:4px">{esc(title)}</div>'
            f'<table style="border-collapse:collapse">'
            f'<tr><th></th>{head}</tr>{"".join(rows)}</table>{legend}')


def _partition_html(parts: dict, workers: list, colors: dict) -> str:
    th = 'style="padding:3px 8px;text-align:right"'
    rows = []
    for p, row in list(parts.items())[:MAX_PARTITION_ROWS]:
        src = row["source"]
        cells = "".join(f"<td {th}>{fmt_bytes(row['to'].get(w, 0)) if row['to'].get(w) else '·'}</td>" for w in workers)
        c = colors.get(src, "#BBBBBB")
        rows.append(f'<tr><td {th}>{p}</td><td style="padding:3px 8px"><span style="background:{c};color:{text_on(c)};'
                    f'padding:1px 6px;border-radius:3px">{esc(src)}</span></td>{cells}'
                    f'<td {th}>{fmt_bytes(sum(row["to"].values()))}</td></tr>')
    more = len(parts) - MAX_PARTITION_ROWS
    if more > 0:
        rows.append(f'<tr><td colspan="{len(workers) + 3}" style="padding:3px 8px">… {more} more input partitions</td></tr>')
    head = "".join(f"<th {th}>to {esc(w)}</th>" for w in workers)
    return (f'<div style="font-weight:bold;margin:14px 0 4px">Input partitions: where each one sent its rows</div>'
            f'<div style="font-size:12px;margin-bottom:4px">Each input partition is split by key on the worker '
            f'that holds it; the rows of each key go to the one worker that assembles that key\'s output '
            f'partition, so rows with the same key end up on the same worker.</div>'
            f'<table style="border-collapse:collapse;font-size:13px"><tr><th {th}>partition</th><th>split on</th>'
            f'{head}<th {th}>total</th></tr>{"".join(rows)}</table>')
