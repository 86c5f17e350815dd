"""Where every key went: keys per partition from the data, the worker per partition from the recording."""

from __future__ import annotations

from types import SimpleNamespace as Obj

import pandas as pd
import pytest

import teachkit
from teachkit.errors import ArgumentError
from teachkit.placement import holders, keys_by_partition, rows_by_partition
from teachkit.views.placement import key_placement


def _stage(parts: dict[int, str], workers: list[str]) -> Obj:
    job = Obj(recording=Obj(workers=[Obj(name=w, added=None, removed=None) for w in workers]), submitted=0.0,
             name="j")
    return Obj(id=1, tasks=[Obj(partition=p, worker=w) for p, w in parts.items()], job=job, parents=[0],
              boundaries={0: "shuffle"})


def test_a_worker_that_built_no_partition_is_said_to_receive_nothing():
    stage = _stage({0: "worker-2", 1: "worker-1", 2: "worker-1"}, ["worker-1", "worker-2", "worker-3"])
    view = key_placement(stage, {0: ["toys"], 1: ["books", "games"], 2: []}, values={"toys": 3, "books": 1_000},
                         received={"worker-1": 2048, "worker-2": 10})
    info = view.info
    assert info["rows"] == [("books", 1, "worker-1"), ("games", 1, "worker-1"), ("toys", 0, "worker-2")]
    assert info["idle"] == ["worker-3"] and info["empty_only"] == []
    text = " ".join(view.sentences())
    assert "3 keys to 3 output partitions (1 of them got no key at all)" in text
    assert "Output partition 1 holds books, games: it was built on worker-1." in text
    assert "worker-3 built no output partition" in text and "received 0 B" in text
    html = view.fragment()
    assert "1,000" in html and "2.0 KiB" in html and "no key hashed here" in html and "nothing to receive" in html


def test_a_worker_whose_partitions_are_all_empty_is_named():
    stage = _stage({0: "worker-1", 1: "worker-2"}, ["worker-1", "worker-2"])
    view = key_placement(stage, {0: ["a", "b"], 1: []}, received={"worker-1": 5})
    assert view.info["empty_only"] == ["worker-2"] and view.info["idle"] == []
    assert any("worker-2 built only output partitions that no key hashed to" in s for s in view.sentences())


def test_keys_for_a_partition_the_stage_never_built_are_refused():
    stage = _stage({0: "worker-1"}, ["worker-1"])
    with pytest.raises(ArgumentError, match=r"no task for output partition\(s\) \[3\]"):
        key_placement(stage, {3: ["x"]}, received={})
    with pytest.raises(ArgumentError, match="keys_by_partition"):
        key_placement(stage, [["x"]], received={})


def test_a_collection_that_is_not_persisted_is_refused():
    import dask.dataframe as dd

    frame = dd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2)
    with pytest.raises(ArgumentError, match="persist"):
        keys_by_partition(frame)
    with pytest.raises(ArgumentError, match="not list"):
        keys_by_partition([1, 2])


@pytest.mark.timeout(180)
def test_the_recording_the_data_and_the_driver_agree_on_where_each_key_is():
    from conftest import small_cluster
    from teachkit.datasets import CATEGORIES, sales, sales_pandas

    with small_cluster(3) as cluster:
        df = sales(rows=6_000, partitions=6)
        with teachkit.record(cluster) as rec:
            with teachkit.job("placement test groupby"):
                grouped = df.groupby("category").value.count(split_out=4).persist()
        keys = keys_by_partition(grouped)
        rows = rows_by_partition(grouped)
        where = holders(grouped, cluster)
        stage = rec.job("placement test groupby").stages[-1]
        view = key_placement(stage, keys, values=grouped.compute().to_dict())
        cluster_workers = sorted(cluster.workers)
    assert stage.output == "memory" and stage.boundaries == {0: "shuffle"}
    # every category is in exactly one output partition, with its true count
    placed = [k for ks in keys.values() for k in ks]
    assert rows == {p: len(ks) for p, ks in keys.items()}  # one row per category in a groupby's result
    assert sorted(placed) == sorted(CATEGORIES)
    truth = sales_pandas(rows=6_000, partitions=6).groupby("category").value.count()
    assert grouped_counts(view) == truth.to_dict()
    # the worker the recording says built each partition is the one the driver says holds it
    assert {p: [w] for p, w in view.info["workers"].items()} == where
    assert set(view.info["building"]) == set(cluster_workers)
    # a worker that built no output partition received no bytes in the shuffle
    for w in view.info["idle"]:
        assert view.info["received"].get(w, 0) == 0
    assert sum(view.info["received"].values()) > 0


def grouped_counts(view) -> dict:
    """The counts the view shows next to each key (from ``values=``), read back from its HTML."""
    import re

    return {k: int(n.replace(",", "")) for k, n in re.findall(r"(\w+) <small>\(([\d,]+)\)</small>", view.html())}
