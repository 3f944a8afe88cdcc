"""The tables. Schema changes go through a migration in migrations/versions.

One metadata and one migration history for both stores: the graph tables (SqlStore) and
the identity tables (SqlIdentityStore) may live in the same database. Each store's reset()
empties only its own tables (GRAPH_TABLES, IDENTITY_TABLES).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from graph.sql.coltypes import Money, UTCDateTime, key_type

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LIVE_STATUSES = ("INVITED", "ACTIVE")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), str: Text()}


class OrgRow(Base):
    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    name: Mapped[str]
    types: Mapped[list[str]] = mapped_column(JSON)
    region: Mapped[str]
    discoverable: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    # Bumped by every account write of the org (graph/matrix_cache.py).
    accounts_version: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)


class PartnershipRow(Base):
    """`org_low`/`org_high` are the pair in sorted order, so that a partial unique index
    allows one live (INVITED or ACTIVE) partnership per unordered pair."""

    __tablename__ = "partnerships"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    inviter_id: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    invitee_id: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    org_low: Mapped[str] = mapped_column(key_type())
    org_high: Mapped[str] = mapped_column(key_type())
    status: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(key_type())

    __table_args__ = (
        Index("ix_partnerships_inviter_id_id", "inviter_id", "id"),
        Index("ix_partnerships_invitee_id_id", "invitee_id", "id"),
        Index(
            "uq_partnerships_live_pair",
            "org_low",
            "org_high",
            unique=True,
            sqlite_where=text("status IN ('INVITED', 'ACTIVE')"),
            postgresql_where=text("status IN ('INVITED', 'ACTIVE')"),
        ),
    )


class SharingRuleRow(Base):
    __tablename__ = "sharing_rules"

    from_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"), primary_key=True)
    to_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"), primary_key=True)
    population: Mapped[str] = mapped_column(key_type(), primary_key=True)
    level: Mapped[str]
    fields: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_sharing_rules_to_org", "to_org"),)


class AccountRow(Base):
    """An org's own account. `fields` is a JSON object (name -> value)."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    crm_id: Mapped[str] = mapped_column(key_type())
    name: Mapped[str]
    owner: Mapped[str | None]
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("org_id", "crm_id"),
        Index("ix_accounts_org_id_id", "org_id", "id"),
    )


