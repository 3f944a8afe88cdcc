"""Writing outbox events inside a store's write unit (graph/outbox.py builds them).

Apart from graph/sql/webhooks.py, so that the deal and introduction mixins, which
SqlWebhooks builds on, can write events without importing it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from graph.outbox import dump_payload
from graph.sql.tables import metadata
from graph.webhooks import OutboxEvent

OUTBOX: Table = metadata.tables["outbox_events"]


async def add_outbox(session: AsyncSession, events: Sequence[OutboxEvent]) -> None:
    if not events:
        return
    await session.execute(
        insert(OUTBOX),
        [
            {
                "id": e.id,
                "org_id": e.org_id,
                "event_type": e.event_type.value,
                "payload": dump_payload(e.payload),
                "created_at": e.created_at,
                "dispatched_at": None,
            }
            for e in events
        ],
    )
