"""Spark's stage rule applied to a recorded Dask graph (contract; derivation to be written).

The data classes below are the contract the views and the player rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SparkTask:
    """One Spark-style task: one partition of one stage (several fused Dask tasks count once)."""

    stage: int  # Stage.id
    partition: int
    keys: list[str]  # the Dask task keys it covers (stringified, see teachkit.record.events.key_str)
    worker: str | None  # friendly name of the worker that produced the final result
    slot: int | None  # 1-based task slot (thread) on that worker
    start: float | None  # seconds since recording start: first compute start among its keys
    stop: float | None  # last compute stop
    attempts: int  # max attempts over its keys (1 = ran once)
    status: str  # "done" | "failed" | "lost" | "pending"


@dataclass
class Stage:
    """A set of tasks pipelined without data exchange; a shuffle starts a new one."""

    id: int
    name: str  # pipelined operations, e.g. "read → partial count"
    ops: list[str]  # the same as a list
    groups: list[str]  # Dask task group names it contains
    tasks: list[SparkTask]
    parents: list[int]  # parent Stage ids
    boundaries: dict[int, str]  # parent id -> "shuffle" | "tree-reduce" | ...
    output: str  # "shuffle" (feeds a shuffle), "driver" (final gather to the client), "memory" (persist/write)
    start: float | None = None
    end: float | None = None
    shuffle_read_bytes: int = 0
    shuffle_write_bytes: int = 0
    workers: dict[str, int] = field(default_factory=dict)  # friendly name -> tasks run
    note: str | None = None  # a one-sentence difference from Spark, if any
    job: Any = field(default=None, repr=False, compare=False)

    @property
    def num_tasks(self) -> int:
        """Number of Spark-style tasks (one per partition)."""
        return len(self.tasks)

    @property
    def duration_s(self) -> float:
        """Seconds from the first task's start to the last task's end."""
        if self.start is None or self.end is None:
            return 0.0
        return max(0.0, self.end - self.start)