class AccountPopulationRow(Base):
    """An account's membership of a population; `org_id` is the account's, copied so
    that per-org population queries (counts, overlaps) run off one index."""

    __tablename__ = "account_populations"

    account_id: Mapped[str] = mapped_column(
        key_type(), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    population: Mapped[str] = mapped_column(key_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(key_type())

    __table_args__ = (
        Index(
            "ix_account_populations_org_id_population_account_id",
            "org_id",
            "population",
            "account_id",
        ),
    )


class AccountKeyRow(Base):
    """An account's link to a hashed key `h` (hex) stored at key version `v`. The
    AccountKey of the domain model is the set of distinct `h`: a key no account links
    to any more is gone with its last link."""

    __tablename__ = "account_keys"

    account_id: Mapped[str] = mapped_column(
        key_type(), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    h: Mapped[str] = mapped_column(key_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(key_type())
    kind: Mapped[str]
    v: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_account_keys_h", "h"),
        # Overlaps: joins one org's links to another's on h, from the index alone.
        Index("ix_account_keys_org_id_h_kind_account_id", "org_id", "h", "kind", "account_id"),
    )


class KeyStateRow(Base):
    """The key-version state: one row (id 1), created by the migration. Writers that
    depend on it lock this row first."""

    __tablename__ = "key_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    active_version: Mapped[int] = mapped_column(Integer)
    target_version: Mapped[int | None] = mapped_column(Integer)
    cursor: Mapped[str | None] = mapped_column(key_type())

    __table_args__ = (CheckConstraint("id = 1", name="singleton"),)


# identity: users, memberships, credentials, login throttling, the audit log


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    email: Mapped[str] = mapped_column(key_type(), unique=True)  # casefolded by the caller
    display_name: Mapped[str]
    password_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class MembershipRow(Base):
    """`org_id` is no foreign key: the orgs may live in another store (Neo4j)."""

    __tablename__ = "memberships"

    user_id: Mapped[str] = mapped_column(key_type(), ForeignKey("users.id"), primary_key=True)
    org_id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    role: Mapped[str]
    created_at: Mapped[datetime]


class TokenRow(Base):
    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    kind: Mapped[str]
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    user_id: Mapped[str] = mapped_column(key_type(), ForeignKey("users.id"))
    org_id: Mapped[str] = mapped_column(key_type())
    scope: Mapped[str]
    name: Mapped[str]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_tokens_org_id_user_id_kind_id", "org_id", "user_id", "kind", "id"),)


class ThrottleRow(Base):
    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(key_type(), primary_key=True)
    failures: Mapped[int]
    window_start: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class AuditRow(Base):
    """Append-only: no code updates or deletes rows (on PostgreSQL a trigger refuses)."""

    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)  # a ULID: sorts by time
    at: Mapped[datetime]
    org_id: Mapped[str] = mapped_column(key_type())
    action: Mapped[str]
    actor_user_id: Mapped[str | None] = mapped_column(key_type())
    actor_token_id: Mapped[str | None] = mapped_column(key_type())
    target_type: Mapped[str | None]
    target_id: Mapped[str | None] = mapped_column(key_type())
    client_address: Mapped[str | None]
    details: Mapped[dict[str, str]] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_log_org_id_id", "org_id", "id"),)


class CountAnswerRow(Base):
    __tablename__ = "count_answers"

    viewer_org: Mapped[str] = mapped_column(key_type(), primary_key=True)
    partner_org: Mapped[str] = mapped_column(key_type(), primary_key=True)
    population: Mapped[str] = mapped_column(key_type(), primary_key=True)
    fingerprint: Mapped[str]
    answered_at: Mapped[datetime]


# pipeline: opportunities, deal programs, direct-only accounts, deal registrations


class OpportunityRow(Base):
    """A vendor's opportunity. `account_id` is deliberately no foreign key: the pipeline
    outlives a deleted account (the opportunity keeps the id it was on)."""

    __tablename__ = "opportunities"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    crm_id: Mapped[str] = mapped_column(key_type())
    account_id: Mapped[str] = mapped_column(key_type())
    name: Mapped[str]
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str]
    stage: Mapped[str]
    status: Mapped[str]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("org_id", "crm_id"),
        Index("ix_opportunities_org_id_id", "org_id", "id"),
        Index(
            "ix_opportunities_org_id_account_id_status_created_at",
            "org_id",
            "account_id",
            "status",
            "created_at",
        ),
    )


class DealProgramRow(Base):
    """A vendor's rules of engagement; role and population sets are sorted JSON lists."""

    __tablename__ = "deal_programs"

    vendor_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"), primary_key=True)
    exclusive_roles: Mapped[list[str]] = mapped_column(JSON)
    expiry_days: Mapped[int] = mapped_column(Integer)
    extension_days: Mapped[int] = mapped_column(Integer)
    max_extensions: Mapped[int] = mapped_column(Integer)
    existing_pipeline_blocks: Mapped[bool] = mapped_column(Boolean)
    auto_approve_roles: Mapped[list[str]] = mapped_column(JSON)
    auto_approve_max_amount: Mapped[Decimal | None] = mapped_column(Money())
    direct_only_populations: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime | None]


class DirectOnlyAccountRow(Base):
    """An account its org sells direct only; goes with the account."""

    __tablename__ = "direct_only_accounts"

    account_id: Mapped[str] = mapped_column(
        key_type(), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(key_type())


class DealRegistrationRow(Base):
    """A partner's registration with a vendor. `claim` is `claim_key` while the
    registration is live and NULL otherwise: its unique index lets at most one live
    registration hold a claim key, whatever the number of concurrent writers (NULLs are
    distinct on both dialects). `account_id` and `opportunity_id` are no foreign keys:
    registrations are an audit trail and outlive the vendor's account."""

    __tablename__ = "deal_registrations"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    vendor_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    partner_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    account_id: Mapped[str] = mapped_column(key_type())
    opportunity_id: Mapped[str | None] = mapped_column(key_type())
    role: Mapped[str]
    product_line: Mapped[str] = mapped_column(key_type())
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str]
    expected_close: Mapped[date] = mapped_column(Date)
    status: Mapped[str]
    reasons: Mapped[list[str]] = mapped_column(JSON)
    credit: Mapped[str]
    registered_by: Mapped[str] = mapped_column(key_type())
    registered_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    claim_key: Mapped[str] = mapped_column(key_type())
    claim: Mapped[str | None] = mapped_column(key_type(), unique=True)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(key_type())
    decision_note: Mapped[str | None]
    expires_at: Mapped[datetime | None]
    extensions: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_deal_registrations_vendor_org_id", "vendor_org", "id"),
        Index("ix_deal_registrations_partner_org_id", "partner_org", "id"),
        Index("ix_deal_registrations_vendor_org_account_id", "vendor_org", "account_id"),
        Index("ix_deal_registrations_opportunity_id", "opportunity_id"),
        Index("ix_deal_registrations_status_expires_at", "status", "expires_at"),
    )


