"""How long each shipped recording takes to load and to build its player, with no cluster (issue 16: <= 2 s each).

Run: ``.venv/bin/python benchmarks/examples.py [NAME ...]``.  For every recording
in ``teachkit/data/`` (or the ones named) it prints the file's size, the JSON
size it inflates to, the time to load it (``Recording.load``: read, check every
event) and the time to build its step-through player from there
(``teachkit.Player(rec)``: the jobs, frames, stage DAG, timeline), best of three, and
whether load + player stays within the target.  It also prints the total size of
the shipped data (target: <= 5 MB).  No cluster is started; numbers taken while
others load the machine are not the machine's.
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import teachkit  # noqa: E402
from teachkit.model.recording import Recording  # noqa: E402

TARGET_S = 2.0
TARGET_BYTES = 5_000_000


def best(fn, repeat: int = 3) -> tuple[float, object]:
    """The fastest of ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main(names: list[str]) -> int:
    examples = teachkit.examples()
    names = names or list(examples)
    width = max(len(n) for n in names)
    print(f"{'recording':<{width}}  {'file':>8}  {'json':>8}  {'steps':>6}  {'load':>6}  {'player':>6}  {'sum':>6}")
    slow = []
    for name in names:
        path = teachkit.example_path(name)
        inflated = len(gzip.decompress(path.read_bytes()))
        load_s, _ = best(lambda: Recording.load(path))  # noqa: B023 - called at once
        # a fresh recording each time: the player derives the jobs, as it would in a new notebook
        total, player = best(lambda: teachkit.Player(Recording.load(path)))  # noqa: B023
        player_s = total - load_s
        if total > TARGET_S:
            slow.append(name)
        print(f"{name:<{width}}  {path.stat().st_size / 1024:>6.0f} K  {inflated / 1024:>6.0f} K  "
              f"{player.num_steps:>6}  {load_s:>5.2f}s  {player_s:>5.2f}s  {total:>5.2f}s"
              f"{'  > target' if total > TARGET_S else ''}")
    data = Path(teachkit.__file__).parent / "data"
    size = sum(p.stat().st_size for p in data.iterdir() if p.is_file())
    print(f"\n{len(names)} recording(s); teachkit/data/ holds {size / 1e6:.2f} MB (target <= {TARGET_BYTES / 1e6:.0f} MB); "
          f"target load + player <= {TARGET_S:g} s each: "
          f"{'all within' if not slow else 'over: ' + ', '.join(slow)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
