"""Every seeded vendor's ecosystem: introductions between its partners, account-level
asks across its partnerships, and a block or two.

Replayed through the real services (`introductions.request` / `respond`, `asks.ask` /
`move`, `introductions.set_block`) with the seeded users as actors (admins for
introductions and blocks, sales reps for asks), in time order over the weeks (for
accepted introductions, months) before the load, so the checks (reachability, shared
broker, cooling-off, overlap sharing) are the ones the API runs. The plan is drawn from
(seed, vendor); the ids the services make are not, so a vendor whose planned requesters
already have introductions or asks is skipped on reload.

The mix, over the whole seed (outcomes are dealt in a fixed rotation, so even the demo
has each status): partners of one vendor who are not partners yet ask to be introduced,
directly or brokered by the vendor; brokered requests are forwarded (then accepted,
which creates the partnership, or declined) or declined by the broker; some are
withdrawn, some left open, one per vendor rotation is old enough to read EXPIRED. Sales
reps ask an ACTIVE partner for help on accounts the partner shares at OVERLAPS or
DETAILS level; most are accepted (a Touch for attribution), some declined, withdrawn or
left open. The first partners of some vendors block another partner.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from graph.identity import IdentityStore, Role
from graph.intro_port import AskSide
from graph.intros import AskKind, AskStatus, IntroStatus
from graph.model import KeyKind, Org, OrgType, PartnershipStatus
from graph.port import GraphStore
from resolvers.actor import Actor
from resolvers.cosell import listable_populations
from resolvers.intros import asks, introductions
from resolvers.intros.rules import AskAction, IntroAction, SafetyPolicy, effective_ask
from resolvers.intros.rules import effective_intro as effective
from seed.generator import Ecosystem, SeedUser
from seed.pipeline import actor_for

# The seed makes more requests per org and day than the API allows; its own budget.
SEED_POLICY = SafetyPolicy(daily_requests=1_000_000)
MAX_INTROS_PER_VENDOR = {"demo": 6, "small": 12, "large": 20}
MAX_ASKS_PER_VENDOR = {"demo": 4, "small": 8, "large": 12}
MAX_BLOCKS = 2
# (brokered, outcome), dealt in turn across all vendors.
INTRO_OUTCOMES = (
    (True, "accept"),
    (False, "decline"),
    (True, "forward"),
    (False, "open"),
    (False, "expire"),
    (True, "withdraw"),
    (False, "accept"),
    (True, "broker_decline"),
    (True, "decline"),
    (False, "withdraw"),
    (True, "open"),
)
ASK_OUTCOMES = ("accept", "accept", "decline", "accept", "withdraw", "open")
INTRO_MESSAGES = (
    "We keep meeting the same customers; could we compare notes?",
    "Our services team delivers on your platform in three regions.",
    "Would you introduce us? We serve many of the same accounts.",
)
ASK_MESSAGES = {
    AskKind.INTRO_TO_CONTACT: "Could you introduce us to the IT director?",
    AskKind.CO_SELL_CALL: "Would you join a co-sell call next week?",
    AskKind.REFERENCE: "Could you give us a reference for this account?",
}
NOTES = {
    "accept": "Happy to help",
    "decline": "Not a fit for us right now",
    "broker_decline": "I'd rather not introduce you two at the moment",
    "forward": "Passing this on: worth a conversation",
}


@dataclass(frozen=True, slots=True)
class IntroPlan:
    requester: Org
    target: Org
    broker: Org | None
    outcome: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Counts:
    introductions: dict[IntroStatus, int] = field(default_factory=dict)
    asks: dict[AskStatus, int] = field(default_factory=dict)
    blocks: int = 0


def _ecosystem(eco: Ecosystem, vendor: Org) -> list[Org]:
    """The vendor's ACTIVE non-vendor partners, by id."""
    orgs = {o.id: o for o in eco.orgs}
    found = []
    for p in eco.partnerships:
        if p.status is PartnershipStatus.ACTIVE and vendor.id in (p.inviter_id, p.invitee_id):
            other = orgs[p.invitee_id if p.inviter_id == vendor.id else p.inviter_id]
            if OrgType.VENDOR not in other.types:
                found.append(other)
    return sorted(found, key=lambda o: o.id)


