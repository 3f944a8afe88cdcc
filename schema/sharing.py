"""Sharing rules: set one, and see both directions with a partner."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from graph.model import SharingLevel, SharingRule
from privacy.policy import Grant
from resolvers import sharing
from schema.context import Info
from schema.ids import decode
from schema.orgs import OrgNode, load_org
from schema.partnerships import PartnershipNode
from schema.payloads import UserError, attempt


@strawberry.type(name="SharingRule", description="What the viewer's org shares with a partner.")
class SharingRuleType:
    population: str
    level: SharingLevel
    fields: list[str]
    updated_at: datetime | None
    _to_org: strawberry.Private[str]

    @classmethod
    def from_record(cls, rule: SharingRule) -> SharingRuleType:
        return cls(
            population=rule.population,
            level=rule.level,
            fields=list(rule.fields),
            updated_at=rule.updated_at,
            _to_org=rule.to_org,
        )

    @strawberry.field(description="The partner the rule is for.")
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._to_org)


@strawberry.type(name="SharingGrant", description="What a partner lets the viewer see.")
class SharingGrantType:
    population: str
    level: SharingLevel
    fields: list[str]

    @classmethod
    def from_grant(cls, grant: Grant) -> SharingGrantType:
        return cls(population=grant.population, level=grant.level, fields=list(grant.fields))


@strawberry.type(description="Both directions of sharing with one live partner.")
class Sharing:
    partnership: PartnershipNode
    outgoing: list[SharingRuleType] = strawberry.field(
        description="The viewer's rules for the partner; populations without one are HIDDEN."
    )
    incoming: list[SharingGrantType] = strawberry.field(
        description="What the partner grants the viewer; HIDDEN populations are left out."
    )


@strawberry.type
class SharingQueries:
    @strawberry.field(description="Sharing with one partner (INVITED or ACTIVE).")
    async def sharing(self, info: Info, partner_id: relay.GlobalID) -> Sharing:
        actor = info.context.actor
        partner = decode(partner_id, "Org", field="partnerId")
        view = await sharing.overview(info.context.store, actor, partner_id=partner)
        return Sharing(
            partnership=PartnershipNode.from_record(view.partnership, actor.org_id),
            outgoing=[SharingRuleType.from_record(r) for r in view.outgoing],
            incoming=[SharingGrantType.from_grant(g) for g in view.incoming],
        )


@strawberry.input
class SetSharingRuleInput:
    partner_id: relay.GlobalID
    population: str = strawberry.field(
        description="CUSTOMER, OPEN_OPPORTUNITY, PROSPECT, CHURNED or a custom population."
    )
    level: SharingLevel
    fields: list[str] = strawberry.field(
        default_factory=list, description="Fields shared at DETAILS level."
    )


@strawberry.type
class SetSharingRulePayload:
    sharing_rule: SharingRuleType | None
    errors: list[UserError]


@strawberry.type
class SharingMutations:
    @strawberry.mutation(description="Set what a partner may see of one population.")
    async def set_sharing_rule(
        self, info: Info, input: SetSharingRuleInput
    ) -> SetSharingRulePayload:
        context, actor = info.context, info.context.actor
        partner = decode(input.partner_id, "Org", field="partnerId")
        rule, errors = await attempt(
            sharing.set_rule(
                context.store,
                context.identity,
                actor,
                partner_id=partner,
                population=input.population,
                level=input.level,
                fields=tuple(input.fields),
                now=context.now(),
            )
        )
        return SetSharingRulePayload(
            sharing_rule=SharingRuleType.from_record(rule) if rule else None, errors=errors
        )
