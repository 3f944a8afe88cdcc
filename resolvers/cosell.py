"""Co-selling across every ACTIVE partner: my accounts ranked by partner presence, and the
partners to route one of my accounts to (docs/cosell.md).

The policy is the account map's (resolvers/overlaps.py), applied partner by partner: the
store is asked only for partner populations shared with me at OVERLAPS or DETAILS, so
presence in a COUNTS or HIDDEN population is never read, and partner fields are kept only
where DETAILS grants them. Only ACTIVE partnerships count; the policy re-checks that.

Both views walk every overlap with every ACTIVE partner (`overlapping_accounts`, pages of
SCAN_PAGE): O(total overlaps) per query, which is fine at today's sizes. For very large
account maps the path is a ranking computed in the store, not here.

The scoring rules are pure functions at the top of this module, unit-tested on their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from graph.deal_port import DealStats
from graph.errors import BadInput, NotFound
from graph.identity import IdentityStore
from graph.model import (
    Account,
    Org,
    OrgType,
    OverlapMatch,
    Page,
    Partnership,
    SharingLevel,
)
from graph.paging import page
from graph.port import GraphStore
from privacy.policy import Grant, grants
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.overlaps import MATCH_KINDS, PartnerDetails, find_match, partner_details
from resolvers.partnerships import active_partnerships

T = TypeVar("T")

NO_SUCH_ACCOUNT = "no such account"
SCAN_PAGE = 500  # overlaps read per store call

# --- scoring: pure ----------------------------------------------------------------------

POPULATION_WEIGHTS: Mapping[str, int] = {
    "CUSTOMER": 3,
    "OPEN_OPPORTUNITY": 2,
    "PROSPECT": 1,
    "CHURNED": 0,
}
CUSTOM_POPULATION_WEIGHT = 1

# Partner types that suit an account, by the stage (my population) the account is in.
# ISV partners (integrations, add-ons) suit every account.
TYPE_FIT: Mapping[str, frozenset[OrgType]] = {
    "CUSTOMER": frozenset({OrgType.RESELLER, OrgType.MSP, OrgType.SI}),
}
ALWAYS_FIT = frozenset({OrgType.ISV})
TYPE_FIT_POINTS = 1
REGION_FIT_POINTS = 1
WON_DEAL_POINTS = 1  # per deal won together, at most MAX_WON_DEAL_POINTS
MAX_WON_DEAL_POINTS = 3
LOAD_PENALTY = 1  # per open deal registration, at most MAX_LOAD_PENALTY
MAX_LOAD_PENALTY = 3


def population_weight(population: str) -> int:
    """The weight of a partner population: standard ones from the table, custom ones 1."""
    return POPULATION_WEIGHTS.get(population, CUSTOM_POPULATION_WEIGHT)


def presence_score(presences: Iterable[Iterable[str]]) -> int:
    """An account's co-sell score: for each partner (one iterable of the partner
    populations it has the account in), the weights of those distinct populations,
    summed over partners. Three partners with it as a CUSTOMER score 9."""
    return sum(sum(population_weight(p) for p in set(populations)) for populations in presences)


def fitting_types(account_populations: Iterable[str]) -> frozenset[OrgType]:
    """The partner types that suit an account in these (my) populations."""
    fit = set(ALWAYS_FIT)
    for population in account_populations:
        fit |= TYPE_FIT.get(population, frozenset())
    return frozenset(fit)


@dataclass(frozen=True, slots=True)
class Signals:
    """What is known about routing one of my accounts to one ACTIVE partner. None means
    the signal is not available (yet), which scores 0 and says so."""

    partner_id: str
    presence: tuple[str, ...]  # the partner's populations (shared at OVERLAPS+) holding it
    partner_types: frozenset[OrgType]
    account_populations: tuple[str, ...]  # mine
    partner_region: str
    my_region: str | None
    won_deals: int | None = None
    open_registrations: int | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    partner_id: str
    score: int
    reasons: tuple[str, ...]


def recommend(signals: Signals) -> Recommendation:
    """Score one partner for one account, with a plain-words reason per signal."""
    score, reasons = 0, []
    for population in sorted(set(signals.presence)):
        points = population_weight(population)
        score += points
        reasons.append(f"Has this account in its {population} population (+{points})")
    fit = sorted(signals.partner_types & fitting_types(signals.account_populations))
    if fit:
        score += TYPE_FIT_POINTS
        stage = "a CUSTOMER" if "CUSTOMER" in signals.account_populations else "this"
        names = ", ".join(fit)
        reasons.append(f"Partner type {names} suits {stage} account (+{TYPE_FIT_POINTS})")
    if signals.partner_region == signals.my_region:
        score += REGION_FIT_POINTS
        reasons.append(f"Works in your region, {signals.my_region} (+{REGION_FIT_POINTS})")
    if signals.won_deals is None:
        reasons.append("Deals won together: not tracked yet (+0)")
    elif signals.won_deals > 0:
        points = min(signals.won_deals * WON_DEAL_POINTS, MAX_WON_DEAL_POINTS)
        score += points
        reasons.append(f"Won {signals.won_deals} deal(s) with you (+{points})")
    if signals.open_registrations is None:
        reasons.append("Open deal registrations (current load): not tracked yet (-0)")
    elif signals.open_registrations > 0:
        penalty = min(signals.open_registrations * LOAD_PENALTY, MAX_LOAD_PENALTY)
        score -= penalty
        reasons.append(f"Has {signals.open_registrations} open deal registration(s) (-{penalty})")
    return Recommendation(signals.partner_id, score, tuple(reasons))


def rank_key(score: int, item_id: str) -> str:
    """The cursor key of a ranked item: "score:id"."""
    return f"{score}:{item_id}"


def parse_rank_key(key: str | None, *, name: str = "after") -> tuple[int, str] | None:
    if key is None:
        return None
    score, sep, item_id = key.partition(":")
    try:
        value = int(score)
    except ValueError:
        value = None
    if not sep or not item_id or value is None:
        raise BadInput(f"{name} is not a valid cursor", field=name)
    return value, item_id


def ranked_page(
    items: Iterable[T],
    rank: Callable[[T], tuple[int, str]],
    *,
    first: int,
    after: str | None,
    backward: bool = False,
) -> Page[T]:
    """`items` by score (highest first), ties by id, the page after the cursor key (with
    `backward`, the page before it: graph/paging.py). These lists are computed and
    ranked in memory by design, so they are sliced in memory both ways."""
    ordered = sorted(items, key=lambda item: _order(rank(item)))
    start = parse_rank_key(after, name="before" if backward else "after")
    if backward:
        if start is not None:
            ordered = [item for item in ordered if _order(rank(item)) < _order(start)]
        ordered.reverse()
    elif start is not None:
        ordered = [item for item in ordered if _order(rank(item)) > _order(start)]
    return page(ordered[: first + 1], first, lambda item: rank_key(*rank(item)), backward=backward)


def _order(rank: tuple[int, str]) -> tuple[int, str]:
    return -rank[0], rank[1]


# --- the views ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerPresence:
    """One ACTIVE partner's presence on one of my accounts, as far as it is shared."""

    partner_id: str
    populations: tuple[str, ...]  # only populations shared at OVERLAPS or DETAILS
    level: SharingLevel  # the highest level among those populations
    details: tuple[PartnerDetails, ...]  # only partner accounts shared at DETAILS


