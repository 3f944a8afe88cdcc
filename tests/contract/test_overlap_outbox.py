"""Contract: OVERLAP outbox events handed to an account upsert or delete are written in its
transaction: all of them, addressed as given, iff the write commits (never for a refused
or failed one, nor for a delete that deleted nothing)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from graph.errors import BadInput, Conflict
from graph.model import KeyState, Org
from graph.outbox import iso, overlap_events
from graph.port import GraphStore
from graph.webhooks import OutboxEvent, WebhookEventType
from tests.factories import at, make_org, make_upsert

V1 = KeyState()
OVERLAP = WebhookEventType.OVERLAP


async def orgs(store: GraphStore) -> tuple[Org, Org, Org, Org]:
    writer, p, q, x = make_org("W"), make_org("P"), make_org("Q"), make_org("X")
    for org in (writer, p, q, x):
        await store.create_org(org)
    return writer, p, q, x


async def outbox(store: GraphStore, org: Org) -> list[OutboxEvent]:
    page = await store.list_outbox(org.id, first=1000)
    assert not page.has_next
    return page.items


def announcements(writer: Org, p: Org, q: Org, when: int) -> list[OutboxEvent]:
    return overlap_events(
        writer.id, {p.id: ("PROSPECT", "CUSTOMER"), q.id: ("A, B",), writer.id: ("X",)}, at(when)
    )


async def test_an_upsert_writes_its_events_addressed_as_given(store: GraphStore) -> None:
    writer, p, q, x = await orgs(store)
    events = announcements(writer, p, q, 1)
    assert {e.org_id for e in events} == {p.id, q.id}  # never the writer
    await store.upsert_accounts(
        writer.id, [make_upsert("a-1", "acme.com")], expected_state=V1, at=at(1), outbox=events
    )
    [to_p] = await outbox(store, p)
    assert to_p.event_type is OVERLAP
    assert to_p.created_at == at(1)
    assert to_p.payload == {
        "partner_org_id": writer.id,
        "populations": ["CUSTOMER", "PROSPECT"],
        "at": iso(at(1)),
    }
    [to_q] = await outbox(store, q)
    assert to_q.payload["populations"] == ["A, B"]  # a list: names may hold commas
    assert {to_p.id, to_q.id} == {e.id for e in events}
    assert await outbox(store, writer) == []
    assert await outbox(store, x) == []

    # Without events (the default), an upsert writes none.
    await store.upsert_accounts(
        writer.id, [make_upsert("a-2", "globex.com")], expected_state=V1, at=at(2)
    )
    assert len(await outbox(store, p)) == 1


async def test_a_refused_or_failed_upsert_writes_no_event(store: GraphStore) -> None:
    writer, p, q, _ = await orgs(store)
    [first] = await store.upsert_accounts(
        writer.id, [make_upsert("a-1", "acme.com")], expected_state=V1, at=at(0)
    )
    # A crm id twice in one call: BadInput before anything is written.
    with pytest.raises(BadInput):
        await store.upsert_accounts(
            writer.id,
            [make_upsert("a-2", "x.com"), make_upsert("a-2", "y.com")],
            expected_state=V1,
            at=at(1),
            outbox=announcements(writer, p, q, 1),
        )
    # The key state moved (a rotation step): Conflict inside the transaction.
    with pytest.raises(Conflict):
        await store.upsert_accounts(
            writer.id,
            [make_upsert("a-3", "z.com")],
            expected_state=KeyState(active_version=2),
            at=at(2),
            outbox=announcements(writer, p, q, 2),
        )
    # A new account reusing an existing account's id: the account write fails after the
    # events are in the transaction, which takes them back with it.
    with pytest.raises(Conflict):
        await store.upsert_accounts(
            writer.id,
            [replace(make_upsert("a-4", "w.com"), new_id=first.account_id)],
            expected_state=V1,
            at=at(3),
            outbox=announcements(writer, p, q, 3),
        )
    # No rows: nothing written, no event.
    assert (
        await store.upsert_accounts(
            writer.id, [], expected_state=V1, at=at(4), outbox=announcements(writer, p, q, 4)
        )
        == []
    )
    assert await outbox(store, p) == []
    assert await outbox(store, q) == []
    page = await store.list_accounts(writer.id, first=10)
    assert [a.crm_id for a in page.items] == ["a-1"]


async def test_a_delete_writes_its_events_iff_it_deleted_something(store: GraphStore) -> None:
    writer, p, q, _ = await orgs(store)
    await store.upsert_accounts(
        writer.id, [make_upsert("a-1", "acme.com")], expected_state=V1, at=at(0)
    )
    assert (
        await store.delete_accounts(writer.id, ["nope"], outbox=announcements(writer, p, q, 1))
        == []
    )
    assert await outbox(store, p) == []

    events = announcements(writer, p, q, 2)
    assert await store.delete_accounts(writer.id, ["a-1", "nope"], outbox=events) == ["a-1"]
    [to_p] = await outbox(store, p)
    [to_q] = await outbox(store, q)
    assert {to_p.id, to_q.id} == {e.id for e in events}
    assert to_p.payload["partner_org_id"] == writer.id
    assert await outbox(store, writer) == []
