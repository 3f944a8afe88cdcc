"""Every Cypher statement the adapter runs. Parameterized only; no string building.

Graph shape:

    (:Org {id, name, types, region, discoverable, created_at})
    (:Org)-[:INVITED]->(:Partnership {id, inviter_id, invitee_id, status, pair_key,
                                      live_key, created_at, updated_at, activated_at,
                                      ended_at, ended_by})-[:WITH]->(:Org)
    (:Org)-[:PARTNERS_WITH {partnership_id, status, since}]->(:Org)   while ACTIVE only
    (:SharingRule {key, from_org, to_org, population, level, fields, updated_at})
    (:Org)-[:OWNS]->(:Account {id, org_id, crm_id, name, owner, populations,
                                field_names, field_values, created_at, updated_at})
    (:Account)-[:KEYED_BY]->(:AccountKey {h, v, kind})   one node per distinct hash
    (:KeyState {id: 'keys', active_version, target_version, cursor, lock})   singleton

`live_key` equals `pair_key` (the unordered pair of org ids) while the partnership is
INVITED or ACTIVE and is absent otherwise; its uniqueness constraint is what allows at
most one live partnership per pair, also under concurrent writes.

Every write to accounts, keys or the key state first MERGEs the KeyState node and sets
its `lock` counter (LOCK_KEY_STATE), so Neo4j holds that node's write lock until commit:
such transactions run one at a time, which keeps the shared AccountKey MERGEs from
clashing and makes the state a transaction read the state it writes under. An absent
KeyState node means version 1 with no rotation.

Backward pages (graph/paging.py): each list has its forward statement and, derived from
it at import by `reversed_walk`, the statement reading the same order in reverse (the
keyset comparison and every ORDER BY term flipped). Cypher cannot take a sort direction
as a parameter, so the adapter picks one of the two fixed statements.
"""

from __future__ import annotations

from typing import Final, LiteralString


def reversed_walk(
    statement: LiteralString, *swaps: tuple[LiteralString, LiteralString]
) -> LiteralString:
    """`statement` with each (forward, backward) fragment swapped, for the statement that
    reads the same order in reverse. Every fragment must occur exactly once, so that a
    later edit of the forward statement cannot silently leave the backward one stale."""
    for forward, backward in swaps:
        if statement.count(forward) != 1:
            raise ValueError(f"{forward!r} does not occur exactly once in {statement!r}")
        statement = statement.replace(forward, backward)
    return statement


SCHEMA: Final[tuple[LiteralString, ...]] = (
    "CREATE CONSTRAINT org_id IF NOT EXISTS FOR (o:Org) REQUIRE o.id IS UNIQUE",
    "CREATE CONSTRAINT partnership_id IF NOT EXISTS FOR (p:Partnership) REQUIRE p.id IS UNIQUE",
    "CREATE CONSTRAINT partnership_live_key IF NOT EXISTS "
    "FOR (p:Partnership) REQUIRE p.live_key IS UNIQUE",
    "CREATE CONSTRAINT sharing_rule_key IF NOT EXISTS FOR (r:SharingRule) REQUIRE r.key IS UNIQUE",
    "CREATE CONSTRAINT account_id IF NOT EXISTS FOR (a:Account) REQUIRE a.id IS UNIQUE",
    # Composite uniqueness is Community (node KEY constraints are Enterprise only).
    "CREATE CONSTRAINT account_org_crm IF NOT EXISTS "
    "FOR (a:Account) REQUIRE (a.org_id, a.crm_id) IS UNIQUE",
    "CREATE CONSTRAINT account_key_h IF NOT EXISTS FOR (k:AccountKey) REQUIRE k.h IS UNIQUE",
    "CREATE CONSTRAINT key_state_id IF NOT EXISTS FOR (s:KeyState) REQUIRE s.id IS UNIQUE",
    # An org's accounts in id order: list_accounts seeks org_id and reads ids in order.
    "CREATE INDEX account_org_list IF NOT EXISTS FOR (a:Account) ON (a.org_id, a.id)",
    "CREATE INDEX partnership_pair_key IF NOT EXISTS FOR (p:Partnership) ON (p.pair_key)",
    "CREATE INDEX sharing_rule_pair IF NOT EXISTS FOR (r:SharingRule) ON (r.from_org, r.to_org)",
)
AWAIT_INDEXES: Final = "CALL db.awaitIndexes(300)"

