"""``teachkit grade``: run every submitted notebook on a fresh kernel, read its checks, write one CSV.

Layout: ``SUBMISSIONS/<student>/<notebook>.ipynb``.  For each notebook:

1. **Questions** come from the exercise notebook of the same name (``exercises/``
   by default): its check cells carry nbgrader metadata (``grade: true``,
   ``grade_id``, ``points``; see ``tools/make_exercises.py``).  The submission's
   check cells are matched by ``grade_id`` and their source is put back to the
   exercise's (a learner cannot edit a check); a deleted check cell scores 0,
   "not answered".
2. **Run** headless with nbclient on a fresh kernel in a temporary folder, with
   a time limit for the whole notebook; a cell that raises does not stop the
   run (later questions still count), a time-out or a dead kernel does.
3. **Score**: every check displays a machine-readable result (mime type
   :data:`teachkit.checks.MIME`: check, question, state); a question earns its
   points when every result in its check cell is "correct".  ``notes`` says why
   a question scored 0: not answered, wrong, the notebook failed at cell N,
   timed out.
4. **Clean up**: the kernel runs in its own process group, which is killed
   (the kernel and every process it started, e.g. dask workers), and psutil
   confirms nothing survived.

One CSV row per student and notebook: ``student, notebook, <question ids...>,
total, notes``.  Cell numbers in notes count every cell from the top, from 1.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from teachkit.checks.feedback import MIME
from teachkit.errors import ArgumentError
from teachkit.notebook_run import ACTIVE, LOCK, Run, kill_all, run_notebook

#: Where the exercise notebooks live when ``--exercises`` is not given (the repository's).
DEFAULT_EXERCISES = Path(__file__).resolve().parent.parent / "exercises"


@dataclass
class Question:
    """One graded question: the check cell's nbgrader ``grade_id`` and ``points``."""

    id: str
    points: float


@dataclass
class Graded:
    """One CSV row: a student's notebook, its points per question, and why any question scored 0."""

    student: str
    notebook: str
    questions: list[Question]
    scores: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    leftovers: int = 0  # processes that outlived the kernel and had to be killed again

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def out_of(self) -> float:
        return sum(q.points for q in self.questions)


def questions_in(nb: Any) -> list[Question]:
    """The graded questions of a notebook: code cells whose ``metadata.nbgrader.grade`` is true."""
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and meta.get("grade_id"):
            out.append(Question(str(meta["grade_id"]), float(meta.get("points", 0) or 0)))
    return out


def _grade_id(cell: Any) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return str(meta["grade_id"]) if meta.get("grade") and meta.get("grade_id") else None


def prepare(submission: Any, exercise: Any | None) -> tuple[Any, list[Question], set[str]]:
    """The notebook to run, its questions, and the ids whose check cell the learner deleted.

    With an exercise, each check cell of the submission (matched by
    ``grade_id``, else by its unchanged source) gets the exercise's source
    back; without one, the submission's own check cells are used.
    """
    nb = nbformat.from_dict(submission)
    if exercise is None:
        return nb, questions_in(nb), set()
    questions = questions_in(exercise)
    checks = {_grade_id(c): c for c in exercise.cells if _grade_id(c)}
    present = set()
    for cell in nb.cells:
        gid = _grade_id(cell)
        if cell.cell_type == "code" and gid in checks:
            cell.source = checks[gid].source
            present.add(gid)
    # A copy that lost its cell metadata (e.g. cells pasted into a new notebook): match unchanged check cells by source.
    for gid in [g for g in checks if g not in present]:
        for cell in nb.cells:
            if cell.cell_type == "code" and _grade_id(cell) is None and cell.source.strip() == checks[gid].source.strip():
                cell.metadata["nbgrader"] = dict(checks[gid].metadata["nbgrader"])
                present.add(gid)
                break
    return nb, questions, {q.id for q in questions} - present


def results_in(cell: Any) -> list[dict]:
    """The machine-readable check results a cell displayed."""
    return [out["data"][MIME] for out in cell.get("outputs", [])
            if isinstance(out.get("data"), dict) and isinstance(out["data"].get(MIME), dict)]


