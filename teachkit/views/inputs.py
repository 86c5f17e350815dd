"""What the views accept, checked before anything is drawn: a job or a recording, a moment, partitions, choices.

Every public view (and every drawing method of ``Job``, ``Recording`` and
``Stage``) passes its arguments through here, so a slip gets one sentence
(:class:`~teachkit.errors.ArgumentError`, naming the value and what to pass)
instead of a raw ``TypeError`` deep in the drawing, or a picture of nothing.
Jobs are found the way :meth:`teachkit.Recording.job` finds them: by number,
by name, or as a ``Job`` of that very recording.

>>> import teachkit
>>> rec = teachkit.Recording.load(teachkit.example_path("groupby"))
>>> moment("at", "now", rec)
Traceback (most recent call last):
...
teachkit.errors.ArgumentError: at='now' is not a number: pass seconds since the recording started, such as 0.5 (or leave it out for the end of the job).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from teachkit.errors import ArgumentError
from teachkit.model.job import Job
from teachkit.model.recording import Recording


def what(value: Any) -> str:
    """A short, readable name for a value a learner passed (``None``, ``'text'``, ``a dict`` ...)."""
    if value is None or isinstance(value, (bool, numbers.Number)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, Job):
        return f"the job {value.name!r}"
    if isinstance(value, Recording):
        return "a recording"
    article = "an" if type(value).__name__[:1].lower() in "aeiou" else "a"
    return f"{article} {type(value).__name__}"


def job_or_recording(obj: Any, view: str) -> Job | Recording:
    """``obj`` when it is a Job or a Recording; anything else: one sentence saying what to pass."""
    if isinstance(obj, (Job, Recording)):
        return obj
    raise ArgumentError(f"{view} needs a job or a recording, not {what(obj)}: pass rec.job() (one job) or rec (a "
                        "recording: its last job is drawn).")


def recording_of(obj: Any, view: str) -> Recording:
    """The recording of ``obj`` (a Recording, or a Job that belongs to one); anything else: one sentence."""
    if isinstance(obj, Recording):
        return obj
    if isinstance(obj, Job) and isinstance(obj.recording, Recording):
        return obj.recording
    raise ArgumentError(f"{view} needs a recording, not {what(obj)}: pass the rec of `with teachkit.record(cluster) "
                        "as rec:` or teachkit.Recording.load(path).")


def pick_job(rec: Recording, job: Any) -> Job:
    """``rec``'s job by number, name or object (:meth:`teachkit.Recording.job`), the last one for ``None``."""
    return rec.job(-1 if job is None else job)


def moment(name: str, value: Any, rec: Recording | None = None) -> float | None:
    """Seconds since the recording started (``None`` stays ``None``): a finite number, not before the start."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"{name}={what(value)} is not a number: pass seconds since the recording started, such as "
                            "0.5 (or leave it out for the end of the job).")
    t = float(value)
    if not math.isfinite(t):
        raise ArgumentError(f"{name}={value!r} is not a finite number: pass seconds since the recording started, such "
                            "as 0.5.")
    if t < 0:
        end = f", from 0 to {rec.end:.2f} s" if rec is not None else ""
        raise ArgumentError(f"{name}={value!r} is before the recording started: pass seconds since its start{end}.")
    return t


def partitions(value: Any) -> set[int] | None:
    """Partition numbers to draw: a list, tuple, set or range of whole numbers (``None``: the default)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
        shape = ("a number" if isinstance(value, numbers.Number) else "text" if isinstance(value, (str, bytes))
                 else what(value))
        raise ArgumentError(f"partitions={value!r} is {shape}, not a list: pass the partitions to draw, such as "
                            f"[0, 1, 2] or range({value if isinstance(value, int) and value > 0 else 5}).")
    out = set()
    for p in value:
        if isinstance(p, bool) or not isinstance(p, numbers.Integral) or p < 0:
            raise ArgumentError(f"partitions= holds {what(p)}, which is not a partition number: pass whole numbers "
                                "from 0, such as [0, 1, 2].")
        out.add(int(p))
    return out


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """One of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        options = " or ".join(repr(a) for a in allowed)
        raise ArgumentError(f"{name}={what(value)} is not one of the choices: pass {options}.")
    return value


def whole(name: str, value: Any, minimum: int, maximum: int, example: int) -> int:
    """A whole number from ``minimum`` to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not minimum <= value <= maximum:
        raise ArgumentError(f"{name}={what(value)} is not usable: pass a whole number from {minimum:,} to "
                            f"{maximum:,}, such as {example}.")
    return int(value)


def real(name: str, value: Any, minimum: float, maximum: float, example: float) -> float:
    """A finite number from ``minimum`` to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not minimum <= float(value) <= maximum:
        raise ArgumentError(f"{name}={what(value)} is not usable: pass a number from {minimum:g} to {maximum:g}, such "
                            f"as {example:g}.")
    return float(value)


def yes_no(name: str, value: Any) -> bool:
    """``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ArgumentError(f"{name}={what(value)} is not a yes/no value: pass True or False.")
    return value


def element_id(value: Any) -> str:
    """An id prefix for SVG elements: letters and digits, starting with a letter."""
    if not isinstance(value, str) or not value[:1].isalpha() or not value.isalnum() or not value.isascii():
        raise ArgumentError(f"id_prefix={what(value)} is not usable: pass letters and digits starting with a letter, "
                            "such as 'tk'.")
    return value


def timeline_arguments(cursor: Any, width: Any, transfers: Any, id_prefix: Any, max_bars: Any) -> tuple:
    """The timeline's arguments, checked (the cursor's range is checked against the job once it is known)."""
    return (moment("cursor", cursor), whole("width", width, 200, 20_000, 1000), yes_no("transfers", transfers),
            element_id(id_prefix), whole("max_bars", max_bars, 1, 1_000_000, 2000))
