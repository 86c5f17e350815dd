"""Kill a worker at random moments of a shuffle job, many times; count right results, hangs, orphans.

Run: ``timeout 1200 .venv/bin/python benchmarks/fault_trials.py [trials] [seed]`` (default 20 trials,
a few minutes on 2 cores).  Each trial records a P2P groupby count (48,000 rows, 16 partitions,
3 workers x 1 thread) while ``teachkit.faults.kill_worker`` SIGKILLs worker-2 at a random moment
(after a random number of tasks, at a random fraction of a stage, or after a random time).  Trials
run in rounds of 5 on one cluster: the first 4 with the Nanny restarting the worker, the last with
``restart=False``; then the cluster is closed and a fresh one starts.  Every trial has a timeout;
a trial that times out counts as a hang and its cluster is replaced.

The process's stderr (which the worker processes inherit, like a notebook kernel's) goes to a
temporary file during the trials; lines that look like dask tracebacks or errors are counted.

The last three lines are the reliability bar: ``right results: R/T``, ``hangs: H`` and
``orphan processes: O`` (worker processes still alive after every cluster was closed).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time

import psutil

import teachkit
from teachkit import faults
from teachkit.datasets import sales, sales_pandas
from teachkit.model.failures import job_faults

ROWS, PARTS, WORKERS = 48_000, 16, 3
JOB_TIMEOUT_S = 90
ROUND = 5


def random_moment(rng: random.Random):
    kind = rng.choice(["tasks", "stage", "progress", "seconds"])
    if kind == "tasks":
        return faults.after_tasks(rng.randint(1, 80))
    if kind == "stage":
        return faults.after_tasks(rng.randint(1, PARTS), stage=rng.choice(["make_partition", "shuffle-transfer"]))
    if kind == "progress":
        return faults.stage_progress(round(rng.uniform(0.05, 0.9), 2))
    return faults.seconds(round(rng.uniform(0.05, 0.25), 2))  # a warm job takes ~0.4 s


def one_trial(cluster, when, restart: bool, want) -> tuple[bool, bool, bool, str]:
    """Return (right result, hang, killed, a line describing the trial)."""
    kill = faults.kill_worker(cluster, "worker-2", when=when, restart=restart, start_timeout=30)
    query = sales(rows=ROWS, partitions=PARTS).groupby("category").count()
    t = time.perf_counter()
    try:
        with teachkit.record(cluster) as rec:
            future = cluster.client.compute(query)
            got = future.result(timeout=JOB_TIMEOUT_S)
    except TimeoutError:
        kill.cancel()
        return False, True, False, f"HANG after {JOB_TIMEOUT_S} s ({when.describe()})"
    took = time.perf_counter() - t
    try:
        kill.wait(timeout=10)
    except faults.FaultError as exc:
        return False, False, False, f"kill error: {exc}"
    right = got.sort_index().astype("int64").equals(want)
    facts = job_faults(rec.jobs[0])
    seen = "recorded" if facts["workers_lost"] or kill.status != "killed" else "NOT RECORDED"
    restarted = " shuffle-restart" if facts["shuffle_restarted"] else ""
    return right, False, kill.status == "killed", (f"{kill.status:7} {when.describe():38} {took:5.2f} s  right={right}  "
                          f"{seen}{restarted} reruns={rec.summary()['jobs'][0]['reruns']}")


def start():
    return teachkit.start_cluster(workers=WORKERS, threads_per_worker=1, memory_limit="1GiB", dashboard=False)


def dask_children() -> list[psutil.Process]:
    """Child processes that are dask workers (not multiprocessing's resource tracker)."""
    out = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(proc.cmdline()):
                out.append(proc)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            out.append(proc)
        except psutil.AccessDenied:
            pass
    return [p for p in out if p.is_running()]


def main(trials: int = 20, seed: int = 1) -> None:
    rng = random.Random(seed)
    want = sales_pandas(rows=ROWS, partitions=PARTS).groupby("category").count().sort_index().astype("int64")
    err_file = tempfile.NamedTemporaryFile(prefix="teachkit-fault-trials-", suffix=".stderr", delete=False)
    saved_err = os.dup(2)
    os.dup2(err_file.fileno(), 2)  # worker processes started from here inherit it
    right = hangs = kills = 0
    cluster = None
    try:
        for i in range(trials):
            if cluster is None:
                cluster = start()
            restart = (i % ROUND) != ROUND - 1
            cluster.client.wait_for_workers(WORKERS, timeout=60)
            ok, hang, killed, line = one_trial(cluster, random_moment(rng), restart, want)
            right += ok
            hangs += hang
            kills += killed
            print(f"trial {i + 1:2}/{trials} restart={restart!s:5} {line}", flush=True)
            if hang or not restart:
                cluster.close()
                cluster = None
    finally:
        if cluster is not None:
            cluster.close()
        sys.stderr.flush()
        os.dup2(saved_err, 2)
        os.close(saved_err)
    deadline = time.time() + 10  # give the last processes a moment to exit
    while dask_children() and time.time() < deadline:
        time.sleep(0.2)
    orphans = dask_children()
    with open(err_file.name, encoding="utf-8", errors="replace") as fh:
        noise = [ln for ln in fh if "Traceback" in ln or " ERROR " in ln or "Error:" in ln]
    print(f"stderr lines that look like dask errors: {len(noise)} (full stderr: {err_file.name})")
    for ln in noise[:5]:
        print("   ", ln.rstrip()[:160])
    print(f"kills that happened mid-job: {kills}/{trials}")
    print(f"right results: {right}/{trials}")
    print(f"hangs: {hangs}")
    print(f"orphan processes: {len(orphans)}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
