"""Deal registration through the API: checks, lifecycle, visibility, events."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from strawberry.relay import from_base64

from api.stores import Stores
from graph.deals import DealStatus, DealTransition, OpportunityStatus, OpportunityUpsert
from graph.model import OrgType
from resolvers.clock import utcnow
from resolvers.deals import lifecycle
from resolvers.ids import new_id
from tests.api.conftest import World, gid

REGISTER = """mutation($vendor: ID!, $role: DealRole!, $domains: [String!], $product: String,
    $amount: Decimal! = "12500.50", $currency: String! = "USD", $close: Date! = "2027-05-31",
    $opportunity: ID) {
  registerDeal(input: {vendorId: $vendor, role: $role, amount: $amount, currency: $currency,
      expectedClose: $close, productLine: $product, domains: $domains,
      opportunityId: $opportunity}) {
    registration { id status reasons credit amount currency productLine viewerIsVendor
      account { id crmId } opportunityId coRegistrants { role status } }
    errors { code field message } } }"""
REVIEW = """mutation($id: ID!, $decision: DealDecision!, $reason: String!) {
  reviewDealRegistration(input: {id: $id, decision: $decision, reason: $reason}) {
    registration { id status expiresAt decisionNote } errors { code message } } }"""
EXTEND = """mutation($id: ID!) { extendDealRegistration(input: {id: $id}) {
    registration { status extensions expiresAt } errors { code message } } }"""
WITHDRAW = """mutation($id: ID!) { withdrawDealRegistration(input: {id: $id, reason: "lost"}) {
    registration { status } errors { code message } } }"""
NODE = """query($id: ID!) { node(id: $id) { ... on DealRegistration {
    id status reasons amount viewerIsVendor account { crmId } opportunityId
    coRegistrants { role status } partner { id } vendor { id }
    history { fromStatus toStatus by note } } } }"""
LIST = """query($side: DealSide!, $status: [DealStatus!]) {
  dealRegistrations(side: $side, status: $status) { edges { node { id status role } } } }"""
ACCOUNTS = """{ accounts(population: "PROSPECT") { edges { node { id crmId name
    fields { name value } } } } }"""
PROGRAM = """mutation($input: SetDealProgramInput!) { setDealProgram(input: $input) {
    program { expiryDays exclusiveRoles directOnlyPopulations autoApproveRoles
      autoApproveMaxAmount } errors { code field } } }"""
UPSERT_ACCOUNTS = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows})
    { results { account { id } } } }"""


@pytest.fixture
def deals(world: World) -> World:
    """Vendor v partners with resellers r1, r2 and SI s; outsider x partners with no one.
    v has one customer account, acme.com."""
    world.add_org("v", OrgType.VENDOR)
    for label in ("r1", "r2", "s", "x"):
        world.add_org(label, OrgType.RESELLER)
        world.add_user(label, label)
    world.add_user("v", "v")
    for label in ("r1", "r2", "s"):
        world.partner("v", label, label)
    created = world.gql(
        "v",
        UPSERT_ACCOUNTS,
        rows=[
            {"crmId": "acme", "name": "Acme", "domains": ["acme.com"], "populations": ["CUSTOMER"]}
        ],
    )
    world.orgs["acme"] = created["data"]["upsertAccounts"]["results"][0]["account"]["id"]
    return world


def register(world: World, who: str, role: str = "RESELLER", **variables: Any) -> dict[str, Any]:
    variables.setdefault("domains", ["www.acme.com"])
    body = world.gql(who, REGISTER, vendor=gid("Org", world.orgs["v"]), role=role, **variables)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["registerDeal"]
    return payload


