"""What is checked before a cluster starts or is reached, so that nothing starts on a mistake.

- :func:`check_cluster_arguments`: sizes of a local cluster; the worker count
  is capped by what this machine can hold (memory) and by a sane maximum.
- :func:`unguarded_script`: a script that starts a cluster at import time,
  without ``if __name__ == "__main__":`` (every spawned worker process imports
  the script again, and fails).
- :func:`check_address` and :func:`probe_scheduler`: ``connect``'s address, and
  a first contact with a deadline, so that a web server or a silent port
  cannot hang the notebook (dask's own handshake has no deadline).
"""

from __future__ import annotations

import ast
import asyncio
import os
import sys
import threading
from pathlib import Path
from typing import Any

from teachkit import arguments
from teachkit.errors import ArgumentError, ClusterError

#: Most worker processes teachkit starts on one machine.
MAX_LOCAL_WORKERS = 32
#: Most task slots (threads) per worker.
MAX_THREADS_PER_WORKER = 64
#: Memory one idle worker process takes (Python, pandas, dask): about 130 MiB measured, rounded up.
WORKER_PROCESS_BYTES = 200 * 2**20


def _available_memory() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # pragma: no cover - psutil is a dependency of distributed
        return 2**63


def max_local_workers(available: int | None = None) -> tuple[int, str]:
    """How many worker processes this machine can hold, and why (one clause)."""
    available = _available_memory() if available is None else available
    fit = max(1, available // WORKER_PROCESS_BYTES)
    if fit < MAX_LOCAL_WORKERS:
        return fit, (f"each worker process needs about {WORKER_PROCESS_BYTES // 2**20} MiB and this machine has "
                     f"{available / 2**30:.1f} GiB free, so at most {fit} fit")
    cores = os.cpu_count() or 1
    return MAX_LOCAL_WORKERS, (f"teachkit starts at most {MAX_LOCAL_WORKERS} worker processes on one machine "
                               f"(this one has {cores} cores)")


def check_memory_limit(value: Any) -> Any:
    """dask's memory_limit forms: None or 0 (no limit), "auto", a size ("2GiB"), bytes, or a fraction of the machine."""
    if value is None or value == "auto":
        return value
    if isinstance(value, str):
        from dask.utils import parse_bytes

        try:
            nbytes = parse_bytes(value)
        except (ValueError, TypeError):
            raise ArgumentError(f"memory_limit={value!r} is not a size: write one such as \"2GiB\" or \"500MiB\".") \
                from None
        if nbytes <= 0:
            raise ArgumentError(f"memory_limit={value!r} is not a size: write one such as \"2GiB\" or \"500MiB\".")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentError(f"memory_limit={value!r} is not a size: write one such as \"2GiB\" or \"500MiB\".")
    real = arguments.number("memory_limit", value, minimum=0, example=2 * 2**30)
    if 1 < real < 2**20:
        raise ArgumentError(f"memory_limit={value!r} means {real:g} bytes per worker: write a size such as \"2GiB\".")
    return value


def check_cluster_arguments(workers: Any, threads_per_worker: Any, memory_limit: Any, dashboard: Any,
                            available: int | None = None) -> tuple[int, int, Any, bool]:
    """The arguments of :func:`teachkit.start_cluster`, checked; raises ``ArgumentError`` naming the first bad one."""
    most, why = max_local_workers(available)
    workers = arguments.count("workers", workers, maximum=most, example=3,
                              why=f"{why}; use fewer workers, or teachkit.connect() to a real cluster")
    threads = arguments.count("threads_per_worker", threads_per_worker, maximum=MAX_THREADS_PER_WORKER, example=1,
                              why=f"a worker has at most {MAX_THREADS_PER_WORKER} task slots here")
    return workers, threads, check_memory_limit(memory_limit), arguments.flag("dashboard", dashboard)


# -- scripts without a main guard -------------------------------------------------
def _is_main_test(node: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not isinstance(node, ast.Compare) or len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq):
        return False
    sides = [node.left, node.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    texts = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and texts == ["__main__"]


def unguarded_script(frame: Any = None) -> str | None:
    """``"script.py:4"`` when a script's top-level code starts the cluster outside ``if __name__ == "__main__":``.

    Worker processes are *spawned*: each imports the main script again, and a
    cluster started at import time starts again in every worker, which fails.
    Only a script run as a file counts (not a notebook, not ``python -c``).
    """
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if not script or main is None:
        return None
    frame = frame or sys._getframe(1)
    while frame is not None and not (frame.f_globals is main.__dict__ and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None
    try:
        if Path(frame.f_code.co_filename).resolve() != Path(script).resolve():
            return None
        tree = ast.parse(Path(script).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    line = frame.f_lineno
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_test(node.test) and node.lineno <= line <= (node.end_lineno or 0):
            return None
    return f"{script}:{line}"


def in_spawned_worker() -> bool:
    """True while a spawned child process imports the main script again (as ``__mp_main__``)."""
    import multiprocessing

    return multiprocessing.parent_process() is not None and "__mp_main__" in sys.modules


def guard_sentence(where: str) -> str:
    return (f"This script starts a cluster when it is imported ({where}): worker processes import the script again "
            "as they start, so put the code that starts the cluster under `if __name__ == \"__main__\":`.")


# -- connect --------------------------------------------------------------------
def check_address(address: Any) -> str:
    """A scheduler address such as ``tcp://10.0.0.5:8786`` (refuses the dashboard's http:// link)."""
    if not isinstance(address, str) or not address.strip():
        raise ArgumentError(f"address={address!r} is not a scheduler address: pass one such as "
                            "\"tcp://10.0.0.5:8786\".")
    address = address.strip()
    if address.startswith(("http://", "https://")):
        raise ArgumentError(f"{address!r} is a web address (the dashboard's?): connect to the scheduler's address, "
                            "such as \"tcp://10.0.0.5:8786\".")
    return address


async def _identity(address: str, timeout: float) -> Any:
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def probe_scheduler(address: str, timeout: float) -> None:
    """Make first contact with ``address`` within ``timeout`` seconds; ``ClusterError`` unless a scheduler answers.

    Runs in a short-lived thread with its own event loop, so that it works the
    same in a script and in a notebook (whose main thread runs an event loop).
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["reply"] = asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout))
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="teachkit-connect-probe", daemon=True)
    thread.start()
    thread.join(timeout + 2.0)
    reply, error = outcome.get("reply"), outcome.get("error")
    if thread.is_alive() or isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        raise ClusterError(f"Could not reach a Dask scheduler at {address!r} within {timeout:g} s: nothing answered as "
                           "one; check the address (the scheduler's, often port 8786) and that `dask scheduler` runs "
                           "there.")
    if error is not None:
        reason = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        raise ClusterError(f"Could not reach a Dask scheduler at {address!r} within {timeout:g} s ({reason}); check "
                           "the address and that `dask scheduler` is running there.")
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        what = f"a Dask {kind.lower()}" if isinstance(kind, str) and kind else "something that is not a Dask scheduler"
        raise ClusterError(f"{address!r} is {what}, not a scheduler: connect to the scheduler's address instead "
                           "(often port 8786).")
