"""Partnerships and sharing rules through GraphQL, end to end."""

from __future__ import annotations

from graph.identity import Role
from graph.model import OrgType
from tests.api.conftest import World, error_code, gid

INVITE = """mutation($org: ID!) { invitePartner(input: {orgId: $org}) {
  partnership { id status partner { id } awaitingMyAnswer } errors { code field message } } }"""
RESPOND = """mutation($p: ID!, $accept: Boolean!) {
  respondToPartnership(input: {partnershipId: $p, accept: $accept}) {
    partnership { status activatedAt } errors { code message } } }"""
END = """mutation($p: ID!) { endPartnership(input: {partnershipId: $p}) {
  partnership { status endedBy { id } } errors { code message } } }"""
LIST = """query($status: PartnershipStatus, $first: Int, $after: String) {
  partnerships(status: $status, first: $first, after: $after) {
    edges { cursor node { id status partner { name } } }
    pageInfo { hasNextPage endCursor } } }"""
SET_RULE = """mutation($partner: ID!, $population: String!, $level: SharingLevel!,
  $fields: [String!]! = []) {
  setSharingRule(input: {partnerId: $partner, population: $population, level: $level,
    fields: $fields}) { sharingRule { population level fields } errors { code field } } }"""
SHARING = """query($partner: ID!) { sharing(partnerId: $partner) {
  partnership { status } outgoing { population level fields }
  incoming { population level fields } } }"""


def partnered(world: World) -> str:
    """a invites b, b accepts; returns the partnership's global id."""
    world.add_org("a")
    b = world.add_org("b", OrgType.RESELLER)
    world.add_user("anna", "a")
    world.add_user("ben", "b")
    invited = world.gql("anna", INVITE, org=gid("Org", b))["data"]["invitePartner"]
    assert invited["errors"] == []
    pid: str = invited["partnership"]["id"]
    accepted = world.gql("ben", RESPOND, p=pid, accept=True)["data"]["respondToPartnership"]
    assert accepted["partnership"]["status"] == "ACTIVE"
    return pid


def test_invite_accept_and_list_from_both_sides(world: World) -> None:
    pid = partnered(world)
    for who, partner in (("anna", "Org b"), ("ben", "Org a")):
        edges = world.gql(who, LIST)["data"]["partnerships"]["edges"]
        assert [(e["node"]["id"], e["node"]["partner"]["name"]) for e in edges] == [(pid, partner)]


def test_only_the_invitee_answers(world: World) -> None:
    world.add_org("a")
    b = world.add_org("b")
    world.add_user("anna", "a")
    world.add_user("ben", "b")
    invited = world.gql("anna", INVITE, org=gid("Org", b))["data"]["invitePartner"]
    assert invited["partnership"]["awaitingMyAnswer"] is False
    pid = invited["partnership"]["id"]
    self_accept = world.gql("anna", RESPOND, p=pid, accept=True)["data"]["respondToPartnership"]
    assert self_accept["errors"][0]["code"] == "CONFLICT"
    declined = world.gql("ben", RESPOND, p=pid, accept=False)["data"]["respondToPartnership"]
    assert declined["partnership"]["status"] == "DECLINED"


def test_duplicate_invite_is_a_typed_conflict(world: World) -> None:
    world.add_org("a")
    b = world.add_org("b")
    world.add_user("anna", "a")
    world.add_user("ben", "b")
    world.gql("anna", INVITE, org=gid("Org", b))
    again = world.gql("anna", INVITE, org=gid("Org", b))["data"]["invitePartner"]
    assert again["partnership"] is None
    assert again["errors"][0]["code"] == "CONFLICT"
    reverse = world.gql("ben", INVITE, org=gid("Org", world.orgs["a"]))["data"]["invitePartner"]
    assert reverse["errors"][0]["code"] == "CONFLICT"


def test_self_invite_is_bad_input(world: World) -> None:
    a = world.add_org("a")
    world.add_user("anna", "a")
    body = world.gql("anna", INVITE, org=gid("Org", a))["data"]["invitePartner"]
    assert body["errors"][0] == {
        "code": "BAD_USER_INPUT",
        "field": "orgId",
        "message": "an organization cannot partner with itself",
    }