PING: Final = "RETURN 1 AS ok"
# Batched: one transaction for a big graph runs the server out of heap. Auto-commit only.
RESET: Final = """
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
"""

# --- orgs -----------------------------------------------------------------------------

CREATE_ORG: Final = """
CREATE (o:Org)
SET o = $org
RETURN o {.*} AS row
"""

# ONE row holding a list per org of plain values (created_at as epoch seconds and
# nanoseconds): discovery asks for thousands of orgs at once, and the driver's cost is
# per record and per temporal value, not per query (docs/benchmarks.md, Discovery).
GET_ORGS: Final = """
MATCH (o:Org) WHERE o.id IN $ids
RETURN collect([o.id, o.name, o.types, o.region, o.discoverable,
                o.created_at.epochSeconds, o.created_at.nanosecond]) AS row
"""

LIST_ORGS: Final = """
MATCH (o:Org)
RETURN o {.*} AS row
ORDER BY o.id
LIMIT $limit
"""

LIST_ORGS_AFTER: Final = """
MATCH (o:Org) WHERE o.id > $after
RETURN o {.*} AS row
ORDER BY o.id
LIMIT $limit
"""

SET_ORG_DISCOVERABLE: Final = """
MATCH (o:Org {id: $id})
SET o.discoverable = $discoverable
RETURN o {.*} AS row
"""

# --- partnerships ---------------------------------------------------------------------

INSERT_PARTNERSHIP: Final = """
MATCH (inviter:Org {id: $p.inviter_id}), (invitee:Org {id: $p.invitee_id})
CREATE (inviter)-[:INVITED]->(p:Partnership)-[:WITH]->(invitee)
SET p = $p
RETURN p {.*} AS row
"""

GET_PARTNERSHIPS: Final = """
MATCH (p:Partnership) WHERE p.id IN $ids AND $org IN [p.inviter_id, p.invitee_id]
RETURN p {.*} AS row
"""

LIVE_PARTNERSHIP: Final = """
MATCH (p:Partnership {live_key: $live_key})
RETURN p {.*} AS row
"""

# Index seeks on pair_key, one per candidate: cost grows with len(ids), not history.
COUNTERPARTIES: Final = """
UNWIND $pair_keys AS key
MATCH (p:Partnership {pair_key: key})
WITH DISTINCT CASE WHEN p.inviter_id = $org THEN p.invitee_id ELSE p.inviter_id END AS id
RETURN {id: id} AS row
"""

# One statement: compare-and-set the status, keep live_key and PARTNERS_WITH in step.
TRANSITION_PARTNERSHIP: Final = """
MATCH (inviter:Org)-[:INVITED]->(p:Partnership {id: $id})-[:WITH]->(invitee:Org)
WHERE $org IN [inviter.id, invitee.id] AND p.status IN $expected
SET p.status = $new_status,
    p.updated_at = $at,
    p.activated_at = CASE WHEN $new_status = 'ACTIVE' THEN $at ELSE p.activated_at END,
    p.ended_at = CASE WHEN $new_status = 'ENDED' THEN $at ELSE p.ended_at END,
    p.ended_by = CASE WHEN $new_status = 'ENDED' THEN $org ELSE p.ended_by END,
    p.live_key = CASE WHEN $new_status IN $live THEN p.pair_key ELSE null END
WITH inviter, p, invitee
OPTIONAL MATCH (inviter)-[edge:PARTNERS_WITH {partnership_id: p.id}]->(invitee)
FOREACH (gone IN CASE WHEN p.status <> 'ACTIVE' AND edge IS NOT NULL
                      THEN [edge] ELSE [] END | DELETE gone)
FOREACH (_ IN CASE WHEN p.status = 'ACTIVE' THEN [1] ELSE [] END |
    MERGE (inviter)-[active:PARTNERS_WITH {partnership_id: p.id}]->(invitee)
    SET active.status = p.status, active.since = p.activated_at)
WITH inviter, p, invitee
OPTIONAL MATCH (r:SharingRule)
WHERE p.live_key IS NULL
  AND ((r.from_org = inviter.id AND r.to_org = invitee.id)
       OR (r.from_org = invitee.id AND r.to_org = inviter.id))
WITH p, collect(r) AS stale
FOREACH (r IN stale | DELETE r)
RETURN p {.*} AS row
"""

