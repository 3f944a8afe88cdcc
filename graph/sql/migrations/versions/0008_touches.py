"""touches: a partner's influence on a vendor's account or opportunity

Unique per (vendor_org, recorded_by, external_id): recording again replaces. Indexes
serve influence paths (by opportunity or account, then time) and the two list sides.
Self-contained (no helpers shared with other revisions), so renumbering it only means
changing `revision` and `down_revision` below.

Revision ID: 0008
Revises: 0007
Create Date: 2026-01-09
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def key() -> sa.types.TypeEngine[str]:
    """Ids and names compare by code point on every backend (see graph.sql.coltypes)."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def money() -> sa.types.TypeEngine[Any]:
    """graph.sql.coltypes.Money: NUMERIC on PostgreSQL, decimal text on SQLite."""
    return sa.Text().with_variant(sa.Numeric(), "postgresql")


def org_fk(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["orgs.id"], name=op.f(f"fk_touches_{column}_orgs"))


def upgrade() -> None:
    op.create_table(
        "touches",
        sa.Column("id", key(), nullable=False),
        sa.Column("vendor_org", key(), nullable=False),
        sa.Column("partner_org", key(), nullable=False),
        sa.Column("recorded_by", key(), nullable=False),
        sa.Column("external_id", key(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.Column("weight", money(), nullable=False),
        sa.Column("account_id", key(), nullable=False),
        sa.Column("opportunity_id", key(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touches")),
        org_fk("vendor_org"),
        org_fk("partner_org"),
        org_fk("recorded_by"),
        sa.UniqueConstraint(
            "vendor_org",
            "recorded_by",
            "external_id",
            name=op.f("uq_touches_vendor_org_recorded_by_external_id"),
        ),
    )
    for columns in (
        ["vendor_org", "opportunity_id", "at"],
        ["vendor_org", "account_id", "at"],
        ["vendor_org", "id"],
        ["partner_org", "id"],
    ):
        op.create_index(f"ix_touches_{'_'.join(columns)}", "touches", columns)


def downgrade() -> None:
    op.drop_table("touches")
