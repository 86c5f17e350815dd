"""The scheduler recorder's bookkeeping, without a cluster (fake scheduler state)."""

from __future__ import annotations

from types import SimpleNamespace

from teachkit.record.scheduler_recorder import SCHEDULER_PLUGIN_NAME, SchedulerRecorder
from teachkit.record.wire import pack, unpack


def fake_scheduler(plugin):
    worker = SimpleNamespace(address="tcp://127.0.0.1:1", time_delay=0.5)
    task = SimpleNamespace(processing_on=worker)
    return SimpleNamespace(
        plugins={SCHEDULER_PLUGIN_NAME: plugin},
        workers={worker.address: worker},
        tasks={("chunk-1", 0): task},
    )


def recorder() -> SchedulerRecorder:
    plugin = SchedulerRecorder()
    plugin.scheduler = fake_scheduler(plugin)
    key = ("chunk-1", 0)
    plugin.transition(key, "waiting", "processing", stimulus_id="s-1")
    plugin.transition(
        key, "processing", "memory", stimulus_id="task-finished-2", worker="tcp://127.0.0.1:1", thread=7, nbytes=64,
        startstops=[{"action": "transfer", "source": "tcp://127.0.0.1:2", "start": 1.0, "stop": 2.0},
                    {"action": "compute", "start": 2.0, "stop": 3.0}],
    )
    return plugin


def test_each_background_encoding_takes_what_gathered_since_the_last():
    plugin = recorder()
    plugin._encode_pending()
    assert len(plugin._encoded) == 1 and plugin._flat == []
    plugin.transition(("chunk-1", 0), "memory", "released", stimulus_id="s-3")
    plugin._encode_pending()
    assert len(plugin._encoded) == 2
    chunks = plugin.drain_packed(final=True)  # the final drain hands over every frame, once
    assert [e["finish"] for e in unpack(chunks)] == ["processing", "memory", "released"]
    assert plugin._encoded == [] and plugin.drain_packed(final=True) == []


def test_a_finished_task_keeps_what_its_worker_reported_on_the_schedulers_clock():
    plugin = recorder()
    events = unpack(plugin.drain_packed(final=True))
    assert events[0] == {"kind": "tr", "t": events[0]["t"], "key": "chunk-1|0", "start": "waiting",
                         "finish": "processing", "stimulus": "s-1", "worker": "tcp://127.0.0.1:1"}
    done = events[1]
    assert done["thread"] == 7 and done["nbytes"] == 64
    assert done["compute"] == [2.5, 3.5]  # shifted by the worker's time_delay
    assert done["fetch"] == [{"from": "tcp://127.0.0.1:2", "start": 1.5, "stop": 2.5}]


def test_packed_frames_round_trip_plain_events_and_transition_columns():
    keys = [("x", 0), "finalize-1", ("y", 1, 2), ("z", (3, 4))]  # tuple keys travel as arrays, come back as tuples
    extra = (None, None, None, None, "ZeroDivisionError: boom")
    columns = [[1.0] * 4, keys, ["processing"] * 4, ["erred"] * 4, ["s", None, "s", "s"], ["tcp://w"] * 4, [extra] * 4]
    out = unpack([pack([{"kind": "steal", "t": 0.5}], columns), pack([], [])])
    assert out[0] == {"kind": "steal", "t": 0.5}
    assert [e["key"] for e in out[1:]] == ["x|0", "finalize-1", "y|1|2", "z|(3, 4)"]
    assert out[1] == {"kind": "tr", "t": 1.0, "key": "x|0", "start": "processing", "finish": "erred", "stimulus": "s",
                      "worker": "tcp://w", "error": "ZeroDivisionError: boom"}
    assert out[2]["stimulus"] == ""


def test_a_value_msgpack_does_not_know_travels_as_its_string():
    class Odd:
        def __str__(self):
            return "odd"

    out = unpack(pack([{"kind": "warning", "t": 0.0, "where": "x", "message": Odd()}]))
    assert out == [{"kind": "warning", "t": 0.0, "where": "x", "message": "odd"}]


def test_a_graph_snapshot_is_packed_at_once():
    plugin = SchedulerRecorder()
    dep = SimpleNamespace(key=("read-1", 0))
    task = SimpleNamespace(group_key="chunk-1", prefix=SimpleNamespace(name="chunk"), dependencies=[dep])
    scheduler = SimpleNamespace(tasks={("chunk-1", 0): task}, extensions={})
    plugin._snapshot(scheduler, "client-1", [("chunk-1", 0)], [("chunk-1", 0)], {}, 0, 1.0)
    assert plugin.events == [] and len(plugin._encoded) == 1  # no dicts left alive on the scheduler
    (graph,) = unpack(plugin.drain_packed(final=True))
    assert graph["kind"] == "graph" and graph["keys"] == ["chunk-1|0"]
    task = {"key": "chunk-1|0", "group": "chunk-1", "prefix": "chunk", "index": 0, "deps": ["read-1|0"]}
    assert graph["tasks"] == [task]