@dataclass(frozen=True, slots=True)
class CoSellAccount:
    account: Account
    score: int
    partners: tuple[PartnerPresence, ...]  # highest weight first, then partner id


async def accounts(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    first: int,
    after: str | None,
    backward: bool = False,
    min_score: int | None,
    now: datetime,
) -> Page[CoSellAccount]:
    """My accounts that at least one ACTIVE partner also has (in a population shared with
    me at OVERLAPS+), ranked by presence_score, then account id."""
    actor.require(Permission.READ)
    found: dict[str, tuple[Account, list[PartnerPresence]]] = {}
    partners = await active_partnerships(graph, actor.org_id)
    for partnership in partners:
        partner_id = partnership.other(actor.org_id)
        listable = await listable_populations(graph, actor, partnership)
        async for match in _matches(graph, actor, partner_id, listable):
            presence = _presence(partner_id, match, listable)
            if presence is not None:
                found.setdefault(match.account.id, (match.account, []))[1].append(presence)
    ranked = []
    for account, presences in found.values():
        item = _co_sell_account(account, presences)
        if min_score is None or item.score >= min_score:
            ranked.append(item)
    page = ranked_page(
        ranked, lambda a: (a.score, a.account.id), first=first, after=after, backward=backward
    )
    await audit.record(
        identity,
        actor,
        "cosell.accounts",
        now=now,
        partners=str(len(partners)),
        rows=str(len(page.items)),
    )
    return page