def test_first_exclusive_claim_wins_and_others_co_register(deals: World) -> None:
    first = register(deals, "r1")["registration"]
    assert (first["status"], first["reasons"], first["credit"]) == ("PENDING_REVIEW", [], "SOURCED")
    assert first["amount"] == "12500.50"
    assert first["currency"] == "USD"
    # the partner never sees the vendor's account or opportunity records
    assert first["account"] is None
    assert first["opportunityId"] is None
    assert first["viewerIsVendor"] is False

    late = register(deals, "r2", role="REFERRAL")["registration"]  # exclusive too
    assert (late["status"], late["reasons"]) == ("REJECTED", ["DUPLICATE"])
    si = register(deals, "s", role="SI")["registration"]  # co-registers
    assert si["status"] == "PENDING_REVIEW"
    assert si["coRegistrants"] == [{"role": "RESELLER", "status": "PENDING_REVIEW"}]
    other_line = register(deals, "r2", product="Analytics")["registration"]
    assert other_line["status"] == "PENDING_REVIEW"  # another product line, another slot

    seen = deals.gql("r1", NODE, id=first["id"])["data"]["node"]
    assert seen["coRegistrants"] == [{"role": "SI", "status": "PENDING_REVIEW"}]
    assert "amount" not in str(seen["coRegistrants"])
    vendor_view = deals.gql("v", NODE, id=first["id"])["data"]["node"]
    assert vendor_view["viewerIsVendor"] is True
    assert vendor_view["account"] == {"crmId": "acme"}
    assert vendor_view["history"] == [
        {"fromStatus": None, "toStatus": "PENDING_REVIEW", "by": "PARTNER", "note": None}
    ]


def test_unknown_account_becomes_a_prospect_the_partner_cannot_detect(deals: World) -> None:
    made = register(deals, "r1", domains=["https://newco.io/pricing"])["registration"]
    assert made["status"] == "PENDING_REVIEW"
    assert made["reasons"] == []  # NEW_PROSPECT is the vendor's to know
    vendor_view = deals.gql("v", NODE, id=made["id"])["data"]["node"]
    assert vendor_view["reasons"] == ["NEW_PROSPECT"]
    prospects = deals.gql("v", ACCOUNTS)["data"]["accounts"]["edges"]
    assert len(prospects) == 1
    prospect = prospects[0]["node"]
    assert prospect["name"] == "https://newco.io/pricing"
    assert {"name": "source_partner", "value": deals.orgs["r1"]} in prospect["fields"]
    assert "newco" not in prospect["crmId"]  # the raw key is never stored
    # a second partner on the same unknown account finds the prospect, not a new one
    again = register(deals, "r2", domains=["newco.io"])["registration"]
    assert (again["status"], again["reasons"]) == ("REJECTED", ["DUPLICATE"])
    assert len(deals.gql("v", ACCOUNTS)["data"]["accounts"]["edges"]) == 1


def test_direct_only_account_and_population(deals: World) -> None:
    marked = deals.gql(
        "v",
        """mutation($ids: [ID!]!) { setDirectOnly(input: {accountIds: $ids, directOnly: true})
        { changedAccountIds errors { code } } }""",
        ids=[deals.orgs["acme"]],
    )["data"]["setDirectOnly"]
    assert marked["changedAccountIds"] == [deals.orgs["acme"]]
    rejected = register(deals, "r1")["registration"]
    assert (rejected["status"], rejected["reasons"]) == ("REJECTED", ["DIRECT_ONLY"])
    assert register(deals, "r2")["registration"]["status"] == "REJECTED"  # holds no slot

    deals.gql(
        "v",
        """mutation($ids: [ID!]!) { setDirectOnly(input: {accountIds: $ids, directOnly: false})
        { errors { code } } }""",
        ids=[deals.orgs["acme"]],
    )
    program = deals.gql("v", PROGRAM, input={"directOnlyPopulations": ["CUSTOMER"]})
    assert program["data"]["setDealProgram"]["program"]["directOnlyPopulations"] == ["CUSTOMER"]
    assert register(deals, "s", role="SI")["registration"]["reasons"] == ["DIRECT_ONLY"]


