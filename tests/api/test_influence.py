"""Touches, influence paths and attribution through the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from graph.model import OrgType
from resolvers.clock import utcnow
from tests.api.conftest import World, gid

UPSERT_ACCOUNTS = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows})
    { results { account { id } } } }"""
UPSERT_OPPORTUNITIES = """mutation($rows: [OpportunityRowInput!]!) {
  upsertOpportunities(input: {rows: $rows}) { results { opportunityId status code } } }"""
REGISTER = """mutation($vendor: ID!, $role: DealRole!) { registerDeal(input: {vendorId: $vendor,
    role: $role, amount: "7000", currency: "USD", expectedClose: "2027-06-30",
    domains: ["acme.com"]}) { registration { id status } errors { code } } }"""
REVIEW = """mutation($id: ID!) { reviewDealRegistration(input: {id: $id, decision: APPROVE,
    reason: "ok"}) { registration { status } errors { code } } }"""
RECORD = """mutation($rows: [TouchRowInput!]!) { recordTouches(input: {touches: $rows}) {
    results { externalId status created code field touchId } errors { code } } }"""
CONFIRM = """mutation($ids: [ID!]!) { confirmTouches(input: {ids: $ids}) {
    touches { id status } errors { code } } }"""
CLOSE = """mutation($id: ID!) { closeOpportunity(input: {id: $id, status: WON}) {
    opportunity { status } errors { code } } }"""
PATHS = """query($id: ID!, $hops: Int! = 3) { influencePaths(opportunityId: $id, maxHops: $hops) {
    hops steps { kind partner { name } introduced { name } } } }"""
ATTRIBUTION = """query($id: ID!, $model: AttributionModel!) {
  attribution(opportunityId: $id, model: $model) { model amount currency
    credits { share amount partner { name } } } }"""
REPORT = """query($from: DateTime!, $to: DateTime!, $vendor: ID, $model: AttributionModel!) {
  partnerAttribution(from: $from, to: $to, vendorId: $vendor, model: $model) {
    closedDeals wonDeals rows { partner { name } currency sourcedRevenue influencedRevenue
      attributedRevenue wonDeals closedDeals averageDealSize winRate winRateWithout } } }"""
TOUCHES = """query($side: TouchSideFilter!) { touches(side: $side) { edges { node { id kind
    status accountId partner { name } } } } }"""
REQUEST_INTRO = """mutation($target: ID!) { requestIntroduction(input: {targetOrgId: $target,
    message: "meet?"}) { introduction { id } errors { code } } }"""
ACCEPT_INTRO = """mutation($id: ID!) { respondToIntroduction(input: {id: $id, answer: ACCEPT})
    { introduction { status } errors { code } } }"""


