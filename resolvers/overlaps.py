"""Overlaps with an ACTIVE partner: the matrix by population, and the list of accounts.

Policy comes first and the store only ever reads what the policy allows: the list asks
the store for partner populations shared at OVERLAPS or DETAILS only, and partner
fields are kept only where DETAILS grants them. Every read is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from graph.errors import BadInput, NotFound
from graph.identity import CountAnswer, IdentityStore
from graph.model import (
    ID_ORDER,
    NO_FILTER,
    Account,
    AccountFilter,
    KeyKind,
    OverlapMatch,
    OverlapOrder,
    Page,
    Partnership,
    PartnershipStatus,
    SharingLevel,
)
from graph.port import GraphStore
from privacy import probing
from privacy.policy import Grant, grants
from privacy.thresholds import CHANGED, DEFAULT_K, CellView, cell_view
from resolvers import audit
from resolvers.actor import Actor, Permission

# Names are a weak key: matching on them is opt-in per org, which is not offered yet.
MATCH_KINDS = (KeyKind.DOMAIN, KeyKind.DUNS)
NO_SUCH_PARTNER = "no such partner"
MAX_FILTER_TEXT = 200
SCAN_PAGE = 500  # overlaps read per store call when one account's match is looked for


@dataclass(frozen=True, slots=True)
class MatrixView:
    partnership: Partnership
    partner_id: str
    k: int
    cells: list[CellView]


@dataclass(frozen=True, slots=True)
class PartnerDetails:
    populations: tuple[str, ...]
    owner: str | None
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class OverlapView:
    match: OverlapMatch
    partner_populations: tuple[str, ...]
    details: tuple[PartnerDetails, ...]  # only for partner accounts shared at DETAILS


async def matrix(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    partner_id: str,
    now: datetime,
    k: int = DEFAULT_K,
) -> MatrixView:
    actor.require(Permission.READ)
    partnership, granted = await _granted(graph, actor, partner_id)
    my_sizes = await graph.population_counts(actor.org_id)
    raw = (
        {
            (c.my_population, c.partner_population): c
            for c in await graph.overlap_matrix(actor.org_id, partner_id, kinds=MATCH_KINDS)
        }
        if granted
        else {}
    )
    cells = []
    refusals = await _probe_refusals(graph, identity, actor, partner_id, granted, now)
    for mine in sorted(my_sizes):
        for theirs, grant in sorted(granted.items()):
            counts = raw.get((mine, theirs))
            view = cell_view(
                mine,
                theirs,
                grant.level,
                my_count=counts.my_count if counts else 0,
                partner_count=counts.partner_count if counts else 0,
                my_population_size=my_sizes[mine],
                k=k,
            )
            if view is not None and grant.level is SharingLevel.COUNTS and mine in refusals:
                view = replace(
                    view, my_count=None, partner_count=None, suppressed=True, reason=CHANGED
                )
            if view is not None:
                cells.append(view)
    await audit.record(
        identity, actor, "overlap.matrix", now=now, target_type="Org", target_id=partner_id
    )
    return MatrixView(partnership, partner_id, k, cells)


async def _probe_refusals(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    partner_id: str,
    granted: dict[str, Grant],
    now: datetime,
) -> set[str]:
    """My populations whose COUNTS numbers against this partner are withheld now, with
    the answers recorded and the refusals audited (privacy/probing.py)."""
    if not any(g.level is SharingLevel.COUNTS for g in granted.values()):
        return set()
    fingerprints = await graph.population_fingerprints(actor.org_id)
    previous = await identity.count_answers(actor.org_id, partner_id)
    refused = {p for p, f in fingerprints.items() if probing.refused(previous.get(p), f, now)}
    await identity.put_count_answers(
        [
            CountAnswer(actor.org_id, partner_id, p, f, now)
            for p, f in fingerprints.items()
            if p not in refused and probing.records_answer(previous.get(p), now)
        ]
    )
    for population in sorted(refused):
        await audit.record(
            identity,
            actor,
            "overlap.probe_refused",
            now=now,
            target_type="Org",
            target_id=partner_id,
            population=population,
        )
    return refused


async def overlaps(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    partner_id: str,
    my_population: str | None,
    partner_population: str | None,
    first: int,
    after: str | None,
    backward: bool = False,
    now: datetime,
    order: OverlapOrder = ID_ORDER,
    where: AccountFilter = NO_FILTER,
) -> Page[OverlapView]:
    actor.require(Permission.READ)
    for name, text in (
        ("filter.nameStartsWith", where.name_starts_with),
        ("filter.nameContains", where.name_contains),
        ("filter.owner", where.owner),
    ):
        if text is not None and len(text) > MAX_FILTER_TEXT:
            raise BadInput(f"at most {MAX_FILTER_TEXT} characters", field=name)
    _, granted = await _granted(graph, actor, partner_id)
    listable = {p: g for p, g in granted.items() if g.shows_identities}
    if partner_population is not None:
        listable = {p: g for p, g in listable.items() if p == partner_population}
    page = await graph.overlapping_accounts(
        actor.org_id,
        partner_id,
        partner_populations=sorted(listable),
        my_population=my_population,
        kinds=MATCH_KINDS,
        first=first,
        after=after,
        backward=backward,
        order=order,
        where=where,
    )
    await audit.record(
        identity,
        actor,
        "overlap.list",
        now=now,
        target_type="Org",
        target_id=partner_id,
        rows=str(len(page.items)),
    )
    views = [_view(match, listable) for match in page.items]
    return Page(
        items=views,
        has_next=page.has_next,
        cursors=page.cursors,
        has_previous=page.has_previous,
    )


async def overlap(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    partner_id: str,
    account_id: str,
    partner_population: str | None,
    now: datetime,
) -> OverlapView | None:
    """One row of `overlaps` (the same partner and partnerPopulation filter), recomputed
    for the viewer now: None when the list would not hold it now (not one of my
    accounts, no ACTIVE partnership, the population no longer shared at OVERLAPS or
    above, no longer matching). A partner's account, a missing one and a non-partner are
    all alike None.

    Cost: a scan of the overlaps with the partner in the account's first population (the
    store has no lookup by account), SCAN_PAGE rows per store call."""
    actor.require(Permission.READ)
    account = (await graph.get_accounts(actor.org_id, [account_id])).get(account_id)
    if account is None:
        return None
    try:
        _, granted = await _granted(graph, actor, partner_id)
    except NotFound:
        return None
    listable = {p: g for p, g in granted.items() if g.shows_identities}
    if partner_population is not None:
        listable = {p: g for p, g in listable.items() if p == partner_population}
    match = await find_match(graph, actor, partner_id, sorted(listable), account)
    await audit.record(
        identity,
        actor,
        "overlap.node",
        now=now,
        target_type="Org",
        target_id=partner_id,
        rows=str(int(match is not None)),
    )
    return _view(match, listable) if match is not None else None


async def find_match(
    graph: GraphStore,
    actor: Actor,
    partner_id: str,
    partner_populations: list[str],
    account: Account,
) -> OverlapMatch | None:
    """`account`'s overlap with the partner in `partner_populations` (only those are
    read), or None. The scan is narrowed to one of the account's own populations when it
    has any."""
    if not partner_populations:
        return None
    narrow = account.populations[0] if account.populations else None
    after: str | None = None
    while True:
        page = await graph.overlapping_accounts(
            actor.org_id,
            partner_id,
            partner_populations=partner_populations,
            my_population=narrow,
            kinds=MATCH_KINDS,
            first=SCAN_PAGE,
            after=after,
        )
        for match in page.items:
            if match.account.id == account.id:
                return match
        if not page.has_next or not page.cursors:
            return None
        after = page.cursors[-1]


def _view(match: OverlapMatch, listable: Mapping[str, Grant]) -> OverlapView:
    populations = sorted({p for partner in match.partner for p in partner.populations})
    return OverlapView(match, tuple(populations), partner_details(match, listable))


def partner_details(
    match: OverlapMatch, listable: Mapping[str, Grant]
) -> tuple[PartnerDetails, ...]:
    """Owner and fields of the matching partner accounts, only as far as DETAILS grants
    (and only the fields it names)."""
    details = []
    for partner in match.partner:
        granted = [listable[p] for p in partner.populations if p in listable]
        if not any(g.shows_fields for g in granted):
            continue
        shared = {f.casefold() for g in granted if g.shows_fields for f in g.fields}
        details.append(
            PartnerDetails(
                populations=partner.populations,
                owner=partner.owner if "owner" in shared else None,
                fields=tuple((n, v) for n, v in partner.fields if n.casefold() in shared),
            )
        )
    return tuple(details)


async def _granted(
    graph: GraphStore, actor: Actor, partner_id: str
) -> tuple[Partnership, dict[str, Grant]]:
    """The ACTIVE partnership and what the partner grants, by population; NotFound for a
    non-partner, an ended or a pending partnership, all alike."""
    partnership = await graph.live_partnership(actor.org_id, partner_id)
    if partnership is None or partnership.status is not PartnershipStatus.ACTIVE:
        raise NotFound(NO_SUCH_PARTNER)
    rules = await graph.sharing_rules(partner_id, actor.org_id)
    visible = grants(actor.org_id, partner_id, partnership, rules, [r.population for r in rules])
    return partnership, {g.population: g for g in visible if g.level is not SharingLevel.HIDDEN}
