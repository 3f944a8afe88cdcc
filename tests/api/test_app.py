"""The app skeleton: probes, the GraphQL endpoint and its error conventions."""

from __future__ import annotations

from starlette.testclient import TestClient
from strawberry.relay import to_base64

from tests.api.conftest import gql


def test_typename_answers(client: TestClient) -> None:
    assert gql(client, "{ __typename }") == {"data": {"__typename": "Query"}}


def test_get_requests_serve_queries(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


def test_probes_report_ready_on_the_embedded_store(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "stores": {"graph": "ok", "identity": "ok"}}


def test_syntax_errors_carry_a_code(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ viewer { "})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_unknown_fields_carry_a_code(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": "{ nope }"}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "nope" in body["errors"][0]["message"]


def test_malformed_global_id_is_bad_input_not_a_crash(client: TestClient) -> None:
    body = gql(client, "query($id: ID!) { node(id: $id) { id } }", id="%%%not-base64")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in str(body)


def test_unknown_node_type_is_bad_input(client: TestClient) -> None:
    body = gql(client, "query($id: ID!) { node(id: $id) { id } }", id=to_base64("Nope", "1"))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_graphiql_is_served_in_development(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
