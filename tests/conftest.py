"""Shared test setup: markers for outside programs, browser launch, real clusters.

Markers (declared in pyproject.toml):
- ``dot``: needs Graphviz's ``dot``; ``browser``: needs Chromium; ``spark``: needs
  pyspark and Java. Skipped when the program is missing, but under ``CI=true`` a
  missing program fails the test: CI must prove the kit works, not skip past it.
- ``cluster``: added automatically to tests that use a cluster fixture.

Replay mode is off for every test (``TEACHKIT_REPLAY=0``) unless the test turns it on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from course_run import course_run  # noqa: F401  (the fixture: one run per course notebook, shared by every test)

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
# The tests prove the kit on live clusters: never replay the shipped runs instead (not even in a notebook kernel
# whose workers cannot start). The tests of replay mode turn it on themselves (tests/test_replay.py).
os.environ["TEACHKIT_REPLAY"] = "0"
for _name in ("TEACHKIT_NO_WORKERS", "TEACHKIT_SAVE_RUNS"):  # a rehearsal or a recording session: not in tests
    os.environ.pop(_name, None)
CLUSTER_FIXTURES = {"cluster", "shared_cluster", "client"}
# Chromium flags that keep it quiet on a machine with no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """Chromium to drive: $TEACHKIT_CHROMIUM, else chromium / chromium-browser / Chrome on PATH."""
    explicit = os.environ.get("TEACHKIT_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    mac = "/Applications/Chromium.app/Contents/MacOS/Chromium"
    return mac if os.access(mac, os.X_OK) else None


def _missing(marker: str) -> str | None:
    """Why tests with this marker cannot run here, or None."""
    if marker == "dot" and shutil.which("dot") is None:
        return "Graphviz's dot is not on PATH (install: apt-get install graphviz / brew install graphviz)"
    if marker == "browser":
        if find_chromium() is None:
            return "no Chromium found (install: apt-get install chromium, or set TEACHKIT_CHROMIUM)"
        if importlib.util.find_spec("playwright") is None:
            return "the playwright Python package is not installed (pip install -e '.[test]')"
    if marker == "spark":
        if importlib.util.find_spec("pyspark") is None:
            return "pyspark is not installed (pip install -e '.[test]')"
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            return "Java is not installed (pyspark needs it: scripts/system-deps.sh java)"
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)


def pytest_runtest_setup(item):
    for marker in ("dot", "browser", "spark"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing(marker)
        if reason is None:
            continue
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def graphviz_dot() -> str:
    """Path of the ``dot`` binary (skips, or fails in CI, when it is missing)."""
    path = shutil.which("dot")
    if path is None:
        reason = _missing("dot")
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of the Chromium to drive (skips, or fails in CI, when it is missing)."""
    reason = _missing("browser")
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return find_chromium()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_executable):
    """pytest-playwright's launch arguments, on the system Chromium (never `playwright install`)."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


# teachkit.start_cluster keeps one cluster per process and hands it back again when
# called with the same arguments while it runs. So the "shared" cluster is the one
# that is running: `cluster` closes it for a fresh one, and the next `shared_cluster`
# test starts it again.
_shared: dict[str, object] = {}


def _start_cluster():
    import teachkit  # lazily: teachkit.start_cluster lives in teachkit/cluster.py

    return teachkit.start_cluster(workers=2, threads_per_worker=1, memory_limit="1GiB")


@contextlib.contextmanager
def small_cluster(workers: int = 2):
    """A local cluster of ``workers`` one-thread processes (1 GiB, no dashboard), closed on exit.

    For module-scoped fixtures: ``with small_cluster(3) as c: yield c``.
    """
    import teachkit

    c = teachkit.start_cluster(workers=workers, threads_per_worker=1, memory_limit="1GiB", dashboard=False)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def cluster():
    """A fresh 2-worker local cluster (1 thread each), closed after the test."""
    c = _start_cluster()
    if c is _shared.get("cluster"):  # handed back the shared one: start afresh
        c.close()
        c = _start_cluster()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="session")
def _close_shared_cluster_at_exit():
    yield
    c = _shared.pop("cluster", None)
    if c is not None:
        c.close()


@pytest.fixture
def shared_cluster(_close_shared_cluster_at_exit):
    """A 2-worker cluster reused across tests (session-wide): don't kill or change its workers."""
    c = _shared.get("cluster")
    if c is None or not c.running:
        c = _shared["cluster"] = _start_cluster()
    return c


@pytest.fixture
def client(cluster):
    """The dask Client of the function-scoped ``cluster``."""
    return cluster.client
