"""Recorded runs as a library: what identifies a record block's run, saving every run, finding one again.

A record block's run is identified by its **jobs**: each job's name (given with
``teachkit.job("...")``; the course names every job, uniquely) and a
fingerprint of its **plan**: the logical expression dask was asked to compute,
as dask-expr prints it (memory addresses removed), and the action (compute or
persist).  The same notebook cell gives the same jobs on a live cluster and in
replay mode; a learner's changed job (another partition count, another
aggregation) gives another fingerprint, so it is never mistaken for the shipped
run.  A job run without a name is identified by its plan alone.

Saving: with the environment variable ``TEACHKIT_SAVE_RUNS=DIR``, every record
block on a live cluster saves its recording in ``DIR`` when it ends, named
after its jobs (``tools/make_examples.py`` runs the course this way).  The
recording's ``meta["run"]`` holds the job names, their ``about=`` lines, the
notebook cell (:func:`cell_key` of its code) and the slowed workers in force, so that a
replay can tell a changed fault from the shipped one.

>>> plan_fingerprint("FromMap: func=<function make_partition at 0x7fda90f69da0>", "compute") == \\
...     plan_fingerprint("FromMap: func=<function make_partition at 0x7f0000000000>", "compute")
True
>>> import tempfile
>>> plan_fingerprint(f"ToParquet: path='{tempfile.gettempdir()}/tmpq1w2e3/sales'", "compute") == \\
...     plan_fingerprint(f"ToParquet: path='{tempfile.gettempdir()}/teachkit-lesson-02-x9/sales'", "compute")
True
>>> slug("03 · 100 partitions on 5 workers")
'03-100-partitions-on-5-workers'
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Environment variable: a folder where every record block on a live cluster saves its run.
SAVE_ENV = "TEACHKIT_SAVE_RUNS"
#: ``about=`` lines given to ``teachkit.job``, by job name (this process).
ABOUT: dict[str, str] = {}

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
#: The data of a persisted collection (futures on a cluster, the frames themselves here): its keys name it.
_PERSISTED = re.compile(r"layer=\{.*?\} (?=_meta=)", re.S)


def normalize_plan(text: str) -> str:
    """A plan's text without what changes from one process to the next.

    Memory addresses, persisted data, and the name of a temporary folder (a
    lesson that writes files writes them to a new one each time, e.g.
    ``tempfile.mkdtemp()``): a path in it reads ``<tmp>/sales`` from any run.
    """
    text = _ADDRESS.sub("", _PERSISTED.sub("layer={...} ", text))
    temp = re.escape(tempfile.gettempdir().rstrip("/\\"))
    return re.sub(temp + r"[/\\][^/\\\s'\"(),\]]+", "<tmp>", text).strip()


def plan_fingerprint(logical: str | None, action: str | None) -> str | None:
    """A short, stable fingerprint of a job's logical plan and action (``None`` when there is no plan text)."""
    if not logical:
        return None
    text = f"{action or ''}\n{normalize_plan(logical)}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def signature(rec: Any) -> list[dict[str, Any]]:
    """``[{"name", "plan"}]``: what identifies each job of a recording (see the module docstring).

    A run saved with ``TEACHKIT_SAVE_RUNS`` carries its jobs' keys as noted when
    they were submitted (:func:`job_key`); for any other recording they are
    read from the recorded plans (for a ``persist``, dask records the plan after
    optimising it, which depends on the scheduler: only saved runs replay those).
    """
    keys = (rec.meta.get("run") or {}).get("keys")
    if isinstance(keys, list) and keys:
        return [{"name": k.get("name"), "plan": k.get("plan")} for k in keys if isinstance(k, dict)]
    return [{"name": job.name, "plan": plan_fingerprint(job.expr.get("logical"), job.expr.get("action"))}
            for job in rec.jobs]


