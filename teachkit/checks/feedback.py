"""What a check answers: three states, one sentence, hints that grow with each miss, a result a grader can read.

Every public check is wrapped by :func:`check`, which guarantees four things:

- it **never raises**: a wrong kind of argument, a wrong recording or a bug in the
  check itself becomes a :class:`Feedback` (never ✔);
- a wrong answer gets a **hint, not the answer**: the check returns a :class:`Miss`
  (what was wrong, then hints from weakest to strongest) and the wrapper picks the
  hint for this miss, counting misses per question in this process;
- the feedback carries the check's name and its question (the job name, or
  ``question=``), so the grader can read it from the notebook's outputs
  (:data:`MIME`);
- with the environment variable ``TEACHKIT_CHECKS=raise`` a check that is not ✔
  raises :class:`CheckFailed` (with the same sentence), which is how nbgrader and
  otter-grader score a test cell (see ``docs/grading.md``).
"""

from __future__ import annotations

import functools
import html
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from teachkit.errors import TeachkitError

#: Mime type of the machine-readable result every check displays (read by ``teachkit grade``).
MIME = "application/vnd.teachkit.check+json"
_STATE = {True: "correct", False: "wrong", None: "unanswered"}
_MARK = {True: "✔ Correct:", False: "✘ Not yet:", None: "… Your turn:"}
_COLOUR = {True: "#1a7f37", False: "#b42318", None: "#555555"}


class CheckFailed(TeachkitError, AssertionError):  # noqa: N818 - a signal that a check found a wrong answer, not an error
    """Raised instead of returning a non-✔ feedback when ``TEACHKIT_CHECKS=raise`` (for nbgrader/otter)."""


@dataclass
class Feedback:
    """The result of a check: ``ok`` (True ✔, False ✘, None … not answered yet) and one sentence.

    Jupyter shows it as one coloured line; ``bool(feedback)`` is True only for ✔.
    """

    ok: bool | None
    message: str
    check: str | None = None
    question: str | None = None
    hint_level: int = 0  # 0: no hint given; 1, 2, 3: the hint for the 1st, 2nd, 3rd+ miss

    @property
    def state(self) -> str:
        """``"correct"``, ``"wrong"`` or ``"unanswered"``."""
        return _STATE[self.ok]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: what the grader reads from the notebook (under :data:`MIME`)."""
        return {"check": self.check, "question": self.question, "state": self.state,
                "message": self.message, "hint_level": self.hint_level}

    def __str__(self) -> str:
        return f"{_MARK[self.ok]} {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f'<div style="color:{_COLOUR[self.ok]};font-weight:bold">{html.escape(str(self))}</div>'

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_(), MIME: self.to_dict()}

    def __bool__(self) -> bool:
        return bool(self.ok)


class Reply(Exception):  # noqa: N818 - carries a reply out of a check, not an error
    """Raised inside a check body to answer at once (not answered, wrong kind of answer, wrong recording)."""

    def __init__(self, ok: bool | None, message: str) -> None:
        super().__init__(message)
        self.ok, self.message = ok, message


@dataclass
class Miss:
    """A wrong answer: ``lead`` says what was wrong (never the truth), ``hints`` go from weakest to strongest."""

    lead: str
    hints: list[str] = field(default_factory=list)

    def text(self, level: int) -> str:
        """The sentence for the ``level``-th miss (1-based; past the last hint, the strongest one)."""
        if not self.hints:
            return self.lead
        return f"{self.lead}; {self.hints[min(level, len(self.hints)) - 1]}"


# -- misses per question, in this process ------------------------------------------
_MISSES: dict[tuple, int] = {}


def reset_hints() -> None:
    """Forget every miss counted so far (the next miss gets the first hint again)."""
    _MISSES.clear()


def _ledger_key(name: str, bound: inspect.BoundArguments, question: str | None) -> tuple:
    if question is not None:
        return (name, str(question))
    params = [(k, repr(v)[:80]) for k, v in list(bound.arguments.items())[1:] if k != "answer"]
    return (name, tuple(params))


def check(func: Callable[..., Feedback | Miss]) -> Callable[..., Feedback]:
    """Make ``func`` a check: bind its arguments, never raise, pick hints, label the result.

    ``func`` returns a :class:`Feedback` (✔, or a sentence it chose) or a
    :class:`Miss`, or raises :class:`Reply`.  The wrapped check also accepts
    ``question="q3"`` to name the question in its result (default: the
    ``job`` argument, when it is a name).
    """
    name = func.__name__
    sig = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args: Any, question: str | None = None, **kwargs: Any) -> Feedback:
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            fb = Feedback(False, f"{name} was called with arguments it does not take ({exc}); "
                                 f"call it as in the exercise: {name}{_short_signature(sig)}")
            return _finish(fb, name, question)
        bound.apply_defaults()
        job = bound.arguments.get("job")
        label = question if question is not None else (job if isinstance(job, str) else None)
        try:
            result = func(*bound.args, **bound.kwargs)
        except Reply as reply:
            result = Feedback(reply.ok, reply.message)
        except Exception as exc:  # a bug in the check or a recording it cannot read: never a traceback
            result = Feedback(False, f"this check could not read what it was given ({type(exc).__name__}: "
                                     f"{str(exc)[:160]}); run the question's cells again, and ask your "
                                     "instructor if it stays")
        if isinstance(result, Miss):
            key = _ledger_key(name, bound, question)
            _MISSES[key] = _MISSES.get(key, 0) + 1
            result = Feedback(False, result.text(_MISSES[key]), hint_level=min(_MISSES[key], len(result.hints)))
        if not isinstance(result, Feedback):  # pragma: no cover - a check body must return one of the two
            result = Feedback(False, "this check gave no verdict; ask your instructor")
        return _finish(result, name, label)

    wrapper.is_check = True  # type: ignore[attr-defined]
    return wrapper


def _finish(fb: Feedback, name: str, label: str | None) -> Feedback:
    fb.check, fb.question = name, label
    fb.message = fb.message.strip()
    if fb.message and fb.message[-1] not in ".?!":
        fb.message += "."
    if fb.ok is not True and os.environ.get("TEACHKIT_CHECKS", "").lower() == "raise":
        raise CheckFailed(str(fb))
    return fb


def _short_signature(sig: inspect.Signature) -> str:
    parts = [p.name if p.default is inspect.Parameter.empty else f"{p.name}=..." for p in sig.parameters.values()]
    return "(" + ", ".join(parts) + ")"


def correct(message: str) -> Feedback:
    """A ✔ with its sentence."""
    return Feedback(True, message)
