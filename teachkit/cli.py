"""The ``teachkit`` command: ``doctor``, ``demo`` and ``summary``.

Each subcommand imports its module only when it runs, so ``teachkit --help``
stays fast and ``doctor`` still works when something else is broken.

Every option is checked before anything starts.  A wrong one gets one line on
stderr (``teachkit demo: --workers=0 is too small: ...``) and exit code 2,
never a traceback; an error the kit raises while running (a cluster that
cannot start, an unreadable recording) gets one line and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from teachkit import arguments
from teachkit.errors import ArgumentError, TeachkitError


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the option, the value, what to do) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # "argument --x: --x=0 is ..." -> "--x=0 is ...": the kit's own messages name the option or value already
        message = re.sub(r"^argument (\S+?)(/\S+)?: (?=\1|')", "", message)
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _count_option(name: str, *, maximum: Callable[[], tuple[int, str]] | None = None, example: int = 3):
    """An argparse ``type`` for a whole-number option, checked like the functions' arguments."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {text!r} is not a whole number: pass one such as {example}.") \
                from None
        most, why = maximum() if maximum is not None else (None, "")
        try:
            return arguments.count(name, value, maximum=most, why=why, example=example)
        except ArgumentError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name  # argparse names the type in some messages
    return parse


def _max_workers() -> tuple[int, str]:
    from teachkit.preflight import max_local_workers

    most, why = max_local_workers()
    return most, f"{why}; pass fewer"


def _out_folder(text: str) -> Path:
    """``--out``: a folder that exists or can be made, and can be written into."""
    if not text.strip():
        raise argparse.ArgumentTypeError("--out '' is empty: pass a folder to write into, such as demo-output.")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"--out {text!r} is a file, not a folder: pass a folder to write into.")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"--out {text!r} cannot be made: {str(existing)!r} is a file, not a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"--out {text!r} cannot be written: no permission to write in "
                                         f"{str(existing)!r}; pass a folder you can write to.")
    return path


def _recording_file(text: str) -> str:
    """``summary RECORDING``: an existing file (its content is checked when it is read)."""
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text!r} does not exist: pass a saved recording (.json or .json.gz).")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder: pass a saved recording file (.json or .json.gz).")
    return str(path)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    demo.add_argument("--out", type=_out_folder, default="demo-output",
                      help="folder to write to (default: %(default)s)")
    demo.add_argument("--rows", type=_count_option("--rows", example=1_000_000), default=1_000_000,
                      help="rows of data (default: %(default)s)")
    demo.add_argument("--partitions", type=_count_option("--partitions", example=100), default=500,
                      help="partitions (default: %(default)s)")
    demo.add_argument("--workers", type=_count_option("--workers", maximum=_max_workers), default=5,
                      help="worker processes (default: %(default)s)")
    demo.set_defaults(run=_demo)

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
    summary.add_argument("recording", type=_recording_file, help="a saved recording (.json or .json.gz)")
    summary.set_defaults(run=_summary)
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
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"teachkit {args.command}"
    try:
        return int(args.run(args) or 0)
    except ArgumentError as exc:  # a check that needs two options at once (e.g. --rows and --partitions)
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except TeachkitError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _doctor(args: argparse.Namespace) -> int:
    from teachkit import doctor

    return doctor.main(cluster=not args.no_cluster)


def _demo(args: argparse.Namespace) -> Any:
    from teachkit.datasets import check_sizes

    check_sizes(args.rows, args.partitions)  # before anything starts
    return importlib.import_module("teachkit.cli_jobs").demo(args)


def _summary(args: argparse.Namespace) -> Any:
    return importlib.import_module("teachkit.cli_jobs").summary(args)


if __name__ == "__main__":
    sys.exit(main())
