"""Generate ``exercises/`` from ``solutions/``: the solutions are the source.

In a solution notebook, the lines between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` are the answer; in the exercise they become
``# YOUR CODE HERE`` and, for a line ``answer = ...``, ``answer = ...`` with a
literal Ellipsis, so the exercise runs and its check says "not answered yet".
Markdown cells whose source starts with ``<!-- solution -->`` are dropped.

Run ``.venv/bin/python tools/make_exercises.py`` after editing a solution;
``tests/test_exercises.py`` fails when ``exercises/`` is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
_ASSIGN = re.compile(r"^(\s*)([A-Za-z_][A-Za-z_0-9]*)\s*=")


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


def make_exercise(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the exercise notebook for one solution notebook (outputs cleared)."""
    nb = nbformat.from_dict(solution)
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


def expected_exercises() -> dict[Path, str]:
    """Exercise path -> notebook text that ``make_exercises`` would write."""
    out = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = make_exercise(nbformat.read(path, as_version=4))
        out[ROOT / "exercises" / path.name] = nbformat.writes(nb) + "\n"
    return out


def main() -> int:
    for path, text in expected_exercises().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
