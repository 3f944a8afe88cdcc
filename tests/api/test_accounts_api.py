"""Accounts through GraphQL: per-row results, scoping, limits."""

from __future__ import annotations

from pathlib import Path

from graph.identity import Role
from tests.api.conftest import World, error_code

UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
  created updated rejected errors { code field message }
  results { index crmId status code field message skippedKeys
            account { id crmId name populations keys { kind version } fields { name value } } }
} }"""
DELETE = """mutation($ids: [String!]!) { deleteAccounts(input: {crmIds: $ids}) {
  deletedCrmIds errors { code } } }"""
LIST = """query($population: String, $first: Int, $after: String) {
  accounts(population: $population, first: $first, after: $after) {
    totalCount edges { node { crmId } } pageInfo { hasNextPage endCursor } } }"""


def row(crm_id: str, **extra: object) -> dict[str, object]:
    return {"crmId": crm_id, "name": f"Account {crm_id}", "domains": [f"{crm_id}.com"], **extra}


def test_upsert_reports_every_row_and_one_bad_row_fails_alone(world: World) -> None:
    world.add_org("a")
    world.add_user("anna", "a")
    rows = [
        row(
            "c1",
            populations=["CUSTOMER"],
            duns=["80-473-5132"],
            fields=[{"name": "tier", "value": "1"}],
        ),
        row("c2", domains=["gmail.com"]),  # free mail: no usable key
        row("c3", domains=["https://WWW.Example-Three.co.uk/path?q=1", "gmail.com"]),
        {"crmId": "", "name": "x", "domains": ["x.com"]},
        row("c1"),  # repeated in the batch
    ]
    payload = world.gql("anna", UPSERT, rows=rows)["data"]["upsertAccounts"]
    assert (payload["created"], payload["updated"], payload["rejected"]) == (2, 0, 3)
    statuses = [(r["crmId"], r["status"], r["code"]) for r in payload["results"]]
    assert statuses == [
        ("c1", "CREATED", None),
        ("c2", "REJECTED", "NO_USABLE_KEY"),
        ("c3", "CREATED", None),
        ("", "REJECTED", "INVALID"),
        ("c1", "REJECTED", "DUPLICATE"),
    ]
    first = payload["results"][0]["account"]
    assert first["populations"] == ["CUSTOMER"]
    assert sorted(k["kind"] for k in first["keys"]) == ["DOMAIN", "DUNS"]
    assert first["fields"] == [{"name": "tier", "value": "1"}]
    assert payload["results"][2]["skippedKeys"]  # gmail.com was left out, with a reason
    again = world.gql("anna", UPSERT, rows=[row("c1")])["data"]["upsertAccounts"]
    assert again["updated"] == 1
    assert again["results"][0]["status"] == "UPDATED"


def test_list_filter_page_and_delete(world: World) -> None:
    world.add_org("a")
    world.add_user("anna", "a")
    rows = [row(f"c{i}", populations=["PROSPECT" if i % 2 else "CUSTOMER"]) for i in range(7)]
    world.gql("anna", UPSERT, rows=rows)
    listed = world.gql("anna", LIST, population="PROSPECT")["data"]["accounts"]
    assert listed["totalCount"] == 3
    assert sorted(e["node"]["crmId"] for e in listed["edges"]) == ["c1", "c3", "c5"]
    page = world.gql("anna", LIST, first=5)["data"]["accounts"]
    assert len(page["edges"]) == 5
    assert page["pageInfo"]["hasNextPage"]
    deleted = world.gql("anna", DELETE, ids=["c1", "c2", "nope"])["data"]["deleteAccounts"]
    assert sorted(deleted["deletedCrmIds"]) == ["c1", "c2"]
    assert world.gql("anna", LIST)["data"]["accounts"]["totalCount"] == 5


def test_accounts_are_invisible_to_other_orgs(world: World) -> None:
    world.add_org("a")
    world.add_org("b")
    world.add_user("anna", "a")
    world.add_user("ben", "b")
    created = world.gql("anna", UPSERT, rows=[row("c1")])["data"]["upsertAccounts"]
    account_id = created["results"][0]["account"]["id"]
    assert world.gql("ben", "query($id: ID!) { node(id: $id) { id } }", id=account_id)["data"] == {
        "node": None
    }
    assert world.gql("ben", LIST)["data"]["accounts"]["totalCount"] == 0
    assert world.gql("ben", DELETE, ids=["c1"])["data"]["deleteAccounts"]["deletedCrmIds"] == []
    assert world.gql("anna", LIST)["data"]["accounts"]["totalCount"] == 1


def test_only_managers_load_accounts(world: World) -> None:
    world.add_org("a")
    world.add_user("rep", "a", Role.SALES_REP)
    assert error_code(world.gql("rep", UPSERT, rows=[row("c1")])) == "FORBIDDEN"
    assert world.gql("rep", LIST)["data"]["accounts"]["totalCount"] == 0


def test_too_many_rows_is_a_typed_error(world: World) -> None:
    world.add_org("a")
    world.add_user("anna", "a")
    rows = [{"crmId": str(i), "name": "n"} for i in range(5_001)]
    payload = world.gql("anna", UPSERT, rows=rows)["data"]["upsertAccounts"]
    assert payload["errors"][0]["code"] == "BAD_USER_INPUT"
    assert payload["results"] == []


def test_raw_keys_never_reach_the_database_file(world: World, sqlite_url: str) -> None:
    world.add_org("a")
    world.add_user("anna", "a")
    raw = "very-secret-prospect.com"
    world.gql("anna", UPSERT, rows=[row("c1", domains=[f"https://{raw}/"], duns=["804735132"])])
    path = Path(sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    blobs = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert raw.encode() not in blobs
    assert b"804735132" not in blobs
