"""Co-selling through GraphQL: accounts ranked by partner presence, partner recommendations.

The world (see `setup`): a (the viewer, VENDOR, EMEA) and its partners
  b  RESELLER EMEA  ACTIVE  CUSTOMER at DETAILS (owner, stage), PROSPECT at OVERLAPS,
                            CHURNED at COUNTS
  c  ISV      APAC  ACTIVE  CUSTOMER and OPEN_OPPORTUNITY at OVERLAPS
  f  VENDOR   EMEA  ACTIVE  CUSTOMER at COUNTS only
  e  RESELLER EMEA  INVITED (never accepted)
  d  RESELLER EMEA  no partnership
a's accounts co1..co7 and who else has them:
  a1 CUSTOMER   b CUSTOMER, c CUSTOMER                   score 3 + 3 = 6
  a2 CUSTOMER   b PROSPECT, c OPEN_OPPORTUNITY           score 1 + 2 = 3
  a3 PROSPECT   b CHURNED (COUNTS), f CUSTOMER (COUNTS)  never listed
  a4 PROSPECT   b CUSTOMER                               score 3
  a5 CUSTOMER   f CUSTOMER (COUNTS), d, e                never listed
  a6 CUSTOMER   nobody
  a7 PROSPECT   nobody
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from strawberry.relay import from_base64

from api.stores import Stores
from graph.deals import DealTransition, OpportunityStatus, OpportunityUpsert
from graph.model import OrgType
from resolvers import admin
from resolvers.clock import utcnow
from resolvers.deals import lifecycle
from resolvers.ids import new_id
from tests.api.conftest import World, error_code, gid

UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
  rejected } }"""
INVITE = """mutation($org: ID!) { invitePartner(input: {orgId: $org}) { partnership { id } } }"""
ACCEPT = """mutation($p: ID!) { respondToPartnership(input: {partnershipId: $p, accept: true}) {
  partnership { status } } }"""
END = """mutation($p: ID!) { endPartnership(input: {partnershipId: $p}) {
  partnership { status } } }"""
RULE = """mutation($partner: ID!, $population: String!, $level: SharingLevel!,
  $fields: [String!]! = []) {
  setSharingRule(input: {partnerId: $partner, population: $population, level: $level,
    fields: $fields}) { errors { code } } }"""
ACCOUNTS = """query { accounts(first: 100) { edges { node { id crmId } } } }"""
COSELL = """query($first: Int, $after: String, $minScore: Int) {
  coSellAccounts(first: $first, after: $after, minScore: $minScore) {
    edges { cursor node { score account { id crmId }
      partners { org { name } populations level
        details { populations owner fields { name value } } } } }
    pageInfo { hasNextPage endCursor } } }"""
RECOMMEND = """query($account: ID!, $first: Int, $after: String) {
  recommendPartnersForAccount(accountId: $account, first: $first, after: $after) {
    edges { node { score reasons partner { name } } }
    pageInfo { hasNextPage endCursor } } }"""
AUDIT = "{ auditLog(first: 1) { edges { node { action } } } }"


def add_org(world: World, label: str, kind: OrgType, region: str = "EMEA") -> str:
    async def work(stores: Stores) -> str:
        org = await admin.create_org(
            stores.graph,
            name=f"Org {label}",
            types={kind},
            region=region,
            discoverable=False,
            now=utcnow(),
        )
        return org.id

    world.orgs[label] = world.run(work)
    world.add_user(label, label)
    return world.orgs[label]


def partner(world: World, label: str, *, accept: bool = True) -> str:
    """a invites `label`, which accepts unless told not to. Returns the partnership id."""
    body = world.gql("a", INVITE, org=gid("Org", world.orgs[label]))
    pid: str = body["data"]["invitePartner"]["partnership"]["id"]
    if accept:
        world.gql(label, ACCEPT, p=pid)
    return pid


def share(world: World, label: str, population: str, level: str, *fields: str) -> None:
    body = world.gql(
        label,
        RULE,
        partner=gid("Org", world.orgs["a"]),
        population=population,
        level=level,
        fields=list(fields),
    )
    assert body["data"]["setSharingRule"]["errors"] == [], body


def load(world: World, label: str, *accounts: tuple[int, str]) -> None:
    rows = [
        {
            "crmId": f"{label}{i}",
            "name": f"Co {i}",
            "domains": [f"co{i}.com"],
            "populations": [population],
            "owner": f"rep@{label}.example",
            "fields": [{"name": "stage", "value": f"stage-{i}"}, {"name": "secret", "value": "x"}],
        }
        for i, population in accounts
    ]
    body = world.gql(label, UPSERT, rows=rows)
    assert body["data"]["upsertAccounts"]["rejected"] == 0, body


