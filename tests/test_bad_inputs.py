"""Bad inputs, the way learners and instructors slip: each gets one clear sentence or the right behaviour.

The families of issue 18: arguments at the door (cluster, connect, record,
faults, data, the command line), malformed recordings, files, connecting to
things that are not schedulers, and the slips on a running cluster (a job run
beside it, the cluster closed inside a record block, repeated fault calls).
Each row names the input and the sentence (a regex) it must get.  Most rows
need no cluster; the rest share one small module cluster, closed by the last
test (which closes it inside a record block on purpose).
"""

from __future__ import annotations

import copy
import gzip
import json
import math
import socket
import subprocess
import sys
import threading
import types

import pytest

import teachkit
from teachkit import cluster as cluster_mod
from teachkit import faults
from teachkit.cli import main as cli_main
from teachkit.datasets import sales
from teachkit.errors import (
    ArgumentError,
    ClusterError,
    FaultError,
    RecordingFileError,
    RecordingStartError,
    TeachkitError,
    TeachkitWarning,
)
from teachkit.model import recording as recording_mod
from teachkit.model.recording import Recording

pytestmark = pytest.mark.timeout(120)


def _raises(call, error, sentence):
    """``call()`` raises ``error`` whose message matches ``sentence`` and is one line, one sentence."""
    with pytest.raises(error, match=sentence) as info:
        call()
    message = str(info.value)
    assert isinstance(info.value, TeachkitError), type(info.value)
    assert "\n" not in message and message.endswith((".", ")")), message
    return message


# -- the kit's errors ---------------------------------------------------------------
def test_one_base_class_and_the_builtin_bases_kept():
    assert issubclass(ArgumentError, ValueError) and issubclass(FaultError, ValueError)
    assert issubclass(RecordingFileError, ValueError) and issubclass(ClusterError, RuntimeError)
    assert issubclass(RecordingStartError, RuntimeError)
    for error in (ArgumentError, ClusterError, FaultError, RecordingFileError, RecordingStartError):
        assert issubclass(error, TeachkitError)
    assert not hasattr(teachkit, "RecordError") and not hasattr(teachkit, "RecordingError")  # the colliding names
    assert RecordingFileError.__name__ != RecordingStartError.__name__
    assert {"TeachkitError", "RecordingFileError", "RecordingStartError"} <= set(teachkit.__all__)


