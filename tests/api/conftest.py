"""An app on a fresh embedded SQLite store, driven through Starlette's TestClient, and a
small world of orgs, users and tokens to drive it with."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from starlette.testclient import TestClient
from strawberry.relay import to_base64

from api.app import create_app
from api.settings import Settings, load_settings
from api.stores import Stores, auth_config, open_stores
from graph.identity import Role
from graph.model import OrgType
from resolvers import admin
from resolvers.clock import utcnow

T = TypeVar("T")
TEST_SECRET = "ab" * 32
PASSWORD = "correct horse battery staple"


def settings_for(store_url: str, **env: str) -> Settings:
    return load_settings(
        {
            "TANDEM_STORE_URL": store_url,
            "TANDEM_SECRET": TEST_SECRET,
            "TANDEM_BCRYPT_COST": "4",
            # Webhook rounds run when a test says (tests/api/test_webhooks.py), so the
            # background loop's store calls never mix with what a test counts or waits for.
            "TANDEM_WEBHOOK_DISPATCH": "false",
            **env,
        }
    )


def with_stores(settings: Settings, work: Callable[[Stores], Awaitable[T]]) -> T:
    """Run `work` against the app's stores from synchronous test code."""

    async def run() -> T:
        stores = open_stores(settings)
        try:
            await stores.apply_schema()
            return await work(stores)
        finally:
            await stores.close()

    return asyncio.run(run())


def gql(
    client: TestClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def gid(type_name: str, node_id: str) -> str:
    return to_base64(type_name, node_id)


LOGIN = """
mutation($email: String!, $password: String!, $orgId: ID) {
  login(input: {email: $email, password: $password, orgId: $orgId}) { token }
}"""


def login(client: TestClient, email: str, org_id: str | None = None) -> str:
    body = gql(
        client, LOGIN, email=email, password=PASSWORD, orgId=gid("Org", org_id) if org_id else None
    )
    assert "errors" not in body, body
    token: str = body["data"]["login"]["token"]
    return token


INVITE = """mutation($org: ID!) { invitePartner(input: {orgId: $org}) {
  partnership { id } } }"""
ACCEPT = """mutation($p: ID!) { respondToPartnership(input: {partnershipId: $p, accept: true}) {
  partnership { status } } }"""
SHARE = """mutation($partner: ID!, $population: String!, $level: SharingLevel!) {
  setSharingRule(input: {partnerId: $partner, population: $population, level: $level}) {
  errors { code } } }"""


@dataclass
class World:
    client: TestClient
    settings: Settings
    orgs: dict[str, str] = field(default_factory=dict)  # label -> org id
    tokens: dict[str, str] = field(default_factory=dict)  # label -> bearer token

    def run(self, work: Callable[[Stores], Awaitable[T]]) -> T:
        return with_stores(self.settings, work)

    def add_org(self, label: str, *types: OrgType, discoverable: bool = False) -> str:
        async def work(stores: Stores) -> str:
            org = await admin.create_org(
                stores.graph,
                name=f"Org {label}",
                types=set(types) or {OrgType.VENDOR},
                region="EMEA",
                discoverable=discoverable,
                now=utcnow(),
            )
            return org.id

        self.orgs[label] = self.run(work)
        return self.orgs[label]

    def add_user(self, label: str, org: str, role: Role = Role.ADMIN) -> str:
        email = f"{label}@example.com"

        async def work(stores: Stores) -> None:
            await admin.add_user(
                stores.graph,
                stores.identity,
                auth_config(self.settings),
                email=email,
                password=PASSWORD,
                display_name=label,
                org_id=self.orgs[org],
                role=role,
                now=utcnow(),
            )

        self.run(work)
        self.tokens[label] = login(self.client, email, self.orgs[org])
        return self.tokens[label]

    def gql(self, who: str | None, query: str, **variables: Any) -> dict[str, Any]:
        return gql(self.client, query, self.tokens.get(who) if who else None, **variables)

    def partner(self, inviter: str, invitee: str, invitee_org: str) -> str:
        """`inviter` (a user) invites `invitee_org`, whose user `invitee` accepts.
        Returns the partnership's global id."""
        invited = self.gql(inviter, INVITE, org=gid("Org", self.orgs[invitee_org]))
        pid: str = invited["data"]["invitePartner"]["partnership"]["id"]
        accepted = self.gql(invitee, ACCEPT, p=pid)
        assert accepted["data"]["respondToPartnership"]["partnership"]["status"] == "ACTIVE"
        return pid

    def share(self, owner: str, partner_org: str, population: str, level: str) -> None:
        """User `owner` shares `population` with `partner_org` at `level`."""
        body = self.gql(
            owner,
            SHARE,
            partner=gid("Org", self.orgs[partner_org]),
            population=population,
            level=level,
        )
        assert body["data"]["setSharingRule"]["errors"] == [], body


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return settings_for(sqlite_url)


async def _nothing(_: Stores) -> None:
    return None


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    # As `tandem serve` does: the schema is in place before the app takes requests.
    with_stores(settings, _nothing)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, settings: Settings) -> World:
    return World(client=client, settings=settings)
