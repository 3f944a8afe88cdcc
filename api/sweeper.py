"""The server's own background work: expire approvals whose time is up, settle
registrations on closed opportunities. Every API process runs it; the store writes are
compare-and-set, so several sweepers at once move each registration once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from graph.port import GraphStore
from resolvers.clock import utcnow
from resolvers.deals import lifecycle
from resolvers.events import EventBroker

log = logging.getLogger("tandem.sweeper")


async def sweep_forever(graph: GraphStore, events: EventBroker, *, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)  # first after start-up, when migrations have run
        try:
            moved = await lifecycle.expire_due(graph, now=utcnow(), events=events)
            if moved:
                log.info("deal sweep moved %d registrations", len(moved))
        except Exception:  # the sweep must outlive outages; the next round retries
            log.exception("deal sweep failed; retrying in %.0f s", interval_s)


@asynccontextmanager
async def sweeping(
    graph: GraphStore, events: EventBroker, *, interval_s: float
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(sweep_forever(graph, events, interval_s=interval_s))
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
