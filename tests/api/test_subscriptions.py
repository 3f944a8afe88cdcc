"""overlapEvents over graphql-transport-ws: authenticated at connection_init, published
after the write commits, only to partners that may see the populations written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from tests.api.conftest import World

PROTOCOL = "graphql-transport-ws"
SUBSCRIBE = "subscription { overlapEvents { partner { name } partnerPopulations at } }"
UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
  created } }"""


def partnered(world: World) -> None:
    world.add_org("a")
    world.add_org("b")
    world.add_org("c")
    world.add_user("anna", "a")
    world.add_user("ben", "b")
    world.add_user("cleo", "c")
    world.partner("anna", "ben", "b")
    world.share("anna", "b", "CUSTOMER", "COUNTS")  # PROSPECT stays HIDDEN


@contextmanager
def connect(client: TestClient, token: str | None) -> Iterator[WebSocketTestSession]:
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as session:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        session.send_json({"type": "connection_init", "payload": payload})
        yield session


def subscribe(session: WebSocketTestSession) -> None:
    assert session.receive_json()["type"] == "connection_ack"
    session.send_json({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})


def row(crm: str, population: str) -> dict[str, Any]:
    return {"crmId": crm, "name": crm, "domains": [f"{crm}.com"], "populations": [population]}


def test_partner_hears_of_changes_in_populations_it_may_see(world: World) -> None:
    partnered(world)
    with connect(world.client, world.tokens["ben"]) as session:
        subscribe(session)
        world.gql("anna", UPSERT, rows=[row("hidden1", "PROSPECT")])  # HIDDEN to b: no event
        world.gql("anna", UPSERT, rows=[row("cust1", "CUSTOMER"), row("p2", "PROSPECT")])
        message = session.receive_json()
        session.send_json({"id": "1", "type": "complete"})
    assert message["type"] == "next"
    event = message["payload"]["data"]["overlapEvents"]
    assert event["partner"] == {"name": "Org a"}
    assert event["partnerPopulations"] == ["CUSTOMER"]  # never PROSPECT


def test_non_partners_hear_nothing(world: World) -> None:
    partnered(world)
    with connect(world.client, world.tokens["cleo"]) as session:
        subscribe(session)
        world.gql("anna", UPSERT, rows=[row("cust1", "CUSTOMER")])
        session.send_json({"type": "ping"})
        reply = session.receive_json()
        session.send_json({"id": "1", "type": "complete"})
    assert reply["type"] == "pong"  # the next message is not an event


@pytest.mark.parametrize("token", [None, "tdm_s_" + "x" * 43])
def test_connection_init_without_valid_credentials_is_rejected(
    world: World, token: str | None
) -> None:
    partnered(world)
    with connect(world.client, token) as session, pytest.raises(WebSocketDisconnect) as closed:
        session.receive_json()
    assert closed.value.code == 4403