async def account(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    account_id: str,
    now: datetime,
) -> CoSellAccount | None:
    """One row of `accounts`, recomputed for the viewer now (whatever min_score the list
    had: the row itself does not depend on it). None when the list would not hold it now:
    not one of my accounts (a partner's and a missing one alike), or no ACTIVE partner
    has it in a population shared with me at OVERLAPS or DETAILS.

    Cost: per ACTIVE partner, a scan of the overlaps in the account's first population
    (resolvers/overlaps.py find_match), not the whole ranking."""
    actor.require(Permission.READ)
    record = (await graph.get_accounts(actor.org_id, [account_id])).get(account_id)
    if record is None:
        return None
    presences = []
    partners = await active_partnerships(graph, actor.org_id)
    for partnership in partners:
        partner_id = partnership.other(actor.org_id)
        listable = await listable_populations(graph, actor, partnership)
        match = await find_match(graph, actor, partner_id, sorted(listable), record)
        presence = _presence(partner_id, match, listable) if match is not None else None
        if presence is not None:
            presences.append(presence)
    await audit.record(
        identity,
        actor,
        "cosell.account",
        now=now,
        target_type="Account",
        target_id=account_id,
        partners=str(len(partners)),
    )
    return _co_sell_account(record, presences) if presences else None


def _co_sell_account(account: Account, presences: list[PartnerPresence]) -> CoSellAccount:
    score = presence_score(p.populations for p in presences)
    ordered = sorted(presences, key=lambda p: (-presence_score([p.populations]), p.partner_id))
    return CoSellAccount(account, score, tuple(ordered))


async def recommend_partners(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    account_id: str,
    first: int,
    after: str | None,
    backward: bool = False,
    now: datetime,
) -> Page[Recommendation]:
    """My ACTIVE partners ranked for one of my accounts. Another org's account and a
    missing one are both NotFound."""
    actor.require(Permission.READ)
    account = (await graph.get_accounts(actor.org_id, [account_id])).get(account_id)
    if account is None:
        raise NotFound(NO_SUCH_ACCOUNT)
    partnerships = await active_partnerships(graph, actor.org_id)
    partner_ids = [p.other(actor.org_id) for p in partnerships]
    orgs = await graph.get_orgs([actor.org_id, *partner_ids])
    my_region = orgs[actor.org_id].region if actor.org_id in orgs else None
    # Registrations with me as the vendor: won ones are deals won together, live ones
    # the partner's current load with me.
    stats = await graph.deal_stats(actor.org_id, partner_ids)
    recommendations = []
    for partnership, partner_id in zip(partnerships, partner_ids, strict=True):
        partner = orgs.get(partner_id)
        if partner is None:
            continue
        recommendations.append(
            await _recommend_one(graph, actor, account, partnership, partner, my_region, stats)
        )
    page = ranked_page(
        recommendations,
        lambda r: (r.score, r.partner_id),
        first=first,
        after=after,
        backward=backward,
    )
    await audit.record(
        identity,
        actor,
        "cosell.recommend",
        now=now,
        target_type="Account",
        target_id=account_id,
        partners=str(len(partner_ids)),
    )
    return page


