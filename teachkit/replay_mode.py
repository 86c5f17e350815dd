"""Replay mode: every lesson runs with no worker process, from the shipped recordings of its runs.

The switch (one, documented in the README and in :mod:`teachkit`):

- ``TEACHKIT_REPLAY=1`` in the environment (or ``teachkit.replay(True)`` in a
  cell): :func:`teachkit.start_cluster` starts no worker process and returns a
  :class:`ReplayCluster`, which says so in one line;
- unset (the default), in a notebook: the same happens by itself when worker
  processes cannot start (a locked-down lab machine), the line saying why;
- ``TEACHKIT_REPLAY=0`` (or ``teachkit.replay(False)``): never; a cluster that
  cannot start is an error, as in a script;
- ``TEACHKIT_REPLAY=DIR`` (or ``teachkit.replay(DIR)``): replay, looking first
  in a folder of runs saved with ``TEACHKIT_SAVE_RUNS=DIR`` (an instructor's own
  rehearsal), then in the shipped ones.

``TEACHKIT_NO_WORKERS=1`` makes worker processes "unable to start" on purpose,
to rehearse the locked-down room (and to test that path).

In replay mode, ``with teachkit.record(cluster) as rec:`` runs the block's code
for real (dask computes on its local threaded scheduler, so every result is
right), notes the jobs it ran (their names and plans, :mod:`teachkit.runs`)
and fills ``rec`` with the shipped recording of the same jobs: every picture,
player and check reads that real run.  A block whose jobs have no shipped run
(a learner's own or changed job) says so in one line and yields an empty
recording: its views say so, and every check answers "… needs a live cluster".
Faults are replayed too: see :mod:`teachkit.replay_faults`.
"""

from __future__ import annotations

import contextlib
import html
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from teachkit import cluster as cluster_mod
from teachkit.cluster import Cluster
from teachkit.errors import ArgumentError, RecordingStartError, TeachkitError
from teachkit.logs import say
from teachkit.model.recording import Recording
from teachkit.replay_local import local_jobs

#: The environment variable of the switch: 1 (replay), 0 (never), a folder of saved runs, or unset (automatic).
REPLAY_ENV = "TEACHKIT_REPLAY"
#: Rehearse a machine where worker processes cannot start.
NO_WORKERS_ENV = "TEACHKIT_NO_WORKERS"
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

_setting: bool | Path | None = None  # teachkit.replay(...); None: the environment decides
_said = False  # the one line was printed in this process


