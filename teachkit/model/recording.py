"""The :class:`Recording`: what happened on a real run, saved as versioned JSON.

A recording is the ordered list of plain events that the plugins appended
(see :mod:`teachkit.record.events`) plus a little metadata.  Jobs, tasks,
stages, timelines and player frames are all *derived* from those events by
pure functions, so a saved recording replays everything with no cluster.
"""

from __future__ import annotations

import gzip
import html
import json
import numbers
import os
import warnings
import zlib
from pathlib import Path
from typing import Any

from teachkit.errors import ArgumentError, RecordingFileError, TeachkitWarning
from teachkit.model import validate
from teachkit.model.job import Job, WorkerInfo
from teachkit.model.jobs import build_jobs, build_workers
from teachkit.record.events import FORMAT_NAME, SCHEMA_VERSION

#: Largest recording teachkit reads, in bytes of JSON (about 1.2 kB a task: a 50,000-task job is ~60 MB): a gzip
#: file that inflates beyond it is refused instead of filling the memory (a "gzip bomb").
MAX_JSON_BYTES = 512 << 20


class NoSuchJob(ArgumentError, LookupError):  # noqa: N818 - named by what it says (it is an ArgumentError)
    """:meth:`Recording.job` found no such job (an ``ArgumentError`` for the views, a ``LookupError`` as before)."""


