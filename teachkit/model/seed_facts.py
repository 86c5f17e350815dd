"""The detailed example's numbers, as the seed states them, set next to what one recorded run did.

The course's seed text: *"1,000,000 rows, groupBy('category').count(), 500
partitions, 5 worker nodes, each receiving about 100 tasks, 20 at a time;
early finishers get more; the shuffle; the final aggregation on the driver."*

:func:`seed_vs_run` reads one recorded job (and, optionally, the counts it
returned) and gives one :class:`Fact` per statement of the seed: what the seed
says, what the run did, and whether the two agree.  "About" means within 50%
(an early finisher *does* get more, so the shares are never all equal); every
number on the run's side comes from the recording, none is typed in.

>>> import teachkit
>>> rec = teachkit.Recording.load(teachkit.example_path("seed"))
>>> facts = seed_vs_run(rec.job("groupby count, full size"), counts={"books": 1_000_000})
>>> [(f.topic, f.mark) for f in facts][:3]
[('rows', '✔'), ('partitions', '✔'), ('workers', '✔')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from teachkit.model.balance import peak_per_worker, steals, tasks_per_worker, uneven_stages, workers_at_start

__all__ = ["SEED", "Fact", "seed_vs_run"]

#: What the seed states, by topic.
SEED = {
    "rows": 1_000_000,
    "partitions": 500,
    "workers": 5,
    "tasks_per_worker": 100,
    "slots": 20,
    "text": ("1,000,000 rows, groupBy('category').count(), 500 partitions, 5 worker nodes, each receiving about "
             "100 tasks, 20 at a time; early finishers get more; the shuffle; the final aggregation on the driver"),
}

#: "About" in the seed: within this fraction of the seed's number.
ABOUT = 0.5


@dataclass(frozen=True)
class Fact:
    """One statement of the seed next to the run: ``agrees`` is True, False, or None (nothing to compare)."""

    topic: str
    seed: str
    run: str
    agrees: bool | None

    @property
    def mark(self) -> str:
        """✔ (agrees), ≠ (differs) or – (the seed states no number here)."""
        return {True: "✔", False: "≠", None: "–"}[self.agrees]


def _about(value: float, target: float) -> bool:
    return abs(value - target) <= ABOUT * target


def _range(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:,}" if lo == hi else f"{lo:,} to {hi:,}"


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def seed_vs_run(job: Any, counts: Mapping[str, int] | None = None) -> list[Fact]:
    """One :class:`Fact` per statement of the seed, for a recorded groupby-count job.

    Parameters
    ----------
    job : teachkit.model.jobs.Job
        The recorded job (its first stage reads the partitions; a later stage reads the shuffle).
    counts : mapping of category to rows, optional
        What the job returned (e.g. ``result["id"].to_dict()``), for the rows and rows per category.
    """
    stages = list(job.stages)
    first = stages[0]
    alive = workers_at_start(job)
    facts: list[Fact] = []
    if counts:
        total = int(sum(counts.values()))
        facts.append(Fact("rows", f"{SEED['rows']:,} rows", f"{total:,} rows counted", total == SEED["rows"]))
    facts.append(Fact("partitions", f"{SEED['partitions']} partitions",
                      f"{first.num_tasks} partitions read: stage {first.id} ran {first.num_tasks} tasks",
                      first.num_tasks == SEED["partitions"]))
    facts.append(Fact("workers", f"{SEED['workers']} worker nodes", f"{len(alive)} worker processes",
                      len(alive) == SEED["workers"]))
    per = tasks_per_worker(job, first)
    share = first.num_tasks / max(len(alive), 1)
    facts.append(Fact("tasks per worker", f"each receives about {SEED['tasks_per_worker']} tasks",
                      f"{_range(list(per.values()))} tasks each in stage {first.id} (mean {share:.0f})",
                      all(_about(n, SEED["tasks_per_worker"]) for n in per.values())))
    slots = sorted({w.nthreads for w in alive})
    peaks = peak_per_worker(job, first)
    facts.append(Fact("slots", f"{SEED['slots']} at a time",
                      f"{'/'.join(map(str, slots))} task slot{'s' * (slots != [1])} per worker; at most "
                      f"{_range(list(peaks.values()))} running at once on each worker in stage {first.id}",
                      slots == [SEED["slots"]]))
    uneven = next((u for u in uneven_stages(job, ratio=1.0) if u.stage == first.id), None)
    moved = steals(job)
    if uneven is not None:
        run = (f"{uneven.busiest} ran {uneven.most} tasks of stage {first.id}, {uneven.quietest} {uneven.fewest}; "
               f"{len(moved)} task(s) stolen by idle workers")
    else:
        run = f"every worker ran the same number of tasks of stage {first.id}; {len(moved)} task(s) stolen"
    facts.append(Fact("early finishers", "early finishers get more", run, uneven is not None or bool(moved)))
    by_id = {s.id: s for s in stages}
    shuffles = [(by_id[p], s) for s in stages for p, b in s.boundaries.items() if b == "shuffle" and p in by_id]
    if shuffles:
        parent, s = shuffles[0]
        moved_bytes = s.shuffle_read_bytes or parent.shuffle_write_bytes or 0
        run = (f"stage {parent.id} ({parent.num_tasks} tasks) → shuffle of {_bytes(int(moved_bytes))} → stage {s.id} "
               f"({s.num_tasks} tasks)")
    else:
        run = "no shuffle: " + " → ".join(f"stage {s.id} ({s.num_tasks} tasks)" for s in stages)
    facts.append(Fact("shuffle", "the shuffle", run, bool(shuffles)))
    last = stages[-1]
    gathered = (f"the {last.num_tasks} tasks of stage {last.id} finish the count on the workers; the driver "
                f"receives their results" if last.output == "driver" else f"stage {last.id}'s results go to "
                f"{last.output!r}, not to the driver")
    if counts:
        gathered += f": {len(counts)} categories, {_range([int(v) for v in counts.values()])} rows each"
    facts.append(Fact("driver", "the final aggregation on the driver", gathered, last.output == "driver"))
    return facts
