"""The Cypher of the pipeline half of the port: opportunities, programs, registrations.

Graph shape (in addition to graph/neo4j/cypher.py):

    (:Opportunity {id, org_id, crm_id, account_id, name, amount, currency, stage, status,
                   created_at, closed_at, updated_at, lock})-[:FOR]->(:Account)
    (:Account:DirectOnly)      the vendor marked the account direct-only (a label)
    (:DealProgram {vendor_org, exclusive_roles, expiry_days, extension_days,
                   max_extensions, existing_pipeline_blocks, auto_approve_roles,
                   auto_approve_max_amount, direct_only_populations, updated_at})
    (:DealRegistration {id, vendor_org, partner_org, account_id, opportunity_id, role,
                        product_line, amount, currency, expected_close, status, reasons,
                        credit, registered_by, registered_at, updated_at, claim_key,
                        decided_at, decided_by, decision_note, expires_at, extensions,
                        seq})-[:ON]->(:Opportunity)          when linked
    (:DealRegistration)-[:HAS_HISTORY]->(:DealTransition {registration_id, seq, at,
                        from_status, to_status, actor_org, actor_user, note})
    (:DealClaim {key, lock})   one per claim key ever used: the key's lock

Money is the exact decimal text (`amount`, `auto_approve_max_amount`) with its currency;
Neo4j has no decimal type and a float would round.

Race-freedom. A registration holds its claim while it is live: the holder of a key is
the live DealRegistration with that `claim_key` (an index seek). Every transaction that
writes a registration first writes the `lock` counter of the DealClaim node of its
claim key (LOCK_CLAIM_NODES, creating the node with CREATE_CLAIMS when missing), so it
holds that node's write lock until it commits: writers of one claim key run one at a
time, and each reads the holder in a later statement, after the lock, so it sees the
last committed state. The uniqueness constraint on DealClaim.key keeps concurrent first
creators of a key to one node (the others fail and retry, then queue on it). Claim
nodes are never deleted, so a queued writer never finds its lock node gone, and only
the lock counter is ever written on them (writing more there, such as a holder id,
made the lock manager report false deadlocks under contention).
Batch writers (expiry, settling) lock their claim keys in sorted order.

Compare-and-set writes read the status they compare in the statement after the lock,
never in the statement that takes it (Cypher may cache a property read earlier in the
same statement).
"""

from __future__ import annotations

from typing import Final, LiteralString

SCHEMA: Final[tuple[LiteralString, ...]] = (
    "CREATE CONSTRAINT opportunity_id IF NOT EXISTS FOR (o:Opportunity) REQUIRE o.id IS UNIQUE",
    "CREATE CONSTRAINT opportunity_org_crm IF NOT EXISTS "
    "FOR (o:Opportunity) REQUIRE (o.org_id, o.crm_id) IS UNIQUE",
    "CREATE CONSTRAINT deal_program_vendor IF NOT EXISTS "
    "FOR (p:DealProgram) REQUIRE p.vendor_org IS UNIQUE",
    "CREATE CONSTRAINT deal_registration_id IF NOT EXISTS "
    "FOR (r:DealRegistration) REQUIRE r.id IS UNIQUE",
    # The held claim: one node per key, whose write lock serializes the key's writers.
    "CREATE CONSTRAINT deal_claim_key IF NOT EXISTS FOR (c:DealClaim) REQUIRE c.key IS UNIQUE",
    "CREATE CONSTRAINT deal_transition_seq IF NOT EXISTS "
    "FOR (t:DealTransition) REQUIRE (t.registration_id, t.seq) IS UNIQUE",
    "CREATE INDEX opportunity_org_list IF NOT EXISTS FOR (o:Opportunity) ON (o.org_id, o.id)",
    "CREATE INDEX opportunity_account IF NOT EXISTS FOR (o:Opportunity) ON (o.account_id)",
    "CREATE INDEX deal_vendor_list IF NOT EXISTS FOR (r:DealRegistration) ON (r.vendor_org, r.id)",
    "CREATE INDEX deal_partner_list IF NOT EXISTS "
    "FOR (r:DealRegistration) ON (r.partner_org, r.id)",
    "CREATE INDEX deal_account IF NOT EXISTS FOR (r:DealRegistration) ON (r.account_id)",
    "CREATE INDEX deal_claim IF NOT EXISTS FOR (r:DealRegistration) ON (r.claim_key)",
    "CREATE INDEX deal_status IF NOT EXISTS FOR (r:DealRegistration) ON (r.status)",
    "CREATE INDEX deal_status_expiry IF NOT EXISTS "
    "FOR (r:DealRegistration) ON (r.status, r.expires_at)",
)

