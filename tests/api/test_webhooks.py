"""Webhooks end to end: endpoints registered through the API, events written by real deal
and introduction mutations into the real store's outbox, dispatcher rounds posting to a
real HTTP receiver on 127.0.0.1 that fails on purpose, and the record read back."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from strawberry.relay import from_base64

from api.app import create_app
from api.settings import Settings
from api.stores import Stores
from api.webhooks import dispatching
from graph.factory import open_store
from graph.identity import Role
from graph.model import OrgType
from resolvers.webhooks.config import WebhookConfig
from resolvers.webhooks.dispatcher import RoundReport, dispatch_once
from resolvers.webhooks.signing import (
    ID_HEADER,
    SignatureError,
    verify,
)
from tests.api.conftest import World, gid, settings_for, with_stores

HANG = -1  # a scripted answer: say nothing until the client has given up
TIMEOUT_S = 2.0  # generous: the CI machines are shared


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered (HANG: nothing in time)


@dataclass
class Receiver:
    """Answers each path from its script (then 200), and records every request."""

    url: str
    scripts: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self, path: str) -> int:
        with self.lock:
            script = self.scripts.get(path) or []
            return script.pop(0) if script else 200

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = state.next_answer(self.path)
            with state.lock:
                state.received.append(Received(self.path, dict(self.headers), body, status))
            if status == HANG:
                time.sleep(TIMEOUT_S + 2)
                status = 200
            self.send_response(status)
            self.send_header("content-length", "12")
            self.end_headers()
            self.wfile.write(b"receiver says")  # a body the dispatcher must not keep

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    # Rounds run when the test says (settings_for), with a tiny schedule: 10 ms to 50 ms.
    return settings_for(
        sqlite_url,
        TANDEM_WEBHOOK_RETRY_BASE_SECONDS="0.01",
        TANDEM_WEBHOOK_RETRY_CAP_SECONDS="0.05",
        TANDEM_WEBHOOK_MAX_ATTEMPTS="3",
        TANDEM_WEBHOOK_TIMEOUT_SECONDS=str(TIMEOUT_S),
    )


CREATE = """mutation($url: String!, $types: [WebhookEventType!]!) {
  createWebhookEndpoint(input: {url: $url, eventTypes: $types}) {
    endpoint { id url eventTypes active } secret errors { code field message } } }"""
DELETE = """mutation($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) {
    endpoint { id active } errors { code message } } }"""
REDELIVER = """mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) {
    delivery { id status attempts } errors { code message } } }"""
DELIVERIES = """query($endpoint: ID, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $endpoint, status: $status, first: 100) { edges { node {
    id eventId eventType eventAt payload status attempts nextAttemptAt lastAttemptAt
    lastStatusCode lastError deliveredAt endpoint { id url } } } } }"""
ENDPOINTS = "{ webhookEndpoints { edges { node { id url eventTypes active } } } }"
REGISTER = """mutation($vendor: ID!) { registerDeal(input: {vendorId: $vendor, role: RESELLER,
    amount: "1000", currency: "USD", expectedClose: "2027-06-30", domains: ["acme.com"]}) {
    registration { id status } errors { code } } }"""
REVIEW = """mutation($id: ID!, $decision: DealDecision!) {
  reviewDealRegistration(input: {id: $id, decision: $decision, reason: "ok"}) {
    registration { status } errors { code } } }"""
INTRO = """mutation($id: ID!) { requestIntroduction(input: {targetOrgId: $id,
    message: "hello"}) { introduction { id } errors { code } } }"""


@dataclass
class Hooks:
    world: World
    receiver: Receiver
    secrets: dict[str, str] = field(default_factory=dict)  # receiver path -> secret
    ids: dict[str, str] = field(default_factory=dict)  # receiver path -> endpoint gid

    def register(self, who: str, path: str, *types: str) -> dict[str, Any]:
        body = self.world.gql(who, CREATE, url=self.receiver.url + path, types=list(types))
        created: dict[str, Any] = body["data"]["createWebhookEndpoint"]
        assert created["errors"] == [], created
        self.secrets[path] = created["secret"]
        self.ids[path] = created["endpoint"]["id"]
        return created

    def round(self) -> RoundReport:
        settings = self.world.settings

        async def work(stores: Stores) -> RoundReport:
            return await dispatch_once(stores.graph, settings.webhooks)

        return self.world.run(work)

    def rounds_until(self, done: Callable[[], bool], *, limit: int = 60) -> None:
        """Rounds, a little apart (the schedule's cap is 50 ms), until `done`."""
        for _ in range(limit):
            self.round()
            if done():
                return
            time.sleep(0.06)
        raise AssertionError("the deliveries did not settle")

    def deliveries(self, who: str, **variables: Any) -> list[dict[str, Any]]:
        body = self.world.gql(who, DELIVERIES, **variables)
        assert "errors" not in body, body
        return [e["node"] for e in body["data"]["webhookDeliveries"]["edges"]]

    def pending(self, *who: str) -> int:
        return sum(len(self.deliveries(w, status="PENDING")) for w in who)

    def assert_signed(self, path: str) -> None:
        """Every request the receiver got at `path` carries a valid, fresh signature."""
        for request in self.receiver.at(path):
            verify(self.secrets[path], request.headers, request.body, now=time.time())


@pytest.fixture
def hooks(world: World, receiver: Receiver) -> Hooks:
    """Vendor v partners with reseller p; o is an org with nothing to do with either; open
    and open2 are discoverable. Every org's user is an ADMIN."""
    world.add_org("v", OrgType.VENDOR)
    for label in ("p", "o"):
        world.add_org(label, OrgType.RESELLER)
    world.add_org("open", OrgType.SI, discoverable=True)
    world.add_org("open2", OrgType.SI, discoverable=True)
    for label in ("v", "p", "o"):
        world.add_user(label, label)
    world.partner("v", "p", "p")
    return Hooks(world, receiver)


def test_events_reach_each_orgs_endpoints_signed_retried_and_recorded(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    hooks.register("v", "/v-deals", "DEAL_REGISTRATION")
    hooks.register("v", "/v-intros", "INTRODUCTION")
    hooks.register("p", "/p-deals", "DEAL_REGISTRATION")
    hooks.register("o", "/o-all", "DEAL_REGISTRATION", "INTRODUCTION")
    receiver.scripts["/v-deals"] = [500, 503]  # then 200
    receiver.scripts["/p-deals"] = [500, 500, 500]  # every attempt it gets

    registered = world.gql("p", REGISTER, vendor=gid("Org", world.orgs["v"]))
    registration = registered["data"]["registerDeal"]["registration"]
    assert registration["status"] == "PENDING_REVIEW", registered
    intro = world.gql("v", INTRO, id=gid("Org", world.orgs["open"]))
    assert intro["data"]["requestIntroduction"]["errors"] == []

    # Round one: every endpoint gets its first attempt; the record shows what happened.
    report = hooks.round()
    assert (report.attempted, report.succeeded, report.retrying) == (3, 1, 2)
    (v_deal,) = hooks.deliveries("v", endpoint=hooks.ids["/v-deals"])
    assert v_deal["status"] == "PENDING"
    assert (v_deal["attempts"], v_deal["lastStatusCode"], v_deal["lastError"]) == (
        1,
        500,
        "HTTP 500",
    )
    assert v_deal["nextAttemptAt"] is not None
    assert v_deal["endpoint"]["url"] == receiver.url + "/v-deals"
    assert v_deal["eventType"] == "DEAL_REGISTRATION"
    assert v_deal["payload"]["registration_id"] == from_base64(registration["id"])[1]
    assert v_deal["payload"]["status"] == "PENDING_REVIEW"
    assert "receiver says" not in str(v_deal)
    (v_intro,) = hooks.deliveries("v", endpoint=hooks.ids["/v-intros"])
    assert (v_intro["status"], v_intro["attempts"]) == ("SUCCEEDED", 1)
    assert v_intro["payload"]["kind"] == "INTRODUCTION"

    hooks.rounds_until(lambda: hooks.pending("v", "p") == 0)

    # v: two failures, then exactly one success, all of one delivery with the same bytes.
    v_requests = receiver.at("/v-deals")
    assert [r.status for r in v_requests] == [500, 503, 200]
    assert len({r.headers[ID_HEADER] for r in v_requests}) == 1
    assert len({r.body for r in v_requests}) == 1
    hooks.assert_signed("/v-deals")
    hooks.assert_signed("/v-intros")
    (v_deal,) = hooks.deliveries("v", endpoint=hooks.ids["/v-deals"])
    assert (v_deal["status"], v_deal["attempts"], v_deal["lastStatusCode"]) == (
        "SUCCEEDED",
        3,
        200,
    )
    assert v_deal["deliveredAt"] is not None
    assert from_base64(v_deal["id"])[1] == v_requests[0].headers[ID_HEADER]
    # Each org receives the event addressed to it: the same change, its own event id.
    (p_deal,) = hooks.deliveries("p")
    assert p_deal["eventId"] != v_deal["eventId"]
    assert p_deal["payload"]["registration_id"] == v_deal["payload"]["registration_id"]

    # p: three attempts used up -> FAILED, recorded; redelivery by hand then succeeds.
    assert [r.status for r in receiver.at("/p-deals")] == [500, 500, 500]
    assert (p_deal["status"], p_deal["attempts"], p_deal["lastError"]) == ("FAILED", 3, "HTTP 500")
    assert p_deal["nextAttemptAt"] is None
    assert hooks.deliveries("p", status="FAILED") == [p_deal]
    redelivered = world.gql("p", REDELIVER, id=p_deal["id"])["data"]["redeliverWebhook"]
    assert redelivered == {
        "delivery": {"id": p_deal["id"], "status": "PENDING", "attempts": 3},
        "errors": [],
    }
    hooks.rounds_until(lambda: hooks.pending("p") == 0)
    p_requests = receiver.at("/p-deals")
    assert [r.status for r in p_requests] == [500, 500, 500, 200]
    hooks.assert_signed("/p-deals")
    (p_deal,) = hooks.deliveries("p")
    assert (p_deal["status"], p_deal["attempts"]) == ("SUCCEEDED", 4)

    # o is party to nothing: it never received anything of v's or p's.
    assert receiver.at("/o-all") == []
    assert hooks.deliveries("o") == []
    # one successful request per event and endpoint
    successes = [(r.path, r.headers[ID_HEADER]) for r in receiver.received if r.status == 200]
    assert len(successes) == len(set(successes)) == 3


def test_refused_mutations_announce_nothing(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    for who, path in (("v", "/v"), ("p", "/p"), ("o", "/o")):
        hooks.register(who, path, "DEAL_REGISTRATION", "INTRODUCTION")
    made = world.gql("p", REGISTER, vendor=gid("Org", world.orgs["v"]))
    reg_id = made["data"]["registerDeal"]["registration"]["id"]
    hooks.rounds_until(lambda: hooks.pending("v", "p") == 0)
    baseline = len(receiver.received)
    assert baseline == 2  # v and p, one each

    refused = [
        world.gql("o", REGISTER, vendor=gid("Org", world.orgs["v"])),  # not a partner
        world.gql("o", REVIEW, id=reg_id, decision="APPROVE"),  # not its registration
        world.gql("p", REVIEW, id=reg_id, decision="APPROVE"),  # the partner cannot review
        world.gql("o", INTRO, id=gid("Org", world.orgs["v"])),  # private, outside o's reach
    ]
    assert [b["errors"][0]["extensions"]["code"] for b in refused] == [
        "NOT_FOUND",
        "NOT_FOUND",
        "FORBIDDEN",
        "NOT_FOUND",
    ]
    rejected = world.gql("v", REVIEW, id=reg_id, decision="REJECT")
    assert rejected["data"]["reviewDealRegistration"]["registration"]["status"] == "REJECTED"
    again = world.gql("v", REVIEW, id=reg_id, decision="APPROVE")  # a rule says no
    assert again["data"]["reviewDealRegistration"]["errors"][0]["code"] == "ILLEGAL_TRANSITION"

    hooks.rounds_until(lambda: hooks.pending("v", "p") == 0)
    new = receiver.received[baseline:]
    # Only the rejection was announced: to v and to p, once each.
    assert sorted(r.path for r in new) == ["/p", "/v"]
    assert all(b'"status":"REJECTED"' in r.body for r in new)
    assert hooks.round().fanned_out == 0
    assert hooks.deliveries("o") == []


def test_a_receiver_that_hangs_times_out_and_is_retried(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    hooks.register("v", "/slow", "INTRODUCTION")
    receiver.scripts["/slow"] = [HANG]
    world.gql("v", INTRO, id=gid("Org", world.orgs["open"]))
    started = time.monotonic()
    hooks.round()
    assert time.monotonic() - started < TIMEOUT_S + 2  # the attempt was cut off
    (first,) = hooks.deliveries("v")
    assert first["status"] == "PENDING"
    assert first["lastStatusCode"] is None
    assert first["lastError"] == f"no answer within {TIMEOUT_S:g} s"
    hooks.rounds_until(lambda: hooks.pending("v") == 0)
    (done,) = hooks.deliveries("v")
    assert (done["status"], done["attempts"]) == ("SUCCEEDED", 2)
    hooks.assert_signed("/slow")


def test_a_deleted_endpoint_receives_nothing_more(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    hooks.register("v", "/gone", "INTRODUCTION")
    receiver.scripts["/gone"] = [500, 500, 500]
    world.gql("v", INTRO, id=gid("Org", world.orgs["open"]))
    hooks.round()
    deleted = world.gql("v", DELETE, id=hooks.ids["/gone"])["data"]["deleteWebhookEndpoint"]
    assert deleted == {"endpoint": {"id": hooks.ids["/gone"], "active": False}, "errors": []}
    assert world.gql("v", ENDPOINTS)["data"]["webhookEndpoints"]["edges"] == []
    (record,) = hooks.deliveries("v")
    assert (record["status"], record["lastError"]) == ("FAILED", "endpoint deleted")
    again = world.gql("v", REDELIVER, id=record["id"])["data"]["redeliverWebhook"]
    assert again["delivery"] is None
    assert again["errors"][0]["code"] == "BAD_USER_INPUT"
    for _ in range(3):
        hooks.round()
    assert len(receiver.at("/gone")) == 1
    # a new event is not fanned out to it either
    later = world.gql("v", INTRO, id=gid("Org", world.orgs["open2"]))
    assert later["data"]["requestIntroduction"]["errors"] == []
    hooks.round()
    assert len(hooks.deliveries("v")) == 1


def test_endpoint_rules_are_payload_errors(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    cases = [
        ("http://hooks.example.com/x", ["DEAL_REGISTRATION"], "url"),
        ("https://10.0.0.1/x", ["DEAL_REGISTRATION"], "url"),
        ("https://user:pw@hooks.example.com/x", ["DEAL_REGISTRATION"], "url"),
        (receiver.url + "/x", [], "eventTypes"),
    ]
    for url, types, field_name in cases:
        body = world.gql("v", CREATE, url=url, types=types)["data"]["createWebhookEndpoint"]
        assert body["endpoint"] is None
        assert body["secret"] is None
        assert [(e["code"], e["field"]) for e in body["errors"]] == [
            ("BAD_USER_INPUT", field_name)
        ], url
    created = hooks.register("v", "/ok", "DEAL_REGISTRATION", "DEAL_REGISTRATION")
    assert created["endpoint"]["eventTypes"] == ["DEAL_REGISTRATION"]
    assert created["secret"].startswith("tdm_whsec_")
    listed = world.gql("v", ENDPOINTS)["data"]["webhookEndpoints"]["edges"]
    assert [e["node"]["url"] for e in listed] == [receiver.url + "/ok"]
    assert created["secret"] not in str(listed)


def test_the_endpoint_cap_holds(world: World, receiver: Receiver) -> None:
    world.add_org("v", OrgType.VENDOR)
    world.add_user("v", "v")
    cap = world.settings.webhooks.max_endpoints
    for i in range(cap):
        body = world.gql("v", CREATE, url=f"{receiver.url}/{i}", types=["INTRODUCTION"])
        assert body["data"]["createWebhookEndpoint"]["errors"] == []
    over = world.gql("v", CREATE, url=f"{receiver.url}/over", types=["INTRODUCTION"])
    (error,) = over["data"]["createWebhookEndpoint"]["errors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert f"at most {cap}" in error["message"]


def test_only_admins_touch_webhooks(hooks: Hooks) -> None:
    world = hooks.world
    for role in (Role.PARTNER_MANAGER, Role.SALES_REP, Role.READ_ONLY):
        world.add_user(role, "v", role)
        body = world.gql(role, CREATE, url=hooks.receiver.url + "/x", types=["INTRODUCTION"])
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
        for query in (ENDPOINTS, "{ webhookDeliveries { edges { node { id } } } }"):
            assert world.gql(role, query)["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_signatures_do_not_verify_with_another_endpoints_secret(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    hooks.register("v", "/one", "INTRODUCTION")
    hooks.register("v", "/two", "INTRODUCTION")
    world.gql("v", INTRO, id=gid("Org", world.orgs["open"]))
    hooks.round()
    (one,) = receiver.at("/one")
    verify(hooks.secrets["/one"], one.headers, one.body, now=time.time())
    with pytest.raises(SignatureError):
        verify(hooks.secrets["/two"], one.headers, one.body, now=time.time())


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.enough = asyncio.Event()  # set at the third failed round

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if len(self.failures()) >= 3:
            self.enough.set()

    def failures(self) -> list[str]:
        return [m for m in self.messages if m.startswith("webhook round failed")]


async def test_the_dispatcher_loop_outlives_a_store_outage(tmp_path: Path) -> None:
    """A store that cannot be reached fails every round; the loop logs and carries on."""
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}")
    # tandem's loggers do not propagate once the app configured them: listen directly.
    logger, collect = logging.getLogger("tandem.webhooks"), Collect()
    logger.addHandler(collect)
    try:
        async with dispatching(store, WebhookConfig(), interval_s=0.01) as task:
            assert task is not None
            async with asyncio.timeout(20):
                await collect.enough.wait()
            assert not task.done()
    finally:
        logger.removeHandler(collect)
        await store.close()
    assert len(collect.failures()) >= 3


def test_the_app_dispatches_by_itself(sqlite_url: str, receiver: Receiver) -> None:
    """With the dispatcher on, as in `tandem serve`, events arrive with no round run by hand."""
    settings = settings_for(
        sqlite_url, TANDEM_WEBHOOK_DISPATCH="true", TANDEM_WEBHOOK_INTERVAL_SECONDS="0.05"
    )
    with_stores(settings, _migrated)
    with TestClient(create_app(settings)) as client:
        world = World(client=client, settings=settings)
        world.add_org("v", OrgType.VENDOR)
        world.add_org("open", OrgType.SI, discoverable=True)
        world.add_user("v", "v")
        hooks = Hooks(world, receiver)
        hooks.register("v", "/auto", "INTRODUCTION")
        world.gql("v", INTRO, id=gid("Org", world.orgs["open"]))
        deadline = time.monotonic() + 30
        while not receiver.at("/auto") and time.monotonic() < deadline:
            time.sleep(0.05)
        hooks.assert_signed("/auto")
        (request,) = receiver.at("/auto")
        assert request.status == 200


async def _migrated(_: Stores) -> None:
    return None


# --- OVERLAP: account writes, through the outbox ------------------------------------------

UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
  created updated rejected } }"""
DELETE_ACCOUNTS = """mutation($ids: [String!]!) { deleteAccounts(input: {crmIds: $ids}) {
  deletedCrmIds errors { code } } }"""
END_PARTNERSHIP = """mutation($p: ID!) { endPartnership(input: {partnershipId: $p}) {
  partnership { status } errors { code } } }"""


def account_row(crm: str, *populations: str) -> dict[str, Any]:
    return {"crmId": crm, "name": crm, "domains": [f"{crm}.com"], "populations": list(populations)}


def overlap_bodies(hooks: Hooks, path: str) -> list[dict[str, Any]]:
    hooks.assert_signed(path)
    bodies = [json.loads(r.body) for r in hooks.receiver.at(path)]
    assert all(b["type"] == "OVERLAP" for b in bodies)
    return bodies


def test_overlap_events_reach_partners_that_may_see_the_population(hooks: Hooks) -> None:
    world, receiver = hooks.world, hooks.receiver
    world.add_org("r", OrgType.RESELLER)
    world.add_user("r", "r")
    world.add_user("v-viewer", "v", Role.READ_ONLY)
    ended = world.partner("v", "r", "r")
    world.share("v", "p", "CUSTOMER", "COUNTS")  # PROSPECT stays HIDDEN to p
    world.share("v", "r", "CUSTOMER", "OVERLAPS")
    world.share("v", "r", "PROSPECT", "COUNTS")
    world.share("p", "v", "CUSTOMER", "COUNTS")  # for p's own writes, below
    for who in ("v", "p", "r", "o"):
        hooks.register(who, f"/{who}", "OVERLAP", "DEAL_REGISTRATION", "INTRODUCTION")

    # HIDDEN to p: p hears nothing; r may see PROSPECT at COUNTS.
    body = world.gql("v", UPSERT, rows=[account_row("hid-1", "PROSPECT")])
    assert body["data"]["upsertAccounts"]["created"] == 1, body
    hooks.rounds_until(lambda: hooks.pending("v", "p", "r", "o") == 0)
    assert receiver.at("/p") == []
    [to_r] = overlap_bodies(hooks, "/r")
    assert to_r["orgId"] == world.orgs["r"]
    assert to_r["data"]["populations"] == ["PROSPECT"]

    # A shared population: p is told, of that population only, signed; never the writer.
    body = world.gql(
        "v", UPSERT, rows=[account_row("c-1", "CUSTOMER"), account_row("h-2", "PROSPECT")]
    )
    assert body["data"]["upsertAccounts"]["created"] == 2, body
    hooks.rounds_until(lambda: hooks.pending("v", "p", "r", "o") == 0)
    [to_p] = overlap_bodies(hooks, "/p")
    assert to_p["orgId"] == world.orgs["p"]
    assert set(to_p["data"]) == {"partner_org_id", "populations", "at"}  # no identity
    assert to_p["data"]["partner_org_id"] == world.orgs["v"]
    assert to_p["data"]["populations"] == ["CUSTOMER"]
    assert b"c-1" not in receiver.at("/p")[0].body
    assert [b["data"]["populations"] for b in overlap_bodies(hooks, "/r")] == [
        ["PROSPECT"],
        ["CUSTOMER", "PROSPECT"],
    ]
    assert receiver.at("/v") == []  # the writer's own endpoint
    assert receiver.at("/o") == []  # not a partner
    (p_delivery,) = hooks.deliveries("p")
    assert (p_delivery["eventType"], p_delivery["status"]) == ("OVERLAP", "SUCCEEDED")

    # p's write reaches v (p shares CUSTOMER with v), not p itself nor r.
    world.gql("p", UPSERT, rows=[account_row("pc-1", "CUSTOMER")])
    hooks.rounds_until(lambda: hooks.pending("v", "p", "r", "o") == 0)
    [to_v] = overlap_bodies(hooks, "/v")
    assert to_v["data"]["partner_org_id"] == world.orgs["p"]
    assert len(receiver.at("/p")) == 1
    assert len(receiver.at("/r")) == 2

    # Refused or empty writes, and writes by an org with no partners, announce nothing.
    baseline = len(receiver.received)
    assert (
        world.gql("o", UPSERT, rows=[account_row("oc-1", "CUSTOMER")])["data"]["upsertAccounts"][
            "created"
        ]
        == 1
    )
    forbidden = world.gql("v-viewer", UPSERT, rows=[account_row("c-9", "CUSTOMER")])
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    invalid = world.gql(
        "v", UPSERT, rows=[{"crmId": "c-8", "name": "x", "populations": ["CUSTOMER"]}]
    )
    assert invalid["data"]["upsertAccounts"]["rejected"] == 1  # no usable key
    nothing = world.gql("v", DELETE_ACCOUNTS, ids=["no-such-account"])
    assert nothing["data"]["deleteAccounts"]["deletedCrmIds"] == []
    assert hooks.round().fanned_out == 0
    assert len(receiver.received) == baseline

    # A delete announces every population the partner may see at COUNTS or above.
    deleted = world.gql("v", DELETE_ACCOUNTS, ids=["c-1"])
    assert deleted["data"]["deleteAccounts"]["deletedCrmIds"] == ["c-1"]
    hooks.rounds_until(lambda: hooks.pending("v", "p", "r", "o") == 0)
    assert [b["data"]["populations"] for b in overlap_bodies(hooks, "/p")] == [
        ["CUSTOMER"],
        ["CUSTOMER"],
    ]
    assert len(receiver.at("/r")) == 3
    assert len(receiver.at("/v")) == 1

    # Once the partnership has ended, r hears nothing more; p still does.
    assert world.gql("v", END_PARTNERSHIP, p=ended)["data"]["endPartnership"]["errors"] == []
    world.gql("v", UPSERT, rows=[account_row("c-2", "CUSTOMER", "PROSPECT")])
    hooks.rounds_until(lambda: hooks.pending("v", "p", "r", "o") == 0)
    assert len(receiver.at("/r")) == 3
    assert len(overlap_bodies(hooks, "/p")) == 3
    assert receiver.at("/o") == []
