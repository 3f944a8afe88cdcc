"""The Cypher of the webhook half of the port: the outbox, endpoints and deliveries.

Graph shape (in addition to the other cypher modules):

    (:OutboxEvent {id, org_id, event_type, payload, created_at, dispatched_at, lock})
        also labelled :Undispatched until fan-out took it (a label scan, not a null
        property, which Neo4j does not index)
    (:WebhookEndpoint {id, org_id, url, event_types, secret, created_by, created_at,
                       active, lock})
    (:WebhookDelivery {id, org_id, endpoint_id, event_id, event_type, payload, event_at,
                       status, attempts, next_attempt_at, lease_until, created_at,
                       last_attempt_at, last_status_code, last_error, delivered_at, lock})

`payload` is the JSON text (graph/outbox.py), exact on every backend. Deliveries carry a
copy of their event, and are unique per (event_id, endpoint_id).

Concurrent dispatchers. As for introductions (intro_cypher.py), a compare-and-set first
finds candidates in a read-only statement, then writes their `lock` counter by element
id in sorted order (LOCK_NODES), so it holds their write locks until commit, and
compares in a later statement, which reads the last committed state. Two fan-outs or
two claims racing for one node queue on its lock; the second then finds it taken
(dispatched, or leased) and takes nothing of it. Fan-out also locks the endpoints it
delivers to, after the events, which serializes it with deactivation (which fails the
endpoint's PENDING deliveries), so no PENDING delivery is left on an inactive endpoint.
"""

from __future__ import annotations

from typing import Final, LiteralString

SCHEMA: Final[tuple[LiteralString, ...]] = (
    "CREATE CONSTRAINT outbox_event_id IF NOT EXISTS FOR (e:OutboxEvent) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT webhook_endpoint_id IF NOT EXISTS "
    "FOR (e:WebhookEndpoint) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT webhook_delivery_id IF NOT EXISTS "
    "FOR (d:WebhookDelivery) REQUIRE d.id IS UNIQUE",
    # Fan-out never delivers one event twice to one endpoint, whatever the races.
    "CREATE CONSTRAINT webhook_delivery_event_endpoint IF NOT EXISTS "
    "FOR (d:WebhookDelivery) REQUIRE (d.event_id, d.endpoint_id) IS UNIQUE",
    "CREATE INDEX outbox_org IF NOT EXISTS FOR (e:OutboxEvent) ON (e.org_id, e.created_at)",
    "CREATE INDEX outbox_undispatched IF NOT EXISTS FOR (e:Undispatched) ON (e.created_at)",
    "CREATE INDEX webhook_endpoint_org IF NOT EXISTS FOR (e:WebhookEndpoint) ON (e.org_id, e.id)",
    "CREATE INDEX webhook_delivery_org IF NOT EXISTS "
    "FOR (d:WebhookDelivery) ON (d.org_id, d.created_at)",
    "CREATE INDEX webhook_delivery_endpoint IF NOT EXISTS "
    "FOR (d:WebhookDelivery) ON (d.endpoint_id, d.status)",
    "CREATE INDEX webhook_delivery_due IF NOT EXISTS "
    "FOR (d:WebhookDelivery) ON (d.status, d.next_attempt_at)",
)

LOCK_NODES: Final = """
UNWIND $nodes AS node
MATCH (n) WHERE elementId(n) = node
SET n.lock = coalesce(n.lock, 0) + 1
RETURN count(n) AS row
"""

# --- the outbox -----------------------------------------------------------------------

# Written by the deal and introduction writes, in their transaction.
CREATE_OUTBOX_EVENTS: Final = """
UNWIND $events AS event
CREATE (e:OutboxEvent:Undispatched)
SET e = event
RETURN count(e) AS row
"""

# $after: [created_at, id] of the last event of the previous page, or null.
LIST_OUTBOX: Final = """
MATCH (e:OutboxEvent)
WHERE e.org_id = $org
  AND ($after_at IS NULL OR e.created_at > $after_at
       OR (e.created_at = $after_at AND e.id > $after_id))
RETURN e {.*} AS row
ORDER BY e.created_at, e.id
LIMIT $limit
"""

FAN_OUT_CANDIDATES: Final = """
MATCH (e:Undispatched)
RETURN elementId(e) AS row
ORDER BY e.created_at, e.id
LIMIT $limit
"""

# After LOCK_NODES on the candidates: the ones still undispatched are taken.
MARK_DISPATCHED: Final = """
UNWIND $nodes AS node
MATCH (e:Undispatched) WHERE elementId(e) = node
REMOVE e:Undispatched
SET e.dispatched_at = $now
RETURN e {.*} AS row
ORDER BY e.created_at, e.id
"""

SUBSCRIBED_ENDPOINTS: Final = """
MATCH (h:WebhookEndpoint)
WHERE h.org_id IN $orgs AND h.active
RETURN elementId(h) AS row
ORDER BY h.id
"""

# After LOCK_NODES on them: the endpoints as they are now.
ACTIVE_ENDPOINTS: Final = """
UNWIND $nodes AS node
MATCH (h:WebhookEndpoint) WHERE elementId(h) = node AND h.active
RETURN h {.id, .org_id, .event_types} AS row
"""

