"""Every safety limit, tried one over and one under: depth, tokens, aliases, cost, body
size, timeout, introspection and GraphiQL in production, persisted queries."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema, parse
from starlette.testclient import TestClient

from api.app import create_app
from api.limits import Limits, check_document
from schema.root import graphql_schema
from tests.api.conftest import World, error_code, settings_for


def app_client(sqlite_url: str, **env: str) -> TestClient:
    return TestClient(create_app(settings_for(sqlite_url, **env)))


@pytest.fixture
def make_client(sqlite_url: str) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(**env: str) -> TestClient:
        client = app_client(sqlite_url, **env)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def post(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(body: dict[str, Any], code: str = "QUERY_TOO_COMPLEX") -> str:
    assert body.get("data") is None, body
    assert error_code(body) == code, body
    message: str = body["errors"][0]["message"]
    return message


def ok(body: dict[str, Any]) -> None:
    assert "errors" not in body, body


def test_depth_one_under_and_one_over(make_client: Any) -> None:
    query = "{ viewer { org { name } } }"  # 3 levels
    ok(post(make_client(TANDEM_MAX_DEPTH="3"), query))
    message = refused(post(make_client(TANDEM_MAX_DEPTH="2"), query))
    assert message == "the operation is 3 levels deep; at most 2 are allowed"


def test_depth_counts_fragments(make_client: Any) -> None:
    query = "query { viewer { ...V } } fragment V on Viewer { org { name } }"
    ok(post(make_client(TANDEM_MAX_DEPTH="3"), query))
    refused(post(make_client(TANDEM_MAX_DEPTH="2"), query))


def test_tokens_one_under_and_one_over(make_client: Any) -> None:
    client = make_client(TANDEM_MAX_TOKENS="50")
    under = "{" + " __typename" * 48 + " }"  # 50 tokens: { 48 names }
    over = "{" + " __typename" * 49 + " }"
    ok(post(client, under))
    assert "more than 50 tokens" in refused(post(client, over))


def test_aliases_one_under_and_one_over(make_client: Any) -> None:
    client = make_client(TANDEM_MAX_ALIASES="2")
    ok(post(client, "{ a: __typename b: __typename }"))
    message = refused(post(client, "{ a: __typename b: __typename c: __typename }"))
    assert message == "the document uses 3 aliases; at most 2 are allowed"


PAGE = "query($n: Int) { partnerships(first: $n) { edges { node { id } } } }"


def test_cost_one_under_and_one_over(world: World, make_client: Any) -> None:
    world.add_org("a")
    token = world.add_user("alice", "a")
    # cost = 1 (partnerships) + first x (edges 1 + node 1 + id 1) = 1 + 3 x first
    for limit, status in (("31", "ok"), ("30", "refused")):
        client = make_client(TANDEM_MAX_COST=limit)
        response = client.post(
            "/graphql",
            json={"query": PAGE, "variables": {"n": 10}},
            headers={"authorization": f"Bearer {token}"},
        )
        body = response.json()
        if status == "ok":
            ok(body)
        else:
            assert "estimated cost is 31; at most 30" in refused(body)


NESTED_SDL = """
type Query { orgs(first: Int, after: String): OrgConnection! }
type OrgConnection { edges: [OrgEdge!]! }
type OrgEdge { node: Org! }
type Org { id: ID! accounts(first: Int): AccountConnection! }
type AccountConnection { edges: [AccountEdge!]! }
type AccountEdge { node: Account! }
type Account { id: ID! name: String! }
"""


def test_cost_multiplies_nested_connections() -> None:
    schema = build_schema(NESTED_SDL)
    nested = parse(
        "query($n: Int) { orgs(first: 10) { edges { node { id accounts(first: $n) {"
        " edges { node { id name } } } } } } }"
    )
    # 1 + 10 x (edges 1 + node (1 + id 1 + accounts (1 + n x (edges 1 + node (1 + 2)))))
    #   = 1 + 10 x (4 + 4n); n = 20 -> 841
    assert check_document(schema, nested, {"n": 20}, None, Limits(max_cost=841)) is None
    error = check_document(schema, nested, {"n": 20}, None, Limits(max_cost=840))
    assert error is not None
    assert "estimated cost is 841;" in error.message
    # without `first` a connection counts as the default page size (20), and a page
    # never counts as more than the maximum (100)
    default = parse("{ orgs { edges { node { id } } } }")
    error = check_document(schema, default, {}, None, Limits(max_cost=3))
    assert error is not None
    assert "estimated cost is 61;" in error.message  # 1 + 20 x 3
    error = check_document(schema, nested, {"n": 10_000}, None, Limits(max_cost=3))
    assert error is not None
    assert "estimated cost is 4041;" in error.message  # n capped at 100


def test_body_size_one_under_and_one_over(make_client: Any) -> None:
    client = make_client(TANDEM_MAX_BODY_BYTES="1024")
    prefix = '{"query": "{ __typename }", "pad": "'
    suffix = '"}'

    def body(size: int) -> bytes:
        return (prefix + "x" * (size - len(prefix) - len(suffix)) + suffix).encode()

    headers = {"content-type": "application/json"}
    assert client.post("/graphql", content=body(1024), headers=headers).status_code == 200
    response = client.post("/graphql", content=body(1025), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert error_code(response.json()) == "PAYLOAD_TOO_LARGE"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        data = body(1025)
        yield data[:600]
        yield data[600:]

    response = client.post("/graphql", content=chunks(), headers=headers)
    assert response.status_code == 413


def test_timeout_one_under_and_one_over(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = graphql_schema
    original = schema.execute

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)
        return await original(*args, **kwargs)

    monkeypatch.setattr(schema, "execute", slow)
    ok(post(make_client(TANDEM_REQUEST_TIMEOUT="2"), "{ __typename }"))
    body = post(make_client(TANDEM_REQUEST_TIMEOUT="0.1"), "{ __typename }")
    assert error_code(body) == "TIMEOUT"
    assert "0.1s" in body["errors"][0]["message"]


INTROSPECT = "{ __schema { queryType { name } } }"


def test_production_turns_introspection_and_graphiql_off(make_client: Any) -> None:
    production = make_client(TANDEM_MODE="production")
    assert "introspection is disabled" in refused(post(production, INTROSPECT), "FORBIDDEN")
    ok(post(production, "{ __typename }"))
    assert production.get("/graphql", headers={"accept": "text/html"}).status_code == 404

    development = make_client()
    ok(post(development, INTROSPECT))
    assert development.get("/graphql", headers={"accept": "text/html"}).status_code == 200

    overridden = make_client(
        TANDEM_MODE="production", TANDEM_INTROSPECTION="true", TANDEM_GRAPHIQL="true"
    )
    ok(post(overridden, INTROSPECT))
    assert overridden.get("/graphql", headers={"accept": "text/html"}).status_code == 200


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


ALLOWED = "query Allowed { __typename }"
KNOWN_BY_HASH = "query ByHash { viewer { role } }"


def test_persisted_queries(make_client: Any, tmp_path: Path) -> None:
    hashes = tmp_path / "persisted.txt"
    hashes.write_text(f"# allowed operations\n{sha(ALLOWED)}\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps({"operations": [{"id": sha(KNOWN_BY_HASH), "body": KNOWN_BY_HASH}]})
    )

    only = make_client(TANDEM_PERSISTED_QUERIES=str(hashes), TANDEM_PERSISTED_QUERIES_ONLY="1")
    ok(post(only, ALLOWED))  # on the list
    assert refused(post(only, "{ __typename }"), "PERSISTED_QUERY_NOT_ALLOWED")
    apollo = {"persistedQuery": {"version": 1, "sha256Hash": sha(ALLOWED)}}
    response = only.post("/graphql", json={"query": ALLOWED, "extensions": apollo})
    ok(response.json())
    # a hash without its query, when the list holds no text: Apollo's retry signal
    response = only.post("/graphql", json={"extensions": apollo})
    assert error_code(response.json()) == "PERSISTED_QUERY_NOT_FOUND"
    # a hash that does not match the query
    response = only.post("/graphql", json={"query": "{ __typename }", "extensions": apollo})
    assert error_code(response.json()) == "BAD_USER_INPUT"

    by_hash = make_client(
        TANDEM_PERSISTED_QUERIES=str(manifest), TANDEM_PERSISTED_QUERIES_ONLY="true"
    )
    ext = {"persistedQuery": {"version": 1, "sha256Hash": sha(KNOWN_BY_HASH)}}
    response = by_hash.post("/graphql", json={"extensions": ext})
    assert response.json() == {"data": {"viewer": None}}
    response = by_hash.get(
        "/graphql",
        params={"extensions": json.dumps(ext)},
        headers={"accept": "application/json"},
    )
    assert response.json() == {"data": {"viewer": None}}

    # Off (the default): any query runs, and listed ones may still be sent by hash.
    relaxed = make_client(TANDEM_PERSISTED_QUERIES=str(manifest))
    ok(post(relaxed, "{ __typename }"))
    assert relaxed.post("/graphql", json={"extensions": ext}).json() == {"data": {"viewer": None}}


def test_persisted_only_needs_a_list(sqlite_url: str) -> None:
    from graph.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="TANDEM_PERSISTED_QUERIES"):
        settings_for(sqlite_url, TANDEM_PERSISTED_QUERIES_ONLY="true")
