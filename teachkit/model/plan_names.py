"""Readable job names from dask-expr expressions, e.g. ``"groupby count"``."""

from __future__ import annotations

import re
from typing import Any

_SKIP = {"FinalizeCompute", "FinalizeComputeDF", "Fused", "ArrowStringConversion", "Repartition"}


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
        if cls not in _SKIP and kids:  # leaves are the data source
            word = _words(cls)
            if "groupby" in type(node).__module__ and not word.startswith("group"):
                word = f"groupby {word}"
            names.append(word)
        node = kids[0] if kids else None
    return " ← ".join(names) if names else _words(type(expr).__name__)
