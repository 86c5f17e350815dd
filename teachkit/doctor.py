"""``teachkit doctor``: check that this machine can run the course.

One line per check, ``ok`` or ``MISSING``; under each MISSING line, the fix.
The exit code is 1 when anything is missing.  In a notebook, :func:`checkup`
runs the same checks and returns a :class:`Checkup` that Jupyter shows as a
table (the last line of a cell): ``teachkit.doctor.checkup()``.

Every check is a function returning a :class:`Check`; checks that touch the
outside world take what they use (``which``, ``run``) as arguments so tests can
hide a program without touching the machine. Slow or risky checks run in a
subprocess with a timeout, so a hung cluster cannot hang the doctor.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator

# The supported ranges; tests/test_environment.py checks they match pyproject.toml.
MIN_PYTHON = (3, 10)
SUPPORTED: dict[str, str] = {
    # distribution name: version range
    "dask": ">=2026.8.0,<2026.9",
    "distributed": ">=2026.8.0,<2026.9",
    "pandas": ">=2.2,<4",
    "pyarrow": ">=15",
    "ipywidgets": ">=8.1,<9",
    "jupyterlab": ">=4.2,<5",
    "graphviz": ">=0.20",
    "anywidget": ">=0.9,<1",
    "bokeh": ">=3.1",
}
# Module to import for a distribution, where the names differ.
_MODULE = {"dask": "dask.dataframe"}

DOT_FIX = (
    "install Graphviz's dot program -- Debian/Ubuntu: sudo apt-get install -y graphviz;"
    " macOS: brew install graphviz; conda: conda install -c conda-forge graphviz"
)
PACKAGE_FIX = 'run `make course` from the teachkit folder (or: pip install -e ".[test]")'
CHECK_TIMEOUT = 90.0  # seconds, for any check that runs a subprocess


@dataclasses.dataclass(frozen=True)
class Check:
    """The result of one check: what was checked, whether it is fine, and how to fix it."""

    name: str
    ok: bool
    detail: str = ""
    fix: str = ""

    def lines(self) -> list[str]:
        status = "ok" if self.ok else "MISSING"
        head = f"{status:<8} {self.name}"
        if self.detail:
            head += f": {self.detail}"
        out = [head]
        if not self.ok and self.fix:
            out.append(f"         fix: {self.fix}")
        return out


def check_python(version_info: tuple[int, ...] = tuple(sys.version_info)) -> Check:
    version = ".".join(map(str, version_info[:3]))
    ok = tuple(version_info[:2]) >= MIN_PYTHON
    need = ".".join(map(str, MIN_PYTHON))
    return Check(
        "Python",
        ok,
        f"{version} (need >={need})",
        f"install Python >={need} (python.org, brew install python, apt-get install python3)"
        f" and run `make course PYTHON=python3.X`",
    )


def check_package(dist: str, spec: str) -> Check:
    """Importable, and its installed version inside ``spec``."""
    from packaging.specifiers import SpecifierSet

    fix = f"{PACKAGE_FIX}; or pip install '{dist}{spec}'"
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return Check(dist, False, f"not installed (need {spec})", fix)
    try:
        importlib.import_module(_MODULE.get(dist, dist))
    except Exception as exc:  # an import can fail in many ways; report, don't crash
        return Check(dist, False, f"{version} installed but import failed: {exc!r:.200}", fix)
    if not SpecifierSet(spec).contains(version, prereleases=True):
        return Check(dist, False, f"{version} installed, need {spec}", fix)
    return Check(dist, True, f"{version} ({spec})")


def check_dot(which: Callable[[str], str | None] = shutil.which, timeout: float = 10.0) -> Check:
    """Graphviz's ``dot`` binary is on PATH and answers ``dot -V``."""
    path = which("dot")
    if path is None:
        return Check("dot (Graphviz)", False, "not found on PATH", DOT_FIX)
    try:
        proc = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("dot (Graphviz)", False, f"{path} -V failed: {exc}", DOT_FIX)
    # dot prints its version on stderr, e.g. "dot - graphviz version 2.43.0 (0)"
    text = (proc.stderr or proc.stdout).strip().splitlines()
    if proc.returncode != 0 or not text:
        return Check("dot (Graphviz)", False, f"{path} -V exited {proc.returncode}", DOT_FIX)
    return Check("dot (Graphviz)", True, f"{text[0]} ({path})")


