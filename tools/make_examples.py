"""Make the recordings shipped in ``teachkit/data/`` from real runs: every record block of the course, plus extras.

One command (a few minutes on 2 cores; never edit the files by hand)::

    .venv/bin/python tools/make_examples.py                  # every lesson and solution notebook, then the index
    .venv/bin/python tools/make_examples.py notebooks/03_*.ipynb   # some notebooks (the others' runs are kept)
    .venv/bin/python tools/make_examples.py --extras         # also record the extra examples again
    .venv/bin/python tools/make_examples.py notebooks/08_*.ipynb --extras seed   # one lesson, one extra

Each course notebook (``notebooks/``, then ``solutions/``, whose runs the
generated exercises share) runs top to bottom on a fresh kernel (nbclient, one
at a time) with ``TEACHKIT_SAVE_RUNS=DIR`` (every record block saves its
recording there, named after its jobs) and ``TEACHKIT_REPLAY=0`` (a cluster
that cannot start is an error, never a replay).  A notebook that fails stops the
tool with its error and exit code 1, and nothing in ``teachkit/data/`` changes.
Each run is named ``NN-<its first job's name>`` (``solutions-NN-...`` for a
solution) and described in one line: the ``about=`` given to ``teachkit.job``,
else the heading of the Markdown cell above the block's cell.  The extra examples (``groupby``, ``pipeline``,
``killed``: small runs the tests and docs pin) are kept as they are unless
``--extras`` is given.  ``index.json`` lists every recording with what
identifies its jobs (:mod:`teachkit.runs`), which replay mode reads.  Running
it twice gives the same names and descriptions (the runs themselves are new).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import teachkit
from teachkit import runs
from teachkit.data import read_index, write_index
from teachkit.datasets import sales

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(teachkit.__file__).parent / "data"
#: Most bytes the shipped recordings may take in all.
MAX_BYTES = 5_000_000


# -- the extra examples ------------------------------------------------------------------------
def groupby(cluster) -> teachkit.Recording:
    """A groupby count with Dask's default P2P shuffle: 16 partitions on 3 workers, two stages."""
    df = sales(rows=160_000, partitions=16)
    with teachkit.record(cluster) as rec:
        with teachkit.job("groupby count"):
            df.groupby("category").count().compute()
    return rec


def pipeline(cluster) -> teachkit.Recording:
    """Narrow operations only (filter, assign), then a tree reduction to one sum: 12 partitions on 3 workers."""
    df = sales(rows=120_000, partitions=12)
    with teachkit.record(cluster) as rec:
        with teachkit.job("filter and sum"):
            big = df[df.value > 0.5]
            big.assign(double=big.value * 2).double.sum().compute()
    return rec


def killed(cluster) -> teachkit.Recording:
    """The groupby count with worker-2 killed mid-shuffle: tasks re-assigned, results recomputed, the shuffle restarted.

    Kept from the first of up to 5 real runs that shows all three ways the driver
    copes: tasks re-assigned (worker-lost), results recomputed from lineage
    (result-lost) and the P2P shuffle starting over (shuffle-restart).
    """
    from teachkit import faults
    from teachkit.model.failures import job_faults

    df = sales(rows=160_000, partitions=16)
    for _ in range(5):
        cluster.client.wait_for_workers(3, timeout=60)
        kill = faults.kill_worker(cluster, "worker-2", when=faults.after_tasks(4, stage="shuffle-transfer"))
        with teachkit.record(cluster) as rec:
            with teachkit.job("groupby count, worker-2 killed"):
                df.groupby("category").count().compute()
            kill.wait(timeout=30)
            cluster.client.wait_for_workers(3, timeout=60)  # record the restarted worker joining
        facts = job_faults(rec.jobs[0])
        reruns = rec.summary()["jobs"][0]["reruns"]
        if facts["shuffle_restarted"] and reruns.get("worker-lost") and reruns.get("result-lost"):
            break
    return rec


def _work(part):
    """Every task takes at least 0.15 s, so the work, not Dask's overhead, sets the pace."""
    import time

    time.sleep(0.15)
    return part


def straggler(cluster) -> teachkit.Recording:
    """Lesson 6's steal: 24 partitions kept in memory, worker-3 made 6x slower, idle workers steal its queued tasks.

    Only the job on the kept partitions is recorded (its stage reads from
    memory).  Kept from the first of up to 8 real runs in which idle workers
    stole at least two tasks, all from worker-3, and one worker ran at least
    1.5 times the tasks of another in a stage.
    """
    import distributed

    from teachkit import faults
    from teachkit.model.balance import steals, uneven_stages

    df = sales(rows=240_000, partitions=24)
    for _ in range(8):
        kept = df.persist()
        distributed.wait(kept)
        with teachkit.record(cluster) as rec:
            with faults.slow_worker(cluster, "worker-3", factor=6):
                with teachkit.job("work on kept partitions, worker-3 slowed"):
                    kept.map_partitions(_work, meta=kept._meta).value.sum().compute()
        del kept
        job = rec.job("work on kept partitions, worker-3 slowed")
        moved = steals(job)
        if len(moved) >= 2 and all(s.victim == "worker-3" for s in moved) and uneven_stages(job, ratio=1.5):
            break
    return rec


