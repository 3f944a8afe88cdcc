"""The webhook dispatcher's loop, owned by the app's lifespan like the sweeper.

Every API process runs it unless TANDEM_WEBHOOK_DISPATCH=false; the store's claims are
compare-and-set with leases, so several dispatchers share the work and never send one
delivery twice at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from graph.webhook_port import WebhookStore
from resolvers.webhooks.config import WebhookConfig
from resolvers.webhooks.dispatcher import new_client, run_round

log = logging.getLogger("tandem.webhooks")


async def dispatch_forever(
    store: WebhookStore, config: WebhookConfig, *, interval_s: float
) -> None:
    async with new_client(config) as client:
        busy = False
        while True:
            # First after start-up, when migrations have run; at once after a full round,
            # which means a backlog.
            await asyncio.sleep(0 if busy else interval_s)
            busy = False
            try:
                report = await run_round(store, client, config)
                busy = report.busy
                if report.attempted:
                    log.info(
                        "webhooks: %d attempted, %d succeeded, %d to retry, %d failed",
                        report.attempted,
                        report.succeeded,
                        report.retrying,
                        report.failed,
                    )
            except Exception:  # must outlive outages: the outbox keeps events meanwhile
                log.exception("webhook round failed; retrying in %g s", interval_s)


@asynccontextmanager
async def dispatching(
    store: WebhookStore, config: WebhookConfig, *, interval_s: float, enabled: bool = True
) -> AsyncIterator[asyncio.Task[None] | None]:
    if not enabled:
        yield None
        return
    task = asyncio.create_task(dispatch_forever(store, config, interval_s=interval_s))
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
