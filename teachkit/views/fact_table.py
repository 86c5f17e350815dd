"""A small table of facts read from a recording: the seed next to the run, Spark next to Dask.

:class:`FactTable` is a display object (one rich type: HTML) whose cells are
plain text escaped here; :func:`seed_table` builds the detailed example's
"what the seed says / what this run did" table from
:func:`teachkit.model.seed_facts.seed_vs_run`.  The table wraps its text and
never grows wider than its column.

>>> t = FactTable(["a", "b"], [["1", "two"]], title="demo")
>>> print(t)
demo
a | b
1 | two
>>> "<table" in t._repr_html_()
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from teachkit.views.style import FONT, esc

__all__ = ["FactTable", "seed_table"]

_MARK_COLOUR = {"✔": "#1a7f37", "≠": "#b42318", "–": "#555555"}


class FactTable:
    """Rows of text under a header, with an optional title and a footnote.

    Parameters
    ----------
    header : sequence of str
        Column names.
    rows : sequence of sequences of str
        One list of cells per row (as many as the header).
    title, note : str, optional
        A line above the table and a footnote under it.
    code : sequence of int, optional
        Columns that hold code (shown in a monospace font, broken anywhere if too long).

    Short cells (a mark, a number, "same") never wrap; longer ones wrap at spaces.
    """

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "", note: str = "",
                 code: Sequence[int] = ()) -> None:
        self.header = [str(h) for h in header]
        self.rows = [[str(c) for c in row] for row in rows]
        self.title, self.note = title, note
        self.code = set(code)

    def __str__(self) -> str:
        lines = [self.title] if self.title else []
        lines.append(" | ".join(self.header))
        lines += [" | ".join(row) for row in self.rows]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _cell(self, text: str, tag: str, column: int) -> str:
        style = "border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top"
        if tag == "td" and column in self.code:
            style += ";font-family:monospace;font-size:13px;overflow-wrap:anywhere"
        elif len(text) <= 14:
            style += ";white-space:nowrap"
        colour = _MARK_COLOUR.get(text)
        if colour:
            style += f";color:{colour};font-weight:bold;text-align:center"
        return f'<{tag} style="{style}">{esc(text)}</{tag}>'

    def _repr_html_(self) -> str:
        head = "".join(self._cell(h, "th", i) for i, h in enumerate(self.header))
        body = "".join("<tr>" + "".join(self._cell(c, "td", i) for i, c in enumerate(row)) + "</tr>"
                       for row in self.rows)
        title = f'<div style="font-weight:bold;margin:4px 0">{esc(self.title)}</div>' if self.title else ""
        note = f'<div style="font-size:12px;color:#444;margin-top:4px">{esc(self.note)}</div>' if self.note else ""
        return (f'<div style="font-family:{FONT};font-size:14px;max-width:100%">{title}'
                f'<table style="border-collapse:collapse;max-width:100%;table-layout:auto">'
                f'<thead style="background:#F2F2F2"><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</div>')


def seed_table(job: Any, counts: Mapping[str, int] | None = None) -> FactTable:
    """The detailed example's table: each statement of the seed, what this run did, and whether they agree."""
    from teachkit.model.seed_facts import SEED, seed_vs_run

    facts = seed_vs_run(job, counts)
    agree = sum(f.agrees is True for f in facts)
    return FactTable(["", "the seed says", f"this run did (job {job.name!r})"],
                     [[f.mark, f.seed, f.run] for f in facts],
                     title=f"The seed's numbers next to the recording: {agree} of {len(facts)} agree",
                     note=f"The seed: \u201c{SEED['text']}\u201d. ✔ agrees (\u201cabout\u201d: within 50%), "
                          "≠ differs; every number on the right is read from the recording of this run.")
