"""Generate ``exercises/`` from ``solutions/``: the solutions are the source.

In a solution notebook, the lines between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` are the answer; in the exercise they become
``# YOUR CODE HERE`` and, for a line ``answer = ...``, ``answer = ...`` with a
literal Ellipsis, so the exercise runs and its check says "not answered yet".
Markdown cells whose source starts with ``<!-- solution -->`` are dropped.

Questions and grading metadata
------------------------------
A code cell that calls a check (a line starting ``check_...(``) is a
**question's check cell**; it must not hold a solution.  The cells with
solutions before it (since the previous check cell) are that question's answer
cells.  Questions are numbered ``q1, q2, ...`` in order; a check cell's
metadata ``{"teachkit": {"question": "...", "points": 2}}`` overrides the id or
the points (default 1).  Every generated cell carries the metadata nbgrader
expects (``metadata.nbgrader``, schema version 3): answer cells
``solution: true``, check cells ``grade: true, locked: true, points``, and
check cells also ``editable: false, deletable: false`` (JupyterLab keeps a
learner from changing or deleting them).  ``teachkit grade`` reads the same
metadata.  ``--nbgrader-source DIR`` also writes the solutions, with that
metadata and their answers, as nbgrader's source folder
(``DIR/source/<name>/<name>.ipynb``); ``--otter DIR`` writes otter-assign master
notebooks (``DIR/<name>.ipynb``); see ``docs/grading.md``.

Run ``.venv/bin/python tools/make_exercises.py`` after editing a solution;
``tests/test_notebooks.py`` fails when ``exercises/`` is out of date.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
_ASSIGN = re.compile(r"^(\s*)([A-Za-z_][A-Za-z_0-9]*)\s*=")
CHECK_CALL = re.compile(r"^\s*check_\w+\(", re.M)  # a check's call at the start of a line


def strip_solution(source: str) -> str:
    """Replace every marked solution block of a code cell's source.

    >>> print(strip_solution("x = 1\\n# BEGIN SOLUTION\\nanswer = 3\\n# END SOLUTION"))
    x = 1
    # YOUR CODE HERE
    answer = ...
    """
    out: list[str] = []
    inside = False
    kept_names: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            inside, kept_names = True, []
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            continue
        if stripped == END:
            if not inside:
                raise ValueError(f"{END} without {BEGIN}")
            inside = False
            out.extend(f"{indent}{name} = ..." for name in kept_names)
            continue
        if inside:
            match = _ASSIGN.match(line)
            if match and match.group(1) == indent and match.group(2) not in kept_names:
                kept_names.append(match.group(2))
            continue
        out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out)


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": grade, "schema_version": 3, "solution": solution,
            "task": False}
    if grade:
        meta["points"] = points
    return meta


def tag_questions(nb: nbformat.NotebookNode, exercise: bool) -> nbformat.NotebookNode:
    """Give every answer and check cell its grading metadata (see the module docstring); returns ``nb``.

    Raises ``ValueError`` when a check cell also holds a solution.
    """
    answers: list = []
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("nbgrader", None)
        has_solution = any(line.strip() == BEGIN for line in cell.source.splitlines())
        if CHECK_CALL.search(cell.source):
            if has_solution:
                raise ValueError("a check cell also holds a solution: put the check call in a cell of its own "
                                 f"after the answer cell:\n{cell.source[:200]}")
            number += 1
            own = cell.metadata.get("teachkit", {})
            qid = str(own.get("question", f"q{number}"))
            cell.metadata["nbgrader"] = _nbgrader(qid, solution=False, grade=True, points=own.get("points", 1))
            if exercise:
                cell.metadata.update(editable=False, deletable=False)
            for i, answer in enumerate(answers):
                answer.metadata["nbgrader"] = _nbgrader(f"{qid}-answer" + (f"-{i + 1}" if i else ""),
                                                        solution=True, grade=False)
            answers = []
        elif has_solution:
            answers.append(cell)
    if answers:
        raise ValueError("a solution cell comes after the last check cell: every answer needs a check cell after it")
    return nb


def make_exercise(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the exercise notebook for one solution notebook (outputs cleared, grading metadata added)."""
    nb = tag_questions(nbformat.from_dict(solution), exercise=True)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("<!-- solution -->"):
            continue
        if cell.cell_type == "code":
            cell.source = strip_solution(cell.source)
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


