"""Opportunities end to end on the SQLite store: the CSV import (presets, rejects with
line numbers, closing settles registrations, resume), the services, and the CLI."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from graph.deals import DealRegistration, DealStatus, OpportunityStatus
from graph.errors import Conflict
from graph.factory import open_store
from graph.identity import Role, TokenKind, TokenScope
from graph.model import KeyState, Org
from graph.port import ResettableStore
from graph.sql.identity import SqlIdentityStore
from resolvers.actor import Actor
from resolvers.deals.opportunities import OpportunityInput, close_opportunity, upsert_opportunities
from resolvers.importing.csv_import import (
    Checkpoint,
    ImportSummary,
    _save_checkpoint,
    fingerprint,
)
from resolvers.importing.opportunities_import import import_opportunities_csv
from resolvers.importing.opportunity_mapping import PRESETS
from tests.api.startup_helpers import run_tandem
from tests.factories import at, make_org, make_registration, make_upsert

SF_HEADER = [
    "Id",
    "AccountId",
    "Name",
    "Amount",
    "CurrencyIsoCode",
    "StageName",
    "IsClosed",
    "IsWon",
    "CreatedDate",
    "CloseDate",
]


def salesforce_file(path: Path, rows: int, *, won: frozenset[int] = frozenset()) -> Path:
    """Opportunity i is on account 001{i % 5}; every 10th has an unknown account and
    every 7th a bad amount."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SF_HEADER)
        for i in range(rows):
            account = "001X" if i % 10 == 9 else f"001{i % 5}"
            amount = "12.5.0" if i % 7 == 6 else f"{1 + i},{i:03d}.10"
            closed = i in won
            writer.writerow(
                [
                    f"006{i:05d}",
                    account,
                    f"Deal {i}",
                    amount,
                    "EUR",
                    "Closed Won" if closed else "Qualification",
                    "true" if closed else "false",
                    "true" if closed else "false",
                    "2026-01-10T09:30:00.000+0000",
                    "2026-03-31",
                ]
            )
    return path


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[ResettableStore]:
    store = open_store(sqlite_url, allow_reset=True)
    await store.apply_schema()
    yield store
    await store.close()


async def vendor(store: ResettableStore) -> Org:
    org = make_org("Vendor")
    await store.create_org(org)
    await store.upsert_accounts(
        org.id,
        [make_upsert(f"001{i}", f"co{i}.example") for i in range(5)],
        expected_state=KeyState(),
        at=at(0),
    )
    return org


async def run_import(
    store: ResettableStore, org: Org, path: Path, tmp_path: Path, **kwargs: object
) -> tuple[ImportSummary, list[list[str]]]:
    rejects = tmp_path / "rejects.csv"
    summary = await import_opportunities_csv(
        store,
        org_id=org.id,
        path=path,
        columns=PRESETS["salesforce"],
        rejects_path=rejects,
        checkpoint_path=tmp_path / "cp",
        now=lambda: at(10),
        **kwargs,  # type: ignore[arg-type]
    )
    return summary, list(csv.reader(rejects.read_text().splitlines()))


async def test_salesforce_export_imports_with_rejects_by_line(
    sqlite_store: ResettableStore, tmp_path: Path
) -> None:
    org = await vendor(sqlite_store)
    path = salesforce_file(tmp_path / "opps.csv", 30)
    summary, rejects = await run_import(sqlite_store, org, path, tmp_path, batch_size=8)
    assert str(summary) == "30 rows: 23 created, 0 updated, 7 rejected"
    assert rejects[0] == ["line", "crm_id", "code", "field", "reason"]
    assert [(int(r[0]), r[2], r[3]) for r in rejects[1:]] == [
        (8, "INVALID", "amount"),
        (11, "UNKNOWN_ACCOUNT", "accountCrmId"),
        (15, "INVALID", "amount"),
        (21, "UNKNOWN_ACCOUNT", "accountCrmId"),
        (22, "INVALID", "amount"),
        (29, "INVALID", "amount"),
        (31, "UNKNOWN_ACCOUNT", "accountCrmId"),
    ]
    page = await sqlite_store.list_opportunities(org.id, first=100)
    assert len(page.items) == 23
    first = next(o for o in page.items if o.crm_id == "00600000")
    assert (first.amount, first.currency, first.status, first.closed_at) == (
        Decimal("1000.10"),
        "EUR",
        OpportunityStatus.OPEN,
        None,
    )
    assert not (tmp_path / "cp").exists()  # finished: no checkpoint left