def job_key(max_depth: int = 80) -> dict[str, Any]:
    """``{"name", "plan"}`` of the job being submitted now, read from the calling frames (never raises).

    The name is the ``teachkit.job`` span in force; the plan is the fingerprint
    of the collections as the user wrote them (before dask optimises them, which
    depends on the scheduler: a P2P shuffle on a cluster, another one here) and
    the action.  The outermost ``compute``/``persist`` frame holding them wins
    (a dataframe's ``persist`` optimises the collection before handing it on).
    """
    key: dict[str, Any] = {"name": None, "plan": None}
    try:
        import sys

        import dask

        from teachkit.record.plan import tree_text

        span = dask.get_annotations().get("span") or {}
        key["name"] = " / ".join(span.get("name", ())) or None
        frame, exprs, action = sys._getframe(1), None, None
        for _ in range(max_depth):
            if frame is None:
                break
            name, local = frame.f_code.co_name, frame.f_locals
            if name in ("compute", "persist"):
                action = name
                colls = local.get("collections")
                if isinstance(colls, (list, tuple)) and colls and all(hasattr(c, "expr") for c in colls):
                    exprs = [c.expr for c in colls]
                elif hasattr(local.get("self"), "expr"):
                    exprs = [local["self"].expr]
            frame = frame.f_back
        if exprs:  # paths under the working folder (e.g. a parquet write) read the same from any folder
            text = "\n".join(filter(None, (tree_text(e) for e in exprs))).replace(os.getcwd(), ".")
            key["plan"] = plan_fingerprint(text, action)
    except Exception:
        pass
    return key


def covers(local: Sequence[dict], shipped: Sequence[dict]) -> bool:
    """Whether the jobs a block ran (``local``) are the jobs of a shipped run (``shipped``).

    Every local job must have a shipped job of the same name (when it has one)
    and the same plan (when both have one); every shipped job must be one the
    block ran: one of its names (or, for a job run without a name, its plan).
    Names and plans are compared, not counts: a sort whose split points dask
    cached here (a cell run again) runs one job of its name instead of two.
    """
    if not local or not shipped:
        return False

    def same(mine: dict, theirs: dict) -> bool:
        name, a, b = mine.get("name"), mine.get("plan"), theirs.get("plan")
        if name is None:  # a job run without a name: only its plan can say which it is
            return a is not None and a == b
        return name == theirs.get("name") and (a is None or b is None or a == b)

    def ran(theirs: dict) -> bool:
        return any(theirs.get("name") == m["name"] if m.get("name") is not None else same(m, theirs) for m in local)

    return all(any(same(m, s) for s in shipped) for m in local) and all(ran(s) for s in shipped)


def slug(text: str, limit: int = 60) -> str:
    """A file name made of a job's name: lower case, digits and dashes."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return words[:limit].rstrip("-") or "run"


# -- saving every run (TEACHKIT_SAVE_RUNS=DIR) ------------------------------------------------
def saver(client: Any) -> Callable[[Any], Path | None] | None:
    """What saves a block's recording when it ends, or ``None`` when ``TEACHKIT_SAVE_RUNS`` is not set.

    Call it at the start of the block (it notes the slowed workers in force);
    call what it returns with the finished recording and the :func:`job_key`
    of each job submitted in the block.
    """
    folder = os.environ.get(SAVE_ENV, "").strip()
    if not folder:
        return None
    slows = active_slows(client)
    cell = _cell()

    def save(rec: Any, keys: list[dict] | None = None) -> Path | None:
        if not rec.jobs:
            return None
        names = [job.name for job in rec.jobs]
        faults = sorted({*slows, *active_slows(client)})
        rec.meta["run"] = {
            "jobs": list(dict.fromkeys(names)),
            "keys": list(keys or []),
            "about": next((ABOUT[n] for n in names if n in ABOUT), None),
            "cell": cell,
            "slow_workers": [{"worker": w, "factor": f} for w, f in faults],
        }
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        base = slug(names[0])
        path = out / f"{base}.json.gz"
        n = 2
        while path.exists():
            path, n = out / f"{base}-{n}.json.gz", n + 1
        return rec.save(path)

    return save


def active_slows(client: Any) -> set[tuple[str, float]]:
    """``(worker, factor)`` of every ``faults.slow_worker`` in force on this client."""
    from teachkit.stragglers import _ACTIVE

    cid = getattr(client, "id", None)
    return {(worker, float(slow.factor)) for (owner, worker), slow in list(_ACTIVE.items())
            if owner == cid and not slow.undone}


def cell_key(source: str) -> str:
    """What identifies a notebook cell by its code (``tools/make_examples.py`` finds the block's cell by it)."""
    return hashlib.sha1(source.strip().encode("utf-8")).hexdigest()[:12]


def _cell() -> str | None:
    """The :func:`cell_key` of the notebook cell running now (``None`` outside IPython)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return cell_key(shell.history_manager.input_hist_raw[-1]) if shell is not None else None
    except Exception:
        return None
