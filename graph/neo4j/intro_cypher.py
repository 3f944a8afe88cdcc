"""The Cypher of the discovery and introductions half of the port.

Graph shape (in addition to graph/neo4j/cypher.py and deal_cypher.py):

    (:Introduction {id, requester_org, target_org, broker_org, message, status,
                    requested_by, created_at, updated_at, expires_at, pair_key,
                    open_pair, forwarded_at, decided_at, decided_by_org, note,
                    partnership_id, lock})
    (:Org)-[:INTRODUCED {introduction_id, credited_org, from_org, to_org, at}]->(:Org)
        from the credited org (the broker, or the requester of a direct introduction)
        to `to_org`; one edge per accepted introduction, plain Org-to-Org edges so
        variable-length patterns (`(:Org)-[:INTRODUCED*1..n]->(:Org)`) walk them
    (:Org)-[:BLOCKS {at}]->(:Org)
    (:AccountAsk {id, requester_org, requester_user, partner_org, account_id,
                  partner_account_ids, kind, message, status, created_at, updated_at,
                  expires_at, answered_at, answered_by, note, lock})

One open introduction per pair. `open_pair` equals `pair_key` while the introduction
is REQUESTED or FORWARDED and is absent otherwise; its uniqueness constraint keeps at
most one open introduction per pair, also under concurrent inserts from many processes
(concurrent creators of one pair queue on the constraint's index entry; all but the
first fail with a constraint error, which the store maps to Conflict).

Compare-and-set. A write that compares a status first finds the node's element id in a
read-only statement (FIND_*), then writes its `lock` counter by element id (LOCK_NODES),
so it holds the node's write lock until commit, and compares in a later statement (a
property read earlier in the statement that takes the lock may be stale). As for deal
claims, the locking statement does not seek by a unique property: in a statement that
writes, such a seek takes a shared lock on the index entry, which concurrent upgrades
turn into deadlocks. Batch writers (expiry) lock in element id order.
"""

from __future__ import annotations

from typing import Final, LiteralString

SCHEMA: Final[tuple[LiteralString, ...]] = (
    "CREATE CONSTRAINT introduction_id IF NOT EXISTS FOR (i:Introduction) REQUIRE i.id IS UNIQUE",
    # The open request of a pair: at most one, race-free (see above).
    "CREATE CONSTRAINT introduction_open_pair IF NOT EXISTS "
    "FOR (i:Introduction) REQUIRE i.open_pair IS UNIQUE",
    "CREATE CONSTRAINT account_ask_id IF NOT EXISTS FOR (a:AccountAsk) REQUIRE a.id IS UNIQUE",
    # Discovery reads the discoverable orgs only, not every org.
    "CREATE INDEX org_discoverable IF NOT EXISTS FOR (o:Org) ON (o.discoverable)",
    "CREATE INDEX introduction_requester IF NOT EXISTS "
    "FOR (i:Introduction) ON (i.requester_org, i.id)",
    "CREATE INDEX introduction_target IF NOT EXISTS FOR (i:Introduction) ON (i.target_org, i.id)",
    "CREATE INDEX introduction_broker IF NOT EXISTS FOR (i:Introduction) ON (i.broker_org, i.id)",
    "CREATE INDEX introduction_requested IF NOT EXISTS "
    "FOR (i:Introduction) ON (i.requester_org, i.created_at)",
    "CREATE INDEX introduction_pair IF NOT EXISTS "
    "FOR (i:Introduction) ON (i.requester_org, i.target_org)",
    "CREATE INDEX introduction_expiry IF NOT EXISTS "
    "FOR (i:Introduction) ON (i.status, i.expires_at)",
    "CREATE INDEX introduced_from IF NOT EXISTS FOR ()-[r:INTRODUCED]-() ON (r.from_org)",
    "CREATE INDEX account_ask_requester IF NOT EXISTS "
    "FOR (a:AccountAsk) ON (a.requester_org, a.id)",
    "CREATE INDEX account_ask_partner IF NOT EXISTS FOR (a:AccountAsk) ON (a.partner_org, a.id)",
    "CREATE INDEX account_ask_requested IF NOT EXISTS "
    "FOR (a:AccountAsk) ON (a.requester_org, a.created_at)",
    "CREATE INDEX account_ask_expiry IF NOT EXISTS FOR (a:AccountAsk) ON (a.status, a.expires_at)",
)

