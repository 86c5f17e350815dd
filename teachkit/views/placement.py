"""Where every key went in a shuffle: key → output partition → the worker that built it.

A shuffle sends every row to the output partition of its key, and each output
partition is built by one task on one worker.  This view puts the three
together for one recorded shuffle-reading stage:

- which **keys** each output partition holds: plain data about the result,
  ``{partition: [keys]}`` (read from a persisted result by
  :func:`teachkit.placement.keys_by_partition`, or given by hand in a test);
- which **worker** built each output partition: the recorded stage, one task
  per partition (``stage.tasks[i].partition`` and ``.worker``);
- how many **bytes** each worker received in that shuffle: the stage's shuffle
  matrix (:meth:`teachkit.model.stages.Stage.shuffle_view`).

It never touches a cluster.  :attr:`Placement.info` holds the same facts as
data and :meth:`Placement.sentences` says them in words, so a notebook prints
what the run did instead of typing it.

>>> from types import SimpleNamespace as NS
>>> job = NS(recording=NS(workers=[NS(name="worker-1"), NS(name="worker-2")]), submitted=0.0, name="j")
>>> tasks = [NS(partition=0, worker="worker-2"), NS(partition=1, worker="worker-2")]
>>> stage = NS(id=1, tasks=tasks, job=job, parents=[0], boundaries={0: "shuffle"})
>>> view = key_placement(stage, {0: ["books"], 1: ["toys", "games"]}, received={"worker-2": 300})
>>> view.info["rows"]
[('books', 0, 'worker-2'), ('games', 1, 'worker-2'), ('toys', 1, 'worker-2')]
>>> view.info["idle"]
['worker-1']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from teachkit.errors import ArgumentError
from teachkit.model.vocabulary import fmt_bytes
from teachkit.views.display import HtmlView
from teachkit.views.style import FONT, esc, text_on, worker_colors


def received_bytes(stage: Any) -> dict[str, int]:
    """Bytes each worker received in the shuffle ``stage`` reads (its own sends to itself included).

    Read from the stage's shuffle matrix; ``{}`` when the recording has no
    byte counts for it.
    """
    try:
        matrix = stage.shuffle_view().info.get("matrix", {})
    except Exception:  # a stage detached from its job, or a boundary with nothing recorded
        return {}
    out: dict[str, int] = {}
    for row in matrix.values():
        for to, nbytes in row.items():
            out[to] = out.get(to, 0) + int(nbytes or 0)
    return out


def _workers(stage: Any) -> list[str]:
    """The workers alive when the stage's job was submitted (all the recording saw if unknown)."""
    job = getattr(stage, "job", None)
    rec = getattr(job, "recording", None)
    workers = list(getattr(rec, "workers", []) or [])
    t = getattr(job, "submitted", None)
    alive = [w for w in workers if t is None or ((getattr(w, "added", None) is None or w.added <= t)
                                                 and (getattr(w, "removed", None) is None or w.removed > t))]
    return [w.name for w in (alive or workers)]


class Placement(HtmlView):
    """The table of :func:`key_placement`: one row per worker, its output partitions and their keys."""

    def sentences(self) -> list[str]:
        """What the table shows, in words (every number from the data the view was built from)."""
        info = self.info
        parts = info["partitions"]
        n_keys = len(info["rows"])
        filled = [p for p in parts if info["keys"].get(p)]
        out = [f"The shuffle sent the rows of {n_keys} key{'s' * (n_keys != 1)} to {len(parts)} output "
               f"partition{'s' * (len(parts) != 1)}"
               + (f" ({len(parts) - len(filled)} of them got no key at all)" if len(filled) < len(parts) else "")
               + ": all rows with the same key went to one partition."]
        for p in parts:
            keys = info["keys"].get(p, [])
            worker = info["workers"].get(p) or "no worker (the task did not finish)"
            what = ", ".join(map(str, keys)) if keys else "no key"
            out.append(f"Output partition {p} holds {what}: it was built on {worker}.")
        received = info["received"]
        for w in info["idle"]:
            got = received.get(w, 0)
            out.append(f"{w} built no output partition, so the shuffle had nothing to send it: it received "
                       f"{fmt_bytes(got)}.")
        for w in info["empty_only"]:
            out.append(f"{w} built only output partitions that no key hashed to, so it received "
                       f"{fmt_bytes(received.get(w, 0))} of rows.")
        return out