CREATE_DELIVERIES: Final = """
UNWIND $deliveries AS delivery
CREATE (d:WebhookDelivery)
SET d = delivery
RETURN count(d) AS row
"""

# --- endpoints ------------------------------------------------------------------------

CREATE_ENDPOINT: Final = """
CREATE (h:WebhookEndpoint)
SET h = $endpoint
RETURN h {.*} AS row
"""

GET_ENDPOINTS: Final = """
MATCH (h:WebhookEndpoint)
WHERE h.id IN $ids AND h.org_id = $org
RETURN h {.*} AS row
"""

LIST_ENDPOINTS: Final = """
MATCH (h:WebhookEndpoint)
WHERE h.org_id = $org AND h.id > $after AND h.active
RETURN h {.*} AS row
ORDER BY h.org_id, h.id
LIMIT $limit
"""

FIND_ENDPOINT: Final = """
MATCH (h:WebhookEndpoint {id: $id})
WHERE h.org_id = $org
RETURN elementId(h) AS row
"""

# After LOCK_NODES on the endpoint.
DEACTIVATE_ENDPOINT: Final = """
MATCH (h:WebhookEndpoint) WHERE elementId(h) = $node
SET h.active = false
WITH h
CALL (h) {
    MATCH (d:WebhookDelivery)
    WHERE d.endpoint_id = h.id AND d.status = 'PENDING'
    SET d.status = 'FAILED', d.next_attempt_at = null, d.lease_until = null,
        d.last_error = $reason
}
RETURN h {.*} AS row
"""

# --- deliveries -----------------------------------------------------------------------

DUE_CANDIDATES: Final = """
MATCH (d:WebhookDelivery)
WHERE d.status = 'PENDING' AND d.next_attempt_at <= $now
  AND (d.lease_until IS NULL OR d.lease_until <= $now)
MATCH (h:WebhookEndpoint {id: d.endpoint_id})
WHERE h.active
RETURN elementId(d) AS row
ORDER BY d.next_attempt_at, d.id
LIMIT $limit
"""

# After LOCK_NODES on the candidates: lease the ones still due and unleased. (An
# endpoint deactivated meanwhile has failed its PENDING deliveries under their locks.)
LEASE_DELIVERIES: Final = """
UNWIND $nodes AS node
MATCH (d:WebhookDelivery) WHERE elementId(d) = node
  AND d.status = 'PENDING' AND d.next_attempt_at <= $now
  AND (d.lease_until IS NULL OR d.lease_until <= $now)
SET d.lease_until = $lease_until
RETURN d {.*} AS row
ORDER BY d.next_attempt_at, d.id
"""

# Read-only, apart from the leasing statement: a seek on a unique property in a
# statement that writes takes index-entry locks (see intro_cypher.py).
ENDPOINT_TARGETS: Final = """
MATCH (h:WebhookEndpoint)
WHERE h.id IN $ids
RETURN h {.id, .url, .secret} AS row
"""

FIND_DELIVERY: Final = """
MATCH (d:WebhookDelivery {id: $id})
RETURN elementId(d) AS row
"""

# After LOCK_NODES on the delivery. $outcome: the properties to set.
RECORD_ATTEMPT: Final = """
MATCH (d:WebhookDelivery) WHERE elementId(d) = $node AND d.status = 'PENDING'
SET d += $outcome, d.attempts = d.attempts + 1, d.lease_until = null
RETURN d {.*} AS row
"""

GET_DELIVERIES: Final = """
MATCH (d:WebhookDelivery)
WHERE d.id IN $ids AND d.org_id = $org
RETURN d {.*} AS row
"""

LIST_DELIVERIES: Final = """
MATCH (d:WebhookDelivery)
WHERE d.org_id = $org
  AND ($endpoint IS NULL OR d.endpoint_id = $endpoint)
  AND ($status IS NULL OR d.status = $status)
  AND ($after_at IS NULL OR d.created_at < $after_at
       OR (d.created_at = $after_at AND d.id < $after_id))
RETURN d {.*} AS row
ORDER BY d.created_at DESC, d.id DESC
LIMIT $limit
"""

FIND_ORG_DELIVERY: Final = """
MATCH (d:WebhookDelivery {id: $id})
WHERE d.org_id = $org
RETURN elementId(d) AS row
"""

# After LOCK_NODES on the delivery: its state and its endpoint's.
DELIVERY_AND_ENDPOINT: Final = """
MATCH (d:WebhookDelivery) WHERE elementId(d) = $node
OPTIONAL MATCH (h:WebhookEndpoint {id: d.endpoint_id})
RETURN {delivery: d {.*}, active: coalesce(h.active, false)} AS row
"""

REDELIVER: Final = """
MATCH (d:WebhookDelivery) WHERE elementId(d) = $node AND d.status = $expected
SET d.status = 'PENDING', d.next_attempt_at = $now, d.lease_until = null
RETURN d {.*} AS row
"""
