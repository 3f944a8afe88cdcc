"""Discovery, introductions and account asks through the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph.identity import Role
from graph.model import OrgType
from tests.api.conftest import World, gid, settings_for

DISCOVER = """{ complementaryPartners { edges { node { org { id name types }
    score overlapBucket sharedPartners coWonDeals reasons } } } }"""
REQUEST = """mutation($target: ID!, $broker: ID, $message: String! = "Let's talk") {
  requestIntroduction(input: {targetOrgId: $target, brokerOrgId: $broker, message: $message})
  { introduction { id status } errors { code field message } } }"""
RESPOND = """mutation($id: ID!, $answer: IntroductionAnswer!) {
  respondToIntroduction(input: {id: $id, answer: $answer, note: "noted"}) {
    introduction { id status note partnershipId } errors { code message } } }"""
WITHDRAW = """mutation($id: ID!) { withdrawIntroduction(input: {id: $id}) {
    introduction { status } errors { code } } }"""
LIST = """query($role: IntroRoleFilter!) { introductions(role: $role) {
    edges { node { id status requester { id } target { id } } } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
ASK = """mutation($partner: ID!, $account: ID!) { askPartner(input: {partnerId: $partner,
    accountId: $account, kind: CO_SELL_CALL, message: "Join the call?"}) {
    ask { id status myAccounts { crmId } } errors { code } } }"""
ANSWER = """mutation($id: ID!, $accept: Boolean!) { answerAccountAsk(input: {id: $id,
    accept: $accept, note: "sure"}) {
    ask { status note myAccounts { crmId } } errors { code } } }"""
ASKS = """query($side: AskSideFilter!) { accountAsks(side: $side) { edges { node { id kind
    status viewerIsRequester myAccounts { crmId } } } } }"""
UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
    results { account { id } } } }"""
BLOCK = """mutation($org: ID!, $blocked: Boolean!) { setOrgBlock(input: {orgId: $org,
    blocked: $blocked}) { changed errors { code } } }"""


def customers(world: World, who: str, prefix: str, numbers: range) -> list[str]:
    rows = [
        {
            "crmId": f"{prefix}{n}",
            "name": f"Co {n}",
            "domains": [f"co{n}.com"],
            "populations": ["CUSTOMER"],
        }
        for n in numbers
    ]
    body = world.gql(who, UPSERT, rows=rows)
    return [r["account"]["id"] for r in body["data"]["upsertAccounts"]["results"]]


@pytest.fixture
def eco(world: World) -> World:
    """me (ISV) and s (SI, private) both partner with vendor v; d (SI) is discoverable;
    h (SI) is private and outside; p already partners with me. me and s share 12
    customers, me and d share 3 (below k = 5)."""
    world.add_org("me", OrgType.ISV)
    world.add_org("v", OrgType.VENDOR)
    world.add_org("s", OrgType.SI)
    world.add_org("d", OrgType.SI, discoverable=True)
    world.add_org("h", OrgType.SI)
    world.add_org("p", OrgType.RESELLER, discoverable=True)
    for label in ("me", "v", "s", "d", "h", "p"):
        world.add_user(label, label)
    world.add_user("rep", "me", Role.SALES_REP)
    world.partner("v", "me", "me")
    world.partner("v", "s", "s")
    world.partner("me", "p", "p")
    customers(world, "me", "m", range(20))
    customers(world, "s", "s", range(12))
    customers(world, "d", "d", range(3))
    customers(world, "h", "h", range(20))
    return world


def suggestions(world: World, who: str) -> list[dict[str, Any]]:
    body = world.gql(who, DISCOVER)
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["complementaryPartners"]["edges"]]


def test_discovery_ranks_ecosystem_and_discoverable_orgs_only(eco: World) -> None:
    found = suggestions(eco, "me")
    names = [n["org"]["name"] for n in found]
    assert names[0] == "Org s"  # shared vendor, 12 shared customers, SI complements ISV
    assert "Org d" in names
    assert "Org h" not in names  # private and outside my ecosystem
    assert "Org p" not in names  # already my partner
    assert "Org v" not in names
    s = found[0]
    assert s["overlapBucket"] == "10-49"
    assert s["sharedPartners"] == 1
    assert "SI complements your ISV (+3)" in s["reasons"]
    d = next(n for n in found if n["org"]["name"] == "Org d")
    assert d["overlapBucket"] is None  # 3 shared customers: below k, not shown at all
    assert not any("customers" in r for r in d["reasons"])


def test_direct_introduction_creates_an_active_partnership(eco: World) -> None:
    made = eco.gql("me", REQUEST, target=gid("Org", eco.orgs["d"]))["data"]
    intro = made["requestIntroduction"]["introduction"]
    assert intro["status"] == "REQUESTED"
    again = eco.gql("me", REQUEST, target=gid("Org", eco.orgs["d"]))["data"]
    assert again["requestIntroduction"]["errors"][0]["code"] == "DUPLICATE_REQUEST"
    # me is private and outside d's ecosystem: asking d does not make me reachable
    reverse = eco.gql("d", REQUEST, target=gid("Org", eco.orgs["me"]))
    assert reverse["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    self_accept = eco.gql("me", RESPOND, id=intro["id"], answer="ACCEPT")
    assert self_accept["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    forward = eco.gql("d", RESPOND, id=intro["id"], answer="FORWARD")["data"]
    assert forward["respondToIntroduction"]["errors"][0]["code"] == "ILLEGAL_TRANSITION"

    incoming = eco.gql("d", LIST, role="TARGET")["data"]["introductions"]["edges"]
    assert [e["node"]["id"] for e in incoming] == [intro["id"]]
    accepted = eco.gql("d", RESPOND, id=intro["id"], answer="ACCEPT")["data"]
    node = accepted["respondToIntroduction"]["introduction"]
    assert node["status"] == "ACCEPTED"
    partnership = eco.gql(
        "me",
        "query($id: ID!) { node(id: $id) { ... on Partnership { status } } }",
        id=node["partnershipId"],
    )
    assert partnership["data"]["node"] == {"status": "ACTIVE"}
    sharing = eco.gql(
        "d",
        "query($id: ID!) { sharing(partnerId: $id) { outgoing { level } } }",
        id=gid("Org", eco.orgs["me"]),
    )
    assert all(r["level"] == "HIDDEN" for r in sharing["data"]["sharing"]["outgoing"])
    assert "Org d" not in [n["org"]["name"] for n in suggestions(eco, "me")]


def test_brokered_introduction_needs_the_broker_first_then_cools_off(eco: World) -> None:
    made = eco.gql(
        "me", REQUEST, target=gid("Org", eco.orgs["s"]), broker=gid("Org", eco.orgs["v"])
    )["data"]["requestIntroduction"]
    intro = made["introduction"]
    assert eco.gql("s", NODE, id=intro["id"])["data"]["node"] is None  # not yet forwarded
    assert eco.gql("s", LIST, role="TARGET")["data"]["introductions"]["edges"] == []
    early = eco.gql("s", RESPOND, id=intro["id"], answer="ACCEPT")
    assert early["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    forwarded = eco.gql("v", RESPOND, id=intro["id"], answer="FORWARD")["data"]
    assert forwarded["respondToIntroduction"]["introduction"]["status"] == "FORWARDED"
    assert eco.gql("s", NODE, id=intro["id"])["data"]["node"] == {"id": intro["id"]}
    declined = eco.gql("s", RESPOND, id=intro["id"], answer="DECLINE")["data"]
    assert declined["respondToIntroduction"]["introduction"]["status"] == "DECLINED"

    again = eco.gql("me", REQUEST, target=gid("Org", eco.orgs["s"]))["data"]
    assert again["requestIntroduction"]["errors"][0]["code"] == "COOLING_OFF"
    # a broker who is not a partner of both is refused like a missing one
    bad = eco.gql("me", REQUEST, target=gid("Org", eco.orgs["d"]), broker=gid("Org", eco.orgs["p"]))
    assert bad["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_withdraw_frees_the_pair(eco: World) -> None:
    intro = eco.gql("me", REQUEST, target=gid("Org", eco.orgs["d"]))["data"]["requestIntroduction"][
        "introduction"
    ]
    assert eco.gql("d", WITHDRAW, id=intro["id"])["errors"][0]["extensions"]["code"] == (
        "FORBIDDEN"
    )
    withdrawn = eco.gql("me", WITHDRAW, id=intro["id"])["data"]["withdrawIntroduction"]
    assert withdrawn["introduction"]["status"] == "WITHDRAWN"
    again = eco.gql("me", REQUEST, target=gid("Org", eco.orgs["d"]))["data"]
    assert again["requestIntroduction"]["errors"] == []


def test_private_orgs_outside_the_ecosystem_cannot_be_asked(eco: World) -> None:
    hidden = eco.gql("me", REQUEST, target=gid("Org", eco.orgs["h"]))
    missing = eco.gql("me", REQUEST, target=gid("Org", "01J00000000000000000000000"))
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert hidden["errors"][0]["message"] == missing["errors"][0]["message"]


def test_blocks_hide_both_ways(eco: World) -> None:
    assert "Org d" in [n["org"]["name"] for n in suggestions(eco, "me")]
    blocked = eco.gql("d", BLOCK, org=gid("Org", eco.orgs["me"]), blocked=True)
    assert blocked["data"]["setOrgBlock"] == {"changed": True, "errors": []}
    assert "Org d" not in [n["org"]["name"] for n in suggestions(eco, "me")]
    refused = eco.gql("me", REQUEST, target=gid("Org", eco.orgs["d"]))
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    hidden = eco.gql("me", BLOCK, org=gid("Org", eco.orgs["h"]), blocked=True)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    eco.gql("d", BLOCK, org=gid("Org", eco.orgs["me"]), blocked=False)
    assert "Org d" in [n["org"]["name"] for n in suggestions(eco, "me")]


def test_account_asks_need_a_shared_overlap(eco: World) -> None:
    mine = customers(eco, "me", "x", range(100, 103))  # co100..co102
    customers(eco, "v", "v", range(100, 102))  # v has co100 and co101
    share = """mutation($p: ID!, $level: SharingLevel!) { setSharingRule(input: {partnerId: $p,
        population: "CUSTOMER", level: $level}) { errors { code } } }"""
    eco.gql("v", share, p=gid("Org", eco.orgs["me"]), level="OVERLAPS")
    vendor = gid("Org", eco.orgs["v"])

    made = eco.gql("rep", ASK, partner=vendor, account=mine[0])["data"]["askPartner"]
    assert made["errors"] == []
    assert made["ask"]["myAccounts"] == [{"crmId": "x100"}]
    no_overlap = eco.gql("rep", ASK, partner=vendor, account=mine[2])
    assert no_overlap["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    not_partner = eco.gql("rep", ASK, partner=gid("Org", eco.orgs["d"]), account=mine[0])
    assert not_partner["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    received = eco.gql("v", ASKS, side="PARTNER")["data"]["accountAsks"]["edges"]
    assert [e["node"]["myAccounts"] for e in received] == [[{"crmId": "v100"}]]
    assert received[0]["node"]["viewerIsRequester"] is False
    answered = eco.gql("v", ANSWER, id=made["ask"]["id"], accept=True)["data"]
    assert answered["answerAccountAsk"]["ask"]["status"] == "ACCEPTED"
    twice = eco.gql("v", ANSWER, id=made["ask"]["id"], accept=False)["data"]
    assert twice["answerAccountAsk"]["errors"][0]["code"] == "ILLEGAL_TRANSITION"
    assert eco.gql("s", NODE, id=made["ask"]["id"])["data"]["node"] is None

    eco.gql("v", share, p=gid("Org", eco.orgs["me"]), level="COUNTS")
    counts_only = eco.gql("rep", ASK, partner=vendor, account=mine[1])
    assert counts_only["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.fixture
def limited(tmp_path: Any) -> Iterator[World]:
    settings: Settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'limited.sqlite3'}", TANDEM_INTRO_DAILY_LIMIT="2"
    )
    with TestClient(create_app(settings)) as client:
        yield World(client=client, settings=settings)


def test_daily_budget_is_rate_limited(limited: World) -> None:
    limited.add_org("me", OrgType.ISV)
    limited.add_user("me", "me")
    for label in ("a", "b", "c"):
        limited.add_org(label, OrgType.SI, discoverable=True)
    for label in ("a", "b"):
        body = limited.gql("me", REQUEST, target=gid("Org", limited.orgs[label]))
        assert body["data"]["requestIntroduction"]["errors"] == []
    third = limited.gql("me", REQUEST, target=gid("Org", limited.orgs["c"]))
    assert third["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_introduction_events_follow_consent(eco: World) -> None:
    subscription = "subscription { introductionEvents { id status } }"
    with eco.client.websocket_connect("/graphql", ["graphql-transport-ws"]) as ws:
        ws.send_json(
            {
                "type": "connection_init",
                "payload": {"authorization": f"Bearer {eco.tokens['s']}"},
            }
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
        made = eco.gql(
            "me", REQUEST, target=gid("Org", eco.orgs["s"]), broker=gid("Org", eco.orgs["v"])
        )["data"]["requestIntroduction"]["introduction"]
        eco.gql("v", RESPOND, id=made["id"], answer="FORWARD")
        event = ws.receive_json()["payload"]["data"]["introductionEvents"]
    # s hears nothing until the broker forwards: its first event is FORWARDED
    assert event == {"id": made["id"], "status": "FORWARDED"}
