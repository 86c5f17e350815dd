"""The ``teachkit`` command: ``doctor``, ``demo`` and ``summary``.

Each subcommand imports its module only when it runs, so ``teachkit --help``
stays fast and ``doctor`` still works when something else is broken.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="teachkit",
        description="See Spark's execution model on real dask.dataframe jobs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    doctor = sub.add_parser(
        "doctor",
        help="check Python, packages, Graphviz, the Jupyter kernel and a 2-worker cluster",
        description="One line per check (ok / MISSING, with the fix). Exit code 1 if anything is missing.",
    )
    doctor.add_argument(
        "--no-cluster", action="store_true", help="skip the check that starts a 2-worker cluster"
    )
    doctor.set_defaults(run=_doctor)

    demo = sub.add_parser(
        "demo",
        help="run a small job on a local cluster, record it and write the pictures (no browser needed)",
    )
    demo.add_argument("--out", default="demo-output", help="folder to write to (default: %(default)s)")
    demo.add_argument("--rows", type=int, default=1_000_000, help="rows of data (default: %(default)s)")
    demo.add_argument("--partitions", type=int, default=500, help="partitions (default: %(default)s)")
    demo.add_argument("--workers", type=int, default=5, help="worker processes (default: %(default)s)")
    demo.set_defaults(run=_job("demo"))

    # -- teachkit gallery: everything for this command lives in teachkit/gallery.py --
    gallery = sub.add_parser(
        "gallery",
        help="run the course notebooks and write them as a static site that opens offline",
        description="index.html plus one page per course notebook, from a fresh run (one notebook at a time) or"
        " from notebooks executed elsewhere (--executed). Pages open from file:// with no network request.",
    )
    gallery.add_argument("--out", default="site", help="folder to write the site to (default: %(default)s)")
    gallery.add_argument("--notebooks", default="notebooks", help="the course notebooks (default: %(default)s)")
    gallery.add_argument("--executed", metavar="DIR", help="take executed notebooks (same file names) from DIR")
    gallery.add_argument("--timeout", type=int, default=600, help="seconds a cell may run (default: %(default)s)")
    gallery.set_defaults(run=lambda args: importlib.import_module("teachkit.gallery").main(args))

    summary = sub.add_parser("summary", help="print a text summary of a saved recording")
    summary.add_argument("recording", help="a saved recording (.json or .json.gz)")
    summary.set_defaults(run=_job("summary"))
    # -- teachkit grade (issue 15): self-contained; the work is in teachkit/grade.py --
    grade = sub.add_parser(
        "grade",
        help="run every submitted exercise notebook on a fresh kernel and write the points to a CSV",
        description="SUBMISSIONS/<student>/<notebook>.ipynb: each notebook runs headless with a time limit; "
        "one CSV row per student and notebook (points per question, total, notes on every 0).",
    )
    grade.add_argument("submissions", help="folder holding one folder per student")
    grade.add_argument("--out", default="grades.csv", help="CSV to write (default: %(default)s)")
    grade.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default: %(default)s)")
    grade.add_argument("--timeout", type=float, default=600,
                       help="seconds one notebook may run in all (default: %(default)s)")
    grade.add_argument("--exercises", default=None,
                       help="folder of the exercise notebooks that define the questions (default: exercises/)")
    grade.add_argument("--kernel", default="python3", help="Jupyter kernel to run them with (default: %(default)s)")
    grade.add_argument("--executed", default=None, help="also save each executed notebook (with its feedback) here")
    grade.set_defaults(run=lambda args: importlib.import_module("teachkit.grade").main(args))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


def _doctor(args: argparse.Namespace) -> int:
    from teachkit import doctor

    return doctor.main(cluster=not args.no_cluster)


def _job(name: str):
    def run(args: argparse.Namespace) -> int:
        try:
            cli_jobs = importlib.import_module("teachkit.cli_jobs")
        except ModuleNotFoundError as exc:
            if exc.name != "teachkit.cli_jobs":
                raise
            print(f"teachkit {name}: not available in this version yet", file=sys.stderr)
            return 2
        return getattr(cli_jobs, name)(args)

    return run


if __name__ == "__main__":
    sys.exit(main())
