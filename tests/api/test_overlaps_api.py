"""The account map through GraphQL: levels, thresholds, details, ends of partnerships."""

from __future__ import annotations

from tests.api.conftest import World, error_code, gid

UPSERT = """mutation($rows: [AccountRowInput!]!) { upsertAccounts(input: {rows: $rows}) {
  rejected } }"""
INVITE = """mutation($org: ID!) { invitePartner(input: {orgId: $org}) { partnership { id } } }"""
ACCEPT = """mutation($p: ID!) { respondToPartnership(input: {partnershipId: $p, accept: true}) {
  partnership { status } } }"""
END = """mutation($p: ID!) { endPartnership(input: {partnershipId: $p}) {
  partnership { status } } }"""
RULE = """mutation($partner: ID!, $population: String!, $level: SharingLevel!,
  $fields: [String!]! = []) {
  setSharingRule(input: {partnerId: $partner, population: $population, level: $level,
    fields: $fields}) { errors { code } } }"""
MATRIX = """query($partner: ID!) { overlapMatrix(partnerId: $partner) { k
  cells { myPopulation partnerPopulation level myCount partnerCount suppressed } } }"""
LIST = """query($partner: ID!, $mine: String, $theirs: String, $first: Int, $after: String) {
  overlaps(partnerId: $partner, myPopulation: $mine, partnerPopulation: $theirs,
           first: $first, after: $after) {
  edges { node { account { crmId } partnerPopulations
    partnerDetails { populations owner fields { name value } } } }
  pageInfo { hasNextPage endCursor } } }"""


def rows(prefix: str, indexes: range, population: str, **extra: object) -> list[dict[str, object]]:
    return [
        {
            "crmId": f"{prefix}{i}",
            "name": f"Co {i}",
            "domains": [f"co{i}.com"],
            "populations": [population],
            "owner": f"rep@{prefix}.example",
            "fields": [{"name": "stage", "value": f"stage-{i}"}, {"name": "secret", "value": "x"}],
            **extra,
        }
        for i in indexes
    ]


def setup(world: World) -> str:
    """a (viewer) and b (partner), ACTIVE. b: CUSTOMER at COUNTS, PROSPECT at OVERLAPS,
    OPEN_OPPORTUNITY at DETAILS (owner, stage), CHURNED HIDDEN. Returns the partnership id."""
    world.add_org("a")
    b = world.add_org("b")
    world.add_user("anna", "a")
    world.add_user("ben", "b")
    pid: str = world.gql("anna", INVITE, org=gid("Org", b))["data"]["invitePartner"]["partnership"][
        "id"
    ]
    world.gql("ben", ACCEPT, p=pid)
    a_id = gid("Org", world.orgs["a"])
    for population, level, fields in (
        ("CUSTOMER", "COUNTS", []),
        ("PROSPECT", "OVERLAPS", []),
        ("OPEN_OPPORTUNITY", "DETAILS", ["owner", "stage"]),
        ("CHURNED", "HIDDEN", []),
    ):
        world.gql("ben", RULE, partner=a_id, population=population, level=level, fields=fields)
    # a: 20 customers co0..co19, 3 prospects co100..co102
    world.gql(
        "anna",
        UPSERT,
        rows=rows("a", range(20), "CUSTOMER") + rows("a", range(100, 103), "PROSPECT"),
    )
    # b: co0..co9 customers, co10..co12 prospects, co13 open opp, co14..19 churned, co100 customer
    world.gql(
        "ben",
        UPSERT,
        rows=rows("b", range(10), "CUSTOMER")
        + rows("b", range(10, 13), "PROSPECT")
        + rows("b", range(13, 14), "OPEN_OPPORTUNITY")
        + rows("b", range(14, 20), "CHURNED")
        + rows("b", range(100, 101), "CUSTOMER"),
    )
    return pid


