"""Race-freedom of exclusive deal registration, end to end.

Two `tandem serve` processes on one store; ten partners of one vendor fire 100
concurrent registerDeal calls for the same exclusive slot, alternating servers. Exactly
one registration may be live; every other one is REJECTED with DUPLICATE; no call may
fail. The store enforces it (a uniqueness constraint on the held claim), so this runs on
every backend.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from api.stores import Stores, auth_config
from graph.factory import open_store
from graph.identity import Role
from graph.model import OrgType, Partnership, PartnershipStatus
from graph.sql.identity import SqlIdentityStore
from resolvers import admin
from resolvers.accounts import AccountInput, write_rows
from resolvers.clock import utcnow
from resolvers.ids import new_id
from tests.api.conftest import LOGIN, PASSWORD, TEST_SECRET, gid, settings_for, with_stores
from tests.backends import backend_url

PARTNERS = 10
CALLS = 100
REGISTER = """mutation($vendor: ID!, $role: DealRole!) {
  registerDeal(input: {vendorId: $vendor, role: $role, amount: "25000.00", currency: "EUR",
    expectedClose: "2027-03-31", productLine: "Platform", domains: ["https://www.racecorp.com/"]})
  { registration { id status reasons } errors { code message } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(backend: str, tmp_path: Path) -> dict[str, str]:
    if backend == "sqlite":
        store = f"sqlite+aiosqlite:///{tmp_path / 'race.sqlite3'}"
        return {"TANDEM_STORE_URL": store}
    url = backend_url(backend)
    if backend == "postgresql":
        return {"TANDEM_STORE_URL": url}
    return {
        "TANDEM_STORE_URL": url,
        "TANDEM_IDENTITY_URL": f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite3'}",
        "TANDEM_NEO4J_USER": os.environ.get("TANDEM_TEST_NEO4J_USER", ""),
        "TANDEM_NEO4J_PASSWORD": os.environ.get("TANDEM_TEST_NEO4J_PASSWORD", ""),
    }


async def _empty(settings: Settings) -> None:
    """The shared PostgreSQL / Neo4j test databases start empty, as the contract
    suite's `store` fixture leaves them."""
    graph = open_store(
        settings.store_url,
        neo4j_user=settings.neo4j_user,
        neo4j_password=settings.neo4j_password,
        allow_reset=True,
    )
    identity = SqlIdentityStore(settings.identity_url, allow_reset=True)
    try:
        await graph.apply_schema()
        await graph.reset()
        await identity.apply_schema()
        await identity.reset()
    finally:
        await graph.close()
        await identity.close()


async def _world(stores: Stores, settings: Settings) -> tuple[str, list[str]]:
    """A vendor with the account, ten ACTIVE partners each with an admin user."""
    now = utcnow()
    vendor = await admin.create_org(
        stores.graph,
        name="Vendor",
        types={OrgType.VENDOR},
        region="EMEA",
        discoverable=False,
        now=now,
    )
    await write_rows(
        stores.graph,
        vendor.id,
        settings.keyring,
        [
            AccountInput(
                crm_id="race", name="Race Inc", populations=("CUSTOMER",), domains=("racecorp.com",)
            )
        ],
        now=now,
    )
    emails = []
    for i in range(PARTNERS):
        partner = await admin.create_org(
            stores.graph,
            name=f"Partner {i}",
            types={OrgType.RESELLER},
            region="EMEA",
            discoverable=False,
            now=now,
        )
        pid = new_id()
        await stores.graph.insert_partnership(
            Partnership(pid, partner.id, vendor.id, PartnershipStatus.INVITED, now, now)
        )
        await stores.graph.transition_partnership(
            vendor.id,
            pid,
            expected=[PartnershipStatus.INVITED],
            new_status=PartnershipStatus.ACTIVE,
            at=now + timedelta(seconds=1),
        )
        email = f"p{i}@race.example.com"
        await admin.add_user(
            stores.graph,
            stores.identity,
            auth_config(settings),
            email=email,
            password=PASSWORD,
            display_name=f"p{i}",
            org_id=partner.id,
            role=Role.ADMIN,
            now=now,
        )
        emails.append(email)
    return vendor.id, emails


@pytest.fixture
def servers(backend: str, tmp_path: Path) -> Iterator[tuple[list[str], Settings, dict[str, str]]]:
    env = {
        "TANDEM_SECRET": TEST_SECRET,
        "TANDEM_BCRYPT_COST": "4",
        # 100 calls queue on one claim: on a busy 2-core machine the last ones wait longer
        # than the production request timeout, which is not what this test measures.
        "TANDEM_REQUEST_TIMEOUT": "300",
        **_env(backend, tmp_path),
    }
    settings = settings_for(env["TANDEM_STORE_URL"], **env)
    asyncio.run(_empty(settings))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    processes, urls, logs = [], [], []
    try:
        for n in range(2):
            port = _free_port()
            log = (tmp_path / f"serve-{n}.log").open("w")
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "api", "serve", "--port", str(port)],
                    cwd=tmp_path,
                    env={**clean, "PYTHONPATH": str(Path(__file__).parents[2]), **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            _wait_ready(url, process, tmp_path)
        yield urls, settings, env
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for log in logs:
            log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], tmp_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "\n".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
            pytest.fail(f"tandem serve exited with {process.returncode}:\n{logs}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not become ready")


def test_one_exclusive_claim_wins_across_two_servers(
    servers: tuple[list[str], Settings, dict[str, str]],
) -> None:
    urls, settings, _ = servers
    vendor, emails = with_stores(settings, lambda stores: _world(stores, settings))
    bodies, statuses = asyncio.run(_race(urls, vendor, emails))

    assert statuses == Counter({200: CALLS}), statuses
    assert all("errors" not in b for b in bodies), [b for b in bodies if "errors" in b][:3]
    payloads = [b["data"]["registerDeal"] for b in bodies]
    assert all(p["errors"] == [] for p in payloads), [p for p in payloads if p["errors"]][:3]
    outcomes = Counter(p["registration"]["status"] for p in payloads)
    assert outcomes == Counter({"PENDING_REVIEW": 1, "REJECTED": CALLS - 1}), outcomes
    rejected = [p["registration"] for p in payloads if p["registration"]["status"] == "REJECTED"]
    assert all("DUPLICATE" in r["reasons"] for r in rejected)

    async def live(stores: Stores) -> int:
        page = await stores.graph.list_deals(vendor, side="vendor", first=CALLS + 10)
        assert len(page.items) == CALLS
        return sum(1 for r in page.items if r.status.is_live)

    assert with_stores(settings, live) == 1


async def _race(
    urls: list[str], vendor: str, emails: list[str]
) -> tuple[list[dict[str, Any]], Counter[int]]:
    limits = httpx.Limits(max_connections=CALLS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        tokens = []
        for n, email in enumerate(emails):
            response = await client.post(
                f"{urls[n % 2]}/graphql",
                json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}},
            )
            tokens.append(response.json()["data"]["login"]["token"])

        async def call(i: int) -> httpx.Response:
            return await client.post(
                f"{urls[i % 2]}/graphql",
                json={
                    "query": REGISTER,
                    "variables": {
                        "vendor": gid("Org", vendor),
                        "role": "RESELLER" if i % 3 else "REFERRAL",
                    },
                },
                headers={"authorization": f"Bearer {tokens[i % PARTNERS]}"},
            )

        responses = await asyncio.gather(*(call(i) for i in range(CALLS)))
    statuses = Counter(r.status_code for r in responses)
    return [r.json() for r in responses if r.status_code == 200], statuses