class Recording:
    """What the driver (scheduler) and the workers did during one or more jobs.

    Parameters
    ----------
    events : list of dict, optional
        Plain events in the wire format of :mod:`teachkit.record.events`.
    meta : dict, optional
        Facts about the run: versions, cluster, clock offsets, notes.

    Examples
    --------
    >>> import teachkit
    >>> rec = teachkit.Recording.load(teachkit.example_path("groupby"))
    >>> [job.name for job in rec.jobs]
    ['groupby count']
    """

    def __init__(self, events: list[dict] | None = None, meta: dict | None = None) -> None:
        self.events: list[dict] = list(events or [])
        self.meta: dict[str, Any] = dict(meta or {})
        self._cache: dict[str, Any] = {}

    # -- building (used by teachkit.session while recording) -----------------
    def _extend(self, events: list[dict]) -> None:
        """Add events (kept in time order) and forget derived data."""
        if events:
            self.events.extend(events)
            self.events.sort(key=lambda e: e["t"])
            self._cache.clear()

    # -- derived views of the events -------------------------------------------
    @property
    def t0(self) -> float:
        """Absolute scheduler time that all relative times count from."""
        if "t0" in self.meta:
            return float(self.meta["t0"])
        return self.events[0]["t"] if self.events else 0.0

    @property
    def workers(self) -> list[WorkerInfo]:
        """The worker processes seen, named ``worker-1 ... worker-N``."""
        if "workers" not in self._cache:
            self._cache["workers"] = build_workers(self.events, self.t0)
        return self._cache["workers"]

    @property
    def jobs(self) -> list[Job]:
        """One :class:`~teachkit.model.jobs.Job` per action (graph submission), in order."""
        if "jobs" not in self._cache:
            jobs = build_jobs(self)
            for job in jobs:
                job.recording = self
            self._cache["jobs"] = jobs
        return self._cache["jobs"]

    @property
    def end(self) -> float:
        """Seconds from the recording's start to its last event."""
        return max(0.0, self.events[-1]["t"] - self.t0) if self.events else 0.0

    def job(self, which: int | str | Job | None = -1) -> Job:
        """Return a job by position, by name, or as a :class:`Job` of this recording (``None``: the last).

        Raises
        ------
        NoSuchJob
            (an ``ArgumentError`` and a ``LookupError``) when there is no such job, or ``which`` is a job of
            another recording; the message lists the jobs there are.
        """
        jobs = self.jobs
        if not jobs:
            raise NoSuchJob("This recording has no jobs: run a compute() or persist() inside teachkit.record(...).")
        names = ", ".join(repr(j.name) for j in jobs[:6]) + (" ..." if len(jobs) > 6 else "")
        if which is None:
            return jobs[-1]
        if isinstance(which, Job):
            if any(j is which for j in jobs):
                return which
            raise NoSuchJob(f"The job {which.name!r} belongs to another recording: pass a job of this one "
                            f"(its jobs are {names}).")
        if isinstance(which, str):
            for job in jobs:
                if job.name == which:
                    return job
            raise NoSuchJob(f"There is no job named {which!r}; the jobs are: {names}.")
        if isinstance(which, bool) or not isinstance(which, numbers.Integral):
            raise NoSuchJob(f"job={which!r} is not a job: pass a job's number (0 to {len(jobs) - 1}), its name "
                            f"({jobs[-1].name!r}) or a job of this recording.")
        if not -len(jobs) <= which < len(jobs):
            raise NoSuchJob(f"There is no job {which}: this recording has {len(jobs)} job(s), numbered 0 to "
                            f"{len(jobs) - 1} (-1 is the last); their names are {names}.")
        return jobs[int(which)]

    def play(self, job: int | str | Job | None = None):
        """The step-through player for one job (default: the last); see :class:`teachkit.views.player.Player`."""
        from teachkit.views.player import Player  # lazy: views sit above the model

        return Player(self, job=job)

    @property
    def warnings(self) -> list[str]:
        """Errors the recorder caught in itself (the jobs went on unharmed)."""
        return [f"{e['where']}: {e['message']}" for e in self.events if e["kind"] == "warning"]

    def cluster_view(self, at: float | None = None, job=None):
        """The driver and the workers at time ``at`` (see :func:`teachkit.views.cluster_view.cluster_view`)."""
        from teachkit.views.cluster_view import cluster_view

        return cluster_view(self, at=at, job=job)

    def summary(self) -> dict[str, Any]:
        """Return plain data describing every job (JSON-ready).

        ``num_tasks`` counts the Dask tasks of a job's graph; each stage's
        ``num_tasks`` counts Spark-style tasks (one per partition).
        """
        from teachkit.model.summary import summarize

        return summarize(self)

    # -- persistence ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form: format name, schema version, meta, events."""
        return {"format": FORMAT_NAME, "schema": SCHEMA_VERSION, "meta": self.meta, "events": self.events}

    @classmethod
    def from_dict(cls, data: Any, source: str = "<data>") -> Recording:
        """Build a recording from :meth:`to_dict` output, checking format, version and every event.

        Events out of time order (an edited or merged file) are sorted, with a
        :class:`~teachkit.errors.TeachkitWarning` saying so.

        Raises
        ------
        RecordingFileError
            Naming ``source`` and the first problem: not a teachkit recording,
            a newer schema, or the first malformed event (e.g. a missing
            field, or a time that is not a number).
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise RecordingFileError(f"{source}: not a teachkit recording (no \"format\": \"{FORMAT_NAME}\" field).")
        schema = data.get("schema")
        if not isinstance(schema, int) or isinstance(schema, bool):
            raise RecordingFileError(f"{source}: the recording has no valid schema version.")
        if schema > SCHEMA_VERSION:
            raise RecordingFileError(
                f"{source}: recorded with schema {schema}, newer than this teachkit understands "
                f"({SCHEMA_VERSION}); upgrade teachkit to open it."
            )
        events, meta = data.get("events"), data.get("meta", {})
        meta = {} if meta is None else meta
        problem = validate.first_problem(events) or validate.meta_problem(meta)
        if problem is not None:
            raise RecordingFileError(f"{source}: the recording is malformed: {problem} (an edited or damaged file?); "
                                     "use the file as teachkit saved it, or record the run again.")
        late = validate.out_of_order(events)
        if late is not None:
            warnings.warn(
                f"{source}: the events were not in time order (event {late} is earlier than the one before it; an "
                "edited or merged file?): teachkit sorted them by time.", TeachkitWarning, stacklevel=2)
            events = sorted(events, key=lambda e: e["t"])
        return cls(events, meta)

    def save(self, path: str | os.PathLike, *, compress: bool | None = None) -> Path:
        """Write the recording as JSON (gzipped when ``path`` ends in ``.gz`` or ``compress``).

        The file is written whole or not at all: a temporary file beside it
        is renamed into place, and removed if anything fails.

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        RecordingFileError
            Naming ``path`` when it is a folder, its folder does not exist, or
            it cannot be written.
        """
        from teachkit.arguments import flag, path as check_path

        given = check_path("path", path)
        if compress is not None:
            compress = flag("compress", compress)
        path = Path(given)
        if compress is None:
            compress = path.suffix == ".gz"
        if path.is_dir():
            raise RecordingFileError(f"{given}: is a folder; give a file name such as {str(path / 'run.json.gz')!r}.")
        if not path.parent.is_dir():
            raise RecordingFileError(f"{given}: the folder {str(path.parent)!r} does not exist; create it first.")
        text = json.dumps(self.to_dict(), separators=(",", ":"))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            if compress:
                with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=6) as fh:
                    fh.write(text)
            else:
                tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)  # never leave a half-written recording behind
        except OSError as exc:
            raise RecordingFileError(f"{given}: cannot write the file ({exc.strerror or exc}).") from None
        finally:
            if tmp.exists():
                tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Recording:
        """Read a recording written by :meth:`save` (plain or gzipped JSON).

        Raises
        ------
        RecordingFileError
            Naming the file and the problem when it is missing, corrupt,
            truncated, too large, not a teachkit recording, from a newer
            teachkit, or has a malformed event (the first one is named).
        """
        from teachkit.arguments import path as check_path

        given = check_path("path", path)
        path = Path(given)
        try:
            if path.is_dir():
                raise RecordingFileError(f"{given}: is a folder, not a recording file.")
            if path.stat().st_size > MAX_JSON_BYTES:
                raise RecordingFileError(f"{given}: the file is larger than {MAX_JSON_BYTES >> 20} MiB, more than any "
                                         "teachkit recording; it is not one.")
            raw = path.read_bytes()
        except OSError as exc:
            raise RecordingFileError(f"{given}: cannot read the file ({exc.strerror or exc}).") from None
        try:
            if raw[:2] == b"\x1f\x8b":
                raw = _gunzip(raw, MAX_JSON_BYTES, given)
            data = json.loads(raw.decode("utf-8"))
        except (OSError, EOFError, zlib.error) as exc:
            raise RecordingFileError(f"{given}: the gzip data is corrupt or truncated ({exc}).") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecordingFileError(f"{given}: not valid JSON, the file is corrupt or truncated ({exc}).") from None
        except RecursionError:
            raise RecordingFileError(f"{given}: the JSON is nested too deeply to be a teachkit recording.") from None
        return cls.from_dict(data, source=str(given))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Recording):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"<Recording: {len(self.jobs)} job(s), {len(self.workers)} worker(s), {len(self.events)} events>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{i}</td><td>{html.escape(j.name)}</td><td>{len(j.dask_tasks)}</td>"
            f"<td>{j.duration_s:.2f} s</td></tr>"
            for i, j in enumerate(self.jobs)
        )
        workers = ", ".join(html.escape(w.name) for w in self.workers)
        return (
            f"<div><b>teachkit recording</b>: {len(self.jobs)} job(s) on {len(self.workers)} workers ({workers})"
            f"<table><tr><th>#</th><th>job</th><th>Dask tasks</th><th>duration</th></tr>{rows}</table></div>"
        )


def _gunzip(raw: bytes, limit: int, name: Any) -> bytes:
    """Decompress gzip data (all members), refusing to inflate past ``limit`` bytes."""
    out: list[bytes] = []
    size = 0
    while raw:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        data = raw
        while True:
            chunk = inflater.decompress(data, 1 << 20)
            size += len(chunk)
            if size > limit:
                raise RecordingFileError(f"{name}: the gzip data inflates to more than {limit >> 20} MiB, more than "
                                         "any teachkit recording (a damaged or hostile file); refusing to read it.")
            out.append(chunk)
            data = inflater.unconsumed_tail
            if inflater.eof or (not data and not chunk):
                break
        if not inflater.eof:
            raise EOFError("the gzip data ends before its end marker")
        raw = inflater.unused_data.lstrip(b"\x00")  # another member may follow (concatenated gzip files)
    return b"".join(out)
