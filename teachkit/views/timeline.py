"""Worker timeline of one job: one row per task slot, one bar per task attempt, as standalone SVG.

What Spark's event timeline and Dask's task stream show, after the fact:
bars are coloured by stage; a failed attempt is cross-hatched black, a result
lost with its worker is hatched red, a re-run after a failure has a purple
outline; an attempt never seen running (given to a worker, then taken back or
lost) is a thin bar low in its worker's first row.  Each attempt sits on the
slot the model gives it (:func:`teachkit.model.changes.place_slots`), as in
the player and the cluster picture.  Grey lines are dependency transfers
between workers, dashed blue lines P2P shuffle sends, and a red line marks a
worker's death.  Every bar has a ``<title>`` tooltip.

Stable element ids (prefix ``id_prefix``, default ``"tk"``), for the player:

- the root ``<svg>`` carries ``data-t0``, ``data-x0`` and ``data-scale``:
  ``x = x0 + (t - t0) * scale`` (``t`` in seconds since recording start);
- ``{prefix}cursor``: the time cursor group (move it with ``transform``),
  ``{prefix}cursortext`` its label; hidden unless ``cursor=t`` is given;
- ``{prefix}b{i}``: the ``i``-th bar, with ``data-key``, ``data-stage``,
  ``data-partition``, ``data-attempt``, ``data-worker`` and ``data-slot``
  (0 for an attempt never seen running).
"""

from __future__ import annotations

import math
from collections import defaultdict

from teachkit.model.vocabulary import fmt_bytes, fmt_seconds
from teachkit.views.common import job_and_stages, job_title, key_owners
from teachkit.views.display import SvgDrawing
from teachkit.views.style import (DEATH_COLOR, FONT, OTHER_COLOR, STATE_COLORS, TRANSFER_COLOR, esc, stage_color,
                                  worker_colors)

ROW_H, LABEL_W, TOP = 22, 150, 64
P2P_COLOR = "#0072B2"
_DEFS = (
    '<defs><pattern id="{p}lost" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    f'<rect width="6" height="6" fill="#FFFFFF" fill-opacity="0.35"/><line x1="0" y1="0" x2="0" y2="6" '
    f'stroke="{STATE_COLORS["lost"]}" stroke-width="3"/></pattern>'
    '<pattern id="{p}failed" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<path d="M0,0 L6,6 M6,0 L0,6" stroke="#000000" stroke-width="1.6"/></pattern>'
    '<marker id="{p}arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="5" markerHeight="5" orient="auto">'
    '<path d="M0,0 L6,3 L0,6 z" fill="context-stroke"/></marker></defs>'
)


def timeline(job, cursor: float | None = None, width: int = 1000, transfers: bool = True,
             id_prefix: str = "tk") -> SvgDrawing:
    """Draw the job's worker timeline (see the module docstring); ``cursor=t`` shows a time line at ``t``."""
    job, stages, message = job_and_stages(job)
    if message:
        return message
    owner = key_owners(stages)
    rec = job.recording
    workers = list(rec.workers) if rec is not None else []
    rows, bars = _layout(job, workers)
    t_lo = job.submitted
    t_hi = max([job.end or t_lo] + [b["stop"] for b in bars]) + 1e-6
    scale = width / max(t_hi - t_lo, 1e-6)
    x = lambda t: LABEL_W + (t - t_lo) * scale  # noqa: E731
    row_y = {r: TOP + i * ROW_H for i, r in enumerate(rows)}
    plot_h = len(rows) * ROW_H
    p = id_prefix
    out: list[str] = [_DEFS.format(p=p)]
    out += _rows(rows, row_y, workers, x, t_lo, t_hi)
    out += _axis(t_lo, t_hi, x, TOP + plot_h)
    for i, b in enumerate(bars):
        out.append(_bar(i, b, job, owner, x, row_y[b["row"]], p))
    if transfers:
        out += _transfers(job, rows, row_y, x, p)
    out += _deaths(workers, rows, row_y, x, t_lo, t_hi)
    legend, legend_h = _legend(stages, TOP + plot_h + 40, width, p)
    out += legend
    height = TOP + plot_h + 40 + legend_h
    shown = cursor is not None
    cx = x(cursor) if shown else LABEL_W
    out.append(f'<g id="{p}cursor" transform="translate({cx:.2f},0)" visibility="{"visible" if shown else "hidden"}" '
               f'pointer-events="none"><line x1="0" x2="0" y1="{TOP - 8}" y2="{TOP + plot_h}" stroke="#000000" '
               f'stroke-width="2"/><text id="{p}cursortext" x="3" y="{TOP - 10}" font-size="12" font-weight="bold">'
               f'{"t = " + fmt_seconds(cursor) if shown else ""}</text></g>')
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" id="{p}timeline" width="{LABEL_W + width + 20}" '
            f'height="{height}" viewBox="0 0 {LABEL_W + width + 20} {height}" style="max-width:100%;height:auto" '
            f'font-family="{FONT}" font-size="13" data-t0="{t_lo:.6f}" data-x0="{LABEL_W}" '
            f'data-scale="{scale:.6f}"><text x="4" y="18" font-size="16" font-weight="bold">'
            f'{esc(job_title(job, stages))}</text><text x="4" y="36" font-size="12" fill="#444444">Worker timeline: '
            f'one row per task slot (thread), one bar per task attempt; hover a bar for details</text>')
    return SvgDrawing(head + "".join(out) + "</svg>", kind="timeline",
                      info={"rows": rows, "bars": len(bars), "t0": t_lo, "x0": LABEL_W, "scale": scale})


