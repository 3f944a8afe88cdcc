"""The probing attack against a COUNTS-only partner, from the attacker's side.

The attacker (a) wants to know whether chosen.com is in partner b's customer list, which
b shares at COUNTS level only. Whatever populations it builds, tiny or differing by the
one account, the answers must not depend on whether b has chosen.com.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from tests.api.conftest import World, gid, settings_for

UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
  rejected } }"""
DELETE = """mutation($ids: [String!]!) { deleteAccounts(input: {crmIds: $ids}) {
  deletedCrmIds } }"""
MATRIX = """query($partner: ID!) { overlapMatrix(partnerId: $partner) {
  cells { myPopulation partnerPopulation myCount partnerCount suppressed suppressedReason } } }"""
AUDIT = "{ auditLog(first: 50) { edges { node { action } } } }"


def account(crm: str, domain: str, population: str) -> dict[str, object]:
    return {"crmId": crm, "name": crm, "domains": [domain], "populations": [population]}


def partnered(world: World, partner_has_chosen: bool) -> str:
    world.add_org("a")
    b = world.add_org("b")
    world.add_user("attacker", "a")
    world.add_user("ben", "b")
    world.partner("attacker", "ben", "b")
    world.share("ben", "a", "CUSTOMER", "COUNTS")
    customers = [account(f"b{i}", f"common{i}.com", "CUSTOMER") for i in range(20)]
    if partner_has_chosen:
        customers.append(account("b-chosen", "chosen.com", "CUSTOMER"))
    world.gql("ben", UPSERT, rows=customers)
    return gid("Org", b)


def cells(world: World, partner: str, population: str) -> list[dict[str, Any]]:
    matrix = world.gql("attacker", MATRIX, partner=partner)["data"]["overlapMatrix"]["cells"]
    return [c for c in matrix if c["myPopulation"] == population]


def attack(world: World, partner: str) -> list[Any]:
    """Everything the attacker can observe, in order."""
    observed: list[Any] = []
    # 1. a tiny population holding only the chosen account
    world.gql("attacker", UPSERT, rows=[account("x", "chosen.com", "Probe tiny")])
    observed.append(cells(world, partner, "Probe tiny"))
    # 2. a population of known common customers, then the same plus the chosen account
    base = [account(f"c{i}", f"common{i}.com", "Probe diff") for i in range(10)]
    world.gql("attacker", UPSERT, rows=base)
    observed.append(cells(world, partner, "Probe diff"))
    world.gql("attacker", UPSERT, rows=[account("x", "chosen.com", "Probe diff")])
    observed.append(cells(world, partner, "Probe diff"))
    # 3. and the other way round: take one known customer out again
    world.gql("attacker", DELETE, ids=["c0"])
    observed.append(cells(world, partner, "Probe diff"))
    return observed


def attack_in_new_world(tmp_path: Path, *, has_chosen: bool) -> list[Any]:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / f'world-{has_chosen}.sqlite3'}")
    with TestClient(create_app(settings)) as client:
        world = World(client=client, settings=settings)
        return attack(world, partnered(world, has_chosen))


@pytest.mark.parametrize("has_chosen", [True, False])
def test_tiny_and_differencing_populations_are_refused(tmp_path: Path, has_chosen: bool) -> None:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'probe.sqlite3'}")
    with TestClient(create_app(settings)) as client:
        world = World(client=client, settings=settings)
        tiny, before, after_add, after_remove = attack(world, partnered(world, has_chosen))
        actions = [
            e["node"]["action"] for e in world.gql("attacker", AUDIT)["data"]["auditLog"]["edges"]
        ]
    assert tiny == [
        {
            "myPopulation": "Probe tiny",
            "partnerPopulation": "CUSTOMER",
            "myCount": None,
            "partnerCount": None,
            "suppressed": True,
            "suppressedReason": "fewer than k accounts",
        }
    ]
    assert before[0]["myCount"] == 10  # a legitimate answer for an unchanged population
    for changed in (after_add, after_remove):
        assert changed[0]["suppressed"]
        assert changed[0]["myCount"] is None
        assert "changed" in changed[0]["suppressedReason"]
    assert actions.count("overlap.probe_refused") == 2


def test_observations_are_identical_whether_or_not_the_partner_has_it(tmp_path: Path) -> None:
    assert attack_in_new_world(tmp_path, has_chosen=True) == attack_in_new_world(
        tmp_path, has_chosen=False
    )
