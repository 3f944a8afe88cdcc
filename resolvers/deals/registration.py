"""registerDeal: gather the facts, let the rules decide, let the store take the claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from graph.deals import DealRegistration, DealRole, DealStatus, OpportunityStatus
from graph.errors import BadInput, Conflict, NotFound
from graph.identity import IdentityStore
from graph.model import Account, PartnershipStatus
from graph.port import GraphStore
from privacy.keyring import Keyring
from resolvers import audit
from resolvers.accounts import AccountInput, PreparedBatch, prepare_batch, write_prepared
from resolvers.actor import Actor, Permission
from resolvers.deals import rules
from resolvers.deals.announce import announce
from resolvers.deals.opportunities import RowProblem, parse_amount, parse_currency
from resolvers.events import EventBroker
from resolvers.ids import new_id
from resolvers.influence import touches

NO_SUCH_VENDOR = "no active partnership with that vendor"
NO_SUCH_OPPORTUNITY = "no such opportunity"
PROSPECT_POPULATION = "PROSPECT"
MAX_CLOSE_AHEAD = timedelta(days=3 * 366)
STATE_RETRIES = 5


@dataclass(frozen=True, slots=True)
class DealRequest:
    """What a partner asks for. The account is given by one or more keys (matched
    through the same normalization and keyed hashing as ingest) or by an opportunity."""

    vendor_org: str
    role: DealRole
    amount: Decimal
    currency: str
    expected_close: date
    product_line: str | None = None
    domains: tuple[str, ...] = ()
    duns: tuple[str, ...] = ()
    company_names: tuple[str, ...] = ()
    opportunity_id: str | None = None


async def register_deal(
    graph: GraphStore,
    identity: IdentityStore,
    keyring: Keyring,
    actor: Actor,
    request: DealRequest,
    *,
    now: datetime,
    events: EventBroker | None = None,
) -> DealRegistration:
    actor.require(Permission.REGISTER_DEALS)
    product_line, amount, currency = _validate(request, now)
    vendor = request.vendor_org
    if vendor == actor.org_id:
        raise BadInput("an organization cannot register a deal with itself", field="vendorId")
    partnership = await graph.live_partnership(actor.org_id, vendor)
    if partnership is None or partnership.status is not PartnershipStatus.ACTIVE:
        raise NotFound(NO_SUCH_VENDOR)

    program = await graph.deal_program(vendor)
    new_prospect = False
    opportunity_id: str | None = None
    if request.opportunity_id is not None:
        opportunity = (await graph.get_opportunities(vendor, [request.opportunity_id])).get(
            request.opportunity_id
        )
        if opportunity is None:
            raise NotFound(NO_SUCH_OPPORTUNITY)
        if opportunity.status is not OpportunityStatus.OPEN:
            raise Conflict("that opportunity is closed", field="opportunityId")
        found = await graph.get_accounts(vendor, [opportunity.account_id])
        account = found[opportunity.account_id]
        opportunity_id = opportunity.id
    else:
        account, new_prospect = await _account_for_keys(
            graph, keyring, vendor, actor.org_id, request, now=now
        )
    pipeline = await graph.open_opportunities(vendor, account.id, created_before=now)
    if opportunity_id is None and pipeline:
        opportunity_id = pipeline[0].id
    direct_only = bool(await graph.direct_only_accounts(vendor, [account.id])) or bool(
        program.direct_only_populations.intersection(account.populations)
    )
    facts = rules.RegistrationFacts(
        role=request.role,
        amount=amount,
        direct_only=direct_only,
        existing_pipeline=bool(pipeline),
        new_prospect=new_prospect,
    )
    verdict = rules.check_registration(facts, program)
    approved = verdict.status is DealStatus.APPROVED
    registration = DealRegistration(
        id=new_id(),
        vendor_org=vendor,
        partner_org=actor.org_id,
        account_id=account.id,
        opportunity_id=opportunity_id,
        role=request.role,
        product_line=product_line,
        amount=amount,
        currency=currency,
        expected_close=request.expected_close,
        status=verdict.status,
        reasons=verdict.reasons,
        credit=verdict.credit,
        registered_by=actor.user_id,
        registered_at=now,
        updated_at=now,
        claim_key=rules.claim_key(
            vendor_org=vendor,
            account_id=account.id,
            product_line=product_line,
            role=request.role,
            partner_org=actor.org_id,
            program=program,
        ),
        decided_at=now if approved else None,
        expires_at=rules.approval_expiry(program, now) if approved else None,
    )
    stored = await graph.register_deal(registration)
    if stored.status is DealStatus.APPROVED:
        await touches.from_registration(graph, stored)
    await audit.record(
        identity,
        actor,
        "deal.register",
        now=now,
        target_type="DealRegistration",
        target_id=stored.id,
        vendor=vendor,
        role=stored.role.value,
        status=stored.status.value,
        reasons=",".join(r.value for r in stored.reasons),
    )
    if events is not None:
        await announce(events, stored, action="REGISTER", now=now)
    return stored


def _validate(request: DealRequest, now: datetime) -> tuple[str, Decimal, str]:
    """The canonical product line, amount and currency; BadInput for the first problem.
    Amounts and currencies follow the same rules as the vendor's opportunities."""
    try:
        amount = parse_amount(request.amount)
        currency = parse_currency(request.currency)
    except RowProblem as problem:
        raise BadInput(problem.message, field=problem.field) from None
    today = now.date()
    if request.expected_close < today:
        raise BadInput("expectedClose must not be in the past", field="expectedClose")
    if request.expected_close > today + MAX_CLOSE_AHEAD:
        raise BadInput("expectedClose is more than three years ahead", field="expectedClose")
    product_line = rules.canonical_product_line(request.product_line)
    if len(product_line) > rules.MAX_PRODUCT_LINE:
        raise BadInput(
            f"productLine must be at most {rules.MAX_PRODUCT_LINE} characters",
            field="productLine",
        )
    has_keys = bool(request.domains or request.duns or request.company_names)
    if has_keys == (request.opportunity_id is not None):
        raise BadInput(
            "give the account's keys (domain, DUNS or company name) or an opportunityId, not both",
            field="account",
        )
    return product_line, amount, currency