def test_end_takes_effect_at_once_and_reinvite_works(world: World) -> None:
    pid = partnered(world)
    world.gql(
        "anna", SET_RULE, partner=gid("Org", world.orgs["b"]), population="CUSTOMER", level="COUNTS"
    )
    assert world.gql("ben", SHARING, partner=gid("Org", world.orgs["a"]))["data"]["sharing"][
        "incoming"
    ] == [{"population": "CUSTOMER", "level": "COUNTS", "fields": []}]
    ended = world.gql("ben", END, p=pid)["data"]["endPartnership"]["partnership"]
    assert ended == {"status": "ENDED", "endedBy": {"id": gid("Org", world.orgs["b"])}}
    after = world.gql("ben", SHARING, partner=gid("Org", world.orgs["a"]))
    assert error_code(after) == "NOT_FOUND"
    again = world.gql("ben", INVITE, org=gid("Org", world.orgs["a"]))["data"]["invitePartner"]
    assert again["errors"] == []
    assert again["partnership"]["id"] != pid
    # The new partnership starts HIDDEN everywhere: old rules do not leak into it.
    world.gql("anna", RESPOND, p=again["partnership"]["id"], accept=True)
    fresh = world.gql("ben", SHARING, partner=gid("Org", world.orgs["a"]))["data"]["sharing"]
    assert fresh["incoming"] == []


def test_sharing_rules_are_directional_with_fields_at_details(world: World) -> None:
    partnered(world)
    a, b = gid("Org", world.orgs["a"]), gid("Org", world.orgs["b"])
    set_rule = world.gql(
        "anna",
        SET_RULE,
        partner=b,
        population="CUSTOMER",
        level="DETAILS",
        fields=["stage", "owner"],
    )["data"]["setSharingRule"]
    assert set_rule == {
        "sharingRule": {"population": "CUSTOMER", "level": "DETAILS", "fields": ["owner", "stage"]},
        "errors": [],
    }
    ben_view = world.gql("ben", SHARING, partner=a)["data"]["sharing"]
    assert ben_view["incoming"] == [
        {"population": "CUSTOMER", "level": "DETAILS", "fields": ["owner", "stage"]}
    ]
    assert ben_view["outgoing"] == []
    anna_view = world.gql("anna", SHARING, partner=b)["data"]["sharing"]
    assert anna_view["incoming"] == []
    assert anna_view["outgoing"] == [
        {"population": "CUSTOMER", "level": "DETAILS", "fields": ["owner", "stage"]}
    ]


def test_bad_sharing_input_is_typed(world: World) -> None:
    partnered(world)
    b = gid("Org", world.orgs["b"])
    cases = [
        ({"population": "", "level": "COUNTS"}, "population"),
        ({"population": "x" * 65, "level": "COUNTS"}, "population"),
        ({"population": "CUSTOMER", "level": "COUNTS", "fields": ["owner"]}, "fields"),
        ({"population": "CUSTOMER", "level": "DETAILS", "fields": ["password"]}, "fields"),
    ]
    for variables, field in cases:
        body = world.gql("anna", SET_RULE, partner=b, **variables)["data"]["setSharingRule"]
        assert body["sharingRule"] is None
        assert body["errors"][0] == {"code": "BAD_USER_INPUT", "field": field}
    wrong_enum = world.gql("anna", SET_RULE, partner=b, population="CUSTOMER", level="ALL")
    assert error_code(wrong_enum) == "BAD_USER_INPUT"


def test_roles_gate_partnership_management(world: World) -> None:
    world.add_org("a")
    b = world.add_org("b")
    for label, role in (("rep", Role.SALES_REP), ("ro", Role.READ_ONLY)):
        world.add_user(label, "a", role)
        body = world.gql(label, INVITE, org=gid("Org", b))
        assert error_code(body) == "FORBIDDEN"
    world.add_user("pm", "a", Role.PARTNER_MANAGER)
    assert world.gql("pm", INVITE, org=gid("Org", b))["data"]["invitePartner"]["errors"] == []


def test_partnerships_page_with_opaque_cursors(world: World) -> None:
    world.add_org("hub")
    world.add_user("hubby", "hub")
    for i in range(5):
        org = world.add_org(f"s{i}")
        world.gql("hubby", INVITE, org=gid("Org", org))
    seen, after = [], None
    while True:
        page = world.gql("hubby", LIST, first=2, after=after)["data"]["partnerships"]
        seen += [e["node"]["partner"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"Org s{i}" for i in reversed(range(5))]
    bad = world.gql("hubby", LIST, first=2, after="not-a-cursor")
    assert error_code(bad) == "BAD_USER_INPUT"
    too_many = world.gql("hubby", LIST, first=1000)
    assert error_code(too_many) == "BAD_USER_INPUT"


def test_audit_log_records_mutations_for_admins_only(world: World) -> None:
    partnered(world)
    world.add_user("rep", "a", Role.SALES_REP)
    query = "{ auditLog { edges { node { action targetType } } } }"
    actions = [e["node"]["action"] for e in world.gql("anna", query)["data"]["auditLog"]["edges"]]
    # newest first: the rep's login, anna's invitation, anna's login
    assert actions == ["login", "partnership.invite", "login"]
    b_actions = [e["node"]["action"] for e in world.gql("ben", query)["data"]["auditLog"]["edges"]]
    assert b_actions == ["partnership.accept", "login"]
    assert error_code(world.gql("rep", query)) == "FORBIDDEN"