async def recommendation(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    account_id: str,
    partner_id: str,
    now: datetime,
) -> Recommendation | None:
    """One row of `recommend_partners(account_id)`, recomputed for the viewer now. None
    when that list would not hold it now: not one of my accounts, or the org is not an
    ACTIVE partner (ended, pending, never) — all alike.

    Cost: one partner's signals (a scan of its overlaps in the account's first
    population), not the whole ranking."""
    actor.require(Permission.READ)
    account = (await graph.get_accounts(actor.org_id, [account_id])).get(account_id)
    if account is None:
        return None
    partnership = next(
        (
            p
            for p in await active_partnerships(graph, actor.org_id)
            if p.other(actor.org_id) == partner_id
        ),
        None,
    )
    if partnership is None:
        return None
    orgs = await graph.get_orgs([actor.org_id, partner_id])
    partner = orgs.get(partner_id)
    if partner is None:
        return None
    my_region = orgs[actor.org_id].region if actor.org_id in orgs else None
    stats = await graph.deal_stats(actor.org_id, [partner_id])
    found = await _recommend_one(graph, actor, account, partnership, partner, my_region, stats)
    await audit.record(
        identity,
        actor,
        "cosell.recommendation",
        now=now,
        target_type="Account",
        target_id=account_id,
        partner=partner_id,
    )
    return found


async def _recommend_one(
    graph: GraphStore,
    actor: Actor,
    account: Account,
    partnership: Partnership,
    partner: Org,
    my_region: str | None,
    stats: Mapping[str, DealStats],
) -> Recommendation:
    listable = await listable_populations(graph, actor, partnership)
    presence = await _presence_on(graph, actor, partner.id, listable, account)
    return recommend(
        Signals(
            partner_id=partner.id,
            presence=presence,
            partner_types=partner.types,
            account_populations=account.populations,
            partner_region=partner.region,
            my_region=my_region,
            won_deals=stats[partner.id].won if partner.id in stats else 0,
            open_registrations=stats[partner.id].live if partner.id in stats else 0,
        )
    )


async def listable_populations(
    graph: GraphStore, actor: Actor, partnership: Partnership
) -> dict[str, Grant]:
    """The partner's populations I may see identities in (OVERLAPS or DETAILS)."""
    partner_id = partnership.other(actor.org_id)
    rules = await graph.sharing_rules(partner_id, actor.org_id)
    visible = grants(actor.org_id, partner_id, partnership, rules, [r.population for r in rules])
    return {g.population: g for g in visible if g.shows_identities}


async def _matches(
    graph: GraphStore,
    actor: Actor,
    partner_id: str,
    listable: Mapping[str, Grant],
    my_population: str | None = None,
) -> AsyncIterator[OverlapMatch]:
    if not listable:
        return
    after: str | None = None
    while True:
        page = await graph.overlapping_accounts(
            actor.org_id,
            partner_id,
            partner_populations=sorted(listable),
            my_population=my_population,
            kinds=MATCH_KINDS,
            first=SCAN_PAGE,
            after=after,
        )
        for match in page.items:
            yield match
        if not page.has_next or not page.cursors:
            return
        after = page.cursors[-1]


async def _presence_on(
    graph: GraphStore,
    actor: Actor,
    partner_id: str,
    listable: Mapping[str, Grant],
    account: Account,
) -> tuple[str, ...]:
    """The listable partner populations holding `account` (overlaps.find_match)."""
    match = await find_match(graph, actor, partner_id, sorted(listable), account)
    return _populations(match, listable) if match is not None else ()


def _populations(match: OverlapMatch, listable: Mapping[str, Grant]) -> tuple[str, ...]:
    return tuple(sorted({p for m in match.partner for p in m.populations if p in listable}))


def _presence(
    partner_id: str, match: OverlapMatch, listable: Mapping[str, Grant]
) -> PartnerPresence | None:
    populations = _populations(match, listable)
    if not populations:
        return None
    level = max((listable[p].level for p in populations), key=lambda lv: lv.rank)
    return PartnerPresence(partner_id, populations, level, partner_details(match, listable))
