"""Run one notebook headless on a fresh kernel, then kill the kernel and everything it started.

Used by ``teachkit grade``.  The kernel (started by jupyter_client in a session
of its own) and every process under it, dask workers included, share one
process group: at the end it is killed with SIGKILL, every process seen under
the kernel is killed too, and psutil confirms that none survived.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Run:
    """What happened while a notebook ran."""

    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (cell index, ename, evalue)
    stopped: tuple[int, str] | None = None  # (cell index, why) when the run ended early
    leftovers: int = 0


ACTIVE: set[int] = set()  # process groups of kernels running now (killed on Ctrl-C)
LOCK = threading.Lock()


def run_notebook(nb: Any, timeout: float, kernel: str = "python3") -> Run:
    """Execute ``nb`` in place on a fresh kernel, in a temporary folder, within ``timeout`` seconds in all.

    The seconds count from the kernel's start (which may take up to 120 s more on a busy machine).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    run, state = Run(), {"cell": 0, "pgid": None, "pids": set(), "deadline": time.monotonic() + timeout}
    workdir = tempfile.mkdtemp(prefix="teachkit-grade-")
    env = {k: v for k, v in os.environ.items() if k != "TEACHKIT_CHECKS"}

    def started(**_: Any) -> None:
        state["deadline"] = time.monotonic() + timeout  # the limit counts from the kernel's start
        prov = getattr(client.km, "provisioner", None)
        state["pgid"] = getattr(prov, "pgid", None)
        state["pids"].add(getattr(prov, "pid", None))
        with LOCK:
            ACTIVE.add(state["pgid"])

    def cell_starts(cell: Any = None, cell_index: int = 0, **_: Any) -> None:
        state["cell"] = cell_index
        state["pids"] |= _descendants(state["pids"])

    client = NotebookClient(
        nb, timeout=None, timeout_func=lambda cell: max(1, int(state["deadline"] - time.monotonic() + 0.999)),
        startup_timeout=120, kernel_name=kernel, allow_errors=True,
        interrupt_on_timeout=False, shutdown_kernel="immediate", record_timing=False,
        resources={"metadata": {"path": workdir}}, on_notebook_start=started, on_cell_execute=cell_starts)
    try:
        asyncio.run(client.async_execute(env=env))  # a loop of its own, closed after (one per grading thread)
    except CellTimeoutError:
        run.stopped = (state["cell"], "timed out")
    except DeadKernelError:
        run.stopped = (state["cell"], "the kernel died")
    except Exception as exc:  # the kernel did not start, a broken notebook, ...
        run.stopped = (state["cell"], f"could not run ({type(exc).__name__}: {str(exc)[:120]})")
    finally:
        run.leftovers = kill_all(state["pgid"], state["pids"])
        with LOCK:
            ACTIVE.discard(state["pgid"])
        shutil.rmtree(workdir, ignore_errors=True)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                run.errors.append((i, out.get("ename", "Error"), str(out.get("evalue", ""))))
                break
    return run


def _descendants(pids: set) -> set[int]:
    import psutil

    found = set()
    for pid in [p for p in pids if p]:
        try:
            found |= {c.pid for c in psutil.Process(pid).children(recursive=True)}
        except psutil.Error:
            pass
    return found


def kill_all(pgid: int | None, pids: set) -> int:
    """Kill the kernel's process group and every process seen under it; return how many had to be killed."""
    import psutil

    def alive() -> list:
        procs = []
        for proc in psutil.process_iter(["pid", "status"]):
            try:
                in_group = pgid is not None and os.getpgid(proc.pid) == pgid
            except OSError:
                in_group = False
            if (in_group or proc.pid in pids) and proc.info["status"] != psutil.STATUS_ZOMBIE:
                procs.append(proc)
        return procs

    if pgid is not None and pgid == os.getpgrp():
        pgid = None  # never our own group (a kernel always gets a session of its own; be safe anyway)
    left = alive()
    if pgid is not None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    for proc in left:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(left, timeout=10)
    still = alive()
    if still:  # pragma: no cover - a process that ignores SIGKILL: report it, never hang
        print(f"teachkit grade: {len(still)} process(es) of a kernel survived SIGKILL: "
              f"{[p.pid for p in still]}", file=sys.stderr)
    return len(left)
