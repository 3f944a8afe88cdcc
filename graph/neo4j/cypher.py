"""Every Cypher statement the adapter runs. Parameterized only; no string building.

Graph shape:

    (:Org {id, name, types, region, discoverable, created_at})
    (:Org)-[:INVITED]->(:Partnership {id, inviter_id, invitee_id, status, pair_key,
                                      live_key, created_at, updated_at, activated_at,
                                      ended_at, ended_by})-[:WITH]->(:Org)
    (:Org)-[:PARTNERS_WITH {partnership_id, status, since}]->(:Org)   while ACTIVE only
    (:SharingRule {key, from_org, to_org, population, level, fields, updated_at})

`live_key` equals `pair_key` (the unordered pair of org ids) while the partnership is
INVITED or ACTIVE and is absent otherwise; its uniqueness constraint is what allows at
most one live partnership per pair, also under concurrent writes.
"""

from __future__ import annotations

from typing import Final, LiteralString

SCHEMA: Final[tuple[LiteralString, ...]] = (
    "CREATE CONSTRAINT org_id IF NOT EXISTS FOR (o:Org) REQUIRE o.id IS UNIQUE",
    "CREATE CONSTRAINT partnership_id IF NOT EXISTS FOR (p:Partnership) REQUIRE p.id IS UNIQUE",
    "CREATE CONSTRAINT partnership_live_key IF NOT EXISTS "
    "FOR (p:Partnership) REQUIRE p.live_key IS UNIQUE",
    "CREATE CONSTRAINT sharing_rule_key IF NOT EXISTS FOR (r:SharingRule) REQUIRE r.key IS UNIQUE",
    "CREATE INDEX partnership_pair_key IF NOT EXISTS FOR (p:Partnership) ON (p.pair_key)",
    "CREATE INDEX sharing_rule_pair IF NOT EXISTS FOR (r:SharingRule) ON (r.from_org, r.to_org)",
)
AWAIT_INDEXES: Final = "CALL db.awaitIndexes(300)"

PING: Final = "RETURN 1 AS ok"
RESET: Final = "MATCH (n) DETACH DELETE n"

# --- orgs -----------------------------------------------------------------------------

CREATE_ORG: Final = """
CREATE (o:Org)
SET o = $org
RETURN o {.*} AS row
"""

GET_ORGS: Final = """
MATCH (o:Org) WHERE o.id IN $ids
RETURN o {.*} AS row
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
