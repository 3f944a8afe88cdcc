"""overlaps: a covering (org_id, h, kind, account_id) index on account_keys

The overlap queries join one org's key links to another's on `h`. With this index both
sides are read from the index alone, in `h` order (SQLite's nested loop then probes the
partner side in order, PostgreSQL can merge-join), and a probe for (org_id, h) finds the
kind and the account without visiting the table. It supersedes (org_id, h), its prefix.

Revision ID: 0004
Revises: 0003
Create Date: 2026-01-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_account_keys_org_id_h_kind_account_id",
        "account_keys",
        ["org_id", "h", "kind", "account_id"],
    )
    op.drop_index("ix_account_keys_org_id_h", table_name="account_keys")


def downgrade() -> None:
    op.create_index("ix_account_keys_org_id_h", "account_keys", ["org_id", "h"])
    op.drop_index("ix_account_keys_org_id_h_kind_account_id", table_name="account_keys")