def setup(world: World) -> dict[str, str]:
    """The world in the module docstring. Returns the partnership ids by partner label."""
    add_org(world, "a", OrgType.VENDOR)
    add_org(world, "b", OrgType.RESELLER)
    add_org(world, "c", OrgType.ISV, region="APAC")
    add_org(world, "d", OrgType.RESELLER)
    add_org(world, "e", OrgType.RESELLER)
    add_org(world, "f", OrgType.VENDOR)
    pids = {label: partner(world, label) for label in ("b", "c", "f")}
    pids["e"] = partner(world, "e", accept=False)
    share(world, "b", "CUSTOMER", "DETAILS", "owner", "stage")
    share(world, "b", "PROSPECT", "OVERLAPS")
    share(world, "b", "CHURNED", "COUNTS")
    share(world, "c", "CUSTOMER", "OVERLAPS")
    share(world, "c", "OPEN_OPPORTUNITY", "OVERLAPS")
    share(world, "f", "CUSTOMER", "COUNTS")
    load(
        world,
        "a",
        (1, "CUSTOMER"),
        (2, "CUSTOMER"),
        (3, "PROSPECT"),
        (4, "PROSPECT"),
        (5, "CUSTOMER"),
        (6, "CUSTOMER"),
        (7, "PROSPECT"),
    )
    load(world, "b", (1, "CUSTOMER"), (2, "PROSPECT"), (3, "CHURNED"), (4, "CUSTOMER"))
    load(world, "c", (1, "CUSTOMER"), (2, "OPEN_OPPORTUNITY"))
    load(world, "f", (3, "CUSTOMER"), (5, "CUSTOMER"))
    load(world, "d", (5, "CUSTOMER"))
    load(world, "e", (5, "CUSTOMER"))
    return pids


