"""webhooks: the transactional outbox, webhook endpoints and deliveries

Outbox events are inserted in the transaction of the deal registration or introduction
transition they announce. Fan-out marks them dispatched (`dispatched_at`); the partial
index keeps finding the undispatched ones cheap. A delivery is unique per (event,
endpoint), carries a copy of its event, and is claimed for an attempt by setting
`lease_until`; the partial index on PENDING ones serves the claim of due deliveries.

Self-contained (no helpers shared with other revisions), so renumbering it only means
changing `revision` and `down_revision` below.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def key() -> sa.types.TypeEngine[str]:
    """Ids and names compare by code point on every backend (see graph.sql.coltypes)."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f(f"fk_{table}_org_id_orgs"))


UNDISPATCHED = sa.text("dispatched_at IS NULL")
PENDING = sa.text("status = 'PENDING'")


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", key(), nullable=False),
        sa.Column("org_id", key(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("dispatched_at", timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        org_fk("outbox_events"),
    )
    op.create_index(
        "ix_outbox_events_org_id_created_at_id", "outbox_events", ["org_id", "created_at", "id"]
    )
    op.create_index(
        "ix_outbox_events_undispatched",
        "outbox_events",
        ["created_at", "id"],
        sqlite_where=UNDISPATCHED,
        postgresql_where=UNDISPATCHED,
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", key(), nullable=False),
        sa.Column("org_id", key(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_by", key(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        org_fk("webhook_endpoints"),
    )
    op.create_index("ix_webhook_endpoints_org_id_id", "webhook_endpoints", ["org_id", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", key(), nullable=False),
        sa.Column("org_id", key(), nullable=False),
        sa.Column("endpoint_id", key(), nullable=False),
        sa.Column("event_id", key(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("event_at", timestamp(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", timestamp(), nullable=True),
        sa.Column("lease_until", timestamp(), nullable=True),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("last_attempt_at", timestamp(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        org_fk("webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outbox_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_outbox_events"),
        ),
        sa.UniqueConstraint(
            "event_id", "endpoint_id", name=op.f("uq_webhook_deliveries_event_id_endpoint_id")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_org_id_created_at_id",
        "webhook_deliveries",
        ["org_id", "created_at", "id"],
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_id_status", "webhook_deliveries", ["endpoint_id", "status"]
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at", "id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("outbox_events")