def seed(cluster) -> teachkit.Recording:
    """Lesson 8's detailed example at full size: 1,000,000 rows, 500 partitions, 5 workers x 20 task slots."""
    from teachkit import seed as seed_job

    plan = seed_job.seed_query(sales(rows=1_000_000, partitions=500))
    with teachkit.record(cluster) as rec:
        with teachkit.job("groupby count, full size"):
            plan.compute()
    return rec


#: name -> (function, workers, threads per worker): the small runs the tests and docs pin, and two lesson runs
#: whose shape a notebook cannot promise on every machine (a steal, the full-size seed on 5 x 20 slots).
EXTRAS = {"groupby": (groupby, 3, 1), "pipeline": (pipeline, 3, 1), "killed": (killed, 3, 1),
          "straggler": (straggler, 3, 1), "seed": (seed, 5, 20)}


def record_extras(names: list[str]) -> dict[str, teachkit.Recording]:
    """Record the extra examples called ``names`` (all of them when empty), one cluster per shape."""
    chosen = {name: EXTRAS[name] for name in (names or EXTRAS)}
    out = {}
    for shape in sorted({(w, t) for _, w, t in chosen.values()}):
        cluster = teachkit.start_cluster(workers=shape[0], threads_per_worker=shape[1], memory_limit="1GiB",
                                         dashboard=False)
        try:
            for name, (make, workers, threads) in chosen.items():
                if (workers, threads) == shape:
                    print(f"  extra {name}: recording ...", flush=True)
                    out[name] = make(cluster)
        finally:
            cluster.close()
    return out