def test_matrix_shows_levels_and_suppresses_small_counts(world: World) -> None:
    setup(world)
    matrix = world.gql("anna", MATRIX, partner=gid("Org", world.orgs["b"]))["data"]["overlapMatrix"]
    cells = {(c["myPopulation"], c["partnerPopulation"]): c for c in matrix["cells"]}
    assert matrix["k"] == 5
    assert not any(p == "CHURNED" for _, p in cells)  # HIDDEN cells do not exist
    big = cells[("CUSTOMER", "CUSTOMER")]
    assert (big["myCount"], big["partnerCount"], big["suppressed"]) == (10, 10, False)
    small = cells[("PROSPECT", "CUSTOMER")]  # 1 overlap, COUNTS: suppressed
    assert (small["myCount"], small["partnerCount"], small["suppressed"]) == (None, None, True)
    shown = cells[("CUSTOMER", "PROSPECT")]  # 3 overlaps but OVERLAPS level: shown
    assert (shown["myCount"], shown["suppressed"]) == (3, False)
    assert cells[("CUSTOMER", "OPEN_OPPORTUNITY")]["myCount"] == 1


def test_list_shows_identities_only_at_overlaps_and_fields_only_at_details(world: World) -> None:
    setup(world)
    edges = world.gql("anna", LIST, partner=gid("Org", world.orgs["b"]))["data"]["overlaps"][
        "edges"
    ]
    by_crm = {e["node"]["account"]["crmId"]: e["node"] for e in edges}
    # b's CUSTOMER (COUNTS) matches never appear; PROSPECT and OPEN_OPPORTUNITY do
    assert sorted(by_crm) == ["a10", "a11", "a12", "a13"]
    assert by_crm["a10"]["partnerPopulations"] == ["PROSPECT"]
    assert by_crm["a10"]["partnerDetails"] == []
    assert by_crm["a13"]["partnerDetails"] == [
        {
            "populations": ["OPEN_OPPORTUNITY"],
            "owner": "rep@b.example",
            "fields": [{"name": "stage", "value": "stage-13"}],  # "secret" is not shared
        }
    ]
    assert "Co 13" not in str(by_crm["a13"]["partnerDetails"])


def test_filters_and_paging(world: World) -> None:
    setup(world)
    partner = gid("Org", world.orgs["b"])
    only = world.gql("anna", LIST, partner=partner, theirs="OPEN_OPPORTUNITY")["data"]["overlaps"]
    assert [e["node"]["account"]["crmId"] for e in only["edges"]] == ["a13"]
    hidden = world.gql("anna", LIST, partner=partner, theirs="CUSTOMER")["data"]["overlaps"]
    assert hidden["edges"] == []
    none_of_mine = world.gql("anna", LIST, partner=partner, mine="PROSPECT")["data"]["overlaps"]
    assert none_of_mine["edges"] == []
    first = world.gql("anna", LIST, partner=partner, first=3)["data"]["overlaps"]
    assert len(first["edges"]) == 3
    assert first["pageInfo"]["hasNextPage"]
    rest = world.gql("anna", LIST, partner=partner, first=3, after=first["pageInfo"]["endCursor"])
    assert len(rest["data"]["overlaps"]["edges"]) == 1


def test_ended_partnership_yields_nothing_at_once(world: World) -> None:
    pid = setup(world)
    partner = gid("Org", world.orgs["b"])
    world.gql("anna", END, p=pid)
    assert error_code(world.gql("anna", MATRIX, partner=partner)) == "NOT_FOUND"
    assert error_code(world.gql("anna", LIST, partner=partner)) == "NOT_FOUND"


def test_reads_are_audited(world: World) -> None:
    setup(world)
    world.gql("anna", MATRIX, partner=gid("Org", world.orgs["b"]))
    world.gql("anna", LIST, partner=gid("Org", world.orgs["b"]))
    log = world.gql("anna", "{ auditLog(first: 2) { edges { node { action } } } }")
    assert [e["node"]["action"] for e in log["data"]["auditLog"]["edges"]] == [
        "overlap.list",
        "overlap.matrix",
    ]


def test_counts_follow_writes_immediately(world: World) -> None:
    setup(world)
    partner = gid("Org", world.orgs["b"])

    def customers() -> int:
        cells = world.gql("anna", MATRIX, partner=partner)["data"]["overlapMatrix"]["cells"]
        return next(
            c["myCount"]
            for c in cells
            if (c["myPopulation"], c["partnerPopulation"]) == ("CUSTOMER", "CUSTOMER")
        )

    assert customers() == 10
    world.gql("ben", UPSERT, rows=rows("b", range(20, 22), "CUSTOMER", domains=["co15.com"]))
    assert customers() == 11
    world.gql("ben", 'mutation { deleteAccounts(input: {crmIds: ["b0", "b1"]}) { deletedCrmIds } }')
    assert customers() == 9