class DealHistoryRow(Base):
    """One transition of a registration; `seq` orders entries written at the same time."""

    __tablename__ = "deal_history"

    seq: Mapped[int] = mapped_column(
        Integer().with_variant(BigInteger(), "postgresql"), primary_key=True, autoincrement=True
    )
    registration_id: Mapped[str] = mapped_column(
        key_type(), ForeignKey("deal_registrations.id", ondelete="CASCADE")
    )
    at: Mapped[datetime]
    from_status: Mapped[str | None]
    to_status: Mapped[str]
    actor_org: Mapped[str | None] = mapped_column(key_type())
    actor_user: Mapped[str | None] = mapped_column(key_type())
    note: Mapped[str | None]

    __table_args__ = (
        Index("ix_deal_history_registration_id_at_seq", "registration_id", "at", "seq"),
    )


# discovery and introductions: blocks, introductions, INTRODUCED edges, account asks


class OrgBlockRow(Base):
    """`blocker_org` blocks `blocked_org` from its discovery and requests."""

    __tablename__ = "org_blocks"

    blocker_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"), primary_key=True)
    blocked_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"), primary_key=True)
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_org_blocks_blocked_org", "blocked_org"),)


class IntroductionRow(Base):
    """An org-level introduction. `open_pair` is `pair_key` while the introduction is
    open (REQUESTED or FORWARDED) and NULL otherwise: its unique constraint allows one
    open introduction per pair, whatever the number of concurrent writers."""

    __tablename__ = "introductions"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    requester_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    target_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    broker_org: Mapped[str | None] = mapped_column(key_type(), ForeignKey("orgs.id"))
    message: Mapped[str]
    status: Mapped[str]
    requested_by: Mapped[str] = mapped_column(key_type())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    pair_key: Mapped[str] = mapped_column(key_type())
    open_pair: Mapped[str | None] = mapped_column(key_type(), unique=True)
    forwarded_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_org: Mapped[str | None] = mapped_column(key_type())
    note: Mapped[str | None]
    partnership_id: Mapped[str | None] = mapped_column(key_type())

    __table_args__ = (
        Index("ix_introductions_requester_org_id", "requester_org", "id"),
        Index("ix_introductions_target_org_id", "target_org", "id"),
        Index("ix_introductions_broker_org_id", "broker_org", "id"),
        Index("ix_introductions_requester_org_created_at", "requester_org", "created_at"),
        Index("ix_introductions_requester_org_target_org", "requester_org", "target_org"),
        Index("ix_introductions_status_expires_at", "status", "expires_at"),
    )


class IntroducedEdgeRow(Base):
    """(credited_org)-[:INTRODUCED]->: `from_org` and `to_org` met through an accepted
    introduction."""

    __tablename__ = "introduced_edges"

    introduction_id: Mapped[str] = mapped_column(
        key_type(), ForeignKey("introductions.id"), primary_key=True
    )
    credited_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    from_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    to_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_introduced_edges_credited_org", "credited_org"),
        Index("ix_introduced_edges_from_org", "from_org"),
        Index("ix_introduced_edges_to_org", "to_org"),
    )


