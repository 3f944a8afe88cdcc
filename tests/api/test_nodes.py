"""Relay object identification of list rows: every id a list returns resolves through
node and nodes to the same object, for the viewer only, and to null once the list would
no longer hold it (docs/api.md)."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.relay import from_base64

from graph.identity import Role
from graph.model import OrgType
from resolvers.ids import new_id
from tests.api.conftest import World, error_code, gid

UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
  rejected } }"""
END = """mutation($p: ID!) { endPartnership(input: {partnershipId: $p}) {
  partnership { status } } }"""
NODE = "query($id: ID!) { node(id: $id) { id ...Row } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id ...Row } }"
ROW = """
fragment Row on Node {
  ... on Overlap { account { id crmId } partnerPopulations
    partnerDetails { populations owner } }
  ... on CoSellAccount { account { id } score partners { populations level org { name } } }
  ... on PartnerRecommendation { score reasons partner { name } }
  ... on ComplementaryPartner { org { id name } score overlapBucket sharedPartners reasons }
  ... on ApiToken { name scope revokedAt }
  ... on AuditEntry { action targetType targetId }
}"""
LISTS = {
    "overlaps": """query($p: ID!, $pop: String) { overlaps(partnerId: $p,
        partnerPopulation: $pop) { edges { node { id ...Row } } } }""",
    "coSellAccounts": "{ coSellAccounts { edges { node { id ...Row } } } }",
    "recommend": """query($a: ID!) { recommendPartnersForAccount(accountId: $a) {
        edges { node { id ...Row } } } }""",
    "complementaryPartners": "{ complementaryPartners { edges { node { id ...Row } } } }",
    "apiTokens": "{ apiTokens { edges { node { id ...Row } } } }",
    "auditLog": "{ auditLog { edges { node { id ...Row } } } }",
}


def rows(world: World, who: str, name: str, **variables: Any) -> list[dict[str, Any]]:
    body = world.gql(who, LISTS[name] + ROW, **variables)
    assert "errors" not in body, body
    (connection,) = body["data"].values()
    return [e["node"] for e in connection["edges"]]


def node(world: World, who: str, node_id: str) -> Any:
    body = world.gql(who, NODE + ROW, id=node_id)
    assert "errors" not in body, body
    return body["data"]["node"]


def nodes(world: World, who: str, *ids: str) -> Any:
    body = world.gql(who, NODES + ROW, ids=list(ids))
    assert "errors" not in body, body
    return body["data"]["nodes"]


def assert_resolves(world: World, who: str, listed: dict[str, Any]) -> None:
    assert node(world, who, listed["id"]) == listed
    assert nodes(world, who, listed["id"], listed["id"]) == [listed, listed]


def assert_gone(world: World, *node_ids: str, who: str = "a") -> None:
    for node_id in node_ids:
        assert node(world, who, node_id) is None
        assert nodes(world, who, node_id) == [None]


@pytest.fixture
def shared(world: World) -> World:
    """a (VENDOR) and b (RESELLER) partner; both have x0..x5 as CUSTOMER (same domains);
    b shares CUSTOMER with a at DETAILS (owner). c is nobody's partner; d is private and
    partners with b only; "open" is a discoverable SI. a_rep is a's sales rep."""
    world.add_org("a", OrgType.VENDOR)
    world.add_org("b", OrgType.RESELLER)
    world.add_org("c", OrgType.VENDOR)
    world.add_org("d", OrgType.MSP)
    world.add_org("open", OrgType.SI, discoverable=True)
    for label in ("a", "b", "c", "d", "open"):
        world.add_user(label, label)
    world.add_user("a_rep", "a", Role.SALES_REP)
    world.tokens["p_ab"] = world.partner("a", "b", "b")
    world.partner("b", "d", "d")
    for owner, prefix in (("a", "x"), ("b", "bx")):
        accounts = [
            {
                "crmId": f"{prefix}{i}",
                "name": f"Shared {i}",
                "owner": f"{owner}-rep",
                "domains": [f"shared{i}.com"],
                "populations": ["CUSTOMER"],
            }
            for i in range(6)
        ]
        assert world.gql(owner, UPSERT, rows=accounts)["data"]["upsertAccounts"]["rejected"] == 0
    body = world.gql(
        "b",
        """mutation($p: ID!) { setSharingRule(input: {partnerId: $p, population: "CUSTOMER",
        level: DETAILS, fields: ["owner"]}) { errors { code } } }""",
        p=gid("Org", world.orgs["a"]),
    )
    assert body["data"]["setSharingRule"]["errors"] == []
    return world