def key_placement(stage: Any, keys: Mapping[int, Sequence[Any]], *, values: Mapping[Any, Any] | None = None,
                  received: Mapping[str, int] | None = None) -> Placement:
    """Key → output partition → worker, for the shuffle that ``stage`` reads.

    Parameters
    ----------
    stage : Stage
        The recorded stage that reads the shuffle (its tasks build the output
        partitions), e.g. ``rec.job("...").stages[-1]``.
    keys : mapping of int to list
        Which keys each output partition holds, ``{partition: [key, ...]}``
        (see :func:`teachkit.placement.keys_by_partition`).
    values : mapping, optional
        A number to show next to each key (e.g. its row count).
    received : mapping of str to int, optional
        Bytes each worker received; by default read from the stage's shuffle
        matrix (:func:`received_bytes`).

    Returns
    -------
    Placement
        An HTML table (the last line of a cell shows it); ``.info`` holds
        ``rows`` (key, partition, worker), ``workers`` (partition → worker),
        ``idle`` (workers that built no partition), ``received`` (bytes per
        worker); ``.sentences()`` says it in words.

    Raises
    ------
    teachkit.errors.ArgumentError
        When ``keys`` names a partition the stage has no task for.
    """
    if not isinstance(keys, Mapping):
        raise ArgumentError(f"keys should map each output partition to its keys, {{0: ['books', ...]}}, not "
                            f"{type(keys).__name__}: use teachkit.placement.keys_by_partition(result).")
    by_partition = {t.partition: t.worker for t in stage.tasks}
    unknown = sorted(set(keys) - set(by_partition))
    if unknown:
        raise ArgumentError(f"Stage {stage.id} has no task for output partition(s) {unknown} (it has "
                            f"{len(by_partition)}): pass the keys of the result this stage built.")
    parts = sorted(by_partition)
    key_lists = {p: sorted(keys.get(p, []), key=str) for p in parts}
    rows = sorted(((k, p, by_partition[p]) for p in parts for k in key_lists[p]), key=lambda r: (str(r[0]), r[1]))
    got = dict(received) if received is not None else received_bytes(stage)
    workers = _workers(stage)
    building = {w: [p for p in parts if by_partition[p] == w] for w in workers}
    for p in parts:  # a worker that joined later (e.g. restarted) but built a partition
        if by_partition[p] not in workers:
            building.setdefault(by_partition[p], []).append(p)
    idle = [w for w in building if w is not None and not building[w]]
    empty_only = [w for w, ps in building.items() if w is not None and ps and not any(key_lists[p] for p in ps)]
    info = {"rows": rows, "partitions": parts, "keys": key_lists, "workers": by_partition, "building": building,
            "idle": idle, "empty_only": empty_only, "received": got, "stage": stage.id}
    html = _table(stage, building, key_lists, dict(values or {}), got, _colors(stage, list(building)))
    return Placement(html, kind="key placement", info=info)


def _colors(stage: Any, names: list[str]) -> dict[str, str]:
    rec = getattr(getattr(stage, "job", None), "recording", None)
    colors = worker_colors(getattr(rec, "workers", []) or [])
    return {n: colors.get(n, "#BBBBBB") for n in names if n is not None}


_CELL = "padding:4px 10px;vertical-align:top;text-align:left"
_RIGHT = "padding:4px 10px;vertical-align:top;text-align:right"
_HEAD = "padding:4px 10px;text-align:left;border-bottom:1px solid #999"


def _cell(body: str, style: str = _CELL, rowspan: int = 1) -> str:
    span = f' rowspan="{rowspan}"' if rowspan > 1 else ""
    return f'<td style="{style}"{span}>{body}</td>'


def _table(stage: Any, building: dict, keys: dict, values: dict, received: dict, colors: dict) -> str:
    rows = []
    for worker, parts in building.items():
        if worker is None:
            continue
        color = colors.get(worker, "#BBBBBB")
        chip = (f'<span style="background:{color};color:{text_on(color)};padding:1px 6px;border-radius:3px;'
                f'white-space:nowrap">{esc(worker)}</span>')
        got = esc(fmt_bytes(received.get(worker, 0)))
        if not parts:
            rows.append("<tr>" + _cell(chip) + _cell("<i>none</i>") + _cell("<i>no key: nothing to receive</i>")
                        + _cell(got, _RIGHT) + "</tr>")
            continue
        for i, p in enumerate(parts):
            shown = ", ".join(esc(k) + (f" <small>({esc(_num(values[k]))})</small>" if k in values else "")
                              for k in keys[p]) or "<i>no key hashed here</i>"
            head = _cell(chip, rowspan=len(parts)) if i == 0 else ""
            tail = _cell(got, _RIGHT, rowspan=len(parts)) if i == 0 else ""
            rows.append(f"<tr>{head}{_cell(f'partition {p}')}{_cell(shown)}{tail}</tr>")
    title = f"Where every key went: the shuffle into Stage {stage.id}, key → output partition → worker"
    heads = "".join(f'<th style="{_HEAD}">{h}</th>' for h in ("worker", "output partition", "keys it holds"))
    heads += f'<th style="{_HEAD};text-align:right">received in the shuffle</th>'
    return (f'<div style="font-family:{FONT};font-size:14px;max-width:100%;overflow-x:auto">'
            f'<div style="font-weight:bold;font-size:15px;margin-bottom:4px">{esc(title)}</div>'
            f'<table style="border-collapse:collapse"><tr>{heads}</tr>{"".join(rows)}</table>'
            f'<div style="font-size:12px;color:#444;margin-top:4px">Keys per partition: read from the result; '
            f'the worker of each partition: the recorded task that built it; bytes received: the shuffle '
            f'matrix of the same run.</div></div>')


def _num(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)
