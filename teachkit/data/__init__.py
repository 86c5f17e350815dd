"""Saved recordings of real runs shipped with teachkit (made by ``tools/make_examples.py``; never edited by hand).

Every run of the course's record blocks is here (named after its jobs, e.g.
``01-groupby-count``), plus a few extra examples (``groupby``, ``pipeline``,
``killed``).  ``index.json`` lists them: file, lesson, one-line description and
what identifies each run's jobs (:mod:`teachkit.runs`), so that replay mode
(:mod:`teachkit.replay`) finds a block's run without opening every file.

>>> import teachkit
>>> "groupby" in teachkit.examples()
True
>>> teachkit.examples()["groupby"].description != ""
True
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

_HERE = Path(__file__).parent
#: The list of the shipped recordings (written by tools/make_examples.py).
INDEX_NAME = "index.json"
INDEX_FORMAT = "teachkit-examples"


class Example(str):
    """The name of a shipped recording (a ``str``), with its description, lesson and jobs.

    Attributes
    ----------
    description : str
        One line saying what the run shows.
    lesson : str or None
        The course notebook whose record block made it (``None`` for the extra examples).
    jobs : list of str
        The names of its jobs.
    """

    description: str
    lesson: str | None
    jobs: list[str]

    def __new__(cls, name: str, entry: dict | None = None) -> Example:
        self = super().__new__(cls, name)
        entry = entry or {}
        self.description = str(entry.get("description") or "")
        self.lesson = entry.get("lesson")
        self.jobs = [str(j.get("name")) for j in entry.get("jobs", [])]
        return self

    @property
    def path(self) -> Path:
        """The recording's file (for :meth:`teachkit.Recording.load`)."""
        return example_path(str(self))


class Examples(list):
    """The shipped recordings: a list of :class:`Example` names that Jupyter shows as a table.

    ``examples()["killed"]`` picks one by name; iterating gives the names.
    """

    def __getitem__(self, which: Any) -> Any:
        if isinstance(which, str):
            for ex in self:
                if ex == which:
                    return ex
            raise KeyError(f"There is no example recording {which!r}; the examples are: {', '.join(self)}.")
        return super().__getitem__(which)

    def rows(self) -> list[tuple[str, str]]:
        """``(name, description)`` for each shipped recording."""
        return [(str(ex), ex.description) for ex in self]

    def __repr__(self) -> str:
        width = max((len(ex) for ex in self), default=0)
        return "\n".join(f"{ex:<{width}}  {ex.description}" for ex in self)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{html.escape(ex)}</code></td><td>{html.escape(ex.lesson or '')}</td>"
                       f"<td style='text-align:left'>{html.escape(ex.description)}</td></tr>" for ex in self)
        return (f"<div><b>{len(self)} recordings of real runs shipped with teachkit</b> "
                "(<code>teachkit.Recording.load(teachkit.example_path(name))</code>)"
                f"<table><tr><th>name</th><th>lesson</th><th>what it shows</th></tr>{rows}</table></div>")


def read_index(folder: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """The entries of a folder's ``index.json`` (default: the shipped one); ``[]`` when there is none."""
    path = Path(folder or _HERE) / INDEX_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        return []
    return [e for e in data.get("examples", []) if isinstance(e, dict) and isinstance(e.get("name"), str)]


def write_index(folder: str | os.PathLike, entries: list[dict[str, Any]]) -> Path:
    """Write ``index.json`` in ``folder`` (used by ``tools/make_examples.py``)."""
    path = Path(folder) / INDEX_NAME
    text = json.dumps({"format": INDEX_FORMAT, "examples": entries}, indent=1, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def examples() -> Examples:
    """The shipped recordings, each with a one-line description; Jupyter shows them as a table.

    Iterating gives the names (``str``); each also has ``.description``,
    ``.lesson``, ``.jobs`` and ``.path``.
    """
    entries = {e["name"]: e for e in read_index()}
    names = sorted(p.name[: -len(".json.gz")] for p in _HERE.glob("*.json.gz"))
    return Examples(Example(name, entries.get(name)) for name in names)


def example_path(name: str) -> Path:
    """Path of a shipped recording, for :meth:`teachkit.Recording.load`.

    Raises
    ------
    LookupError
        When there is no such example; the message lists the ones there are.
    """
    path = _HERE / f"{name}.json.gz"
    if not isinstance(name, str) or "/" in name or not path.exists():
        raise LookupError(f"There is no example recording {name!r}; the examples are: {', '.join(examples())}.")
    return path