def test_overlap_ids_resolve_until_sharing_is_lowered(shared: World) -> None:
    world = shared
    b = gid("Org", world.orgs["b"])
    listed = rows(world, "a", "overlaps", p=b)
    filtered = rows(world, "a", "overlaps", p=b, pop="CUSTOMER")
    assert len(listed) == len(filtered) == 6
    assert listed[0]["partnerDetails"] == [{"populations": ["CUSTOMER"], "owner": "b-rep"}]
    assert listed[0]["id"] != filtered[0]["id"]  # the filter is part of the row
    for row in (listed[0], filtered[0], listed[5]):
        assert_resolves(world, "a", row)
    # another org's viewer, the partner itself, a made-up account: null alike
    made_up = gid("Overlap", f"{world.orgs['b']}:{new_id()}")
    for who in ("b", "c", "d"):
        assert_gone(world, listed[0]["id"], filtered[0]["id"], who=who)
    assert_gone(world, made_up, gid("Overlap", "garbage"), gid("Overlap", ""))
    world.share("b", "a", "CUSTOMER", "COUNTS")
    assert rows(world, "a", "overlaps", p=b) == []
    assert_gone(world, listed[0]["id"], filtered[0]["id"])


def test_co_sell_account_ids_resolve_until_the_partnership_ends(shared: World) -> None:
    world = shared
    listed = rows(world, "a", "coSellAccounts")
    assert len(listed) == 6
    assert listed[0]["partners"] == [
        {"populations": ["CUSTOMER"], "level": "DETAILS", "org": {"name": "Org b"}}
    ]
    assert_resolves(world, "a", listed[0])
    assert_resolves(world, "a", listed[3])
    # a's account by b (a partner) or c: null, like an id naming no account
    for who in ("b", "c"):
        assert_gone(world, listed[0]["id"], who=who)
    assert_gone(world, gid("CoSellAccount", new_id()))
    # b's own row names b's account: a gets null for it
    b_rows = rows(world, "b", "coSellAccounts")
    assert b_rows == []  # a shares nothing with b
    world.share("b", "a", "CUSTOMER", "OVERLAPS")
    assert node(world, "a", listed[0]["id"])["partners"][0]["level"] == "OVERLAPS"
    ended = world.gql("a", END, p=world.tokens["p_ab"])
    assert ended["data"]["endPartnership"]["partnership"]["status"] == "ENDED"
    assert rows(world, "a", "coSellAccounts") == []
    assert_gone(world, listed[0]["id"], listed[3]["id"])


def test_recommendation_ids_resolve_until_the_partnership_ends(shared: World) -> None:
    world = shared
    accounts = world.gql("a", "{ accounts { edges { node { id } } } }")["data"]["accounts"]
    account = accounts["edges"][0]["node"]["id"]
    listed = rows(world, "a", "recommend", a=account)
    assert [r["partner"] for r in listed] == [{"name": "Org b"}]
    assert_resolves(world, "a", listed[0])
    for who in ("b", "c", "a_rep"):
        if who == "a_rep":  # same org: the same row
            assert node(world, who, listed[0]["id"]) == listed[0]
        else:
            assert_gone(world, listed[0]["id"], who=who)
    # d is not a's partner; a made-up account
    assert_gone(
        world,
        gid("PartnerRecommendation", f"{from_base64(account)[1]}:{world.orgs['d']}"),
        gid("PartnerRecommendation", f"{new_id()}:{world.orgs['b']}"),
        gid("PartnerRecommendation", "nonsense"),
    )
    world.gql("a", END, p=world.tokens["p_ab"])
    assert rows(world, "a", "recommend", a=account) == []
    assert_gone(world, listed[0]["id"])
    assert listed[0]["id"] == gid(
        "PartnerRecommendation", f"{from_base64(account)[1]}:{world.orgs['b']}"
    )