# -- arguments at the door (nothing starts) ---------------------------------------------
MEMORY_1GIB = 2**30
DOOR = [
    # (id, call, sentence)
    ("workers=True", lambda: teachkit.start_cluster(workers=True), r"workers=True is a yes/no value, not a count"),
    ("workers=0", lambda: teachkit.start_cluster(workers=0), r"workers=0 is too small: pass a whole number"),
    ("workers='five'", lambda: teachkit.start_cluster(workers="five"), r"workers='five' is not a whole number"),
    ("workers=2.5", lambda: teachkit.start_cluster(workers=2.5), r"workers=2.5 is not a whole number"),
    ("workers=1000", lambda: teachkit.start_cluster(workers=1000),
     r"workers=1000 is too large: .*(MiB|worker processes on one machine).*use fewer workers"),
    ("threads=True", lambda: teachkit.start_cluster(threads_per_worker=True), r"threads_per_worker=True is a yes/no"),
    ("threads=1000", lambda: teachkit.start_cluster(threads_per_worker=1000), r"at most 64 task slots"),
    ("memory_limit='lots'", lambda: teachkit.start_cluster(memory_limit="lots"), r"memory_limit='lots' is not a size"),
    ("memory_limit=2", lambda: teachkit.start_cluster(memory_limit=2), r"means 2 bytes per worker: write a size"),
    ("memory_limit=-5", lambda: teachkit.start_cluster(memory_limit=-5), r"memory_limit=-5 is too small"),
    ("memory_limit=True", lambda: teachkit.start_cluster(memory_limit=True), r"memory_limit=True is not a size"),
    ("dashboard='no'", lambda: teachkit.start_cluster(dashboard="no"), r"dashboard='no' is not a yes/no value"),
    ("connect(5)", lambda: teachkit.connect(5), r"address=5 is not a scheduler address"),
    ("connect('')", lambda: teachkit.connect(""), r"address='' is not a scheduler address"),
    ("connect(dashboard link)", lambda: teachkit.connect("http://127.0.0.1:8787/status"), r"is a web address"),
    ("connect(timeout=0)", lambda: teachkit.connect("tcp://127.0.0.1:1", timeout=0), r"timeout=0 is too small"),
    ("connect(timeout=nan)", lambda: teachkit.connect("tcp://127.0.0.1:1", timeout=math.nan), r"not a finite number"),
    ("connect(timeout='10')", lambda: teachkit.connect("tcp://127.0.0.1:1", timeout="10"), r"timeout='10' is not a"),
    ("record(live='yes')", lambda: teachkit.record(live="yes").__enter__(), r"live='yes' is not a yes/no value"),
    ("record(42)", lambda: teachkit.record(42).__enter__(), r"cannot record a int"),
    ("kill when=0.5", lambda: faults.kill_worker(None, "worker-2", when=0.5),
     r"when=0.5 is a bare number: write when=faults.seconds\(0.5\) .* or when=faults.after_tasks\(10\)"),
    ("kill when=3", lambda: faults.kill_worker(None, "worker-2", when=3), r"seconds\(3\).*faults.after_tasks\(3\)"),
    ("kill when='soon'", lambda: faults.kill_worker(None, "worker-2", when="soon"), r"when='soon' is not a moment"),
    ("kill worker=2", lambda: faults.kill_worker(None, 2), r"worker=2 is not a usable name"),
    ("kill restart='no'", lambda: faults.kill_worker(None, "worker-2", restart="no"), r"restart='no' is not a yes/no"),
    ("kill start_timeout=0", lambda: faults.kill_worker(None, "worker-2", start_timeout=0), r"start_timeout=0 is too"),
    ("kill no cluster", lambda: faults.kill_worker(None, "worker-2", when=faults.after_tasks(1)), r"There is no"),
    ("after_tasks(True)", lambda: faults.after_tasks(True), r"after_tasks\(n\)=True is a yes/no value"),
    ("after_tasks(2.5)", lambda: faults.after_tasks(2.5), r"after_tasks\(n\)=2.5 is not a whole number"),
    ("after_tasks(stage=5)", lambda: faults.after_tasks(3, stage=5), r"stage=5 is not a task prefix"),
    ("stage_progress('half')", lambda: faults.stage_progress("half"), r"'half' is not a number"),
    ("stage_progress(1.5)", lambda: faults.stage_progress(1.5), r"1.5 is too large: pass a number of at most 1"),
    ("seconds(-2)", lambda: faults.seconds(-2), r"seconds\(t\)=-2 is too small"),
    ("seconds(True)", lambda: faults.seconds(True), r"seconds\(t\)=True is not a number"),
    ("slow factor=True", lambda: faults.slow_worker(None, "worker-1", factor=True), r"factor=True is not a number"),
    ("slow factor=1e6", lambda: faults.slow_worker(None, "worker-1", factor=1e6), r"at most 1000"),
    ("slow no cluster", lambda: faults.slow_worker(None, "worker-1", factor=2), r"There is no cluster"),
    ("slow_partitions(frame?)", lambda: faults.slow_partitions("df", [0]), r"needs a dask DataFrame"),
    ("slow_partitions(5)", lambda: faults.slow_partitions(sales(rows=40, partitions=4), 5), r"=5 is not a list"),
    ("slow_partitions([True])", lambda: faults.slow_partitions(sales(rows=40, partitions=4), [True]), r"yes/no value"),
    ("slow_partitions([7])", lambda: faults.slow_partitions(sales(rows=40, partitions=4), [7]), r"no partition 7"),
    ("slow_partitions(s=-1)", lambda: faults.slow_partitions(sales(rows=40, partitions=4), [0], -1), r"seconds=-1"),
    ("sales(rows=True)", lambda: sales(rows=True), r"rows=True is a yes/no value"),
    ("sales(rows=0)", lambda: sales(rows=0), r"rows=0 is too small"),
    ("sales(partitions=-3)", lambda: sales(partitions=-3), r"partitions=-3 is too small"),
    ("sales(rows='100')", lambda: sales(rows="100"), r"rows='100' is not a whole number"),
    ("sales(rows<partitions)", lambda: sales(rows=10, partitions=20), r"rows=10 is fewer than partitions=20"),
    ("sales(huge partitions)", lambda: sales(rows=10**12, partitions=2), r"more than a worker should hold"),
    ("sales(seed=-1)", lambda: sales(seed=-1), r"seed=-1 is too small"),
    ("load(5)", lambda: Recording.load(5), r"path=5 is not a file path"),
]


