"""The tenant-isolation matrix, from the attacker's side.

Orgs: A (vendor) partners with B; B also partners with D; C partners with no one.
Every query and mutation that takes an object is tried by each actor against objects
it must not reach, by global ID, with every kind of bad credential. Adding a case is
one line in CASES; later capabilities add their operations to OPERATIONS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from strawberry.relay import from_base64

from api.app import create_app
from api.stores import Stores
from graph.identity import Role, Token, TokenKind, TokenScope
from graph.model import OrgType
from resolvers.auth.tokens import new_token, token_hash
from resolvers.clock import utcnow
from resolvers.ids import new_id
from resolvers.webhooks.dispatcher import fan_out
from tests.api.conftest import World, gid, settings_for

OPERATIONS: dict[str, str] = {
    "node": "query($id: ID!) { node(id: $id) { id } }",
    "nodes": "query($id: ID!) { nodes(ids: [$id]) { id } }",
    "sharing": "query($id: ID!) { sharing(partnerId: $id) { outgoing { level } } }",
    "setSharingRule": """mutation($id: ID!) { setSharingRule(input: {partnerId: $id,
        population: "CUSTOMER", level: DETAILS}) { sharingRule { level } errors { code } } }""",
    "respond": """mutation($id: ID!) { respondToPartnership(input: {partnershipId: $id,
        accept: true}) { partnership { status } errors { code } } }""",
    "end": """mutation($id: ID!) { endPartnership(input: {partnershipId: $id}) {
        partnership { status } errors { code } } }""",
    "revokeToken": """mutation($id: ID!) { revokeApiToken(input: {id: $id}) {
        apiToken { id } errors { code } } }""",
    "invite": """mutation($id: ID!) { invitePartner(input: {orgId: $id}) {
        partnership { id } errors { code } } }""",
    "overlapMatrix": "query($id: ID!) { overlapMatrix(partnerId: $id) { cells { myCount } } }",
    "overlaps": """query($id: ID!) { overlaps(partnerId: $id) { edges { node {
        account { crmId } partnerPopulations } } } }""",
    "recommend": """query($id: ID!) { recommendPartnersForAccount(accountId: $id) {
        edges { node { partner { id } } } } }""",
    "registerDeal": """mutation($id: ID!) { registerDeal(input: {vendorId: $id, role: SI,
        amount: "10", currency: "USD", expectedClose: "2027-06-30", domains: ["shared2.com"]})
        { registration { id } errors { code } } }""",
    "reviewDeal": """mutation($id: ID!) { reviewDealRegistration(input: {id: $id,
        decision: REJECT, reason: "no"}) { registration { status } errors { code } } }""",
    "extendDeal": """mutation($id: ID!) { extendDealRegistration(input: {id: $id}) {
        registration { status } errors { code } } }""",
    "withdrawDeal": """mutation($id: ID!) { withdrawDealRegistration(input: {id: $id}) {
        registration { status } errors { code } } }""",
    "dealAccount": """query($id: ID!) { node(id: $id) { ... on DealRegistration {
        account { id } } } }""",
    "dealsOnAccount": """query($id: ID!) { dealRegistrations(side: VENDOR, accountId: $id) {
        edges { node { id } } } }""",
    "setDirectOnly": """mutation($id: ID!) { setDirectOnly(input: {accountIds: [$id],
        directOnly: true}) { changedAccountIds errors { code } } }""",
    "requestIntro": """mutation($id: ID!) { requestIntroduction(input: {targetOrgId: $id,
        message: "hello"}) { introduction { id } errors { code } } }""",
    "respondIntro": """mutation($id: ID!) { respondToIntroduction(input: {id: $id,
        answer: ACCEPT}) { introduction { status } errors { code } } }""",
    "answerAsk": """mutation($id: ID!) { answerAccountAsk(input: {id: $id, accept: true}) {
        ask { status } errors { code } } }""",
    "block": """mutation($id: ID!) { setOrgBlock(input: {orgId: $id, blocked: true}) {
        changed errors { code } } }""",
    "deleteWebhook": """mutation($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) {
        endpoint { id } errors { code } } }""",
    "redeliverWebhook": """mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) {
        delivery { id } errors { code } } }""",
    "webhookUrl": """query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { url } } }""",
    "deliveriesOfEndpoint": """query($id: ID!) { webhookDeliveries(endpointId: $id) {
        edges { node { id payload } } } }""",
}
# Operations that take no object: tried by bad credentials only.
LISTS: dict[str, str] = {
    "viewer": "{ viewer { role } }",
    "partnerships": "{ partnerships { edges { node { id } } } }",
    "apiTokens": "{ apiTokens { edges { node { id } } } }",
    "auditLog": "{ auditLog { edges { node { id } } } }",
    "accounts": "{ accounts { totalCount edges { node { id } } } }",
    "coSellAccounts": "{ coSellAccounts { edges { node { account { id } } } } }",
    "dealRegistrations": "{ dealRegistrations(side: PARTNER) { edges { node { id } } } }",
    "dealProgram": "{ dealProgram { expiryDays } }",
    "complementaryPartners": "{ complementaryPartners { edges { node { score } } } }",
    "introductions": "{ introductions(role: TARGET) { edges { node { id } } } }",
    "accountAsks": "{ accountAsks(side: PARTNER) { edges { node { id } } } }",
    "webhookEndpoints": "{ webhookEndpoints { edges { node { id url } } } }",
    "webhookDeliveries": "{ webhookDeliveries { edges { node { id payload } } } }",
}

NULL, VISIBLE = "null", "visible"

# (actor, operation, target, expected): expected is an error code, NULL or VISIBLE.
CASES: list[tuple[str, str, str, str]] = [
    ("c", "node", "P_AB", NULL),
    ("c", "node", "A", NULL),
    ("c", "node", "B", NULL),
    ("c", "nodes", "P_AB", NULL),
    ("c", "nodes", "A", NULL),
    ("a", "node", "P_BD", NULL),
    ("a", "node", "D", NULL),
    ("a", "nodes", "P_BD", NULL),
    ("a", "node", "B", VISIBLE),  # control: a partner is visible
    ("a", "node", "P_AB", VISIBLE),  # control: its own partnership
    ("c", "node", "OPEN", VISIBLE),  # control: a discoverable org
    ("c", "sharing", "A", "NOT_FOUND"),
    ("c", "sharing", "OPEN", "NOT_FOUND"),
    ("a", "sharing", "D", "NOT_FOUND"),
    ("c", "setSharingRule", "A", "NOT_FOUND"),
    ("a", "setSharingRule", "D", "NOT_FOUND"),
    ("c", "respond", "P_AB", "NOT_FOUND"),
    ("a", "respond", "P_BD", "NOT_FOUND"),
    ("c", "end", "P_AB", "NOT_FOUND"),
    ("a", "end", "P_BD", "NOT_FOUND"),
    ("c", "revokeToken", "A_TOKEN", "NOT_FOUND"),
    ("b", "revokeToken", "A_TOKEN", "NOT_FOUND"),
    ("a_rep", "revokeToken", "A_TOKEN", "NOT_FOUND"),  # another user's token, same org
    ("a_ro", "setSharingRule", "B", "FORBIDDEN"),
    ("a_ro", "end", "P_AB", "FORBIDDEN"),
    ("a_ro", "invite", "C", "FORBIDDEN"),
    ("a_rep", "setSharingRule", "B", "FORBIDDEN"),
    ("a_read_token", "setSharingRule", "B", "FORBIDDEN"),
    ("a_read_token", "end", "P_AB", "FORBIDDEN"),
    ("c", "overlapMatrix", "A", "NOT_FOUND"),  # a non-partner yields nothing
    ("c", "overlaps", "A", "NOT_FOUND"),
    ("c", "overlapMatrix", "OPEN", "NOT_FOUND"),  # discoverable is not partnered
    ("a", "overlapMatrix", "D", "NOT_FOUND"),  # a partner's partner
    ("a", "overlaps", "D", "NOT_FOUND"),
    ("b", "overlapMatrix", "A", VISIBLE),  # control: an ACTIVE partner
    ("c", "node", "A_ACCOUNT", NULL),  # another org's account, by global ID
    ("b", "node", "A_ACCOUNT", NULL),  # even a partner's
    ("a", "node", "A_ACCOUNT", VISIBLE),  # control
    ("b", "recommend", "A_ACCOUNT", "NOT_FOUND"),  # a partner's account
    ("c", "recommend", "A_ACCOUNT", "NOT_FOUND"),
    ("a", "recommend", "A_ACCOUNT", VISIBLE),  # control
    # deal registrations: b registered with vendor a (REG_BA); d is b's partner, not a's
    ("c", "registerDeal", "A", "NOT_FOUND"),  # a non-partner cannot register
    ("d", "registerDeal", "A", "NOT_FOUND"),  # nor a partner's partner
    ("c", "registerDeal", "OPEN", "NOT_FOUND"),  # discoverable is not partnered
    ("a_ro", "registerDeal", "B", "FORBIDDEN"),
    ("a_read_token", "registerDeal", "B", "FORBIDDEN"),
    ("c", "node", "REG_BA", NULL),
    ("d", "node", "REG_BA", NULL),
    ("b", "node", "REG_BA", VISIBLE),  # control: the partner
    ("a", "node", "REG_BA", VISIBLE),  # control: the vendor
    ("b", "dealAccount", "REG_BA", NULL),  # the partner never gets the vendor's account
    ("a", "dealAccount", "REG_BA", VISIBLE),  # control
    ("c", "reviewDeal", "REG_BA", "NOT_FOUND"),
    ("d", "reviewDeal", "REG_BA", "NOT_FOUND"),
    ("b", "reviewDeal", "REG_BA", "FORBIDDEN"),  # a partner cannot review its own
    ("a_rep", "reviewDeal", "REG_BA", "FORBIDDEN"),  # a sales rep does not review
    ("a_read_token", "reviewDeal", "REG_BA", "FORBIDDEN"),
    ("c", "extendDeal", "REG_BA", "NOT_FOUND"),
    ("b", "extendDeal", "REG_BA", "FORBIDDEN"),
    ("c", "withdrawDeal", "REG_BA", "NOT_FOUND"),
    ("d", "withdrawDeal", "REG_BA", "NOT_FOUND"),
    ("a", "withdrawDeal", "REG_BA", "FORBIDDEN"),  # only the partner withdraws
    ("b", "dealsOnAccount", "A_ACCOUNT", VISIBLE),  # b's own vendor list: empty, below
    ("b", "setDirectOnly", "A_ACCOUNT", VISIBLE),  # changes nothing of a's: see below
    ("a_ro", "setDirectOnly", "A_ACCOUNT", "FORBIDDEN"),
    # introductions: a asked OPEN (discoverable) directly; b asked a about an account
    ("c", "requestIntro", "A", "NOT_FOUND"),  # private, and outside c's ecosystem
    ("c", "block", "A", "NOT_FOUND"),  # blocking is no existence oracle either
    ("a_ro", "requestIntro", "OPEN", "FORBIDDEN"),
    ("a_rep", "requestIntro", "OPEN", "FORBIDDEN"),  # reps ask on accounts, not orgs
    ("c", "node", "INTRO_A_OPEN", NULL),
    ("b", "node", "INTRO_A_OPEN", NULL),  # a's partner is no party to it
    ("a", "node", "INTRO_A_OPEN", VISIBLE),  # control
    ("c", "respondIntro", "INTRO_A_OPEN", "NOT_FOUND"),
    ("b", "respondIntro", "INTRO_A_OPEN", "NOT_FOUND"),
    ("a", "respondIntro", "INTRO_A_OPEN", "FORBIDDEN"),  # the requester cannot accept
    ("c", "node", "ASK_BA", NULL),
    ("d", "node", "ASK_BA", NULL),
    ("a", "node", "ASK_BA", VISIBLE),  # control: the partner asked
    ("c", "answerAsk", "ASK_BA", "NOT_FOUND"),
    ("d", "answerAsk", "ASK_BA", "NOT_FOUND"),
    ("b", "answerAsk", "ASK_BA", "FORBIDDEN"),  # the requester cannot answer its own
    # webhooks: a (vendor of REG_BA) has an endpoint, and a delivery of that event to it
    ("c", "node", "WH_A", NULL),
    ("b", "node", "WH_A", NULL),  # a partner, party to the very event, still sees nothing
    ("a", "node", "WH_A", VISIBLE),  # control
    ("c", "nodes", "WH_A", NULL),
    ("c", "webhookUrl", "WH_A", NULL),
    ("c", "node", "DELIVERY_A", NULL),
    ("b", "node", "DELIVERY_A", NULL),
    ("a", "node", "DELIVERY_A", VISIBLE),  # control
    ("a_ro", "node", "WH_A", "FORBIDDEN"),  # same org, but webhooks are for ADMINs
    ("a_rep", "node", "DELIVERY_A", "FORBIDDEN"),
    ("c", "deleteWebhook", "WH_A", "NOT_FOUND"),
    ("b", "deleteWebhook", "WH_A", "NOT_FOUND"),
    ("a_ro", "deleteWebhook", "WH_A", "FORBIDDEN"),
    ("a_rep", "deleteWebhook", "WH_A", "FORBIDDEN"),
    ("a_read_token", "deleteWebhook", "WH_A", "FORBIDDEN"),  # an ADMIN's READ token
    ("c", "redeliverWebhook", "DELIVERY_A", "NOT_FOUND"),
    ("b", "redeliverWebhook", "DELIVERY_A", "NOT_FOUND"),
    ("a_ro", "redeliverWebhook", "DELIVERY_A", "FORBIDDEN"),
    ("a_read_token", "redeliverWebhook", "DELIVERY_A", "FORBIDDEN"),
    ("a", "redeliverWebhook", "DELIVERY_A", VISIBLE),  # control: still PENDING, unchanged
    ("c", "deliveriesOfEndpoint", "WH_A", VISIBLE),  # c's own list: empty, below
    ("b", "deliveriesOfEndpoint", "WH_A", VISIBLE),
    ("a", "deleteWebhook", "DELIVERY_A", "BAD_USER_INPUT"),  # an ID of the wrong type
    ("a", "redeliverWebhook", "WH_A", "BAD_USER_INPUT"),
    # rows of lists, by node id: API tokens, audit entries and computed rows
    ("c", "node", "A_TOKEN", NULL),
    ("b", "node", "A_TOKEN", NULL),
    ("a_rep", "node", "A_TOKEN", NULL),  # another user's token, same org
    ("c", "nodes", "A_TOKEN", NULL),
    ("a", "node", "A_TOKEN", VISIBLE),  # control: its owner
    ("c", "node", "AUDIT_A", NULL),
    ("b", "node", "AUDIT_A", NULL),
    ("c", "nodes", "AUDIT_A", NULL),
    ("a_ro", "node", "AUDIT_A", "FORBIDDEN"),  # same org, but the log is for ADMINs
    ("a_rep", "nodes", "AUDIT_A", "FORBIDDEN"),
    ("a", "node", "AUDIT_A", VISIBLE),  # control
    ("a", "node", "OVERLAP_B_A", NULL),  # b's row: names a as the partner, b's account
    ("c", "node", "OVERLAP_B_A", NULL),
    ("d", "node", "OVERLAP_B_A", NULL),  # b's other partner
    ("a", "nodes", "OVERLAP_B_A", NULL),
    ("b", "node", "OVERLAP_B_A", VISIBLE),  # control
    ("a", "node", "COSELL_B", NULL),  # names b's account: a partner's
    ("c", "node", "COSELL_B", NULL),
    ("d", "nodes", "COSELL_B", NULL),
    ("b", "node", "COSELL_B", VISIBLE),  # control
    ("b", "node", "REC_A_B", NULL),  # names a's account and b itself
    ("c", "node", "REC_A_B", NULL),
    ("c", "nodes", "REC_A_B", NULL),
    ("a_ro", "node", "REC_A_B", VISIBLE),  # same org: its own row
    ("a", "node", "REC_A_B", VISIBLE),  # control
    ("c", "node", "SUGGEST_D", NULL),  # d is private and outside c's ecosystem
    ("c", "nodes", "SUGGEST_D", NULL),
    ("b", "node", "SUGGEST_D", NULL),  # already b's partner
    ("a", "node", "SUGGEST_D", VISIBLE),  # control: a partner of a's partner
    ("a", "node", "BAD_ID", "BAD_USER_INPUT"),
    ("a", "sharing", "P_AB", "BAD_USER_INPUT"),  # an ID of the wrong type
]
BAD_CREDENTIALS = ("anonymous", "expired", "revoked", "garbage", "other_scheme")
CASES += [(who, op, "A", "UNAUTHENTICATED") for who in BAD_CREDENTIALS for op in OPERATIONS]

# Pairs that must be indistinguishable: (target that exists but is not yours, missing).
ORACLE_PAIRS = [
    ("c", "sharing", "A", "MISSING_ORG"),
    ("c", "setSharingRule", "A", "MISSING_ORG"),
    ("c", "respond", "P_AB", "MISSING_PARTNERSHIP"),
    ("c", "end", "P_AB", "MISSING_PARTNERSHIP"),
    ("c", "node", "P_AB", "MISSING_PARTNERSHIP"),
    ("c", "node", "A", "MISSING_ORG"),
    ("c", "revokeToken", "A_TOKEN", "MISSING_TOKEN"),
    ("c", "overlapMatrix", "A", "MISSING_ORG"),
    ("c", "overlaps", "A", "MISSING_ORG"),
    ("b", "node", "A_ACCOUNT", "MISSING_ACCOUNT"),
    ("b", "recommend", "A_ACCOUNT", "MISSING_ACCOUNT"),
    ("c", "node", "REG_BA", "MISSING_REG"),
    ("c", "reviewDeal", "REG_BA", "MISSING_REG"),
    ("d", "withdrawDeal", "REG_BA", "MISSING_REG"),
    ("c", "registerDeal", "A", "MISSING_ORG"),
    ("b", "setDirectOnly", "A_ACCOUNT", "MISSING_ACCOUNT"),
    ("b", "dealsOnAccount", "A_ACCOUNT", "MISSING_ACCOUNT"),
    ("c", "requestIntro", "A", "MISSING_ORG"),
    ("c", "block", "A", "MISSING_ORG"),
    ("c", "node", "INTRO_A_OPEN", "MISSING_INTRO"),
    ("c", "respondIntro", "INTRO_A_OPEN", "MISSING_INTRO"),
    ("d", "answerAsk", "ASK_BA", "MISSING_ASK"),
    ("c", "node", "WH_A", "MISSING_WH"),
    ("b", "node", "DELIVERY_A", "MISSING_DELIVERY"),
    ("c", "deleteWebhook", "WH_A", "MISSING_WH"),
    ("b", "redeliverWebhook", "DELIVERY_A", "MISSING_DELIVERY"),
    ("c", "deliveriesOfEndpoint", "WH_A", "MISSING_WH"),
    ("c", "node", "A_TOKEN", "MISSING_TOKEN"),
    ("a_rep", "node", "A_TOKEN", "MISSING_TOKEN"),
    ("b", "nodes", "A_TOKEN", "MISSING_TOKEN"),
    ("b", "node", "AUDIT_A", "MISSING_AUDIT"),
    ("c", "nodes", "AUDIT_A", "MISSING_AUDIT"),
    ("a_ro", "node", "AUDIT_A", "MISSING_AUDIT"),  # FORBIDDEN for both, whatever the id
    ("a", "node", "OVERLAP_B_A", "MISSING_OVERLAP"),
    ("c", "node", "OVERLAP_B_A", "MISSING_OVERLAP"),
    ("a", "node", "COSELL_B", "MISSING_COSELL"),
    ("c", "nodes", "COSELL_B", "MISSING_COSELL"),
    ("b", "node", "REC_A_B", "MISSING_REC"),
    ("c", "node", "REC_A_B", "MISSING_REC"),
    ("c", "node", "SUGGEST_D", "MISSING_SUGGESTION"),
    ("b", "node", "SUGGEST_D", "MISSING_SUGGESTION"),
]


@dataclass
class Matrix:
    world: World
    targets: dict[str, str]  # label -> global id

    def run(self, actor: str, query: str, target: str | None = None) -> dict[str, Any]:
        headers = {}
        if actor == "other_scheme":
            headers["authorization"] = "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
        elif actor != "anonymous":
            headers["authorization"] = f"Bearer {self.world.tokens[actor]}"
        variables = {"id": self.targets[target]} if target else {}
        response = self.world.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body


def outcome(body: dict[str, Any]) -> str:
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    (value,) = body["data"].values()
    if isinstance(value, list):
        value = value[0]
    if value is None:
        return NULL
    if isinstance(value, dict) and value.get("errors"):
        return str(value["errors"][0]["code"])
    if isinstance(value, dict) and len(value) == 1 and next(iter(value.values())) is None:
        return NULL  # the one field asked of a visible object is withheld
    return VISIBLE


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    path: Path = tmp_path_factory.mktemp("isolation") / "tandem.sqlite3"
    # No dispatcher runs (settings_for): the delivery stays PENDING for the cases to find.
    settings = settings_for(f"sqlite+aiosqlite:///{path}")
    with TestClient(create_app(settings)) as client:
        world = World(client=client, settings=settings)
        yield build(world)


def build(world: World) -> Matrix:
    a, b, c, d = (world.add_org(x) for x in ("a", "b", "c", "d"))
    open_org = world.add_org("open", OrgType.SI, discoverable=True)
    for label, org, role in (
        ("a", "a", Role.ADMIN),
        ("a_ro", "a", Role.READ_ONLY),
        ("a_rep", "a", Role.SALES_REP),
        ("b", "b", Role.ADMIN),
        ("c", "c", Role.ADMIN),
        ("d", "d", Role.ADMIN),
    ):
        world.add_user(label, org, role)
    p_ab = _partner(world, "a", b, "b")
    p_bd = _partner(world, "b", d, "d")
    world.gql("a", OPERATIONS["setSharingRule"], id=gid("Org", b))
    a_token = world.gql(
        "a",
        """mutation { createApiToken(input: {name: "ci", scope: READ})
        { token apiToken { id } } }""",
    )["data"]["createApiToken"]
    world.tokens["a_read_token"] = a_token["token"]
    world.tokens["garbage"] = "tdm_a_" + "x" * 43
    world.tokens["expired"], world.tokens["revoked"] = world.run(_dead_tokens(world, a))
    account_id = _accounts(world)
    webhook = world.gql(
        "a",
        """mutation { createWebhookEndpoint(input: {url: "https://hooks.example.com/a",
        eventTypes: [DEAL_REGISTRATION]}) { endpoint { id } errors { code } } }""",
    )["data"]["createWebhookEndpoint"]
    assert webhook["errors"] == [], webhook
    registered = world.gql(
        "b",
        """mutation($id: ID!) { registerDeal(input: {vendorId: $id, role: RESELLER,
        amount: "1000", currency: "USD", expectedClose: "2027-06-30",
        domains: ["shared1.com"]}) { registration { id status } errors { code } } }""",
        id=gid("Org", a),
    )["data"]["registerDeal"]
    assert registered["registration"]["status"] == "PENDING_REVIEW", registered
    intro = world.gql("a", OPERATIONS["requestIntro"], id=gid("Org", open_org))
    intro_id = intro["data"]["requestIntroduction"]["introduction"]["id"]
    b_account = world.gql("b", "{ accounts { edges { node { id crmId } } } }")
    b_account_id = next(
        e["node"]["id"]
        for e in b_account["data"]["accounts"]["edges"]
        if e["node"]["crmId"] == "bx1"
    )
    asked = world.gql(
        "b",
        """mutation($p: ID!, $acc: ID!) { askPartner(input: {partnerId: $p, accountId: $acc,
        kind: REFERENCE, message: "reference?"}) { ask { id } errors { code } } }""",
        p=gid("Org", a),
        acc=b_account_id,
    )["data"]["askPartner"]
    assert asked["errors"] == [], asked
    world.run(_fan_out(world))
    (delivery,) = world.gql("a", "{ webhookDeliveries { edges { node { id } } } }")["data"][
        "webhookDeliveries"
    ]["edges"]
    audit_a = _first(world, "a", "{ auditLog(first: 1) { edges { node { id } } } }")
    overlap_b_a = _first(
        world,
        "b",
        "query($id: ID!) { overlaps(partnerId: $id) { edges { node { id } } } }",
        id=gid("Org", a),
    )
    cosell_b = _first(world, "b", "{ coSellAccounts { edges { node { id } } } }")
    rec_a_b = _first(
        world,
        "a",
        """query($id: ID!) { recommendPartnersForAccount(accountId: $id) {
        edges { node { id partner { name } } } } }""",
        id=account_id,
    )
    suggest_d = next(
        e["node"]["id"]
        for e in world.gql("a", "{ complementaryPartners { edges { node { id org { name } } } } }")[
            "data"
        ]["complementaryPartners"]["edges"]
        if e["node"]["org"]["name"] == "Org d"
    )
    return Matrix(
        world,
        {
            "A": gid("Org", a),
            "B": gid("Org", b),
            "C": gid("Org", c),
            "D": gid("Org", d),
            "OPEN": gid("Org", open_org),
            "P_AB": gid("Partnership", p_ab),
            "P_BD": gid("Partnership", p_bd),
            "A_TOKEN": a_token["apiToken"]["id"],
            "MISSING_ORG": gid("Org", new_id()),
            "MISSING_PARTNERSHIP": gid("Partnership", new_id()),
            "MISSING_TOKEN": gid("ApiToken", new_id()),
            "A_ACCOUNT": account_id,
            "MISSING_ACCOUNT": gid("Account", new_id()),
            "BAD_ID": "definitely-not-a-global-id",
            "REG_BA": registered["registration"]["id"],
            "MISSING_REG": gid("DealRegistration", new_id()),
            "INTRO_A_OPEN": intro_id,
            "MISSING_INTRO": gid("Introduction", new_id()),
            "ASK_BA": asked["ask"]["id"],
            "MISSING_ASK": gid("AccountAsk", new_id()),
            "WH_A": webhook["endpoint"]["id"],
            "MISSING_WH": gid("WebhookEndpoint", new_id()),
            "DELIVERY_A": delivery["node"]["id"],
            "MISSING_DELIVERY": gid("WebhookDelivery", new_id()),
            "AUDIT_A": audit_a,
            "MISSING_AUDIT": gid("AuditEntry", new_id()),
            "OVERLAP_B_A": overlap_b_a,
            "MISSING_OVERLAP": gid("Overlap", f"{a}:{new_id()}"),
            "COSELL_B": cosell_b,
            "MISSING_COSELL": gid("CoSellAccount", new_id()),
            "REC_A_B": rec_a_b,
            "MISSING_REC": gid("PartnerRecommendation", f"{new_id()}:{b}"),
            "SUGGEST_D": suggest_d,
            "MISSING_SUGGESTION": gid("ComplementaryPartner", new_id()),
        },
    )


def _first(world: World, who: str, query: str, **variables: Any) -> str:
    """The id of the first row of the one list `query` asks for."""
    (connection,) = world.gql(who, query, **variables)["data"].values()
    node_id: str = connection["edges"][0]["node"]["id"]
    return node_id


def _accounts(world: World) -> str:
    """Shared customers: a shares nothing, b shares CUSTOMER at COUNTS with a. Returns the
    global id of one of a's accounts."""
    upsert = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
        results { account { id } } } }"""
    rows = [
        {
            "crmId": f"x{i}",
            "name": f"Shared {i}",
            "domains": [f"shared{i}.com"],
            "populations": ["CUSTOMER"],
        }
        for i in range(8)
    ]
    created = world.gql("a", upsert, rows=rows)["data"]["upsertAccounts"]["results"]
    world.gql("b", upsert, rows=[{**r, "crmId": f"b{r['crmId']}"} for r in rows])
    world.gql(
        "b",
        """mutation($id: ID!) { setSharingRule(input: {partnerId: $id,
        population: "CUSTOMER", level: COUNTS}) { errors { code } } }""",
        id=gid("Org", world.orgs["a"]),
    )
    account_id: str = created[0]["account"]["id"]
    return account_id


def _fan_out(world: World) -> Any:
    """Turn the outbox into deliveries, as the dispatcher's round starts; send nothing."""

    async def work(stores: Stores) -> None:
        await fan_out(stores.graph, world.settings.webhooks, now=utcnow())

    return work


