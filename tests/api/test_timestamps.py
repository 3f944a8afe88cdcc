"""Every DateTime input follows one rule: no offset means UTC, a bare date is 00:00 UTC
that day; text that is not a time is BAD_USER_INPUT, a time outside the years 1900..2999
is rejected against its field (in recordTouches, against its row only).

The process runs in a time zone far from UTC here, so reading a naive time as local time
anywhere would shift it by 14 hours and fail these tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from graph.model import OrgType
from resolvers.clock import utcnow
from tests.api.conftest import World, error_code, gid

UPSERT_ACCOUNTS = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows})
    { results { account { id } } } }"""
UPSERT_OPPORTUNITIES = """mutation($rows: [OpportunityRowInput!]!) {
  upsertOpportunities(input: {rows: $rows}) {
    results { opportunityId status code field message } } }"""
OPPORTUNITY = """query($id: ID!) { node(id: $id) { ... on Opportunity { createdAt closedAt } } }"""
CLOSE = """mutation($id: ID!, $at: DateTime) {
  closeOpportunity(input: {id: $id, status: WON, closedAt: $at}) {
    opportunity { closedAt } errors { code field } } }"""
RECORD = """mutation($rows: [TouchRowInput!]!) { recordTouches(input: {touches: $rows}) {
    results { externalId status code field message } errors { code } } }"""
TOUCHES = """{ touches(side: VENDOR) { edges { node { externalId at } } } }"""
REPORT = """query($from: DateTime!, $to: DateTime!) {
  partnerAttribution(from: $from, to: $to) { closedDeals } }"""
CREATE_TOKEN = """mutation($expiresAt: DateTime) {
  createApiToken(input: {name: "t", scope: READ, expiresAt: $expiresAt}) {
    apiToken { expiresAt } errors { code field } } }"""

# Not a time at all, or no time a UTC datetime can hold: a coercion error.
GARBAGE = [
    "garbage",
    "",
    "2025-13-01",
    "2025-03-21T25:00:00",
    "21/03/2025",
    "0000-01-01",
    "10000-01-01",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "2025-03-21T12:00:00+24:00",
    "\N{FULLWIDTH DIGIT TWO}025-03-21",  # not ASCII digits
    "2025-03-21" + "0" * 1000,
]
# Real times outside the years every store and window computation takes.
OUT_OF_RANGE = ["1899-12-31T23:59:59Z", "3000-01-01"]


@pytest.fixture(autouse=True)
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def vendor(world: World) -> dict[str, str]:
    """Vendor v with partner p and one account; returns the global ids."""
    world.add_org("v", OrgType.VENDOR)
    world.add_org("p", OrgType.SI)
    world.add_user("v", "v")
    world.add_user("p", "p")
    world.partner("v", "p", "p")
    account = world.gql(
        "v", UPSERT_ACCOUNTS, rows=[{"crmId": "a1", "name": "Acme", "domains": ["acme.com"]}]
    )["data"]["upsertAccounts"]["results"][0]["account"]["id"]
    return {"account": account, "partner": gid("Org", world.orgs["p"])}


def touch(vendor: dict[str, str], external_id: str, at: str) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "kind": "EVENT",
        "at": at,
        "partnerId": vendor["partner"],
        "accountId": vendor["account"],
    }


def stored_touches(world: World) -> dict[str, str]:
    edges = world.gql("v", TOUCHES)["data"]["touches"]["edges"]
    return {e["node"]["externalId"]: e["node"]["at"] for e in edges}


def opportunity(crm_id: str, created: str, closed: str | None = None) -> dict[str, Any]:
    return {
        "crmId": crm_id,
        "accountCrmId": "a1",
        "name": crm_id,
        "amount": "1000",
        "currency": "USD",
        "stage": "Won" if closed else "Proposal",
        "status": "WON" if closed else "OPEN",
        "createdAt": created,
        "closedAt": closed,
    }


