"""Shuffle matrix: for one stage boundary, who sent how many bytes to whom (worker × worker).

The model resolves each boundary once (:func:`teachkit.model.moves.boundaries`):
for Dask's P2P shuffle the bytes are the worker-to-worker sends outside the
task graph (with bytes per input partition, so each partition's destinations
are shown too); for other boundaries (task-based shuffle, tree reduction) the
recorded dependency fetches, and results a task read on its own worker count
on the diagonal.
"""

from __future__ import annotations

from collections import defaultdict

from teachkit.model.moves import crossing
from teachkit.model.vocabulary import fmt_bytes
from teachkit.views.display import HtmlView, Message
from teachkit.views.style import FONT, esc, text_on, worker_colors

MAX_PARTITION_ROWS = 40


def shuffle_view(stage) -> HtmlView | Message:
    """Worker × worker bytes for the shuffle that ``stage`` reads (or, for a map stage, writes)."""
    job = getattr(stage, "job", None)
    if job is None or job.recording is None:
        return Message(f"Stage {stage.id} is not attached to a recorded job, so its shuffle cannot be shown.")
    found = crossing(stage)
    if not found:
        return Message(f"Stage {stage.id} has no boundary with another stage: no data moves between stages here.",
                       title="shuffle view")
    maps = sorted({b.parent for b in found})
    reduces = sorted({b.child for b in found})
    matrix: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    parts: dict[int, dict] = {}
    for b in found:
        for a, row in b.matrix().items():
            for c, n in row.items():
                matrix[a][c] += n
        parts.update(b.partitions())
    matrix = {a: dict(row) for a, row in matrix.items()}
    source = found[0].source
    rec = job.recording
    workers = [w.name for w in rec.workers if any(w.name in row for row in matrix.values()) or w.name in matrix]
    title = (f"{found[0].kind.replace('-', ' ').capitalize()} {' + '.join(f'Stage {i}' for i in maps)} → "
             f"{' + '.join(f'Stage {i}' for i in reduces)}: who sent how many bytes to whom (from {source})")
    if not matrix:
        return Message(f"{title}: nothing was recorded for this boundary.", title="shuffle view")
    html = _matrix_html(title, matrix, workers, maps, reduces) + (_partition_html(parts, workers, worker_colors(rec.workers)) if parts else
           '<p style="font-size:12px;color:#444">Bytes per output partition are recorded only for P2P shuffles.</p>')
    return HtmlView(f'<div style="font-family:{FONT};font-size:14px">{html}</div>', kind="shuffle view",
                    info={"matrix": matrix, "source": source, "partitions": parts, "maps": maps, "reduces": reduces})


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
