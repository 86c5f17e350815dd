"""Automatic feedback for the exercises: every answer is checked against a real recording.

Each ``check_*`` function takes the learner's recording (so the truth comes
from their own run, never from a hard-coded number) and their answer, and
returns a :class:`Feedback` that Jupyter shows as one friendly line.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from typing import Any

from teachkit.model.recording import Recording


@dataclass
class Feedback:
    """The result of a check: ``ok`` and one sentence for the learner."""

    ok: bool | None  # None: not answered yet
    message: str

    def __str__(self) -> str:
        mark = {True: "✔ Correct:", False: "✘ Not yet:", None: "… Your turn:"}[self.ok]
        return f"{mark} {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = {True: "#1a7f37", False: "#b42318", None: "#555"}[self.ok]
        return f'<div style="color:{colour};font-weight:bold">{html.escape(str(self))}</div>'

    def __bool__(self) -> bool:
        return bool(self.ok)


def _unanswered(answer: Any) -> bool:
    return answer is ... or answer is None


def _job(rec: Any, which: int | str = -1):
    if not isinstance(rec, Recording):
        raise TypeError("Pass the recording from `with teachkit.record(cluster) as rec:` as the first argument.")
    return rec.job(which)


def check_num_stages(rec: Recording, answer: Any, job: int | str = -1) -> Feedback:
    """Is ``answer`` the number of stages of the job (Spark's rule applied to the recorded run)?"""
    if _unanswered(answer):
        return Feedback(None, "replace ... with the number of stages you expect, then run the cell.")
    stages = _job(rec, job).stages
    n = len(stages)
    if answer == n:
        shuffles = sum(1 for s in stages for b in s.boundaries.values() if b == "shuffle")
        return Feedback(True, f"the job ran in {n} stage(s), split at {shuffles} shuffle(s).")
    hint = "count the shuffles: each one ends a stage and starts another" if answer < n else (
        "narrow steps (filter, assign, map) stay in the same stage")
    return Feedback(False, f"{answer} is not it; {hint}. Look at job.stage_dag().")


def check_tasks_per_stage(rec: Recording, answer: Any, job: int | str = -1) -> Feedback:
    """Is ``answer`` the list of task counts, one per stage (one task per partition)?"""
    if _unanswered(answer):
        return Feedback(None, "replace ... with a list of task counts, one number per stage.")
    counts = [s.num_tasks for s in _job(rec, job).stages]
    if list(answer) == counts:
        return Feedback(True, f"tasks per stage: {counts} (one task per partition of each stage).")
    if len(answer) != len(counts):
        return Feedback(False, f"the job has {len(counts)} stages, so give {len(counts)} numbers.")
    return Feedback(False, "one task per partition: how many partitions does each stage work on?")


def check_two_stage_job(rec: Recording, job: int | str = -1) -> Feedback:
    """Did the learner's job run as exactly two stages joined by a shuffle?"""
    try:
        stages = _job(rec, job).stages
    except LookupError:
        return Feedback(None, "run your job inside `with teachkit.record(cluster) as rec:` first.")
    shuffles = [b for s in stages for b in s.boundaries.values() if b == "shuffle"]
    if len(stages) == 2 and len(shuffles) == 1:
        return Feedback(True, f"two stages, {stages[0].num_tasks} then {stages[1].num_tasks} tasks, one shuffle.")
    return Feedback(
        False,
        f"your job ran as {len(stages)} stage(s) with {len(shuffles)} shuffle(s); "
        "try one operation that moves rows between partitions (e.g. df.shuffle('category')).",
    )


def tasks_per_worker(rec: Recording, job: int | str = -1) -> Counter:
    """Spark-style tasks run by each worker in a job."""
    return Counter(t.worker for t in _job(rec, job).tasks if t.worker)


def check_busiest_worker(rec: Recording, answer: Any, job: int | str = -1) -> Feedback:
    """Is ``answer`` (e.g. ``"worker-2"``) the worker that ran the most tasks?"""
    if _unanswered(answer):
        return Feedback(None, "replace ... with a worker name such as 'worker-1'.")
    counts = tasks_per_worker(rec, job)
    if not counts:
        return Feedback(False, "no task finished in that job.")
    most = max(counts.values())
    busiest = sorted(w for w, c in counts.items() if c == most)
    if answer in busiest:
        return Feedback(True, f"{answer} ran {most} tasks; the counts were {dict(sorted(counts.items()))}.")
    if answer not in counts:
        return Feedback(False, f"there is no worker {answer!r} in this job; the workers are {sorted(counts)}.")
    return Feedback(False, f"{answer} ran {counts[answer]} tasks; another worker ran more. Look at job.timeline().")


def check_recomputed(rec: Recording, answer: Any, job: int | str = -1) -> Feedback:
    """Is ``answer`` the number of finished results that were lost with a dead worker and recomputed?"""
    if _unanswered(answer):
        return Feedback(None, "replace ... with the number of lost results that were computed again.")
    tasks = _job(rec, job).dask_tasks.values()
    n = sum(1 for t in tasks for a in t.attempts if a.cause == "result-lost")
    if answer == n:
        return Feedback(True, f"{n} results died with the worker and were recomputed from their lineage.")
    return Feedback(False, "count the attempts whose cause is 'result-lost' (rec.summary() lists re-runs by cause).")
