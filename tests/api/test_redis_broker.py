"""The Redis pub/sub event broker, against a real Redis (tools/test starts one and sets
TANDEM_TEST_REDIS_URL): every event type round-trips, orgs stay apart, bad messages are
skipped, a lost connection is re-opened, and two app instances sharing one Redis tell
each other's subscribers."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
import typing
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis
import redis.asyncio
from starlette.testclient import TestClient

from api.app import create_app
from api.redis_broker import RedisBroker, channel, decode, encode
from graph.errors import ConfigurationError
from resolvers.events import (
    QUEUE_LIMIT,
    DealRegistrationChanged,
    Event,
    IntroductionChanged,
    OverlapChanged,
    Subscribers,
)
from tests.api.conftest import World, settings_for, with_stores
from tests.api.test_subscriptions import UPSERT, connect, partnered, row, subscribe
from tests.backends import redis_url

AT = datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
EVENTS: list[Event] = [
    OverlapChanged("org-p", ("CUSTOMER", "PROSPECT"), AT),
    OverlapChanged("org-q", (), AT + timedelta(microseconds=1)),
    DealRegistrationChanged("reg-1", "APPROVED", "APPROVE", AT),
    IntroductionChanged("ASK", "ask-1", "ACCEPTED", AT.astimezone(timezone(timedelta(hours=2)))),
]
WAIT_S = 10.0


@pytest.fixture(scope="session")
def redis_server() -> str:
    url = redis_url()
    if url is None:
        pytest.skip("TANDEM_TEST_REDIS_URL is not set (a quick loop naming TANDEM_TEST_BACKENDS)")
    return url


@pytest.fixture
async def admin(redis_server: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_server)
    yield client
    await client.aclose()


@pytest.fixture
async def broker(redis_server: str) -> AsyncIterator[RedisBroker]:
    """The subscribing process's broker."""
    opened = RedisBroker(redis_server)
    yield opened
    await opened.close()


@pytest.fixture
async def publisher(redis_server: str) -> AsyncIterator[RedisBroker]:
    """Another process's broker, on the same Redis."""
    opened = RedisBroker(redis_server)
    yield opened
    await opened.close()


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_logged() -> Iterator[Warnings]:
    handler = Warnings()
    logger = logging.getLogger("tandem.events")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def new_org() -> str:
    return f"test-{uuid.uuid4().hex}"


async def numsub(admin: redis.asyncio.Redis, org_id: str) -> int:
    [(_, count)] = await admin.pubsub_numsub(channel(org_id))
    return int(count)


async def wait_numsub(admin: redis.asyncio.Redis, org_id: str, wanted: int) -> None:
    """Until `wanted` connections are subscribed to the org's channel."""
    async with asyncio.timeout(WAIT_S):
        while await numsub(admin, org_id) != wanted:  # noqa: ASYNC110 - Redis is polled
            await asyncio.sleep(0.02)


async def next_of(stream: AsyncIterator[Event]) -> Event:
    async with asyncio.timeout(WAIT_S):
        return await anext(stream)


# -- the codec, without Redis -------------------------------------------------------


def test_the_examples_cover_every_event_type() -> None:
    assert {type(event) for event in EVENTS} == set(typing.get_args(Event))


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_events_round_trip_through_json_exactly(event: Event) -> None:
    back = decode(encode(event).encode())
    assert back == event
    assert type(back) is type(event)
    assert back.at.utcoffset() == event.at.utcoffset()
    assert back.at.isoformat() == event.at.isoformat()


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[1, 2]",
        b'{"type": "Nonsense", "event": {}}',
        b'{"type": "OverlapChanged"}',
        b'{"type": "OverlapChanged", "event": {"partner_id": "p", "at": "2025-01-01T00:00:00"}}',
        b'{"type": "IntroductionChanged", "event": '
        b'{"kind": "ASK", "object_id": 7, "status": "OPEN", "at": "2025-01-01T00:00:00"}}',
        b'{"type": "OverlapChanged", "event": '
        b'{"partner_id": "p", "partner_populations": "AB", "at": "2025-01-01T00:00:00"}}',
        b'{"type": "DealRegistrationChanged", "event": '
        b'{"registration_id": "r", "status": "S", "action": "A", "at": "yesterday"}}',
    ],
)
def test_malformed_messages_are_refused(data: bytes) -> None:
    from api.redis_broker import MalformedEvent

    with pytest.raises(MalformedEvent):
        decode(data)


def test_fields_a_newer_release_adds_are_ignored() -> None:
    message = json.loads(encode(EVENTS[0]))
    message["event"]["colour"] = "blue"
    assert decode(json.dumps(message)) == EVENTS[0]


async def test_a_subscriber_far_behind_loses_the_oldest_events() -> None:
    subscribers = Subscribers()
    async with subscribers.queue("org") as queue:
        for n in range(QUEUE_LIMIT + 3):
            subscribers.deliver("org", OverlapChanged(f"p{n}", (), AT))
        assert queue.qsize() == QUEUE_LIMIT
        first = queue.get_nowait()
    assert isinstance(first, OverlapChanged)
    assert first.partner_id == "p3"
    assert subscribers.orgs() == set()


