"""start_cluster's teaching defaults: loopback only, reuse, clean replacement, nothing left behind.

Also what guards the cluster: the memory watchdog (a job stuck on workers out
of memory is said in one line), the script main-guard check, and the import
structure of the entry modules (no cycles).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

import teachkit
from teachkit.datasets import sales
from teachkit.watchdog import PATIENCE_S, RECOVER_S, MemoryWatchdog

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]


def _worker_pids(cluster) -> set[int]:
    return set(cluster.client.run(lambda: __import__("os").getpid()).values())


def test_different_arguments_replace_the_cluster_cleanly():
    first = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        pids = _worker_pids(first)
        loaded = lambda: "wave" in __import__("sys").modules  # noqa: E731 - a module no worker loads by itself
        assert not any(first.client.run(loaded).values())
        first.warm_up("wave")  # what lessons call before their first job
        assert list(first.client.run(loaded).values()) == [True, True]
        second = teachkit.start_cluster(workers=1, threads_per_worker=2, memory_limit="1GiB", dashboard=False)
        try:
            assert second is not first and not first.running
            assert list(second.workers) == ["worker-1"]
            gone, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=20)
            assert alive == []
        finally:
            second.close()
    finally:
        first.close()


def test_dashboard_is_on_loopback_with_a_link():
    cluster = teachkit.start_cluster(workers=1, threads_per_worker=1, memory_limit="1GiB", dashboard=True)
    try:
        assert cluster.dashboard_link.startswith("http://127.0.0.1:")
        assert ":8787" not in cluster.dashboard_link
        assert "Dask dashboard" in cluster._repr_html_()
    finally:
        cluster.close()


@pytest.mark.parametrize("kwargs", [{"workers": 0}, {"workers": "five"}, {"threads_per_worker": 0}])
def test_wrong_sizes_get_one_clear_error(kwargs):
    with pytest.raises(ValueError, match="whole number"):
        teachkit.start_cluster(**kwargs)


def test_unknown_worker_name_lists_the_workers():
    cluster = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        with pytest.raises(KeyError, match="worker-1, worker-2"):
            cluster.address_of("worker-9")
    finally:
        cluster.close()


def test_interpreter_exit_closes_every_process_and_removes_the_log_folder():
    code = textwrap.dedent(
        """
        import os, teachkit
        c = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
        print(c.log_path.parent)
        print(*c.client.run(os.getpid).values())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    folder, pids = out.stdout.splitlines()
    pids = [int(p) for p in pids.split()]
    assert len(pids) == 2
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=20)
    assert alive == []
    assert "Traceback" not in out.stderr
    assert folder.startswith(str(Path(__import__("tempfile").gettempdir()) / "teachkit-logs-"))
    assert not Path(folder).exists()


