"""What keeps the worker timeline small at any size: bands instead of bars, arrows merged into time bins.

Helpers of :mod:`teachkit.views.timeline`.  Past :data:`MAX_BARS` attempts a
bar per attempt makes a picture of tens of megabytes that no one can read; the
timeline then draws, on every slot's row, one **band** per stretch of time the
slot spent on one stage: its colour the stage's, its shade how busy the slot
was.  Attempts a learner must see (a failure, a result lost with its worker, a
re-run, an attempt taken back) stay single bars, up to a quarter of the budget.
Dependency transfers and P2P sends are drawn one arrow each up to
:data:`MAX_ARROWS`, else merged per worker pair into short time bins.

>>> len(merge_in_bins([(1.0, "a", "b", 10), (1.1, "a", "b", 5), (9.0, "b", "a", 1)], 0.0, 10.0, 2))
2
"""

from __future__ import annotations

from collections import defaultdict

from teachkit.model.vocabulary import fmt_seconds, plural
from teachkit.views.style import esc, stage_color

#: More attempts than this in a job: the timeline draws bands (see the module docstring).
MAX_BARS = 2_000
#: At most about this many arrows of each kind (transfers, P2P sends) are drawn.
MAX_ARROWS = 300
#: A band's bins: at most this many in all rows together (each bin at least 2 pixels wide).
MAX_BINS = 3_000
#: A bin busy less than this share of its time breaks a band.
IDLE = 0.02


def notable(bar: dict, job) -> bool:
    """Whether an attempt is one a learner must see on its own: failed, lost, re-run, taken back, never seen running."""
    att = bar["att"]
    return (not bar["ran"] or att.outcome in ("erred", "released") or att.lost is not None
            or (att.number > 1 and job.dask_tasks[bar["key"]].rerun_cause(att.number) is not None))


def bands(bars: list[dict], rows: list, row_y: dict, x, t_lo: float, t_hi: float, owner: dict, names: dict,
          width: int, row_h: int, p: str) -> list[str]:
    """One band per row and stretch of time spent on one stage (see the module docstring)."""
    nbins = max(1, min(width // 2, MAX_BINS // max(1, len(rows))))
    size = (t_hi - t_lo) / nbins
    busy: dict[tuple, float] = defaultdict(float)  # (row, bin, stage) -> seconds
    count: dict[tuple, int] = defaultdict(int)  # (row, bin, stage) -> attempts starting there
    for b in bars:
        task = owner.get(b["key"])
        sid = task.stage if task is not None else None
        lo = min(nbins - 1, max(0, int((b["start"] - t_lo) / size)))
        hi = min(nbins - 1, max(lo, int((b["stop"] - t_lo) / size)))
        count[(b["row"], lo, sid)] += 1
        for k in range(lo, hi + 1):
            overlap = min(b["stop"], t_lo + (k + 1) * size) - max(b["start"], t_lo + k * size)
            busy[(b["row"], k, sid)] += max(overlap, 0.0)
    per_row: dict[tuple, dict[int, dict]] = defaultdict(lambda: defaultdict(dict))
    for (row, k, sid), s in busy.items():
        per_row[row][k][sid] = s
    out: list[str] = []
    for row in rows:
        cells = per_row.get(row, {})
        run: list | None = None  # [stage, first bin, last bin, busy seconds, attempts]
        for k in range(nbins + 1):
            cell = cells.get(k, {})
            total = sum(cell.values())
            sid = max(cell, key=lambda s: (cell[s], -1 if s is None else -s)) if cell else None
            if run is not None and (total < IDLE * size or sid != run[0]):
                out.append(_band(len(out), run, row, row_y, x, t_lo, size, names, row_h, p))
                run = None
            if total >= IDLE * size and k < nbins:
                if run is None:
                    run = [sid, k, k, 0.0, 0]
                run[2] = k
                run[3] += total
                run[4] += count.get((row, k, sid), 0)
    return out


def _band(i: int, run: list, row, row_y: dict, x, t_lo: float, size: float, names: dict, row_h: int, p: str) -> str:
    sid, first, last, seconds, attempts = run
    t_a, t_b = t_lo + first * size, t_lo + (last + 1) * size
    share = min(1.0, seconds / (t_b - t_a))
    fill = stage_color(sid)
    where = f"stage {sid} ({names.get(sid, '')})" if sid is not None else "no stage (shuffle plumbing)"
    worker, slot = row
    tip = (f"{worker} · slot {slot}: {plural(attempts, 'task attempt')} of {where}, {t_a:.3f}–{t_b:.3f} s "
           f"({fmt_seconds(t_b - t_a)}), busy {100 * share:.0f}% of the time")
    y = row_y[row]
    return (f'<g id="{p}r{i}" data-stage="{"" if sid is None else sid}" data-attempts="{attempts}"><title>{esc(tip)}'
            f'</title><rect x="{x(t_a):.1f}" y="{y + 3}" width="{max(x(t_b) - x(t_a), 1.0):.1f}" height="{row_h - 6}" '
            f'fill="{fill}" fill-opacity="{0.3 + 0.7 * share:.2f}"/></g>')


def merge_in_bins(moves: list[tuple[float, str, str, int]], t_lo: float, t_hi: float,
                  most: int = MAX_ARROWS) -> list[tuple[str, str, float, float, int, int, list]]:
    """Moves ``(t, from, to, bytes)`` merged per worker pair into time bins, about ``most`` arrows in all.

    Returns ``(from, to, first t, last t, bytes, moves, indexes of the moves)`` in time order.
    """
    pairs = len({(a, b) for _, a, b, _ in moves}) or 1
    width = max((t_hi - t_lo) / max(1, most // pairs), 1e-3)
    bins: dict[tuple, list] = {}
    for i, (t, src, dst, nbytes) in enumerate(moves):
        acc = bins.setdefault((src, dst, int((t - t_lo) // width)), [src, dst, t, t, 0, 0, []])
        acc[2], acc[3] = min(acc[2], t), max(acc[3], t)
        acc[4] += nbytes
        acc[5] += 1
        acc[6].append(i)
    return [tuple(v) for v in sorted(bins.values(), key=lambda v: v[2])]