# -- settings -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "in-process"])
def test_the_in_process_broker_is_the_default(value: str | None, sqlite_url: str) -> None:
    env = {} if value is None else {"TANDEM_EVENT_BROKER": value}
    assert settings_for(sqlite_url, **env).event_broker_url is None


@pytest.mark.parametrize(
    "value", ["redis://127.0.0.1:6379/0", "rediss://cache.internal:6380", "unix:///run/r.sock"]
)
def test_a_redis_url_picks_the_redis_broker(value: str, sqlite_url: str) -> None:
    assert settings_for(sqlite_url, TANDEM_EVENT_BROKER=value).event_broker_url == value


@pytest.mark.parametrize(
    "value", ["redis", "memcached://h:11211", "redis://", "redis://h:port/0", "http://h"]
)
def test_anything_else_is_a_configuration_error(value: str, sqlite_url: str) -> None:
    with pytest.raises(ConfigurationError, match="TANDEM_EVENT_BROKER"):
        settings_for(sqlite_url, TANDEM_EVENT_BROKER=value)


def test_the_error_does_not_show_the_redis_password(sqlite_url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings_for(sqlite_url, TANDEM_EVENT_BROKER="redis://:hunter2@h:port/0")
    assert "hunter2" not in str(refused.value)


# -- the broker, against Redis --------------------------------------------------------


async def test_every_event_type_round_trips_between_processes(
    broker: RedisBroker, publisher: RedisBroker, admin: redis.asyncio.Redis
) -> None:
    org = new_org()
    async with aclosing(broker.subscribe(org)) as stream:
        first = asyncio.ensure_future(next_of(stream))  # the subscriber starts listening
        await wait_numsub(admin, org, 1)
        for event in EVENTS:
            await publisher.publish(org, event)
        received = [await first] + [await next_of(stream) for _ in EVENTS[1:]]
    assert received == EVENTS
    assert [type(e) for e in received] == [type(e) for e in EVENTS]
    assert [e.at.isoformat() for e in received] == [e.at.isoformat() for e in EVENTS]
    await wait_numsub(admin, org, 0)  # the last subscriber gone: UNSUBSCRIBEd


async def test_a_subscriber_hears_nothing_published_to_another_org(
    broker: RedisBroker, publisher: RedisBroker, admin: redis.asyncio.Redis
) -> None:
    org_a, org_b = new_org(), new_org()
    async with aclosing(broker.subscribe(org_b)) as stream:
        first = asyncio.ensure_future(next_of(stream))
        await wait_numsub(admin, org_b, 1)
        await publisher.publish(org_a, EVENTS[0])
        await publisher.publish(org_b, EVENTS[2])
        assert await first == EVENTS[2]


async def test_one_channel_per_org_while_any_subscriber_is_left(
    broker: RedisBroker, publisher: RedisBroker, admin: redis.asyncio.Redis
) -> None:
    org = new_org()
    async with aclosing(broker.subscribe(org)) as one, aclosing(broker.subscribe(org)) as two:
        first_one = asyncio.ensure_future(next_of(one))
        first_two = asyncio.ensure_future(next_of(two))
        await wait_numsub(admin, org, 1)  # one connection per process, not per subscriber
        await publisher.publish(org, EVENTS[0])
        assert await first_one == await first_two == EVENTS[0]
        await one.aclose()
        await publisher.publish(org, EVENTS[1])
        assert await next_of(two) == EVENTS[1]
        assert await numsub(admin, org) == 1
    await wait_numsub(admin, org, 0)


async def test_malformed_messages_are_logged_and_skipped(
    broker: RedisBroker,
    publisher: RedisBroker,
    admin: redis.asyncio.Redis,
    warnings_logged: Warnings,
) -> None:
    org = new_org()
    async with aclosing(broker.subscribe(org)) as stream:
        first = asyncio.ensure_future(next_of(stream))
        await wait_numsub(admin, org, 1)
        await admin.publish(channel(org), b"\xff not json")
        await admin.publish(channel(org), json.dumps({"type": "FromTheFuture", "event": {}}))
        await publisher.publish(org, EVENTS[1])
        assert await first == EVENTS[1]  # the subscription outlived both
    skipped = [m for m in warnings_logged.messages if m.startswith("skipped a message")]
    assert len(skipped) == 2
    assert "FromTheFuture" in skipped[1]


async def test_a_lost_connection_is_reopened_and_subscribed_again(
    broker: RedisBroker,
    publisher: RedisBroker,
    admin: redis.asyncio.Redis,
    warnings_logged: Warnings,
) -> None:
    org = new_org()
    async with aclosing(broker.subscribe(org)) as stream:
        first = asyncio.ensure_future(next_of(stream))
        await wait_numsub(admin, org, 1)
        killed = 0
        for client in await admin.client_list():
            if client["name"] == broker.listener_name:
                killed += await admin.client_kill_filter(_id=client["id"])
        assert killed == 1
        await wait_numsub(admin, org, 1)  # back, after the back-off
        await publisher.publish(org, EVENTS[3])
        assert await first == EVENTS[3]
    assert any("subscription lost" in m for m in warnings_logged.messages)


SCRIPT = Path(__file__).parents[2] / "tools" / "redis" / "redis.sh"


def own_redis(command: str, state: Path) -> str:
    result = subprocess.run(
        ["bash", str(SCRIPT), command, str(state)],
        capture_output=True,
        text=True,
        timeout=300,  # the first start may install redis-server
        check=True,
    )
    return result.stdout.strip()


async def test_subscriptions_outlive_a_redis_restart(
    redis_server: str, tmp_path: Path, warnings_logged: Warnings
) -> None:
    """A Redis of this test's own is stopped and started again (same port): the open
    subscription is subscribed again once it is back, and hears what is published."""
    state = tmp_path / "redis"
    url = await asyncio.to_thread(own_redis, "start", state)
    broker, publisher = RedisBroker(url), RedisBroker(url, publish_pause_s=0.1)
    admin = redis.asyncio.Redis.from_url(url)
    org = new_org()
    try:
        async with aclosing(broker.subscribe(org)) as stream:
            first = asyncio.ensure_future(next_of(stream))
            await wait_numsub(admin, org, 1)
            await asyncio.to_thread(own_redis, "stop", state)
            await publisher.publish(org, EVENTS[0])  # lost: nobody to take it
            await asyncio.sleep(0.5)  # a few failed re-connects, backing off
            assert await asyncio.to_thread(own_redis, "start", state) == url
            await admin.aclose()  # its connection went with the server
            admin = redis.asyncio.Redis.from_url(url)
            await wait_numsub(admin, org, 1)
            await publisher.publish(org, EVENTS[2])
            assert await first == EVENTS[2]
    finally:
        await broker.close()
        await publisher.close()
        await admin.aclose()
        await asyncio.to_thread(own_redis, "stop", state)
    assert any("subscription lost" in m for m in warnings_logged.messages)
    assert any("not published" in m for m in warnings_logged.messages)


async def test_publishing_without_redis_loses_the_event_not_the_write(
    warnings_logged: Warnings,
) -> None:
    nowhere = RedisBroker("redis://127.0.0.1:1/0")
    try:
        await nowhere.publish(new_org(), EVENTS[0])  # does not raise
        await nowhere.publish(new_org(), EVENTS[1])  # dropped without trying again
    finally:
        await nowhere.close()
    assert sum("not published" in m for m in warnings_logged.messages) == 1
    assert nowhere.dropped == 1


# -- two app instances on one Redis ------------------------------------------------


def wait_subscribed(admin: redis.Redis, org_id: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while admin.pubsub_numsub(channel(org_id))[0][1] < 1:
        assert time.monotonic() < deadline, f"nobody subscribed to {channel(org_id)}"
        time.sleep(0.02)


def test_two_app_instances_share_events_through_redis(redis_server: str, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, TANDEM_EVENT_BROKER=redis_server)
    with_stores(settings, lambda _: asyncio.sleep(0))  # migrated, as tandem serve does
    admin = redis.Redis.from_url(redis_server)
    with (
        TestClient(create_app(settings)) as one,
        TestClient(create_app(settings)) as two,
        admin,
    ):
        world = World(client=one, settings=settings)
        partnered(world)  # a-b partners sharing CUSTOMER; c is nobody's partner
        world_two = World(client=two, settings=settings, orgs=world.orgs, tokens=world.tokens)
        with (
            connect(one, world.tokens["ben"]) as ben,
            connect(one, world.tokens["cleo"]) as cleo,
        ):
            subscribe(ben)
            subscribe(cleo)
            wait_subscribed(admin, world.orgs["b"])
            wait_subscribed(admin, world.orgs["c"])
            world_two.gql("anna", UPSERT, rows=[row("cust1", "CUSTOMER")])  # on instance 2
            heard = ben.receive_json()
            # Then a marker for c: were anything of the write's for c, it would come first
            # (one pub/sub connection per instance delivers in publishing order).
            marker = OverlapChanged(world.orgs["a"], ("MARKER",), AT)
            admin.publish(channel(world.orgs["c"]), encode(marker))
            cleo_heard = cleo.receive_json()
            ben.send_json({"id": "1", "type": "complete"})
            cleo.send_json({"id": "1", "type": "complete"})
    assert heard["type"] == "next"
    event = heard["payload"]["data"]["overlapEvents"]
    assert event["partner"] == {"name": "Org a"}
    assert event["partnerPopulations"] == ["CUSTOMER"]
    assert cleo_heard["type"] == "next"
    assert cleo_heard["payload"]["data"]["overlapEvents"]["partnerPopulations"] == ["MARKER"]