def test_existing_pipeline_goes_to_review_with_influenced_credit(deals: World) -> None:
    async def pipeline(stores: Stores) -> str:
        opportunity = OpportunityUpsert(
            crm_id="opp-1",
            new_id=new_id(),
            account_crm_id="acme",
            name="Acme renewal",
            amount=Decimal("90000"),
            currency="USD",
            stage="Negotiation",
            status=OpportunityStatus.OPEN,
            created_at=utcnow() - timedelta(days=10),
        )
        [written] = await stores.graph.upsert_opportunities(
            deals.orgs["v"], [opportunity], at=utcnow()
        )
        assert written.opportunity_id is not None
        return written.opportunity_id

    opportunity_id = deals.run(pipeline)
    deals.gql("v", PROGRAM, input={"autoApproveRoles": ["RESELLER"]})
    made = register(deals, "r1")["registration"]  # auto-approve never skips pipeline
    assert (made["status"], made["reasons"], made["credit"]) == (
        "PENDING_REVIEW",
        ["EXISTING_PIPELINE"],
        "INFLUENCED",
    )
    vendor_view = deals.gql("v", NODE, id=made["id"])["data"]["node"]
    assert vendor_view["opportunityId"] == gid("Opportunity", opportunity_id)

    deals.gql("v", PROGRAM, input={"existingPipelineBlocks": True})
    blocked = register(deals, "s", role="SI")["registration"]
    assert (blocked["status"], blocked["reasons"]) == ("REJECTED", ["EXISTING_PIPELINE"])


def test_auto_approve_by_role_and_amount(deals: World) -> None:
    deals.gql("v", PROGRAM, input={"autoApproveRoles": ["SI"], "autoApproveMaxAmount": "10000"})
    small = register(deals, "s", role="SI", amount="10000")["registration"]
    assert (small["status"], small["reasons"]) == ("APPROVED", ["AUTO_APPROVED"])
    big = register(deals, "r1", role="SI", amount="10000.01")["registration"]
    assert big["status"] == "PENDING_REVIEW"


