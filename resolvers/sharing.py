"""Sharing rules: what the acting org lets one partner see, per population."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from graph.errors import BadInput, NotFound
from graph.identity import IdentityStore
from graph.model import Partnership, SharingLevel, SharingRule
from graph.port import GraphStore
from privacy.policy import Grant, grants
from privacy.populations import STANDARD_POPULATIONS, fields_problem, population_problem
from resolvers import audit
from resolvers.actor import Actor, Permission

NO_SUCH_PARTNER = "no such partner"


@dataclass(frozen=True, slots=True)
class SharingOverview:
    """Both directions with one partner: what I share, and what I am granted."""

    partner_id: str
    partnership: Partnership
    outgoing: list[SharingRule]
    incoming: list[Grant]


async def set_rule(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    partner_id: str,
    population: str,
    level: SharingLevel,
    fields: tuple[str, ...],
    now: datetime,
) -> SharingRule:
    actor.require(Permission.MANAGE_SHARING)
    if problem := population_problem(population):
        raise BadInput(f"population {problem}", field="population")
    if fields and level is not SharingLevel.DETAILS:
        raise BadInput("fields can only be shared at DETAILS level", field="fields")
    fields = tuple(sorted(set(fields)))
    if problem := fields_problem(fields):
        raise BadInput(problem, field="fields")
    if await graph.live_partnership(actor.org_id, partner_id) is None:
        raise NotFound(NO_SUCH_PARTNER)
    rule = await graph.put_sharing_rule(
        SharingRule(actor.org_id, partner_id, population, level, fields, now)
    )
    await audit.record(
        identity,
        actor,
        "sharing_rule.set",
        now=now,
        target_type="Org",
        target_id=partner_id,
        population=population,
        level=level.value,
    )
    return rule


async def overview(graph: GraphStore, actor: Actor, *, partner_id: str) -> SharingOverview:
    actor.require(Permission.READ)
    partnership = await graph.live_partnership(actor.org_id, partner_id)
    if partnership is None:
        raise NotFound(NO_SUCH_PARTNER)
    outgoing = await graph.sharing_rules(actor.org_id, partner_id)
    incoming_rules = await graph.sharing_rules(partner_id, actor.org_id)
    populations = list(STANDARD_POPULATIONS) + sorted(
        {r.population for r in incoming_rules} - set(STANDARD_POPULATIONS)
    )
    incoming = grants(actor.org_id, partner_id, partnership, incoming_rules, populations)
    return SharingOverview(partner_id, partnership, outgoing, incoming)