def plan_introductions(eco: Ecosystem, now: datetime) -> dict[str, list[IntroPlan]]:
    """Per vendor, the introductions between its partners; pairs with any seeded
    partnership, and pairs planned for an earlier vendor, are left alone."""
    linked = {frozenset((p.inviter_id, p.invitee_id)) for p in eco.partnerships}
    taken: set[frozenset[str]] = set()
    deal = itertools.cycle(INTRO_OUTCOMES)
    plans: dict[str, list[IntroPlan]] = {}
    for vendor in [o for o in eco.orgs if OrgType.VENDOR in o.types]:
        rng = random.Random(f"{eco.seed}/{vendor.id}/introductions")
        members = _ecosystem(eco, vendor)
        pairs = [
            (a, b)
            for a, b in itertools.combinations(members, 2)
            if frozenset((a.id, b.id)) not in linked | taken
        ]
        rng.shuffle(pairs)
        plan = []
        for a, b in pairs[: MAX_INTROS_PER_VENDOR[eco.scale]]:
            taken.add(frozenset((a.id, b.id)))
            requester, target = (a, b) if rng.random() < 0.5 else (b, a)
            brokered, outcome = next(deal)
            # Accepted introductions go back months, so the deals the introduced partners
            # then helped close have multi-hop influence paths (seed.touches).
            low, high = {"expire": (40, 60), "accept": (60, 200)}.get(outcome, (3, 25))
            days = rng.uniform(low, high)
            at = now - timedelta(days=days, seconds=rng.randrange(86_400))
            plan.append(IntroPlan(requester, target, vendor if brokered else None, outcome, at))
        plans[vendor.id] = plan
    return plans


@dataclass(order=True, frozen=True, slots=True)
class _Step:
    at: datetime
    seq: int
    number: int = field(compare=False)  # the introduction's place in the plan
    action: IntroAction | None = field(compare=False, default=None)  # None: the request


def _steps(rng: random.Random, plan: list[IntroPlan], now: datetime) -> list[_Step]:
    seq = itertools.count()
    steps = []
    for number, item in enumerate(plan):
        steps.append(_Step(item.at, next(seq), number))
        at = item.at
        actions: list[IntroAction] = []
        if item.outcome == "withdraw":
            actions = [IntroAction.WITHDRAW]
        elif item.outcome == "broker_decline":
            actions = [IntroAction.BROKER_DECLINE]
        elif item.outcome in ("accept", "decline", "forward"):
            if item.broker is not None:
                actions.append(IntroAction.FORWARD)
            if item.outcome == "accept":
                actions.append(IntroAction.ACCEPT)
            elif item.outcome == "decline":
                actions.append(IntroAction.DECLINE)
        for action in actions:
            at = min(at + timedelta(days=rng.uniform(0.5, 3)), now - timedelta(minutes=1))
            steps.append(_Step(at, next(seq), number, action))
    heapq.heapify(steps)
    return [heapq.heappop(steps) for _ in range(len(steps))]


async def _seeded_already(graph: GraphStore, vendor: Org, plan: list[IntroPlan]) -> bool:
    """The vendor brokered or is party to an ask, or a planned pair has an introduction."""
    if (await graph.list_introductions(vendor.id, role="broker", first=1)).items:
        return True
    sides: tuple[AskSide, ...] = ("requester", "partner")
    for side in sides:
        if (await graph.list_asks(vendor.id, side=side, first=1)).items:
            return True
    for item in plan:
        page = await graph.list_introductions(item.requester.id, role="requester", first=1_000)
        if any(i.target_org == item.target.id for i in page.items):
            return True
    return False


async def seed_intros(
    graph: GraphStore,
    identity: IdentityStore,
    eco: Ecosystem,
    *,
    now: datetime,
) -> tuple[Counts, int]:
    """Replay every vendor's plan; the counts as of `now`, and how many vendors were
    skipped because their planned requesters had requests already."""
    users = {(u.org_id, u.role): u for u in eco.users}
    plans = plan_introductions(eco, now)
    # Blocks keep clear of every planned pair: a block would make the request fail.
    planned = {frozenset((p.requester.id, p.target.id)) for ps in plans.values() for p in ps}
    intro_counts: Counter[IntroStatus] = Counter()
    ask_counts: Counter[AskStatus] = Counter()
    blocks = 0
    skipped = 0
    vendors = [o for o in eco.orgs if OrgType.VENDOR in o.types]
    for vendor in vendors:
        plan = plans[vendor.id]
        members = _ecosystem(eco, vendor)
        if await _seeded_already(graph, vendor, plan):
            skipped += 1
            continue
        intro_counts.update(await _replay_intros(graph, identity, eco, vendor, plan, users, now))
        ask_counts.update(await _replay_asks(graph, identity, eco, vendor, members, users, now))
        if blocks < MAX_BLOCKS:
            blocks += await _block(graph, identity, eco, vendor, planned, members, users, now)
    return Counts(dict(intro_counts), dict(ask_counts), blocks), skipped


