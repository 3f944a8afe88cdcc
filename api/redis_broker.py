"""The event broker over Redis pub/sub, for several API processes.

One channel per org (`tandem:events:<org id>`); each event travels as a JSON object
{"type": <class name>, "event": {<field>: <value>}} and is parsed back into the same
frozen dataclass (datetimes as ISO 8601, so they round-trip exactly). A message that
does not parse, or names a type this process does not know (say, from a newer release
during a rolling deploy), is logged and skipped; it never ends a subscription.

Each process keeps one pub/sub connection, subscribed to the channels of the orgs that
have subscribers in this process (SUBSCRIBE when the first arrives, UNSUBSCRIBE when the
last leaves), and fans messages out into the same bounded per-subscriber queues as the
in-process broker. When Redis goes away the connection is re-opened with exponential
back-off (0.1 s doubling to 5 s) and every channel subscribed again; subscriptions stay
open meanwhile. Pub/sub delivers at most once, so events published while the connection
is down are lost: they are notifications to re-read through the API, as with a full
queue. Publishing never fails the write it follows (that has committed already): a
Redis error is logged and the event dropped, and for the next few seconds events are
dropped without trying, so an unreachable Redis does not slow every mutation down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
import typing
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import fields
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from resolvers.events import Event, Subscribers

log = logging.getLogger("tandem.events")

CHANNEL_PREFIX = "tandem:events:"
EVENT_TYPES: dict[str, type[Event]] = {kind.__name__: kind for kind in typing.get_args(Event)}
BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 5.0
IDLE_CHECK_S = 30.0  # an idle pub/sub connection is PINGed this often, to notice a dead one
PUBLISH_TIMEOUT_S = 2.0
PUBLISH_PAUSE_S = 5.0  # after a failed publish, events are dropped without trying this long


class MalformedEvent(ValueError):
    """A message on an events channel that is not an event this process knows."""


def channel(org_id: str) -> str:
    return CHANNEL_PREFIX + org_id


def encode(event: Event) -> str:
    body = {f.name: _encode_value(getattr(event, f.name)) for f in fields(event)}
    return json.dumps({"type": type(event).__name__, "event": body}, separators=(",", ":"))


def decode(data: str | bytes) -> Event:
    """The event in a message's data; MalformedEvent when it is not one."""
    try:
        message = json.loads(data)
    except ValueError as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    if not isinstance(message, dict):
        raise MalformedEvent("not a JSON object")
    kind = EVENT_TYPES.get(message.get("type"))  # type: ignore[arg-type]
    if kind is None:
        raise MalformedEvent(f"unknown event type {message.get('type')!r}")
    body = message.get("event")
    if not isinstance(body, dict):
        raise MalformedEvent(f"{kind.__name__}: no event object")
    hints = typing.get_type_hints(kind)
    values: dict[str, Any] = {}
    for f in fields(kind):
        if f.name not in body:  # extra keys are ignored: a newer release may add fields
            raise MalformedEvent(f"{kind.__name__}: no {f.name}")
        values[f.name] = _decode_value(hints[f.name], body[f.name], f"{kind.__name__}.{f.name}")
    return kind(**values)


def _encode_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode_value(item) for item in value]
    if isinstance(value, str):
        return value
    raise TypeError(f"events carry str, datetime and tuples of them, not {type(value)}")


def _decode_value(hint: Any, raw: object, where: str) -> object:
    if hint is str:
        if not isinstance(raw, str):
            raise MalformedEvent(f"{where}: not a string")
        return raw
    if hint is datetime:
        if not isinstance(raw, str):
            raise MalformedEvent(f"{where}: not an ISO 8601 string")
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            raise MalformedEvent(f"{where}: not an ISO 8601 time") from None
    if typing.get_origin(hint) is tuple:
        item, *rest = typing.get_args(hint)
        if rest != [Ellipsis] or not isinstance(raw, list):
            raise MalformedEvent(f"{where}: not a list")
        return tuple(_decode_value(item, value, where) for value in raw)
    raise TypeError(f"{where}: events carry str, datetime and tuples of them, not {hint}")