# --- locks ----------------------------------------------------------------------------

FIND_INTRODUCTION: Final = """
MATCH (i:Introduction {id: $id})
RETURN elementId(i) AS row
"""

FIND_ASK: Final = """
MATCH (a:AccountAsk {id: $id})
RETURN elementId(a) AS row
"""

FIND_ORG: Final = """
MATCH (o:Org {id: $id})
RETURN elementId(o) AS row
"""

LOCK_NODES: Final = """
UNWIND $nodes AS node
MATCH (n) WHERE elementId(n) = node
SET n.lock = coalesce(n.lock, 0) + 1
RETURN count(n) AS row
"""

# --- discovery ------------------------------------------------------------------------

# Each discovery read returns ONE row holding a list of lists of plain values (ids,
# flags, counts): the driver decodes one record instead of one per candidate, which on
# a busy machine costs far more than the query itself (docs/benchmarks.md, Discovery).

# Candidates reached through a shared ACTIVE partner (PARTNERS_WITH exists while ACTIVE
# only) or discoverable; then the ones with a live partnership or a block either way
# go. My live counterparties and blocks are collected once, not per candidate. An
# unknown org (no node) sees the discoverable orgs.
DISCOVERY_CANDIDATES: Final = """
OPTIONAL MATCH (me:Org {id: $org})
WITH me,
     COLLECT {
         MATCH (me)-[:INVITED|WITH]-(p:Partnership)-[:INVITED|WITH]-(o:Org)
         WHERE p.live_key IS NOT NULL
         RETURN o.id
     } AS live,
     COLLECT { MATCH (me)-[:BLOCKS]-(o:Org) RETURN o.id } AS blocked
CALL (me) {
    MATCH (me)-[:PARTNERS_WITH]-(via:Org)-[:PARTNERS_WITH]-(c:Org)
    WHERE c.id <> $org
    RETURN c, via.id AS via
    UNION ALL
    MATCH (c:Org)
    WHERE c.discoverable = true AND c.id <> $org
    RETURN c, null AS via
}
WITH c, live, blocked, collect(DISTINCT via) AS shared
WHERE NOT c.id IN live AND NOT c.id IN blocked
WITH c, shared
ORDER BY size(shared) DESC, c.id
LIMIT $limit
RETURN collect([c.id, c.discoverable, shared]) AS row
"""

# From my accounts in the population through the shared AccountKey nodes to the
# candidates' accounts in it: per candidate, how many of mine match.
CUSTOMER_OVERLAP: Final = """
MATCH (:Org {id: $org})-[:OWNS]->(a)
WHERE $population IN a.populations
MATCH (a)-[:KEYED_BY]->(k)<-[:KEYED_BY]-(b)
WHERE b.org_id IN $candidates AND $population IN b.populations
WITH b.org_id AS org, count(DISTINCT a) AS n
RETURN collect([org, n]) AS row
"""

# Deals (vendor, vendor account, product line) I hold a WON registration on, then the
# candidates' WON registrations on the same deal. The hints keep the planner on the
# (partner_org, id) and account_id index seeks: left alone, it scans the status index.
CO_WON_DEALS: Final = """
MATCH (r:DealRegistration)
USING INDEX r:DealRegistration(partner_org, id)
WHERE r.partner_org = $org AND r.id IS NOT NULL AND r.status = 'WON'
WITH DISTINCT r.vendor_org AS vendor, r.account_id AS account, r.product_line AS line
CALL (vendor, account, line) {
    MATCH (s:DealRegistration)
    USING INDEX s:DealRegistration(account_id)
    WHERE s.account_id = account AND s.vendor_org = vendor AND s.product_line = line
      AND s.status = 'WON' AND s.partner_org IN $candidates
    RETURN DISTINCT s.partner_org AS org
}
WITH org, count(*) AS n
RETURN collect([org, n]) AS row
"""

