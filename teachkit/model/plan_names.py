"""Readable names from the printed plans a recording keeps.

These functions read the plan *text* a recording keeps (``Job.expr``:
``"logical"`` and ``"optimized"``, as ``Expr._tree_repr_lines`` prints them),
so the stage rule can name fused tasks without the expression objects.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^(?P<indent>\s*)Fused\((?P<id>\w{5})\):\s*$")
_CLASS = re.compile(r"^\s*\|?\s*(?P<cls>[A-Za-z_][\w]*(?:\(\w+\))?):(?P<args>.*)$")
_MAP_FUNC = re.compile(r"MapPartitions: func=<function (?P<name>[\w.<>]+)")


def plan_classes(text: str | None) -> list[tuple[str, str]]:
    """Every expression of a printed plan as ``(class, arguments)``, outermost first.

    >>> plan_classes("Count: observed=True\\n  Filter:\\n    FromMap: func=f")
    [('Count', ' observed=True'), ('Filter', ''), ('FromMap', ' func=f')]
    """
    out = []
    for line in (text or "").splitlines():
        m = _CLASS.match(line)
        if m and not _HEADER.match(line):
            out.append((m.group("cls"), m.group("args")))
    return out


def fused_blocks(text: str | None) -> dict[str, list[tuple[str, str]]]:
    """The expressions inside each ``Fused(xxxxx):`` block of a printed plan, innermost first.

    dask-expr names a fused task group after its first and last expressions
    (``make_partition-fused-assign-<token>``); the token's last five characters
    are the block's id, so the block tells what the tasks really do.

    >>> text = "Fused(ab123):\\n| Assign: x=\\n|   Filter:\\n|     FromMap: func=f\\n    FromMap: other"
    >>> fused_blocks(text)
    {'ab123': [('FromMap', ' func=f'), ('Filter', ''), ('Assign', ' x=')]}
    """
    lines = (text or "").splitlines()
    out: dict[str, list[tuple[str, str]]] = {}
    for i, line in enumerate(lines):
        head = _HEADER.match(line)
        if head is None:
            continue
        mark = head.group("indent") + "|"
        inside = []
        for below in lines[i + 1:]:
            if not below.startswith(head.group("indent")) or not below.strip():
                break
            if below.startswith(mark):
                m = _CLASS.match(below[len(head.group("indent")):])
                if m:
                    inside.append((m.group("cls"), m.group("args")))
            elif len(below) - len(below.lstrip()) <= len(head.group("indent")):
                break  # back at the block's own level: the block ended
        out[head.group("id")] = inside[::-1]
    return out


def map_functions(text: str | None) -> set[str]:
    """Names of the functions ``map_partitions`` calls in a plan (Dask names their tasks after them).

    >>> sorted(map_functions("MapPartitions: func=<function clean at 0x1> meta=x\\n"
    ...                      "MapPartitions: func=<function f.<locals>.<lambda> at 0x2>"))
    ['clean', 'lambda']
    """
    return {m.group("name").rsplit(".", 1)[-1].strip("<>") for m in _MAP_FUNC.finditer(text or "")}
