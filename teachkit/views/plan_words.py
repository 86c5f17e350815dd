"""What the driver's optimiser changed in a job's plan, in Spark's words next to Dask's.

``job.explain()`` shows the three plan levels as Dask prints them.  This view
reads the same recorded plans (``job.plan.logical`` and ``job.plan.optimized``,
dask-expr's tree text) and says what changed between them, with the name
Spark's ``explain()`` gives each operation:

- **column pruning**: the optimised read lists only the columns the job uses
  (Spark: the scan's ``ReadSchema``);
- **filter pushdown**: a filter moved into the read, so rows that fail it are
  never loaded (Spark: ``PushedFilters``);
- **files packed into fewer tasks**: small files read together by one task
  (Spark packs small files into one input split, ``spark.sql.files.maxPartitionBytes``);
- **partial + final aggregation**: an aggregation split into a per-partition
  partial step and a final step (Spark: ``HashAggregate(partial_...)`` then
  ``HashAggregate``);
- **a shuffle planned**: an exchange of rows by key (Spark: ``Exchange hashpartitioning``).

A view: no cluster, only the recorded text.

>>> from types import SimpleNamespace as NS
>>> plan = NS(logical="Sum:\\n  Filter:\\n    ReadParquetPyarrowFS: path='p'\\n    GT: right=0.9",
...           optimized="Sum(TreeReduce):\\n  Sum(GroupByChunk): chunk=sum\\n    ReadParquetPyarrowFS: path='p' "
...                     "columns=['category', 'value'] filters=[[('value', '>', 0.9)]]")
>>> [c.kind for c in plan_changes(NS(name="j", plan=plan)).changes]
['column pruning', 'filter pushdown', 'partial + final aggregation']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from teachkit.views.display import HtmlView
from teachkit.views.style import FONT, esc

#: dask-expr class (its name, or the start of it) -> what Spark's explain() calls that operation.
SPARK_WORDS: tuple[tuple[str, str], ...] = (
    ("FusedParquetIO", "(several files read by one task: Spark packs small files into one input split)"),
    ("FusedIO", "(several partitions read by one task: Spark packs small files into one input split)"),
    ("ReadParquet", "FileScan parquet"),
    ("ReadCSV", "FileScan csv"),
    ("FromMap", "Scan (each partition made by a function on a worker)"),
    ("FromPandas", "LocalTableScan (data sent from the driver)"),
    ("FromGraph", "InMemoryTableScan (a result kept on the workers)"),
    ("Filter", "Filter"),
    ("Projection", "Project"),
    ("Assign", "Project (withColumn)"),
    ("P2PShuffle", "Exchange hashpartitioning"),
    ("TaskShuffle", "Exchange hashpartitioning"),
    ("DiskShuffle", "Exchange hashpartitioning"),
    ("Shuffle", "Exchange hashpartitioning"),
    ("RearrangeByColumn", "Exchange hashpartitioning"),
    ("AssignPartitioningIndex", "(part of the Exchange: the partition of each row's key)"),
    ("HashJoin", "SortMergeJoin (both sides shuffled by key)"),
    ("BroadcastJoin", "BroadcastHashJoin"),
    ("BlockwiseMerge", "BroadcastHashJoin"),
    ("Merge", "Join"),
    ("ToParquet", "WriteFiles parquet (InsertIntoHadoopFsRelationCommand)"),
    ("ArrowStringConversion", "(Dask only: text columns held as Arrow strings)"),
    ("Fused", "(Dask: steps fused into one task per partition, like Spark's WholeStageCodegen)"),
)
_AGG = re.compile(r"^(Sum|Count|Max|Min|Mean|Size|Var|Std|Agg|First|Last|Prod|NUnique|Unique)\b")
_COMPARE = {"GT": ">", "GE": ">=", "LT": "<", "LE": "<=", "EQ": "==", "NE": "!="}
_ARITHMETIC = ("Mul", "Add", "Sub", "Div", "TrueDiv", "FloorDiv", "Mod", "Pow", "Neg", "And", "Or", "Invert")
_BOOKKEEPING = ("ResetIndex", "SetIndexBlockwise", "RenameFrame", "ToFrame", "RenameSeries", "ColumnsSetter")
_LINE = re.compile(r"^(?P<indent>[ |]*)(?P<cls>[A-Za-z_]\w*(?:\(\w+\))?):(?P<args>.*)$")


@dataclass(frozen=True)
class Node:
    """One operation of a printed plan: its depth in the tree, dask-expr class and arguments."""

    depth: int
    cls: str
    args: str

    @property
    def base(self) -> str:
        """The class without its variant: ``Sum(TreeReduce)`` -> ``Sum``."""
        return self.cls.split("(", 1)[0]

    @property
    def variant(self) -> str:
        """The variant in parentheses (``TreeReduce``), or ``""``."""
        return self.cls[len(self.base) + 1:-1] if "(" in self.cls else ""


@dataclass(frozen=True)
class Change:
    """One thing the optimiser changed: its kind, what it was before and after, and Spark's name for it."""

    kind: str
    before: str
    after: str
    spark: str