def test_close_removes_the_log_folder():
    cluster = teachkit.start_cluster(workers=1, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    folder = cluster.log_path.parent
    assert folder.is_dir()
    cluster.close()
    assert not folder.exists()


def test_a_script_without_a_main_guard_is_told_so(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("import teachkit\nc = teachkit.start_cluster(workers=2, dashboard=False)\nprint(c.workers)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    last = out.stderr.strip().splitlines()[-1]
    assert last == (f"teachkit.errors.ClusterError: This script starts a cluster when it is imported ({script}:2): "
                    "worker processes import the script again as they start, so put the code that starts the "
                    'cluster under `if __name__ == "__main__":`.')
    assert "Nanny failed" not in out.stderr and "fewer workers" not in out.stderr


# -- the memory watchdog ----------------------------------------------------------------------
def _fake(states: dict, workers: list, restarts: int = -1):
    groups = {"g": SimpleNamespace(states=states)}
    scheduler = SimpleNamespace(task_groups=groups, workers={w.address: w for w in workers})
    nanny = SimpleNamespace(memory_manager=SimpleNamespace(_last_terminated_pid=restarts, memory_limit=50 * 2**20))
    return scheduler, nanny


def _worker(address: str, status: str, used_mib: int = 131):
    return SimpleNamespace(address=address, status=SimpleNamespace(name=status), memory_limit=50 * 2**20,
                           memory=SimpleNamespace(process=used_mib * 2**20))


def test_the_watchdog_speaks_once_when_every_worker_is_paused_and_tasks_wait(capsys):
    now = [0.0]
    scheduler, nanny = _fake({"queued": 20, "memory": 3},
                             [_worker("tcp://a", "paused"), _worker("tcp://b", "paused", 140)])
    dog = MemoryWatchdog(scheduler, nannies=lambda: [nanny], clock=lambda: now[0],
                         names=lambda addrs: {"tcp://a": "worker-1", "tcp://b": "worker-2"})
    for t in range(0, 10):
        now[0] = float(t)
        dog.check()
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0] == dog.message
    assert out[0].startswith("teachkit: the job is stuck: the workers need more memory than memory_limit gives them "
                             "(50 MiB each; worker-1 uses 131 MiB, worker-2 uses 140 MiB), so dask pauses them")
    assert 'teachkit.start_cluster(memory_limit="2GiB")' in out[0] and "interrupt the kernel" in out[0]

    def run(status: str, start: float, seconds: float) -> None:
        scheduler.workers["tcp://a"].status.name = status
        for step in range(int(seconds) + 1):
            now[0] = start + step
            dog.check()

    run("running", 10, 2)  # worker-1 runs a moment, then pauses again: the same stall
    run("paused", 13, PATIENCE_S + 2)
    assert capsys.readouterr().out == ""
    run("running", 20, RECOVER_S + 1)  # the job goes on for a while: a later stall is news
    run("paused", 40, PATIENCE_S + 2)
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_the_watchdog_is_quiet_when_nothing_waits_or_some_worker_runs(capsys):
    now = [0.0]
    idle, nanny = _fake({"memory": 3}, [_worker("tcp://a", "paused")])
    busy, _ = _fake({"processing": 4}, [_worker("tcp://a", "paused"), _worker("tcp://b", "running")])
    for scheduler in (idle, busy):
        dog = MemoryWatchdog(scheduler, nannies=lambda: [nanny], clock=lambda: now[0])
        for t in range(10):
            now[0] = float(t)
            dog.check()
    assert capsys.readouterr().out == ""


def test_the_watchdog_counts_memory_restarts_by_the_nannies(capsys):
    now = [0.0]
    scheduler, nanny = _fake({"queued": 20}, [])  # every worker is being restarted
    dog = MemoryWatchdog(scheduler, nannies=lambda: [nanny], clock=lambda: now[0])
    for t in range(10):
        now[0] = float(t)
        nanny.memory_manager._last_terminated_pid = 1000 + t  # a new process killed for memory every second
        dog.check()
    (line,) = capsys.readouterr().out.splitlines()
    assert "(50 MiB each), so dask restarts them and the job waits" in line


@pytest.mark.slow
def test_a_job_stalled_by_memory_is_said_within_seconds_and_left_alone(capsys):
    cluster = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="50MiB", dashboard=False)
    try:
        future = cluster.client.compute(sales(rows=20_000, partitions=20).groupby("category").count())
        said, deadline = "", time.monotonic() + 90
        while "the job is stuck" not in said and time.monotonic() < deadline:
            time.sleep(0.5)
            said += capsys.readouterr().out
        assert said.count("teachkit: the job is stuck: the workers need more memory than memory_limit gives them "
                          "(50 MiB each") == 1, said
        assert future.status == "pending"  # the kit said so; the learner decides
        future.cancel()
    finally:
        cluster.close()


# -- structure ------------------------------------------------------------------------------
ENTRY = ["arguments", "block_guard", "cli", "cli_jobs", "cluster", "datasets", "doctor", "errors", "faults",
         "kill_trigger", "local_runs", "logs", "preflight", "restarts", "session", "stragglers", "watchdog"]


def _imports(path: Path, package: str) -> set[str]:
    """Every teachkit module a file imports, at the top or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{a.name}" for a in node.names)
            names.add(node.module)
    return {n for n in names if n.startswith(package + ".")}


def test_the_entry_modules_import_each_other_without_cycles():
    root = Path(teachkit.__file__).parent
    graph = {m: {n.split(".")[1] for n in _imports(root / f"{m}.py", "teachkit")} & set(ENTRY) - {m} for m in ENTRY}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, f"import cycle: {' -> '.join(path[path.index(module):] + [module])}"
        if module in done:
            return
        for other in sorted(graph[module]):
            visit(other, path + [module])
        done.add(module)

    for module in ENTRY:
        visit(module, [])
    assert "cluster" not in graph["stragglers"] or "faults" not in graph["stragglers"]


def test_the_entry_modules_are_at_most_400_lines():
    root = Path(teachkit.__file__).parent
    files = [root / f"{m}.py" for m in ENTRY] + [root / "model" / "recording.py", root / "model" / "validate.py"]
    long = {p.name: n for p in files if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


STALL_NOTEBOOK = [
    "import teachkit\nfrom teachkit.datasets import sales\n"
    "cluster = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit='50MiB', dashboard=False)",
    "from distributed import TimeoutError\n"
    "future = cluster.client.compute(sales(rows=20_000, partitions=20).groupby('category').count())\n"
    "try:\n    future.result(timeout=30)\nexcept TimeoutError:\n    print('gave up waiting')",
    "future.cancel()\ncluster.close()",
]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_stall_line_lands_in_the_cell_that_waits_for_the_job(tmp_path):
    """The watchdog speaks from the scheduler's thread; Jupyter must show its line in the running cell."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in STALL_NOTEBOOK])
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    texts = ["".join(o.get("text", "") for o in cell.outputs) for cell in nb.cells]
    assert texts[1].count("teachkit: the job is stuck") == 1, texts
    assert texts[1].index("teachkit: the job is stuck") < texts[1].index("gave up waiting")
    assert "the job is stuck" not in texts[0] + texts[2]
