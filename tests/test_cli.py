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


def test_demo_and_summary_are_delegated(monkeypatch, tmp_path):
    calls = []
    fake = types.SimpleNamespace(
        demo=lambda args: calls.append(("demo", args.out, args.rows, args.partitions, args.workers)) or 0,
        summary=lambda args: calls.append(("summary", args.recording)) or 3,
    )
    monkeypatch.setitem(sys.modules, "teachkit.cli_jobs", fake)
    saved = tmp_path / "run.json.gz"
    saved.write_bytes(b"")
    assert main(["demo", "--out", str(tmp_path / "here"), "--rows", "400", "--partitions", "4"]) == 0
    assert main(["summary", str(saved)]) == 3
    assert calls == [("demo", tmp_path / "here", 400, 4, 5), ("summary", str(saved))]


def test_a_teachkit_error_while_running_is_one_line_and_exit_1(monkeypatch, capsys, tmp_path):
    from teachkit.errors import ClusterError

    def fail(args):
        raise ClusterError("Could not start a local cluster of 5 workers; try fewer workers.")

    monkeypatch.setitem(sys.modules, "teachkit.cli_jobs", types.SimpleNamespace(demo=fail))
    assert main(["demo", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == "teachkit demo: Could not start a local cluster of 5 workers; try fewer workers.\n"