def _span(att, job) -> tuple[float, float] | None:
    start = att.start if att.start is not None else att.assigned
    stop = att.stop if att.stop is not None else (job.end if job.end is not None else start)
    if start is None:
        return None
    return start, max(stop, start)


def _layout(job, workers: list) -> tuple[list[tuple[str, int]], list[dict]]:
    """Rows ``(worker, slot)`` and bars: each attempt on its slot; one never seen running on its worker's first row."""
    nslots = {w.name: w.nthreads for w in workers}
    bars: list[dict] = []
    for task in job.dask_tasks.values():
        for att in task.attempts:
            span = _span(att, job)
            if span is None or att.worker is None:
                continue
            slot = att.slot if att.start is not None and att.slot else 1
            bars.append({"key": task.key, "att": att, "start": span[0], "stop": span[1], "worker": att.worker,
                         "slot": slot, "ran": att.start is not None})
            nslots[att.worker] = max(nslots.get(att.worker, 1), slot)
    order = [w.name for w in workers] + sorted(set(nslots) - {w.name for w in workers})
    rows = [(w, s) for w in order for s in range(1, nslots.get(w, 1) + 1)]
    for b in bars:
        b["row"] = (b["worker"], b["slot"])
    return rows, bars


def _rows(rows, row_y, workers, x, t_lo, t_hi) -> list[str]:
    colors = worker_colors(workers)
    out = []
    for i, (w, s) in enumerate(rows):
        y = row_y[(w, s)]
        multi = sum(1 for r in rows if r[0] == w) > 1
        out.append(f'<rect x="{LABEL_W}" y="{y}" width="{x(t_hi) - LABEL_W:.1f}" height="{ROW_H}" '
                   f'fill="{"#F4F4F4" if i % 2 else "#FFFFFF"}"/>')
        out.append(f'<rect x="2" y="{y + 3}" width="8" height="{ROW_H - 6}" fill="{colors.get(w, OTHER_COLOR)}"/>'
                   f'<text x="14" y="{y + ROW_H - 6}">{esc(w)}{f" · slot {s}" if multi else ""}</text>')
    return out


def _nice_step(span: float) -> float:
    raw = span / 8
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def _axis(t_lo, t_hi, x, y) -> list[str]:
    step = _nice_step(max(t_hi - t_lo, 1e-3))
    out = [f'<line x1="{LABEL_W}" x2="{x(t_hi):.1f}" y1="{y}" y2="{y}" stroke="#000000"/>']
    t = math.ceil(t_lo / step) * step
    while t <= t_hi + 1e-9:
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y}" y2="{y + 5}" stroke="#000000"/>'
                   f'<text x="{x(t):.1f}" y="{y + 18}" text-anchor="middle" font-size="12">{t:.{_digits(step)}f}</text>')
        t += step
    out.append(f'<text x="{LABEL_W}" y="{y + 34}" font-size="12" fill="#444444">seconds since the recording started</text>')
    return out


