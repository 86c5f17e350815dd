"""Where the kit's messages and dask's log lines go.

- :func:`say` prints one ``teachkit: ...`` line where the learner sees it, from
  any thread (a kill or a stalled job is noticed in the scheduler's thread).
- Dask's own log lines (in this process and in every worker process) go to a
  log file in a temporary folder, one per local cluster, instead of filling the
  notebook with tracebacks when a worker dies on purpose.  The folder is removed
  when the cluster closes (and, for any left, when the interpreter exits).
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

#: How every log line is written (in this process and in the worker processes).
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
#: Prefix of the temporary folders holding the clusters' log files.
LOG_DIR_PREFIX = "teachkit-logs-"
QUIET_PLUGIN_NAME = "teachkit-quiet"

_log_dirs: set[Path] = set()


def say(line: str) -> None:
    """Print one line where the learner sees it, from any thread.

    Work noticed in the scheduler's event-loop thread (a kill, a stalled job)
    runs in a context that still names the cell that started the cluster;
    Jupyter's kernel (ipykernel 7) routes output by that context, so a plain
    ``print`` lands in a finished cell and is lost.  In an empty context the
    kernel falls back to the cell running now.  Outside Jupyter it is ``print``.
    """
    contextvars.Context().run(print, line, file=sys.stdout, flush=True)


def make_log_dir() -> Path:
    """A new temporary folder for one cluster's log file (removed by :func:`remove_log_dir` or at exit)."""
    folder = Path(tempfile.mkdtemp(prefix=LOG_DIR_PREFIX))
    _log_dirs.add(folder)
    return folder


def remove_log_dir(folder: Path | None) -> None:
    """Remove a folder made by :func:`make_log_dir` (never anything else)."""
    if folder is None or folder not in _log_dirs:
        return
    _log_dirs.discard(folder)
    shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def _remove_all_at_exit() -> None:
    for folder in list(_log_dirs):
        remove_log_dir(folder)


def route_logging(path: Path) -> list:
    """Send the in-process ``distributed`` and ``tornado`` logs to ``path``.

    Returns what :func:`restore_logging` needs to undo it.
    """
    handler = logging.FileHandler(path, delay=True)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    saved = []
    for name in ("distributed", "tornado"):
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.propagate))
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.addHandler(handler)
        logger.propagate = False
    return saved


def restore_logging(saved: list) -> None:
    """Undo :func:`route_logging` (and close its file)."""
    for logger, handlers, propagate in saved:
        for h in list(logger.handlers):
            logger.removeHandler(h)
            if isinstance(h, logging.FileHandler):
                h.close()
        for h in handlers:
            logger.addHandler(h)
        logger.propagate = propagate


class _QuietLogs(WorkerPlugin):
    """In each worker process, send ``distributed`` log lines to a file instead of stderr.

    Worker processes inherit the notebook's stderr; ipykernel forwards it into
    the notebook, so without this a killed peer shows up as tracebacks there.
    """

    idempotent = True

    def __init__(self, path: str) -> None:
        self.path = path

    def setup(self, worker) -> None:
        try:
            handler = logging.FileHandler(self.path)
        except OSError:  # the cluster is closing and its log folder is gone: nothing to route
            return
        handler.setFormatter(logging.Formatter(f"%(asctime)s [{worker.address}] %(name)s %(levelname)s %(message)s"))
        for name in ("distributed", "tornado"):
            logger = logging.getLogger(name)
            for h in list(logger.handlers):
                if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
                    logger.removeHandler(h)
            logger.addHandler(handler)
            logger.propagate = False


def quiet_workers(client: Any, path: Path) -> None:
    """Route every worker process's dask logs to ``path`` (also future and restarted workers).

    Never fails: workers restarting at that moment (e.g. out of memory) can break the
    broadcast, and quieter logs are not worth a cluster that does not start.
    """
    try:
        client.register_plugin(_QuietLogs(str(path)), name=QUIET_PLUGIN_NAME)
    except Exception:
        pass
