"""Load a generated ecosystem into any GraphStore, idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from graph.errors import Conflict
from graph.model import Partnership, PartnershipStatus
from graph.port import GraphStore
from seed.generator import Ecosystem, SeedPartnership

_BATCH = 500


@dataclass(frozen=True, slots=True)
class LoadSummary:
    orgs_created: int
    orgs_present: int
    partnerships_created: int
    partnerships_present: int

    def __str__(self) -> str:
        return (
            f"orgs: {self.orgs_created} created, {self.orgs_present} already present; "
            f"partnerships: {self.partnerships_created} created, "
            f"{self.partnerships_present} already present"
        )


async def load_into(store: GraphStore, eco: Ecosystem) -> LoadSummary:
    orgs_created = orgs_present = 0
    for start in range(0, len(eco.orgs), _BATCH):
        batch = eco.orgs[start : start + _BATCH]
        existing = await store.get_orgs([o.id for o in batch])
        for org in batch:
            if org.id in existing:
                orgs_present += 1
            else:
                await store.create_org(org)
                orgs_created += 1

    made = present = 0
    for seeded in eco.partnerships:
        if await store.get_partnerships(seeded.inviter_id, [seeded.id]):
            present += 1
            continue
        try:
            await store.insert_partnership(_invitation(seeded))
        except Conflict:
            present += 1  # a live partnership for the pair exists already
            continue
        await _advance(store, seeded)
        made += 1
    return LoadSummary(orgs_created, orgs_present, made, present)


def _invitation(seeded: SeedPartnership) -> Partnership:
    return Partnership(
        id=seeded.id,
        inviter_id=seeded.inviter_id,
        invitee_id=seeded.invitee_id,
        status=PartnershipStatus.INVITED,
        created_at=seeded.created_at,
        updated_at=seeded.created_at,
    )


async def _advance(store: GraphStore, seeded: SeedPartnership) -> None:
    """Replay the transitions that lead to the seeded status."""
    invited = [PartnershipStatus.INVITED]
    if seeded.status is PartnershipStatus.INVITED:
        return
    if seeded.status is PartnershipStatus.DECLINED:
        await store.transition_partnership(
            seeded.invitee_id, seeded.id, expected=invited,
            new_status=PartnershipStatus.DECLINED, at=seeded.changed_at,
        )
        return
    await store.transition_partnership(
        seeded.invitee_id, seeded.id, expected=invited,
        new_status=PartnershipStatus.ACTIVE, at=seeded.changed_at,
    )
    if seeded.status is PartnershipStatus.ENDED:
        await store.transition_partnership(
            seeded.inviter_id, seeded.id, expected=[PartnershipStatus.ACTIVE],
            new_status=PartnershipStatus.ENDED, at=seeded.changed_at,
        )
