"""Committed notebooks carry no outputs, no execution counts and no saved widget state."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks", "exercises", "solutions")


def committed_notebooks(root: Path = ROOT) -> list[Path]:
    """The .ipynb files git tracks under FOLDERS (all on disk when this is not a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--", *(f"{f}/*.ipynb" for f in FOLDERS)],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout
        return [root / name for name in out.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        return sorted(
            p for f in FOLDERS for p in (root / f).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
        )


def dirt(nb: nbformat.NotebookNode) -> list[str]:
    """What should have been cleared before committing; [] for a clean notebook."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {index} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {index} has execution count {cell.execution_count}")
    if "widgets" in nb.metadata:
        problems.append("metadata holds saved widget state")
    return problems


def test_committed_notebooks_are_clean():
    problems = {}
    for path in committed_notebooks():
        found = dirt(nbformat.read(path, as_version=4))
        if found:
            problems[str(path.relative_to(ROOT))] = found
    assert problems == {}, "clear outputs before committing (Jupyter: Edit > Clear Outputs of All Cells)"


def test_dirt_is_found_in_a_run_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("1 + 1", execution_count=3, outputs=[
            nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=3)
        ]),
        nbformat.v4.new_code_cell("x = 1", execution_count=4),
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    assert dirt(nb) == [
        "cell 1 has outputs",
        "cell 1 has execution count 3",
        "cell 2 has execution count 4",
        "metadata holds saved widget state",
    ]
    nb.cells[1].outputs, nb.cells[1].execution_count, nb.cells[2].execution_count = [], None, None
    del nb.metadata["widgets"]
    assert dirt(nb) == []


def test_notebooks_are_found_where_git_tracks_them(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for name in ("notebooks/01-a.ipynb", "exercises/e.ipynb", "other/x.ipynb", "notebooks/untracked.ipynb"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / name)
    subprocess.run(
        ["git", "add", "notebooks/01-a.ipynb", "exercises/e.ipynb", "other/x.ipynb"], cwd=tmp_path, check=True
    )
    found = sorted(p.relative_to(tmp_path).as_posix() for p in committed_notebooks(tmp_path))
    assert found == ["exercises/e.ipynb", "notebooks/01-a.ipynb"]