def check_kernel(timeout: float = 60.0) -> Check:
    """A ``python3`` Jupyter kernel exists and its Python can import teachkit."""
    fix = (
        "run `make course`, or: python -m ipykernel install --sys-prefix"
        " (with the Python that has teachkit installed)"
    )
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError as exc:
        return Check("Jupyter kernel python3", False, f"jupyter_client missing: {exc}", fix)
    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec("python3")
    except NoSuchKernel:
        found = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        return Check("Jupyter kernel python3", False, f"not found (found: {found})", fix)
    exe = spec.argv[0] if spec.argv else ""
    if exe in ("python", "python3", "{python}"):  # jupyter resolves these to its own Python
        exe = sys.executable
    code = "import teachkit, dask.dataframe, distributed"
    try:
        proc = subprocess.run([exe, "-c", code], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("Jupyter kernel python3", False, f"cannot run {exe}: {exc}", fix)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return Check("Jupyter kernel python3", False, f"{exe} cannot import teachkit: {last}", fix)
    return Check("Jupyter kernel python3", True, exe)


def check_cluster(timeout: float = CHECK_TIMEOUT) -> Check:
    """A 2-worker local cluster starts, runs a 2-partition job and closes (in a subprocess)."""
    name = "2-worker local cluster"
    fix = (
        "read the error above; check that processes may listen on 127.0.0.1 and that"
        " `python -m teachkit.doctor --probe-cluster` works"
    )
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "teachkit.doctor", "--probe-cluster"]
    # own process group, so a timeout also ends the worker processes
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Check(name, False, f"no answer within {timeout:.0f} s", fix)
    elapsed = time.perf_counter() - started
    lines = out.strip().splitlines()
    if proc.returncode == 0 and lines and lines[-1].startswith("ok "):
        return Check(name, True, f"{lines[-1][3:]}, {elapsed:.1f} s")
    reason = (err.strip().splitlines() or lines or [f"exit code {proc.returncode}"])[-1]
    return Check(name, False, reason[:300], fix)


def _probe_cluster() -> int:
    """Start 2 workers, sum range(100) over 2 partitions, close. Runs in the doctor's subprocess."""
    import dask.dataframe as dd
    import pandas as pd

    try:
        from teachkit import start_cluster
    except ImportError:
        start_cluster = None
    frame = dd.from_pandas(pd.DataFrame({"x": range(100)}), npartitions=2)
    if start_cluster is not None:
        how = "teachkit.start_cluster"
        cluster = start_cluster(workers=2, threads_per_worker=1)
        try:
            total, workers = _run_probe(cluster.client, frame)
        finally:
            cluster.close()
    else:
        from distributed import Client, LocalCluster

        how = "distributed.LocalCluster"
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster, Client(cluster) as client:
            total, workers = _run_probe(client, frame)
    if total != 4950 or workers != 2:
        print(f"wrong answer: sum={total} (want 4950), workers={workers} (want 2)")
        return 1
    print(f"ok {how}: 2 workers summed 2 partitions")
    return 0


def _run_probe(client, frame) -> tuple[int, int]:
    client.wait_for_workers(2, timeout=60)
    total = int(frame.x.sum().compute())
    return total, len(client.scheduler_info()["workers"])


