"""The live view, driven by a fake session that replays a saved recording in chunks (no cluster)."""

from __future__ import annotations

import time

import teachkit
from teachkit.model.recording import Recording
from teachkit.views.live import LiveView, progress, stages_html


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


def test_a_poll_only_folds_in_new_events():
    """Polls are incremental: chunk by chunk, the counts end where a one-shot count ends."""
    from teachkit.views.live import Progress

    saved = Recording.load(teachkit.example_path("killed"))
    rec = Recording(meta=saved.meta)
    tracker = Progress(rec)
    step = len(saved.events) // 7 + 1
    for i in range(0, len(saved.events), step):
        chunk = saved.events[i:i + step]
        rec._extend(chunk)
        tracker.update(chunk)
        rows, _ = tracker.counts()
        assert all(r["done"] + r["running"] <= r["total"] for r in rows)
    assert tracker.counts() == progress(saved)


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
