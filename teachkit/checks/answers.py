"""Reading a learner's answer: the kind each question wants, or one sentence saying so.

Each reader returns the answer as the question needs it, or raises
:class:`~teachkit.checks.feedback.Reply`: ``...`` (the exercise's blank) is "your
turn"; anything else of the wrong kind is "not yet", naming what was given and
what is wanted.  ``True`` is not 1, ``'12'`` is not ``[1, 2]``, ``2.0`` is not a
whole number of tasks.  No message here contains a number from the truth.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

from teachkit.checks.feedback import Reply


def kind(value: Any) -> str:
    """A learner-friendly name for the kind of ``value`` (``"text ('12')"``, ``"a recording"``...)."""
    from teachkit.model.jobs import Job
    from teachkit.model.recording import Recording

    if value is None:
        return "None (nothing: did a function return no value?)"
    if isinstance(value, bool):
        return f"{value} (True/False)"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"text ({shown!r})"
    if isinstance(value, Recording):
        return "a recording"
    if isinstance(value, Job):
        return "a job (one job of a recording)"
    if isinstance(value, numbers.Integral):
        return f"the whole number {int(value)}"
    if isinstance(value, numbers.Real):
        return f"the decimal number {float(value)!r}"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, (list, tuple, set, frozenset)):
        return f"a {type(value).__name__} of {len(value)} item{'s' * (len(value) != 1)}"
    if value is ...:
        return "... (the blank)"
    module = type(value).__module__.split(".")[0]
    if module in ("dask", "pandas", "numpy", "distributed"):
        return f"a {module} {type(value).__name__}"
    return f"a {type(value).__name__}"


def unanswered(answer: Any, what: str) -> None:
    """Raise "your turn" when ``answer`` is still the exercise's blank (``...``)."""
    if answer is ...:
        raise Reply(None, f"replace ... with {what}, then run the cell")


def whole_number(answer: Any, what: str) -> int:
    """``answer`` as a count (0 or more); ``what`` names it, e.g. ``"the number of stages"``."""
    unanswered(answer, what)
    if isinstance(answer, numbers.Integral) and not isinstance(answer, bool):
        n = int(answer)
        if n < 0:
            raise Reply(False, f"{n} is negative, but {what} is 0 or more")
        return n
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool) and not math.isfinite(float(answer)):
        raise Reply(False, f"you gave {kind(answer)}; {what} is a whole number")
    if isinstance(answer, bool):
        raise Reply(False, f"you gave {answer}, which is True/False, not a number: give {what} as a whole number")
    if isinstance(answer, str):
        raise Reply(False, f"you gave {kind(answer)}, which is text: give {what} as a whole number, without quotes")
    if isinstance(answer, numbers.Real):
        raise Reply(False, f"you gave {kind(answer)}; {what} is a whole number (an int, not a decimal)")
    raise Reply(False, f"you gave {kind(answer)}, but this question wants {what} as one whole number (an int)")


def amount(answer: Any, what: str) -> float:
    """``answer`` as a real amount (an int or a finite decimal, 0 or more)."""
    unanswered(answer, what)
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
        x = float(answer)
        if not math.isfinite(x):
            raise Reply(False, f"you gave {kind(answer)}; {what} is a finite number")
        if x < 0:
            raise Reply(False, f"{answer!r} is negative, but {what} is 0 or more")
        return x
    raise Reply(False, f"you gave {kind(answer)}, but this question wants {what} as a number (not text, "
                       "not a list, not True/False)")


def whole_numbers(answer: Any, what: str) -> list[int]:
    """``answer`` as a list of counts (a list or tuple of whole numbers; a 1-D integer array also works)."""
    unanswered(answer, what)
    items = answer.tolist() if _is_int_array(answer) else answer
    if isinstance(items, str):
        raise Reply(False, f"you gave {kind(answer)}, which is text, not a list: give {what} as a Python list "
                           "of whole numbers in square brackets, such as [a, b]")
    if not isinstance(items, (list, tuple)):
        raise Reply(False, f"you gave {kind(answer)}, but this question wants {what} as a list of whole numbers, "
                           "e.g. [a, b]")
    if not items:
        raise Reply(False, f"you gave an empty list; give {what}, one whole number each")
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise Reply(False, f"your list holds {kind(item)}; give {what} as whole numbers only")
        if item < 0:
            raise Reply(False, f"your list holds the negative number {int(item)}; counts are 0 or more")
        out.append(int(item))
    return out


def number_set(answer: Any, what: str) -> set[int]:
    """``answer`` as a set of whole numbers (a list, tuple or set; order and repeats do not matter)."""
    unanswered(answer, what)
    if isinstance(answer, (set, frozenset)):
        answer = sorted(answer, key=repr)
    if isinstance(answer, (list, tuple)) and not answer:
        return set()
    return set(whole_numbers(answer, what))


def worker_name(answer: Any, names: list[str], what: str = "a worker's name") -> str:
    """``answer`` as the name of one of ``names`` (``'worker-2'``; case and spaces around it do not matter)."""
    unanswered(answer, f"{what} as text, such as 'worker-N'")
    if isinstance(answer, (list, tuple, set)) and len(answer) == 1 and isinstance(next(iter(answer)), str):
        raise Reply(False, "you gave a list holding one name; give the name itself, as text such as 'worker-N'")
    if not isinstance(answer, str):
        raise Reply(False, f"you gave {kind(answer)}, but this question wants {what} as text, such as 'worker-N' "
                           "(with the quotes)")
    name = answer.strip().lower()
    if name not in names:
        raise Reply(False, f"there is no worker {answer!r} in this run; its workers were {', '.join(names)}")
    return name


def worker_names(answer: Any, names: list[str], what: str) -> set[str]:
    """One name, or a list of names (when the question may have several)."""
    unanswered(answer, f"{what} as text, such as 'worker-N'")
    items = [answer] if isinstance(answer, str) else answer
    if not isinstance(items, (list, tuple, set)) or not items:
        raise Reply(False, f"you gave {kind(answer)}, but this question wants {what} as text such as 'worker-N' "
                           "(or a list of names)")
    return {worker_name(item, names, what) for item in items}


_UNITS = {"b": 1, "byte": 1, "bytes": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3}
_BYTES = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e([+-]?[0-9]+))?\s*([a-z]+)\s*$", re.I)


def byte_amount(answer: Any, what: str = "the number of bytes") -> float:
    """``answer`` as bytes: a number of bytes, or text with a unit (``'40 KiB'``, ``'3.1 MB'``)."""
    unanswered(answer, f"{what} (a number of bytes, or text with a unit such as 'KiB' or 'MB')")
    if isinstance(answer, str):
        m = _BYTES.match(answer)
        if m is None or m.group(3).lower() not in _UNITS:
            raise Reply(False, f"you gave {kind(answer)}; give {what} as a number of bytes (no quotes) or as text "
                               "with a unit: B, KiB, MiB, GiB (1024-based) or kB, MB, GB (1000-based)")
        value = float(m.group(1)) * 10 ** int(m.group(2) or 0) * _UNITS[m.group(3).lower()]
        if not math.isfinite(value):
            raise Reply(False, f"{answer!r} is too large to be a number of bytes")
        return value
    return amount(answer, f"{what} (in bytes)")


def _is_int_array(value: Any) -> bool:
    dtype = getattr(value, "dtype", None)
    return getattr(value, "ndim", None) == 1 and getattr(dtype, "kind", "") in ("i", "u") and hasattr(value, "tolist")