# --- opportunities --------------------------------------------------------------------

# Which rows name an account of the org (account_id null when none does).
OPPORTUNITY_ACCOUNTS: Final = """
UNWIND $rows AS row
OPTIONAL MATCH (a:Account {org_id: $org, crm_id: row.account_crm_id})
RETURN {crm_id: row.crm_id, account_id: a.id} AS row
"""

# Rows whose account exists: create or replace by (org, crm_id). A node MERGE just
# created has no updated_at yet, which tells created from replaced.
UPSERT_OPPORTUNITIES: Final = """
UNWIND $rows AS row
MATCH (a:Account {org_id: $org, crm_id: row.account_crm_id})
MERGE (o:Opportunity {org_id: $org, crm_id: row.crm_id})
ON CREATE SET o.id = row.new_id
WITH a, row, o, o.updated_at IS NULL AS created, o.status AS previous
SET o.account_id = a.id,
    o.name = row.name,
    o.amount = row.amount,
    o.currency = row.currency,
    o.stage = row.stage,
    o.status = row.status,
    o.created_at = row.created_at,
    o.closed_at = row.closed_at,
    o.updated_at = $at
WITH a, row, o, created, previous
CALL (a, o) {
    OPTIONAL MATCH (o)-[old:FOR]->(other)
    WHERE other <> a
    DELETE old
}
MERGE (o)-[:FOR]->(a)
RETURN {crm_id: row.crm_id, id: o.id, created: created, previous: previous} AS row
"""

GET_OPPORTUNITIES: Final = """
MATCH (o:Opportunity) WHERE o.id IN $ids AND o.org_id = $org
RETURN o {.*} AS row
"""

# `$after` is '' for the first page (ids are never empty): the (org_id, id) index serves
# the seek and the order.
LIST_OPPORTUNITIES: Final = """
MATCH (o:Opportunity)
WHERE o.org_id = $org AND o.id > $after
  AND ($status IS NULL OR o.status = $status)
  AND ($account IS NULL OR o.account_id = $account)
RETURN o {.*} AS row
ORDER BY o.org_id, o.id
LIMIT $limit
"""

OPEN_OPPORTUNITIES: Final = """
MATCH (o:Opportunity)
WHERE o.account_id = $account AND o.org_id = $org AND o.status = 'OPEN'
  AND o.created_at < $before
RETURN o {.*} AS row
ORDER BY o.created_at, o.id
"""

# Takes the opportunity's write lock; CLOSE_OPPORTUNITY then compares in a new statement.
LOCK_OPPORTUNITY: Final = """
MATCH (o:Opportunity {id: $id})
WHERE o.org_id = $org
SET o.lock = coalesce(o.lock, 0) + 1
RETURN o.id AS row
"""

CLOSE_OPPORTUNITY: Final = """
MATCH (o:Opportunity {id: $id})
WHERE o.org_id = $org AND o.status = 'OPEN'
SET o.status = $status, o.closed_at = $closed_at, o.updated_at = $at
RETURN o {.*} AS row
"""

# --- programs and direct-only accounts ------------------------------------------------

DEAL_PROGRAM: Final = """
MATCH (p:DealProgram {vendor_org: $vendor})
RETURN p {.*} AS row
"""

PUT_DEAL_PROGRAM: Final = """
MERGE (p:DealProgram {vendor_org: $vendor})
SET p = $program
RETURN p {.*} AS row
"""

SET_DIRECT_ONLY: Final = """
MATCH (a:Account) WHERE a.id IN $ids AND a.org_id = $org
SET a:DirectOnly
RETURN a.id AS row
"""

UNSET_DIRECT_ONLY: Final = """
MATCH (a:Account) WHERE a.id IN $ids AND a.org_id = $org
REMOVE a:DirectOnly
RETURN a.id AS row
"""

DIRECT_ONLY_ACCOUNTS: Final = """
MATCH (a:Account) WHERE a.id IN $ids AND a.org_id = $org AND a:DirectOnly
RETURN a.id AS row
"""

# Seeks the AccountKey.h constraint index per key, then walks to the org's accounts.
ACCOUNTS_BY_KEYS: Final = """
UNWIND $keys AS key
MATCH (k:AccountKey) WHERE k.h IN key.hs AND k.kind = key.kind
MATCH (a:Account)-[:KEYED_BY]->(k)
WHERE a.org_id = $org
WITH DISTINCT a
RETURN a {.*, keys: [(a)-[:KEYED_BY]->(k:AccountKey) | k {.h, .v, .kind}]} AS row
ORDER BY row.id
"""

