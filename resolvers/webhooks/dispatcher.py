"""The dispatcher: outbox events to deliveries, deliveries to signed POSTs.

One round fans the outbox out (bounded), claims the deliveries that are due under a lease,
posts them concurrently (bounded) and records each outcome. Every store call is
compare-and-set, so any number of API processes may run rounds at once; a process that
dies mid-round leaves leases that simply run out, and those deliveries are sent again.
Delivery is therefore at least once: receivers deduplicate on the event id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx

from graph.webhook_port import WebhookStore
from graph.webhooks import AttemptOutcome, DeliveryStatus, DueDelivery, WebhookDelivery
from resolvers.clock import utcnow
from resolvers.webhooks.config import WebhookConfig
from resolvers.webhooks.endpoints import IPAddress, address_problem
from resolvers.webhooks.retry import SYSTEM_RANDOM, Uniform
from resolvers.webhooks.signing import event_body, signed_headers

log = logging.getLogger("tandem.webhooks")

USER_AGENT = "tandem-webhooks/1"
MAX_ERROR_LENGTH = 200

Clock = Callable[[], datetime]
# host, port -> the addresses a connection would go to
Resolve = Callable[[str, int], Awaitable[list[IPAddress]]]


@dataclass(frozen=True, slots=True)
class RoundReport:
    fanned_out: int = 0  # outbox events turned into deliveries
    attempted: int = 0
    succeeded: int = 0
    retrying: int = 0  # failed, another attempt is scheduled
    failed: int = 0  # failed for good: attempts used up
    busy: bool = False  # work was left over: start the next round at once


def new_client(config: WebhookConfig) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=config.timeout_s,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=config.concurrency),
    )


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # IPv6 link-local answers carry a zone ("fe80::1%eth0"), which ip_address refuses.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def fan_out(store: WebhookStore, config: WebhookConfig, *, now: datetime) -> tuple[int, bool]:
    """Fan outbox events out until drained or the round's bound; (events, drained)."""
    total = 0
    for _ in range(config.fan_out_calls):
        taken = await store.fan_out_outbox(now=now, limit=config.fan_out_limit)
        total += taken
        if taken < config.fan_out_limit:
            return total, True
    return total, False


async def run_round(
    store: WebhookStore,
    client: httpx.AsyncClient,
    config: WebhookConfig,
    *,
    clock: Clock = utcnow,
    rng: Uniform = SYSTEM_RANDOM,
    resolve: Resolve = resolve_host,
) -> RoundReport:
    fanned_out, drained = await fan_out(store, config, now=clock())
    now = clock()
    due = await store.claim_due_deliveries(
        now=now, lease_until=now + timedelta(seconds=config.lease_s), limit=config.claim_limit
    )
    gate = asyncio.Semaphore(config.concurrency)

    async def one(item: DueDelivery) -> WebhookDelivery | None:
        async with gate:
            return await deliver(store, client, item, config, clock=clock, rng=rng, resolve=resolve)

    settled = await asyncio.gather(*(one(item) for item in due))
    statuses = [d.status for d in settled if d is not None]
    return RoundReport(
        fanned_out=fanned_out,
        attempted=len(due),
        succeeded=statuses.count(DeliveryStatus.SUCCEEDED),
        retrying=statuses.count(DeliveryStatus.PENDING),
        failed=statuses.count(DeliveryStatus.FAILED),
        busy=not drained or len(due) == config.claim_limit,
    )


async def dispatch_once(
    store: WebhookStore,
    config: WebhookConfig,
    *,
    clock: Clock = utcnow,
    rng: Uniform = SYSTEM_RANDOM,
) -> RoundReport:
    """One round with a client of its own: for tests and one-off runs."""
    async with new_client(config) as client:
        return await run_round(store, client, config, clock=clock, rng=rng)


async def deliver(
    store: WebhookStore,
    client: httpx.AsyncClient,
    due: DueDelivery,
    config: WebhookConfig,
    *,
    clock: Clock = utcnow,
    rng: Uniform = SYSTEM_RANDOM,
    resolve: Resolve = resolve_host,
) -> WebhookDelivery | None:
    """Post one claimed delivery and record the outcome; None if it was not recorded
    (settled meanwhile, or the store failed: the lease runs out and it goes again)."""
    outcome = await post(client, due, config, clock=clock, resolve=resolve)
    if not outcome.succeeded:
        retry_at = config.retry.next_attempt_at(due.delivery.attempts + 1, now=outcome.at, rng=rng)
        outcome = dataclasses.replace(outcome, next_attempt_at=retry_at)
    try:
        return await store.record_delivery_attempt(due.delivery.id, outcome)
    except Exception:
        log.exception(
            "could not record webhook delivery %s; it will be sent again", due.delivery.id
        )
        return None


async def post(
    client: httpx.AsyncClient,
    due: DueDelivery,
    config: WebhookConfig,
    *,
    clock: Clock = utcnow,
    resolve: Resolve = resolve_host,
) -> AttemptOutcome:
    """One signed POST. Only the status line is read: a receiver's body is neither
    downloaded nor kept, so it can neither slow us down nor plant data in our records."""
    delivery = due.delivery
    body = event_body(delivery)
    headers = signed_headers(
        due.secret,
        delivery_id=delivery.id,
        event_type=delivery.event_type.value,
        attempt=delivery.attempts + 1,
        body=body,
        timestamp=int(clock().timestamp()),
    )
    status: int | None = None
    error: str | None = None
    try:
        # httpx's timeout bounds each read and write; this bounds the whole attempt, so a
        # receiver that trickles bytes cannot hold a slot for long.
        async with asyncio.timeout(config.timeout_s):
            error = await destination_problem(
                due.url, allow_loopback=config.allow_http_loopback, resolve=resolve
            )
            if error is None:
                async with client.stream("POST", due.url, content=body, headers=headers) as answer:
                    status = answer.status_code
    except (TimeoutError, httpx.TimeoutException):
        error = f"no answer within {config.timeout_s:g} s"
    except httpx.HTTPError as failure:
        error = _short(f"{type(failure).__name__}: {failure}")
    except OSError as failure:  # name resolution
        error = _short(f"cannot reach the host: {failure}")
    if status is not None and not 200 <= status < 300:
        error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    return AttemptOutcome(
        at=clock(),
        succeeded=status is not None and error is None,
        status_code=status,
        error=error,
        next_attempt_at=None,
    )


async def destination_problem(url: str, *, allow_loopback: bool, resolve: Resolve) -> str | None:
    """Checked before every attempt, not only at registration: a host name may come to
    resolve to an internal address later (DNS rebinding narrows but does not close the
    gap; docs/webhooks.md)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = await resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    for address in addresses:
        if problem := address_problem(address, allow_loopback=allow_loopback):
            return f"refused: {host} {problem}"
    return None


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"
