"""The `teachkit` command line: subcommands parse, and demo/summary go to teachkit.cli_jobs."""

from __future__ import annotations

import sys
import types

import pytest

from teachkit.cli import main


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("doctor", "demo", "summary"))


def test_demo_and_summary_are_delegated(monkeypatch):
    calls = []
    fake = types.SimpleNamespace(
        demo=lambda args: calls.append(("demo", args.out)) or 0,
        summary=lambda args: calls.append(("summary", args.recording)) or 3,
    )
    monkeypatch.setitem(sys.modules, "teachkit.cli_jobs", fake)
    assert main(["demo", "--out", "here"]) == 0
    assert main(["summary", "run.json.gz"]) == 3
    assert calls == [("demo", "here"), ("summary", "run.json.gz")]


def test_a_missing_job_module_is_a_clear_message(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "teachkit.cli_jobs", None)  # import fails as if absent
    assert main(["demo"]) == 2
    assert "not available" in capsys.readouterr().err
