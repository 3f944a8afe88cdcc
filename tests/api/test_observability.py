"""Request ids, the JSON access log (and what it must never contain), /metrics and the
OpenTelemetry hook."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from tests.api.conftest import LOGIN, PASSWORD, World, gid, settings_for


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]


@pytest.fixture
def access_lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("tandem.access")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_request_id_is_made_or_honoured(client: TestClient) -> None:
    made = client.post("/graphql", json={"query": "{ __typename }"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    honoured = client.get("/healthz", headers={"x-request-id": "edge-7f3a.42:1"})
    assert honoured.headers["x-request-id"] == "edge-7f3a.42:1"
    for insane in ("has spaces", "x" * 129, 'quote"d'):
        replaced = client.get("/healthz", headers={"x-request-id": insane})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    too_large = client.post(
        "/graphql", content=b"x" * 5_000_000, headers={"content-type": "application/json"}
    )
    assert too_large.status_code == 413
    assert too_large.headers["x-request-id"]


def test_one_json_line_per_request_without_secrets(world: World, access_lines: Lines) -> None:
    world.add_org("a")
    token = world.add_user("alice", "a")
    access_lines.lines.clear()
    response = world.client.post(
        "/graphql",
        json={
            "query": LOGIN.replace("mutation(", "mutation SignIn("),
            "variables": {
                "email": "alice@example.com",
                "password": PASSWORD,
                "orgId": gid("Org", world.orgs["a"]),
            },
        },
        headers={"x-request-id": "req-1"},
    )
    new_token = response.json()["data"]["login"]["token"]
    world.client.post(
        "/graphql",
        json={"query": "query Who { viewer { role } partnerships { edges { node { id } } } }"},
        headers={"authorization": f"Bearer {token}", "x-request-id": "req-2"},
    )
    world.client.post(
        "/graphql",
        json={"query": "query Anon { partnerships { edges { node { id } } } }"},
        headers={"x-request-id": "req-3"},
    )
    lines = access_lines.requests()
    assert [line["request_id"] for line in lines] == ["req-1", "req-2", "req-3"]
    sign_in, who, anon = lines
    assert sign_in["operation"] == "SignIn"
    assert sign_in["operation_type"] == "mutation"
    assert sign_in["status"] == 200
    assert isinstance(sign_in["duration_ms"], float)
    assert "error_codes" not in sign_in
    assert who["operation"] == "Who"
    assert anon["error_codes"] == ["UNAUTHENTICATED"]
    everything = "\n".join(access_lines.lines)
    for secret in (PASSWORD, token, new_token, "alice@example.com", world.orgs["a"]):
        assert secret not in everything


def test_metrics(client: TestClient) -> None:
    client.post("/graphql", json={"query": "query Ping { __typename }"})
    client.post("/graphql", json={"query": "query Ping { __typename }"})
    client.post("/graphql", json={"query": "{ partnerships { edges { node { id } } } }"})
    client.post("/graphql", json={"query": "{"})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'tandem_requests_total{operation="query:Ping",status="200"} 2.0' in text
    assert 'tandem_request_duration_seconds_count{operation="query:Ping"} 2.0' in text
    assert 'tandem_request_duration_seconds_bucket{le="0.5",operation="query:Ping"}' in text
    assert 'tandem_graphql_errors_total{code="UNAUTHENTICATED"} 1.0' in text
    assert 'tandem_graphql_errors_total{code="BAD_USER_INPUT"} 1.0' in text
    assert 'operation="query:anonymous"' in text


def test_operation_labels_are_bounded(client: TestClient) -> None:
    for index in range(210):
        client.post("/graphql", json={"query": f"query Op{index} {{ __typename }}"})
    text = client.get("/metrics").text
    assert 'operation="query:Op199"' in text
    assert 'operation="query:Op200"' not in text
    assert 'tandem_requests_total{operation="query:other",status="200"} 10.0' in text


def test_tracing_is_off_by_default_and_spans_when_on(sqlite_url: str) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from schema.root import graphql_schema

    names = [getattr(e, "__name__", "") for e in graphql_schema.extensions]
    assert "OpenTelemetryExtension" not in names  # nothing installed so far

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    try:
        with TestClient(create_app(settings_for(sqlite_url, TANDEM_TRACING="true"))) as client:
            client.post("/graphql", json={"query": "query Traced { __typename }"})
        spans = [span.name for span in exporter.get_finished_spans()]
        assert any("Traced" in name for name in spans), spans
    finally:  # the schema is process-wide: leave it as the other tests expect it
        graphql_schema.extensions = tuple(
            e
            for e in graphql_schema.extensions
            if getattr(e, "__name__", "") != "OpenTelemetryExtension"
        )
        provider.shutdown()
