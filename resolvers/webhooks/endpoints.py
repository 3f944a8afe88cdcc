"""An org's webhook endpoints and deliveries: register, delete, list, redeliver.

ADMINs only (Permission.READ_WEBHOOKS, MANAGE_WEBHOOKS): an endpoint receives every deal
registration and introduction move of the org, so adding one is as sensitive as reading
the audit log.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from graph.errors import BadInput, NotFound
from graph.identity import IdentityStore
from graph.model import Page
from graph.webhook_port import WebhookStore
from graph.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventType
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.ids import new_id
from resolvers.webhooks.config import WebhookConfig

MAX_URL_LENGTH = 2_048
SECRET_PREFIX = "tdm_whsec_"  # noqa: S105  (a prefix, no secret: lets scanners spot leaks)
NO_SUCH_ENDPOINT = "no such webhook endpoint"
NO_SUCH_DELIVERY = "no such webhook delivery"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def is_loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def address_problem(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why the dispatcher must not post to `address`, or None. Private, link-local (cloud
    metadata services), reserved and multicast addresses are inside someone's network:
    an endpoint there would let an org make our servers probe it."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else "points to a loopback address"
    if not address.is_global or address.is_multicast:
        return "points to a private or reserved address"
    return None


def url_problem(url: str, *, allow_http_loopback: bool) -> str | None:
    """Why `url` cannot be an endpoint, or None. Checks what the URL itself says; the
    dispatcher checks the addresses a host name resolves to before every attempt."""
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 0x20 for c in url):
        return f"url must be 1 to {MAX_URL_LENGTH} characters, without spaces"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return "url is not a valid URL"
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        return "url must be an https:// URL with a host"
    if parts.username is not None or parts.password is not None:
        return "url must not carry credentials: the signature authenticates us"
    if parts.fragment:
        return "url must not have a #fragment"
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    loopback = is_loopback_name(host) or (literal is not None and literal.is_loopback)
    if parts.scheme == "http" and not (loopback and allow_http_loopback):
        return "url must use https"
    if literal is not None:
        if problem := address_problem(literal, allow_loopback=allow_http_loopback):
            return f"url {problem}"
    elif is_loopback_name(host):
        if not allow_http_loopback:
            return "url points to a loopback address"
    elif "." not in host:
        return "url needs a fully qualified host name"
    return None


async def create_endpoint(
    store: WebhookStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    url: str,
    event_types: Sequence[WebhookEventType],
    config: WebhookConfig,
    now: datetime,
) -> WebhookEndpoint:
    """Register an endpoint. The returned record holds the secret: the caller shows it
    once, now; no read shows it again."""
    actor.require(Permission.MANAGE_WEBHOOKS)
    url = url.strip()
    if problem := url_problem(url, allow_http_loopback=config.allow_http_loopback):
        raise BadInput(problem, field="url")
    if not event_types:
        raise BadInput("subscribe to at least one event type", field="eventTypes")
    # A concurrent create may pass this check too and exceed the cap by one; the cap
    # limits fan-out cost, which one more endpoint does not change.
    existing = await store.list_webhook_endpoints(actor.org_id, first=config.max_endpoints)
    if len(existing.items) >= config.max_endpoints:
        raise BadInput(
            f"an org may have at most {config.max_endpoints} webhook endpoints; delete one"
        )
    endpoint = await store.create_webhook_endpoint(
        WebhookEndpoint(
            id=new_id(),
            org_id=actor.org_id,
            url=url,
            event_types=tuple(sorted(set(event_types))),
            secret=new_secret(),
            created_by=actor.user_id,
            created_at=now,
        )
    )
    await audit.record(
        identity,
        actor,
        "webhook_endpoint.create",
        now=now,
        target_type="WebhookEndpoint",
        target_id=endpoint.id,
        event_types=",".join(endpoint.event_types),
    )
    return endpoint


async def delete_endpoint(
    store: WebhookStore, identity: IdentityStore, actor: Actor, endpoint_id: str, *, now: datetime
) -> WebhookEndpoint:
    """Deactivate it: nothing more is sent to it; its deliveries stay on record."""
    actor.require(Permission.MANAGE_WEBHOOKS)
    endpoint = await store.deactivate_webhook_endpoint(actor.org_id, endpoint_id)
    if endpoint is None:
        raise NotFound(NO_SUCH_ENDPOINT)
    await audit.record(
        identity,
        actor,
        "webhook_endpoint.delete",
        now=now,
        target_type="WebhookEndpoint",
        target_id=endpoint.id,
    )
    return endpoint


async def get_endpoints(
    store: WebhookStore, actor: Actor, ids: Sequence[str]
) -> dict[str, WebhookEndpoint]:
    actor.require(Permission.READ_WEBHOOKS)
    return await store.get_webhook_endpoints(actor.org_id, ids)


async def list_endpoints(
    store: WebhookStore, actor: Actor, *, first: int, after: str | None, backward: bool = False
) -> Page[WebhookEndpoint]:
    actor.require(Permission.READ_WEBHOOKS)
    return await store.list_webhook_endpoints(
        actor.org_id, first=first, after=after, backward=backward
    )


async def get_deliveries(
    store: WebhookStore, actor: Actor, ids: Sequence[str]
) -> dict[str, WebhookDelivery]:
    actor.require(Permission.READ_WEBHOOKS)
    return await store.get_webhook_deliveries(actor.org_id, ids)


async def list_deliveries(
    store: WebhookStore,
    actor: Actor,
    *,
    endpoint_id: str | None,
    status: DeliveryStatus | None,
    first: int,
    after: str | None,
    backward: bool = False,
) -> Page[WebhookDelivery]:
    actor.require(Permission.READ_WEBHOOKS)
    return await store.list_webhook_deliveries(
        actor.org_id,
        endpoint_id=endpoint_id,
        status=status,
        first=first,
        after=after,
        backward=backward,
    )


async def redeliver(
    store: WebhookStore, identity: IdentityStore, actor: Actor, delivery_id: str, *, now: datetime
) -> WebhookDelivery:
    """Send a settled delivery again, as soon as a dispatcher gets to it. Its earlier
    attempts still count towards the limit, so redelivering a FAILED one is one more
    try: if that fails too, it is FAILED again, not retried on the schedule."""
    actor.require(Permission.MANAGE_WEBHOOKS)
    delivery = await store.redeliver_webhook(actor.org_id, delivery_id, now=now)
    if delivery is None:
        raise NotFound(NO_SUCH_DELIVERY)
    await audit.record(
        identity,
        actor,
        "webhook_delivery.redeliver",
        now=now,
        target_type="WebhookDelivery",
        target_id=delivery.id,
    )
    return delivery