@pytest.fixture
def no_cluster(monkeypatch):
    """No kit cluster is the default (whatever other tests left running), and nothing may start one."""
    monkeypatch.setattr(cluster_mod, "_current", None)

    class Refuse:
        def __init__(self, *args, **kwargs):
            raise AssertionError("a cluster was started for a bad argument")

    import distributed

    monkeypatch.setattr(distributed, "LocalCluster", Refuse)
    monkeypatch.setattr(distributed, "Client", Refuse)


@pytest.mark.parametrize("call, sentence", [row[1:] for row in DOOR], ids=[row[0] for row in DOOR])
def test_a_bad_argument_gets_one_sentence_before_anything_starts(no_cluster, call, sentence):
    errors = (ArgumentError, ClusterError, FaultError, RecordingStartError, RecordingFileError)
    _raises(call, errors, sentence)


def test_the_worker_cap_says_why():
    from teachkit.preflight import max_local_workers

    most, why = max_local_workers(available=MEMORY_1GIB)
    assert most == 5 and "200 MiB" in why and "1.0 GiB free" in why
    most, why = max_local_workers(available=2**40)
    assert most == 32 and "at most 32 worker processes" in why


# -- the command line: one line, exit code 2, nothing started ------------------------------
CLI = [
    (["demo", "--workers", "0"], r"--workers=0 is too small"),
    (["demo", "--rows", "0"], r"--rows=0 is too small"),
    (["demo", "--partitions", "-3"], r"--partitions=-3 is too small"),
    (["demo", "--workers", "1000"], r"--workers=1000 is too large: .*pass fewer"),
    (["demo", "--workers", "five"], r"--workers 'five' is not a whole number"),
    (["demo", "--rows", "10", "--partitions", "20"], r"rows=10 is fewer than partitions=20"),
    (["demo", "--out", "{file}"], r"--out '.*' is a file, not a folder"),
    (["demo", "--out", "{file}/inside"], r"cannot be made: '.*' is a file, not a folder"),
    (["demo", "--out", ""], r"--out '' is empty"),
    (["summary", "{missing}"], r"'.*missing.json' does not exist"),
    (["summary", "{folder}"], r"is a folder: pass a saved recording file"),
]


@pytest.mark.parametrize("argv, sentence", CLI, ids=[" ".join(a) for a, _ in CLI])
def test_a_bad_cli_option_is_one_line_and_exit_code_2(argv, sentence, tmp_path, monkeypatch, capsys):
    started = []
    monkeypatch.setitem(sys.modules, "teachkit.cli_jobs",
                        types.SimpleNamespace(demo=started.append, summary=started.append))
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    names = {"file": str(a_file), "missing": str(tmp_path / "missing.json"), "folder": str(tmp_path)}
    argv = [arg.format(**names) for arg in argv]
    try:
        code = cli_main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2 and started == []
    assert err.count("\n") == 1 and err.startswith(f"teachkit {argv[0]}: ") and "Traceback" not in err, err
    assert __import__("re").search(sentence, err), err


def test_the_cli_refuses_in_a_fresh_process_without_a_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "teachkit.cli", "demo", "--partitions", "-3", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("teachkit demo: --partitions=-3 is too small") and out.stderr.count("\n") == 1


# -- malformed recordings: the first bad event named, never a raw error later ---------------
def _example() -> dict:
    return Recording.load(teachkit.example_path("killed")).to_dict()


def _first(data: dict, kind: str) -> tuple[int, dict]:
    return next((i, e) for i, e in enumerate(data["events"]) if e["kind"] == kind)


def _drop(kind, field):
    def mutate(data):
        i, event = _first(data, kind)
        del event[field]
        return i
    return mutate


def _set(kind, field, value):
    def mutate(data):
        i, event = _first(data, kind)
        event[field] = value
        return i
    return mutate


def _task(field, value):
    def mutate(data):
        i, event = _first(data, "graph")
        if value is KeyError:
            del event["tasks"][0][field]
        else:
            event["tasks"][0][field] = value
        return i
    return mutate