def _partner(world: World, inviter: str, invitee_org: str, invitee: str) -> str:
    invited = world.gql(inviter, OPERATIONS["invite"], id=gid("Org", invitee_org))
    pid: str = invited["data"]["invitePartner"]["partnership"]["id"]
    accepted = world.gql(invitee, OPERATIONS["respond"], id=pid)
    assert accepted["data"]["respondToPartnership"]["partnership"]["status"] == "ACTIVE"
    return from_base64(pid)[1]


def _dead_tokens(world: World, org_id: str) -> Any:
    """An expired and a revoked API token of a's admin, made directly in the store."""

    async def work(stores: Stores) -> tuple[str, str]:
        user = await stores.identity.user_by_email("a@example.com")
        assert user is not None
        now = utcnow()
        secrets = []
        for expires, revoked in ((now - timedelta(seconds=1), None), (None, now)):
            secret = new_token(TokenKind.API)
            await stores.identity.create_token(
                Token(
                    id=new_id(),
                    kind=TokenKind.API,
                    secret_hash=token_hash(secret),
                    user_id=user.id,
                    org_id=org_id,
                    scope=TokenScope.READ_WRITE,
                    name="dead",
                    created_at=now - timedelta(days=1),
                    expires_at=expires,
                    revoked_at=revoked,
                )
            )
            secrets.append(secret)
        return secrets[0], secrets[1]

    return work