def score(nb: Any, questions: list[Question], missing: set[str], run: Run, timeout: float) -> tuple[dict, list]:
    """Points per question and the reasons for every 0."""
    where = {_grade_id(c): i for i, c in enumerate(nb.cells) if _grade_id(c)}
    scores, reasons = {}, {}
    for q in questions:
        scores[q.id] = 0.0
        if q.id in missing:
            reasons.setdefault("not answered (its check cell was deleted)", []).append(q.id)
            continue
        idx = where[q.id]
        states = [r.get("state") for r in results_in(nb.cells[idx])]
        if states and all(s == "correct" for s in states):
            scores[q.id] = q.points
            continue
        reasons.setdefault(_why(states, idx, run, timeout), []).append(q.id)
    notes = [f"{', '.join(ids)}: {why}" for why, ids in reasons.items()]
    return scores, notes


def _why(states: list, idx: int, run: Run, timeout: float) -> str:
    if "wrong" in states:
        return "wrong"
    if states:
        return "not answered"
    if run.stopped is not None and idx >= run.stopped[0]:
        cell, why = run.stopped
        if why == "timed out":
            return f"timed out (the notebook ran past its {timeout:g} s limit at cell {cell + 1})"
        return f"{why} at cell {cell + 1}"
    earlier = [e for e in run.errors if e[0] <= idx]
    if earlier:
        i, ename, evalue = earlier[0]
        return f"the notebook failed at cell {i + 1} ({ename}: {evalue.splitlines()[0][:80] if evalue else ''})"
    return "no check result (the check cell displayed none)"


def grade_one(student: str, path: Path, exercises: Path | None, timeout: float, kernel: str,
              executed: Path | None = None) -> Graded:
    """Grade one submitted notebook (never raises for a broken notebook: the row says why)."""
    t0 = time.monotonic()
    exercise_path = exercises / path.name if exercises is not None else None
    exercise = nbformat.read(exercise_path, as_version=4) if exercise_path and exercise_path.exists() else None
    try:
        submitted = nbformat.read(path, as_version=4)
    except Exception as exc:
        qs = questions_in(exercise) if exercise is not None else []
        return Graded(student, path.stem, qs, {q.id: 0.0 for q in qs},
                      [f"not a readable notebook ({type(exc).__name__}: {str(exc)[:100]})"], time.monotonic() - t0)
    nb, questions, missing = prepare(submitted, exercise)
    row = Graded(student, path.stem, questions)
    if exercise is None:
        row.notes.append(f"no exercise named {path.name}: graded with the submission's own check cells")
    if not questions:
        row.notes.append("no graded question found (no check cell with nbgrader metadata)")
        row.seconds = time.monotonic() - t0
        return row
    run = run_notebook(nb, timeout, kernel)
    row.scores, notes = score(nb, questions, missing, run, timeout)
    row.notes += notes
    row.leftovers = run.leftovers
    if executed is not None:
        (executed / student).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed / student / path.name)
    row.seconds = time.monotonic() - t0
    return row


def find_submissions(root: Path) -> list[tuple[str, Path]]:
    """``(student, notebook path)`` for every ``root/<student>/<notebook>.ipynb``, sorted."""
    out = []
    for student in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        out += [(student.name, nb) for nb in sorted(student.glob("*.ipynb"))]
    return out


