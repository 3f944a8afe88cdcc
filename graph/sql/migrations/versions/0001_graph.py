"""graph: orgs, partnerships, sharing rules

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status IN ('INVITED', 'ACTIVE')")


def key() -> sa.types.TypeEngine[str]:
    """Ids and names compare by code point on every backend (see graph.sql.coltypes)."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("id", key(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("discoverable", sa.Boolean(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orgs")),
    )
    op.create_table(
        "partnerships",
        sa.Column("id", key(), nullable=False),
        sa.Column("inviter_id", key(), nullable=False),
        sa.Column("invitee_id", key(), nullable=False),
        sa.Column("org_low", key(), nullable=False),
        sa.Column("org_high", key(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.Column("activated_at", timestamp(), nullable=True),
        sa.Column("ended_at", timestamp(), nullable=True),
        sa.Column("ended_by", key(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnerships")),
        sa.ForeignKeyConstraint(
            ["inviter_id"], ["orgs.id"], name=op.f("fk_partnerships_inviter_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["invitee_id"], ["orgs.id"], name=op.f("fk_partnerships_invitee_id_orgs")
        ),
    )
    op.create_index("ix_partnerships_inviter_id_id", "partnerships", ["inviter_id", "id"])
    op.create_index("ix_partnerships_invitee_id_id", "partnerships", ["invitee_id", "id"])
    op.create_index(
        "uq_partnerships_live_pair",
        "partnerships",
        ["org_low", "org_high"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_table(
        "sharing_rules",
        sa.Column("from_org", key(), nullable=False),
        sa.Column("to_org", key(), nullable=False),
        sa.Column("population", key(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("from_org", "to_org", "population", name=op.f("pk_sharing_rules")),
        sa.ForeignKeyConstraint(
            ["from_org"], ["orgs.id"], name=op.f("fk_sharing_rules_from_org_orgs")
        ),
        sa.ForeignKeyConstraint(["to_org"], ["orgs.id"], name=op.f("fk_sharing_rules_to_org_orgs")),
    )
    op.create_index("ix_sharing_rules_to_org", "sharing_rules", ["to_org"])


def downgrade() -> None:
    op.drop_table("sharing_rules")
    op.drop_table("partnerships")
    op.drop_table("orgs")
