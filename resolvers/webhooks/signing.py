"""The signing scheme, for the sender and for receivers (docs/webhooks.md).

A delivery is a POST whose body is the JSON event. Three headers go with it:

    Tandem-Webhook-Id:        the delivery id (the same on every retry of that delivery)
    Tandem-Webhook-Timestamp: unix seconds when this attempt was signed
    Tandem-Webhook-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}." + body)>

The timestamp is inside the MAC so a captured request cannot be replayed later than the
receiver's tolerance. The signature header may carry several space-separated `v1=` values
(a receiver accepts any), which leaves room for rotating a secret without a gap.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime

from graph.webhooks import WebhookDelivery

SCHEME = "v1"
ID_HEADER = "Tandem-Webhook-Id"
TIMESTAMP_HEADER = "Tandem-Webhook-Timestamp"
SIGNATURE_HEADER = "Tandem-Webhook-Signature"
EVENT_HEADER = "Tandem-Webhook-Event"
ATTEMPT_HEADER = "Tandem-Webhook-Attempt"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """The request does not carry a valid, fresh signature; the message says why."""


def event_body(delivery: WebhookDelivery) -> bytes:
    """The JSON event a delivery posts. Built from the stored record alone, so every
    attempt of one delivery sends the same bytes."""
    event = {
        "id": delivery.event_id,
        "type": delivery.event_type.value,
        "createdAt": delivery.event_at.isoformat(),
        "orgId": delivery.org_id,
        "data": dict(delivery.payload),
    }
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `{timestamp}.{body}` under the endpoint's secret (its UTF-8
    bytes, the whole string as shown at creation)."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    *,
    delivery_id: str,
    event_type: str,
    attempt: int,
    body: bytes,
    timestamp: int,
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        ID_HEADER: delivery_id,
        EVENT_HEADER: event_type,
        ATTEMPT_HEADER: str(attempt),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"{SCHEME}={sign(secret, timestamp, body)}",
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> None:
    """Check a received delivery; raise SignatureError unless one `v1` signature matches
    and the timestamp is within `tolerance_s` of `now` (either way: clocks drift).

    `headers` may use any letter case; `body` must be the raw bytes as received, before
    any JSON parsing (re-serialising changes the bytes and breaks the MAC)."""
    folded = {name.lower(): value for name, value in headers.items()}
    raw_timestamp = folded.get(TIMESTAMP_HEADER.lower())
    raw_signature = folded.get(SIGNATURE_HEADER.lower())
    if raw_timestamp is None or raw_signature is None:
        raise SignatureError("missing timestamp or signature header")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise SignatureError("the timestamp is not a whole number of seconds") from None
    current = now.timestamp() if isinstance(now, datetime) else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError("the timestamp is outside the tolerance")
    expected = sign(secret, timestamp, body).encode()
    offered = [
        value
        for scheme, _, value in (part.partition("=") for part in raw_signature.split())
        if scheme == SCHEME
    ]
    # Bytes, because compare_digest refuses non-ASCII str; every offer is compared (no
    # early exit), and how many offers there were is no secret.
    matches = [hmac.compare_digest(expected, value.encode()) for value in offered]
    if not any(matches):
        raise SignatureError("no valid v1 signature")
