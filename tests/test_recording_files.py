"""Saved recordings: one clear error for every way a file can be wrong; the CLI reads them."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

import teachkit
from teachkit.errors import RecordingFileError
from teachkit.model.recording import Recording
from teachkit.record.events import SCHEMA_VERSION


@pytest.fixture
def good(tmp_path):
    rec = Recording.load(teachkit.example_path("groupby"))
    return rec, rec.save(tmp_path / "good.json.gz")


def test_shipped_examples_load_and_have_stages():
    assert set(teachkit.examples()) >= {"groupby", "pipeline", "killed"}
    for name in teachkit.examples():
        summary = Recording.load(teachkit.example_path(name)).summary()
        assert summary["jobs"] and all(job["stages"] for job in summary["jobs"])


def test_unknown_example_lists_the_examples():
    with pytest.raises(LookupError, match="groupby"):
        teachkit.example_path("nope")


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "not valid JSON"),
        (b'{"format": "teachkit-recording", "schema": 1, "events": [', "not valid JSON"),
        (json.dumps({"hello": "world"}).encode(), "not a teachkit recording"),
        (json.dumps({"format": "teachkit-recording", "schema": SCHEMA_VERSION + 1, "events": []}).encode(), "newer"),
        (json.dumps({"format": "teachkit-recording", "schema": 1, "events": [{"no": "kind"}]}).encode(), "malformed"),
        (json.dumps({"format": "teachkit-recording", "events": []}).encode(), "schema"),
    ],
    ids=["empty", "truncated-json", "foreign", "too-new", "malformed-events", "no-schema"],
)
def test_a_bad_file_gets_one_clear_error_naming_it(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(RecordingFileError, match=problem) as info:
        Recording.load(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_and_missing_files(good, tmp_path):
    _, path = good
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(RecordingFileError, match="corrupt or truncated"):
        Recording.load(cut)
    with pytest.raises(RecordingFileError, match="cannot read"):
        Recording.load(tmp_path / "missing.json.gz")


def test_save_is_plain_json_without_pickle(good):
    rec, path = good
    data = json.loads(gzip.decompress(path.read_bytes()))
    assert data["format"] == "teachkit-recording" and data["schema"] == SCHEMA_VERSION
    assert Recording.from_dict(data) == rec


def test_summary_command_prints_stages(good):
    _, path = good
    out = subprocess.run([sys.executable, "-m", "teachkit.cli", "summary", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)["jobs"][0]
    assert job["name"] == "groupby count" and [s["num_tasks"] for s in job["stages"]] == [16, 2]
    assert job["stages"][1]["boundary"] == "shuffle" and job["stages"][0]["shuffle_write_bytes"] > 0


def test_summary_command_on_a_bad_file_says_so_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    out = subprocess.run([sys.executable, "-m", "teachkit.cli", "summary", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and "bad.json" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.cluster
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_demo_writes_the_recording_and_the_pictures(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "teachkit.cli", "demo", "--out", str(tmp_path), "--rows", "40000",
         "--partitions", "20", "--workers", "2"],
        capture_output=True, text=True, timeout=280,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for name in ("recording.json.gz", "summary.json", "stage_dag.svg", "task_dag.svg", "timeline.svg",
                 "walkthrough.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert "teachkit: job done" in out.stdout and "Traceback" not in out.stderr
    assert Recording.load(tmp_path / "recording.json.gz").jobs[0].name == "groupby count"
