"""teachkit: see Spark's execution model happen on a real Dask cluster.

The public API is small:

- :func:`start_cluster` / :func:`connect`: a cluster with teaching defaults.
- :func:`record` and :func:`job`: record the jobs run in a block.
- :class:`Recording`: what happened (save/load as JSON; jobs, stages, tasks).
- :class:`Player`: step through a recording (``rec.play()``), also as one offline HTML file.
- :func:`example_path`: saved recordings shipped for offline use.

Submodules for the lessons: :mod:`teachkit.datasets` (the course's data),
:mod:`teachkit.faults` (kill or slow workers on purpose), :mod:`teachkit.checks`
(exercise feedback).
"""

from __future__ import annotations

__version__ = "0.1.0"

from teachkit.cluster import Cluster, ClusterError, connect, start_cluster
from teachkit.data import example_path, examples
from teachkit.model.recording import Recording, RecordingError
from teachkit.session import RecordError, job, record

__all__ = [
    "Cluster",
    "ClusterError",
    "Player",
    "RecordError",
    "Recording",
    "RecordingError",
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
