"""The live view, driven by a fake session that replays a saved recording in chunks (no cluster)."""

from __future__ import annotations

import time

import pytest

import teachkit
from teachkit.model.recording import Recording
from teachkit.model.vocabulary import SUMMARY_ORDER
from teachkit.views.live import LiveView, progress, stages_html, workers_html


class FakeSession:
    def __init__(self, events, meta, chunks=5):
        self.rec = Recording(meta=meta)
        step = len(events) // chunks + 1
        self.pending = [events[i:i + step] for i in range(0, len(events), step)]
        self.warnings = []
        self.stopped = False

    def drain(self):
        batch = self.pending.pop(0) if self.pending else []
        self.rec._extend(batch)
        return batch

    def warn(self, where, exc):
        self.warnings.append(f"{where}: {exc}")

    def stop(self, wait=True):
        self.stopped = True
        while self.pending:
            self.drain()


def test_progress_counts_every_task_done_at_the_end():
    rec = Recording.load(teachkit.example_path("groupby"))
    rows, workers = progress(rec)
    assert rows and all(r["done"] == r["total"] and r["running"] == 0 for r in rows)
    assert [w["name"] for w in workers] == ["worker-1", "worker-2", "worker-3"]
    assert "Stage 0" in stages_html(rows, "groupby count")


def test_live_view_polls_then_turns_into_the_player():
    saved = Recording.load(teachkit.example_path("groupby"))
    session = FakeSession(saved.events, saved.meta)
    view = LiveView.start(session, interval=0.02)
    deadline = time.time() + 10
    while session.pending and time.time() < deadline:
        time.sleep(0.02)
    assert view.polls >= 3 and not session.warnings
    assert "Stage 0" in view.stages.value and "worker-1" in view.cluster.value
    view.halt()  # as teachkit.record does before its final drain
    assert not view._thread.is_alive()
    session.stop()
    view.finish(session.rec)
    assert isinstance(view.box.children[0], teachkit.Player)


@pytest.mark.parametrize("name", ["groupby", "killed"])
def test_polls_never_show_more_busy_slots_than_a_worker_has(name):
    """Chunk by chunk, as polls see a running job: counts add up, no worker is busier than its slots ("2 of 1"),
    the stages and the name are those of the finished recording, and the last counts are its counts."""
    from teachkit.views.live import Progress

    saved = Recording.load(teachkit.example_path(name))
    final = saved.jobs[-1]
    rec = Recording(meta=saved.meta)
    tracker = Progress(rec)
    step = len(saved.events) // 9 + 1
    for i in range(0, len(saved.events), step):
        rec._extend(saved.events[i:i + step])
        rows, workers = tracker.counts()
        for r in rows:
            assert sum(r[k] for k in SUMMARY_ORDER) == r["total"]
        assert all(w["running"] <= w["slots"] for w in workers), workers
        if rows:
            assert [(r["id"], r["name"], r["total"]) for r in rows] == [(s.id, s.name, s.num_tasks) for s in final.stages]
            assert tracker.title == final.name
    assert tracker.counts() == progress(saved)
    assert "of 1 slot busy" in workers_html(workers) and "slots busy" not in workers_html(workers)


def test_finish_without_a_player_shows_the_final_counts(monkeypatch):
    import teachkit.views.player as player_mod

    saved = Recording.load(teachkit.example_path("groupby"))
    session = FakeSession(saved.events, saved.meta)
    view = LiveView.start(session, interval=5)
    view.halt()
    session.stop()

    def broken(rec):
        raise RuntimeError("no player today")

    monkeypatch.setattr(player_mod, "Player", broken)
    view.finish(session.rec)
    assert "no player today" in view.stages.value and "worker-1" in view.cluster.value
