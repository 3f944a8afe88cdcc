"""Publish a registration's change to the two orgs that may see it: vendor and partner."""

from __future__ import annotations

from datetime import datetime

from graph.deals import DealRegistration
from resolvers.events import DealRegistrationChanged, EventBroker


async def announce(
    events: EventBroker, registration: DealRegistration, *, action: str, now: datetime
) -> None:
    event = DealRegistrationChanged(
        registration_id=registration.id,
        status=registration.status.value,
        action=action,
        at=now,
    )
    for org_id in (registration.vendor_org, registration.partner_org):
        await events.publish(org_id, event)
