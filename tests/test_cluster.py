"""start_cluster's teaching defaults: loopback only, reuse, clean replacement, nothing left behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import psutil
import pytest

import teachkit

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]


def _worker_pids(cluster) -> set[int]:
    return set(cluster.client.run(lambda: __import__("os").getpid()).values())


def test_different_arguments_replace_the_cluster_cleanly():
    first = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        pids = _worker_pids(first)
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


def test_interpreter_exit_closes_every_process():
    code = textwrap.dedent(
        """
        import os, teachkit
        c = teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
        print(*c.client.run(os.getpid).values())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=20)
    assert alive == []
    assert "Traceback" not in out.stderr
