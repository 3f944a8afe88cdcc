"""CSV import: presets, rejects with line numbers, resume after interruption, the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from graph.errors import BadInput
from graph.factory import open_store
from graph.model import PartnershipStatus, SharingLevel, SharingRule
from graph.port import ResettableStore
from graph.webhooks import WebhookEventType
from privacy.keyring import Keyring
from resolvers.importing.csv_import import import_csv
from resolvers.importing.mapping import PRESETS, with_overrides
from tests.api.startup_helpers import run_tandem
from tests.factories import at, make_org, make_partnership

KEYRING = Keyring.from_secrets({1: b"k" * 32})
SALESFORCE_HEADER = ["Account ID", "Account Name", "Website", "Type", "Account Owner", "Industry"]


def salesforce_file(path: Path, rows: int, *, bad_every: int = 0) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SALESFORCE_HEADER)
        for i in range(rows):
            website = "gmail.com" if bad_every and i % bad_every == 0 else f"https://co{i}.com"
            writer.writerow(
                [
                    f"001{i:06d}",
                    f"Company {i}, Inc.",
                    website,
                    "Customer - Direct",
                    "rep@x.com",
                    "Retail",
                ]
            )
    return path


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> ResettableStore:
    store = open_store(sqlite_url, allow_reset=True)
    await store.apply_schema()
    return store


async def test_salesforce_preset_imports_with_rejects_by_line(
    sqlite_store: ResettableStore, tmp_path: Path
) -> None:
    org = make_org()
    await sqlite_store.create_org(org)
    path = salesforce_file(tmp_path / "sf.csv", 120, bad_every=25)
    rejects = tmp_path / "rejects.csv"
    summary = await import_csv(
        sqlite_store,
        KEYRING,
        org_id=org.id,
        path=path,
        columns=PRESETS["salesforce"],
        rejects_path=rejects,
        checkpoint_path=tmp_path / "cp",
        now=lambda: at(1),
        batch_size=50,
    )
    assert (summary.rows, summary.created, summary.rejected) == (120, 115, 5)
    lines = list(csv.reader(rejects.read_text().splitlines()))
    assert lines[0] == ["line", "crm_id", "code", "field", "reason"]
    assert [int(r[0]) for r in lines[1:]] == [2, 27, 52, 77, 102]  # file lines, header is 1
    assert {r[2] for r in lines[1:]} == {"NO_USABLE_KEY"}
    accounts = (await sqlite_store.list_accounts(org.id, first=1)).items
    assert accounts[0].populations == ("CUSTOMER",)
    assert accounts[0].fields == (("Industry", "Retail"),)
    await sqlite_store.close()


async def test_each_batch_announces_overlap_to_partners_in_its_transaction(
    sqlite_store: ResettableStore, tmp_path: Path
) -> None:
    writer, partner, hidden = make_org("W"), make_org("P"), make_org("H")
    for org in (writer, partner, hidden):
        await sqlite_store.create_org(org)
    for other, level in ((partner, SharingLevel.COUNTS), (hidden, SharingLevel.HIDDEN)):
        p = await sqlite_store.insert_partnership(make_partnership(writer, other))
        await sqlite_store.transition_partnership(
            other.id,
            p.id,
            expected=[PartnershipStatus.INVITED],
            new_status=PartnershipStatus.ACTIVE,
            at=at(0),
        )
        await sqlite_store.put_sharing_rule(
            SharingRule(writer.id, other.id, "CUSTOMER", level, (), at(0))
        )
    path = salesforce_file(tmp_path / "sf.csv", 5, bad_every=0)
    summary = await import_csv(
        sqlite_store,
        KEYRING,
        org_id=writer.id,
        path=path,
        columns=PRESETS["salesforce"],
        rejects_path=tmp_path / "rejects.csv",
        checkpoint_path=tmp_path / "cp",
        now=lambda: at(1),
        batch_size=2,
    )
    assert summary.created == 5
    events = (await sqlite_store.list_outbox(partner.id, first=10)).items
    assert [e.event_type for e in events] == [WebhookEventType.OVERLAP] * 3  # one per batch
    assert {e.payload["partner_org_id"] for e in events} == {writer.id}
    assert {tuple(e.payload["populations"] or ()) for e in events} == {("CUSTOMER",)}
    assert (await sqlite_store.list_outbox(hidden.id, first=10)).items == []
    assert (await sqlite_store.list_outbox(writer.id, first=10)).items == []
    await sqlite_store.close()


async def test_interrupted_import_resumes_without_duplicates(
    sqlite_store: ResettableStore, tmp_path: Path
) -> None:
    org = make_org()
    await sqlite_store.create_org(org)
    path = salesforce_file(tmp_path / "sf.csv", 300)
    kwargs = {
        "org_id": org.id,
        "path": path,
        "columns": PRESETS["salesforce"],
        "rejects_path": tmp_path / "rejects.csv",
        "checkpoint_path": tmp_path / "cp",
        "now": lambda: at(1),
        "batch_size": 100,
    }

    def interrupt(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await import_csv(sqlite_store, KEYRING, on_progress=interrupt, **kwargs)  # type: ignore[arg-type]
    assert (tmp_path / "cp").exists()
    assert await sqlite_store.count_accounts(org.id) == 100

    resumed = await import_csv(sqlite_store, KEYRING, **kwargs)  # type: ignore[arg-type]
    assert resumed.skipped_as_done == 100
    assert resumed.created == 200
    assert not (tmp_path / "cp").exists()
    assert await sqlite_store.count_accounts(org.id) == 300

    again = await import_csv(sqlite_store, KEYRING, **kwargs)  # type: ignore[arg-type]
    assert (again.created, again.updated) == (0, 300)
    assert await sqlite_store.count_accounts(org.id) == 300
    await sqlite_store.close()


def test_map_overrides_and_missing_columns() -> None:
    columns = with_overrides(PRESETS["hubspot"], ["crm_id=Company Key", "domains=Site,Alt Site"])
    assert columns.crm_id == ("Company Key",)
    assert columns.domains == ("Site", "Alt Site")
    with pytest.raises(BadInput):
        with_overrides(PRESETS["hubspot"], ["nonsense=X"])


def test_cli_import_end_to_end(tmp_path: Path) -> None:
    created = run_tandem(tmp_path, "org", "create", "Importer", "--type", "VENDOR")
    assert created.returncode == 0, created.stderr
    org_id = created.stdout.strip()
    path = salesforce_file(tmp_path / "export.csv", 60, bad_every=30)
    result = run_tandem(
        tmp_path,
        "import",
        "accounts",
        str(path),
        "--org",
        org_id,
        "--format",
        "salesforce",
        "--batch-size",
        "25",
    )
    assert result.returncode == 0, result.stderr
    assert "60 rows: 58 created, 0 updated, 2 rejected" in result.stdout
    assert (tmp_path / "export.csv.rejects.csv").exists()
    assert "rows/s" in result.stderr
    missing = run_tandem(tmp_path, "import", "accounts", str(path), "--org", org_id)
    assert missing.returncode != 0
    assert "no column for crm_id" in missing.stderr
