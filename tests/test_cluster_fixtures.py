"""The cluster fixtures against teachkit.start_cluster, which keeps one cluster per process.

The tests run in file order: shared, shared again (same one), fresh (the shared one closed),
shared again (restarted). Each asserts only what it can when run alone.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(120)  # `cluster` is added by conftest (checked below)
seen: dict[str, object] = {}


def test_shared_cluster_has_two_named_workers(shared_cluster):
    seen["shared"] = shared_cluster
    assert sorted(shared_cluster.workers) == ["worker-1", "worker-2"]
    assert shared_cluster.client.submit(sum, [1, 2]).result() == 3


def test_shared_cluster_is_reused(shared_cluster):
    assert shared_cluster is seen.get("shared", shared_cluster)


def test_cluster_is_fresh(cluster, client):
    assert client is cluster.client
    assert sorted(cluster.workers) == ["worker-1", "worker-2"]
    if "shared" in seen:
        assert cluster is not seen["shared"] and not seen["shared"].running
    seen["fresh"] = cluster


def test_shared_cluster_restarts_after_a_fresh_one(shared_cluster, request):
    assert shared_cluster.running
    assert request.node.get_closest_marker("cluster") is not None  # added for the fixture
    if "fresh" in seen:
        assert not seen["fresh"].running and shared_cluster is not seen["shared"]
