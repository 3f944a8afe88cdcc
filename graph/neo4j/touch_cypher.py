"""The Cypher of the influence half of the port: touches and influence paths.

Graph shape (in addition to graph/neo4j/cypher.py, deal_cypher.py, intro_cypher.py):

    (:Touch {id, vendor_org, partner_org, external_id, kind, at, weight, account_id,
             opportunity_id, status, recorded_by, created_at, account_only, lock})

One node per touch, unique on `id` and on the idempotency key (vendor_org, recorded_by,
external_id) (composite uniqueness constraint: MERGE on it is race-free). `weight` is
the exact decimal text. `account_only` repeats `account_id` when the touch names no
opportunity and is absent otherwise, so both halves of an opportunity's direct touches
are index seeks: `opportunity_id` (touches on the deal) and `account_only` (touches on
its account with no deal given). Touches refer to accounts and opportunities by id,
not by relationships: a touch outlives a deleted account or a deal that moved to
another account exactly as the relational stores' rows do, and no edge can dangle.

Influence paths walk the INTRODUCED edges intro_cypher.py stores,
`(credited:Org)-[:INTRODUCED {introduction_id, credited_org, from_org, to_org, at}]->
(to:Org)`. An org O reaches the credited org of an edge when O is the edge's `to_org`
(the edge ends at O: a relationship expansion from O's node) or its `from_org` (a
brokered edge's requester, which no relationship touches: the `introduced_from`
relationship index). Because the second case joins on a property, not on adjacency, a
path pattern cannot walk it; the store expands one hop per statement instead
(INTRODUCERS, at most max_hops statements a batch, each over the distinct orgs of the
frontier with the widest time bounds any of their paths allows), and keeps the
per-path conditions (the path's own window start and first-step time, no org twice)
in Python.

Compare-and-set (set_touch_status) is as in intro_cypher.py: find the nodes' element
ids read-only, write their `lock` counter in element id order (the write lock is held
until commit), then compare the status in a later statement.
"""

from __future__ import annotations

from typing import Final, LiteralString

from graph.neo4j.cypher import reversed_walk

SCHEMA: Final[tuple[LiteralString, ...]] = (
    "CREATE CONSTRAINT touch_id IF NOT EXISTS FOR (t:Touch) REQUIRE t.id IS UNIQUE",
    "CREATE CONSTRAINT touch_key IF NOT EXISTS "
    "FOR (t:Touch) REQUIRE (t.vendor_org, t.recorded_by, t.external_id) IS UNIQUE",
    "CREATE INDEX touch_vendor_list IF NOT EXISTS FOR (t:Touch) ON (t.vendor_org, t.id)",
    "CREATE INDEX touch_partner_list IF NOT EXISTS FOR (t:Touch) ON (t.partner_org, t.id)",
    "CREATE INDEX touch_opportunity IF NOT EXISTS FOR (t:Touch) ON (t.opportunity_id)",
    "CREATE INDEX touch_account_only IF NOT EXISTS FOR (t:Touch) ON (t.account_only)",
)

# --- touches --------------------------------------------------------------------------

# Rows come sorted by key, so concurrent batches take the key locks in one order. A node
# MERGE just created has no kind yet, which tells created from replaced.
RECORD_TOUCHES: Final = """
UNWIND $rows AS row
MERGE (t:Touch {vendor_org: row.vendor_org, recorded_by: row.recorded_by,
                external_id: row.external_id})
ON CREATE SET t.id = row.id, t.created_at = row.created_at
WITH row, t, t.kind IS NULL AS created
SET t.partner_org = row.partner_org,
    t.kind = row.kind,
    t.at = row.at,
    t.weight = row.weight,
    t.account_id = row.account_id,
    t.opportunity_id = row.opportunity_id,
    t.account_only = row.account_only,
    t.status = row.status
RETURN {vendor_org: row.vendor_org, recorded_by: row.recorded_by,
        external_id: row.external_id, id: t.id, created: created} AS row
"""

GET_TOUCHES: Final = """
MATCH (t:Touch)
WHERE t.id IN $ids AND $org IN [t.vendor_org, t.partner_org]
RETURN t {.*} AS row
"""

# Newest first: the (vendor_org, id) or (partner_org, id) index serves the seek and the
# order. The first page and the later ones are separate statements: an `$after IS NULL
# OR ...` predicate would make the planner scan every Touch.
_FILTERS: Final = """
  AND ($statuses IS NULL OR t.status IN $statuses)
  AND ($opportunity IS NULL OR t.opportunity_id = $opportunity)
"""

LIST_TOUCHES_VENDOR: Final = (
    """
MATCH (t:Touch)
WHERE t.vendor_org = $org AND t.id IS NOT NULL
"""
    + _FILTERS
    + """
RETURN t {.*} AS row
ORDER BY t.vendor_org DESC, t.id DESC
LIMIT $limit
"""
)

LIST_TOUCHES_VENDOR_AFTER: Final = (
    """
MATCH (t:Touch)
WHERE t.vendor_org = $org AND t.id < $after
"""
    + _FILTERS
    + """
RETURN t {.*} AS row
ORDER BY t.vendor_org DESC, t.id DESC
LIMIT $limit
"""
)

