"""teachkit: see Spark's execution model happen on a real Dask cluster.

The public API is small:

- :func:`start_cluster` / :func:`connect`: a cluster with teaching defaults.
- :func:`record` and :func:`job`: record the jobs run in a block.
- :class:`Recording`: what happened (save/load as JSON; jobs, stages, tasks).
- :class:`Player`: step through a recording (``rec.play()``), also as one offline HTML file.
- :func:`example_path`: saved recordings shipped for offline use.

Errors: every error the kit raises on purpose is a :class:`TeachkitError` with
one sentence saying what is wrong and what to do: :class:`ArgumentError` (a
wrong argument, checked before anything starts), :class:`ClusterError` (a
cluster cannot be started or reached), :class:`RecordingStartError` (a
recording cannot start), :class:`RecordingFileError` (a recording file cannot
be read or written) and ``teachkit.faults.FaultError`` (see
:mod:`teachkit.errors`).

Submodules for the lessons: :mod:`teachkit.datasets` (the course's data),
:mod:`teachkit.faults` (kill or slow workers on purpose), :mod:`teachkit.checks`
(exercise feedback).
"""

from __future__ import annotations

__version__ = "0.1.0"

from teachkit.cluster import Cluster, connect, start_cluster
from teachkit.data import example_path, examples
from teachkit.errors import (
    ArgumentError,
    ClusterError,
    FaultError,
    RecordingFileError,
    RecordingStartError,
    TeachkitError,
)
from teachkit.model.recording import Recording
from teachkit.session import job, record

__all__ = [
    "ArgumentError",
    "Cluster",
    "ClusterError",
    "FaultError",
    "Player",
    "Recording",
    "RecordingFileError",
    "RecordingStartError",
    "TeachkitError",
    "connect",
    "example_path",
    "examples",
    "job",
    "record",
    "start_cluster",
]


def __getattr__(name: str):
    if name == "Player":  # lazy: the player imports anywidget and graphviz
        from teachkit.views.player import Player

        return Player
    raise AttributeError(f"module 'teachkit' has no attribute {name!r}")
