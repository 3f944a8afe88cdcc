"""Parsed and validated documents are reused for the same text, and nothing else is:
the safety limits still run per request, and bad documents fail fresh every time."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from starlette.testclient import TestClient

from api import documents
from api.app import create_app
from tests.api.conftest import World, error_code, settings_for

PAGE = "query($n: Int) { partnerships(first: $n) { edges { node { id } } } }"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often strawberry parses and validates, from an empty cache."""
    counted = {"parse": 0, "validate": 0}
    parse, validate = strawberry_schema.parse, strawberry_schema.validate_document

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        counted["parse"] += 1
        return parse(*args, **kwargs)

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        counted["validate"] += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "parse", counting_parse)
    monkeypatch.setattr(strawberry_schema, "validate_document", counting_validate)
    monkeypatch.setattr(documents, "_known", type(documents._known)())
    return counted


def post(client: TestClient, query: str, token: str, **variables: Any) -> dict[str, Any]:
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


def test_a_repeated_document_is_parsed_and_validated_once(
    world: World, calls: dict[str, int]
) -> None:
    world.add_org("a")
    token = world.add_user("alice", "a")
    calls.update(parse=0, validate=0)  # the setup's own login
    for n in (1, 2, 3):
        assert "errors" not in post(world.client, PAGE, token, n=n)
    assert calls == {"parse": 1, "validate": 1}


def test_the_limits_still_apply_to_a_known_document(
    world: World, calls: dict[str, int], sqlite_url: str
) -> None:
    world.add_org("a")
    token = world.add_user("alice", "a")
    calls.update(parse=0, validate=0)
    # cost = 1 + 3 x first: 31 for 10 rows, 34 for 11
    with TestClient(create_app(settings_for(sqlite_url, TANDEM_MAX_COST="31"))) as client:
        assert "errors" not in post(client, PAGE, token, n=10)
        refused = post(client, PAGE, token, n=11)
        assert error_code(refused) == "QUERY_TOO_COMPLEX", refused
    with TestClient(create_app(settings_for(sqlite_url, TANDEM_MAX_DEPTH="3"))) as client:
        assert error_code(post(client, PAGE, token, n=1)) == "QUERY_TOO_COMPLEX"
    assert calls == {"parse": 1, "validate": 1}


def test_invalid_documents_are_not_kept(world: World, calls: dict[str, int]) -> None:
    world.add_org("a")
    token = world.add_user("alice", "a")
    calls.update(parse=0, validate=0)
    documents._known.clear()  # the setup's login mutation
    for _ in range(2):
        body = post(world.client, "{ viewer { nope } }", token)
        assert body["data"] is None
        assert "nope" in body["errors"][0]["message"]
        assert error_code(body) == "BAD_USER_INPUT", body
    assert calls == {"parse": 2, "validate": 2}
    assert not documents._known
