"""Raw keys never reach a store: ingest known keys, then scan everything stored."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from graph.model import KeyKind
from graph.port import ResettableStore
from privacy.keyring import Keyring
from resolvers.accounts import AccountInput, RowStatus, write_rows
from resolvers.importing.csv_import import import_csv
from resolvers.importing.mapping import PRESETS
from tests.factories import at, make_org

KEYRING = Keyring.from_secrets({1: b"k" * 32})
DOMAINS = ["secret-domain-alpha.com", "xn--bcher-laden-thb.de", "beta-corp.co.uk"]
DUNS = ["804735132", "150483782"]
NAMES = ["Zyxwv Holdings", "Qwertyco Industries"]
RAW = DOMAINS + DUNS + ["zyxwv holdings", "qwertyco industries", "bücher-laden.de", "zyxwv"]


async def test_no_raw_key_in_the_store_or_logs(
    store: ResettableStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    org = make_org("Scanner")
    await store.create_org(org)
    rows = [
        AccountInput(
            crm_id="api-1",
            name="Display name is the org's own",
            domains=(DOMAINS[0],),
            duns=(DUNS[0],),
            names=(NAMES[0],),
        ),
        AccountInput(crm_id="api-2", name="Other", domains=("https://www.bücher-laden.de/x",)),
    ]
    results = await write_rows(store, org.id, KEYRING, rows, now=at(1))
    assert [r.status for r in results] == [RowStatus.CREATED, RowStatus.CREATED]

    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(
        f"crm_id,name,domain,duns,legal_name\ncsv-1,Imported,{DOMAINS[2]},{DUNS[1]},{NAMES[1]}\n"
    )
    summary = await import_csv(
        store,
        KEYRING,
        org_id=org.id,
        path=csv_file,
        columns=PRESETS["tandem"],
        rejects_path=tmp_path / "rejects.csv",
        checkpoint_path=tmp_path / "cp",
        now=lambda: at(2),
    )
    assert summary.created == 1

    stored = "\n".join(await store.dump()).casefold()
    logged = caplog.text.casefold()
    for raw in RAW:
        assert raw.casefold() not in stored, f"raw key {raw!r} found in the {store.backend} store"
        assert raw.casefold() not in logged, f"raw key {raw!r} found in the logs"
    assert KEYRING.hash(KeyKind.DOMAIN, DOMAINS[0], 1) in stored  # the hashed form is there