def test_lifecycle_review_extend_withdraw_and_the_slot_frees(deals: World) -> None:
    reg = register(deals, "r1")["registration"]
    partner_try = deals.gql("r1", REVIEW, id=reg["id"], decision="APPROVE", reason="me")
    assert partner_try["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    no_reason = deals.gql("v", REVIEW, id=reg["id"], decision="APPROVE", reason="  ")
    assert no_reason["data"]["reviewDealRegistration"]["errors"][0]["code"] == "BAD_USER_INPUT"

    approved = deals.gql("v", REVIEW, id=reg["id"], decision="APPROVE", reason="ok")
    node = approved["data"]["reviewDealRegistration"]["registration"]
    assert (node["status"], node["decisionNote"]) == ("APPROVED", "ok")
    again = deals.gql("v", REVIEW, id=reg["id"], decision="REJECT", reason="oops")
    [error] = again["data"]["reviewDealRegistration"]["errors"]
    assert error["code"] == "ILLEGAL_TRANSITION"

    expiries = [node["expiresAt"]]
    for n in (1, 2):
        extended = deals.gql("v", EXTEND, id=reg["id"])["data"]["extendDealRegistration"]
        assert extended["registration"]["extensions"] == n
        expiries.append(extended["registration"]["expiresAt"])
    assert expiries == sorted(expiries)
    assert len(set(expiries)) == 3
    third = deals.gql("v", EXTEND, id=reg["id"])["data"]["extendDealRegistration"]
    assert third["errors"][0]["code"] == "ILLEGAL_TRANSITION"  # the default limit is 2

    assert deals.gql("v", WITHDRAW, id=reg["id"])["errors"][0]["extensions"]["code"] == (
        "FORBIDDEN"
    )
    withdrawn = deals.gql("r1", WITHDRAW, id=reg["id"])["data"]["withdrawDealRegistration"]
    assert withdrawn["registration"]["status"] == "WITHDRAWN"
    assert register(deals, "r2")["registration"]["status"] == "PENDING_REVIEW"

    history = deals.gql("r1", NODE, id=reg["id"])["data"]["node"]["history"]
    assert [(h["toStatus"], h["by"]) for h in history] == [
        ("PENDING_REVIEW", "PARTNER"),
        ("APPROVED", "VENDOR"),
        ("APPROVED", "VENDOR"),
        ("APPROVED", "VENDOR"),
        ("WITHDRAWN", "PARTNER"),
    ]


def test_expiry_applies_on_read_frees_the_slot_and_is_swept(deals: World) -> None:
    reg = register(deals, "r1")["registration"]
    deals.gql("v", REVIEW, id=reg["id"], decision="APPROVE", reason="ok")
    reg_id = from_base64(reg["id"])[1]

    async def backdate(stores: Stores) -> None:  # as if 91 days had passed
        current = (await stores.graph.get_deals(deals.orgs["v"], [reg_id]))[reg_id]
        past = replace(current, expires_at=utcnow() - timedelta(seconds=1))
        moved = DealTransition(reg_id, utcnow(), current.status, current.status, None, None)
        assert await stores.graph.update_deal(current, past, moved) is not None

    deals.run(backdate)
    assert deals.gql("r1", NODE, id=reg["id"])["data"]["node"]["status"] == "EXPIRED"
    expired = deals.gql("v", LIST, side="VENDOR", status=["EXPIRED"])
    assert [e["node"]["id"] for e in expired["data"]["dealRegistrations"]["edges"]] == [reg["id"]]
    live = deals.gql("v", LIST, side="VENDOR", status=["APPROVED"])
    assert live["data"]["dealRegistrations"]["edges"] == []
    extend = deals.gql("v", EXTEND, id=reg["id"])["data"]["extendDealRegistration"]
    assert extend["errors"][0]["code"] == "ILLEGAL_TRANSITION"
    # the slot is free before any sweep ran: the store expires the stale claim itself
    assert register(deals, "r2")["registration"]["status"] == "PENDING_REVIEW"

    async def stored(stores: Stores) -> DealStatus:
        await lifecycle.expire_due(stores.graph, now=utcnow())
        return (await stores.graph.get_deals(deals.orgs["v"], [reg_id]))[reg_id].status

    assert deals.run(stored) is DealStatus.EXPIRED


UPSERT_OPPORTUNITIES = """mutation($rows: [OpportunityRowInput!]!) {
  upsertOpportunities(input: {rows: $rows}) {
    results { crmId status code field opportunityId } settledRegistrations errors { code } } }"""
CLOSE = """mutation($id: ID!, $status: OpportunityStatus!) {
  closeOpportunity(input: {id: $id, status: $status}) {
    opportunity { status closedAt amount } settledRegistrations errors { code field } } }"""


def test_closing_the_opportunity_settles_registrations(deals: World) -> None:
    yesterday = (utcnow() - timedelta(days=1)).isoformat()
    rows = [
        {
            "crmId": "o1",
            "accountCrmId": "acme",
            "name": "Acme platform",
            "amount": "120000.10",
            "currency": "usd",
            "stage": "Discovery",
            "status": "OPEN",
            "createdAt": yesterday,
        },
        {
            "crmId": "o2",
            "accountCrmId": "nobody",
            "name": "Ghost",
            "amount": "1",
            "currency": "USD",
            "stage": "x",
            "status": "OPEN",
            "createdAt": yesterday,
        },
    ]
    written = deals.gql("v", UPSERT_OPPORTUNITIES, rows=rows)["data"]["upsertOpportunities"]
    first, ghost = written["results"]
    assert first["status"] == "CREATED"
    assert (ghost["status"], ghost["code"]) == ("REJECTED", "UNKNOWN_ACCOUNT")
    # a partner cannot hang opportunities on the vendor's accounts: they are not its own
    foreign = deals.gql("r1", UPSERT_OPPORTUNITIES, rows=rows)["data"]["upsertOpportunities"]
    assert [r["code"] for r in foreign["results"]] == ["UNKNOWN_ACCOUNT", "UNKNOWN_ACCOUNT"]
    opportunity = first["opportunityId"]
    assert (
        deals.gql("r1", "query($id: ID!) { node(id: $id) { id } }", id=opportunity)["data"]["node"]
        is None
    )  # a partner never reads the vendor's pipeline

    by_opportunity = register(deals, "r1", domains=None, opportunity=opportunity)
    reseller = by_opportunity["registration"]
    assert reseller["reasons"] == ["EXISTING_PIPELINE"]
    si = register(deals, "s", role="SI")["registration"]
    deals.gql("v", REVIEW, id=reseller["id"], decision="APPROVE", reason="ok")

    partner_close = deals.gql("r1", CLOSE, id=opportunity, status="WON")
    assert partner_close["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    closed = deals.gql("v", CLOSE, id=opportunity, status="WON")["data"]["closeOpportunity"]
    assert closed["opportunity"]["status"] == "WON"
    assert closed["opportunity"]["amount"] == "120000.10"
    assert closed["settledRegistrations"] == 2
    assert deals.gql("r1", NODE, id=reseller["id"])["data"]["node"]["status"] == "WON"
    assert deals.gql("s", NODE, id=si["id"])["data"]["node"]["status"] == "REJECTED"
    again = deals.gql("v", CLOSE, id=opportunity, status="LOST")["data"]["closeOpportunity"]
    assert again["errors"] == [{"code": "CONFLICT", "field": "id"}]
    listed = deals.gql("v", "{ opportunities(status: WON) { edges { node { crmId } } } }")
    assert listed["data"]["opportunities"]["edges"] == [{"node": {"crmId": "o1"}}]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.1234567"}, "amount"),
        ({"amount": "1e20"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "XAU"}, "currency"),
        ({"close": "2020-01-01"}, "expectedClose"),
        ({"close": "2099-01-01"}, "expectedClose"),
        ({"product": "x" * 101}, "productLine"),
        ({"domains": ["gmail.com"]}, "domains"),
        ({"domains": []}, "account"),
    ],
)
def test_bad_registrations_are_refused_and_write_nothing(
    deals: World, variables: dict[str, Any], field: str
) -> None:
    payload = register(deals, "r1", **variables)
    assert payload["registration"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field), error
    listed = deals.gql("v", LIST, side="VENDOR")["data"]["dealRegistrations"]["edges"]
    assert listed == []