def iter_checks(
    *, cluster: bool = True, which: Callable[[str], str | None] = shutil.which
) -> Iterator[Check]:
    """Run the checks one by one, yielding each result as soon as it is known."""
    yield check_python()
    for dist, spec in SUPPORTED.items():
        yield check_package(dist, spec)
    yield check_dot(which=which)
    yield check_kernel()
    if cluster:
        yield check_cluster()


def report(checks: Iterable[Check], write: Callable[[str], object] = print) -> int:
    """Write each check as it arrives; return the exit code (0 all ok, 1 anything missing)."""
    total = missing = 0
    for check in checks:
        total += 1
        missing += not check.ok
        for line in check.lines():
            write(line)
    if missing:
        write(f"{missing} of {total} checks MISSING: fix them and run `teachkit doctor` again")
        return 1
    write(f"all {total} checks ok")
    return 0


@dataclasses.dataclass(frozen=True)
class Checkup:
    """The doctor's checks as one notebook picture: a table, one row per check, the fix under a missing one.

    ``str()`` gives the lines ``teachkit doctor`` prints; :attr:`ok` says whether
    everything passed.
    """

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def missing(self) -> list[Check]:
        """The checks that failed, in order."""
        return [check for check in self.checks if not check.ok]

    def summary(self) -> str:
        """One sentence: all checks ok, or how many are missing."""
        if self.ok:
            return f"all {len(self.checks)} checks ok: this machine can run the course"
        return f"{len(self.missing)} of {len(self.checks)} checks MISSING: fix them and run the cell again"

    def __str__(self) -> str:
        return "\n".join([line for check in self.checks for line in check.lines()] + [self.summary()])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from html import escape

        rows = []
        for check in self.checks:
            mark, color = ("✔ ok", "#007A4D") if check.ok else ("✘ MISSING", "#B00000")
            fix = f'<div style="color:#B00000">fix: {escape(check.fix)}</div>' if not check.ok and check.fix else ""
            cell = "padding:2px 10px;text-align:left;vertical-align:top"
            rows.append(f'<tr><td style="{cell};color:{color};white-space:nowrap"><b>{mark}</b></td>'
                        f'<td style="{cell};white-space:nowrap">{escape(check.name)}</td>'
                        f'<td style="{cell};overflow-wrap:anywhere">{escape(check.detail)}{fix}</td></tr>')
        color = "#007A4D" if self.ok else "#B00000"
        return (f'<div style="font-family:Helvetica, Arial, sans-serif;font-size:13px;max-width:100%">'
                f'<div style="font-weight:bold;font-size:14px;margin-bottom:4px">teachkit doctor</div>'
                f'<table style="border-collapse:collapse;table-layout:auto;max-width:100%">{"".join(rows)}</table>'
                f'<div style="margin-top:4px;color:{color}"><b>{escape(self.summary())}</b></div></div>')


def checkup(*, cluster: bool = True, which: Callable[[str], str | None] = shutil.which) -> Checkup:
    """Run the checks of ``teachkit doctor`` from a notebook cell and return them as a table.

    Parameters
    ----------
    cluster : bool
        Also start (and close) a 2-worker cluster in a separate process, as the
        command does (about 5-10 s); ``False`` skips that check.
    which : callable
        How to find a program on the PATH (tests pass one that hides ``dot``).

    Returns
    -------
    Checkup
        Jupyter shows it as a table; ``str()`` gives the command's lines.

    Examples
    --------
    >>> report = checkup(cluster=False)          # doctest: +SKIP
    >>> report.ok, report.summary()              # doctest: +SKIP
    (True, 'all 12 checks ok: this machine can run the course')
    """
    return Checkup(tuple(iter_checks(cluster=cluster, which=which)))


def main(*, cluster: bool = True, which: Callable[[str], str | None] = shutil.which) -> int:
    return report(iter_checks(cluster=cluster, which=which), write=_print_now)


def _print_now(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--probe-cluster"]:
        sys.exit(_probe_cluster())
    sys.exit(main(cluster="--no-cluster" not in sys.argv[1:]))
