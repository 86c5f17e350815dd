"""What the optimiser changed, in Spark's words: read from recorded plans."""

from __future__ import annotations

from types import SimpleNamespace as Obj

import pytest

import teachkit
from teachkit.views.plan_words import Node, find_changes, parse, plan_changes, spark_words

LOGICAL = """Sum: observed=True _slice='value''category'
  Projection: columns=['category', 'value']
    Filter:
      ReadParquetPyarrowFS: path='/tmp/x/sales' filesystem='arrow'
      GT: right=0.9
        Projection: columns='value'
          ReadParquetPyarrowFS: path='/tmp/x/sales' filesystem='arrow'"""
OPTIMIZED = """Sum(TreeReduce): split_every=8
  Sum(GroupByChunk): chunk=<methodcaller: sum> columns=value observed=True
    FusedParquetIO:
      ReadParquetPyarrowFS: path='/tmp/x/sales' columns=['category', 'value'] filters=[[('value', '>', 0.9)]] \
filesystem='arrow'"""


def test_pruning_pushdown_packing_and_the_split_aggregate_are_found():
    kinds = [c.kind for c in find_changes(LOGICAL, OPTIMIZED)]
    assert kinds == ["column pruning", "filter pushdown", "files packed into fewer tasks",
                     "partial + final aggregation"]
    pushdown = find_changes(LOGICAL, OPTIMIZED)[1]
    assert pushdown.after == "the read applies value > 0.9 itself, and the Filter step is gone"


def test_an_unchanged_plan_has_no_change_and_says_so():
    assert find_changes(LOGICAL, LOGICAL) == []
    assert find_changes(None, OPTIMIZED) == []
    view = plan_changes(Obj(name="same", plan=Obj(logical=LOGICAL, optimized=LOGICAL)))
    assert view.changes == [] and "changed nothing" in view.sentences()[0]


def test_spark_words_for_each_operation():
    nodes = parse(OPTIMIZED)
    assert [n.cls for n in nodes] == ["Sum(TreeReduce)", "Sum(GroupByChunk)", "FusedParquetIO", "ReadParquetPyarrowFS"]
    words = [spark_words(n) for n in nodes]
    assert words[0].startswith("HashAggregate (sum") and words[1].startswith("HashAggregate (partial_sum")
    assert words[3] == "FileScan parquet [category, value] PushedFilters: value > 0.9"
    assert spark_words(Node(0, "ReadParquetFSSpec", "path='p'")) == "FileScan parquet [all columns]"
    assert spark_words(Node(0, "P2PShuffle", "npartitions_out=2")) == "Exchange hashpartitioning"
    assert spark_words(Node(0, "Frobnicate", "")) == "(no direct Spark counterpart)"
    assert parse("  Fused(ab12c):\n  | Filter:\n  |   FromMap: func=f") == [Node(1, "Filter", ""), Node(2, "FromMap", "func=f")]


@pytest.mark.timeout(180)
def test_a_recorded_parquet_read_shows_pruning_and_pushdown(tmp_path):
    import dask.dataframe as dd

    from conftest import small_cluster
    from teachkit.datasets import sales

    with small_cluster(2) as cluster:
        sales(rows=4_000, partitions=4).to_parquet(tmp_path / "sales")
        files = dd.read_parquet(tmp_path / "sales", filesystem="arrow")
        query = files[files.value > 0.9].groupby("category").value.sum()
        query.optimize()  # the driver reads the files' statistics once, outside the recording
        with teachkit.record(cluster) as rec:
            with teachkit.job("plan words test"):
                query.compute()
    view = plan_changes(rec.job("plan words test"))
    kinds = [c.kind for c in view.changes]
    assert "column pruning" in kinds and "filter pushdown" in kinds
    assert any("FileScan parquet [category, value] PushedFilters: value > 0.9" == r[2] for r in view.info["rows"])
    assert "Spark's words" in view.fragment()