MALFORMED = [
    ("graph without tasks", _drop("graph", "tasks"), r"has no 'tasks' field"),
    ("graph tasks a string", _set("graph", "tasks", "many"), r"its 'tasks' is 'many', not a list of tasks"),
    ("task without key", _task("key", KeyError), r"task 0 has no 'key' field"),
    ("task without deps", _task("deps", KeyError), r"task 0 has no 'deps' field"),
    ("task without prefix", _task("prefix", KeyError), r"task 0 has no 'prefix' field"),
    ("task without group", _task("group", KeyError), r"task 0 has no 'group' field"),
    ("task deps a string", _task("deps", "x|1"), r"task 0's 'deps' is 'x\|1', not a list of key strings"),
    ("task index a string", _task("index", "3"), r"task 0's 'index' is '3', not a whole number or null"),
    ("tr without key", _drop("tr", "key"), r"'tr' event\) has no 'key' field"),
    ("tr without finish", _drop("tr", "finish"), r"has no 'finish' field"),
    ("tr without stimulus", _drop("tr", "stimulus"), r"has no 'stimulus' field"),
    ("tr worker a number", _set("tr", "worker", 7), r"its 'worker' is 7, not an address"),
    ("null time", _set("tr", "t", None), r"its time 't' is None, not a number"),
    ("string time", _set("tr", "t", "12:00"), r"its time 't' is '12:00', not a number"),
    ("bool time", _set("tr", "t", True), r"its time 't' is True, not a number"),
    ("no time", _drop("tr", "t"), r"has no time 't'"),
    ("no kind", _drop("tr", "kind"), r"event \d+ has no kind"),
    ("unknown kind", _set("tr", "kind", "transition"), r"unknown kind 'transition' \(known: fault, fetch, graph"),
    ("fetch keys a list", _set("fetch", "keys", ["a"]), r"its 'keys' is \['a'\], not a \{key: bytes\} mapping"),
    ("p2p without partitions", _drop("p2p", "partitions"), r"has no 'partitions' field"),
    ("worker without address", _drop("worker-present", "worker"), r"has no 'worker' field"),
    ("nthreads a string", _set("worker-present", "nthreads", "1"), r"its 'nthreads' is '1'"),
    ("fault without worker", _drop("fault", "worker"), r"'fault' event\) has no 'worker' field"),
    ("plan name a number", _set("plan", "name", 5), r"its 'name' is 5, not text"),
]


