"""Load a generated ecosystem into the stores, idempotently."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from graph.deals import DealStatus
from graph.errors import Conflict
from graph.identity import IdentityStore, Membership, User
from graph.intros import AskStatus, IntroStatus
from graph.model import OrgType, Partnership, PartnershipStatus
from graph.port import GraphStore
from graph.touches import TouchStatus
from privacy.keyring import Keyring
from resolvers.accounts import RowStatus, write_rows
from resolvers.auth.config import AuthConfig
from resolvers.auth.passwords import hash_password
from resolvers.clock import utcnow
from seed.accounts import accounts_for
from seed.generator import DEMO_PASSWORD, Ecosystem, SeedPartnership
from seed.intros import seed_intros
from seed.pipeline import load_opportunities, registration_counts, seed_registrations
from seed.touches import seed_touches

_BATCH = 500
_ACCOUNT_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class LoadSummary:
    orgs_created: int
    orgs_present: int
    partnerships_created: int
    partnerships_present: int
    users_created: int
    accounts_created: int
    accounts_updated: int
    opportunities_created: int = 0
    opportunities_updated: int = 0
    # Registrations this load made, by status as of the load (vendors that had
    # registrations already are skipped, so a reload makes none).
    registrations: dict[DealStatus, int] = field(default_factory=dict)
    registration_vendors_present: int = 0
    # Introductions, asks and blocks this load made, by status as of the load (vendors
    # whose ecosystem had them already are skipped, so a reload makes none).
    introductions: dict[IntroStatus, int] = field(default_factory=dict)
    asks: dict[AskStatus, int] = field(default_factory=dict)
    blocks: int = 0
    intro_vendors_present: int = 0
    # Touches this load made (a reload replaces each with itself, making none), and the
    # seeded touches by status as of the load.
    touches_created: int = 0
    touches: dict[TouchStatus, int] = field(default_factory=dict)

    def __str__(self) -> str:
        made = ", ".join(f"{n} {s.value}" for s, n in sorted(self.registrations.items()))
        intros = ", ".join(f"{n} {s.value}" for s, n in sorted(self.introductions.items()))
        asked = ", ".join(f"{n} {s.value}" for s, n in sorted(self.asks.items()))
        touched = ", ".join(f"{n} {s.value}" for s, n in sorted(self.touches.items()))
        return (
            f"orgs: {self.orgs_created} created, {self.orgs_present} already present; "
            f"partnerships: {self.partnerships_created} created, "
            f"{self.partnerships_present} already present; "
            f"users: {self.users_created} created; "
            f"accounts: {self.accounts_created} created, {self.accounts_updated} updated; "
            f"opportunities: {self.opportunities_created} created, "
            f"{self.opportunities_updated} updated; "
            f"deal registrations: {sum(self.registrations.values())} made"
            f"{f' ({made})' if made else ''}, "
            f"{self.registration_vendors_present} vendors had theirs already; "
            f"introductions: {sum(self.introductions.values())} made"
            f"{f' ({intros})' if intros else ''}, "
            f"asks: {sum(self.asks.values())} made{f' ({asked})' if asked else ''}, "
            f"blocks: {self.blocks} made, "
            f"{self.intro_vendors_present} vendors had theirs already; "
            f"touches: {self.touches_created} created"
            f"{f' ({touched})' if touched else ''}"
        )


async def load_into(
    graph: GraphStore,
    identity: IdentityStore,
    eco: Ecosystem,
    config: AuthConfig,
    keyring: Keyring,
    *,
    on_accounts: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> LoadSummary:
    """Load everything; registrations are replayed over the weeks before `now`."""
    now = now or utcnow()
    orgs_created, orgs_present = await _load_orgs(graph, eco)
    made, present = await _load_partnerships(graph, eco)
    for rule in eco.sharing:  # idempotent: a rule replaces its own earlier version
        await graph.put_sharing_rule(rule)
    users = await _load_users(identity, eco, config)
    created = updated = 0
    for org in eco.orgs:
        rows = accounts_for(eco.scale, eco.seed, org)
        while batch := list(itertools.islice(rows, _ACCOUNT_BATCH)):
            results = await write_rows(graph, org.id, keyring, batch, now=org.created_at)
            created += sum(r.status is RowStatus.CREATED for r in results)
            updated += sum(r.status is RowStatus.UPDATED for r in results)
            if on_accounts is not None:
                on_accounts(len(batch))
    opportunities = [0, 0]
    statuses: Counter[DealStatus] = Counter()
    vendors_present = 0
    vendors = [o for o in eco.orgs if OrgType.VENDOR in o.types]
    for vendor in vendors:
        made_opps, updated_opps = await load_opportunities(
            graph, eco.scale, eco.seed, vendor, batch_size=_ACCOUNT_BATCH
        )
        opportunities[0] += made_opps
        opportunities[1] += updated_opps
    for vendor in vendors:
        ids = await seed_registrations(graph, identity, keyring, eco, vendor, now=now)
        if ids is None:
            vendors_present += 1
        else:
            statuses.update(await registration_counts(graph, vendor.id, ids, now))
    intro_counts, intro_vendors_present = await seed_intros(graph, identity, eco, now=now)
    touch_counts = await seed_touches(graph, identity, eco, now=now)
    return LoadSummary(
        orgs_created,
        orgs_present,
        made,
        present,
        users,
        created,
        updated,
        opportunities_created=opportunities[0],
        opportunities_updated=opportunities[1],
        registrations=dict(statuses),
        registration_vendors_present=vendors_present,
        introductions=intro_counts.introductions,
        asks=intro_counts.asks,
        blocks=intro_counts.blocks,
        intro_vendors_present=intro_vendors_present,
        touches_created=touch_counts.created,
        touches=touch_counts.by_status,
    )


async def _load_orgs(graph: GraphStore, eco: Ecosystem) -> tuple[int, int]:
    created = present = 0
    for start in range(0, len(eco.orgs), _BATCH):
        batch = eco.orgs[start : start + _BATCH]
        existing = await graph.get_orgs([o.id for o in batch])
        for org in batch:
            if org.id in existing:
                present += 1
            else:
                await graph.create_org(org)
                created += 1
    return created, present


async def _load_partnerships(graph: GraphStore, eco: Ecosystem) -> tuple[int, int]:
    made = present = 0
    for seeded in eco.partnerships:
        if await graph.get_partnerships(seeded.inviter_id, [seeded.id]):
            present += 1
            continue
        try:
            await graph.insert_partnership(_invitation(seeded))
        except Conflict:
            present += 1  # a live partnership for the pair exists already
            continue
        await _advance(graph, seeded)
        made += 1
    return made, present


async def _load_users(identity: IdentityStore, eco: Ecosystem, config: AuthConfig) -> int:
    # One bcrypt hash serves every seeded user: they share the demo password, and
    # hashing thousands of them at cost 12 would take minutes.
    shared_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD, cost=config.bcrypt_cost)
    created = 0
    orgs = {o.id: o for o in eco.orgs}
    for seeded in eco.users:
        org = orgs[seeded.org_id]
        user = await identity.user_by_email(seeded.email)
        if user is None:
            user = await identity.create_user(
                User(
                    id=seeded.id,
                    email=seeded.email,
                    display_name=seeded.display_name,
                    password_hash=shared_hash,
                    created_at=org.created_at,
                )
            )
            created += 1
        await identity.put_membership(
            Membership(user.id, seeded.org_id, seeded.role, org.created_at)
        )
    return created


def _invitation(seeded: SeedPartnership) -> Partnership:
    return Partnership(
        id=seeded.id,
        inviter_id=seeded.inviter_id,
        invitee_id=seeded.invitee_id,
        status=PartnershipStatus.INVITED,
        created_at=seeded.created_at,
        updated_at=seeded.created_at,
    )


async def _advance(graph: GraphStore, seeded: SeedPartnership) -> None:
    """Replay the transitions that lead to the seeded status."""
    invited = [PartnershipStatus.INVITED]
    if seeded.status is PartnershipStatus.INVITED:
        return
    if seeded.status is PartnershipStatus.DECLINED:
        await graph.transition_partnership(
            seeded.invitee_id,
            seeded.id,
            expected=invited,
            new_status=PartnershipStatus.DECLINED,
            at=seeded.changed_at,
        )
        return
    await graph.transition_partnership(
        seeded.invitee_id,
        seeded.id,
        expected=invited,
        new_status=PartnershipStatus.ACTIVE,
        at=seeded.changed_at,
    )
    if seeded.status is PartnershipStatus.ENDED:
        await graph.transition_partnership(
            seeded.inviter_id,
            seeded.id,
            expected=[PartnershipStatus.ACTIVE],
            new_status=PartnershipStatus.ENDED,
            at=seeded.changed_at,
        )
