"""Deal registrations: the node, the lists, the program, and the partner/vendor moves."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self

import strawberry
from strawberry import relay

from graph.deals import (
    Credit,
    DealProgram,
    DealReason,
    DealRegistration,
    DealRole,
    DealStatus,
    DealTransition,
)
from resolvers.actor import Permission
from resolvers.deals import lifecycle, program, queries, registration, rules
from resolvers.deals.lifecycle import Decision
from resolvers.deals.queries import CoRegistrant
from schema.accounts import AccountNode, load_account
from schema.context import Info
from schema.ids import decode
from schema.orgs import OrgNode, load_org
from schema.pagination import edges_of, window
from schema.payloads import UserError, attempt

CURSOR_KIND = "deal_registrations"
for _enum in (DealRole, DealStatus, DealReason, Credit):
    strawberry.enum(_enum)
strawberry.enum(Decision, name="DealDecision")


@strawberry.enum(description="Which side of registrations to list.")
class DealSide(enum.Enum):
    VENDOR = "vendor"
    PARTNER = "partner"


@strawberry.enum(description="Who made a move on a registration.")
class DealActorSide(enum.Enum):
    VENDOR = "VENDOR"
    PARTNER = "PARTNER"
    SERVER = "SERVER"


@strawberry.type(description="Another registration on the same deal: role and status only.")
class DealCoRegistrant:
    role: DealRole
    status: DealStatus


@strawberry.type(description="One move in a registration's life, oldest first.")
class DealRegistrationTransition:
    at: datetime
    from_status: DealStatus | None
    to_status: DealStatus
    by: DealActorSide
    note: str | None


@strawberry.type(
    name="DealRegistration",
    description="A partner's claim on a deal with a vendor. The vendor sees every field; "
    "the registering partner sees its own registration but not the vendor's account or "
    "opportunity records.",
)
class DealRegistrationNode(relay.Node):
    id: relay.NodeID[str]
    role: DealRole
    product_line: str = strawberry.field(description='Canonical; "" for the whole vendor.')
    status: DealStatus = strawberry.field(description="As of now: expiry applies on read.")
    credit: Credit
    amount: Decimal = strawberry.field(description="The partner's expected amount.")
    currency: str
    expected_close: date
    registered_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    decision_note: str | None = strawberry.field(description="The vendor's stated reason.")
    expires_at: datetime | None
    extensions: int
    viewer_is_vendor: bool
    _record: strawberry.Private[DealRegistration]

    @classmethod
    def from_record(cls, record: DealRegistration, viewer_org: str) -> Self:
        return cls(
            id=record.id,
            role=record.role,
            product_line=record.product_line,
            status=record.status,
            credit=record.credit,
            amount=record.amount,
            currency=record.currency,
            expected_close=record.expected_close,
            registered_at=record.registered_at,
            updated_at=record.updated_at,
            decided_at=record.decided_at,
            decision_note=record.decision_note,
            expires_at=record.expires_at,
            extensions=record.extensions,
            viewer_is_vendor=record.vendor_org == viewer_org,
            _record=record,
        )

    @strawberry.field(description="Why it got its status (partners do not see NEW_PROSPECT).")
    def reasons(self) -> list[DealReason]:
        return list(rules.visible_reasons(self._record, as_vendor=self.viewer_is_vendor))

    @strawberry.field
    async def vendor(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.vendor_org)

    @strawberry.field
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.partner_org)

    @strawberry.field(description="The vendor's account; null for the partner.")
    async def account(self, info: Info) -> AccountNode | None:
        if not self.viewer_is_vendor:
            return None
        return await load_account(info, self._record.account_id)

    @strawberry.field(description="The vendor's opportunity it is on; null for the partner.")
    async def opportunity_id(self) -> relay.GlobalID | None:
        if not self.viewer_is_vendor or self._record.opportunity_id is None:
            return None
        return relay.GlobalID("Opportunity", self._record.opportunity_id)

    @strawberry.field(
        description="Other registrations on the same deal (vendor account and product "
        "line) that are live or won: their role and status, never who or how much."
    )
    async def co_registrants(self, info: Info) -> list[DealCoRegistrant]:
        found: list[CoRegistrant] = await info.context.loaders.co_registrants.load(self._record)
        return [DealCoRegistrant(role=c.role, status=c.status) for c in found]

    @strawberry.field
    async def history(self, info: Info) -> list[DealRegistrationTransition]:
        actor = info.context.actor
        actor.require(Permission.READ)
        entries = await info.context.loaders.deal_history.load((actor.org_id, self._record.id))
        return [self._transition(e) for e in entries]

    def _transition(self, entry: DealTransition) -> DealRegistrationTransition:
        if entry.actor_org is None:
            by = DealActorSide.SERVER
        elif entry.actor_org == self._record.vendor_org:
            by = DealActorSide.VENDOR
        else:
            by = DealActorSide.PARTNER
        return DealRegistrationTransition(
            at=entry.at,
            from_status=entry.from_status,
            to_status=entry.to_status,
            by=by,
            note=entry.note,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        context, actor = info.context, info.context.actor
        ids = list(node_ids)
        found = await queries.get_registrations(context.store, actor, ids, now=context.now())
        return [cls.from_record(found[i], actor.org_id) if i in found else None for i in ids]


@strawberry.type(name="DealRegistrationConnection")
class DealRegistrationConnection(relay.Connection[DealRegistrationNode]):
    pass


@strawberry.type(name="DealProgram", description="A vendor's rules of engagement.")
class DealProgramType:
    exclusive_roles: list[DealRole]
    expiry_days: int
    extension_days: int
    max_extensions: int
    existing_pipeline_blocks: bool
    auto_approve_roles: list[DealRole]
    auto_approve_max_amount: Decimal | None
    direct_only_populations: list[str]
    updated_at: datetime | None

    @classmethod
    def from_record(cls, record: DealProgram) -> Self:
        return cls(
            exclusive_roles=sorted(record.exclusive_roles),
            expiry_days=record.expiry_days,
            extension_days=record.extension_days,
            max_extensions=record.max_extensions,
            existing_pipeline_blocks=record.existing_pipeline_blocks,
            auto_approve_roles=sorted(record.auto_approve_roles),
            auto_approve_max_amount=record.auto_approve_max_amount,
            direct_only_populations=sorted(record.direct_only_populations),
            updated_at=record.updated_at,
        )


@strawberry.type
class DealQueries:
    @strawberry.field(
        description="Registrations where the viewer's org is the vendor or the partner, "
        "newest first."
    )
    async def deal_registrations(
        self,
        info: Info,
        side: DealSide,
        status: list[DealStatus] | None = None,
        account_id: relay.GlobalID | None = None,
        counterparty_id: relay.GlobalID | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> DealRegistrationConnection:
        context, actor = info.context, info.context.actor
        size, key, backward = window(CURSOR_KIND, first, after, last, before)
        account = decode(account_id, "Account", field="accountId") if account_id else None
        other = decode(counterparty_id, "Org", field="counterpartyId") if counterparty_id else None
        page = await queries.list_registrations(
            context.store,
            actor,
            side="vendor" if side is DealSide.VENDOR else "partner",
            statuses=status,
            account_id=account,
            counterparty=other,
            first=size,
            after=key,
            backward=backward,
            now=context.now(),
        )
        edges, page_info = edges_of(
            CURSOR_KIND, page, lambda r: DealRegistrationNode.from_record(r, actor.org_id)
        )
        return DealRegistrationConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="The viewer org's deal program (defaults until set).")
    async def deal_program(self, info: Info) -> DealProgramType:
        record = await program.get_program(info.context.store, info.context.actor)
        return DealProgramType.from_record(record)


@strawberry.input(description="Exactly one of the account keys or opportunityId.")
class RegisterDealInput:
    vendor_id: relay.GlobalID
    role: DealRole
    amount: Decimal
    currency: str
    expected_close: date
    product_line: str | None = None
    domains: list[str] | None = None
    duns: list[str] | None = None
    company_names: list[str] | None = None
    opportunity_id: relay.GlobalID | None = None


@strawberry.input
class ReviewDealRegistrationInput:
    id: relay.GlobalID
    decision: Decision
    reason: str
    opportunity_id: relay.GlobalID | None = strawberry.field(
        default=None, description="On approval: the vendor's OPEN opportunity it is on."
    )


@strawberry.input
class DealRegistrationMoveInput:
    id: relay.GlobalID
    reason: str | None = None


@strawberry.input(description="Fields left out keep their value.")
class SetDealProgramInput:
    exclusive_roles: list[DealRole] | None = None
    expiry_days: int | None = None
    extension_days: int | None = None
    max_extensions: int | None = None
    existing_pipeline_blocks: bool | None = None
    auto_approve_roles: list[DealRole] | None = None
    auto_approve_max_amount: Decimal | None = None
    clear_auto_approve_max_amount: bool = False
    direct_only_populations: list[str] | None = None


@strawberry.input
class SetDirectOnlyInput:
    account_ids: list[relay.GlobalID]
    direct_only: bool


@strawberry.type
class DealRegistrationPayload:
    registration: DealRegistrationNode | None
    errors: list[UserError]


@strawberry.type
class DealProgramPayload:
    program: DealProgramType | None
    errors: list[UserError]


@strawberry.type
class SetDirectOnlyPayload:
    changed_account_ids: list[relay.GlobalID]
    errors: list[UserError]


@strawberry.type
class DealMutations:
    @strawberry.mutation(
        description="Register a deal with a vendor you have an ACTIVE partnership with. "
        "The automatic checks decide its status; see `reasons`."
    )
    async def register_deal(self, info: Info, input: RegisterDealInput) -> DealRegistrationPayload:
        context, actor = info.context, info.context.actor
        request = registration.DealRequest(
            vendor_org=decode(input.vendor_id, "Org", field="vendorId"),
            role=input.role,
            amount=input.amount,
            currency=input.currency,
            expected_close=input.expected_close,
            product_line=input.product_line,
            domains=tuple(input.domains or ()),
            duns=tuple(input.duns or ()),
            company_names=tuple(input.company_names or ()),
            opportunity_id=(
                decode(input.opportunity_id, "Opportunity", field="opportunityId")
                if input.opportunity_id
                else None
            ),
        )
        record, errors = await attempt(
            registration.register_deal(
                context.store,
                context.identity,
                context.keyring,
                actor,
                request,
                now=context.now(),
                events=context.events,
            )
        )
        return _payload(record, errors, actor.org_id)

    @strawberry.mutation(description="Vendor: approve or reject a registration under review.")
    async def review_deal_registration(
        self, info: Info, input: ReviewDealRegistrationInput
    ) -> DealRegistrationPayload:
        context, actor = info.context, info.context.actor
        opportunity = (
            decode(input.opportunity_id, "Opportunity", field="opportunityId")
            if input.opportunity_id
            else None
        )
        record, errors = await attempt(
            lifecycle.review(
                context.store,
                context.identity,
                actor,
                decode(input.id, "DealRegistration", field="id"),
                decision=input.decision,
                note=input.reason,
                opportunity_id=opportunity,
                now=context.now(),
                events=context.events,
            )
        )
        return _payload(record, errors, actor.org_id)

    @strawberry.mutation(description="Vendor: extend an approved registration's expiry.")
    async def extend_deal_registration(
        self, info: Info, input: DealRegistrationMoveInput
    ) -> DealRegistrationPayload:
        context, actor = info.context, info.context.actor
        record, errors = await attempt(
            lifecycle.extend(
                context.store,
                context.identity,
                actor,
                decode(input.id, "DealRegistration", field="id"),
                note=input.reason,
                now=context.now(),
                events=context.events,
            )
        )
        return _payload(record, errors, actor.org_id)

    @strawberry.mutation(description="Partner: withdraw your own registration.")
    async def withdraw_deal_registration(
        self, info: Info, input: DealRegistrationMoveInput
    ) -> DealRegistrationPayload:
        context, actor = info.context, info.context.actor
        record, errors = await attempt(
            lifecycle.withdraw(
                context.store,
                context.identity,
                actor,
                decode(input.id, "DealRegistration", field="id"),
                note=input.reason,
                now=context.now(),
                events=context.events,
            )
        )
        return _payload(record, errors, actor.org_id)

    @strawberry.mutation(description="Vendor: set the rules of engagement.")
    async def set_deal_program(self, info: Info, input: SetDealProgramInput) -> DealProgramPayload:
        context, actor = info.context, info.context.actor
        changes = program.ProgramChanges(
            exclusive_roles=_roles(input.exclusive_roles),
            expiry_days=input.expiry_days,
            extension_days=input.extension_days,
            max_extensions=input.max_extensions,
            existing_pipeline_blocks=input.existing_pipeline_blocks,
            auto_approve_roles=_roles(input.auto_approve_roles),
            auto_approve_max_amount=input.auto_approve_max_amount,
            clear_auto_approve_max_amount=input.clear_auto_approve_max_amount,
            direct_only_populations=(
                frozenset(input.direct_only_populations)
                if input.direct_only_populations is not None
                else None
            ),
        )
        record, errors = await attempt(
            program.set_program(context.store, context.identity, actor, changes, now=context.now())
        )
        node = DealProgramType.from_record(record) if record is not None else None
        return DealProgramPayload(program=node, errors=errors)

    @strawberry.mutation(description="Vendor: mark accounts as sold direct only (or unmark).")
    async def set_direct_only(self, info: Info, input: SetDirectOnlyInput) -> SetDirectOnlyPayload:
        context, actor = info.context, info.context.actor
        ids = [decode(g, "Account", field="accountIds") for g in input.account_ids]
        changed, errors = await attempt(
            program.set_direct_only(
                context.store,
                context.identity,
                actor,
                ids,
                direct_only=input.direct_only,
                now=context.now(),
            )
        )
        return SetDirectOnlyPayload(
            changed_account_ids=[relay.GlobalID("Account", i) for i in changed or []],
            errors=errors,
        )


def _roles(roles: list[DealRole] | None) -> frozenset[DealRole] | None:
    return frozenset(roles) if roles is not None else None


def _payload(
    record: DealRegistration | None, errors: list[UserError], viewer_org: str
) -> DealRegistrationPayload:
    node = DealRegistrationNode.from_record(record, viewer_org) if record is not None else None
    return DealRegistrationPayload(registration=node, errors=errors)
