"""`last`/`before` through GraphQL: backward pages, pageInfo, and the argument rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import test_cosell_api as cosell
from tests.api import test_overlaps_api as overlaps
from tests.api.conftest import World, error_code, gid

UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
  rejected } }"""
ACCOUNTS = """query($first: Int, $after: String, $last: Int, $before: String) {
  accounts(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { crmId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def crm_ids(connection: dict[str, Any]) -> list[str]:
    return [e["node"]["crmId"] for e in connection["edges"]]


def accounts(world: World, **variables: Any) -> dict[str, Any]:
    body = world.gql("anna", ACCOUNTS, **variables)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["accounts"]
    return found


def load_accounts(world: World, n: int) -> None:
    world.add_org("a")
    world.add_user("anna", "a")
    rows = [{"crmId": f"c{i}", "name": f"Co {i}", "domains": [f"c{i}.com"]} for i in range(n)]
    assert world.gql("anna", UPSERT, rows=rows)["data"]["upsertAccounts"]["rejected"] == 0


def test_last_and_before_walk_back_through_what_first_and_after_walk(world: World) -> None:
    load_accounts(world, 8)
    forward: list[str] = []
    cursors: list[str] = []
    after = None
    while True:
        page = accounts(world, first=3, after=after)
        assert page["pageInfo"]["hasPreviousPage"] is False
        forward += crm_ids(page)
        cursors += [e["cursor"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(forward) == 8

    last = accounts(world, last=3)
    assert crm_ids(last) == forward[-3:]  # in the list's order, not reversed
    assert last["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": cursors[-3],  # the same cursors whichever way they were read
        "endCursor": cursors[-1],
    }
    backward: list[str] = []
    before = None
    while True:
        page = accounts(world, last=3, before=before)
        assert page["pageInfo"]["hasNextPage"] is False
        backward = crm_ids(page) + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == forward

    # `before` alone pages backward at the default size; a forward cursor works as
    # `before`, a backward one as `after`.
    assert crm_ids(accounts(world, before=cursors[5])) == forward[:5]
    assert crm_ids(accounts(world, last=2, before=cursors[5])) == forward[3:5]
    assert crm_ids(accounts(world, first=2, after=last["pageInfo"]["startCursor"])) == forward[6:]
    empty = accounts(world, last=3, before=cursors[0])
    assert empty["edges"] == []
    assert empty["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


@pytest.mark.parametrize(
    ("field", "arguments", "named"),
    [
        ("accounts", "first: 2, last: 2", "last"),
        ("accounts", 'after: "x", before: "x"', "before"),
        ("partnerships", 'first: 2, before: "x"', "before"),
        ("auditLog", 'last: 2, after: "x"', "after"),
        ("apiTokens", "last: 101", "last"),
        ("partnerships", "last: -1", "last"),
        ("accounts", 'last: 2, before: "not a cursor"', "before"),
        ("accounts", "last: 2, before: $foreign", "before"),
    ],
)
def test_bad_paging_arguments_are_bad_user_input(
    world: World, field: str, arguments: str, named: str
) -> None:
    load_accounts(world, 1)
    foreign = gid("Partnership", "x")  # a well-formed cursor of another kind
    uses = "($foreign: String)" if "$foreign" in arguments else ""
    query = f"query{uses} {{ {field}({arguments}) {{ edges {{ cursor }} {PAGE_INFO} }} }}"
    body = world.gql("anna", query, **({"foreign": foreign} if uses else {}))
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == named
    assert body["data"] is None


def test_overlaps_page_backward_in_a_sort_order(world: World) -> None:
    overlaps.setup(world)
    partner = gid("Org", world.orgs["b"])
    query = (
        """query($partner: ID!, $order: OverlapOrder, $last: Int, $before: String,
      $first: Int, $after: String) {
      overlaps(partnerId: $partner, orderBy: $order, last: $last, before: $before,
               first: $first, after: $after) {
        edges { node { account { crmId } } } """
        + PAGE_INFO
        + " } }"
    )
    by_name_desc = {"field": "NAME", "direction": "DESC"}
    forward = overlaps.sorted_pages(world, partner, order=by_name_desc)
    assert len(forward) > 2
    backward: list[str] = []
    before = None
    while True:
        body = world.gql("anna", query, partner=partner, order=by_name_desc, last=2, before=before)
        found = body["data"]["overlaps"]
        backward = [e["node"]["account"]["crmId"] for e in found["edges"]] + backward
        if not found["pageInfo"]["hasPreviousPage"]:
            break
        before = found["pageInfo"]["startCursor"]
    assert backward == forward
    # A cursor of one order is refused by another, whichever way it is used.
    body = world.gql("anna", query, partner=partner, order=by_name_desc, last=1)
    cursor = body["data"]["overlaps"]["pageInfo"]["startCursor"]
    refused = world.gql("anna", query, partner=partner, last=1, before=cursor)
    assert error_code(refused) == "BAD_USER_INPUT"


def test_ranked_co_sell_accounts_page_backward(world: World) -> None:
    cosell.setup(world)
    query = (
        """query($last: Int, $before: String) {
      coSellAccounts(last: $last, before: $before) {
        edges { node { score account { crmId } } } """
        + PAGE_INFO
        + " } }"
    )
    forward = [(n["account"]["crmId"], n["score"]) for n in cosell.nodes(cosell.cosell(world))]
    last = world.gql("a", query, last=2)["data"]["coSellAccounts"]
    assert [(n["node"]["account"]["crmId"], n["node"]["score"]) for n in last["edges"]] == (
        forward[-2:]
    )
    assert last["pageInfo"]["hasPreviousPage"] is True
    rest = world.gql("a", query, last=2, before=last["pageInfo"]["startCursor"])
    found = rest["data"]["coSellAccounts"]
    assert [(n["node"]["account"]["crmId"], n["node"]["score"]) for n in found["edges"]] == (
        forward[:-2]
    )
    assert found["pageInfo"]["hasPreviousPage"] is False
