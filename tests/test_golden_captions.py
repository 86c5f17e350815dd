"""Golden test: the step captions of the shipped recordings, pinned.

The player's words are what a learner reads; a refactor of the model must not
change them by accident.  The pinned captions live in ``tests/golden/``; when a
change of wording is intended, regenerate them with

    TEACHKIT_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_captions.py

and let the diff of ``tests/golden/*.json`` show the change in review.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import teachkit
from teachkit.model.frames import build_frames

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("TEACHKIT_UPDATE_GOLDEN", "") not in ("", "0")


def walkthrough(name: str) -> dict:
    """What the player says, step by step, for one shipped recording (its last job)."""
    frames = build_frames(teachkit.Recording.load(teachkit.example_path(name)))
    return {
        "job": frames.job_name,
        "steps": [f"{step['kind']}: {step['caption']}" for step in frames.steps],
        "bookmarks": {kind: marks for kind, marks in sorted(frames.bookmarks.items())},
    }


@pytest.mark.parametrize("name", teachkit.examples())
def test_captions_of_shipped_recordings_are_pinned(name):
    path = GOLDEN / f"captions-{name}.json"
    got = walkthrough(name)
    if UPDATE:
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got["job"] == want["job"]
    for n, (a, b) in enumerate(zip(got["steps"], want["steps"])):
        assert a == b, f"step {n} of {name!r} changed"
    assert len(got["steps"]) == len(want["steps"])
    assert got["bookmarks"] == want["bookmarks"]