LIST_PARTNERSHIPS: Final = """
MATCH (:Org {id: $org})-[:INVITED|WITH]-(p:Partnership)
WHERE ($status IS NULL OR p.status = $status) AND ($after IS NULL OR p.id < $after)
RETURN DISTINCT p {.*} AS row
ORDER BY row.id DESC
LIMIT $limit
"""
LIST_PARTNERSHIPS_BACKWARD: Final = reversed_walk(
    LIST_PARTNERSHIPS, ("p.id < $after", "p.id > $after"), ("row.id DESC", "row.id")
)

# --- sharing rules --------------------------------------------------------------------

PUT_SHARING_RULE: Final = """
MERGE (r:SharingRule {key: $key})
SET r += $rule
RETURN r {.*} AS row
"""

SHARING_RULES: Final = """
MATCH (r:SharingRule {from_org: $from_org, to_org: $to_org})
RETURN r {.*} AS row
ORDER BY r.population
"""

# --- accounts -------------------------------------------------------------------------

# First statement of every account / key write: take the key-state lock, read the state.
LOCK_KEY_STATE: Final = """
MERGE (ks:KeyState {id: 'keys'})
ON CREATE SET ks.active_version = 1
SET ks.lock = coalesce(ks.lock, 0) + 1
RETURN ks {.active_version, .target_version, .cursor} AS row
"""

KEY_STATE: Final = """
OPTIONAL MATCH (ks:KeyState {id: 'keys'})
RETURN ks {.active_version, .target_version, .cursor} AS row
"""

ORG_EXISTS: Final = """
OPTIONAL MATCH (o:Org {id: $org})
RETURN {exists: o IS NOT NULL} AS row
"""

# upsert_accounts runs EXISTING_ACCOUNTS, then CREATE_ACCOUNTS for the new rows and
# REPLACE_ACCOUNTS for the others, then DELETE_ORPHAN_KEYS, all under the key-state lock
# (so nothing else writes accounts or keys between the read and the writes).

EXISTING_ACCOUNTS: Final = """
UNWIND $crm_ids AS crm_id
MATCH (a:Account {org_id: $org, crm_id: crm_id})
RETURN {crm_id: crm_id, id: a.id} AS row
"""

# New accounts need no MERGE: CREATE them, their OWNS and KEYED_BY links outright.
CREATE_ACCOUNTS: Final = """
MATCH (o:Org {id: $org})
UNWIND $rows AS row
CREATE (o)-[:OWNS]->(a:Account {
    id: row.new_id, org_id: $org, crm_id: row.crm_id, name: row.name, owner: row.owner,
    populations: row.populations, field_names: row.field_names,
    field_values: row.field_values, created_at: $at, updated_at: $at})
WITH a, row
UNWIND row.keys AS key
MERGE (k:AccountKey {h: key.h})
ON CREATE SET k.v = key.v, k.kind = key.kind
CREATE (a)-[:KEYED_BY]->(k)
"""

