"""intros: org blocks, introductions, INTRODUCED edges, account asks

An open introduction (REQUESTED or FORWARDED) holds its pair key in
`introductions.open_pair` (NULL otherwise): the unique constraint on it allows one open
introduction per unordered pair of orgs, race-free across processes.

Asks keep the partner's matching account ids as a sorted JSON list, without foreign keys:
an ask records what was asked and outlives the accounts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-01-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def key() -> sa.types.TypeEngine[str]:
    """Ids and names compare by code point on every backend (see graph.sql.coltypes)."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def org_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["orgs.id"], name=op.f(f"fk_{table}_{column}_orgs"))


def upgrade() -> None:
    op.create_table(
        "org_blocks",
        sa.Column("blocker_org", key(), nullable=False),
        sa.Column("blocked_org", key(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("blocker_org", "blocked_org", name=op.f("pk_org_blocks")),
        org_fk("org_blocks", "blocker_org"),
        org_fk("org_blocks", "blocked_org"),
    )
    op.create_index("ix_org_blocks_blocked_org", "org_blocks", ["blocked_org"])
    op.create_table(
        "introductions",
        sa.Column("id", key(), nullable=False),
        sa.Column("requester_org", key(), nullable=False),
        sa.Column("target_org", key(), nullable=False),
        sa.Column("broker_org", key(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("requested_by", key(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.Column("expires_at", timestamp(), nullable=False),
        sa.Column("pair_key", key(), nullable=False),
        sa.Column("open_pair", key(), nullable=True),
        sa.Column("forwarded_at", timestamp(), nullable=True),
        sa.Column("decided_at", timestamp(), nullable=True),
        sa.Column("decided_by_org", key(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("partnership_id", key(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_introductions")),
        org_fk("introductions", "requester_org"),
        org_fk("introductions", "target_org"),
        org_fk("introductions", "broker_org"),
        sa.UniqueConstraint("open_pair", name=op.f("uq_introductions_open_pair")),
    )
    for columns in (
        ["requester_org", "id"],
        ["target_org", "id"],
        ["broker_org", "id"],
        ["requester_org", "created_at"],
        ["requester_org", "target_org"],
        ["status", "expires_at"],
    ):
        op.create_index(f"ix_introductions_{'_'.join(columns)}", "introductions", columns)
    op.create_table(
        "introduced_edges",
        sa.Column("introduction_id", key(), nullable=False),
        sa.Column("credited_org", key(), nullable=False),
        sa.Column("from_org", key(), nullable=False),
        sa.Column("to_org", key(), nullable=False),
        sa.Column("at", timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("introduction_id", name=op.f("pk_introduced_edges")),
        sa.ForeignKeyConstraint(
            ["introduction_id"],
            ["introductions.id"],
            name=op.f("fk_introduced_edges_introduction_id_introductions"),
        ),
        org_fk("introduced_edges", "credited_org"),
        org_fk("introduced_edges", "from_org"),
        org_fk("introduced_edges", "to_org"),
    )
    for column in ("credited_org", "from_org", "to_org"):
        op.create_index(f"ix_introduced_edges_{column}", "introduced_edges", [column])
    op.create_table(
        "account_asks",
        sa.Column("id", key(), nullable=False),
        sa.Column("requester_org", key(), nullable=False),
        sa.Column("requester_user", key(), nullable=False),
        sa.Column("partner_org", key(), nullable=False),
        sa.Column("account_id", key(), nullable=False),
        sa.Column("partner_account_ids", sa.JSON(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", timestamp(), nullable=False),
        sa.Column("updated_at", timestamp(), nullable=False),
        sa.Column("expires_at", timestamp(), nullable=False),
        sa.Column("answered_at", timestamp(), nullable=True),
        sa.Column("answered_by", key(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_asks")),
        org_fk("account_asks", "requester_org"),
        org_fk("account_asks", "partner_org"),
    )
    for columns in (
        ["requester_org", "id"],
        ["partner_org", "id"],
        ["requester_org", "created_at"],
        ["status", "expires_at"],
    ):
        op.create_index(f"ix_account_asks_{'_'.join(columns)}", "account_asks", columns)


def downgrade() -> None:
    op.drop_table("account_asks")
    op.drop_table("introduced_edges")
    op.drop_table("introductions")
    op.drop_table("org_blocks")