# -- the course ---------------------------------------------------------------------------------
def run_lesson(path: Path, folder: Path, timeout: int) -> list[tuple[str, teachkit.Recording]]:
    """Run one course notebook with every record block saving its run; ``[(name, recording)]`` in block order."""
    from teachkit.gallery import run_notebook

    dots = sys.stdout.isatty()
    nb = run_notebook(path, timeout=timeout, env={runs.SAVE_ENV: str(folder), "TEACHKIT_REPLAY": "0"},
                      progress=(lambda s: print(s, end="", flush=True)) if dots else None)
    if dots:
        print()
    cells = {runs.cell_key(c.source): i for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    number = path.stem.split("_", 1)[0]
    course = path.parent.name == "notebooks"
    out = []
    for saved in sorted(folder.glob("*.json.gz"), key=lambda p: p.stat().st_mtime):
        rec = teachkit.Recording.load(saved)
        run = rec.meta.get("run") or {}
        name = saved.name[: -len(".json.gz")]
        if number.isdigit() and not name.startswith(number):
            name = f"{number}-{name}"
        if not course:
            name = f"{path.parent.name}-{name}"
        description = run.get("about") or heading_above(nb, cells.get(run.get("cell"))) or title(nb, path)
        if not course and not run.get("about"):
            description = f"{title(nb, path)}: {description}"
        rec.meta["example"] = {"name": name, "lesson": lesson_of(path), "description": one_line(description),
                               "source": f"{path.parent.name}/{path.name}"}
        out.append((name, rec))
    return out


def lesson_of(path: Path) -> str:
    """``03_partitions_and_parallelism`` for a lesson, ``solutions/03_...`` for a solution notebook."""
    return path.stem if path.parent.name == "notebooks" else f"{path.parent.name}/{path.stem}"


def heading_above(nb, index: int | None) -> str | None:
    """The nearest Markdown heading (or first sentence) above code cell ``index``."""
    if index is None:
        return None
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type != "markdown":
            continue
        lines = [ln.strip() for ln in cell.source.strip().splitlines() if ln.strip()]
        heads = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
        if heads:
            return heads[-1]
        if lines:  # no heading: its first sentences, up to a readable length
            said = ""
            for sentence in re.split(r"(?<=[.:!?])\s", " ".join(lines)):
                said = f"{said} {sentence}".strip()
                if len(one_line(said)) >= 30:
                    break
            return said
    return None


def title(nb, path: Path) -> str:
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    return next((ln.lstrip("#").strip() for ln in first.splitlines() if ln.startswith("#")), path.stem)


def one_line(text: str) -> str:
    plain = re.sub(r"[*`]|\[([^]]*)\]\([^)]*\)", lambda m: m[1] or "", text)  # emphasis, code marks, links
    return " ".join(plain.split())[:160]


# -- writing ------------------------------------------------------------------------------------
def write(rec: teachkit.Recording, path: Path) -> int:
    """Write a recording compactly (gzip level 9, no timestamp in the header: same run, same bytes)."""
    text = json.dumps(rec.to_dict(), separators=(",", ":")).encode("utf-8")
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as fh:
        fh.write(text)
    os.replace(tmp, path)
    teachkit.Recording.load(path)  # it reads back
    return path.stat().st_size


def entry(name: str, rec: teachkit.Recording, size: int, lesson: str | None, description: str) -> dict:
    return {
        "name": name, "file": f"{name}.json.gz", "lesson": lesson, "description": description,
        "jobs": runs.signature(rec), "tasks": sum(len(j.dask_tasks) for j in rec.jobs),
        "workers": len(rec.workers), "deaths": sum(1 for j in rec.jobs for f in j.faults if f.get("action") == "kill"),
        "bytes": size,
    }


def describe_extra(name: str) -> str:
    return one_line((EXTRAS[name][0].__doc__ or name).strip().splitlines()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="course notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--extras", nargs="*", choices=sorted(EXTRAS), metavar="NAME",
                        help="record the extra examples again too (only those NAMEs if given)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds a cell may run (default 900)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    os.environ["TEACHKIT_REPLAY"] = "0"  # this tool records real runs, never replays
    everything = not args.notebooks
    notebooks = args.notebooks or [*sorted((ROOT / "notebooks").glob("*.ipynb")),
                                   *sorted((ROOT / "solutions").glob("*.ipynb"))]
    print(f"make_examples: {len(notebooks)} notebook(s) -> {OUT}/", flush=True)
    made: dict[str, tuple[str | None, teachkit.Recording]] = {}
    with tempfile.TemporaryDirectory(prefix="teachkit-runs-") as tmp:
        for k, path in enumerate(notebooks, 1):
            t0 = time.perf_counter()
            print(f"[{k}/{len(notebooks)}] {path.stem}: running", flush=True)
            try:
                found = run_lesson(path, Path(tmp) / f"{path.parent.name}-{path.stem}", args.timeout)
            except Exception as exc:  # noqa: BLE001 - fail loudly, change nothing
                print(f"make_examples: {path.name} failed: {exc}\nNothing in {OUT} was changed.", file=sys.stderr)
                return 1
            for name, rec in found:
                if name in made:
                    print(f"make_examples: two record blocks are both named {name!r} (in {made[name][0]} and "
                          f"{lesson_of(path)}): give their jobs unique names. Nothing was changed.", file=sys.stderr)
                    return 1
                made[name] = (lesson_of(path), rec)
            print(f"[{k}/{len(notebooks)}] {path.stem}: {len(found)} run(s) in {time.perf_counter() - t0:.0f} s",
                  flush=True)
    extras = record_extras(args.extras) if args.extras is not None else {}
    old = {e["name"]: e for e in read_index(OUT)}
    lessons = {lesson_of(p) for p in notebooks}
    stale = [n for n, e in old.items() if e.get("lesson") and (everything or e["lesson"] in lessons) and n not in made]
    for name in stale:
        (OUT / f"{name}.json.gz").unlink(missing_ok=True)
    entries = {n: e for n, e in old.items() if n not in stale and (OUT / f"{n}.json.gz").exists()}
    for name, (lesson, rec) in made.items():
        size = write(rec, OUT / f"{name}.json.gz")
        entries[name] = entry(name, rec, size, lesson, rec.meta["example"]["description"])
    for name in EXTRAS:
        path = OUT / f"{name}.json.gz"
        if name in extras:
            extras[name].meta["example"] = {"name": name, "lesson": None, "description": describe_extra(name)}
            write(extras[name], path)
        if path.exists() and (name in extras or name not in entries):
            rec = teachkit.Recording.load(path)
            entries[name] = entry(name, rec, path.stat().st_size, None, describe_extra(name))
    write_index(OUT, [entries[n] for n in sorted(entries)])
    total = sum((OUT / e["file"]).stat().st_size for e in entries.values())
    print_summary(entries, stale, total, time.perf_counter() - started)
    if total > MAX_BYTES:
        print(f"make_examples: the shipped recordings take {total / 1e6:.1f} MB, more than {MAX_BYTES / 1e6:.0f} MB: "
              "make the course's runs smaller.", file=sys.stderr)
        return 1
    return 0


def print_summary(entries: dict[str, dict], stale: list[str], total: int, seconds: float) -> None:
    width = max(len(n) for n in entries)
    print(f"\n{'name':<{width}}  {'lesson':<30} {'jobs':>4} {'tasks':>6} {'wkrs':>4} {'KiB':>6}  description")
    for name in sorted(entries):
        e = entries[name]
        print(f"{name:<{width}}  {e.get('lesson') or '(extra)':<30} {len(e['jobs']):>4} {e['tasks']:>6} "
              f"{e['workers']:>4} {e['bytes'] / 1024:>6.0f}  {e['description'][:70]}")
    if stale:
        print(f"removed (their blocks are gone): {', '.join(stale)}")
    print(f"{len(entries)} recordings, {total / 1e6:.2f} MB in all, made in {seconds:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
