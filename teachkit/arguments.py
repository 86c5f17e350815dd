"""Checks of the arguments of the kit's public functions, done before anything starts.

Each check returns the value in its plain form (``int``, ``float``, ``bool``,
``str``) or raises :class:`~teachkit.errors.ArgumentError` with one sentence
naming the argument, the value given and what to pass instead.  ``True`` and
``False`` are never counts or numbers here (Python lets ``True`` pass as ``1``;
a learner who writes ``workers=True`` meant something else).

>>> count("workers", 3)
3
>>> count("workers", True)
Traceback (most recent call last):
...
teachkit.errors.ArgumentError: workers=True is a yes/no value, not a count: pass a whole number such as 3.
"""

from __future__ import annotations

import math
import operator
import os
from typing import Any

from teachkit.errors import ArgumentError


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"  # numpy's bool too


def count(name: str, value: Any, *, minimum: int = 1, maximum: int | None = None, why: str = "",
          example: int = 3) -> int:
    """A whole number between ``minimum`` and ``maximum``; ``why`` says why the maximum is what it is."""
    if _is_bool(value):
        raise ArgumentError(f"{name}={value!r} is a yes/no value, not a count: pass a whole number such as {example}.")
    try:
        number = operator.index(value)  # int, numpy integers; not 2.0 or "2"
    except TypeError:
        raise ArgumentError(f"{name}={value!r} is not a whole number: pass one such as {example}.") from None
    if number < minimum:
        raise ArgumentError(f"{name}={number!r} is too small: pass a whole number of at least {minimum}.")
    if maximum is not None and number > maximum:
        raise ArgumentError(f"{name}={number!r} is too large: {why or f'the most is {maximum}'}.")
    return number


def number(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
           above: bool = False, example: float = 1.0, unit: str = "") -> float:
    """A finite real number, at least ``minimum`` (strictly above it with ``above``) and at most ``maximum``."""
    unit = f" {unit}" if unit else ""
    if _is_bool(value) or isinstance(value, (str, bytes)):
        raise ArgumentError(f"{name}={value!r} is not a number: pass one such as {example:g}{unit}.")
    try:
        real = float(value)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name}={value!r} is not a number: pass one such as {example:g}{unit}.") from None
    if not math.isfinite(real):
        raise ArgumentError(f"{name}={value!r} is not a finite number: pass one such as {example:g}{unit}.")
    if minimum is not None and (real <= minimum if above else real < minimum):
        bound = f"more than {minimum:g}" if above else f"at least {minimum:g}"
        raise ArgumentError(f"{name}={value!r} is too small: pass a number {bound}{unit}.")
    if maximum is not None and real > maximum:
        raise ArgumentError(f"{name}={value!r} is too large: pass a number of at most {maximum:g}{unit}.")
    return real


def flag(name: str, value: Any) -> bool:
    """``True`` or ``False`` (numbers and strings such as ``"no"`` are refused: ``bool("no")`` is true)."""
    if not _is_bool(value):
        raise ArgumentError(f"{name}={value!r} is not a yes/no value: pass True or False.")
    return bool(value)


def text(name: str, value: Any, *, example: str = "") -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        hint = f" such as {example!r}" if example else ""
        raise ArgumentError(f"{name}={value!r} is not a usable name: pass a non-empty string{hint}.")
    return value


def path(name: str, value: Any, *, example: str = "run.json.gz") -> str | os.PathLike:
    """A file system path (``str`` or ``os.PathLike``), not empty."""
    if isinstance(value, os.PathLike):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(f"{name}={value!r} is not a file path: pass a string or a pathlib.Path such as "
                            f"{example!r}.")
    return value
