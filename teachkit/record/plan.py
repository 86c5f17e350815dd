"""The client's plan of each job, noted at submission time: logical and optimised expressions, a name, the action.

This runs on the client, on live dask-expr expressions, while a job is being
submitted (:mod:`teachkit.session` wraps the client's graph submission): it is
part of recording, like the scheduler and worker recorders.  What it notes is a
plain ``plan`` event (:class:`teachkit.record.events.PlanEvent`); nothing here
is needed to replay a saved recording.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from teachkit.record.dask_names import ACTION_FUNCTIONS, EXPR_UNNAMED, EXPR_WRAPPERS
from teachkit.record.events import PlanEvent, key_str


def plan_event(expr: Any, keys: Any, t: float) -> PlanEvent:
    """The client-side plan of one job: logical (as written) and optimised expressions.

    ``expr`` is what the client submits, ``keys`` its output keys, ``t`` the
    time on the scheduler's clock; the collections as the user wrote them are
    found up the caller's stack (see :func:`logical_exprs`).
    """
    exprs, action = logical_exprs()
    logical = "\n".join(filter(None, (tree_text(e) for e in exprs))) or None
    optimized = "\n".join(filter(None, (tree_text(e) for e in unwrap(expr)))) or None
    return {
        "kind": "plan",
        "t": t,
        "keys": [key_str(k) for k in keys],
        "logical": logical,
        "optimized": optimized,
        "name": plan_name(exprs[0]) if exprs else None,
        "action": action,
    }


def unwrap(expr: Any) -> list:
    """The collections' expressions inside dask's wrappers (FinalizeCompute, _ExprSequence)."""
    if type(expr).__name__ in EXPR_WRAPPERS and getattr(expr, "operands", None):
        return [inner for op in expr.operands for inner in unwrap(op)]
    return [expr]


def logical_exprs(depth: int = 2, max_depth: int = 25) -> tuple[list, str | None]:
    """Find the collections being computed, and the action, in the calling frames.

    The search starts ``depth`` frames up from here (2: the caller of the
    function that calls this one).

    ``dask.compute``/``dask.persist`` and the Client's ``compute``/``persist`` hold
    the collections in a local named ``collections``; the innermost of those
    functions names the action (``"compute"`` sends results to the client,
    ``"persist"`` keeps them on the workers).
    """
    frame = sys._getframe(depth)
    action = None
    exprs: list = []
    for _ in range(max_depth):
        if frame is None:
            break
        name = frame.f_code.co_name
        if action is None and name in ACTION_FUNCTIONS:
            action = name
        colls = frame.f_locals.get("collections")
        if not exprs and isinstance(colls, (list, tuple)) and colls and all(hasattr(c, "expr") for c in colls):
            exprs = [c.expr for c in colls]
        if exprs and action:
            break
        frame = frame.f_back
    return exprs, action


def tree_text(expr: Any) -> str | None:
    """dask-expr's own indented text of an expression (``None`` if it has none)."""
    try:
        lines = expr._tree_repr_lines()
        return lines if isinstance(lines, str) else "\n".join(lines)
    except Exception:
        return None


def plan_name(expr: Any) -> str | None:
    """A readable job name from the expression, e.g. ``"groupby count"`` (``None`` if it cannot be read)."""
    try:
        return expr_name(expr)
    except Exception:
        return None


def _words(cls_name: str) -> str:
    """``SortValuesBlockwise`` -> ``sort values blockwise``; ``P2PShuffle`` -> ``p2p shuffle``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", cls_name).lower()


def expr_name(expr: Any, limit: int = 3) -> str:
    """Name a job after its outermost operations, innermost first.

    >>> class Leaf: operands = []
    >>> class Count: operands = [Leaf()]
    >>> expr_name(Count())
    'count'
    """
    names: list[str] = []
    node = expr
    while node is not None and len(names) < limit:
        cls = type(node).__name__
        kids = [op for op in getattr(node, "operands", []) if hasattr(op, "operands")]
        if cls not in EXPR_UNNAMED and kids:  # leaves are the data source
            word = _words(cls)
            if "groupby" in type(node).__module__ and not word.startswith("group"):
                word = f"groupby {word}"
            names.append(word)
        node = kids[0] if kids else None
    return " ← ".join(names) if names else _words(type(expr).__name__)
