"""Plain records for webhooks: the transactional outbox, endpoints and deliveries.

The outbox is written by the store in the same transaction as the change it announces (a
deal registration or introduction/ask history entry, an account upsert or delete), so an
event is never lost and never announced for a change that rolled back. A dispatcher later
fans each outbox event out into one delivery per subscribed endpoint and posts them
(resolvers.webhooks).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


class WebhookEventType(enum.StrEnum):
    # Payload: registration_id, from_status (None for a new one), status, at.
    DEAL_REGISTRATION = "DEAL_REGISTRATION"
    # Payload: kind (INTRODUCTION or ASK), object_id, from_status, status, at.
    INTRODUCTION = "INTRODUCTION"
    # Payload: partner_org_id (the writer), populations (a sorted list of names), at. A
    # partner changed accounts in populations it shares with the addressee at COUNTS or
    # above; no account identity.
    OVERLAP = "OVERLAP"


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"  # waiting for its (next) attempt
    SUCCEEDED = "SUCCEEDED"  # the receiver answered 2xx
    FAILED = "FAILED"  # attempts used up; re-deliverable by hand


# A payload is JSON: string keys; values str, int, bool, None (timestamps as ISO 8601) or
# a list of str (a list, not a tuple: it compares equal to what JSON reads back).
Payload = Mapping[str, str | int | bool | list[str] | None]


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event for one org, written with the change it describes."""

    id: str
    org_id: str  # the addressee: only this org's endpoints receive it
    event_type: WebhookEventType
    payload: Payload
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    org_id: str
    url: str  # https (http only for loopback receivers in development and tests)
    event_types: tuple[WebhookEventType, ...]
    # The HMAC key. Returned to the org once, at creation; stored because signing needs it.
    secret: str
    created_by: str  # user id
    created_at: datetime
    active: bool = True  # False once deleted: kept for the delivery records


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One outbox event to one endpoint, with the record of its attempts."""

    id: str
    org_id: str
    endpoint_id: str
    event_id: str
    event_type: WebhookEventType
    payload: Payload
    event_at: datetime  # the outbox event's created_at
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None  # None unless PENDING
    created_at: datetime
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None  # the receiver's HTTP status, if it answered
    last_error: str | None = None  # short reason of the last failure (no response bodies)
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery claimed for an attempt, with what the sender needs to post it."""

    delivery: WebhookDelivery
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one attempt did. `next_attempt_at` None with succeeded False: attempts are used
    up and the delivery becomes FAILED."""

    at: datetime
    succeeded: bool
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None
