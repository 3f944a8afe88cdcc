"""Events for subscriptions: a broker port and the in-process implementation.

Events are published after the write they describe has committed, addressed to one org,
and carry only what that org may see. With several API processes, a shared broker
(Redis pub/sub) takes the in-process one's place behind the same port.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

QUEUE_LIMIT = 1_000  # a subscriber this far behind loses the oldest events


@dataclass(frozen=True, slots=True)
class OverlapChanged:
    """A partner changed accounts in populations it shares with the addressee (at COUNTS
    or above): the addressee's overlap with it may have changed. No account identity."""

    partner_id: str
    partner_populations: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class DealRegistrationChanged:
    """A deal registration the addressee is vendor or partner of was created or moved.
    Carries only the registration's id and new status: the subscriber re-reads it
    through the API, which applies what that org may see."""

    registration_id: str
    status: str
    action: str  # REGISTER or a resolvers.deals.rules.DealAction value
    at: datetime


@dataclass(frozen=True, slots=True)
class IntroductionChanged:
    """An introduction or account ask the addressee is party to was created or moved.
    Id and status only: the subscriber re-reads it through the API."""

    kind: str  # INTRODUCTION or ASK
    object_id: str
    status: str
    at: datetime


Event = OverlapChanged | DealRegistrationChanged | IntroductionChanged


class EventBroker(Protocol):
    async def publish(self, org_id: str, event: Event) -> None: ...

    def subscribe(self, org_id: str) -> AsyncIterator[Event]: ...


class Subscribers:
    """This process's subscriber queues, by org. Each is bounded: a subscriber
    QUEUE_LIMIT events behind loses the oldest. Brokers deliver into it."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)

    def orgs(self) -> set[str]:
        """The orgs that have at least one subscriber here."""
        return set(self._queues)

    def deliver(self, org_id: str, event: Event) -> None:
        for queue in list(self._queues.get(org_id, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    async def stream(self, org_id: str) -> AsyncIterator[Event]:
        async with self.queue(org_id) as queue:
            while True:
                yield await queue.get()

    @asynccontextmanager
    async def queue(self, org_id: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._queues[org_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[org_id].discard(queue)
            if not self._queues[org_id]:
                del self._queues[org_id]


class InProcessBroker:
    """One API process: publish delivers straight into this process's queues."""

    def __init__(self) -> None:
        self._subscribers = Subscribers()

    async def publish(self, org_id: str, event: Event) -> None:
        self._subscribers.deliver(org_id, event)

    def subscribe(self, org_id: str) -> AsyncIterator[Event]:
        return self._subscribers.stream(org_id)