# --- claims ---------------------------------------------------------------------------

# Every registration write starts by locking its claim nodes (deals.py `_lock_claims`):
# CLAIM_NODES finds them in a read-only statement, LOCK_CLAIM_NODES writes their `lock`
# counter by element id, in sorted key order. The lock statement does not seek by key:
# in a statement that writes, a seek on a unique property takes a shared lock on the
# index entry, and a MERGE a shared lock on the node, which concurrent upgrades to the
# write lock turn into deadlocks.
CLAIM_NODES: Final = """
UNWIND $keys AS key
MATCH (c:DealClaim {key: key})
RETURN {key: c.key, node: elementId(c)} AS row
"""

LOCK_CLAIM_NODES: Final = """
UNWIND $nodes AS node
MATCH (c:DealClaim) WHERE elementId(c) = node
SET c.lock = coalesce(c.lock, 0) + 1
RETURN count(c) AS row
"""

# Claim keys CLAIM_NODES did not find. Concurrent creators of one key wait on the
# constraint's index entry; all but the first then fail with a constraint error, and the
# store retries the whole transaction, which now finds the node.
CREATE_CLAIMS: Final = """
UNWIND $keys AS key
CREATE (c:DealClaim {key: key, lock: 1})
RETURN {key: c.key, node: elementId(c)} AS row
"""

# Read after the lock: the live registrations holding the key (at most one).
CLAIM_HOLDERS: Final = """
MATCH (r:DealRegistration)
WHERE r.claim_key = $key AND r.status IN $live
RETURN r {.id, .status, .expires_at} AS row
ORDER BY r.id
"""

# --- registrations --------------------------------------------------------------------

# After locking the claim and the duplicate decision: store the registration with its
# first history entry and link its opportunity (the vendor's only).
CREATE_REGISTRATION: Final = """
CREATE (r:DealRegistration)
SET r = $registration, r.seq = 1
CREATE (r)-[:HAS_HISTORY]->(t:DealTransition)
SET t = $transition, t.seq = 1
WITH r
CALL (r) {
    MATCH (o:Opportunity {id: r.opportunity_id})
    WHERE o.org_id = r.vendor_org
    CREATE (r)-[:ON]->(o)
}
RETURN r {.*} AS row
"""

# After locking the claims: approvals among $ids whose time is up become EXPIRED, with
# history by the server (no longer live, they no longer hold their claims).
EXPIRE_REGISTRATIONS: Final = """
UNWIND $ids AS id
MATCH (r:DealRegistration {id: id})
WHERE r.status = 'APPROVED' AND r.expires_at <= $at
SET r.status = 'EXPIRED', r.updated_at = $at, r.seq = r.seq + 1
CREATE (r)-[:HAS_HISTORY]->(t:DealTransition)
SET t = {registration_id: r.id, seq: r.seq, at: $at,
         from_status: 'APPROVED', to_status: 'EXPIRED'}
RETURN r {.*} AS row
"""

EXPIRY_CANDIDATES: Final = """
MATCH (r:DealRegistration)
WHERE r.status = 'APPROVED' AND r.expires_at <= $now
RETURN {id: r.id, key: r.claim_key} AS row
ORDER BY r.expires_at, r.id
LIMIT $limit
"""

# After locking the claim of current.claim_key: compare-and-set and history.
UPDATE_REGISTRATION: Final = """
MATCH (r:DealRegistration {id: $id})
WHERE r.status = $expected_status AND r.extensions = $expected_extensions
SET r += $registration, r.seq = r.seq + 1
CREATE (r)-[:HAS_HISTORY]->(t:DealTransition)
SET t = $transition, t.seq = r.seq
RETURN r {.*} AS row
"""

RELINK_OPPORTUNITY: Final = """
MATCH (r:DealRegistration {id: $id})
CALL (r) {
    OPTIONAL MATCH (r)-[on:ON]->(o)
    WHERE o.id <> coalesce(r.opportunity_id, '')
    DELETE on
}
CALL (r) {
    MATCH (o:Opportunity {id: r.opportunity_id})
    WHERE o.org_id = r.vendor_org
    MERGE (r)-[:ON]->(o)
}
RETURN r.id AS row
"""

