"""count_answers: when a viewer last got COUNTS-level numbers for a population

Probing resistance (docs/threat-model.md): a viewer population that changed since its
last COUNTS answer against the same partner, within a window, is refused.

Revision ID: 0005
Revises: 0004
Create Date: 2026-01-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def key() -> sa.types.TypeEngine[str]:
    """Ids and names compare by code point on every backend (see graph.sql.coltypes)."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "count_answers",
        sa.Column("viewer_org", key(), nullable=False),
        sa.Column("partner_org", key(), nullable=False),
        sa.Column("population", key(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "viewer_org", "partner_org", "population", name=op.f("pk_count_answers")
        ),
    )


def downgrade() -> None:
    op.drop_table("count_answers")
