"""`teachkit doctor`: all ok on a set-up machine; MISSING with a fix when dot is hidden."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from teachkit import doctor
from teachkit.cli import main


@pytest.mark.cluster
@pytest.mark.dot
@pytest.mark.timeout(120)
def test_doctor_passes_on_this_machine(capsys):
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("all ") and lines[-1].endswith(" checks ok")
    assert all(line.startswith("ok ") for line in lines[:-1]), lines
    assert any("dot (Graphviz)" in line for line in lines)
    assert any("2-worker local cluster" in line for line in lines)


def test_hidden_dot_is_reported_missing_with_a_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot, nothing else needed
    assert main(["doctor", "--no-cluster"]) == 1
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("MISSING  dot (Graphviz)"))
    assert "not found on PATH" in lines[at]
    assert lines[at + 1].strip().startswith("fix: ") and "apt-get install -y graphviz" in lines[at + 1]
    assert "brew install graphviz" in lines[at + 1]
    assert lines[-1].startswith("1 of ") and "MISSING" in lines[-1]


def test_the_command_exits_1_when_dot_is_hidden(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "teachkit.cli", "doctor", "--no-cluster"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MISSING  dot (Graphviz)" in proc.stdout


def test_a_broken_dot_is_missing(tmp_path):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    check = doctor.check_dot(which=lambda name: str(fake))
    assert not check.ok and "exited 3" in check.detail and check.fix == doctor.DOT_FIX


def test_python_and_package_versions_are_checked():
    assert doctor.check_python((3, 11, 7)).ok
    old = doctor.check_python((3, 9, 18))
    assert not old.ok and old.lines()[0] == "MISSING  Python: 3.9.18 (need >=3.10)"
    assert doctor.check_package("pandas", doctor.SUPPORTED["pandas"]).ok
    too_new = doctor.check_package("pandas", ">=99")
    assert not too_new.ok and "need >=99" in too_new.detail and "make course" in too_new.fix
    absent = doctor.check_package("no-such-teachkit-dependency", ">=1")
    assert not absent.ok and "not installed" in absent.detail


def test_the_report_counts_and_sets_the_exit_code():
    written = []
    checks = [doctor.Check("a", True, "fine"), doctor.Check("b", False, "gone", "get b")]
    assert doctor.report(checks, write=written.append) == 1
    assert written == [
        "ok       a: fine",
        "MISSING  b: gone",
        "         fix: get b",
        "1 of 2 checks MISSING: fix them and run `teachkit doctor` again",
    ]
    assert doctor.report(checks[:1], write=written.append) == 0