# Existing accounts: replace the properties, drop the key links the row no longer has
# (their hashes come back as `unlinked`), MERGE the keys and links it has.
REPLACE_ACCOUNTS: Final = """
UNWIND $rows AS row
MATCH (a:Account {org_id: $org, crm_id: row.crm_id})
SET a.name = row.name,
    a.owner = row.owner,
    a.populations = row.populations,
    a.field_names = row.field_names,
    a.field_values = row.field_values,
    a.updated_at = $at
WITH row, a
CALL (row, a) {
    MATCH (a)-[r:KEYED_BY]->(old:AccountKey)
    WHERE NOT old.h IN row.hs
    DELETE r
    RETURN collect(old.h) AS unlinked
}
CALL (row, a) {
    UNWIND row.keys AS key
    MERGE (k:AccountKey {h: key.h})
    ON CREATE SET k.v = key.v, k.kind = key.kind
    MERGE (a)-[:KEYED_BY]->(k)
    RETURN count(k) AS linked
}
RETURN unlinked AS row
"""

# Keys among $hs that no account links to any more.
DELETE_ORPHAN_KEYS: Final = """
UNWIND $hs AS h
MATCH (k:AccountKey {h: h})
WHERE NOT EXISTS { (k)<-[:KEYED_BY]-() }
DELETE k
RETURN count(k) AS row
"""

DELETE_ACCOUNTS: Final = """
UNWIND $crm_ids AS crm_id
MATCH (a:Account {org_id: $org, crm_id: crm_id})
WITH a, crm_id, [(a)-[:KEYED_BY]->(k:AccountKey) | k.h] AS hs
DETACH DELETE a
RETURN {crm_id: crm_id, hs: hs} AS row
"""

GET_ACCOUNTS: Final = """
MATCH (a:Account) WHERE a.id IN $ids AND a.org_id = $org
RETURN a {.*, keys: [(a)-[:KEYED_BY]->(k:AccountKey) | k {.h, .v, .kind}]} AS row
"""

# `$after` is '' for the first page; ids are never empty. Ordering by (org_id, id), the
# index's own order (org_id is fixed), lets the index seek stop at LIMIT instead of
# sorting every account of the org.
LIST_ACCOUNTS: Final = """
MATCH (a:Account)
WHERE a.org_id = $org AND a.id > $after
RETURN a {.*, keys: [(a)-[:KEYED_BY]->(k:AccountKey) | k {.h, .v, .kind}]} AS row
ORDER BY a.org_id, a.id
LIMIT $limit
"""

LIST_ACCOUNTS_IN_POPULATION: Final = """
MATCH (a:Account)
WHERE a.org_id = $org AND a.id > $after AND $population IN a.populations
RETURN a {.*, keys: [(a)-[:KEYED_BY]->(k:AccountKey) | k {.h, .v, .kind}]} AS row
ORDER BY a.org_id, a.id
LIMIT $limit
"""

# Backward: the last page reads the index from its end (`$after` is ''), the others
# from just before the cursor.
_ACCOUNTS_DOWN: Final = ("ORDER BY a.org_id, a.id", "ORDER BY a.org_id DESC, a.id DESC")
_ACCOUNTS_BEFORE: Final = ("a.id > $after", "a.id < $after")
LIST_ACCOUNTS_LAST: Final = reversed_walk(LIST_ACCOUNTS, _ACCOUNTS_DOWN)
LIST_ACCOUNTS_BEFORE: Final = reversed_walk(LIST_ACCOUNTS, _ACCOUNTS_DOWN, _ACCOUNTS_BEFORE)
LIST_ACCOUNTS_IN_POPULATION_LAST: Final = reversed_walk(LIST_ACCOUNTS_IN_POPULATION, _ACCOUNTS_DOWN)
LIST_ACCOUNTS_IN_POPULATION_BEFORE: Final = reversed_walk(
    LIST_ACCOUNTS_IN_POPULATION, _ACCOUNTS_DOWN, _ACCOUNTS_BEFORE
)

# The org's OWNS degree: read from the node's relationship counts, not by a scan.
COUNT_ACCOUNTS: Final = """
OPTIONAL MATCH (o:Org {id: $org})
RETURN CASE WHEN o IS NULL THEN 0 ELSE COUNT { (o)-[:OWNS]->() } END AS row
"""

