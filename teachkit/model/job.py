"""What the model knows about a run: workers, jobs, Dask tasks and their attempts (data classes).

:func:`teachkit.model.jobs.build_jobs` fills them from a recording's events,
once; everything else (stages, the player, every picture) reads them.  Times are
**seconds since the start of the recording** (``t - Recording.t0``); workers
are named ``worker-1 ... worker-N``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from teachkit.model.vocabulary import MOVE_CAUSES, RERUN_CAUSES

if TYPE_CHECKING:  # pragma: no cover
    from teachkit.model.changes import Change


@dataclass
class WorkerInfo:
    """One worker process as the recording saw it."""

    address: str
    name: str  # friendly: worker-1 ... worker-N (a restarted process: worker-2b)
    dask_name: str
    nthreads: int
    added: float | None = None  # None: present before recording started
    removed: float | None = None
    cause: str | None = None  # why it left: "lost" (died), "retired", "closed"


@dataclass
class Attempt:
    """One try at running a Dask task on a worker."""

    number: int
    worker: str | None = None  # friendly name
    address: str | None = None
    assigned: float | None = None
    start: float | None = None  # compute start on the worker (None: never reported)
    stop: float | None = None
    thread: int | None = None
    slot: int | None = None  # 1-based task slot on its worker (see teachkit.model.changes: the slot rule)
    nbytes: int | None = None
    outcome: str = "pending"  # done | erred | released | running | pending
    cause: str | None = None  # why this attempt exists (None for the first)
    end_cause: str | None = None  # why a released attempt ended (worker-lost, rescheduled, ...)
    lost: float | None = None  # a done result was lost with its worker at this time
    stolen_from: str | None = None
    error: str | None = None
    fetches: list[dict] = field(default_factory=list)


@dataclass
class DaskTask:
    """One task of the graph the scheduler received (Dask's unit of work)."""

    key: str
    group: str
    prefix: str
    index: int | None
    deps: list[str]
    attempts: list[Attempt] = field(default_factory=list)
    states: list[tuple[float, str, str]] = field(default_factory=list)
    restarted: bool = False  # caught in a P2P shuffle restart after a worker died

    @property
    def final(self) -> Attempt | None:
        """The attempt that produced the result (or the last one)."""
        done = [a for a in self.attempts if a.outcome == "done" and a.lost is None]
        if done:
            return done[-1]
        return self.attempts[-1] if self.attempts else None

    def rerun_cause(self, number: int) -> str | None:
        """Why attempt ``number`` runs again because of a failure: the newest failure cause of attempts 2..number.

        An attempt opened for a plain reason (rescheduled, stolen) after a
        failure re-run is still part of that re-run; a task Dask merely moved
        (a P2P unpack rescheduled where its data is) is no re-run: ``None``.
        """
        return next((a.cause for a in reversed(self.attempts[1:number]) if a.cause in RERUN_CAUSES), None)

    @property
    def reruns(self) -> int:
        """Attempts that ran again because something failed (a worker died, a result was lost)."""
        return sum(1 for a in self.attempts[1:] if self.rerun_cause(a.number) is not None)

    @property
    def moves(self) -> int:
        """Extra attempts that are no failure: Dask rescheduled the task, or an idle worker stole it."""
        return sum(1 for a in self.attempts[1:] if a.cause in MOVE_CAUSES and self.rerun_cause(a.number) is None)


#: A dependency one worker fetched from another (``Job.fetches``): from whom, to whom, when, bytes.
Fetch = TypedDict("Fetch", {"key": str, "nbytes": int, "from": str, "to": str, "start": float, "stop": float})

#: One batch of P2P shuffle rows a worker sent another, outside the task graph (``Job.sends``);
#: ``partitions`` maps each input partition to the bytes of its rows in the batch.
Send = TypedDict("Send", {"t": float, "shuffle": str, "from": str, "to": str, "nbytes": int,
                          "partitions": dict[str, int]})


class Fault(TypedDict, total=False):
    """A fault teachkit injected during the job (``Job.faults``): e.g. a worker killed."""

    t: float
    action: str  # "kill"
    worker: str  # friendly name
    pid: int
    when: str
    restart: bool
    tasks_done: int
    running: list[str]
    held: list[str]


@dataclass
class Job:
    """One job: one action (``compute()``, ``persist()``, a write): one graph submission.

    ``dask_tasks`` holds the graph exactly as the scheduler received it, with
    every attempt of every task; ``changes`` is the job's ordered log of task
    changes (:mod:`teachkit.model.changes`) that the player, the cluster
    picture and the live view all fold; ``fetches``, ``sends`` and ``faults``
    are the data moves and the injected faults of the job.  ``stages``,
    ``tasks`` (Spark-style: one per partition of a stage), ``plan`` and
    ``boundaries`` are derived on first use; the drawing methods delegate to
    :mod:`teachkit.views` (imported on first use, like pandas' ``.plot``).
    """

    index: int
    name: str
    submitted: float
    keys: list[str]
    dask_tasks: dict[str, DaskTask]
    expr: dict[str, Any] = field(default_factory=dict)  # the client's plan event
    start: float | None = None
    end: float | None = None
    errors: list[str] = field(default_factory=list)
    fetches: list[dict] = field(default_factory=list)  # dependency moves between workers (Fetch)
    sends: list[dict] = field(default_factory=list)  # P2P shuffle sends (Send)
    faults: list[dict] = field(default_factory=list)  # faults teachkit injected during the job (Fault)
    changes: list[Change] = field(default_factory=list, repr=False)
    recording: Any = field(default=None, repr=False, compare=False)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        """Seconds from submission to the last task's end."""
        end = self.end if self.end is not None else self.submitted
        return max(0.0, end - self.submitted)

    def _get(self, name: str, build):
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]

    @property
    def stages(self) -> list:
        """Spark-style stages, in order (see :func:`teachkit.model.stages.derive_stages`)."""
        from teachkit.model.stages import derive_stages

        return self._get("stages", derive_stages)

    @property
    def tasks(self) -> list:
        """Spark-style tasks: one per partition of each stage."""
        return [task for stage in self.stages for task in stage.tasks]

    @property
    def plan(self):
        """Logical plan, optimised plan and physical plan (the stages), as data."""
        from teachkit.model.stages import build_plan

        return self._get("plan", build_plan)

    @property
    def boundaries(self) -> list:
        """Every boundary between two stages, resolved once (see :func:`teachkit.model.moves.boundaries`)."""
        from teachkit.model.moves import boundaries

        return self._get("boundaries", boundaries)

    @property
    def result(self):
        """What the driver gathers at the end, or ``None`` (see :func:`teachkit.model.moves.job_result`)."""
        from teachkit.model.moves import job_result

        return self._get("result", job_result)

    def state_at(self, t: float | None = None):
        """Every Spark-style task's state at ``t`` (default: the end), folded from ``changes``.

        See :func:`teachkit.model.fold.state_at`.
        """
        from teachkit.model.fold import state_at

        return state_at(self, t)

    def explain(self):
        """The three plan levels side by side (a display object; ``str()`` gives text)."""
        from teachkit.views.explain import explain

        return explain(self)

    def stage_dag(self, **options):
        """Spark-style stage DAG (see :func:`teachkit.views.dag.stage_dag`)."""
        from teachkit.views.dag import stage_dag

        return stage_dag(self, **options)

    def task_dag(self, **options):
        """Task DAG, one node per Spark-style task (see :func:`teachkit.views.task_dag.task_dag`)."""
        from teachkit.views.task_dag import task_dag

        return task_dag(self, **options)

    def timeline(self, **options):
        """Worker timeline: one row per task slot (see :func:`teachkit.views.timeline.timeline`)."""
        from teachkit.views.timeline import timeline

        return timeline(self, **options)
