"""deals: opportunities, deal programs, direct-only accounts, deal registrations, history

Money is exact: NUMERIC on PostgreSQL, the decimal's text on SQLite (whose NUMERIC
affinity would go through a float); see graph.sql.coltypes.Money.

A live registration holds its claim key in `deal_registrations.claim` (NULL otherwise);
the unique constraint on it is what makes first-in claims race-free across processes.

Opportunities and registrations carry the vendor's account id without a foreign key:
they outlive the account. Direct-only marks go with their account (ON DELETE CASCADE).

Revision ID: 0006
Revises: 0005
Create Date: 2026-01-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def key() -> sa.types.TypeEngine[str]:
    """Ids and names compare by code point on every backend (see graph.sql.coltypes)."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def money() -> sa.types.TypeEngine[Any]:
    """Exact decimals: NUMERIC on PostgreSQL, text on SQLite (graph.sql.coltypes.Money)."""
    return sa.Text().with_variant(sa.Numeric(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "opportunities",
        sa.Column("id", key(), nullable=False),
        sa.Column("org_id", key(), nullable=False),
        sa.Column("crm_id", key(), nullable=False),
        sa.Column("account_id", key(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("amount", money(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("closed_at", timestamp(), nullable=True),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_opportunities_org_id_orgs")),
        sa.UniqueConstraint("org_id", "crm_id", name=op.f("uq_opportunities_org_id_crm_id")),
    )
    op.create_index("ix_opportunities_org_id_id", "opportunities", ["org_id", "id"])
    op.create_index(
        "ix_opportunities_org_id_account_id_status_created_at",
        "opportunities",
        ["org_id", "account_id", "status", "created_at"],
    )
    op.create_table(
        "deal_programs",
        sa.Column("vendor_org", key(), nullable=False),
        sa.Column("exclusive_roles", sa.JSON(), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("max_extensions", sa.Integer(), nullable=False),
        sa.Column("existing_pipeline_blocks", sa.Boolean(), nullable=False),
        sa.Column("auto_approve_roles", sa.JSON(), nullable=False),
        sa.Column("auto_approve_max_amount", money(), nullable=True),
        sa.Column("direct_only_populations", sa.JSON(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("vendor_org", name=op.f("pk_deal_programs")),
        sa.ForeignKeyConstraint(
            ["vendor_org"], ["orgs.id"], name=op.f("fk_deal_programs_vendor_org_orgs")
        ),
    )
    op.create_table(
        "direct_only_accounts",
        sa.Column("account_id", key(), nullable=False),
        sa.Column("org_id", key(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_direct_only_accounts")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_direct_only_accounts_account_id_accounts"),
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "deal_registrations",
        sa.Column("id", key(), nullable=False),
        sa.Column("vendor_org", key(), nullable=False),
        sa.Column("partner_org", key(), nullable=False),
        sa.Column("account_id", key(), nullable=False),
        sa.Column("opportunity_id", key(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("product_line", key(), nullable=False),
        sa.Column("amount", money(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("credit", sa.Text(), nullable=False),
        sa.Column("registered_by", key(), nullable=False),
        sa.Column("registered_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.Column("claim_key", key(), nullable=False),
        sa.Column("claim", key(), nullable=True),
        sa.Column("decided_at", timestamp(), nullable=True),
        sa.Column("decided_by", key(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("expires_at", timestamp(), nullable=True),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_registrations")),
        sa.ForeignKeyConstraint(
            ["vendor_org"], ["orgs.id"], name=op.f("fk_deal_registrations_vendor_org_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["partner_org"], ["orgs.id"], name=op.f("fk_deal_registrations_partner_org_orgs")
        ),
        sa.UniqueConstraint("claim", name=op.f("uq_deal_registrations_claim")),
    )
    op.create_index(
        "ix_deal_registrations_vendor_org_id", "deal_registrations", ["vendor_org", "id"]
    )
    op.create_index(
        "ix_deal_registrations_partner_org_id", "deal_registrations", ["partner_org", "id"]
    )
    op.create_index(
        "ix_deal_registrations_vendor_org_account_id",
        "deal_registrations",
        ["vendor_org", "account_id"],
    )
    op.create_index(
        "ix_deal_registrations_opportunity_id", "deal_registrations", ["opportunity_id"]
    )
    op.create_index(
        "ix_deal_registrations_status_expires_at", "deal_registrations", ["status", "expires_at"]
    )
    op.create_table(
        "deal_history",
        sa.Column(
            "seq",
            sa.Integer().with_variant(sa.BigInteger(), "postgresql"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("registration_id", key(), nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("actor_org", key(), nullable=True),
        sa.Column("actor_user", key(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_deal_history")),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["deal_registrations.id"],
            name=op.f("fk_deal_history_registration_id_deal_registrations"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_deal_history_registration_id_at_seq",
        "deal_history",
        ["registration_id", "at", "seq"],
    )


def downgrade() -> None:
    op.drop_table("deal_history")
    op.drop_table("deal_registrations")
    op.drop_table("direct_only_accounts")
    op.drop_table("deal_programs")
    op.drop_table("opportunities")