@pytest.mark.parametrize(("actor", "operation", "target", "expected"), CASES)
def test_isolation_case(
    matrix: Matrix, actor: str, operation: str, target: str, expected: str
) -> None:
    body = matrix.run(actor, OPERATIONS[operation], target)
    assert outcome(body) == expected, body
    if expected not in (VISIBLE,):
        assert "Org a" not in str(body.get("data")), "no name of another org may leak"


@pytest.mark.parametrize("operation", list(LISTS))
@pytest.mark.parametrize("actor", [c for c in BAD_CREDENTIALS if c != "anonymous"])
def test_bad_credentials_fail_every_list(matrix: Matrix, actor: str, operation: str) -> None:
    assert outcome(matrix.run(actor, LISTS[operation])) == "UNAUTHENTICATED"


@pytest.mark.parametrize("operation", [op for op in LISTS if op != "viewer"])
def test_anonymous_lists_are_unauthenticated(matrix: Matrix, operation: str) -> None:
    assert outcome(matrix.run("anonymous", LISTS[operation])) == "UNAUTHENTICATED"


@pytest.mark.parametrize(("actor", "operation", "theirs", "missing"), ORACLE_PAIRS)
def test_no_existence_oracle(
    matrix: Matrix, actor: str, operation: str, theirs: str, missing: str
) -> None:
    def shape(body: dict[str, Any]) -> Any:
        errors = [
            {"message": e["message"], "extensions": e["extensions"]}
            for e in body.get("errors") or []
        ]
        return errors, body.get("data")

    assert shape(matrix.run(actor, OPERATIONS[operation], theirs)) == shape(
        matrix.run(actor, OPERATIONS[operation], missing)
    )