COUNT_ACCOUNTS_IN_POPULATION: Final = """
MATCH (a:Account)
WHERE a.org_id = $org AND $population IN a.populations
RETURN count(a) AS row
"""

# --- overlaps -------------------------------------------------------------------------

# An account's populations are distinct, so count(*) per population counts accounts.
# `a.id > ''` (ids are never empty) lets the (org_id, id) index serve the org_id seek.
POPULATION_FINGERPRINTS: Final = """
MATCH (a:Account)
WHERE a.org_id = $org AND a.id > ''
UNWIND a.populations AS population
WITH population, count(*) AS n, max(a.updated_at) AS latest
RETURN {population: population, count: n, latest: latest} AS row
"""

POPULATION_COUNTS: Final = """
MATCH (a:Account)
WHERE a.org_id = $org AND a.id > ''
UNWIND a.populations AS population
WITH population, count(*) AS n
RETURN {population: population, count: n} AS row
ORDER BY population
"""

# Every account write bumps its org's version in the same transaction, so that a cached
# overlap matrix can tell in one read whether either org changed (graph/matrix_cache.py).
BUMP_ACCOUNTS_VERSION: Final = """
MATCH (o:Org {id: $org})
SET o.accounts_version = coalesce(o.accounts_version, 0) + 1
"""

ACCOUNTS_VERSIONS: Final = """
UNWIND $orgs AS id
OPTIONAL MATCH (o:Org {id: id})
RETURN {id: id, version: CASE WHEN o IS NULL THEN -1 ELSE coalesce(o.accounts_version, 0) END,
        n: CASE WHEN o IS NULL THEN 0 ELSE COUNT { (o)-[:OWNS]->() } END} AS row
"""

# Walks from $org's accounts (the caller starts from the smaller org) through the shared
# AccountKey nodes to $other's. Only $org is anchored, so the planner cannot turn the
# walk around; `b.org_id` is one property read per candidate, cheaper than expanding
# b's OWNS and reading the Org's id. No labels: OWNS only reaches Accounts and KEYED_BY
# only AccountKeys, so label checks would be pure cost. WITH DISTINCT folds pairs that
# share several keys; each pair then counts once per (population of a, population of b).
OVERLAP_MATRIX: Final = """
MATCH (:Org {id: $org})-[:OWNS]->(a)-[:KEYED_BY]->(k)<-[:KEYED_BY]-(b)
WHERE b.org_id = $other AND k.kind IN $kinds
WITH DISTINCT a, b
UNWIND a.populations AS p
UNWIND b.populations AS q
WITH p, q, count(DISTINCT a) AS mine, count(DISTINCT b) AS theirs
RETURN {p: p, q: q, a: mine, b: theirs} AS row
ORDER BY p, q
"""

# Filters on my own accounts: `$population` and the rest are null when not asked for.
_MY_ACCOUNTS: Final = """
MATCH (a:Account)
WHERE a.org_id = $org AND a.id > $after
  AND ($population IS NULL OR $population IN a.populations)
  AND ($starts IS NULL OR toLower(a.name) STARTS WITH toLower($starts))
  AND ($contains IS NULL OR toLower(a.name) CONTAINS toLower($contains))
  AND ($owner IS NULL OR a.owner = $owner)
"""
_OVERLAPS: Final = """
AND EXISTS {
    MATCH (a)-[:KEYED_BY]->(k)<-[:KEYED_BY]-(b)
    WHERE k.kind IN $kinds AND b.org_id = $partner
      AND any(q IN b.populations WHERE q IN $populations)
}
"""
_PARTNER_ACCOUNTS: Final = """
CALL (a) {
    MATCH (a)-[:KEYED_BY]->(k)<-[:KEYED_BY]-(b)
    WHERE k.kind IN $kinds AND b.org_id = $partner
      AND any(q IN b.populations WHERE q IN $populations)
    WITH DISTINCT b
    ORDER BY b.id
    RETURN collect(b {
        .id, .owner, .field_names, .field_values,
        populations: [q IN b.populations WHERE q IN $populations]
    }) AS partner
}
"""
_MATCH_ROW: Final = """
RETURN a {.*, keys: [(a)-[:KEYED_BY]->(k:AccountKey) | k {.h, .v, .kind}],
          partner: partner} AS row
"""