# --- blocks ---------------------------------------------------------------------------

ORGS_EXIST: Final = """
UNWIND $ids AS id
MATCH (o:Org {id: id})
RETURN o.id AS row
"""

BLOCK: Final = """
MATCH (me:Org {id: $org}), (other:Org {id: $other})
WITH me, other, EXISTS { (me)-[:BLOCKS]->(other) } AS existed
CALL (me, other, existed) {
    WITH me, other, existed WHERE NOT existed
    CREATE (me)-[:BLOCKS {at: $at}]->(other)
}
RETURN NOT existed AS row
"""

UNBLOCK: Final = """
MATCH (:Org {id: $org})-[b:BLOCKS]->(:Org {id: $other})
DELETE b
RETURN count(*) AS row
"""

BLOCKED_BETWEEN: Final = """
MATCH (a:Org {id: $a}), (b:Org {id: $b})
RETURN EXISTS { (a)-[:BLOCKS]-(b) } AS row
"""

BLOCKED_ORGS: Final = """
MATCH (:Org {id: $org})-[:BLOCKS]->(o:Org)
RETURN DISTINCT o.id AS row
ORDER BY row
"""

# --- introductions --------------------------------------------------------------------

INSERT_INTRODUCTION: Final = """
CREATE (i:Introduction)
SET i = $intro
RETURN i {.*} AS row
"""

# The target sees an introduction once it reached it: direct, or forwarded.
GET_INTRODUCTIONS: Final = """
MATCH (i:Introduction)
WHERE i.id IN $ids
  AND ($org IN [i.requester_org, i.broker_org]
       OR (i.target_org = $org
           AND (i.broker_org IS NULL OR i.forwarded_at IS NOT NULL
                OR i.status IN ['FORWARDED', 'ACCEPTED'])))
RETURN i {.*} AS row
"""

LIST_INTRODUCTIONS_REQUESTER: Final = """
MATCH (i:Introduction)
WHERE i.requester_org = $org AND ($after IS NULL OR i.id < $after)
  AND ($statuses IS NULL OR i.status IN $statuses)
RETURN i {.*} AS row
ORDER BY i.requester_org DESC, i.id DESC
LIMIT $limit
"""

LIST_INTRODUCTIONS_BROKER: Final = """
MATCH (i:Introduction)
WHERE i.broker_org = $org AND ($after IS NULL OR i.id < $after)
  AND ($statuses IS NULL OR i.status IN $statuses)
RETURN i {.*} AS row
ORDER BY i.broker_org DESC, i.id DESC
LIMIT $limit
"""

LIST_INTRODUCTIONS_TARGET: Final = """
MATCH (i:Introduction)
WHERE i.target_org = $org AND ($after IS NULL OR i.id < $after)
  AND ($statuses IS NULL OR i.status IN $statuses)
  AND (i.broker_org IS NULL OR i.forwarded_at IS NOT NULL
       OR i.status IN ['FORWARDED', 'ACCEPTED'])
RETURN i {.*} AS row
ORDER BY i.target_org DESC, i.id DESC
LIMIT $limit
"""

# After LOCK_NODES: compare, then write every field of the new record (a null removes
# the property); `open_pair` comes with $intro (null once no longer open).
UPDATE_INTRODUCTION: Final = """
MATCH (i:Introduction) WHERE elementId(i) = $node AND i.status = $expected
SET i += $intro
RETURN i {.*} AS row
"""

EXPIRY_CANDIDATES: Final = """
MATCH (i:Introduction)
WHERE i.status IN ['REQUESTED', 'FORWARDED'] AND i.expires_at <= $now
RETURN {id: i.id, node: elementId(i)} AS row
ORDER BY i.expires_at, i.id
LIMIT $limit
"""

# `previous_status` (not stored) tells the outbox where each one came from.
EXPIRE_INTRODUCTIONS: Final = """
UNWIND $nodes AS node
MATCH (i:Introduction) WHERE elementId(i) = node
  AND i.status IN ['REQUESTED', 'FORWARDED'] AND i.expires_at <= $now
WITH i, i.status AS previous
SET i.status = 'EXPIRED', i.updated_at = $now, i.open_pair = null
RETURN i {.*, previous_status: previous} AS row
"""

