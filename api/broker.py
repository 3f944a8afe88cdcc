"""Which event broker the app uses: in-process by default, Redis pub/sub when
TANDEM_EVENT_BROKER names a Redis URL (several API processes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.redis_broker import RedisBroker
from resolvers.events import EventBroker, InProcessBroker


@asynccontextmanager
async def open_broker(url: str | None) -> AsyncIterator[EventBroker]:
    """The broker for `url` (None: in-process), closed on exit."""
    if url is None:
        yield InProcessBroker()
        return
    broker = RedisBroker(url)
    try:
        yield broker
    finally:
        await broker.close()