class ReplayModeError(TeachkitError, RuntimeError):
    """Something needs a live cluster, and replay mode has none; the message says what and why."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this one line instead of a traceback
        return [f"{type(self).__name__}: {self}"]


class ReplayGapError(ReplayModeError, LookupError):
    """A record block in replay mode had no shipped run to replay; the message says why and what to do."""


class ReplayClient:
    """``cluster.client`` of a replay cluster: no Dask client runs; what a lesson waits for is there at once."""

    status = "running"

    def wait_for_workers(self, n_workers: int = 0, timeout: Any = None) -> None:
        """Return at once (the replayed run's workers are all there)."""

    def __getattr__(self, name: str) -> Any:
        hint = ": to load modules before the first job, call cluster.warm_up(...)" if name == "run" else ""
        raise ReplayModeError(f"Replay mode has no Dask client, so cluster.client.{name} needs a live cluster "
                              f"(where worker processes can start){hint}.")

    def __repr__(self) -> str:
        return "<teachkit ReplayClient: no Dask client in replay mode>"


# -- the switch ---------------------------------------------------------------------------------
def replay(on: bool | str | os.PathLike | None = True) -> None:
    """Turn replay mode on or off for this process (this overrides ``TEACHKIT_REPLAY``).

    Parameters
    ----------
    on : bool, path or None
        ``True``: replay the shipped recordings (no worker process starts);
        a folder: replay the runs saved there (``TEACHKIT_SAVE_RUNS=DIR``), then
        the shipped ones; ``False``: never replay, not even when worker
        processes cannot start; ``None``: back to ``TEACHKIT_REPLAY`` (unset:
        replay by itself in a notebook where worker processes cannot start).

    Examples
    --------
    >>> import teachkit
    >>> teachkit.replay(True)                                   # doctest: +SKIP
    >>> cluster = teachkit.start_cluster(workers=5)             # doctest: +SKIP
    teachkit: replay mode (teachkit.replay(True)): no worker process starts; ...
    """
    global _setting
    if on is None or isinstance(on, bool):
        _setting = on
        return
    if isinstance(on, (str, os.PathLike)) and Path(on).is_dir():
        _setting = Path(on)
        return
    raise ArgumentError(f"replay({on!r}): pass True, False, None or a folder of saved runs that exists.")


def _env() -> str:
    return os.environ.get(REPLAY_ENV, "").strip()


def replaying() -> bool:
    """Whether replay mode was asked for (``teachkit.replay(...)`` or ``TEACHKIT_REPLAY``)."""
    if _setting is not None:
        return _setting is not False
    value = _env()
    return value.lower() in _ON or (bool(value) and value.lower() not in _OFF)


def never() -> bool:
    """Whether replay mode is ruled out (``teachkit.replay(False)`` or ``TEACHKIT_REPLAY=0``)."""
    return _setting is False or (_setting is None and _env().lower() in _OFF)


def folders() -> list[Path]:
    """Where runs are looked up, first to last: a folder given to the switch, then the shipped recordings."""
    from teachkit import data

    shipped = Path(data.__file__).parent
    given = _setting if isinstance(_setting, Path) else None
    if given is None and _setting is None and _env() and _env().lower() not in _ON + _OFF:
        given = Path(_env()).expanduser()
    return [given, shipped] if given is not None and given.is_dir() else [shipped]


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where a cluster that cannot start falls back to replay)."""
    shell = sys.modules.get("IPython") and getattr(sys.modules["IPython"], "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def fallback_allowed() -> bool:
    """Whether a cluster that cannot start here turns into a replay cluster (unset switch, in a notebook)."""
    return not never() and in_notebook()


def simulated_failure() -> str | None:
    """The reason worker processes "cannot start" when ``TEACHKIT_NO_WORKERS`` is set (a rehearsal), else None."""
    if os.environ.get(NO_WORKERS_ENV, "").strip().lower() in ("", *_OFF):
        return None
    return f"{NO_WORKERS_ENV} is set, so no worker process may start here"


def _why() -> str:
    if _setting is True:
        return "teachkit.replay(True)"
    if isinstance(_setting, Path):
        return f"teachkit.replay({str(_setting)!r})"
    return f"{REPLAY_ENV}={_env()}"


def notice(reason: str | None = None) -> None:
    """Say once per process, in one line, that the notebook replays recorded runs (and why)."""
    global _said
    if _said:
        return
    _said = True
    tail = ("each record block replays the shipped recording of its run (pictures and checks read that real run), "
            "and your results are computed in this process")
    if reason:
        say(f"teachkit: worker processes cannot start here ({reason[:160]}), so no cluster starts: {tail}.")
    else:
        say(f"teachkit: replay mode ({_why()}): no worker process starts; {tail}.")


# -- the cluster ----------------------------------------------------------------------------------
class ReplayCluster(Cluster):
    """What :func:`teachkit.start_cluster` returns in replay mode: no process, the same face as a cluster.

    ``workers``, ``running``, ``close()`` and the picture work as on a live
    cluster; ``teachkit.record(cluster)`` replays, ``faults.kill_worker`` and
    ``faults.slow_worker`` name the fault the replayed run carries.
    """

    replay = True

    def __init__(self, workers: int, threads_per_worker: int, reason: str | None = None) -> None:
        super().__init__(ReplayClient(), None, key=("replay", workers, threads_per_worker))
        self.num_workers, self.threads_per_worker, self.reason = workers, threads_per_worker, reason
        self._closed = False
        local_jobs(True)  # distributed.wait and P2P shuffles work here (teachkit.replay_local)

    @property
    def address(self) -> str:
        return "replay"

    @property
    def dashboard_link(self) -> str | None:
        return None

    @property
    def workers(self) -> dict[str, str]:
        """Friendly worker names, as on a live cluster (their "addresses" are ``replay://worker-N``)."""
        if self._closed:
            return {}
        return {f"worker-{i}": f"replay://worker-{i}" for i in range(1, self.num_workers + 1)}

    @property
    def running(self) -> bool:
        return not self._closed

    def address_of(self, worker: str) -> str:
        workers = self.workers
        if worker in workers or worker in workers.values():
            return workers.get(worker, worker)
        raise KeyError(f"There is no worker named {worker!r}; the workers are: {', '.join(workers) or 'none'}.")

    def close(self) -> None:
        """Close it (nothing to stop: no process runs)."""
        for hook in list(reversed(self.before_close)):
            with contextlib.suppress(Exception):
                hook()
        self.before_close = []
        self._closed = True
        if cluster_mod._current is self:
            cluster_mod._current = None
        local_jobs(False)

    def warm_up(self, *modules: str) -> None:
        """Import ``modules`` in this process: in replay mode the jobs compute here, and no worker runs."""
        import importlib

        for name in modules:
            importlib.import_module(name)

    def arm_kill(self, worker: str, when: Any, restart: bool) -> Any:
        """``faults.kill_worker`` here: name the kill the replayed run carries (nothing is killed)."""
        from teachkit.replay_faults import arm_kill

        return arm_kill(self, worker, when, restart)

    def slow_worker(self, worker: str, factor: float) -> Any:
        """``faults.slow_worker`` here: name the slowdown the replayed run was made with (nothing slows)."""
        from teachkit.replay_faults import slow

        return slow(self, worker, factor)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ", ".join(self.workers)
        return f"<teachkit.Cluster replay (no worker process): {state}>"

    def _repr_html_(self) -> str:
        if self._closed:
            return "<div>teachkit cluster (replay, closed)</div>"
        slots = f"{self.threads_per_worker} task slot(s)"
        boxes = "".join(
            '<div style="border:1px dashed #888;border-radius:4px;padding:4px 8px;margin:2px;display:inline-block">'
            f"<b>{html.escape(name)}</b><br><small>replayed<br>{slots}</small></div>" for name in self.workers)
        return (
            '<div style="font-family:sans-serif"><div style="border:2px dashed #444;border-radius:4px;'
            'padding:4px 8px;display:inline-block;margin-bottom:4px"><b>driver</b><br><small>your notebook; '
            "replay mode: no scheduler or worker process runs, each recorded block replays a real run</small></div>"
            f"<div>{boxes}</div></div>"
        )


def start(workers: int, threads_per_worker: int, reason: str | None = None) -> ReplayCluster:
    """A replay cluster, made the default (open live local clusters are closed, as a new cluster replaces them)."""
    from teachkit.local_runs import forget_after_close

    for other in list(cluster_mod._open):
        if other.local is not None:
            other.close()
    notice(reason)
    current = cluster_mod._current
    if isinstance(current, ReplayCluster) and current.running and current.key == ("replay", workers, threads_per_worker):
        return current
    if isinstance(current, ReplayCluster):
        current.close()
    cluster = ReplayCluster(workers, threads_per_worker, reason)
    cluster_mod._current = cluster
    forget_after_close()
    return cluster


# -- the recording of a replayed block -----------------------------------------------------------
class ReplayRecording(Recording):
    """The recording a replayed block yields: the shipped run's events, or none and the reason (:func:`gap`)."""

    def job(self, which: int | str = -1):
        why = gap(self)
        if why is not None and not self.jobs:
            raise ReplayGapError(f"Replay mode: {why}, so there is no run to show: this needs a live cluster.")
        return super().job(which)

    def play(self, job: int | str | None = None):
        why = gap(self)
        if why is not None and not self.jobs:
            from teachkit.views.display import Message

            return Message(f"Replay mode: {why}, so there is no run to step through: this needs a live cluster.")
        return super().play(job)

    def _repr_html_(self) -> str:
        info = self.meta.get("replay") or {}
        why = gap(self)
        line = (f"replay mode: {why}, so this recording is empty (it needs a live cluster)" if why else
                f"replayed: the shipped run <code>{html.escape(str(info.get('run', '')))}</code>, recorded "
                f"{html.escape(str(self.meta.get('created', '?'))[:10])}")
        return f"<div><i>{line if why is None else html.escape(line)}</i>{super()._repr_html_()}</div>"


def gap(rec: Any) -> str | None:
    """Why a replayed block's recording is empty (its jobs have no shipped run), or ``None``."""
    info = getattr(rec, "meta", {}).get("replay") if isinstance(getattr(rec, "meta", None), dict) else None
    if isinstance(info, dict) and info.get("state") in ("missing", "changed", "failed"):
        return str(info.get("why") or "this block's run was not replayed")
    return None


def block_for(target: Any, live: bool = False) -> contextlib.AbstractContextManager | None:
    """The replaying block for ``teachkit.record(target)``, or ``None`` when it records live."""

    if isinstance(target, ReplayCluster):
        if not target.running:
            raise RecordingStartError("That cluster is closed: start a new one with teachkit.start_cluster().")
        return _block(live)
    if target is None:
        current = cluster_mod.current()
        if isinstance(current, ReplayCluster) or (current is None and replaying()):
            return _block(live)
    return None


@contextlib.contextmanager
def _block(live: bool) -> Iterator[ReplayRecording]:
    import dask

    from teachkit.replay_block import LocalJobs, finish

    notice()
    rec = ReplayRecording(meta={"replay": {"state": "running"}})
    watch = LocalJobs()
    with dask.config.set(scheduler="threads"), watch:  # never the cluster: it is not there
        try:
            yield rec
        finally:
            failed = sys.exc_info()[1] is not None
            finish(rec, watch, folders(), failed=failed or watch.errored)
    if live and rec.jobs and in_notebook():  # live=True ends with the player, as on a live cluster
        from IPython.display import display

        display(rec.play())


cluster_mod.replay_mode = sys.modules[__name__]  # start_cluster calls on replay mode through this (no import cycle)
