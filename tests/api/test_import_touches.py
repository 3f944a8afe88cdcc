"""`tandem import touches`: the rows recordTouches takes, from a CSV file."""

from __future__ import annotations

from pathlib import Path

from strawberry.relay import from_base64

from api.stores import Stores
from graph.model import OrgType
from resolvers.clock import utcnow
from resolvers.importing.touches_import import import_touches_csv
from tests.api.conftest import World
from tests.api.startup_helpers import run_tandem

UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
    results { account { id } } } }"""


def test_touch_import_records_rejects_and_is_idempotent(world: World, tmp_path: Path) -> None:
    world.add_org("v", OrgType.VENDOR)
    world.add_org("p", OrgType.SI)
    world.add_org("x", OrgType.SI)
    for label in ("v", "p", "x"):
        world.add_user(label, label)
    world.partner("v", "p", "p")
    account_gid = world.gql(
        "v", UPSERT, rows=[{"crmId": "a1", "name": "Acme", "domains": ["acme.com"]}]
    )["data"]["upsertAccounts"]["results"][0]["account"]["id"]
    account = from_base64(account_gid)[1]
    at = utcnow().replace(microsecond=0).isoformat()
    partner, stranger = world.orgs["p"], world.orgs["x"]
    source = tmp_path / "touches.csv"
    source.write_text(
        "External_ID,kind,at,weight,partner_id,account_id\n"
        f"t1,technical_win,{at},2,{partner},{account}\n"
        f"t2,EVENT,{at},,{partner},{account}\n"
        f"t3,EVENT,not-a-time,,{partner},{account}\n"
        f"t4,EVENT,{at},,{stranger},{account}\n"
        f"t5,GOSSIP,{at},,{partner},{account}\n"
    )
    rejects = tmp_path / "touches.csv.rejects.csv"

    async def run(stores: Stores) -> str:
        summary = await import_touches_csv(
            stores.graph,
            stores.identity,
            org_id=world.orgs["v"],
            path=source,
            rejects_path=rejects,
            now=utcnow,
        )
        return str(summary)

    assert world.run(run) == "5 rows: 2 recorded, 3 rejected"
    lines = rejects.read_text().splitlines()
    assert [line.split(",")[2:4] for line in lines[1:]] == [
        ["INVALID", "at"],
        ["INVALID", "kind"],
        ["NOT_FOUND", "partnerId"],
    ]
    assert world.run(run) == "5 rows: 2 recorded, 3 rejected"  # by external_id: replaced
    listed = world.gql("v", "{ touches(side: VENDOR) { edges { node { kind weight } } } }")
    kinds = sorted(
        (e["node"]["kind"], e["node"]["weight"]) for e in listed["data"]["touches"]["edges"]
    )
    assert kinds == [("EVENT", "1"), ("TECHNICAL_WIN", "2")]


def test_touch_import_cli_names_a_missing_column(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("external_id,kind\nt1,EVENT\n")
    store = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    result = run_tandem(
        tmp_path,
        "import",
        "touches",
        str(source),
        "--org",
        "01J00000000000000000000000",
        TANDEM_STORE_URL=store,
        TANDEM_SECRET="ab" * 32,
    )
    assert result.returncode != 0
    assert "missing columns at" in result.stderr
    assert "Traceback" not in result.stderr


def test_touch_import_reads_times_by_the_one_rule(world: World, tmp_path: Path) -> None:
    """No offset is UTC, a bare date 00:00 UTC; what is no time, or outside the years,
    is rejected on its line and the other rows are written."""
    world.add_org("v", OrgType.VENDOR)
    world.add_org("p", OrgType.SI)
    world.add_user("v", "v")
    world.add_user("p", "p")
    world.partner("v", "p", "p")
    account_gid = world.gql(
        "v", UPSERT, rows=[{"crmId": "a1", "name": "Acme", "domains": ["acme.com"]}]
    )["data"]["upsertAccounts"]["results"][0]["account"]["id"]
    tail = f"{world.orgs['p']},{from_base64(account_gid)[1]}"
    source = tmp_path / "touches.csv"
    source.write_text(
        "external_id,kind,at,partner_id,account_id\n"
        f"naive,EVENT,2025-03-21T12:00:00,{tail}\n"
        f"date,EVENT,2025-03-21,{tail}\n"
        f"offset,EVENT,2025-03-21T12:00:00-05:00,{tail}\n"
        f"early,EVENT,1899-12-31,{tail}\n"
        f"no-utc,EVENT,0001-01-01T00:00:00+05:00,{tail}\n"
        f"blank,EVENT,,{tail}\n"
    )
    rejects = tmp_path / "touches.csv.rejects.csv"

    async def run(stores: Stores) -> str:
        summary = await import_touches_csv(
            stores.graph,
            stores.identity,
            org_id=world.orgs["v"],
            path=source,
            rejects_path=rejects,
            now=utcnow,
        )
        return str(summary)

    assert world.run(run) == "6 rows: 3 recorded, 3 rejected"
    rejected = sorted(line.split(",")[:4] for line in rejects.read_text().splitlines()[1:])
    assert rejected == [
        ["5", "early", "INVALID", "at"],
        ["6", "no-utc", "INVALID", "at"],
        ["7", "blank", "INVALID", "at"],
    ]
    listed = world.gql("v", "{ touches(side: VENDOR) { edges { node { externalId at } } } }")
    stored = {e["node"]["externalId"]: e["node"]["at"] for e in listed["data"]["touches"]["edges"]}
    assert stored == {
        "naive": "2025-03-21T12:00:00+00:00",
        "date": "2025-03-21T00:00:00+00:00",
        "offset": "2025-03-21T17:00:00+00:00",
    }