class RedisBroker:
    """EventBroker over Redis pub/sub; see the module's docstring. Call close() once."""

    def __init__(self, url: str, *, publish_pause_s: float = PUBLISH_PAUSE_S) -> None:
        self.url = url
        self.publish_pause_s = publish_pause_s
        # Publishing: a bounded wait, one retry; then the event is dropped (logged).
        self._publisher = Redis.from_url(
            url,
            socket_timeout=PUBLISH_TIMEOUT_S,
            socket_connect_timeout=PUBLISH_TIMEOUT_S,
            retry=Retry(NoBackoff(), 1),
        )
        # Listening: no retries inside the driver; the listener re-connects itself and
        # subscribes again, so it alone decides what is subscribed. Its connection is
        # named, so CLIENT LIST tells which process it is.
        self.listener_name = f"tandem-events-{os.getpid()}-{secrets.token_hex(3)}"
        self._listener_client = Redis.from_url(
            url,
            client_name=self.listener_name,
            socket_connect_timeout=PUBLISH_TIMEOUT_S,
            health_check_interval=int(IDLE_CHECK_S),
            retry=Retry(NoBackoff(), 0),
        )
        self._subscribers = Subscribers()
        self._changed = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._connected = False  # the pub/sub connection is up
        self._lost = False  # it went down, and a warning said so
        self._publish_down_until = 0.0  # time.monotonic() until which publish drops
        self.dropped = 0  # events dropped without trying since the last failure
        self._closed = False

    async def publish(self, org_id: str, event: Event) -> None:
        if time.monotonic() < self._publish_down_until:
            self.dropped += 1  # Redis failed a moment ago: no wait on every mutation
            return
        try:
            await self._publisher.publish(channel(org_id), encode(event))
        except (RedisError, OSError) as error:
            self._publish_down_until = time.monotonic() + self.publish_pause_s
            log.warning(
                "event %s for org %s not published (Redis: %s); subscribers miss it, and "
                "events are dropped without trying for %gs",
                type(event).__name__,
                org_id,
                error,
                self.publish_pause_s,
            )
            return
        if self.dropped:
            log.warning("events dropped while Redis was unreachable: %d", self.dropped)
            self.dropped = 0

    async def subscribe(self, org_id: str) -> AsyncIterator[Event]:
        if self._closed:
            raise RuntimeError("the Redis event broker is closed")
        try:
            async with self._subscribers.queue(org_id) as queue:
                self._changed.set()  # the listener SUBSCRIBEs to the org's channel
                if self._listener is None:
                    self._listener = asyncio.create_task(self._listen(), name="tandem-events")
                while True:
                    yield await queue.get()
        finally:
            self._changed.set()  # and UNSUBSCRIBEs when this was its last subscriber

    async def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._publisher.aclose()
        await self._listener_client.aclose()

    async def _listen(self) -> None:
        """Keep one pub/sub connection subscribed to the wanted channels, for ever."""
        delay = BACKOFF_MIN_S
        while True:
            pubsub = self._listener_client.pubsub()
            try:
                await self._pump(pubsub)
            except (RedisError, OSError) as error:
                self._lost = True
                log.warning("Redis event subscription lost (%s); retrying in %.1fs", error, delay)
            except Exception:  # a bug must not leave subscribers waiting for ever
                self._lost = True
                log.exception("Redis event listener failed; retrying in %.1fs", delay)
            finally:
                with suppress(RedisError, OSError):
                    await pubsub.aclose()
            if self._connected:
                delay = BACKOFF_MIN_S  # it was up: the first retry comes quickly
            self._connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def _pump(self, pubsub: PubSub) -> None:
        """SUBSCRIBE/UNSUBSCRIBE as subscribers come and go, and deliver messages,
        until the connection fails."""
        await pubsub.connect()  # type: ignore[no-untyped-call]
        if self._lost:
            log.info("Redis event subscription re-opened")
        self._connected, self._lost = True, False
        subscribed: set[str] = set()
        reading: asyncio.Task[Any] | None = None
        try:
            while True:
                self._changed.clear()
                wanted = {channel(org) for org in self._subscribers.orgs()}
                if wanted - subscribed:
                    await pubsub.subscribe(*(wanted - subscribed))
                    subscribed |= wanted
                if subscribed - wanted:
                    await pubsub.unsubscribe(*(subscribed - wanted))
                    subscribed &= wanted
                if reading is None:
                    reading = asyncio.create_task(
                        pubsub.get_message(ignore_subscribe_messages=True, timeout=IDLE_CHECK_S)
                    )
                changed = asyncio.create_task(self._changed.wait())
                done, _ = await asyncio.wait(
                    {reading, changed}, return_when=asyncio.FIRST_COMPLETED
                )
                changed.cancel()
                if reading in done:
                    message = reading.result()
                    reading = None
                    if message is not None:
                        self._dispatch(message)
        finally:
            if reading is not None:
                reading.cancel()
                with suppress(asyncio.CancelledError, RedisError, OSError):
                    await reading

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        name = message["channel"]
        name = name.decode() if isinstance(name, bytes) else str(name)
        if not name.startswith(CHANNEL_PREFIX):
            return
        org_id = name.removeprefix(CHANNEL_PREFIX)
        try:
            event = decode(message["data"])
        except MalformedEvent as error:
            log.warning("skipped a message on %s: %s", name, error)
            return
        self._subscribers.deliver(org_id, event)
