"""The shape of a recording's events, checked once when a recording is loaded.

Everything the model and the views read from an event is listed here, per
kind (the record layer's ``events`` module says what each means).  A recording
that passes :func:`first_problem` can be summarised and drawn without a raw
``KeyError`` or ``TypeError``; one that does not is refused with one sentence
naming the first bad event.  :func:`out_of_order` finds events that are not in
time order (an edited or merged file), which the loader sorts and says so.

Pure: no dask, no I/O; imports only the event types.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


Check = Callable[[Any], bool]


def _num(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


def _int(v: Any) -> bool:
    return type(v) is int


def _str(v: Any) -> bool:
    return type(v) is str


def _opt(check: Check) -> Check:
    return lambda v: v is None or check(v)


def _list(check: Check) -> Check:
    return lambda v: type(v) is list and all(check(x) for x in v)


def _dict(check: Check) -> Check:
    return lambda v: type(v) is dict and all(type(k) is str and check(x) for k, x in v.items())


def _pair(v: Any) -> bool:
    return type(v) is list and len(v) == 2 and _num(v[0]) and _num(v[1])


def _fetch(v: Any) -> bool:
    return type(v) is dict and _num(v.get("start")) and _num(v.get("stop")) and _opt(_str)(v.get("from"))


_TASK_FIELDS: tuple[tuple[str, Check, str], ...] = (
    ("key", _str, "a string"),
    ("group", _str, "a string"),
    ("prefix", _str, "a string"),
    ("index", _opt(_int), "a whole number or null"),
    ("deps", _list(_str), "a list of key strings"),
)

# kind -> (field, check, what it must be, required?)
_FIELDS: dict[str, tuple[tuple[str, Check, str, bool], ...]] = {
    "graph": (
        ("keys", _list(_str), "a list of key strings", True),
        ("tasks", lambda v: type(v) is list, "a list of tasks", True),
        ("span", _list(_str), "a list of strings", False),
        ("job", _int, "a whole number", False),
    ),
    "tr": (
        ("key", _str, "a string", True),
        ("start", _str, "a state name", True),
        ("finish", _str, "a state name", True),
        ("stimulus", _str, "a string", True),
        ("worker", _opt(_str), "an address", False),
        ("thread", _int, "a whole number", False),
        ("nbytes", _opt(_int), "a whole number", False),
        ("compute", _pair, "a [start, stop] pair of numbers", False),
        ("fetch", _list(_fetch), "a list of {from, start, stop}", False),
        ("error", _opt(_str), "a string", False),
    ),
    "worker-present": (
        ("worker", _str, "an address", True),
        ("nthreads", lambda v: _int(v) and v >= 1, "a whole number of at least 1", False),
    ),
    "worker-removed": (
        ("worker", _str, "an address", True),
        ("cause", _opt(_str), "a string", False),
        ("stimulus", _opt(_str), "a string", False),
    ),
    "steal": (
        ("key", _str, "a string", True),
        ("victim", _str, "an address", True),
        ("thief", _str, "an address", True),
        ("outcome", _str, "a string", True),
    ),
    "fetch": (
        ("worker", _str, "an address", True),
        ("source", _str, "an address", True),
        ("start", _num, "a number", True),
        ("stop", _num, "a number", True),
        ("keys", _dict(_int), "a {key: bytes} mapping", True),
        ("nbytes", _int, "a whole number", False),
    ),
    "p2p": (
        ("shuffle", _str, "a string", True),
        ("source", _str, "an address", True),
        ("dest", _str, "an address", True),
        ("nbytes", _int, "a whole number", True),
        ("partitions", _dict(_int), "a {partition: bytes} mapping", True),
    ),
    "plan": (
        ("keys", _list(_str), "a list of key strings", False),
        ("logical", _opt(_str), "text", False),
        ("optimized", _opt(_str), "text", False),
        ("name", _opt(_str), "text", False),
        ("action", _opt(_str), "text", False),
    ),
    "warning": (
        ("where", _str, "text", True),
        ("message", _str, "text", True),
    ),
    "fault": (
        ("action", _str, "text", True),
        ("worker", _str, "an address", True),
        ("pid", _opt(_int), "a whole number", False),
        ("when", _opt(_str), "text", False),
        ("running", _list(_str), "a list of key strings", False),
        ("held", _list(_str), "a list of key strings", False),
    ),
}
_FIELDS["worker-added"] = _FIELDS["worker-present"]

#: Every event kind of the current schema.
KINDS = tuple(sorted(_FIELDS))


def _label(i: int, event: dict) -> str:
    return f"event {i} (a {event['kind']!r} event)"


def _plain_task(task: Any) -> bool:
    """A graph task with exactly its five fields, well-formed (checked fast)."""
    if type(task) is not dict or len(task) != 5:
        return False
    index, deps = task.get("index"), task.get("deps")
    return (type(task.get("key")) is str and type(task.get("group")) is str and type(task.get("prefix")) is str
            and (index is None or type(index) is int) and type(deps) is list
            and all(type(d) is str for d in deps))


def _graph_problem(i: int, event: dict) -> str | None:
    for j, task in enumerate(event["tasks"]):
        if _plain_task(task):
            continue
        if type(task) is not dict:
            return f"{_label(i, event)}: task {j} is not an object"
        for name, check, what in _TASK_FIELDS:
            if name not in task:
                return f"{_label(i, event)}: task {j} has no {name!r} field"
            if not check(task[name]):
                return f"{_label(i, event)}: task {j}'s {name!r} is {task[name]!r}, not {what}"
    return None


def event_problem(i: int, event: Any) -> str | None:
    """What is wrong with event number ``i``, in a few words, or ``None``."""
    if type(event) is not dict:
        return f"event {i} is not an object (it is {type(event).__name__})"
    kind = event.get("kind")
    if type(kind) is not str:
        return f"event {i} has no kind" if kind is None else f"event {i}'s kind is {kind!r}, not a string"
    fields = _FIELDS.get(kind)
    if fields is None:
        return f"event {i} has an unknown kind {kind!r} (known: {', '.join(KINDS)})"
    if "t" not in event:
        return f"{_label(i, event)} has no time 't'"
    if not _num(event["t"]):
        return f"{_label(i, event)}: its time 't' is {event['t']!r}, not a number"
    for name, check, what, required in fields:
        if name not in event:
            if required:
                return f"{_label(i, event)} has no {name!r} field"
            continue
        if not check(event[name]):
            value = repr(event[name])
            value = value if len(value) <= 40 else value[:37] + "..."
            return f"{_label(i, event)}: its {name!r} is {value}, not {what}"
    if kind == "graph":
        return _graph_problem(i, event)
    return None


def _plain_transition(event: Any) -> bool:
    """The common case, checked fast: a state change with only the required fields, all well-formed."""
    return (type(event) is dict and len(event) == 6 and event.get("kind") == "tr" and _num(event.get("t"))
            and type(event.get("key")) is str and type(event.get("start")) is str
            and type(event.get("finish")) is str and type(event.get("stimulus")) is str)


def first_problem(events: Any) -> str | None:
    """The first thing wrong with a recording's event list, or ``None`` when every event has its shape."""
    if type(events) is not list:
        return f"its events are {type(events).__name__}, not a list"
    for i, event in enumerate(events):
        if _plain_transition(event):  # most events of a run: skip the field-by-field walk
            continue
        problem = event_problem(i, event)
        if problem is not None:
            return problem
    return None


def meta_problem(meta: Any) -> str | None:
    """What is wrong with a recording's ``meta``, or ``None``."""
    if type(meta) is not dict:
        return f"its meta is {type(meta).__name__}, not an object"
    if "t0" in meta and not _num(meta["t0"]):
        return f"its meta 't0' is {meta['t0']!r}, not a number"
    return None


def out_of_order(events: list[dict]) -> int | None:
    """The index of the first event earlier than the one before it, or ``None`` when in time order."""
    previous = -math.inf
    for i, event in enumerate(events):
        t = event["t"]
        if t < previous:
            return i
        previous = t
    return None
