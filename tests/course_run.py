"""Each course notebook executed once per test session, shared by the course tests and the gallery tests.

``tests/conftest.py`` imports the fixture, so every test module can ask for it::

    from course_run import NOTEBOOKS

    def test_x(course_run):
        nb = course_run(NOTEBOOKS[0])      # runs it now, or hands back this session's run

The runs live in this module (not in the fixture), so two test modules that
ask for the fixture still share one run per notebook.  A notebook that failed
fails again for every test that asks for it, without running twice.  The runs
use :func:`teachkit.gallery.run_notebook`, the same executor as ``teachkit gallery``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 600
SAVED = "saved-runs"  # the folder, in a notebook's working folder, where its record blocks save their runs

_runs: dict[Path, nbformat.NotebookNode | BaseException] = {}
_workdir: list[Path] = []


def run_once(path: Path) -> nbformat.NotebookNode:
    """The executed copy of ``path`` from this session (executed now if it was not yet)."""
    from teachkit.gallery import run_notebook

    path = Path(path).resolve()
    if path not in _runs:
        if not _workdir:
            _workdir.append(Path(tempfile.mkdtemp(prefix="teachkit-course-runs-")))
        workdir = _workdir[0] / path.stem
        workdir.mkdir(exist_ok=True)
        try:
            env = {"TEACHKIT_SAVE_RUNS": str(workdir / SAVED)}  # every record block saves its run (see saved_runs)
            _runs[path] = run_notebook(path, timeout=CELL_TIMEOUT, workdir=workdir, env=env)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - kept (a timeout too) and raised for every test that asks
            _runs[path] = exc
    result = _runs[path]
    if isinstance(result, BaseException):
        raise result
    return result


def saved_runs(path: Path) -> list:
    """The recordings the record blocks of this session's run of ``path`` saved (``TEACHKIT_SAVE_RUNS``)."""
    from teachkit import Recording

    run_once(path)
    folder = _workdir[0] / Path(path).resolve().stem / SAVED
    return [Recording.load(p) for p in sorted(folder.glob("*.json.gz"))]


@pytest.fixture(scope="session")
def course_run() -> Callable[[Path], nbformat.NotebookNode]:
    """``course_run(path)``: a course notebook's executed copy (one run per notebook per session)."""
    yield run_once
    if _workdir:
        shutil.rmtree(_workdir.pop(), ignore_errors=True)
