"""Login, tokens and the viewer through GraphQL."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from graph.identity import Role
from resolvers.clock import utcnow
from tests.api.conftest import LOGIN, PASSWORD, World, error_code, gid, gql

VIEWER = "{ viewer { user { email } org { id name } role scope tokenKind } }"
CREATE_TOKEN = """
mutation($name: String!, $scope: TokenScope!, $expiresAt: DateTime) {
  createApiToken(input: {name: $name, scope: $scope, expiresAt: $expiresAt}) {
    token apiToken { id name scope lastUsedAt } errors { code field message }
  }
}"""
REVOKE = """mutation($id: ID!) {
  revokeApiToken(input: {id: $id}) { apiToken { revokedAt } errors { code } } }"""
TOKENS = "{ apiTokens { edges { node { id name } } } }"


def test_viewer_is_null_without_credentials(client: TestClient) -> None:
    assert gql(client, "{ viewer { role } }") == {"data": {"viewer": None}}


def test_login_then_viewer_knows_user_org_and_role(world: World) -> None:
    a = world.add_org("a")
    token = world.add_user("alice", "a")
    body = gql(world.client, VIEWER, token)
    viewer = body["data"]["viewer"]
    assert viewer["user"]["email"] == "alice@example.com"
    assert viewer["org"]["id"] == gid("Org", a)
    assert viewer["role"] == "ADMIN"
    assert viewer["tokenKind"] == "SESSION"


def test_wrong_password_and_unknown_user_fail_alike(world: World) -> None:
    world.add_org("a")
    world.add_user("alice", "a")
    wrong = gql(world.client, LOGIN, email="alice@example.com", password="nope-nope-nope")
    unknown = gql(world.client, LOGIN, email="nobody@example.com", password=PASSWORD)
    assert error_code(wrong) == error_code(unknown) == "UNAUTHENTICATED"
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


def test_login_email_is_case_insensitive(world: World) -> None:
    world.add_org("a")
    world.add_user("alice", "a")
    body = gql(world.client, LOGIN, email="  ALICE@Example.COM ", password=PASSWORD)
    assert body["data"]["login"]["token"].startswith("tdm_s_")


def test_several_orgs_require_an_explicit_choice(world: World) -> None:
    world.add_org("a")
    b = world.add_org("b")
    world.add_user("alice", "a")
    world.add_user("alice", "b", Role.READ_ONLY)
    ambiguous = gql(world.client, LOGIN, email="alice@example.com", password=PASSWORD)
    assert error_code(ambiguous) == "BAD_USER_INPUT"
    chosen = gql(
        world.client, LOGIN, email="alice@example.com", password=PASSWORD, orgId=gid("Org", b)
    )
    token = chosen["data"]["login"]["token"]
    viewer = gql(world.client, VIEWER, token)["data"]["viewer"]
    assert viewer["org"]["id"] == gid("Org", b)
    assert viewer["role"] == "READ_ONLY"


def test_login_to_an_org_the_user_is_not_in_fails(world: World) -> None:
    world.add_org("a")
    c = world.add_org("c")
    world.add_user("alice", "a")
    body = gql(
        world.client, LOGIN, email="alice@example.com", password=PASSWORD, orgId=gid("Org", c)
    )
    assert error_code(body) == "UNAUTHENTICATED"


def test_failed_logins_are_throttled_with_retry_after(world: World) -> None:
    world.add_org("a")
    world.add_user("alice", "a")
    for _ in range(5):
        body = gql(world.client, LOGIN, email="alice@example.com", password="wrong-password!")
        assert error_code(body) == "UNAUTHENTICATED"
    locked = gql(world.client, LOGIN, email="alice@example.com", password=PASSWORD)
    assert error_code(locked) == "RATE_LIMITED"
    assert locked["errors"][0]["extensions"]["retryAfter"] > 0


def test_api_token_is_shown_once_works_and_records_use(world: World) -> None:
    world.add_org("a")
    session = world.add_user("alice", "a")
    created = gql(world.client, CREATE_TOKEN, session, name="ci", scope="READ")
    payload = created["data"]["createApiToken"]
    assert payload["errors"] == []
    secret = payload["token"]
    assert secret.startswith("tdm_a_")
    assert payload["apiToken"]["lastUsedAt"] is None
    viewer = gql(world.client, VIEWER, secret)["data"]["viewer"]
    assert viewer["scope"] == "READ"
    assert viewer["tokenKind"] == "API"
    listed = gql(world.client, TOKENS, session)["data"]["apiTokens"]["edges"]
    assert [e["node"]["name"] for e in listed] == ["ci"]
    assert "token" not in str(listed).lower().replace("apitoken", "")


def test_read_token_cannot_mutate(world: World) -> None:
    world.add_org("a")
    session = world.add_user("alice", "a")
    secret = gql(world.client, CREATE_TOKEN, session, name="ro", scope="READ")["data"][
        "createApiToken"
    ]["token"]
    body = gql(world.client, CREATE_TOKEN, secret, name="escalate", scope="READ_WRITE")
    assert error_code(body) == "FORBIDDEN"


def test_revoked_token_stops_working_at_once(world: World) -> None:
    world.add_org("a")
    session = world.add_user("alice", "a")
    payload = gql(world.client, CREATE_TOKEN, session, name="x", scope="READ")["data"][
        "createApiToken"
    ]
    assert error_code(gql(world.client, VIEWER, payload["token"])) is None
    revoked = gql(world.client, REVOKE, session, id=payload["apiToken"]["id"])
    assert revoked["data"]["revokeApiToken"]["apiToken"]["revokedAt"] is not None
    assert error_code(gql(world.client, VIEWER, payload["token"])) == "UNAUTHENTICATED"


def test_token_expiry_in_the_past_is_rejected(world: World) -> None:
    world.add_org("a")
    session = world.add_user("alice", "a")
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    body = gql(world.client, CREATE_TOKEN, session, name="x", scope="READ", expiresAt=past)
    errors = body["data"]["createApiToken"]["errors"]
    assert errors[0]["code"] == "BAD_USER_INPUT"
    assert errors[0]["field"] == "expiresAt"


def test_non_bearer_authorization_is_rejected(client: TestClient) -> None:
    response = client.post(
        "/graphql", json={"query": "{ viewer { role } }"}, headers={"authorization": "Basic x"}
    )
    assert error_code(response.json()) == "UNAUTHENTICATED"
