"""Store-call latency in /metrics: every GraphStore and IdentityStore port call is timed
by one wrapper around the stores, labelled by store, backend and port method."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from api.observability import Metrics, port_methods, timed
from graph.errors import NotFound
from graph.identity import IdentityStore
from graph.port import GraphStore
from tests.api.conftest import World

VIEWER = "query Me { viewer { user { email } org { name } } }"


def samples(client: TestClient, name: str) -> dict[tuple[str, str, str], float]:
    """(store, backend, method) -> value of the sample `name`."""
    found: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name:
                labels = sample.labels
                found[(labels["store"], labels["backend"], labels["method"])] = sample.value
    return found


def test_a_query_times_the_store_calls_it_makes(world: World) -> None:
    world.add_org("a")
    world.add_user("alice", "a")
    count = "tandem_store_call_duration_seconds_count"
    before = samples(world.client, count)
    body = world.gql("alice", VIEWER)
    assert body["data"]["viewer"]["org"] == {"name": "Org a"}, body
    after = samples(world.client, count)
    for called in (
        ("identity", "sqlite", "token_by_hash"),  # the bearer token
        ("identity", "sqlite", "users_by_id"),  # viewer.user
        ("graph", "sqlite", "get_orgs"),  # viewer.org
    ):
        assert after[called] >= before.get(called, 0) + 1, called
    text = world.client.get("/metrics").text
    assert (
        'tandem_store_call_duration_seconds_bucket{backend="sqlite",le="0.005",'
        'method="get_orgs",store="graph"}' in text
    )
    # Only port methods are labels: a bounded set, fixed by graph/port.py and identity.py.
    methods = {method for _, _, method in after}
    assert methods <= port_methods(GraphStore) | port_methods(IdentityStore)


class FakeStore:
    backend = "fake"

    def __init__(self) -> None:
        self.calls = 0

    async def get_orgs(self, ids: list[str]) -> dict[str, str]:
        self.calls += 1
        return {i: i for i in ids}

    async def get_deals(self, acting_org: str, partnership_id: str) -> None:
        raise NotFound(f"no partnership {partnership_id}")

    async def not_in_the_port(self) -> str:
        return "untimed"


async def test_the_wrapper_times_calls_counts_errors_and_passes_the_rest() -> None:
    metrics = Metrics()
    inner = FakeStore()
    store = timed(inner, metrics=metrics, store="graph", backend="fake", port=GraphStore)
    assert await store.get_orgs(["o1"]) == {"o1": "o1"}
    assert await store.get_orgs(["o2"]) == {"o2": "o2"}
    assert inner.calls == 2
    with pytest.raises(NotFound):
        await store.get_deals("o1", "p1")
    assert await store.not_in_the_port() == "untimed"
    assert store.backend == "fake"

    def value(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(
            name, {"store": "graph", "backend": "fake", **labels}
        )

    assert value("tandem_store_call_duration_seconds_count", method="get_orgs") == 2
    assert value("tandem_store_call_duration_seconds_count", method="get_deals") == 1
    assert value("tandem_store_call_duration_seconds_count", method="not_in_the_port") is None
    assert value("tandem_store_errors_total", method="get_deals", error="NotFound") == 1
