"""The data side of "where every key went": what each partition of a persisted result holds, and where.

:func:`keys_by_partition` reads the keys (index values) of every partition of
a result kept on the workers with ``persist()``, :func:`rows_by_partition`
how many rows each holds; :func:`holders` asks the driver which worker holds
each of those partitions now.  Both read the
partitions that are already in memory, by their keys: no task runs, so
nothing is added to a recording and the shuffle does not run again (a result
computed again could place its keys on other workers).

Put the keys next to the recorded stage that built the partitions with
:func:`teachkit.views.placement.key_placement`.

In replay mode (:mod:`teachkit.replay_mode`) a result kept in a replayed
block was computed in this process: its keys and rows are read from that data,
and :func:`holders` reads where the replayed run kept each partition from its
recording (the worker of the task that made it), as the driver knew it then.

Examples
--------
>>> grouped = df.groupby("category").value.count(split_out=3).persist()   # doctest: +SKIP
>>> keys_by_partition(grouped)                                             # doctest: +SKIP
{0: ['games', 'garden', 'music'], 1: ['books', 'sports', 'tools'], 2: ['kitchen', 'toys']}
"""

from __future__ import annotations

from typing import Any

from teachkit.errors import ArgumentError

_HOW = "keep it on the workers with result = ....persist() inside the recording, then pass that result"


def _check(result: Any) -> None:
    if not hasattr(result, "npartitions") or not hasattr(result, "__dask_graph__"):
        raise ArgumentError(f"Pass a dask DataFrame or Series kept on the workers, not {type(result).__name__}: "
                            f"{_HOW}.")


def _parts(result: Any) -> list:
    """The data of each partition of a persisted result, in partition order (read, never computed again)."""
    _check(result)
    from teachkit.replay_block import kept_by

    if kept_by(result) is not None:  # kept in a replayed block: the data is here, in the result's own graph
        from dask.local import get_sync

        return list(get_sync(dict(result.__dask_graph__()), result.__dask_keys__(), callbacks=()))
    futures = _partition_futures(result)
    return futures[0].client.gather(futures)


def _partition_futures(result: Any) -> list:
    """The futures of a persisted collection's partitions, in partition order."""
    _check(result)
    from distributed import futures_of

    futures = futures_of(result)
    by_index = {}
    for future in futures:
        key = future.key
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], int):
            by_index[key[1]] = future
    if not futures or sorted(by_index) != list(range(result.npartitions)):
        raise ArgumentError(f"This result is not kept on the workers (it has {result.npartitions} partitions but "
                            f"{len(by_index)} are in memory): {_HOW}.")
    return [by_index[i] for i in range(result.npartitions)]


def keys_by_partition(result: Any) -> dict[int, list]:
    """Which keys (index values) each partition of a persisted result holds.

    Parameters
    ----------
    result : dask DataFrame or Series
        A result kept on the workers with ``persist()``, e.g. a groupby's.

    Returns
    -------
    dict
        ``{partition: [keys, sorted]}`` for every partition, empty ones included.

    Raises
    ------
    teachkit.errors.ArgumentError
        When ``result`` is not a persisted dask collection.
    """
    parts = _parts(result)
    return {i: sorted({k for k in part.index}, key=str) for i, part in enumerate(parts)}


def rows_by_partition(result: Any) -> dict[int, int]:
    """How many rows each partition of a persisted result holds (``{partition: rows}``, empty ones as 0).

    Raises
    ------
    teachkit.errors.ArgumentError
        When ``result`` is not a persisted dask collection.
    """
    parts = _parts(result)
    return {i: len(part) for i, part in enumerate(parts)}


def holders(result: Any, cluster: Any = None) -> dict[int, list[str]]:
    """Which workers hold each partition of a persisted result now (friendly names), as the driver knows it.

    Parameters
    ----------
    result : dask DataFrame or Series
        A result kept on the workers with ``persist()``.
    cluster : teachkit.Cluster, optional
        The cluster it lives on (default: the one :func:`teachkit.start_cluster` started).

    Returns
    -------
    dict
        ``{partition: ["worker-2"]}`` (a partition copied to several workers lists each).  In replay mode:
        the worker of the task that made each partition in the replayed run, read from its recording.
    """
    from teachkit import cluster as cluster_mod
    from teachkit.replay_block import kept_by

    _check(result)
    replayed = kept_by(result)
    if replayed is not None:
        return _recorded_holders(*replayed, result.npartitions)
    futures = _partition_futures(result)
    cluster = cluster or cluster_mod.current()
    if cluster is None or not cluster.running:
        raise ArgumentError("There is no running cluster to ask: pass the cluster the result lives on.")
    names = {address: name for name, address in cluster.workers.items()}
    who = cluster.client.who_has(futures)
    return {i: sorted(names.get(a, a) for a in who.get(f.key, ())) for i, f in enumerate(futures)}


def _recorded_holders(rec: Any, job_name: str | None, npartitions: int) -> dict[int, list[str]]:
    """Where a replayed run kept each partition: the worker of the task of its last stage that made it."""
    job = rec.job(job_name if job_name is not None else -1)
    stage = next((s for s in reversed(job.stages) if s.output == "memory"), None)
    from teachkit.replay_mode import ReplayModeError

    where = {t.partition: t.worker for t in (stage.tasks if stage is not None else [])}
    if sorted(where) != list(range(npartitions)) or not all(where.values()):
        raise ReplayModeError(f"The replayed run of {job.name!r} did not keep {npartitions} partitions on its "
                              "workers, so it cannot say where they are: this needs a live cluster.")
    return {p: [where[p]] for p in range(npartitions)}