@pytest.fixture
def won(world: World) -> dict[str, Any]:
    """Vendor v; reseller a sourced the deal (registered before v's opportunity existed);
    SI b co-sold; ISV c won the technical evaluation; influencer e had introduced itself
    to b before b's meeting. The opportunity (7000 USD) then closed WON."""
    world.add_org("v", OrgType.VENDOR)
    world.add_org("a", OrgType.RESELLER)
    world.add_org("b", OrgType.SI, discoverable=True)
    world.add_org("c", OrgType.ISV)
    world.add_org("e", OrgType.INFLUENCER)
    for label in ("v", "a", "b", "c", "e"):
        world.add_user(label, label)
    for label in ("a", "b", "c"):
        world.partner("v", label, label)
    vendor = gid("Org", world.orgs["v"])
    account = world.gql(
        "v",
        UPSERT_ACCOUNTS,
        rows=[{"crmId": "acme", "name": "Acme", "domains": ["acme.com"], "populations": []}],
    )["data"]["upsertAccounts"]["results"][0]["account"]["id"]
    sourced = world.gql("a", REGISTER, vendor=vendor, role="RESELLER")["data"]["registerDeal"]
    world.gql("v", REVIEW, id=sourced["registration"]["id"])
    opportunity = world.gql(
        "v",
        UPSERT_OPPORTUNITIES,
        rows=[
            {
                "crmId": "o1",
                "accountCrmId": "acme",
                "name": "Acme platform",
                "amount": "7000.00",
                "currency": "USD",
                "stage": "Proposal",
                "status": "OPEN",
                "createdAt": utcnow().isoformat(),
            }
        ],
    )["data"]["upsertOpportunities"]["results"][0]["opportunityId"]
    intro = world.gql("e", REQUEST_INTRO, target=gid("Org", world.orgs["b"]))["data"]
    world.gql("b", ACCEPT_INTRO, id=intro["requestIntroduction"]["introduction"]["id"])
    si = world.gql("b", REGISTER, vendor=vendor, role="SI")["data"]["registerDeal"]
    now = utcnow()
    recorded = world.gql(
        "v",
        RECORD,
        rows=[
            {
                "externalId": "tw-1",
                "kind": "TECHNICAL_WIN",
                "at": now.isoformat(),
                "partnerId": gid("Org", world.orgs["c"]),
                "accountId": account,
            },
        ],
    )["data"]["recordTouches"]
    assert recorded["results"][0]["status"] == "RECORDED", recorded
    by_partner = world.gql(
        "b",
        RECORD,
        rows=[
            {
                "externalId": "meeting-1",
                "kind": "CO_SELL_MEETING",
                "at": now.isoformat(),
                "registrationId": si["registration"]["id"],
            }
        ],
    )["data"]["recordTouches"]
    assert by_partner["results"][0]["status"] == "RECORDED", by_partner
    world.gql("v", CONFIRM, ids=[by_partner["results"][0]["touchId"]])
    closed = world.gql("v", CLOSE, id=opportunity)["data"]["closeOpportunity"]
    assert closed["opportunity"]["status"] == "WON", closed
    return {"opportunity": opportunity, "account": account, "vendor": vendor}


def names(path: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (s["partner"]["name"], s["introduced"]["name"] if s["introduced"] else None)
        for s in path["steps"]
    ]