async def _account_for_keys(
    graph: GraphStore,
    keyring: Keyring,
    vendor: str,
    partner: str,
    request: DealRequest,
    *,
    now: datetime,
) -> tuple[Account, bool]:
    """The vendor's account holding one of the keys (the oldest, when several do), or a
    new PROSPECT account for the vendor with the partner as its source."""
    label = (request.company_names or request.domains or request.duns)[0].strip()
    for _ in range(STATE_RETRIES):
        state = await graph.key_state()
        batch = prepare_batch(
            [
                AccountInput(
                    crm_id="prospect",  # replaced below, once the keys are hashed
                    name=label[:200] or "prospect",
                    populations=(PROSPECT_POPULATION,),
                    domains=request.domains,
                    duns=request.duns,
                    names=request.company_names,
                    fields=(("source_partner", partner),),
                )
            ],
            keyring,
            state,
        )
        if batch.rejected:
            problem = batch.rejected[0]
            raise BadInput(f"account: {problem.message}", field=problem.field or "account")
        keys = batch.upserts[0].keys
        found = await graph.accounts_by_keys(vendor, keys)
        if found:
            return found[0], False
        # One prospect per key: the crm id comes from the first keyed hash, so partners
        # registering the same unknown account at once upsert one record, not two.
        crm_id = f"tandem-prospect-{keys[0].kind.value.lower()}-{keys[0].active[:24]}"
        upsert = batch.upserts[0]
        prepared = PreparedBatch(
            state=batch.state,
            upserts=[
                type(upsert)(
                    crm_id=crm_id,
                    new_id=upsert.new_id,
                    name=upsert.name,
                    owner=None,
                    populations=upsert.populations,
                    fields=upsert.fields,
                    keys=upsert.keys,
                )
            ],
            accepted=batch.accepted,
            rejected=[],
        )
        try:
            [written] = await write_prepared(graph, vendor, prepared, now=now)
        except Conflict:
            continue  # a key rotation step moved the key state: hash again
        assert written.account_id is not None
        accounts = await graph.get_accounts(vendor, [written.account_id])
        return accounts[written.account_id], True
    raise Conflict("the key state kept changing; try again")