SORTED = """query($partner: ID!, $order: OverlapOrder, $filter: OverlapFilter, $first: Int,
  $after: String) {
  overlaps(partnerId: $partner, orderBy: $order, filter: $filter, first: $first, after: $after) {
  edges { node { account { crmId name owner } } }
  pageInfo { hasNextPage endCursor } } }"""


def sorted_pages(world: World, partner: str, **variables: object) -> list[str]:
    crm_ids: list[str] = []
    after = None
    while True:
        body = world.gql("anna", SORTED, partner=partner, first=2, after=after, **variables)
        found = body["data"]["overlaps"]
        crm_ids += [e["node"]["account"]["crmId"] for e in found["edges"]]
        if not found["pageInfo"]["hasNextPage"]:
            return crm_ids
        after = found["pageInfo"]["endCursor"]


def test_order_by_and_filter_on_my_fields(world: World) -> None:
    setup(world)
    partner = gid("Org", world.orgs["b"])
    # The listable overlaps are a10..a13; give them names and owners to sort by.
    renamed = [
        ("a10", "Zulu", "zed@a.example"),
        ("a11", "alpha", "amy@a.example"),
        ("a12", "Mike", "zed@a.example"),
        ("a13", "alpha", None),
    ]
    for crm_id, name, owner in renamed:
        row = rows("a", range(int(crm_id[1:]), int(crm_id[1:]) + 1), "CUSTOMER")[0]
        world.gql("anna", UPSERT, rows=[{**row, "name": name, "owner": owner}])
    assert sorted_pages(world, partner) == ["a10", "a11", "a12", "a13"]
    by_name = {"field": "NAME", "direction": "ASC"}
    # Code point order: upper case before lower case; ties by account id (creation order).
    assert sorted_pages(world, partner, order=by_name) == ["a12", "a10", "a11", "a13"]
    by_owner_desc = {"field": "OWNER", "direction": "DESC"}
    assert sorted_pages(world, partner, order=by_owner_desc) == ["a12", "a10", "a11", "a13"]
    assert sorted_pages(world, partner, order={"field": "OWNER"}) == ["a13", "a11", "a10", "a12"]
    assert sorted_pages(world, partner, filter={"nameContains": "ALP"}) == ["a11", "a13"]
    assert sorted_pages(
        world, partner, order=by_name, filter={"nameStartsWith": "m", "owner": "zed@a.example"}
    ) == ["a12"]
    # Partner fields are not something to filter on: only mine are.
    assert sorted_pages(world, partner, filter={"owner": "rep@b.example"}) == []


def test_order_by_bad_input(world: World) -> None:
    setup(world)
    partner = gid("Org", world.orgs["b"])
    by_name = {"field": "NAME", "direction": "ASC"}
    first = world.gql("anna", SORTED, partner=partner, order=by_name, first=1)
    cursor = first["data"]["overlaps"]["pageInfo"]["endCursor"]
    for other in (None, {"field": "NAME", "direction": "DESC"}, {"field": "UPDATED_AT"}):
        body = world.gql("anna", SORTED, partner=partner, order=other, first=1, after=cursor)
        assert error_code(body) == "BAD_USER_INPUT", other
    plain = world.gql("anna", SORTED, partner=partner, first=1)["data"]["overlaps"]
    body = world.gql(
        "anna", SORTED, partner=partner, order=by_name, after=plain["pageInfo"]["endCursor"]
    )
    assert error_code(body) == "BAD_USER_INPUT"
    too_long = {"nameContains": "x" * 201}
    assert error_code(world.gql("anna", SORTED, partner=partner, filter=too_long)) == (
        "BAD_USER_INPUT"
    )
    bad_enum = world.gql("anna", SORTED, partner=partner, order={"field": "PARTNER_OWNER"})
    assert bad_enum.get("errors")
    assert bad_enum.get("data") is None