# One page of my accounts (in id order off the (org_id, id) index, stopping at the
# limit) that share a key of $kinds with a partner account in one of $populations, each
# with those partner accounts: only the requested populations, owner and fields.
# `$after` is '' for the first page.
OVERLAPPING_ACCOUNTS: Final = (
    _MY_ACCOUNTS
    + _OVERLAPS
    + """
WITH a
ORDER BY a.org_id, a.id
LIMIT $limit
"""
    + _PARTNER_ACCOUNTS
    + _MATCH_ROW
    + """
ORDER BY a.org_id, a.id
"""
)

# The same in another order of my own fields: the key (n, v, id), where n puts a missing
# owner lowest and v is the field's value ('' for the id order). `$after_id` is null on
# the first page, else the cursor's (n, v, id); the whole key ascends or descends.
_SORT_KEY: Final = """
WITH a,
     CASE WHEN $field = 'OWNER' AND a.owner IS NULL THEN 0 ELSE 1 END AS n,
     CASE $field
         WHEN 'NAME' THEN a.name
         WHEN 'OWNER' THEN coalesce(a.owner, '')
         WHEN 'CREATED_AT' THEN a.created_at
         WHEN 'UPDATED_AT' THEN a.updated_at
         ELSE ''
     END AS v
"""
OVERLAPPING_ACCOUNTS_ASC: Final = (
    _MY_ACCOUNTS
    + _OVERLAPS
    + _SORT_KEY
    + """
WHERE $after_id IS NULL OR n > $after_n
   OR (n = $after_n AND (v > $after_v OR (v = $after_v AND a.id > $after_id)))
WITH a, n, v
ORDER BY n, v, a.id
LIMIT $limit
"""
    + _PARTNER_ACCOUNTS
    + _MATCH_ROW
    + """
ORDER BY n, v, a.id
"""
)
OVERLAPPING_ACCOUNTS_DESC: Final = (
    _MY_ACCOUNTS
    + _OVERLAPS
    + _SORT_KEY
    + """
WHERE $after_id IS NULL OR n < $after_n
   OR (n = $after_n AND (v < $after_v OR (v = $after_v AND a.id < $after_id)))
WITH a, n, v
ORDER BY n DESC, v DESC, a.id DESC
LIMIT $limit
"""
    + _PARTNER_ACCOUNTS
    + _MATCH_ROW
    + """
ORDER BY n DESC, v DESC, a.id DESC
"""
)

# --- key rotation ---------------------------------------------------------------------

SET_KEY_STATE: Final = """
MATCH (ks:KeyState {id: 'keys'})
SET ks.active_version = $active_version,
    ks.target_version = $target_version,
    ks.cursor = $cursor
RETURN ks {.active_version, .target_version, .cursor} AS row
"""

# Walks the AccountKey.h index upwards from the cursor.
KEYS_TO_ROTATE: Final = """
MATCH (k:AccountKey)
WHERE k.h > $after AND k.v = $active
RETURN k.h AS row
ORDER BY k.h
LIMIT $limit
"""

ANY_KEY_AT_VERSION: Final = """
MATCH (k:AccountKey) WHERE k.v = $version
RETURN k.h AS row
LIMIT 1
"""

REWRAP_KEYS: Final = """
UNWIND $pairs AS p
MATCH (k:AccountKey {h: p.old})
WHERE k.v = $active
SET k.h = p.new, k.v = $target
RETURN count(k) AS row
"""

# --- tests only -----------------------------------------------------------------------

DUMP: Final = """
MATCH (n) RETURN properties(n) AS row
UNION ALL
MATCH ()-[r]->() RETURN properties(r) AS row
"""
