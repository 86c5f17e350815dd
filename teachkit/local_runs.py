"""Jobs that ran on dask's local scheduler (in this process), not on the cluster, said in one line.

A recording sees only what the cluster's scheduler does.  Two slips run a job
beside it without a word: ``compute(scheduler="sync")`` (or ``"threads"``)
inside a ``record`` block, and any ``compute()`` after ``cluster.close()``
(dask falls back to threads in this process).  dask's local schedulers call
:class:`dask.callbacks.Callback` hooks (the distributed scheduler does not), so
a callback that fires *is* a job that ran outside the cluster.

- :class:`LocalRunWatch`: registered for the length of a record block; says so
  once per block and notes it in the recording.
- :func:`notice_after_close`: after the default cluster closes, the next
  ``compute()`` that falls back to local threads (no ``scheduler=`` given) says
  so, once.  Starting or connecting a cluster withdraws it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from dask.callbacks import Callback

from teachkit.logs import say

OUTSIDE_LINE = (
    "teachkit: a job ran on dask's local scheduler in this process, not on the cluster, so the recording does "
    "not show it: drop scheduler=... from compute() (and keep the cluster open until the block ends)."
)
AFTER_CLOSE_LINE = (
    "teachkit: the cluster is closed, so this job ran on dask's local threads in this process, not on workers: "
    "start a cluster again (teachkit.start_cluster()) to run jobs on workers."
)


class LocalRunWatch(Callback):
    """While registered, call ``react()`` once when a job runs on a local dask scheduler."""

    def __init__(self, react: Callable[[], None]) -> None:
        super().__init__()
        self.react = react
        self.seen = 0

    def _start(self, dsk: Any) -> None:
        self.seen += 1
        if self.seen == 1:
            try:
                self.react()
            except Exception:  # never break the learner's job
                pass


def _explicit_scheduler(max_depth: int = 40) -> bool:
    """Whether the running ``dask.compute`` was given a scheduler (argument or dask config)."""
    import dask

    if dask.config.get("scheduler", None):
        return True
    frame = sys._getframe(1)
    base = os.path.join("dask", "base.py")
    for _ in range(max_depth):
        if frame is None:
            break
        if frame.f_code.co_name == "compute" and frame.f_code.co_filename.endswith(base):
            return frame.f_locals.get("scheduler") is not None
        frame = frame.f_back
    return False


class _AfterClose(Callback):
    def _start(self, dsk: Any) -> None:
        if _explicit_scheduler():
            return
        forget_after_close()
        say(AFTER_CLOSE_LINE)


_after_close: _AfterClose | None = None


def notice_after_close() -> None:
    """Say once, on the next compute that falls back to local threads, that the cluster is closed."""
    global _after_close
    forget_after_close()
    _after_close = _AfterClose()
    _after_close.register()


def forget_after_close() -> None:
    """Withdraw :func:`notice_after_close` (a cluster runs again, or it has spoken)."""
    global _after_close
    if _after_close is not None:
        try:
            _after_close.unregister()
        except KeyError:
            pass
        _after_close = None