def test_counts_never_yield_identities(matrix: Matrix) -> None:
    """b shares CUSTOMER with a at COUNTS only: a sees a number, never an account. a
    shares CUSTOMER with b at DETAILS (built above): b sees the accounts."""
    a_cells = matrix.run("a", OPERATIONS["overlapMatrix"], "B")["data"]["overlapMatrix"]
    assert a_cells["cells"] == [{"myCount": 8}]
    a_list = matrix.run("a", OPERATIONS["overlaps"], "B")["data"]["overlaps"]["edges"]
    assert a_list == []
    b_cells = matrix.run("b", OPERATIONS["overlapMatrix"], "A")["data"]["overlapMatrix"]
    assert b_cells["cells"] == [{"myCount": 8}]
    b_list = matrix.run("b", OPERATIONS["overlaps"], "A")["data"]["overlaps"]["edges"]
    assert len(b_list) == 8
    assert all(e["node"]["partnerPopulations"] == ["CUSTOMER"] for e in b_list)
    # co-selling: a's ranked list never shows b (COUNTS only); b's shows a (DETAILS)
    a_cosell = matrix.run("a", LISTS["coSellAccounts"])["data"]["coSellAccounts"]["edges"]
    assert a_cosell == []
    b_cosell = matrix.run("b", LISTS["coSellAccounts"])["data"]["coSellAccounts"]["edges"]
    assert len(b_cosell) == 8


