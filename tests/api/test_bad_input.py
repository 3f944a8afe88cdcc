"""Hostile and malformed input gets a typed error, never a 500 or a partial write."""

from __future__ import annotations

import pytest

from tests.api.conftest import LOGIN, World, error_code, gid, gql

HUGE = "x" * 1_000_000


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (LOGIN, {"email": HUGE, "password": HUGE}),
        (LOGIN, {"email": "", "password": ""}),
        (LOGIN, {"email": "a@b.co", "password": "p", "orgId": "%%%"}),
        (LOGIN, {"email": "a@b.co", "password": "p", "orgId": gid("Partnership", "x")}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": HUGE}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": ""}),
        (
            "query($s: PartnershipStatus) { partnerships(status: $s) { edges { cursor } } }",
            {"s": "MAYBE"},
        ),
        ("query($f: Int) { partnerships(first: $f) { edges { cursor } } }", {"f": "ten"}),
        ("query($f: Int) { partnerships(first: $f) { edges { cursor } } }", {"f": -1}),
    ],
)
def test_malformed_requests_are_typed_errors(
    world: World, query: str, variables: dict[str, object]
) -> None:
    world.add_org("a")
    world.add_user("anna", "a")
    body = gql(world.client, query, world.tokens["anna"], **variables)
    assert error_code(body) in {"BAD_USER_INPUT", "UNAUTHENTICATED"}, body
    assert "Traceback" not in str(body)


def test_huge_and_empty_strings_in_mutations_are_typed(world: World) -> None:
    world.add_org("a")
    b = world.add_org("b")
    world.add_user("anna", "a")
    world.add_user("ben", "b")
    world.partner("anna", "ben", "b")
    for population in (HUGE, "", "   ", "tab\tinside"):
        body = world.gql(
            "anna",
            """mutation($o: ID!, $p: String!) { setSharingRule(input: {
            partnerId: $o, population: $p, level: COUNTS}) { errors { code field } } }""",
            o=gid("Org", b),
            p=population,
        )
        assert body["data"]["setSharingRule"]["errors"][0]["code"] == "BAD_USER_INPUT"
    rows = [
        {"crmId": HUGE, "name": "n", "domains": ["a.com"]},
        {"crmId": "ok", "name": HUGE, "domains": ["a.com"]},
        {"crmId": "ok2", "name": "n", "domains": [HUGE]},
        {"crmId": "nul", "name": "n\x00", "domains": ["a.com"]},
    ]
    body = world.gql(
        "anna",
        """mutation($r: [AccountRowInput!]!) { upsertAccounts(input: {rows: $r}) {
        rejected results { status code } } }""",
        r=rows,
    )
    assert body["data"]["upsertAccounts"]["rejected"] == 4
    listed = world.gql("anna", "{ accounts { totalCount } }")
    assert listed["data"]["accounts"]["totalCount"] == 0
