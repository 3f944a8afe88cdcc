"""Generate a partner ecosystem: vendors, partners of every type, partnerships.

Pure and deterministic: the same (scale, seed) always yields the same records, ids
included, so loading twice changes nothing. Later capabilities add accounts,
opportunities and touches to the same `Ecosystem`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from faker import Faker
from ulid import ULID

from graph.identity import Role
from graph.model import Org, OrgType, PartnershipStatus, SharingLevel, SharingRule

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
PARTNER_TYPES = (
    OrgType.RESELLER,
    OrgType.ISV,
    OrgType.SI,
    OrgType.MSP,
    OrgType.REFERRAL,
    OrgType.INFLUENCER,
)


@dataclass(frozen=True, slots=True)
class Scale:
    vendors: int
    partners: int
    partners_per_vendor: int  # mean; each vendor draws around it
    partner_links: int  # partner-to-partner partnerships (SI <-> ISV and the like)


SCALES: dict[str, Scale] = {
    "demo": Scale(vendors=3, partners=18, partners_per_vendor=8, partner_links=6),
    "small": Scale(vendors=10, partners=200, partners_per_vendor=40, partner_links=100),
    "large": Scale(vendors=50, partners=5_000, partners_per_vendor=400, partner_links=5_000),
}

# Most partnerships are live; some invitations are pending, a few ended or declined.
STATUS_WEIGHTS = {
    PartnershipStatus.ACTIVE: 0.8,
    PartnershipStatus.INVITED: 0.1,
    PartnershipStatus.ENDED: 0.06,
    PartnershipStatus.DECLINED: 0.04,
}


@dataclass(frozen=True, slots=True)
class SeedPartnership:
    id: str
    inviter_id: str
    invitee_id: str
    status: PartnershipStatus
    created_at: datetime
    changed_at: datetime


# Every seeded user has this password: the data is synthetic, and a demo must be
# explorable by anyone who runs it.
DEMO_PASSWORD = "tandem-demo-password"  # noqa: S105  (documented demo credential)


@dataclass(frozen=True, slots=True)
class SeedUser:
    id: str
    email: str
    display_name: str
    org_id: str
    role: Role


@dataclass(slots=True)
class Ecosystem:
    scale: str
    seed: int
    orgs: list[Org] = field(default_factory=list)
    partnerships: list[SeedPartnership] = field(default_factory=list)
    users: list[SeedUser] = field(default_factory=list)
    sharing: list[SharingRule] = field(default_factory=list)

    def demo_login_hint(self) -> str:
        vendor = next(u for u in self.users if u.role is Role.ADMIN)
        return f"{vendor.email} / {DEMO_PASSWORD} (every seeded user has this password)"


def generate(scale: str, seed: int) -> Ecosystem:
    spec = SCALES[scale]
    rng = random.Random(seed)
    fake = Faker()
    fake.seed_instance(seed)
    eco = Ecosystem(scale=scale, seed=seed)
    clock = _Clock(rng)

    vendors = [
        _org(fake, rng, clock, (OrgType.VENDOR,), discoverable=True) for _ in range(spec.vendors)
    ]
    partners = [
        _org(fake, rng, clock, _partner_types(rng), discoverable=rng.random() < 0.6)
        for _ in range(spec.partners)
    ]
    eco.orgs = vendors + partners
    eco.users = [user for org in eco.orgs for user in _users(fake, rng, org)]

    taken: set[frozenset[str]] = set()
    for vendor in vendors:
        count = min(
            len(partners),
            max(1, round(rng.gauss(spec.partners_per_vendor, spec.partners_per_vendor / 4))),
        )
        for partner in rng.sample(partners, count):
            _link(eco, rng, clock, taken, vendor, partner)
    for _ in range(spec.partner_links):
        a, b = rng.sample(partners, 2)
        _link(eco, rng, clock, taken, a, b)
    eco.sharing = _sharing(random.Random(f"{seed}/sharing"), eco.partnerships)
    return eco


SHARED_POPULATIONS = ("CUSTOMER", "OPEN_OPPORTUNITY", "PROSPECT")
LEVEL_WEIGHTS = {
    SharingLevel.HIDDEN: 0.2,
    SharingLevel.COUNTS: 0.3,
    SharingLevel.OVERLAPS: 0.3,
    SharingLevel.DETAILS: 0.2,
}


def _sharing(rng: random.Random, partnerships: list[SeedPartnership]) -> list[SharingRule]:
    """Sharing rules for every ACTIVE partnership, both directions, so the demo's account
    map shows every level: hidden cells, counts, overlap lists and details."""
    rules = []
    for p in partnerships:
        if p.status is not PartnershipStatus.ACTIVE:
            continue
        for owner, partner in ((p.inviter_id, p.invitee_id), (p.invitee_id, p.inviter_id)):
            for population in SHARED_POPULATIONS:
                level = rng.choices(list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values()))[0]
                fields = ("industry", "owner") if level is SharingLevel.DETAILS else ()
                rules.append(SharingRule(owner, partner, population, level, fields, p.changed_at))
    return rules


class _Clock:
    """Monotonic fake time, so ids (ULIDs) and timestamps sort together."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._now = EPOCH

    def tick(self) -> datetime:
        self._now += timedelta(minutes=self._rng.randint(1, 600))
        return self._now


def _ulid(rng: random.Random, when: datetime) -> str:
    millis = int(when.timestamp() * 1000)
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + rng.randbytes(10)))


def _org(
    fake: Faker,
    rng: random.Random,
    clock: _Clock,
    types: tuple[OrgType, ...],
    *,
    discoverable: bool,
) -> Org:
    created = clock.tick()
    return Org(
        id=_ulid(rng, created),
        name=fake.unique.company(),
        types=frozenset(types),
        region=rng.choice(REGIONS),
        discoverable=discoverable,
        created_at=created,
    )


def _users(fake: Faker, rng: random.Random, org: Org) -> list[SeedUser]:
    """An admin and a sales rep per org, with addresses derived from the org's name."""
    slug = re.sub(r"[^a-z0-9]+", "-", org.name.casefold()).strip("-") or "org"
    domain = f"{slug}-{org.id[-6:].lower()}.example.com"
    return [
        SeedUser(_ulid(rng, org.created_at), f"admin@{domain}", fake.name(), org.id, Role.ADMIN),
        SeedUser(
            _ulid(rng, org.created_at), f"sales@{domain}", fake.name(), org.id, Role.SALES_REP
        ),
    ]


def _partner_types(rng: random.Random) -> tuple[OrgType, ...]:
    first = rng.choice(PARTNER_TYPES)
    if rng.random() < 0.2:  # some partners play two roles, e.g. an SI that resells
        second = rng.choice(PARTNER_TYPES)
        return (first, second) if second != first else (first,)
    return (first,)


def _link(
    eco: Ecosystem,
    rng: random.Random,
    clock: _Clock,
    taken: set[frozenset[str]],
    inviter: Org,
    invitee: Org,
) -> None:
    pair = frozenset((inviter.id, invitee.id))
    if pair in taken:
        return
    taken.add(pair)
    created = clock.tick()
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    eco.partnerships.append(
        SeedPartnership(
            id=_ulid(rng, created),
            inviter_id=inviter.id,
            invitee_id=invitee.id,
            status=status,
            created_at=created,
            changed_at=created + timedelta(hours=rng.randint(1, 72)),
        )
    )