def test_lists_never_hold_another_orgs_objects(matrix: Matrix) -> None:
    seen = matrix.run("c", LISTS["partnerships"])["data"]["partnerships"]["edges"]
    assert seen == []
    a_seen = {
        e["node"]["id"]
        for e in matrix.run("a", LISTS["partnerships"])["data"]["partnerships"]["edges"]
    }
    assert a_seen == {matrix.targets["P_AB"]}
    c_tokens = matrix.run("c", LISTS["apiTokens"])["data"]["apiTokens"]["edges"]
    assert c_tokens == []
    b_audit = matrix.run("b", LISTS["auditLog"])["data"]["auditLog"]["edges"]
    a_audit = matrix.run("a", LISTS["auditLog"])["data"]["auditLog"]["edges"]
    assert b_audit
    assert a_audit
    assert not {e["node"]["id"] for e in b_audit} & {e["node"]["id"] for e in a_audit}


def test_deal_registrations_stay_between_vendor_and_partner(matrix: Matrix) -> None:
    """b's registration with a: a and b see it; c and d never do, in any list; b's
    attempt to mark a's account direct-only changed nothing; b never sees amounts of,
    or the identity of, other registrants."""
    for actor in ("c", "d"):
        for side in ("VENDOR", "PARTNER"):
            body = matrix.run(
                actor,
                f"{{ dealRegistrations(side: {side}) {{ edges {{ node {{ id }} }} }} }}",
            )
            assert body["data"]["dealRegistrations"]["edges"] == []
    a_list = matrix.run("a", "{ dealRegistrations(side: VENDOR) { edges { node { id } } } }")
    assert matrix.targets["REG_BA"] in str(a_list)
    b_vendor = matrix.run("b", OPERATIONS["dealsOnAccount"], "A_ACCOUNT")
    assert b_vendor["data"]["dealRegistrations"]["edges"] == []
    b_marks = matrix.run("b", OPERATIONS["setDirectOnly"], "A_ACCOUNT")
    assert b_marks["data"]["setDirectOnly"]["changedAccountIds"] == []
    seen = matrix.run(
        "b",
        """query($id: ID!) { node(id: $id) { ... on DealRegistration { reasons
        opportunityId coRegistrants { role status } } } }""",
        "REG_BA",
    )["data"]["node"]
    assert seen == {"reasons": [], "opportunityId": None, "coRegistrants": []}


