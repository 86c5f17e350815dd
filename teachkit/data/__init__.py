"""Small saved recordings shipped with teachkit (made by ``tools/make_examples.py``)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent


def examples() -> list[str]:
    """Names of the shipped recordings, e.g. ``["groupby", ...]``."""
    return sorted(p.name[: -len(".json.gz")] for p in _HERE.glob("*.json.gz"))


def example_path(name: str) -> Path:
    """Path of a shipped recording, for :meth:`teachkit.Recording.load`.

    Raises
    ------
    LookupError
        When there is no such example; the message lists the ones there are.
    """
    path = _HERE / f"{name}.json.gz"
    if not path.exists():
        raise LookupError(f"There is no example recording {name!r}; the examples are: {', '.join(examples())}.")
    return path
