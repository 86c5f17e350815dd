"""What replay mode changes in this process while a replay cluster is open: jobs compute here, with no worker.

In replay mode a record block's code runs for real in the notebook's process
(dask's local threaded scheduler), so that every result is right; the pictures
and checks read the shipped run.  Two things a lesson writes need a Dask
cluster to run as written, and :func:`local_jobs` makes them run here instead,
for as long as a replay cluster is open (``local_jobs(True)`` ...
``local_jobs(False)``):

- ``distributed.wait(kept)`` on a collection computed here (it holds no
  futures, and there is no client: dask's own ``wait`` raises "No clients
  found") returns at once; anything else goes to dask's own ``wait``.
- A **P2P shuffle** (``shuffle_method="p2p"``, or the ``dataframe.shuffle.method``
  setting) exchanges data between worker processes, which do not exist here:
  it runs as dask's task-based shuffle instead.  Both send every row to the
  output partition ``hash(key) mod partitions``, so the result, and what each
  output partition holds, are the same; the job's plan (which identifies its
  shipped run, :mod:`teachkit.runs`) is read before dask lowers it, so it still
  says P2P, and the replayed run shows the real P2P shuffle.
"""

from __future__ import annotations

from typing import Any

_ATTR = "_teachkit_original"


def local_jobs(on: bool) -> None:
    """Make ``distributed.wait`` and P2P shuffles work in this process (``on``), or put dask's own back."""
    _waits_in_place(on)
    _p2p_as_tasks(on)


def _waits_in_place(on: bool) -> None:
    import distributed
    import distributed.client as dc

    original = getattr(dc.wait, _ATTR, None)
    if on and original is None:
        dask_wait = dc.wait

        def wait(fs: Any, timeout: Any = None, return_when: str = "ALL_COMPLETED") -> Any:
            if not dc.futures_of(fs):
                try:
                    dc.default_client()
                except ValueError:
                    return dc.DoneAndNotDoneFutures(set(), set())
            return dask_wait(fs, timeout=timeout, return_when=return_when)

        setattr(wait, _ATTR, dask_wait)
        wait.__doc__ = dask_wait.__doc__
        dc.wait = distributed.wait = wait
    elif not on and original is not None:
        dc.wait = distributed.wait = original


def _p2p_as_tasks(on: bool) -> None:
    """Lower a P2P shuffle (a dataframe shuffle, or a merge's hash join) as a task-based shuffle, or undo it."""
    try:
        from dask.dataframe.dask_expr._merge import Merge
        from dask.dataframe.dask_expr._shuffle import Shuffle
    except ImportError:  # pragma: no cover - another dask: nothing to change where we look
        return
    for cls, operand in ((Shuffle, "method"), (Merge, "shuffle_method")):
        original = cls.__dict__.get(_ATTR)
        if on and original is None:
            setattr(cls, _ATTR, cls.__dict__["_lower"])
            cls._lower = _lowered_as_tasks(cls.__dict__["_lower"], operand)
        elif not on and original is not None:
            cls._lower = original
            delattr(cls, _ATTR)


def _lowered_as_tasks(lower: Any, operand: str) -> Any:
    def _lower(self: Any) -> Any:
        from dask.utils import get_default_shuffle_method

        method = self.operand(operand) if operand in self._parameters else None
        if method == "p2p" or (method is None and get_default_shuffle_method() == "p2p"):
            return self.substitute_parameters({operand: "tasks"})
        return lower(self)

    return _lower
