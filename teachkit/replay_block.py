"""The end of a replayed record block: which jobs it ran, which shipped run they are, the recording filled in.

:class:`LocalJobs` is a dask callback registered for the length of a replayed
block: dask's local schedulers call it once per job (the distributed scheduler
would not, and there is none in replay mode), and it notes the job's name (the
``teachkit.job`` span) and its plan (:mod:`teachkit.runs`).  :func:`find_run`
looks the jobs up in the folders of saved runs (``index.json`` when there is
one, else each file); :func:`finish` fills the block's recording from the run
it found, after checking that the faults armed for the block are the ones that
run carries (:mod:`teachkit.replay_faults`), or notes why it cannot, in one line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dask.callbacks import Callback

from teachkit import replay_faults, runs
from teachkit.logs import say
from teachkit.model.recording import Recording

#: Runs found in folders without an index, by file: (mtime, signature).
_SCANNED: dict[Path, tuple[float, list[dict]]] = {}
#: What replayed blocks kept with ``persist()``: the kept keys' name -> (the block's recording, the job's name).
_KEPT: dict[str, tuple[Recording, str | None]] = {}


class LocalJobs(Callback):
    """Note every job dask runs locally while registered: ``jobs`` (name and plan), what a ``persist`` keeps
    (``kept``: the job's name and its kept keys' names) and whether one ``errored``."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[dict[str, Any]] = []
        self.kept: list[tuple[str | None, set[str]]] = []
        self.errored = False

    def _start(self, dsk: Any) -> None:
        self.jobs.append(runs.job_key())  # never raises: a job it cannot read has no plan
        kept = _persisted_names()
        if kept:
            self.kept.append((self.jobs[-1].get("name"), kept))

    def _finish(self, dsk: Any, state: Any, errored: bool) -> None:
        self.errored = self.errored or bool(errored)


def _persisted_names(max_depth: int = 80) -> set[str]:
    """The names of the keys that the ``dask.persist`` running now keeps (its local ``keys``), or none."""
    try:
        frame = sys._getframe(2)
        for _ in range(max_depth):
            if frame is None:
                break
            local = frame.f_locals
            if frame.f_code.co_name == "persist" and "postpersists" in local and isinstance(local.get("keys"), list):
                return {k[0] if isinstance(k, tuple) else k for k in local["keys"]}
            frame = frame.f_back
    except Exception:
        pass
    return set()


def kept_by(result: Any) -> tuple[Recording, str | None] | None:
    """The replayed recording (and job name) of the block that kept ``result`` with ``persist()``, or ``None``."""
    try:  # a persisted collection's keys are new names for the kept keys (aliases in its graph)
        names = {k[0] if isinstance(k, tuple) else k for k in result.__dask_graph__()}
    except Exception:
        return None
    found = {(id(_KEPT[n][0]), _KEPT[n][1]): _KEPT[n] for n in names if n in _KEPT}
    return next(iter(found.values())) if len(found) == 1 else None


def library(folders: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """``(file, entry)`` for every saved run in ``folders``, first folder first (entries as in ``index.json``)."""
    from teachkit.data import read_index

    out = []
    for folder in folders:
        entries = read_index(folder)
        if entries:
            out += [(folder / e.get("file", f"{e['name']}.json.gz"), e) for e in entries]
            continue
        for path in sorted(folder.glob("*.json.gz")):
            out.append((path, {"name": path.name[: -len(".json.gz")], "jobs": _scan(path)}))
    return out


def _scan(path: Path) -> list[dict]:
    """The signature of a saved run with no index entry (read once per file version)."""
    mtime = path.stat().st_mtime
    known = _SCANNED.get(path)
    if known is None or known[0] != mtime:
        try:
            known = (mtime, runs.signature(Recording.load(path)))
        except Exception:
            known = (mtime, [])
        _SCANNED[path] = known
    return known[1]


def find_runs(jobs: list[dict], folders: Sequence[Path]) -> tuple[list[Path], str | None]:
    """The files of the saved runs whose jobs are ``jobs``, first folder first, or ``([], why)`` (a clause)."""
    found = [path for path, e in library(folders) if runs.covers(jobs, e.get("jobs", []))]
    if found:
        return found, None
    names = [j["name"] for j in jobs if j.get("name")]
    quoted = ", ".join(repr(n) for n in dict.fromkeys(names))
    if not names:
        return [], "this block's job has no name (teachkit.job) and no shipped run has its plan"
    known = {s.get("name") for _, e in library(folders) for s in e.get("jobs", [])}
    if any(n in known for n in names):
        return [], f"your job {quoted} is not the one in the shipped run (its plan or its jobs differ)"
    return [], f"there is no shipped run of the job {quoted}"


def finish(rec: Recording, watch: LocalJobs, folders: Sequence[Path], failed: bool = False) -> None:
    """Fill a replayed block's recording (or note, and say in one line, why it stays empty)."""
    kills = replay_faults.take_kills()
    if not watch.jobs:  # no job ran: nothing to replay (a live block records nothing either)
        replay_faults.rearm(kills)
        rec.meta["replay"] = {"state": "empty"}
        return
    names = list(dict.fromkeys(j["name"] for j in watch.jobs if j.get("name")))
    if failed:
        _gap(rec, "failed", f"your job {', '.join(map(repr, names)) or ''} raised an error here", names, kills,
             quiet=True)
        return
    paths, why = find_runs(watch.jobs, folders)
    if not paths:
        _gap(rec, "changed" if "is not the one" in (why or "") else "missing", why or "", names, kills)
        return
    problems = []
    for path in paths:  # the first run of these jobs made with the faults armed here
        run = Recording.load(path)
        problem = replay_faults.mismatch(run, kills, replay_faults.slows())
        if problem is None:
            _fill(rec, run, path, kills)
            for name, keys in watch.kept:
                _KEPT.update(dict.fromkeys(keys, (rec, name)))
            return
        problems.append(problem)
    _gap(rec, "changed", problems[0], names, kills)


def _fill(rec: Recording, run: Recording, path: Path, kills: list) -> None:
    """The replayed run becomes the block's recording; the kills armed for it print their lines."""
    rec.meta.clear()
    rec.meta.update(run.meta)
    rec.meta["replay"] = {"state": "replayed", "run": path.name[: -len(".json.gz")], "folder": str(path.parent),
                          "replayed": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    rec._extend(list(run.events))
    replay_faults.announce(rec, kills)


def _gap(rec: Recording, state: str, why: str, names: list[str], kills: list, quiet: bool = False) -> None:
    """Leave the recording empty, noting ``why`` (a clause) for its views and checks; say it in one line."""
    rec.meta["replay"] = {"state": state, "why": why, "jobs": names}
    replay_faults.drop(kills, why)
    if not quiet:
        say(f"teachkit: replay: {why}, so this block cannot be replayed: its pictures and checks need a live cluster.")
