"""The outbox events a transition writes, built the same way by every store adapter.

Stores call these inside the transaction that records the transition, so the events and
the change commit (or roll back) together. One event per distinct party org: each org's
endpoints see only their own org's events. Payloads are JSON-exact (timestamps as ISO
8601 text in UTC), so every backend stores and returns the same values.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime

from ulid import ULID

from graph.deals import DealStatus
from graph.intros import AccountAsk, AskStatus, Introduction, IntroStatus
from graph.webhooks import OutboxEvent, Payload, WebhookEventType

_lock = threading.Lock()
_last = 0


def new_record_id() -> str:
    """A ULID for an outbox event or a delivery, monotonic per process: records written
    in one transaction at one time (created_at ties) still list in write order."""
    global _last
    with _lock:
        candidate = int.from_bytes(ULID().bytes, "big")
        if candidate <= _last:
            candidate = _last + 1
        _last = candidate
    return str(ULID.from_int(candidate))


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def dump_payload(payload: Payload) -> str:
    return json.dumps(dict(payload), sort_keys=True, separators=(",", ":"))


def load_payload(text: str) -> Payload:
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise TypeError("a stored webhook payload is not a JSON object")
    return loaded


def _events(
    orgs: Iterable[str | None], event_type: WebhookEventType, payload: Payload, at: datetime
) -> list[OutboxEvent]:
    return [
        OutboxEvent(new_record_id(), org, event_type, payload, at)
        for org in dict.fromkeys(o for o in orgs if o is not None)
    ]


def deal_events(
    registration_id: str,
    vendor_org: str,
    partner_org: str,
    from_status: DealStatus | None,
    status: DealStatus,
    at: datetime,
) -> list[OutboxEvent]:
    payload: Payload = {
        "registration_id": registration_id,
        "from_status": None if from_status is None else DealStatus(from_status).value,
        "status": DealStatus(status).value,
        "at": iso(at),
    }
    return _events((vendor_org, partner_org), WebhookEventType.DEAL_REGISTRATION, payload, at)


def introduction_events(new: Introduction, from_status: IntroStatus | None) -> list[OutboxEvent]:
    """For `new` as stored by a transition from `from_status` (None: created); `at` is
    its updated_at, which every transition sets. The target is addressed only once the
    introduction has reached it (direct, or forwarded), as it sees it in the store and
    on the subscription: a broker's declined request stays unknown to the target."""
    payload: Payload = {
        "kind": "INTRODUCTION",
        "object_id": new.id,
        "from_status": None if from_status is None else IntroStatus(from_status).value,
        "status": IntroStatus(new.status).value,
        "at": iso(new.updated_at),
    }
    reached = new.broker_org is None or new.forwarded_at is not None
    orgs = (new.requester_org, new.broker_org, new.target_org if reached else None)
    return _events(orgs, WebhookEventType.INTRODUCTION, payload, new.updated_at)


def ask_events(new: AccountAsk, from_status: AskStatus | None) -> list[OutboxEvent]:
    payload: Payload = {
        "kind": "ASK",
        "object_id": new.id,
        "from_status": None if from_status is None else AskStatus(from_status).value,
        "status": AskStatus(new.status).value,
        "at": iso(new.updated_at),
    }
    orgs = (new.requester_org, new.partner_org)
    return _events(orgs, WebhookEventType.INTRODUCTION, payload, new.updated_at)


def overlap_events(
    writer_org: str, audience: Mapping[str, Collection[str]], at: datetime
) -> list[OutboxEvent]:
    """One OVERLAP event per partner org of `audience` (partner -> the populations it may
    see at COUNTS or above among those written), never to the writer. `populations` is a
    list (names may hold commas, so no joined string). The audience is
    computed in Python by the sharing policy (resolvers/overlap_events.py); the store only
    writes these events with the account write."""
    return [
        OutboxEvent(
            new_record_id(),
            partner,
            WebhookEventType.OVERLAP,
            {"partner_org_id": writer_org, "populations": sorted(set(pops)), "at": iso(at)},
            at,
        )
        for partner, pops in sorted(audience.items())
        if pops and partner != writer_org
    ]