def _digits(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def _bar(i: int, b: dict, job, owner: dict, x, y: float, p: str) -> str:
    att, task = b["att"], owner.get(b["key"])
    sid = task.stage if task else None
    fill = stage_color(sid)
    x0, w = x(b["start"]), max(x(b["stop"]) - x(b["start"]), 1.0)
    lost = att.lost is not None or (att.outcome == "released" and att.end_cause == "worker-lost")
    rerun = job.dask_tasks[b["key"]].rerun_cause(att.number)
    stroke = ' stroke="#CC79A7" stroke-width="2"' if rerun else ""
    h, top = (ROW_H - 14, y + 12) if not b["ran"] else (ROW_H - 6, y + 3)
    where = f"stage {sid}, partition {task.partition}" if task else "no stage (shuffle plumbing)"
    what = {"done": "done", "erred": f"FAILED: {att.error}", "released": f"taken back ({att.end_cause})",
            "running": "still running when recording stopped"}.get(att.outcome, att.outcome)
    if att.lost is not None:
        what += f"; result lost with its worker at {att.lost:.3f} s"
    why = (f" (re-run: {rerun})" if rerun else f" ({att.cause}: Dask moved it, not a failure)"
           if att.cause in ("rescheduled", "stolen") else f" ({att.cause})" if att.cause else "")
    place = f"{att.worker} slot {b['slot']}" if b["ran"] else f"{att.worker}, not seen running"
    tip = (f"{b['key']}\n{where}\n{place}\n{b['start']:.3f}–{b['stop']:.3f} s "
           f"({fmt_seconds(b['stop'] - b['start'])})\nresult: {fmt_bytes(att.nbytes)}\nattempt {att.number}"
           f"{why}: {what}")
    data = (f'data-key="{esc(b["key"])}" data-stage="{"" if sid is None else sid}" '
            f'data-partition="{"" if task is None else task.partition}" data-attempt="{att.number}" '
            f'data-worker="{esc(att.worker)}" data-slot="{b["slot"] if b["ran"] else 0}"')
    shape = f'<rect x="{x0:.2f}" y="{top}" width="{w:.2f}" height="{h}" fill="{fill}"{stroke}/>'
    if att.outcome == "erred" or lost:
        shape += (f'<rect x="{x0:.2f}" y="{top}" width="{w:.2f}" height="{h}" fill="url(#{p}'
                  f'{"failed" if att.outcome == "erred" else "lost"})" stroke="{"#000000" if att.outcome == "erred" else STATE_COLORS["lost"]}" stroke-width="1.5"/>')
    return f'<g id="{p}b{i}" {data}><title>{esc(tip)}</title>{shape}</g>'


def _transfers(job, rows, row_y, x, p) -> list[str]:
    first = {}
    for w, s in rows:
        first.setdefault(w, row_y[(w, s)] + ROW_H / 2)
    out = []
    moves: dict[tuple, list] = defaultdict(list)
    for f in job.fetches:
        moves[(f["from"], f["to"], f["start"], f["stop"])].append(f)
    for (src, dst, start, stop), fs in moves.items():
        if src in first and dst in first:
            tip = f"transfer {src} → {dst}: {len(fs)} result(s), {fmt_bytes(sum(f['nbytes'] for f in fs))}, " \
                  f"{fmt_seconds(stop - start)}"
            out.append(_arrow(x(start), first[src], x(stop), first[dst], TRANSFER_COLOR, "", tip, p))
    out += _p2p(job, first, x, p)
    return out


#: At most about this many P2P arrows: sends of one worker pair are merged into time bins to fit.
MAX_P2P_ARROWS = 40


def _p2p(job, first, x, p) -> list[str]:
    """P2P shuffle sends between workers (``job.sends``), batched per worker pair into short time bins."""
    if job.end is None:
        return []
    sends = [(e["t"], e["from"], e["to"], e) for e in job.sends
             if e["from"] != e["to"] and e["from"] in first and e["to"] in first]
    pairs = len({(src, dst) for _, src, dst, _ in sends}) or 1
    width = max((job.end - job.submitted) / max(1, MAX_P2P_ARROWS // pairs), 1e-3)
    bins: dict[tuple, list] = {}
    for t, src, dst, e in sends:
        acc = bins.setdefault((src, dst, int((t - job.submitted) // width)), [t, t, 0, 0, set()])
        acc[0], acc[1] = min(acc[0], t), max(acc[1], t)
        acc[2] += e["nbytes"]
        acc[3] += 1
        acc[4].update(e["partitions"])
    out = []
    for (src, dst, _), (t_a, t_b, nbytes, sends, parts) in sorted(bins.items(), key=lambda kv: kv[1][0]):
        tip = (f"P2P shuffle {src} → {dst}: {fmt_bytes(nbytes)} in {sends} send(s), "
               f"rows of {len(parts)} input partition(s), {t_a:.3f}–{t_b:.3f} s")
        out.append(_arrow(x(t_b) - 3, first[src], x(t_b), first[dst], P2P_COLOR, ' stroke-dasharray="4 2"', tip, p))
    return out


def _arrow(x1, y1, x2, y2, color, extra, tip, p) -> str:
    return (f'<g><title>{esc(tip)}</title><line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{color}" stroke-width="1.2" stroke-opacity="0.6"{extra} marker-end="url(#{p}arrow)"/></g>')


def _deaths(workers, rows, row_y, x, t_lo, t_hi) -> list[str]:
    out = []
    for w in workers:
        ys = [row_y[r] for r in rows if r[0] == w.name]
        if not ys:
            continue
        for t, what, color in ((w.removed, "died" if w.cause == "lost" else f"left ({w.cause})", DEATH_COLOR),
                               (w.added, "joined", "#009E73")):
            if t is None or not (t_lo <= t <= t_hi):
                continue
            y0, y1 = min(ys), max(ys) + ROW_H
            out.append(f'<g><title>{esc(w.name)} {what} at {t:.3f} s</title><line x1="{x(t):.1f}" x2="{x(t):.1f}" '
                       f'y1="{y0 - 2}" y2="{y1 + 2}" stroke="{color}" stroke-width="3"/>'
                       f'<text x="{x(t) + 3:.1f}" y="{y0 + 12}" font-size="11" font-weight="bold" fill="{color}">'
                       f'{"✕ " if what == "died" else ""}{esc(w.name)} {what}</text></g>')
            if what == "died":
                out.append(f'<rect x="{x(t):.1f}" y="{y0}" width="{x(t_hi) - x(t):.1f}" height="{y1 - y0}" '
                           f'fill="{DEATH_COLOR}" fill-opacity="0.08"/>')
    return out


def _legend(stages, y, width, p) -> tuple[list[str], int]:
    items = [(f'<rect width="14" height="14" fill="{stage_color(s.id)}"/>', f"Stage {s.id}: {s.name}") for s in stages[:12]]
    items += [
        (f'<rect width="14" height="14" fill="{OTHER_COLOR}"/>', "no stage (shuffle plumbing)"),
        (f'<rect width="14" height="14" fill="url(#{p}lost)" stroke="{STATE_COLORS["lost"]}"/>', "lost with its worker"),
        (f'<rect width="14" height="14" fill="url(#{p}failed)" stroke="#000000"/>', "failed (error)"),
        ('<rect width="14" height="14" fill="#FFFFFF" stroke="#CC79A7" stroke-width="2"/>', "re-run after a failure"),
        ('<rect y="8" width="14" height="6" fill="#BBBBBB"/>', "assigned, not seen running"),
        (f'<line x1="0" y1="7" x2="14" y2="7" stroke="{TRANSFER_COLOR}" stroke-width="1.5"/>', "data transfer"),
        (f'<line x1="0" y1="7" x2="14" y2="7" stroke="{P2P_COLOR}" stroke-dasharray="4 2" stroke-width="1.5"/>',
         "P2P shuffle send"),
        (f'<line x1="7" y1="0" x2="7" y2="14" stroke="{DEATH_COLOR}" stroke-width="3"/>', "worker died"),
    ]
    col_w = 310
    per_row = max(1, (LABEL_W + width) // col_w)
    out = []
    for i, (mark, text) in enumerate(items):
        gx, gy = 4 + (i % per_row) * col_w, y + (i // per_row) * 20
        out.append(f'<g transform="translate({gx},{gy})">{mark}<text x="20" y="12" font-size="12">'
                   f'{esc(text[:44])}</text></g>')
    return out, (len(items) // per_row + 1) * 20 + 8