def parse(text: str | None) -> list[Node]:
    """The operations of a printed plan, outermost first (``Fused(...)`` block headers skipped).

    >>> [(n.depth, n.cls) for n in parse("Sum:\\n  Filter:\\n    FromMap: func=f")]
    [(0, 'Sum'), (1, 'Filter'), (2, 'FromMap')]
    """
    nodes = []
    for line in (text or "").splitlines():
        m = _LINE.match(line)
        if not m or m.group("cls").startswith("Fused("):
            continue
        indent = m.group("indent")  # "  | " inside a Fused block: the block header is skipped, so one level up
        nodes.append(Node(len(indent) // 2 - indent.count("|"), m.group("cls"), m.group("args").strip()))
    return nodes


def spark_words(node: Node) -> str:
    """What Spark's ``explain()`` calls this operation (with its columns and pushed filters for a scan)."""
    if node.base in _COMPARE:
        return f"(the filter's condition: {_COMPARE[node.base]} {_arg(node.args, 'right') or ''})".replace(" )", ")")
    if node.base in _ARITHMETIC:
        return "(part of the Project: the expression of a new column)"
    if node.base in _BOOKKEEPING:
        return "(Dask only: pandas index bookkeeping)"
    if _AGG.match(node.cls):
        fn = node.base.lower()
        if node.variant in ("GroupByChunk", "Chunk"):
            return f"HashAggregate (partial_{fn}: per partition, before any exchange)"
        return f"HashAggregate ({fn}: the final step)" if node.variant else f"HashAggregate ({fn})"
    for prefix, words in SPARK_WORDS:
        if node.base.startswith(prefix):
            if words.startswith("FileScan"):
                cols = _arg(node.args, "columns")
                pushed = _arg(node.args, "filters")
                words += f" [{', '.join(_names(cols))}]" if cols else " [all columns]"
                if pushed:
                    words += f" PushedFilters: {_filters(pushed)}"
            return words
    return "(no direct Spark counterpart)"


def _arg(args: str, name: str) -> str | None:
    """The text of ``name=...`` in a printed argument list (brackets balanced), or None."""
    m = re.search(rf"(?:^|\s){name}=", args)
    if not m:
        return None
    i, depth, out = m.end(), 0, []
    while i < len(args):
        ch = args[i]
        if ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        elif ch == " " and depth == 0:
            break
        out.append(ch)
        i += 1
    return "".join(out) or None


def _names(text: str | None) -> list[str]:
    return re.findall(r"'([^']*)'", text or "")


def _filters(text: str) -> str:
    """``[[('value', '>', 0.9)]]`` -> ``value > 0.9``."""
    terms = re.findall(r"\('([^']*)',\s*'([^']*)',\s*([^)]*)\)", text)
    return " and ".join(f"{c} {op} {v.strip()}" for c, op, v in terms) or text


def _reads(nodes: list[Node]) -> list[Node]:
    return [n for n in nodes if n.base.startswith(("ReadParquet", "ReadCSV", "FromMap", "FromPandas"))]


def _kept_after_read(nodes: list[Node]) -> set[str]:
    """Columns of the Projections placed directly on a read (the read itself cannot skip columns)."""
    kept = set()
    for i, n in enumerate(nodes):
        if n.base == "Projection" and i + 1 < len(nodes) and nodes[i + 1].depth == n.depth + 1 \
                and nodes[i + 1] in _reads(nodes):
            kept.add(", ".join(_names(_arg(n.args, "columns"))))
    return {k for k in kept if k}


def find_changes(logical: str | None, optimized: str | None) -> list[Change]:
    """Compare the logical and the optimised plan; return what the optimiser changed."""
    before, after = parse(logical), parse(optimized)
    if not before or not after:
        return []
    out: list[Change] = []
    read_before, read_after = _reads(before), _reads(after)
    cols_before = {c for n in read_before for c in _names(_arg(n.args, "columns"))}
    cols_after = [c for n in read_after[:1] for c in _names(_arg(n.args, "columns"))]
    if read_after and cols_after and not cols_before:
        out.append(Change("column pruning", "the read loads every column of the data",
                          f"the read loads only {', '.join(cols_after)}", "ReadSchema of the FileScan"))
    elif read_after and not cols_after:
        kept = _kept_after_read(after) - _kept_after_read(before)
        if kept:
            out.append(Change("column pruning", "every column is carried from the read to the first step that "
                              "drops it", f"right after the read only {', '.join(sorted(kept))} is kept",
                              "Project right above the Scan"))
    pushed = [_arg(n.args, "filters") for n in read_after if _arg(n.args, "filters")]
    n_filters = (sum(n.base == "Filter" for n in before), sum(n.base == "Filter" for n in after))
    if pushed and not any(_arg(n.args, "filters") for n in read_before):
        where = "after the read" if n_filters[0] else "in the plan"
        out.append(Change("filter pushdown", f"the filter runs {where}, on every row loaded",
                          f"the read applies {_filters(pushed[0])} itself"
                          + (", and the Filter step is gone" if n_filters[1] < n_filters[0] else ""),
                          "PushedFilters of the FileScan"))
    if any(n.base in ("FusedParquetIO", "FusedIO") for n in after):
        out.append(Change("files packed into fewer tasks", "one task per file (input partition)",
                          "one task reads several files", "small files packed into one input split"))
    chunks = [n for n in after if _AGG.match(n.cls) and n.variant in ("GroupByChunk", "Chunk")]
    if chunks and not any(n.variant for n in before if _AGG.match(n.cls)):
        fn = chunks[0].base.lower()
        out.append(Change("partial + final aggregation", f"one {fn} over all rows",
                          f"a partial {fn} in every partition, then a final {fn} of the partial results",
                          f"HashAggregate(partial_{fn}) then HashAggregate({fn})"))
    shuffles = [n for n in after if "Shuffle" in n.base or n.base == "RearrangeByColumn"]
    if shuffles and not any("Shuffle" in n.base for n in before):
        out.append(Change("a shuffle planned", "no exchange of rows written in your code",
                          f"{len(shuffles)} shuffle(s) by key", "Exchange hashpartitioning"))
    return out


class PlanChanges(HtmlView):
    """The view of :func:`plan_changes`; ``.changes`` lists what changed, ``.sentences()`` says it."""

    changes: list[Change]

    def sentences(self) -> list[str]:
        """One sentence per change, from the recorded plans."""
        if not self.changes:
            return ["The optimiser changed nothing that this view can name in this job's plan."]
        return [f"{c.kind.capitalize()}: before, {c.before}; after, {c.after} (Spark: {c.spark})." for c in self.changes]


def plan_changes(job: Any) -> PlanChanges:
    """What the optimiser changed in ``job``'s plan, and the optimised plan in Spark's words next to Dask's.

    Parameters
    ----------
    job : Job
        A recorded job (``rec.job("...")``); its plans are read from ``job.plan``.

    Returns
    -------
    PlanChanges
        HTML (the last line of a cell shows it); ``.changes`` is the list of
        :class:`Change`, ``.info["rows"]`` the optimised plan as
        ``(depth, Dask's class, Spark's words)``.
    """
    plan = job.plan
    changes = find_changes(plan.logical, plan.optimized)
    rows = [(n.depth, n.cls, spark_words(n)) for n in parse(plan.optimized)]
    view = PlanChanges(_html(job.name, changes, rows), kind="plan changes",
                       info={"rows": rows, "changes": [c.__dict__ for c in changes]})
    view.changes = changes
    return view


def _html(name: str, changes: list[Change], rows: list[tuple[int, str, str]]) -> str:
    cell = "padding:3px 10px;vertical-align:top;text-align:left"
    if changes:
        items = "".join(f"<li><b>{esc(c.kind)}</b>: {esc(c.before)} → <b>{esc(c.after)}</b> "
                        f"<span style='color:#555'>(Spark: {esc(c.spark)})</span></li>" for c in changes)
        head = f"<ul style='margin:4px 0 10px 0;padding-left:1.4em'>{items}</ul>"
    else:
        head = "<p>The optimiser changed nothing this view can name in this job's plan.</p>"
    body = "".join(
        f"<tr><td style='{cell};font-family:monospace;white-space:pre'>{'  ' * d}{esc(cls)}</td>"
        f"<td style='{cell}'>{'&nbsp;' * 2 * d}{esc(words)}</td></tr>" for d, cls, words in rows)
    return (f"<div style='font-family:{FONT};font-size:14px;max-width:100%;overflow-x:auto'>"
            f"<div style='font-weight:bold;font-size:15px'>What the optimiser changed in {esc(name)!s}</div>{head}"
            f"<table style='border-collapse:collapse'><tr><th style='{cell};text-align:left;border-bottom:1px solid"
            f" #999'>optimised plan, Dask's words</th><th style='{cell};text-align:left;border-bottom:1px solid #999'>"
            f"Spark's words</th></tr>{body}</table></div>")