def test_discovery_never_reveals_private_orgs_outside_the_ecosystem(matrix: Matrix) -> None:
    """c partners with no one: it may only ever see discoverable orgs. a partners with
    b, which partners with d: d is in a's ecosystem; c never is."""
    query = "{ complementaryPartners { edges { node { org { name } overlapBucket } } } }"
    c_seen = {
        e["node"]["org"]["name"]
        for e in matrix.run("c", query)["data"]["complementaryPartners"]["edges"]
    }
    assert c_seen == {"Org open"}
    a_seen = matrix.run("a", query)["data"]["complementaryPartners"]["edges"]
    names = {e["node"]["org"]["name"] for e in a_seen}
    assert "Org d" in names  # a partner of a's partner
    assert "Org c" not in names
    assert "Org b" not in names  # already a partner
    assert all(e["node"]["overlapBucket"] is None for e in a_seen)  # nobody shares >= k


def test_asks_show_the_partner_only_its_own_accounts(matrix: Matrix) -> None:
    """b asked a about b's account bx1: a sees its own matching account, never b's."""
    seen = matrix.run(
        "a",
        """query($id: ID!) { node(id: $id) { ... on AccountAsk { myAccounts { crmId }
        viewerIsRequester } } }""",
        "ASK_BA",
    )["data"]["node"]
    assert seen == {"myAccounts": [{"crmId": "x1"}], "viewerIsRequester": False}
    b_side = matrix.run(
        "b",
        """query($id: ID!) { node(id: $id) { ... on AccountAsk { myAccounts { crmId } } } }""",
        "ASK_BA",
    )["data"]["node"]
    assert b_side == {"myAccounts": [{"crmId": "bx1"}]}