def test_paths_reach_the_deal_directly_and_through_introductions(
    world: World, won: dict[str, Any]
) -> None:
    paths = world.gql("v", PATHS, id=won["opportunity"])["data"]["influencePaths"]
    assert sorted((p["hops"], names(p)[0][0]) for p in paths) == [
        (0, "Org a"),
        (0, "Org b"),
        (0, "Org c"),
        (1, "Org e"),
    ]
    multi = next(p for p in paths if p["hops"] == 1)
    assert names(multi) == [("Org e", "Org b"), ("Org b", None)]
    assert [s["kind"] for s in multi["steps"]] == ["INTRO", "CO_SELL_MEETING"]
    direct = world.gql("v", PATHS, id=won["opportunity"], hops=0)["data"]["influencePaths"]
    assert len(direct) == 3
    too_far = world.gql("v", PATHS, id=won["opportunity"], hops=6)
    assert too_far["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_linear_credit_with_hop_decay_sums_to_the_amount(world: World, won: dict[str, Any]) -> None:
    """LINEAR with hop decay 0.5: a, b and c weigh 1 each, e (one hop) 0.5; the total is
    3.5, so a, b and c get 1/3.5 = 2/7 of 7000.00 = 2000.00 each and e 1/7 = 1000.00."""
    body = world.gql("v", ATTRIBUTION, id=won["opportunity"], model="LINEAR")
    result = body["data"]["attribution"]
    credits = {c["partner"]["name"]: c["amount"] for c in result["credits"]}
    assert credits == {
        "Org a": "2000.00",
        "Org b": "2000.00",
        "Org c": "2000.00",
        "Org e": "1000.00",
    }
    assert sum(Decimal(c["share"]) for c in result["credits"]) == 1
    for model in ("FIRST_TOUCH", "TIME_DECAY", "POSITION_BASED", "W_SHAPED", "SHAPLEY", "MARKOV"):
        other = world.gql("v", ATTRIBUTION, id=won["opportunity"], model=model)
        assert "errors" not in other, other
        amounts = [Decimal(c["amount"]) for c in other["data"]["attribution"]["credits"]]
        assert sum(amounts) == Decimal("7000.00"), model
        assert all(a >= 0 for a in amounts), model


def test_partner_report_sourced_influenced_and_own_row_only(
    world: World, won: dict[str, Any]
) -> None:
    window = {
        "from": (utcnow() - timedelta(days=1)).isoformat(),
        "to": (utcnow() + timedelta(days=1)).isoformat(),
    }
    report = world.gql("v", REPORT, model="LINEAR", **window)["data"]["partnerAttribution"]
    assert (report["closedDeals"], report["wonDeals"]) == (1, 1)
    rows = {r["partner"]["name"]: r for r in report["rows"]}
    assert rows["Org a"]["sourcedRevenue"] == "7000.00"
    assert rows["Org a"]["influencedRevenue"] == "0"
    assert rows["Org b"]["influencedRevenue"] == "7000.00"
    assert rows["Org b"]["sourcedRevenue"] == "0"
    assert rows["Org a"]["attributedRevenue"] == "2000.00"
    assert rows["Org e"]["attributedRevenue"] == "1000.00"
    assert rows["Org a"]["winRate"] == "1.0000"
    assert rows["Org a"]["winRateWithout"] is None  # no deal without a

    mine = world.gql("a", REPORT, model="LINEAR", vendor=won["vendor"], **window)
    only = mine["data"]["partnerAttribution"]["rows"]
    assert [r["partner"]["name"] for r in only] == ["Org a"]
    stranger = world.gql("e", REPORT, model="LINEAR", vendor=won["vendor"], **window)
    assert stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_partners_never_see_the_vendors_paths_or_others_touches(
    world: World, won: dict[str, Any]
) -> None:
    for who in ("a", "b", "e"):
        body = world.gql(who, PATHS, id=won["opportunity"])
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        credit = world.gql(who, ATTRIBUTION, id=won["opportunity"], model="LINEAR")
        assert credit["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    b_touches = world.gql("b", TOUCHES, side="PARTNER")["data"]["touches"]["edges"]
    assert [t["node"]["kind"] for t in b_touches] == ["CO_SELL_MEETING"]
    assert b_touches[0]["node"]["accountId"] is None  # the vendor's account stays its own
    v_touches = world.gql("v", TOUCHES, side="VENDOR")["data"]["touches"]["edges"]
    assert sorted(t["node"]["kind"] for t in v_touches) == [
        "CO_SELL_MEETING",
        "DEAL_REGISTRATION",
        "TECHNICAL_WIN",
    ]
    c_touch = next(t for t in v_touches if t["node"]["kind"] == "TECHNICAL_WIN")["node"]["id"]
    assert world.gql("b", "query($id: ID!) { node(id: $id) { id } }", id=c_touch)["data"] == {
        "node": None
    }


def test_touches_are_idempotent_and_validated(world: World, won: dict[str, Any]) -> None:
    row = {
        "externalId": "tw-1",
        "kind": "TECHNICAL_WIN",
        "at": utcnow().isoformat(),
        "partnerId": gid("Org", world.orgs["c"]),
        "accountId": won["account"],
    }
    again = world.gql("v", RECORD, rows=[row])["data"]["recordTouches"]["results"]
    assert (again[0]["status"], again[0]["created"]) == ("RECORDED", False)
    bad = world.gql(
        "v",
        RECORD,
        rows=[
            {**row, "externalId": "future", "at": (utcnow() + timedelta(days=1)).isoformat()},
            {**row, "externalId": "heavy", "weight": "-1"},
            {**row, "externalId": "stranger", "partnerId": gid("Org", world.orgs["e"])},
            {**row, "externalId": "tandem:mine"},
        ],
    )["data"]["recordTouches"]["results"]
    assert [(r["status"], r["field"]) for r in bad] == [
        ("REJECTED", "at"),
        ("REJECTED", "weight"),
        ("REJECTED", "partnerId"),
        ("REJECTED", "externalId"),
    ]