async def _replay_intros(
    graph: GraphStore,
    identity: IdentityStore,
    eco: Ecosystem,
    vendor: Org,
    plan: list[IntroPlan],
    users: dict[tuple[str, Role], SeedUser],
    now: datetime,
) -> Counter[IntroStatus]:
    rng = random.Random(f"{eco.seed}/{vendor.id}/intro-steps")
    made: dict[int, str] = {}

    def admin(org: Org) -> Actor:
        return actor_for(users[(org.id, Role.ADMIN)])

    for step in _steps(rng, plan, now):
        item = plan[step.number]
        if step.action is None:
            created = await introductions.request(
                graph,
                identity,
                admin(item.requester),
                target_org=item.target.id,
                broker_org=item.broker.id if item.broker else None,
                message=INTRO_MESSAGES[step.number % len(INTRO_MESSAGES)],
                now=step.at,
                policy=SEED_POLICY,
            )
            made[step.number] = created.id
            continue
        by = {
            IntroAction.FORWARD: item.broker,
            IntroAction.BROKER_DECLINE: item.broker,
            IntroAction.ACCEPT: item.target,
            IntroAction.DECLINE: item.target,
            IntroAction.WITHDRAW: item.requester,
        }[step.action]
        assert by is not None
        note = NOTES.get(item.outcome if step.action is not IntroAction.FORWARD else "forward")
        await introductions.respond(
            graph,
            identity,
            admin(by),
            made[step.number],
            action=step.action,
            note=None if step.action is IntroAction.WITHDRAW else note,
            now=step.at,
        )
    counts: Counter[IntroStatus] = Counter()
    for number, intro_id in made.items():
        found = await graph.get_introductions(plan[number].requester.id, [intro_id])
        counts[effective(found[intro_id], now).status] += 1
    return counts


async def _replay_asks(
    graph: GraphStore,
    identity: IdentityStore,
    eco: Ecosystem,
    vendor: Org,
    members: list[Org],
    users: dict[tuple[str, Role], SeedUser],
    now: datetime,
) -> Counter[AskStatus]:
    """Sales reps ask across the vendor's partnerships (either side asks), on accounts
    the other side shares at OVERLAPS or DETAILS; outcomes dealt in turn."""
    rng = random.Random(f"{eco.seed}/{vendor.id}/asks")
    sides = [(m, vendor) for m in members] + [(vendor, m) for m in members]
    rng.shuffle(sides)
    counts: Counter[AskStatus] = Counter()
    kinds = list(AskKind)
    made = 0
    for requester, partner in sides:
        if made >= MAX_ASKS_PER_VENDOR[eco.scale]:
            break
        rep = actor_for(users[(requester.id, Role.SALES_REP)])
        partnership = await graph.live_partnership(requester.id, partner.id)
        if partnership is None or partnership.status is not PartnershipStatus.ACTIVE:
            continue
        listable = await listable_populations(graph, rep, partnership)
        if not listable:
            continue
        page = await graph.overlapping_accounts(
            requester.id,
            partner.id,
            partner_populations=sorted(listable),
            kinds=(KeyKind.DOMAIN, KeyKind.DUNS),
            first=20,
        )
        if not page.items:
            continue
        account = rng.choice(page.items).account
        kind = kinds[made % len(kinds)]
        outcome = ASK_OUTCOMES[made % len(ASK_OUTCOMES)]
        at = now - timedelta(days=rng.uniform(2, 20), seconds=rng.randrange(86_400))
        created = await asks.ask(
            graph,
            identity,
            rep,
            partner_org=partner.id,
            account_id=account.id,
            kind=kind,
            message=ASK_MESSAGES[kind],
            now=at,
            policy=SEED_POLICY,
        )
        made += 1
        later = at + timedelta(days=rng.uniform(0.5, 1.5))
        final = created
        if outcome in ("accept", "decline"):
            final = await asks.move(
                graph,
                identity,
                actor_for(users[(partner.id, Role.SALES_REP)]),
                created.id,
                action=AskAction.ACCEPT if outcome == "accept" else AskAction.DECLINE,
                note=NOTES[outcome],
                now=later,
            )
        elif outcome == "withdraw":
            final = await asks.move(
                graph, identity, rep, created.id, action=AskAction.WITHDRAW, note=None, now=later
            )
        counts[effective_ask(final, now).status] += 1
    return counts


async def _block(
    graph: GraphStore,
    identity: IdentityStore,
    eco: Ecosystem,
    vendor: Org,
    planned: set[frozenset[str]],
    members: list[Org],
    users: dict[tuple[str, Role], SeedUser],
    now: datetime,
) -> int:
    """One partner of the vendor blocks another it has no introduction with."""
    rng = random.Random(f"{eco.seed}/{vendor.id}/blocks")
    pairs = [
        (a, b)
        for a, b in itertools.permutations(members, 2)
        if frozenset((a.id, b.id)) not in planned
    ]
    if not pairs:
        return 0
    blocker, blocked = rng.choice(pairs)
    changed = await introductions.set_block(
        graph,
        identity,
        actor_for(users[(blocker.id, Role.ADMIN)]),
        blocked.id,
        blocked=True,
        now=now - timedelta(days=rng.uniform(1, 10)),
    )
    return int(changed)
