"""What a ``record`` block watches besides the recorder: the cluster closing, and jobs run beside it.

- ``cluster.close()`` inside the block would lose the scheduler's events (its
  recorder goes with it): the block registers a hook that the
  :class:`~teachkit.cluster.Cluster` runs first, which ends the recording
  there, with every event so far, and says so in one line.
- A job that runs on dask's local scheduler (``compute(scheduler="sync")``)
  never reaches the cluster, so the recording cannot show it: one line, and a
  warning in the recording (see :mod:`teachkit.local_runs`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from teachkit.local_runs import OUTSIDE_LINE, LocalRunWatch
from teachkit.logs import say


def guard_block(session: Any, target: Any) -> list[Callable[[], Any]]:
    """Set up the watches of one block; returns what undoes them (called when the block ends).

    ``session`` is the block's ``teachkit.session._Session`` (``stop``, ``warn``,
    ``client``); ``target`` is what was passed to ``record``.
    """
    from teachkit import cluster as cluster_mod

    undo: list[Callable[[], Any]] = []
    owner = target if isinstance(target, cluster_mod.Cluster) else cluster_mod.current()
    if owner is not None and owner.client is session.client:

        def closing() -> None:  # cluster.close() inside the block: end the recording first
            session.stop(wait=False, why="the cluster was closed inside the record block")

        owner.before_close.append(closing)
        undo.append(lambda: closing in owner.before_close and owner.before_close.remove(closing))

    def outside() -> None:
        session.warn("outside the cluster", OUTSIDE_LINE.removeprefix("teachkit: "))
        say(OUTSIDE_LINE)

    watch = LocalRunWatch(outside)
    watch.register()
    undo.append(watch.unregister)
    return undo