def nbgrader_source(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The solution notebook as nbgrader's source version: answers kept, grading metadata added."""
    nb = tag_questions(nbformat.from_dict(solution), exercise=False)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def expected_exercises() -> dict[Path, str]:
    """Exercise path -> notebook text that ``make_exercises`` would write."""
    out = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = make_exercise(nbformat.read(path, as_version=4))
        out[ROOT / "exercises" / path.name] = nbformat.writes(nb) + "\n"
    return out


def _otter_solution(source: str) -> str:
    """Our ``# BEGIN/END SOLUTION`` blocks in otter's line form: each line ends ``# SOLUTION``.

    otter-assign turns ``x = 1  # SOLUTION`` into ``x = ...`` and any other such line into ``...``,
    which is what ``strip_solution`` gives the learner here.
    """
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() in (BEGIN, END):
            inside = line.strip() == BEGIN
            continue
        out.append(f"{line}  # SOLUTION" if inside and line.strip() else line)
    return "\n".join(out)


def otter_master(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The solution as an otter-assign master notebook (format v1): one question per check cell.

    Each question is wrapped in ``# BEGIN QUESTION`` / ``# END QUESTION`` raw cells, its answer
    cells in ``# BEGIN SOLUTION`` / ``# END SOLUTION`` ones; its test is
    ``bool(<the check call>)``, expected to print ``True``; the check cell itself stays for the
    learner's feedback.  ``otter assign`` then writes the student and autograder versions.
    """
    from nbformat.v4 import new_code_cell, new_output, new_raw_cell

    nb = tag_questions(nbformat.from_dict(solution), exercise=False)
    cells = [new_raw_cell(f"# ASSIGNMENT CONFIG\nname: {name}\ncheck_all_cell: false\n"
                          "export_cell: false\nrun_tests: false\nsolutions_pdf: false")]
    pending: list = []
    for cell in nb.cells:
        meta = cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if meta and meta["solution"]:
            cell.source = _otter_solution(cell.source)
            pending.append(cell)
            continue
        if meta and meta["grade"]:
            test = new_code_cell(f"bool({cell.source.strip()})",
                                 outputs=[new_output("execute_result", data={"text/plain": "True"}, execution_count=1)])
            cells += [new_raw_cell(f"# BEGIN QUESTION\nname: {meta['grade_id']}\npoints: {meta['points']}"),
                      new_raw_cell("# BEGIN SOLUTION"), *pending, new_raw_cell("# END SOLUTION"), cell,
                      new_raw_cell("# BEGIN TESTS"), test, new_raw_cell("# END TESTS"), new_raw_cell("# END QUESTION")]
            pending = []
            continue
        cells.append(cell)
    nb.cells = cells
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate exercises/ from solutions/.")
    parser.add_argument("--nbgrader-source", metavar="DIR",
                        help="also write nbgrader's source folder: DIR/source/<name>/<name>.ipynb")
    parser.add_argument("--otter", metavar="DIR", help="also write otter-assign master notebooks: DIR/<name>.ipynb")
    args = parser.parse_args(argv)
    for path, text in expected_exercises().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    if args.nbgrader_source:
        for path in sorted((ROOT / "solutions").glob("*.ipynb")):
            out = Path(args.nbgrader_source) / "source" / path.stem / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nbgrader_source(nbformat.read(path, as_version=4)), out)
            print(f"wrote {out}")
    if args.otter:
        Path(args.otter).mkdir(parents=True, exist_ok=True)
        for path in sorted((ROOT / "solutions").glob("*.ipynb")):
            out = Path(args.otter) / path.name
            nbformat.write(otter_master(nbformat.read(path, as_version=4), path.stem), out)
            print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