LIST_TOUCHES_PARTNER: Final = (
    """
MATCH (t:Touch)
WHERE t.partner_org = $org AND t.id IS NOT NULL
"""
    + _FILTERS
    + """
RETURN t {.*} AS row
ORDER BY t.partner_org DESC, t.id DESC
LIMIT $limit
"""
)

LIST_TOUCHES_PARTNER_AFTER: Final = (
    """
MATCH (t:Touch)
WHERE t.partner_org = $org AND t.id < $after
"""
    + _FILTERS
    + """
RETURN t {.*} AS row
ORDER BY t.partner_org DESC, t.id DESC
LIMIT $limit
"""
)

FIND_TOUCHES: Final = """
MATCH (t:Touch)
WHERE t.id IN $ids AND t.vendor_org = $vendor
RETURN elementId(t) AS row
"""

LOCK_TOUCHES: Final = """
UNWIND $nodes AS node
MATCH (t:Touch) WHERE elementId(t) = node
SET t.lock = coalesce(t.lock, 0) + 1
RETURN node AS row
"""

SET_TOUCH_STATUS: Final = """
UNWIND $nodes AS node
MATCH (t:Touch) WHERE elementId(t) = node
WITH t WHERE t.status = $expected
SET t.status = $status
RETURN t {.*} AS row
"""

# --- attribution ----------------------------------------------------------------------

CLOSED_OPPORTUNITIES: Final = """
MATCH (o:Opportunity)
WHERE o.org_id = $vendor AND o.id > $after
  AND o.status IN ['WON', 'LOST']
  AND $closed_from <= o.closed_at < $closed_to
RETURN o {.*} AS row
ORDER BY o.org_id, o.id
LIMIT $limit
"""

# The vendor's opportunities among the ids, with what their windows need (one row).
PATH_OPPORTUNITIES: Final = """
MATCH (o:Opportunity)
WHERE o.id IN $ids AND o.org_id = $vendor
RETURN collect([o.id, o.account_id, o.status, o.closed_at.epochSeconds,
                o.closed_at.nanosecond]) AS row
"""

# The path statements return one row per opportunity (or frontier org) with its touches
# (or edges) as lists, and times as epoch seconds and nanoseconds: the driver decodes
# a record, and a DateTime value, about ten times slower than a list of plain values,
# which dominated a batch of 1,000 opportunities.

# Hop 0 for a batch: each opportunity's CONFIRMED touches of the vendor inside its
# window, on the deal or on its account with no deal given (two index seeks).
DIRECT_TOUCHES: Final = """
UNWIND $opps AS opp
CALL (opp) {
    MATCH (t:Touch {opportunity_id: opp.id})
    RETURN t
    UNION ALL
    MATCH (t:Touch {account_only: opp.account_id})
    RETURN t
}
WITH opp, t
WHERE t.vendor_org = $vendor AND t.status = 'CONFIRMED' AND opp.start <= t.at <= opp.end
WITH opp.id AS id,
     collect([t.partner_org, t.kind, t.at.epochSeconds, t.at.nanosecond, t.weight]) AS touches
RETURN {opp: id, touches: touches} AS row
"""

# One hop for a batch: for each frontier org, the INTRODUCED edges that name it as
# to_org (ending at its node) or from_org (the relationship index), crediting another
# org, at a time inside the frontier's widest bounds.
INTRODUCERS: Final = """
UNWIND $frontier AS f
CALL (f) {
    MATCH (:Org)-[r:INTRODUCED]->(:Org {id: f.org})
    RETURN r
    UNION
    MATCH ()-[r:INTRODUCED]->()
    WHERE r.from_org = f.org
    RETURN r
}
WITH f, r
WHERE f.org IN [r.from_org, r.to_org] AND r.credited_org <> f.org
  AND f.lo <= r.at <= f.hi
WITH f.org AS org, collect([r.credited_org, r.at.epochSeconds, r.at.nanosecond]) AS edges
RETURN {org: org, edges: edges} AS row
"""

# Backward: the same four read in reverse (oldest first), the `_AFTER` ones from just
# before the cursor.
LIST_TOUCHES_VENDOR_LAST: Final = reversed_walk(
    LIST_TOUCHES_VENDOR, ("t.vendor_org DESC, t.id DESC", "t.vendor_org, t.id")
)
LIST_TOUCHES_VENDOR_BEFORE: Final = reversed_walk(
    LIST_TOUCHES_VENDOR_AFTER,
    ("t.id < $after", "t.id > $after"),
    ("t.vendor_org DESC, t.id DESC", "t.vendor_org, t.id"),
)
LIST_TOUCHES_PARTNER_LAST: Final = reversed_walk(
    LIST_TOUCHES_PARTNER, ("t.partner_org DESC, t.id DESC", "t.partner_org, t.id")
)
LIST_TOUCHES_PARTNER_BEFORE: Final = reversed_walk(
    LIST_TOUCHES_PARTNER_AFTER,
    ("t.id < $after", "t.id > $after"),
    ("t.partner_org DESC, t.id DESC", "t.partner_org, t.id"),
)