async def test_a_reimport_that_closes_deals_settles_their_registrations(
    sqlite_store: ResettableStore, tmp_path: Path
) -> None:
    org = await vendor(sqlite_store)
    partner = make_org("Partner")
    await sqlite_store.create_org(partner)
    await run_import(sqlite_store, org, salesforce_file(tmp_path / "v1.csv", 5), tmp_path)
    opps = {o.crm_id: o for o in (await sqlite_store.list_opportunities(org.id, first=10)).items}
    target = opps["00600002"]
    live = make_registration(
        org.id,
        partner.id,
        target.account_id,
        opportunity_id=target.id,
        status=DealStatus.APPROVED,
        registered_at=at(1),
    )
    await sqlite_store.register_deal(live)
    heard: list[DealRegistration] = []

    async def on_settled(moved: list[DealRegistration]) -> None:
        heard.extend(moved)

    path = salesforce_file(tmp_path / "v2.csv", 5, won=frozenset({2}))
    summary, _ = await run_import(sqlite_store, org, path, tmp_path, on_settled=on_settled)
    assert str(summary) == "5 rows: 0 created, 5 updated, 0 rejected; 1 deal registrations settled"
    assert [(r.id, r.status) for r in heard] == [(live.id, DealStatus.WON)]
    closed = (await sqlite_store.get_opportunities(org.id, [target.id]))[target.id]
    assert (closed.status, closed.closed_at) == (
        OpportunityStatus.WON,
        datetime(2026, 3, 31, tzinfo=UTC),
    )
    # the same file again: nothing left to settle
    summary, _ = await run_import(sqlite_store, org, path, tmp_path, on_settled=on_settled)
    assert summary.settled == 0
    assert len(heard) == 1


async def test_an_accounts_checkpoint_is_never_applied_to_opportunities(
    sqlite_store: ResettableStore, tmp_path: Path
) -> None:
    org = await vendor(sqlite_store)
    path = salesforce_file(tmp_path / "opps.csv", 10)
    _save_checkpoint(tmp_path / "cp", Checkpoint(fingerprint(path), org.id, 10))  # accounts
    summary, _ = await run_import(sqlite_store, org, path, tmp_path)
    assert summary.skipped_as_done == 0
    _save_checkpoint(tmp_path / "cp", Checkpoint(fingerprint(path), org.id, 5, "opportunities"))
    summary, _ = await run_import(sqlite_store, org, path, tmp_path, batch_size=5)
    assert summary.skipped_as_done == 5


async def test_services_on_the_store(sqlite_store: ResettableStore, tmp_path: Path) -> None:
    identity = SqlIdentityStore(f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite3'}")
    await identity.apply_schema()
    try:
        org = await vendor(sqlite_store)
        partner = make_org("Partner")
        await sqlite_store.create_org(partner)
        admin = Actor("u1", org.id, Role.ADMIN, "t1", TokenKind.SESSION, TokenScope.READ_WRITE)
        row = OpportunityInput(
            crm_id="006A",
            account_crm_id="0010",
            name="Renewal",
            amount=Decimal("0.10"),
            currency="chf",
            stage="Proposal",
            status="OPEN",
            created_at=at(1),
        )
        outcome = await upsert_opportunities(sqlite_store, identity, admin, [row], now=at(2))
        [result] = outcome.results
        assert result.opportunity_id is not None
        stored = (await sqlite_store.get_opportunities(org.id, [result.opportunity_id]))[
            result.opportunity_id
        ]
        assert (stored.amount, str(stored.amount), stored.currency) == (
            Decimal("0.10"),
            "0.10",
            "CHF",
        )
        pending = make_registration(
            org.id,
            partner.id,
            stored.account_id,
            opportunity_id=stored.id,
            registered_at=at(3),
        )
        await sqlite_store.register_deal(pending)
        closed, settled = await close_opportunity(
            sqlite_store, identity, admin, stored.id, OpportunityStatus.LOST, at(4), now=at(5)
        )
        assert (closed.status, closed.closed_at) == (OpportunityStatus.LOST, at(4))
        assert [(r.id, r.status) for r in settled] == [(pending.id, DealStatus.REJECTED)]
        with pytest.raises(Conflict):
            await close_opportunity(
                sqlite_store, identity, admin, stored.id, OpportunityStatus.WON, None, now=at(6)
            )
        log = await identity.audit_log(org.id, first=10, after=None)
        assert sorted(e.action for e in log.items) == [
            "opportunities.close",
            "opportunities.upsert",
        ]
    finally:
        await identity.close()


def test_cli_import_opportunities_end_to_end(tmp_path: Path) -> None:
    created = run_tandem(tmp_path, "org", "create", "Importer", "--type", "VENDOR")
    assert created.returncode == 0, created.stderr
    org_id = created.stdout.strip()
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "crm_id,name,domain\n" + "".join(f"001{i},Co {i},co{i}-widgets.com\n" for i in range(5))
    )
    loaded = run_tandem(tmp_path, "import", "accounts", str(accounts), "--org", org_id)
    assert loaded.returncode == 0, loaded.stderr
    path = salesforce_file(tmp_path / "opps.csv", 20)
    with path.open() as handle:  # a single-currency org: no CurrencyIsoCode column
        table = [row[:4] + row[5:] for row in csv.reader(handle)]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(table)
    missing = run_tandem(
        tmp_path, "import", "opportunities", str(path), "--org", org_id, "--mapping", "salesforce"
    )
    assert missing.returncode != 0
    assert "--currency" in missing.stderr
    result = run_tandem(
        tmp_path,
        "import",
        "opportunities",
        str(path),
        "--org",
        org_id,
        "--mapping",
        "salesforce",
        "--currency",
        "usd",
        "--batch-size",
        "6",
    )
    assert result.returncode == 0, result.stderr
    assert "20 rows: 16 created, 0 updated, 4 rejected" in result.stdout
    assert (tmp_path / "opps.csv.rejects.csv").exists()
    bad = run_tandem(
        tmp_path, "import", "opportunities", str(path), "--org", org_id, "--currency", "EURO"
    )
    assert bad.returncode != 0
    assert "--currency" in bad.stderr