def upsert(world: World, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    body = world.gql("v", UPSERT_OPPORTUNITIES, rows=list(rows))
    assert "errors" not in body, body
    results: list[dict[str, Any]] = body["data"]["upsertOpportunities"]["results"]
    return results


def times_of(world: World, opportunity_id: str) -> tuple[str, str | None]:
    node = world.gql("v", OPPORTUNITY, id=opportunity_id)["data"]["node"]
    return node["createdAt"], node["closedAt"]


def assert_bad_input(body: dict[str, Any]) -> None:
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body.get("data") is None, body  # coercion fails before anything runs
    assert "Traceback" not in str(body)


# --- recordTouches ------------------------------------------------------------------------


def test_touch_times_without_offset_or_as_dates_are_utc(
    world: World, vendor: dict[str, str]
) -> None:
    body = world.gql(
        "v",
        RECORD,
        rows=[
            touch(vendor, "naive", "2025-03-21T12:00:00"),
            touch(vendor, "date", "2025-03-21"),
            touch(vendor, "offset", "2025-03-21T12:00:00+02:00"),
            touch(vendor, "space", " 2025-03-21 12:30 "),
        ],
    )
    assert [r["status"] for r in body["data"]["recordTouches"]["results"]] == ["RECORDED"] * 4
    assert stored_touches(world) == {
        "naive": "2025-03-21T12:00:00+00:00",
        "date": "2025-03-21T00:00:00+00:00",
        "offset": "2025-03-21T10:00:00+00:00",
        "space": "2025-03-21T12:30:00+00:00",
    }


def test_a_touch_outside_the_years_is_rejected_with_its_row_alone(
    world: World, vendor: dict[str, str]
) -> None:
    rows = [touch(vendor, "ok-1", "2025-03-21T12:00:00")]
    rows += [touch(vendor, f"far-{i}", at) for i, at in enumerate(OUT_OF_RANGE)]
    rows += [touch(vendor, "ok-2", "2025-03-22")]
    results = world.gql("v", RECORD, rows=rows)["data"]["recordTouches"]["results"]
    assert [(r["externalId"], r["status"], r["code"], r["field"]) for r in results] == [
        ("ok-1", "RECORDED", None, None),
        ("far-0", "REJECTED", "INVALID", "at"),
        ("far-1", "REJECTED", "INVALID", "at"),
        ("ok-2", "RECORDED", None, None),
    ]
    assert "1900" in results[1]["message"]
    assert sorted(stored_touches(world)) == ["ok-1", "ok-2"]


@pytest.mark.parametrize("at", GARBAGE)
def test_a_touch_time_that_is_not_a_time_is_bad_input(
    world: World, vendor: dict[str, str], at: str
) -> None:
    body = world.gql("v", RECORD, rows=[touch(vendor, "ok", "2025-03-21"), touch(vendor, "x", at)])
    assert_bad_input(body)
    assert "rows" in body["errors"][0]["message"]  # names the variable it could not read
    assert stored_touches(world) == {}


def test_touch_times_in_the_query_document_follow_the_same_rule(
    world: World, vendor: dict[str, str]
) -> None:
    def literal(external_id: str, at: str) -> str:
        return f"""mutation {{ recordTouches(input: {{touches: [{{externalId: "{external_id}",
            kind: EVENT, at: "{at}", partnerId: "{vendor["partner"]}",
            accountId: "{vendor["account"]}"}}]}}) {{ results {{ status }} }} }}"""

    body = world.gql("v", literal("naive", "2025-03-21T12:00:00"))
    assert body["data"]["recordTouches"]["results"] == [{"status": "RECORDED"}], body
    body = world.gql("v", literal("date", "2025-03-21"))
    assert body["data"]["recordTouches"]["results"] == [{"status": "RECORDED"}], body
    assert_bad_input(world.gql("v", literal("bad", "garbage")))
    assert_bad_input(world.gql("v", literal("bad", "0001-01-01T00:00:00+05:00")))
    assert stored_touches(world) == {
        "naive": "2025-03-21T12:00:00+00:00",
        "date": "2025-03-21T00:00:00+00:00",
    }


# --- partnerAttribution -------------------------------------------------------------------


@pytest.fixture
def closed_at_noon(world: World, vendor: dict[str, str]) -> None:
    """One deal of v's, WON at 2025-03-21T12:00:00Z."""
    results = upsert(world, opportunity("o1", "2025-03-01T09:00:00Z", "2025-03-21T12:00:00Z"))
    assert results[0]["status"] == "CREATED", results


@pytest.mark.parametrize(
    ("from_", "to", "closed"),
    [
        ("2025-03-21T12:00:00", "2025-03-22", 1),  # from is inclusive
        ("2025-03-21T12:00:01", "2025-03-22", 0),  # naive from is UTC, to the second
        ("2025-03-21", "2025-03-21T12:00:00", 0),  # to is exclusive
        ("2025-03-21", "2025-03-21T12:00:01", 1),
        ("2025-03-20", "2025-03-21", 0),  # a bare to is 00:00 UTC that day
        ("2025-03-21T13:00:00+01:00", "2025-03-21T12:00:01", 1),
    ],
)
def test_report_range_without_offset_or_as_dates_is_utc(
    world: World, closed_at_noon: None, from_: str, to: str, closed: int
) -> None:
    body = world.gql("v", REPORT, **{"from": from_, "to": to})
    assert body.get("errors") is None, body
    assert body["data"]["partnerAttribution"]["closedDeals"] == closed
    literal = f'{{ partnerAttribution(from: "{from_}", to: "{to}") {{ closedDeals }} }}'
    assert world.gql("v", literal)["data"]["partnerAttribution"]["closedDeals"] == closed


@pytest.mark.parametrize("bad", GARBAGE)
def test_report_range_that_is_not_a_time_is_bad_input(
    world: World, vendor: dict[str, str], bad: str
) -> None:
    assert_bad_input(world.gql("v", REPORT, **{"from": bad, "to": "2025-03-22"}))
    assert_bad_input(world.gql("v", REPORT, **{"from": "2025-03-21", "to": bad}))
    literal = '{ partnerAttribution(from: "%s", to: "2025-03-22") { closedDeals } }'
    assert_bad_input(world.gql("v", literal % bad))


@pytest.mark.parametrize(
    ("from_", "to"), [("1899-12-31T23:59:59", "1900-06-01"), ("2999-06-01", "3000-01-01")]
)
def test_report_range_outside_the_years_is_bad_input_on_its_field(
    world: World, vendor: dict[str, str], from_: str, to: str
) -> None:
    body = world.gql("v", REPORT, **{"from": from_, "to": to})
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == ("from" if from_ < "1900" else "to")


# --- createApiToken -----------------------------------------------------------------------


def test_token_expiry_without_offset_or_as_a_date_is_utc(world: World) -> None:
    world.add_org("a")
    world.add_user("alice", "a")
    year = utcnow().year + 1
    for given, stored in [
        (f"{year}-01-02T12:00:00", f"{year}-01-02T12:00:00+00:00"),
        (f"{year}-01-02", f"{year}-01-02T00:00:00+00:00"),
        (f"{year}-01-02T12:00:00-05:00", f"{year}-01-02T17:00:00+00:00"),
    ]:
        created = world.gql("alice", CREATE_TOKEN, expiresAt=given)["data"]["createApiToken"]
        assert created["errors"] == [], created
        assert created["apiToken"]["expiresAt"] == stored
    listed = world.gql("alice", "{ apiTokens { edges { node { expiresAt } } } }")
    assert sorted(e["node"]["expiresAt"] for e in listed["data"]["apiTokens"]["edges"]) == [
        f"{year}-01-02T00:00:00+00:00",
        f"{year}-01-02T12:00:00+00:00",
        f"{year}-01-02T17:00:00+00:00",
    ]


@pytest.mark.parametrize("bad", GARBAGE)
def test_token_expiry_that_is_not_a_time_is_bad_input(world: World, bad: str) -> None:
    world.add_org("a")
    world.add_user("alice", "a")
    assert_bad_input(world.gql("alice", CREATE_TOKEN, expiresAt=bad))
    literal = (
        'mutation { createApiToken(input: {name: "t", scope: READ, expiresAt: "%s"}) { token } }'
    )
    assert_bad_input(world.gql("alice", literal % bad))
    listed = world.gql("alice", "{ apiTokens { edges { cursor } } }")
    assert listed["data"]["apiTokens"]["edges"] == []


def test_token_expiry_outside_the_years_is_a_typed_error(world: World) -> None:
    world.add_org("a")
    world.add_user("alice", "a")
    created = world.gql("alice", CREATE_TOKEN, expiresAt="3000-01-01")["data"]["createApiToken"]
    assert created["apiToken"] is None
    assert created["errors"] == [{"code": "BAD_USER_INPUT", "field": "expiresAt"}]


# --- upsertOpportunities and closeOpportunity ---------------------------------------------


def test_opportunity_times_without_offset_or_as_dates_are_utc(
    world: World, vendor: dict[str, str]
) -> None:
    results = upsert(
        world,
        opportunity("naive", "2025-03-01T09:30:00", "2025-03-05T17:00:00"),
        opportunity("dates", "2025-03-01", "2025-03-05"),
        # A bare close date on the day of creation: closed at its creation, as in a file.
        opportunity("same-day", "2025-03-01T09:30:00", "2025-03-01"),
    )
    assert [r["status"] for r in results] == ["CREATED"] * 3, results
    ids = [r["opportunityId"] for r in results]
    assert [times_of(world, i) for i in ids] == [
        ("2025-03-01T09:30:00+00:00", "2025-03-05T17:00:00+00:00"),
        ("2025-03-01T00:00:00+00:00", "2025-03-05T00:00:00+00:00"),
        ("2025-03-01T09:30:00+00:00", "2025-03-01T09:30:00+00:00"),
    ]


def test_opportunity_rows_outside_the_years_are_rejected_alone(
    world: World, vendor: dict[str, str]
) -> None:
    results = upsert(
        world,
        opportunity("early", "1899-12-31T23:59:59"),
        opportunity("ok", "2025-03-01"),
        opportunity("late", "2025-03-01", "3000-01-01"),
    )
    assert [(r["status"], r["field"]) for r in results] == [
        ("REJECTED", "createdAt"),
        ("CREATED", None),
        ("REJECTED", "closedAt"),
    ]


@pytest.mark.parametrize("bad", GARBAGE)
def test_opportunity_times_that_are_not_times_are_bad_input(
    world: World, vendor: dict[str, str], bad: str
) -> None:
    assert_bad_input(world.gql("v", UPSERT_OPPORTUNITIES, rows=[opportunity("o", bad)]))
    body = world.gql("v", UPSERT_OPPORTUNITIES, rows=[opportunity("o", "2025-03-01", bad)])
    assert_bad_input(body)
    listed = world.gql("v", "{ opportunities { edges { cursor } } }")
    assert listed["data"]["opportunities"]["edges"] == []


def test_close_time_without_offset_or_as_a_date_is_utc(
    world: World, vendor: dict[str, str]
) -> None:
    ids = [
        r["opportunityId"]
        for r in upsert(
            world, opportunity("o1", "2025-03-01T09:30:00Z"), opportunity("o2", "2025-03-01")
        )
    ]
    closed = world.gql("v", CLOSE, id=ids[0], at="2025-03-21T12:00:00")["data"]
    assert closed["closeOpportunity"]["opportunity"] == {"closedAt": "2025-03-21T12:00:00+00:00"}
    closed = world.gql("v", CLOSE, id=ids[1], at="2025-03-21")["data"]
    assert closed["closeOpportunity"]["opportunity"] == {"closedAt": "2025-03-21T00:00:00+00:00"}


@pytest.mark.parametrize("bad", [*GARBAGE, *OUT_OF_RANGE])
def test_close_time_that_is_bad_is_bad_input_and_leaves_it_open(
    world: World, vendor: dict[str, str], bad: str
) -> None:
    [row] = upsert(world, opportunity("o1", "2025-03-01T09:30:00Z"))
    body = world.gql("v", CLOSE, id=row["opportunityId"], at=bad)
    if bad in OUT_OF_RANGE:
        assert body["data"]["closeOpportunity"]["errors"] == [
            {"code": "BAD_USER_INPUT", "field": "closedAt"}
        ]
    else:
        assert_bad_input(body)
    assert times_of(world, row["opportunityId"]) == ("2025-03-01T09:30:00+00:00", None)