def test_complementary_partner_ids_resolve_while_discovery_suggests_them(shared: World) -> None:
    world = shared
    listed = {r["org"]["name"]: r for r in rows(world, "a", "complementaryPartners")}
    assert set(listed) == {"Org d", "Org open"}  # d: a partner of a's partner b
    for row in listed.values():
        assert_resolves(world, "a", row)
    # c is outside b's ecosystem: the private d is null for it, like a made-up org
    c_listed = rows(world, "c", "complementaryPartners")
    assert [r["org"]["name"] for r in c_listed] == ["Org open"]
    assert_gone(world, listed["Org d"]["id"], gid("ComplementaryPartner", new_id()), who="c")
    # a partner already (b), and the viewer's own org: never suggested
    assert_gone(
        world,
        gid("ComplementaryPartner", world.orgs["b"]),
        gid("ComplementaryPartner", world.orgs["a"]),
    )
    blocked = world.gql(
        "a",
        """mutation($id: ID!) { setOrgBlock(input: {orgId: $id, blocked: true}) {
        errors { code } } }""",
        id=gid("Org", world.orgs["open"]),
    )
    assert blocked["data"]["setOrgBlock"]["errors"] == [], blocked
    assert "Org open" not in {r["org"]["name"] for r in rows(world, "a", "complementaryPartners")}
    assert_gone(world, listed["Org open"]["id"])
    world.gql("a", END, p=world.tokens["p_ab"])  # d is no longer in a's ecosystem
    assert_gone(world, listed["Org d"]["id"])


def test_api_token_ids_resolve_for_their_owner_only(shared: World) -> None:
    world = shared
    created = world.gql(
        "a",
        """mutation { createApiToken(input: {name: "ci", scope: READ}) { apiToken { id } } }""",
    )["data"]["createApiToken"]["apiToken"]
    (listed,) = rows(world, "a", "apiTokens")
    assert listed["id"] == created["id"]
    assert_resolves(world, "a", listed)
    for who in ("a_rep", "b", "c"):  # another user of the org, other orgs
        assert_gone(world, listed["id"], who=who)
    assert_gone(world, gid("ApiToken", new_id()))
    audited = next(
        e["targetId"] for e in rows(world, "a", "auditLog") if e["action"] == "api_token.create"
    )
    assert audited == listed["id"]
    revoked = world.gql(
        "a",
        """mutation($id: ID!) { revokeApiToken(input: {id: $id}) { errors { code } } }""",
        id=listed["id"],
    )
    assert revoked["data"]["revokeApiToken"]["errors"] == []
    (after,) = rows(world, "a", "apiTokens")  # the list keeps revoked tokens: so does node
    assert after["revokedAt"] is not None
    assert_resolves(world, "a", after)


def test_session_token_ids_are_not_api_tokens(shared: World) -> None:
    """Audit entries name the acting session token as an ApiToken: it resolves to null."""
    world = shared
    entries = world.gql("a", "{ auditLog { edges { node { actorTokenId } } } }")
    token_ids = {e["node"]["actorTokenId"] for e in entries["data"]["auditLog"]["edges"]}
    token_ids.discard(None)
    assert token_ids  # a's login session acted
    assert rows(world, "a", "apiTokens") == []
    assert_gone(world, *token_ids)


def test_audit_entry_ids_resolve_for_the_orgs_admins_only(shared: World) -> None:
    world = shared
    listed = rows(world, "a", "auditLog")
    assert listed
    for row in (listed[0], listed[-1]):
        assert_resolves(world, "a", row)
    for who in ("b", "c"):
        assert_gone(world, listed[0]["id"], who=who)
    assert_gone(world, gid("AuditEntry", new_id()))
    for operation in (NODE, NODES):
        body = world.gql("a_rep", operation + ROW, id=listed[0]["id"], ids=[listed[0]["id"]])
        assert error_code(body) == "FORBIDDEN"  # as the auditLog list