def cosell(world: World, **variables: Any) -> dict[str, Any]:
    body = world.gql("a", COSELL, **variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["coSellAccounts"]
    return result


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def ranked(world: World, **variables: Any) -> list[tuple[str, int]]:
    return [(n["account"]["crmId"], n["score"]) for n in nodes(cosell(world, **variables))]


def account_id(world: World, label: str, crm_id: str) -> str:
    edges = world.gql(label, ACCOUNTS)["data"]["accounts"]["edges"]
    return next(str(e["node"]["id"]) for e in edges if e["node"]["crmId"] == crm_id)


def recommend(world: World, crm_id: str, **variables: Any) -> dict[str, Any]:
    body = world.gql("a", RECOMMEND, account=account_id(world, "a", crm_id), **variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recommendPartnersForAccount"]
    return result


# --- coSellAccounts -------------------------------------------------------------------------


def test_accounts_rank_by_partner_presence_then_account_id(world: World) -> None:
    # given
    setup(world)
    # when
    found = nodes(cosell(world))
    # then: a1 (two partners' customer) first; a2 and a4 tie at 3, in account id order
    assert [n["score"] for n in found] == [6, 3, 3]
    assert found[0]["account"]["crmId"] == "a1"
    assert {n["account"]["crmId"] for n in found[1:]} == {"a2", "a4"}
    tied = [from_base64(n["account"]["id"])[1] for n in found[1:]]
    assert tied == sorted(tied)
    # per account, partners by the weight of their presence, then by org id
    by_crm = {n["account"]["crmId"]: n for n in found}
    b_first = world.orgs["b"] < world.orgs["c"]
    on_a1 = [("Org b", ["CUSTOMER"], "DETAILS"), ("Org c", ["CUSTOMER"], "OVERLAPS")]
    assert [(p["org"]["name"], p["populations"], p["level"]) for p in by_crm["a1"]["partners"]] == (
        on_a1 if b_first else on_a1[::-1]
    )
    assert [(p["org"]["name"], p["populations"]) for p in by_crm["a2"]["partners"]] == [
        ("Org c", ["OPEN_OPPORTUNITY"]),
        ("Org b", ["PROSPECT"]),
    ]


def test_counts_only_and_hidden_presence_never_appears(world: World) -> None:
    # given: f shares CUSTOMER at COUNTS; b has a3 only in CHURNED, shared at COUNTS;
    # d (no partnership) and e (invited) have a5
    setup(world)
    # when
    found = nodes(cosell(world))
    # then
    assert "a3" not in {n["account"]["crmId"] for n in found}
    assert "a5" not in {n["account"]["crmId"] for n in found}
    partners = {p["org"]["name"] for n in found for p in n["partners"]}
    assert partners == {"Org b", "Org c"}
    assert "CHURNED" not in str(found)


def test_details_fields_appear_only_where_granted(world: World) -> None:
    # given
    setup(world)
    # when
    by_crm = {n["account"]["crmId"]: n for n in nodes(cosell(world))}
    # then: b's CUSTOMER is shared at DETAILS (owner, stage), but not "secret"
    b_on_a1 = next(p for p in by_crm["a1"]["partners"] if p["org"]["name"] == "Org b")
    assert b_on_a1["details"] == [
        {
            "populations": ["CUSTOMER"],
            "owner": "rep@b.example",
            "fields": [{"name": "stage", "value": "stage-1"}],
        }
    ]
    # c shares at OVERLAPS, b's PROSPECT too: no details
    c_on_a1 = next(p for p in by_crm["a1"]["partners"] if p["org"]["name"] == "Org c")
    assert c_on_a1["details"] == []
    b_on_a2 = next(p for p in by_crm["a2"]["partners"] if p["org"]["name"] == "Org b")
    assert (b_on_a2["level"], b_on_a2["details"]) == ("OVERLAPS", [])
    assert "secret" not in str(by_crm)


def test_min_score_filters(world: World) -> None:
    setup(world)
    assert ranked(world, minScore=4) == [("a1", 6)]
    assert ranked(world, minScore=7) == []


def test_pages_follow_the_ranking(world: World) -> None:
    # given
    setup(world)
    everything = ranked(world)
    # when
    first = cosell(world, first=1)
    second = cosell(world, first=1, after=first["pageInfo"]["endCursor"])
    third = cosell(world, first=5, after=second["pageInfo"]["endCursor"])
    # then
    pages = [nodes(page) for page in (first, second, third)]
    assert [(n["account"]["crmId"], n["score"]) for page in pages for n in page] == everything
    assert [len(p) for p in pages] == [1, 1, 1]
    assert first["pageInfo"]["hasNextPage"]
    assert second["pageInfo"]["hasNextPage"]
    assert not third["pageInfo"]["hasNextPage"]


def test_a_cursor_of_another_list_is_bad_input(world: World) -> None:
    setup(world)
    other = world.gql("a", "{ partnerships(first: 1) { pageInfo { endCursor } } }")
    cursor = other["data"]["partnerships"]["pageInfo"]["endCursor"]
    assert error_code(world.gql("a", COSELL, after=cursor)) == "BAD_USER_INPUT"
    assert error_code(world.gql("a", COSELL, after="garbage")) == "BAD_USER_INPUT"


def test_ended_partnership_disappears_at_once(world: World) -> None:
    # given
    pids = setup(world)
    # when
    world.gql("a", END, p=pids["b"])
    # then: only c's presence is left
    found = nodes(cosell(world))
    assert [(n["account"]["crmId"], n["score"]) for n in found] == [("a1", 3), ("a2", 2)]
    assert {p["org"]["name"] for n in found for p in n["partners"]} == {"Org c"}


def test_accounts_are_audited(world: World) -> None:
    setup(world)
    cosell(world)
    log = world.gql("a", AUDIT)["data"]["auditLog"]["edges"]
    assert [e["node"]["action"] for e in log] == ["cosell.accounts"]


def test_both_fields_need_authentication(world: World) -> None:
    setup(world)
    assert error_code(world.gql(None, COSELL)) == "UNAUTHENTICATED"
    some_account = account_id(world, "a", "a1")
    assert error_code(world.gql(None, RECOMMEND, account=some_account)) == "UNAUTHENTICATED"


# --- recommendPartnersForAccount --------------------------------------------------------------


def test_recommendations_rank_partners_with_reasons(world: World) -> None:
    # given: a1 is my customer; b (reseller, EMEA) and c (ISV, APAC) have it as a customer;
    # f (vendor, EMEA) has it nowhere it shares at OVERLAPS
    setup(world)
    # when
    found = nodes(recommend(world, "a1"))
    # then: d (no partner) and e (invited) are not candidates
    assert [(n["partner"]["name"], n["score"]) for n in found] == [
        ("Org b", 5),
        ("Org c", 4),
        ("Org f", 1),
    ]
    assert found[0]["reasons"] == [
        "Has this account in its CUSTOMER population (+3)",
        "Partner type RESELLER suits a CUSTOMER account (+1)",
        "Works in your region, EMEA (+1)",
    ]
    assert "Partner type ISV suits a CUSTOMER account (+1)" in found[1]["reasons"]


REGISTER = """mutation($vendor: ID!, $domain: String!) { registerDeal(input: {vendorId: $vendor,
    role: SI, amount: "100", currency: "USD", expectedClose: "2027-06-30",
    domains: [$domain]}) { registration { id } errors { code } } }"""
REVIEW = """mutation($id: ID!) { reviewDealRegistration(input: {id: $id, decision: APPROVE,
    reason: "ok"}) { errors { code } } }"""


def test_recommendations_weigh_deals_won_together_and_current_load(world: World) -> None:
    # given: b holds two live registrations with a; c won one with a
    setup(world)
    vendor = gid("Org", world.orgs["a"])
    for domain in ("co1.com", "co2.com"):
        made = world.gql("b", REGISTER, vendor=vendor, domain=domain)["data"]["registerDeal"]
        assert made["errors"] == []
    won = world.gql("c", REGISTER, vendor=vendor, domain="co6.com")["data"]["registerDeal"]
    world.gql("a", REVIEW, id=won["registration"]["id"])

    async def close_won(stores: Stores) -> None:
        [opportunity] = await stores.graph.upsert_opportunities(
            world.orgs["a"],
            [
                OpportunityUpsert(
                    crm_id="o6",
                    new_id=new_id(),
                    account_crm_id="a6",
                    name="Co 6",
                    amount=Decimal("100"),
                    currency="USD",
                    stage="Won",
                    status=OpportunityStatus.OPEN,
                    created_at=utcnow(),
                )
            ],
            at=utcnow(),
        )
        reg_id = from_base64(won["registration"]["id"])[1]
        current = (await stores.graph.get_deals(world.orgs["a"], [reg_id]))[reg_id]
        linked = replace(current, opportunity_id=opportunity.opportunity_id)
        note = DealTransition(reg_id, utcnow(), current.status, current.status, None, None)
        assert await stores.graph.update_deal(current, linked, note)
        assert opportunity.opportunity_id is not None
        await stores.graph.close_opportunity(
            world.orgs["a"],
            opportunity.opportunity_id,
            status=OpportunityStatus.WON,
            closed_at=utcnow(),
            at=utcnow(),
        )
        await lifecycle.settle(stores.graph, opportunity_ids=None, now=utcnow())

    world.run(close_won)
    # when
    found = {n["partner"]["name"]: n for n in nodes(recommend(world, "a1"))}
    # then
    assert "Has 2 open deal registration(s) (-2)" in found["Org b"]["reasons"]
    assert found["Org b"]["score"] == 3  # 5 - 2
    assert "Won 1 deal(s) with you (+1)" in found["Org c"]["reasons"]
    assert found["Org c"]["score"] == 5  # 4 + 1


def test_recommendations_never_reveal_counts_only_presence(world: World) -> None:
    # given: a3 is in f's CUSTOMER (COUNTS) and b's CHURNED (COUNTS)
    setup(world)
    # when
    found = nodes(recommend(world, "a3"))
    # then: the same scores as for a7, a prospect no partner has
    scores = {n["partner"]["name"]: n["score"] for n in found}
    assert scores == {n["partner"]["name"]: n["score"] for n in nodes(recommend(world, "a7"))}
    assert not any("population" in r for n in found for r in n["reasons"])


def test_recommendations_forget_an_ended_partner_at_once(world: World) -> None:
    pids = setup(world)
    world.gql("a", END, p=pids["b"])
    names = [n["partner"]["name"] for n in nodes(recommend(world, "a1"))]
    assert names == ["Org c", "Org f"]


def test_another_orgs_account_is_not_found(world: World) -> None:
    # given: d's account for the same company, and an id that never existed
    setup(world)
    theirs = account_id(world, "d", "d5")
    missing = gid("Account", "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    # then: both alike
    assert error_code(world.gql("a", RECOMMEND, account=theirs)) == "NOT_FOUND"
    assert error_code(world.gql("a", RECOMMEND, account=missing)) == "NOT_FOUND"
    assert error_code(world.gql("a", RECOMMEND, account=gid("Org", world.orgs["d"]))) == (
        "BAD_USER_INPUT"
    )


def test_recommendations_page_and_are_audited(world: World) -> None:
    setup(world)
    first = recommend(world, "a1", first=2)
    rest = recommend(world, "a1", first=2, after=first["pageInfo"]["endCursor"])
    assert [n["partner"]["name"] for n in nodes(first)] == ["Org b", "Org c"]
    assert first["pageInfo"]["hasNextPage"]
    assert [n["partner"]["name"] for n in nodes(rest)] == ["Org f"]
    assert not rest["pageInfo"]["hasNextPage"]
    log = world.gql("a", AUDIT)["data"]["auditLog"]["edges"]
    assert [e["node"]["action"] for e in log] == ["cosell.recommend"]