class AccountAskRow(Base):
    """A sales rep's ask to a partner about one of the rep's accounts. `account_id` and
    the partner's account ids (a sorted JSON list) are no foreign keys: an ask is a
    record of what was asked and outlives the accounts."""

    __tablename__ = "account_asks"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    requester_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    requester_user: Mapped[str] = mapped_column(key_type())
    partner_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    account_id: Mapped[str] = mapped_column(key_type())
    partner_account_ids: Mapped[list[str]] = mapped_column(JSON)
    kind: Mapped[str]
    message: Mapped[str]
    status: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(key_type())
    note: Mapped[str | None]

    __table_args__ = (
        Index("ix_account_asks_requester_org_id", "requester_org", "id"),
        Index("ix_account_asks_partner_org_id", "partner_org", "id"),
        Index("ix_account_asks_requester_org_created_at", "requester_org", "created_at"),
        Index("ix_account_asks_status_expires_at", "status", "expires_at"),
    )


# influence: touches


class TouchRow(Base):
    """A partner's influence on one of the vendor's accounts or opportunities. Unique per
    (vendor, recording org, external id): recording again replaces. `account_id` and
    `opportunity_id` are no foreign keys, like the pipeline's."""

    __tablename__ = "touches"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    vendor_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    partner_org: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    recorded_by: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    external_id: Mapped[str] = mapped_column(key_type())
    kind: Mapped[str]
    at: Mapped[datetime]
    weight: Mapped[Decimal] = mapped_column(Money())
    account_id: Mapped[str] = mapped_column(key_type())
    opportunity_id: Mapped[str | None] = mapped_column(key_type())
    status: Mapped[str]
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("vendor_org", "recorded_by", "external_id"),
        Index("ix_touches_vendor_org_opportunity_id_at", "vendor_org", "opportunity_id", "at"),
        Index("ix_touches_vendor_org_account_id_at", "vendor_org", "account_id", "at"),
        Index("ix_touches_vendor_org_id", "vendor_org", "id"),
        Index("ix_touches_partner_org_id", "partner_org", "id"),
    )


# webhooks: the transactional outbox, endpoints and deliveries


class OutboxEventRow(Base):
    """One event for one org, inserted in the transaction of the change it announces.
    `payload` is the JSON text (graph.outbox), so it round-trips exactly on every
    backend. `dispatched_at` is set once fan-out made its deliveries; the partial index
    keeps the undispatched ones, oldest first, cheap to find however long the tail."""

    __tablename__ = "outbox_events"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    event_type: Mapped[str]
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_events_org_id_created_at_id", "org_id", "created_at", "id"),
        Index(
            "ix_outbox_events_undispatched",
            "created_at",
            "id",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )


class WebhookEndpointRow(Base):
    """An org's receiver. Never deleted (its deliveries stay on record): `active` false."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    url: Mapped[str]
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str]
    created_by: Mapped[str] = mapped_column(key_type())
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_webhook_endpoints_org_id_id", "org_id", "id"),)


class WebhookDeliveryRow(Base):
    """One outbox event to one endpoint (unique: fan-out never doubles one), carrying a
    copy of the event so the outbox can be pruned. `lease_until` is set by a claim and
    cleared by the attempt's outcome; the partial index serves the claim of due ones."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(key_type(), ForeignKey("orgs.id"))
    endpoint_id: Mapped[str] = mapped_column(key_type(), ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[str] = mapped_column(key_type(), ForeignKey("outbox_events.id"))
    event_type: Mapped[str]
    payload: Mapped[str] = mapped_column(Text)
    event_at: Mapped[datetime]
    status: Mapped[str]
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_org_id_created_at_id", "org_id", "created_at", "id"),
        Index("ix_webhook_deliveries_endpoint_id_status", "endpoint_id", "status"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
    )


metadata = Base.metadata

GRAPH_TABLES = frozenset(
    {
        "orgs",
        "partnerships",
        "sharing_rules",
        "accounts",
        "account_populations",
        "account_keys",
        "key_state",
        "opportunities",
        "deal_programs",
        "direct_only_accounts",
        "deal_registrations",
        "deal_history",
        "org_blocks",
        "introductions",
        "introduced_edges",
        "account_asks",
        "touches",
        "outbox_events",
        "webhook_endpoints",
        "webhook_deliveries",
    }
)
IDENTITY_TABLES = frozenset(
    {"users", "memberships", "tokens", "throttle", "audit_log", "count_answers"}
)