def test_webhooks_stay_with_their_org(matrix: Matrix) -> None:
    """a's endpoint and its delivery of REG_BA's event: b, party to that registration,
    and c see neither in any list, by any filter; a sees both, and never the secret."""
    for actor in ("b", "c"):
        for operation in ("webhookEndpoints", "webhookDeliveries"):
            (listed,) = matrix.run(actor, LISTS[operation])["data"].values()
            assert all(
                e["node"]["id"] not in (matrix.targets["WH_A"], matrix.targets["DELIVERY_A"])
                for e in listed["edges"]
            )
        filtered = matrix.run(actor, OPERATIONS["deliveriesOfEndpoint"], "WH_A")
        assert filtered["data"]["webhookDeliveries"]["edges"] == []
    a_endpoints = matrix.run("a", LISTS["webhookEndpoints"])["data"]["webhookEndpoints"]
    assert [e["node"]["id"] for e in a_endpoints["edges"]] == [matrix.targets["WH_A"]]
    a_deliveries = matrix.run("a", OPERATIONS["deliveriesOfEndpoint"], "WH_A")
    (edge,) = a_deliveries["data"]["webhookDeliveries"]["edges"]
    assert edge["node"]["id"] == matrix.targets["DELIVERY_A"]
    assert "tdm_whsec_" not in str(a_endpoints) + str(a_deliveries)
    # b's own outbox event for the same registration reached none of a's endpoints
    assert matrix.run("b", LISTS["webhookDeliveries"])["data"]["webhookDeliveries"]["edges"] == []
