"""GraphQL over HTTP (the graphql-http audits run against a live server in tools/test;
these pin the behaviour they rely on)."""

from __future__ import annotations

from starlette.testclient import TestClient

GRAPHQL_RESPONSE = "application/graphql-response+json"


def test_json_is_the_default_media_type(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"__typename": "Query"}}


def test_graphql_response_json_when_accepted(client: TestClient) -> None:
    response = client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__typename": "Query"}}


def test_request_errors_are_400_without_data_under_graphql_response_json(
    client: TestClient,
) -> None:
    for query in ("{", "{ noSuchField }", "query($id: ID!) { node(id: $id) { id } }"):
        response = client.post(
            "/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE}
        )
        assert response.status_code == 400, query
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_request_errors_stay_200_under_application_json(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{"}, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_field_errors_are_200_with_data(client: TestClient) -> None:
    response = client.post(
        "/graphql",
        json={"query": "{ partnerships { edges { node { id } } } }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200  # executed: the error is the field's
    body = response.json()
    assert "data" in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_get_with_query_params(client: TestClient) -> None:
    response = client.get(
        "/graphql",
        params={
            "query": "query Q { __typename } query R { viewer { role } }",
            "operationName": "Q",
        },
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_mutations_are_refused_over_get(client: TestClient) -> None:
    response = client.get(
        "/graphql",
        params={"query": 'mutation { revokeApiToken(input: {tokenId: "x"}) { errors { code } } }'},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 405


def test_unsupported_media_type_is_refused(client: TestClient) -> None:
    response = client.post(
        "/graphql", content=b"{ __typename }", headers={"content-type": "text/plain"}
    )
    assert 400 <= response.status_code < 500