def grade(submissions: str | os.PathLike, out: str | os.PathLike = "grades.csv", *, jobs: int = 1,
          timeout: float = 600, exercises: str | os.PathLike | None = None, kernel: str = "python3",
          executed: str | os.PathLike | None = None, echo: Any = print) -> list[Graded]:
    """Grade a class: run every submission, write the CSV, print a line per notebook and per student.

    Parameters
    ----------
    submissions : path
        Folder holding ``<student>/<notebook>.ipynb``.
    out : path
        The CSV to write.
    jobs : int
        Notebooks graded at the same time (each on its own kernel).
    timeout : float
        Seconds one notebook may run in all, from its kernel's start.
    exercises : path, optional
        Folder of the exercise notebooks (default: the repository's ``exercises/``).
    kernel : str
        Jupyter kernel to run the notebooks with.
    executed : path, optional
        Also write each executed notebook (with its feedback) here.

    Raises
    ------
    teachkit.errors.ArgumentError
        When a folder is missing, or ``jobs``/``timeout`` is not positive.
    """
    root = Path(submissions)
    if not root.is_dir():
        raise ArgumentError(f"{root}: no such folder; give the folder that holds one folder per student "
                            "(SUBMISSIONS/<student>/<notebook>.ipynb).")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ArgumentError(f"--jobs must be a whole number of 1 or more, not {jobs!r}.")
    if not timeout > 0:
        raise ArgumentError(f"--timeout must be a number of seconds above 0, not {timeout!r}.")
    ex = Path(exercises) if exercises is not None else (DEFAULT_EXERCISES if DEFAULT_EXERCISES.is_dir() else None)
    if ex is not None and not ex.is_dir():
        raise ArgumentError(f"{ex}: no such folder of exercise notebooks (--exercises).")
    found = find_submissions(root)
    if not found:
        raise ArgumentError(f"{root} holds no <student>/<notebook>.ipynb; nothing to grade.")
    found += _not_submitted(found)
    echo(f"teachkit grade: {len(found)} notebook(s) from {len({s for s, _ in found})} student(s), "
         f"{jobs} at a time, {timeout:g} s each at most", file=sys.stderr)
    rows: list[Graded] = []
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_grade_or_absent, s, p, ex, timeout, kernel,
                                   Path(executed) if executed else None): (s, p) for s, p in found}
            for future in as_completed(futures):
                row = future.result()
                rows.append(row)
                why = f" ({'; '.join(row.notes)})" if row.notes else ""
                echo(f"[{len(rows)}/{len(found)}] {row.student}/{row.notebook}: {row.total:g}/{row.out_of:g} points "
                     f"in {row.seconds:.1f} s{why}", file=sys.stderr)
    finally:
        with LOCK:
            for pgid in list(ACTIVE):
                kill_all(pgid, set())
    rows.sort(key=lambda r: (r.student, r.notebook))
    write_csv(rows, Path(out))
    for student in sorted({r.student for r in rows}):
        mine = [r for r in rows if r.student == student]
        parts = ", ".join(f"{r.notebook} {r.total:g}/{r.out_of:g}" for r in mine)
        echo(f"{student}: {sum(r.total for r in mine):g}/{sum(r.out_of for r in mine):g} points ({parts})")
    echo(f"wrote {out}", file=sys.stderr)
    return rows


def _not_submitted(found: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """A missing notebook (one that another student submitted) for each student who lacks it."""
    names = sorted({p.name for _, p in found})
    have = {(s, p.name) for s, p in found}
    roots = {s: p.parent for s, p in found}
    return [(s, roots[s] / n) for s in sorted(roots) for n in names if (s, n) not in have]


def _grade_or_absent(student: str, path: Path, ex: Path | None, timeout: float, kernel: str,
                     executed: Path | None) -> Graded:
    if not path.exists():
        exercise = ex / path.name if ex is not None else None
        qs = questions_in(nbformat.read(exercise, as_version=4)) if exercise and exercise.exists() else []
        return Graded(student, path.stem, qs, {q.id: 0.0 for q in qs}, ["not submitted"])
    return grade_one(student, path, ex, timeout, kernel, executed)


def write_csv(rows: list[Graded], path: Path) -> None:
    """``student, notebook, <question ids in order of first appearance>, total, notes``."""
    columns: list[str] = []
    for row in rows:
        columns += [q.id for q in row.questions if q.id not in columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "notebook", *columns, "total", "notes"])
        for row in rows:
            cells = [f"{row.scores[c]:g}" if c in row.scores else "" for c in columns]
            writer.writerow([row.student, row.notebook, *cells, f"{row.total:g}", "; ".join(row.notes)])


def main(args: Any) -> int:
    """Entry point of ``teachkit grade`` (arguments from :mod:`teachkit.cli`)."""
    try:
        grade(args.submissions, args.out, jobs=args.jobs, timeout=args.timeout, exercises=args.exercises,
              kernel=args.kernel, executed=args.executed)
    except ArgumentError as exc:
        print(f"teachkit grade: {exc}", file=sys.stderr)
        return 2
    return 0