LAST_DECLINED: Final = """
MATCH (i:Introduction)
WHERE i.requester_org = $requester AND i.target_org = $target AND i.status = 'DECLINED'
RETURN max(coalesce(i.decided_at, i.updated_at)) AS row
"""

REQUESTS_SINCE: Final = """
RETURN COUNT {
           MATCH (i:Introduction)
           WHERE i.requester_org = $org AND i.created_at >= $since
       }
     + COUNT {
           MATCH (a:AccountAsk)
           WHERE a.requester_org = $org AND a.created_at >= $since
       } AS row
"""

# accept_introduction, after UPDATE_INTRODUCTION: the partnership as INSERT_PARTNERSHIP
# and TRANSITION_PARTNERSHIP store an ACTIVE one (node, live_key, PARTNERS_WITH edge),
# and the INTRODUCED edge. No row when an org is missing.
ACCEPT_WRITES: Final = """
MATCH (inviter:Org {id: $p.inviter_id}), (invitee:Org {id: $p.invitee_id})
MATCH (credited:Org {id: $edge.credited_org}), (to:Org {id: $edge.to_org})
CREATE (inviter)-[:INVITED]->(p:Partnership)-[:WITH]->(invitee)
SET p = $p
CREATE (inviter)-[:PARTNERS_WITH {partnership_id: p.id, status: p.status,
                                  since: p.activated_at}]->(invitee)
CREATE (credited)-[r:INTRODUCED]->(to)
SET r = $edge
RETURN p.id AS row
"""

# As credited or introduced org: the edge's ends, plus a brokered edge's `from_org`.
INTRODUCED_EDGES: Final = """
UNWIND $ids AS id
CALL (id) {
    MATCH (:Org {id: id})-[r:INTRODUCED]-()
    RETURN r
    UNION
    MATCH ()-[r:INTRODUCED]->()
    WHERE r.from_org = id
    RETURN r
}
WITH DISTINCT r
RETURN r {.*} AS row
ORDER BY row.at, row.introduction_id
"""

# --- account-level asks ---------------------------------------------------------------

INSERT_ASK: Final = """
CREATE (a:AccountAsk)
SET a = $ask
RETURN a {.*} AS row
"""

GET_ASKS: Final = """
MATCH (a:AccountAsk)
WHERE a.id IN $ids AND $org IN [a.requester_org, a.partner_org]
RETURN a {.*} AS row
"""

LIST_ASKS_REQUESTER: Final = """
MATCH (a:AccountAsk)
WHERE a.requester_org = $org AND ($after IS NULL OR a.id < $after)
  AND ($statuses IS NULL OR a.status IN $statuses)
RETURN a {.*} AS row
ORDER BY a.requester_org DESC, a.id DESC
LIMIT $limit
"""

LIST_ASKS_PARTNER: Final = """
MATCH (a:AccountAsk)
WHERE a.partner_org = $org AND ($after IS NULL OR a.id < $after)
  AND ($statuses IS NULL OR a.status IN $statuses)
RETURN a {.*} AS row
ORDER BY a.partner_org DESC, a.id DESC
LIMIT $limit
"""

UPDATE_ASK: Final = """
MATCH (a:AccountAsk) WHERE elementId(a) = $node AND a.status = $expected
SET a += $ask
RETURN a {.*} AS row
"""

ASK_EXPIRY_CANDIDATES: Final = """
MATCH (a:AccountAsk)
WHERE a.status = 'REQUESTED' AND a.expires_at <= $now
RETURN {id: a.id, node: elementId(a)} AS row
ORDER BY a.expires_at, a.id
LIMIT $limit
"""

EXPIRE_ASKS: Final = """
UNWIND $nodes AS node
MATCH (a:AccountAsk) WHERE elementId(a) = node
  AND a.status = 'REQUESTED' AND a.expires_at <= $now
SET a.status = 'EXPIRED', a.updated_at = $now
RETURN a {.*} AS row
"""