def test_outsiders_and_non_partners_get_nothing(deals: World) -> None:
    outsider = deals.gql(
        "x", REGISTER, vendor=gid("Org", deals.orgs["v"]), role="SI", domains=["acme.com"]
    )
    assert outsider["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    reg = register(deals, "r1")["registration"]
    assert deals.gql("x", NODE, id=reg["id"])["data"]["node"] is None
    assert deals.gql("r2", NODE, id=reg["id"])["data"]["node"] is None  # a fellow partner
    mine = deals.gql("r2", LIST, side="PARTNER")["data"]["dealRegistrations"]["edges"]
    assert mine == []
    vendor = deals.gql("v", LIST, side="VENDOR")["data"]["dealRegistrations"]["edges"]
    assert [e["node"]["id"] for e in vendor] == [reg["id"]]
    assert deals.gql("v", LIST, side="PARTNER")["data"]["dealRegistrations"]["edges"] == []


def test_events_reach_vendor_and_partner_only(deals: World) -> None:
    subscription = "subscription { dealRegistrationEvents { registrationId status action } }"
    received: dict[str, list[dict[str, Any]]] = {}
    with (
        deals.client.websocket_connect("/graphql", ["graphql-transport-ws"]) as v_ws,
        deals.client.websocket_connect("/graphql", ["graphql-transport-ws"]) as r2_ws,
    ):
        for label, ws in (("v", v_ws), ("r2", r2_ws)):
            ws.send_json(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {deals.tokens[label]}"},
                }
            )
            assert ws.receive_json()["type"] == "connection_ack"
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
        reg = register(deals, "r1")["registration"]
        deals.gql("v", REVIEW, id=reg["id"], decision="REJECT", reason="not now")
        received["v"] = [
            v_ws.receive_json()["payload"]["data"]["dealRegistrationEvents"] for _ in range(2)
        ]
        # r2 is another partner of the vendor: it hears nothing of r1's registration
        register(deals, "r2", product="Other")
        r2_event = r2_ws.receive_json()["payload"]["data"]["dealRegistrationEvents"]
    assert [(e["action"], e["status"]) for e in received["v"]] == [
        ("REGISTER", "PENDING_REVIEW"),
        ("REJECT", "REJECTED"),
    ]
    assert all(e["registrationId"] == reg["id"] for e in received["v"])
    assert r2_event["registrationId"] != reg["id"]