# $moves: [{opp: closed status, from: registration status, to: new status}].
SETTLE_CANDIDATES: Final = """
UNWIND $opportunity_ids AS oid
MATCH (o:Opportunity {id: oid})<-[:ON]-(r:DealRegistration)
WHERE any(m IN $moves WHERE m.opp = o.status AND m.from = r.status)
RETURN {id: r.id, key: r.claim_key} AS row
ORDER BY row.id
LIMIT $limit
"""

SETTLE_CANDIDATES_ANY: Final = """
MATCH (r:DealRegistration)-[:ON]->(o:Opportunity)
WHERE r.status IN $froms
  AND any(m IN $moves WHERE m.opp = o.status AND m.from = r.status)
RETURN {id: r.id, key: r.claim_key} AS row
ORDER BY row.id
LIMIT $limit
"""

# After locking the claims: re-decide each candidate on fresh reads, then move it.
# `previous_status` (not stored) tells the outbox where each one came from.
SETTLE_REGISTRATIONS: Final = """
UNWIND $ids AS id
MATCH (r:DealRegistration {id: id})-[:ON]->(o:Opportunity)
WITH r, r.status AS from, [m IN $moves WHERE m.opp = o.status AND m.from = r.status | m.to] AS tos
WHERE size(tos) > 0
SET r.status = tos[0], r.updated_at = $at, r.seq = r.seq + 1
CREATE (r)-[:HAS_HISTORY]->(t:DealTransition)
SET t = {registration_id: r.id, seq: r.seq, at: $at, from_status: from, to_status: tos[0]}
RETURN r {.*, previous_status: from} AS row
ORDER BY row.id
"""

GET_DEALS: Final = """
MATCH (r:DealRegistration)
WHERE r.id IN $ids AND $org IN [r.vendor_org, r.partner_org]
RETURN r {.*} AS row
"""

# Newest first off the (vendor_org, id) / (partner_org, id) indexes.
LIST_DEALS_VENDOR: Final = """
MATCH (r:DealRegistration)
WHERE r.vendor_org = $org AND ($after IS NULL OR r.id < $after)
  AND ($statuses IS NULL OR r.status IN $statuses)
  AND ($account IS NULL OR r.account_id = $account)
  AND ($opportunity IS NULL OR r.opportunity_id = $opportunity)
  AND ($counterparty IS NULL OR r.partner_org = $counterparty)
RETURN r {.*} AS row
ORDER BY r.vendor_org DESC, r.id DESC
LIMIT $limit
"""

LIST_DEALS_PARTNER: Final = """
MATCH (r:DealRegistration)
WHERE r.partner_org = $org AND ($after IS NULL OR r.id < $after)
  AND ($statuses IS NULL OR r.status IN $statuses)
  AND ($account IS NULL OR r.account_id = $account)
  AND ($opportunity IS NULL OR r.opportunity_id = $opportunity)
  AND ($counterparty IS NULL OR r.vendor_org = $counterparty)
RETURN r {.*} AS row
ORDER BY r.partner_org DESC, r.id DESC
LIMIT $limit
"""

DEALS_ON_ACCOUNTS: Final = """
MATCH (r:DealRegistration)
WHERE r.account_id IN $ids AND r.vendor_org = $vendor
RETURN r {.*} AS row
ORDER BY r.id
"""

DEAL_HISTORY: Final = """
MATCH (r:DealRegistration {id: $id})
WHERE $org IN [r.vendor_org, r.partner_org]
MATCH (r)-[:HAS_HISTORY]->(t:DealTransition)
RETURN t {.*} AS row
ORDER BY t.seq
"""

DEAL_HISTORIES: Final = """
MATCH (r:DealRegistration)
WHERE r.id IN $ids AND $org IN [r.vendor_org, r.partner_org]
OPTIONAL MATCH (r)-[:HAS_HISTORY]->(t:DealTransition)
WITH r, t
ORDER BY t.seq
WITH r, [entry IN collect(t) | entry {.*}] AS history
RETURN {id: r.id, history: history} AS row
"""

DEAL_STATS: Final = """
MATCH (r:DealRegistration)
WHERE r.partner_org IN $partners AND r.vendor_org = $vendor
WITH r.partner_org AS partner,
     sum(CASE WHEN r.status = 'WON' THEN 1 ELSE 0 END) AS won,
     sum(CASE WHEN r.status IN $live THEN 1 ELSE 0 END) AS live
RETURN {partner: partner, won: won, live: live} AS row
"""