@pytest.mark.parametrize("mutate, sentence", [r[1:] for r in MALFORMED], ids=[r[0] for r in MALFORMED])
def test_a_malformed_recording_names_its_first_bad_event(tmp_path, mutate, sentence):
    data = _example()
    index = mutate(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    message = _raises(lambda: Recording.load(path), RecordingFileError, sentence)
    assert message.startswith(f"{path}: the recording is malformed: event {index} ")


@pytest.mark.parametrize("meta, sentence", [("notes", r"its meta is str, not an object"),
                                            ({"t0": "noon"}, r"its meta 't0' is 'noon', not a number")])
def test_a_malformed_meta_is_refused(meta, sentence):
    data = _example()
    data["meta"] = meta
    _raises(lambda: Recording.from_dict(data, source="run.json"), RecordingFileError, sentence)


def test_events_out_of_time_order_are_sorted_and_said(tmp_path):
    data = _example()
    original = Recording.from_dict(copy.deepcopy(data))
    data["events"][10], data["events"][400] = data["events"][400], data["events"][10]
    path = tmp_path / "merged.json"
    path.write_text(json.dumps(data))
    with pytest.warns(TeachkitWarning, match=r"merged.json: the events were not in time order \(event 11 is earlier"):
        rec = Recording.load(path)
    assert rec.summary() == original.summary()  # the right picture, not every task pending


def test_optional_fields_may_be_missing_and_every_view_still_works():
    """Accepted recordings must summarise and draw: drop each optional field the recorder may leave out."""
    optional = {"tr": ("thread", "nbytes", "compute", "fetch", "worker", "error"), "graph": ("span", "job", "client"),
                "worker-present": ("name", "nthreads"), "worker-added": ("name", "nthreads"),
                "worker-removed": ("cause", "stimulus"), "fault": ("pid", "when", "running", "held"),
                "fetch": ("nbytes",), "plan": ("keys", "logical", "optimized", "name", "action")}
    data = _example()
    for event in data["events"]:
        for field in optional.get(event["kind"], ()):
            event.pop(field, None)
    rec = Recording.from_dict(data)
    repr(rec), rec._repr_html_(), rec.summary()
    for job in rec.jobs:
        job.stage_dag().source, job.task_dag().source, job.timeline(), str(job.explain())
    rec.cluster_view()


def test_the_summary_command_on_a_malformed_recording_is_one_line(tmp_path):
    data = _example()
    _drop("graph", "tasks")(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    out = subprocess.run([sys.executable, "-m", "teachkit.cli", "summary", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "has no 'tasks' field" in out.stderr


# -- files ------------------------------------------------------------------------------------
@pytest.fixture
def rec():
    return Recording.load(teachkit.example_path("groupby"))


def test_saving_onto_a_folder_names_it_and_leaves_nothing(rec, tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    _raises(lambda: rec.save(folder), RecordingFileError, rf"^{folder}: is a folder; give a file name")
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_saving_into_a_missing_folder_names_the_path(rec, tmp_path):
    target = tmp_path / "nope" / "run.json.gz"
    _raises(lambda: rec.save(target), RecordingFileError, rf"^{target}: the folder '.*nope' does not exist")


def test_a_failed_write_names_the_users_path_and_leaves_no_temporary_file(rec, tmp_path, monkeypatch):
    def no_space(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recording_mod.os, "replace", no_space)
    target = tmp_path / "run.json.gz"
    message = _raises(lambda: rec.save(target), RecordingFileError,
                      rf"^{target}: cannot write the file \(No space left on device\)\.$")
    assert ".tmp" not in message
    assert list(tmp_path.iterdir()) == []


def test_save_checks_its_arguments(rec, tmp_path):
    _raises(lambda: rec.save(5), ArgumentError, r"path=5 is not a file path")
    _raises(lambda: rec.save(tmp_path / "r.json", compress="yes"), ArgumentError, r"compress='yes' is not a yes/no")


def test_a_gzip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(recording_mod, "MAX_JSON_BYTES", 4 << 20)
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b" " * (64 << 20)))  # 64 KiB on disk
    assert bomb.stat().st_size < 1 << 20
    _raises(lambda: Recording.load(bomb), RecordingFileError, r"inflates to more than 4 MiB.*refusing to read it")


def test_loading_a_folder_or_deep_nesting_is_one_sentence(tmp_path):
    _raises(lambda: Recording.load(tmp_path), RecordingFileError, r"is a folder, not a recording file")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    _raises(lambda: Recording.load(deep), RecordingFileError, r"(nested too deeply|not a teachkit recording)")


# -- connect: things that are not schedulers --------------------------------------------------
@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def web_server():
    import http.server

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("server", ["silent_server", "web_server"])
def test_connect_honours_its_timeout_against_a_non_scheduler(server, request):
    address = request.getfixturevalue(server)
    with pytest.raises(ClusterError, match=r"Could not reach a Dask scheduler at .* within 1 s") as info:
        teachkit.connect(address, timeout=1)  # the test's own timeout (120 s) would catch a hang
    assert "\n" not in str(info.value)


# -- the running cluster: slips of learners ---------------------------------------------------
@pytest.fixture(scope="module")
def kit():
    """One 2-worker cluster for this module; the last test closes it inside a record block."""
    from conftest import small_cluster

    with small_cluster(2) as cluster:
        yield cluster


def _plugins(cluster, prefix: str) -> list[str]:
    return cluster.client.run_on_scheduler(
        lambda dask_scheduler: [name for name in dask_scheduler.plugins if name.startswith(prefix)])


@pytest.mark.cluster
def test_connect_to_the_running_cluster_returns_it(kit):
    assert teachkit.connect(kit.address) is kit and kit.running
    assert teachkit.connect(kit.address.replace("127.0.0.1", "localhost")) is kit
    worker = kit.workers["worker-1"]
    _raises(lambda: teachkit.connect(worker, timeout=5), ClusterError, r"is a Dask worker, not a scheduler")
    assert kit.running and cluster_mod.current() is kit


@pytest.mark.cluster
def test_a_bare_number_for_when_leaves_no_plugin_behind(kit):
    _raises(lambda: faults.kill_worker(kit, "worker-2", when=0.5), ArgumentError, r"faults.seconds\(0.5\)")
    assert _plugins(kit, "teachkit-kill") == []
    assert len(kit.workers) == 2


@pytest.mark.cluster
def test_a_second_slow_worker_call_replaces_the_first(kit, capsys):
    factor = "teachkit-slow-worker-1"
    first = faults.slow_worker(kit, "worker-1", factor=2)
    second = faults.slow_worker(kit, "worker-1", factor=20)
    in_force = kit.client.run(lambda dask_worker: getattr(dask_worker.plugins.get(factor), "factor", None))
    assert in_force[kit.workers["worker-1"]] == 20.0
    out = capsys.readouterr().out
    assert "worker-1 now runs every task 20x slower (instead of 2x)" in out
    first.undo()  # replaced: does nothing
    assert capsys.readouterr().out == "" and _plugins_on_workers(kit, factor)
    second.undo()
    assert not _plugins_on_workers(kit, factor)
    assert capsys.readouterr().out == "teachkit: worker-1 runs at normal speed again\n"


def _plugins_on_workers(cluster, name: str) -> bool:
    return any(cluster.client.run(lambda dask_worker: name in dask_worker.plugins).values())


@pytest.mark.cluster
def test_killing_the_same_worker_twice_records_one_death(kit, capsys):
    kit.client.wait_for_workers(2, timeout=60)
    first = faults.kill_worker(kit, "worker-2", when=faults.after_tasks(2))
    second = faults.kill_worker(kit, "worker-2", when=faults.after_tasks(2))  # a re-run cell
    with teachkit.record(kit) as rec:
        total = len(sales(rows=4_000, partitions=8).compute())
    assert total == 4_000
    assert first.wait(timeout=30).status == "cancelled" and second.wait(timeout=30).status == "killed"
    assert len([e for e in rec.events if e["kind"] == "fault"]) == 1
    assert [w["worker"] for w in rec.summary()["jobs"][0]["faults"]["workers_lost"]] == ["worker-2"]
    out = capsys.readouterr().out
    assert out.count("teachkit: killed worker-2") == 1 and "replaces it" in out
    assert _plugins(kit, "teachkit-kill") == []
    kit.client.wait_for_workers(2, timeout=60)


@pytest.mark.cluster
def test_a_second_kill_before_the_restart_says_to_wait(kit):
    kit.client.wait_for_workers(2, timeout=60)
    df = sales(rows=4_000, partitions=8).persist()
    import distributed

    distributed.wait(df, timeout=30)
    assert faults.kill_worker(kit, "worker-2").status == "killed"
    _raises(lambda: faults.kill_worker(kit, "worker-2"), FaultError,
            r"worker-2 was killed 0 s ago and its Nanny is restarting it.*wait_for_workers\(2\)")
    kit.client.wait_for_workers(2, timeout=60)
    assert len(df.compute()) == 4_000
    del df


@pytest.mark.cluster
def test_a_job_run_beside_the_cluster_is_said(kit, capsys):
    with teachkit.record(kit) as rec:
        assert len(sales(rows=400, partitions=4).compute(scheduler="sync")) == 400
        sales(rows=400, partitions=4).compute(scheduler="sync")  # said once per block
    out = capsys.readouterr().out
    assert out.count("teachkit: a job ran on dask's local scheduler in this process, not on the cluster") == 1
    assert rec.jobs == [] and any("not on the cluster" in w for w in rec.warnings)
    with teachkit.record(kit) as rec:
        sales(rows=400, partitions=4).compute()
    assert "local scheduler" not in capsys.readouterr().out and len(rec.jobs) == 1


@pytest.mark.cluster
def test_closing_the_cluster_inside_a_record_block_keeps_the_events_and_says_so(kit, capsys):
    """Last test of the module: it closes the module's cluster."""
    logs = kit.log_path.parent
    assert logs.is_dir()
    with teachkit.record(kit) as rec:
        sales(rows=4_000, partitions=8).value.sum().compute()
        kit.close()
    out = capsys.readouterr().out
    assert "teachkit: the cluster was closed inside the record block: the recording ends here" in out
    assert len(rec.jobs) == 1 and rec.jobs[0].end is not None  # the job's events were collected
    assert any("closed inside the record block" in w for w in rec.warnings)
    assert not logs.exists()  # the log folder went with the cluster
    if cluster_mod.current() is None:  # no other cluster left open by earlier test modules
        assert int(sales(rows=400, partitions=4).value.count().compute()) == 400
        assert capsys.readouterr().out.count("teachkit: the cluster is closed, so this job ran on dask's local") == 1
        sales(rows=400, partitions=4).compute(scheduler="sync")  # asked for: nothing said
        assert capsys.readouterr().out == ""
