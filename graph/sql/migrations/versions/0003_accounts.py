"""accounts: accounts, their populations and hashed keys; the key-version state

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def key() -> sa.types.TypeEngine[str]:
    """Ids, names and hashes compare by code point everywhere (see graph.sql.coltypes)."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", key(), nullable=False),
        sa.Column("org_id", key(), nullable=False),
        sa.Column("crm_id", key(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_accounts_org_id_orgs")),
        sa.UniqueConstraint("org_id", "crm_id", name=op.f("uq_accounts_org_id_crm_id")),
    )
    op.create_index("ix_accounts_org_id_id", "accounts", ["org_id", "id"])
    op.create_table(
        "account_populations",
        sa.Column("account_id", key(), nullable=False),
        sa.Column("population", key(), nullable=False),
        sa.Column("org_id", key(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "population", name=op.f("pk_account_populations")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_populations_account_id_accounts"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_account_populations_org_id_population_account_id",
        "account_populations",
        ["org_id", "population", "account_id"],
    )
    op.create_table(
        "account_keys",
        sa.Column("account_id", key(), nullable=False),
        sa.Column("h", key(), nullable=False),
        sa.Column("org_id", key(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("v", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "h", name=op.f("pk_account_keys")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_keys_account_id_accounts"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_account_keys_h", "account_keys", ["h"])
    op.create_index("ix_account_keys_org_id_h", "account_keys", ["org_id", "h"])
    key_state = op.create_table(
        "key_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=False),
        sa.Column("target_version", sa.Integer(), nullable=True),
        sa.Column("cursor", key(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_state")),
        sa.CheckConstraint("id = 1", name=op.f("ck_key_state_singleton")),
    )
    op.bulk_insert(
        key_state, [{"id": 1, "active_version": 1, "target_version": None, "cursor": None}]
    )


def downgrade() -> None:
    op.drop_table("key_state")
    op.drop_table("account_keys")
    op.drop_table("account_populations")
    op.drop_table("accounts")
