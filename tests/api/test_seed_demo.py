"""The demo ecosystem is explorable: logins work and the account map has content."""

from __future__ import annotations

from api.stores import Stores, auth_config
from seed.generator import DEMO_PASSWORD, generate
from seed.loader import load_into
from tests.api.conftest import LOGIN, World, gql

MAP = """query($p: ID!) { overlapMatrix(partnerId: $p) { cells { myCount suppressed level } } }"""
PARTNERS = """{ partnerships(status: ACTIVE, first: 100) { edges { node { partner { id } } } } }"""


def test_demo_partners_share_an_account_map(world: World) -> None:
    eco = generate("demo", 7)

    async def load(stores: Stores) -> None:
        await load_into(
            stores.graph,
            stores.identity,
            eco,
            auth_config(world.settings),
            world.settings.keyring,
        )

    world.run(load)
    vendor_admin = next(u for u in eco.users if u.role.value == "ADMIN")
    token = gql(world.client, LOGIN, email=vendor_admin.email, password=DEMO_PASSWORD)["data"][
        "login"
    ]["token"]
    partners = gql(world.client, PARTNERS, token)["data"]["partnerships"]["edges"]
    assert partners
    cells = [
        cell
        for edge in partners
        for cell in gql(world.client, MAP, token, p=edge["node"]["partner"]["id"])["data"][
            "overlapMatrix"
        ]["cells"]
    ]
    assert any(c["myCount"] and not c["suppressed"] for c in cells)
    assert {c["level"] for c in cells} >= {"COUNTS", "OVERLAPS"}
