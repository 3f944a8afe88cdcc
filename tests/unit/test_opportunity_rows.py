"""Opportunity rows: validation, one table per field, and the service's write path over
an in-memory stand-in for the store (settling what closed, UNKNOWN_ACCOUNT, close)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

import pytest

from graph.deals import (
    DealRegistration,
    DealStatus,
    Opportunity,
    OpportunityStatus,
    OpportunityUpsert,
    OpportunityWrite,
)
from graph.errors import BadInput, Conflict, Forbidden, NotFound
from graph.identity import AuditEntry, IdentityStore, Role, TokenKind, TokenScope
from graph.port import GraphStore
from resolvers.accounts import RowStatus
from resolvers.actor import WRITE_PERMISSIONS, Actor, Permission
from resolvers.deals import opportunities as opps
from resolvers.deals.opportunities import (
    OpportunityInput,
    close_opportunity,
    parse_amount,
    parse_currency,
    prepare_rows,
    to_upsert,
    upsert_opportunities,
)
from resolvers.deals.rules import CLOSE_OUTCOMES
from tests.factories import at

T0 = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
LATER = T0 + timedelta(days=3)


def row(**changes: Any) -> OpportunityInput:
    base = OpportunityInput(
        crm_id="006A",
        account_crm_id="001A",
        name="Acme renewal",
        amount="1234.50",
        currency="USD",
        stage="Negotiation",
        status="OPEN",
        created_at="2026-01-10T09:30:00Z",
    )
    return replace(base, **changes)


def invalid_field(given: OpportunityInput) -> str | None:
    result = prepare_rows([given])
    if not result.rejected:
        return None
    assert result.rejected[0].code == "INVALID"
    assert result.rejected[0].status is RowStatus.REJECTED
    return result.rejected[0].field


# --- amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", "0"),
        ("1234.50", "1234.50"),  # trailing zeros kept: the CRM's own text
        ("  1234.5 ", "1234.5"),
        ("1,234.50", "1234.50"),
        ("1,234,567", "1234567"),
        ("+12", "12"),
        (".5", "0.5"),
        ("12.", "12"),
        ("-0", "0"),
        ("0.123456", "0.123456"),
        ("1.1234560000", "1.123456"),  # zeros past the sixth place dropped, exactly
        ("999999999999999.999999", "999999999999999.999999"),  # the largest
        ("0.1", "0.1"),  # never 0.1000000000000000055511151231257827 (a float)
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("19.99"), "19.99"),
    ],
)
def test_amounts_that_are_accepted(raw: Decimal | str, expected: str) -> None:
    amount = parse_amount(raw)
    assert isinstance(amount, Decimal)
    assert str(amount) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-1", "negative"),
        (Decimal("-0.01"), "negative"),
        ("1e3", "plain decimal"),
        ("NaN", "plain decimal"),
        ("Infinity", "plain decimal"),
        (Decimal("NaN"), "finite"),
        (Decimal("Infinity"), "finite"),
        (Decimal("sNaN"), "finite"),
        ("$1,234.50", "plain decimal"),
        ("1 234,50", "plain decimal"),
        ("1.234,50", "plain decimal"),  # the European way is ambiguous: not guessed
        ("1,23", "plain decimal"),
        ("12,34,567", "plain decimal"),
        ("1234,567.00", "plain decimal"),
        ("1_000", "plain decimal"),
        ("0x10", "plain decimal"),
        ("١٢٣", "plain decimal"),  # Arabic-Indic digits: ASCII only
        ("1" * 41, "plain decimal"),
        ("1000000000000000", "less than"),  # 10^15
        (Decimal("1E+15"), "less than"),
        (Decimal("1E+999999"), "less than"),
        ("0.1234567", "decimal places"),
        (Decimal("1E-7"), "decimal places"),
        (1234.5, "never a float"),
    ],
)
def test_amounts_that_are_rejected(raw: Any, why: str) -> None:
    with pytest.raises(opps.RowProblem) as caught:
        parse_amount(raw)
    assert caught.value.field == "amount"
    assert why in caught.value.message


# --- currencies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [("USD", "USD"), ("eur", "EUR"), (" jpy ", "JPY"), ("CHF", "CHF"), ("BHD", "BHD")],
)
def test_currencies_that_are_accepted(raw: str, code: str) -> None:
    assert parse_currency(raw) == code


@pytest.mark.parametrize(
    "raw",
    ["", "US", "USDX", "US$", "$", "ABC", "XXX", "XTS", "XAU", "ＵＳＤ", "€"],  # noqa: RUF001
)
def test_currencies_that_are_rejected(raw: str) -> None:
    with pytest.raises(opps.RowProblem) as caught:
        parse_currency(raw)
    assert caught.value.field == "currency"


# --- status, times, text ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "closed_at", "field_"),
    [
        ("OPEN", None, None),
        ("open", None, None),
        (OpportunityStatus.OPEN, "", None),  # blank is no close
        ("WON", "2026-01-20", None),
        ("Lost", "2026-01-20T10:00:00+01:00", None),
        (OpportunityStatus.WON, datetime(2026, 1, 20), None),
        (OpportunityStatus.LOST, date(2026, 1, 20), None),
        ("WON", None, "closedAt"),  # closed needs a close time
        ("LOST", "  ", "closedAt"),
        ("OPEN", "2026-03-31", "closedAt"),  # open has none
        ("WON", "2026-01-09", "closedAt"),  # before creation
        ("WON", "2026-01-10T09:29:59Z", "closedAt"),
        ("CLOSED", None, "status"),
        ("", None, "status"),
        ("Closed Won", "2026-01-20", "status"),  # stage names are mapped by the importer
    ],
)
def test_status_and_close_time(
    status: OpportunityStatus | str, closed_at: Any, field_: str | None
) -> None:
    assert invalid_field(row(status=status, closed_at=closed_at)) == field_


def test_a_plain_close_date_on_the_day_of_creation_is_not_before_it() -> None:
    upsert = to_upsert(row(status="WON", closed_at="2026-01-10"))
    assert upsert.closed_at == T0  # closed at its creation, the earliest consistent time
    upsert = to_upsert(row(status="WON", closed_at="2026-01-11"))
    assert upsert.closed_at == datetime(2026, 1, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-10T09:30:00Z", T0),
        ("2026-01-10T09:30:00.000+0000", T0),  # Salesforce Data Loader
        ("2026-01-10 09:30", T0),  # HubSpot; naive is UTC
        ("2026-01-10T10:30:00+01:00", T0),
        (datetime(2026, 1, 10, 9, 30), T0),
        (datetime(2026, 1, 10, 4, 30, tzinfo=timezone(timedelta(hours=-5))), T0),
        ("2026-01-10", datetime(2026, 1, 10, tzinfo=UTC)),
        (date(2026, 1, 10), datetime(2026, 1, 10, tzinfo=UTC)),
    ],
)
def test_times_are_utc(raw: Any, expected: datetime) -> None:
    upsert = to_upsert(row(created_at=raw))
    assert upsert.created_at == expected
    assert upsert.created_at.tzinfo is UTC


@pytest.mark.parametrize(
    "raw", ["", "1/10/2026", "10.01.2026", "yesterday", "2026-13-01", "1899-12-31", "3000-01-01"]
)
def test_times_that_are_rejected(raw: str) -> None:
    assert invalid_field(row(created_at=raw)) == "createdAt"


@pytest.mark.parametrize(
    ("changes", "field_"),
    [
        ({"crm_id": " "}, "crmId"),
        ({"crm_id": "x" * 201}, "crmId"),
        ({"account_crm_id": ""}, "accountCrmId"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": "bad\x00name"}, "name"),
        ({"stage": ""}, "stage"),
        ({"stage": "s" * 101}, "stage"),
        ({"stage": "Closed\nWon"}, "stage"),
        ({"name": "n" * 200, "stage": "s" * 100, "crm_id": "c" * 200}, None),
        ({"name": "Ünïcødé 名前"}, None),
    ],
)
def test_text_fields_are_bounded(changes: dict[str, str], field_: str | None) -> None:
    assert invalid_field(row(**changes)) == field_


def test_a_valid_row_becomes_a_trimmed_upsert_with_a_new_id() -> None:
    upsert = to_upsert(
        row(crm_id=" 006A ", name=" Acme ", stage=" Proposal ", currency="usd", amount="1,000")
    )
    assert (upsert.crm_id, upsert.name, upsert.stage, upsert.currency) == (
        "006A",
        "Acme",
        "Proposal",
        "USD",
    )
    assert upsert.amount == Decimal("1000")
    assert upsert.status is OpportunityStatus.OPEN
    assert upsert.closed_at is None
    assert len(upsert.new_id) == 26
    assert to_upsert(row()).new_id != upsert.new_id


def test_a_batch_keeps_row_order_and_rejects_repeated_crm_ids() -> None:
    batch = prepare_rows(
        [row(), row(amount="-1"), row(crm_id=" 006A"), row(crm_id="006B")], first_index=10
    )
    assert [u.crm_id for u in batch.upserts] == ["006A", "006B"]
    assert batch.indexes == [10, 13]
    assert [(r.index, r.code, r.field) for r in batch.rejected] == [
        (11, "INVALID", "amount"),
        (12, "DUPLICATE", "crmId"),
    ]


# --- permissions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.ADMIN, Permission.MANAGE_PIPELINE, True),
        (Role.PARTNER_MANAGER, Permission.MANAGE_PIPELINE, True),
        (Role.SALES_REP, Permission.MANAGE_PIPELINE, False),
        (Role.READ_ONLY, Permission.MANAGE_PIPELINE, False),
        (Role.ADMIN, Permission.REGISTER_DEALS, True),
        (Role.PARTNER_MANAGER, Permission.REGISTER_DEALS, True),
        (Role.SALES_REP, Permission.REGISTER_DEALS, True),
        (Role.READ_ONLY, Permission.REGISTER_DEALS, False),
        (Role.ADMIN, Permission.REVIEW_DEALS, True),
        (Role.PARTNER_MANAGER, Permission.REVIEW_DEALS, True),
        (Role.SALES_REP, Permission.REVIEW_DEALS, False),
        (Role.READ_ONLY, Permission.REVIEW_DEALS, False),
    ],
)
def test_deal_permissions(role: Role, permission: Permission, allowed: bool) -> None:
    assert permission in WRITE_PERMISSIONS
    assert actor(role).can(permission) is allowed
    assert actor(role, TokenScope.READ).can(permission) is False  # read tokens never write


# --- the write path over a stand-in store ----------------------------------------------


def actor(role: Role = Role.ADMIN, scope: TokenScope = TokenScope.READ_WRITE) -> Actor:
    return Actor("user-1", "vendor", role, "token-1", TokenKind.SESSION, scope)


@dataclass
class FakeStore:
    """Just enough of the store for the service: opportunities by crm id, accounts by
    crm id, registrations by opportunity, and a record of the settle calls."""

    accounts: set[str] = field(default_factory=lambda: {"001A", "001B"})
    opportunities: dict[str, Opportunity] = field(default_factory=dict)  # by crm id
    registrations: list[DealRegistration] = field(default_factory=list)
    settle_calls: list[list[str]] = field(default_factory=list)

    async def upsert_opportunities(
        self, acting_org: str, rows: Sequence[OpportunityUpsert], *, at: datetime
    ) -> list[OpportunityWrite]:
        writes = []
        for r in rows:
            if r.account_crm_id not in self.accounts:
                writes.append(OpportunityWrite(r.crm_id, None, created=False))
                continue
            old = self.opportunities.get(r.crm_id)
            self.opportunities[r.crm_id] = Opportunity(
                id=old.id if old else r.new_id,
                org_id=acting_org,
                crm_id=r.crm_id,
                account_id=f"acc-{r.account_crm_id}",
                name=r.name,
                amount=r.amount,
                currency=r.currency,
                stage=r.stage,
                status=r.status,
                created_at=r.created_at,
                closed_at=r.closed_at,
                updated_at=at,
            )
            writes.append(
                OpportunityWrite(
                    r.crm_id,
                    self.opportunities[r.crm_id].id,
                    created=old is None,
                    previous_status=old.status if old else None,
                )
            )
        return writes

    async def get_opportunities(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, Opportunity]:
        return {
            o.id: o for o in self.opportunities.values() if o.id in ids and o.org_id == acting_org
        }

    async def close_opportunity(
        self,
        acting_org: str,
        opportunity_id: str,
        *,
        status: OpportunityStatus,
        closed_at: datetime,
        at: datetime,
    ) -> Opportunity | None:
        for crm_id, o in self.opportunities.items():
            if o.id == opportunity_id and o.status is OpportunityStatus.OPEN:
                self.opportunities[crm_id] = replace(
                    o, status=status, closed_at=closed_at, updated_at=at
                )
                return self.opportunities[crm_id]
        return None

    async def settle_registrations(
        self,
        *,
        opportunity_ids: Sequence[str] | None,
        outcomes: Mapping[OpportunityStatus, Mapping[DealStatus, DealStatus]],
        at: datetime,
        limit: int,
    ) -> list[DealRegistration]:
        assert opportunity_ids is not None
        self.settle_calls.append(list(opportunity_ids))
        status_of = {o.id: o.status for o in self.opportunities.values()}
        moved = []
        for i, reg in enumerate(self.registrations):
            outcome = outcomes.get(status_of.get(reg.opportunity_id or "", OpportunityStatus.OPEN))
            if reg.opportunity_id in opportunity_ids and outcome and reg.status in outcome:
                self.registrations[i] = replace(reg, status=outcome[reg.status], updated_at=at)
                moved.append(self.registrations[i])
                if len(moved) == limit:
                    break
        return moved


@dataclass
class FakeIdentity:
    entries: list[AuditEntry] = field(default_factory=list)

    async def append_audit(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def registration(opportunity_id: str, status: DealStatus, n: int = 0) -> DealRegistration:
    from tests.unit.test_deal_rules import registration as make

    return replace(make(status), id=f"deal-{n}", opportunity_id=opportunity_id)


def stores(store: FakeStore, identity: FakeIdentity) -> tuple[GraphStore, IdentityStore]:
    return cast(GraphStore, store), cast(IdentityStore, identity)


async def test_upsert_writes_rows_and_rejects_unknown_accounts() -> None:
    store, identity = FakeStore(), FakeIdentity()
    outcome = await upsert_opportunities(
        *stores(store, identity),
        actor(),
        [row(), row(crm_id="006B", account_crm_id="001Z"), row(crm_id="006C", amount="x")],
        now=at(1),
    )
    assert [(r.index, r.status, r.code, r.field) for r in outcome.results] == [
        (0, RowStatus.CREATED, None, None),
        (1, RowStatus.REJECTED, "UNKNOWN_ACCOUNT", "accountCrmId"),
        (2, RowStatus.REJECTED, "INVALID", "amount"),
    ]
    assert outcome.results[0].opportunity_id == store.opportunities["006A"].id
    assert store.opportunities["006A"].amount == Decimal("1234.50")
    assert outcome.settled == []
    assert store.settle_calls == []  # nothing closed, nothing to settle
    assert [e.action for e in identity.entries] == ["opportunities.upsert"]
    assert identity.entries[0].details == {"rows": "3", "written": "1", "settled": "0"}


async def test_closing_through_an_upsert_settles_the_registrations_on_it() -> None:
    store, identity = FakeStore(), FakeIdentity()
    graph, ids = stores(store, identity)
    await upsert_opportunities(graph, ids, actor(), [row(), row(crm_id="006B")], now=at(1))
    won, other = store.opportunities["006A"].id, store.opportunities["006B"].id
    store.registrations = [
        registration(won, DealStatus.APPROVED, 1),
        registration(won, DealStatus.PENDING_REVIEW, 2),
        registration(won, DealStatus.WITHDRAWN, 3),
        registration(other, DealStatus.APPROVED, 4),
    ]
    outcome = await upsert_opportunities(
        graph,
        ids,
        actor(),
        [row(status="WON", closed_at="2026-01-20"), row(crm_id="006B")],
        now=at(2),
    )
    assert [r.status for r in outcome.results] == [RowStatus.UPDATED, RowStatus.UPDATED]
    assert store.settle_calls == [[won]]
    assert [(r.id, r.status) for r in outcome.settled] == [
        ("deal-1", DealStatus.WON),
        ("deal-2", DealStatus.REJECTED),
    ]
    # a second write of the same closed row settles nothing: it was not OPEN before
    again = await upsert_opportunities(
        graph, ids, actor(), [row(status="WON", closed_at="2026-01-20")], now=at(3)
    )
    assert again.settled == []
    assert store.settle_calls == [[won]]


async def test_settling_goes_on_until_every_registration_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(opps, "SETTLE_BATCH", 2)
    store, identity = FakeStore(), FakeIdentity()
    graph, ids = stores(store, identity)
    await upsert_opportunities(graph, ids, actor(), [row()], now=at(1))
    won = store.opportunities["006A"].id
    store.registrations = [registration(won, DealStatus.APPROVED, n) for n in range(5)]
    outcome = await upsert_opportunities(
        graph, ids, actor(), [row(status="LOST", closed_at="2026-02-01")], now=at(2)
    )
    assert len(outcome.settled) == 5
    assert {r.status for r in outcome.settled} == {DealStatus.LOST}
    assert len(store.settle_calls) == 3  # 2 + 2 + 1


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.READ_ONLY])
async def test_only_pipeline_managers_write_opportunities(role: Role) -> None:
    graph, ids = stores(FakeStore(), FakeIdentity())
    with pytest.raises(Forbidden):
        await upsert_opportunities(graph, ids, actor(role), [row()], now=at(1))
    with pytest.raises(Forbidden):
        await close_opportunity(
            graph, ids, actor(role), "x", OpportunityStatus.WON, None, now=at(1)
        )


async def test_too_many_rows_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opps, "MAX_ROWS_PER_CALL", 2)
    graph, ids = stores(FakeStore(), FakeIdentity())
    with pytest.raises(BadInput):
        await upsert_opportunities(graph, ids, actor(), [row()] * 3, now=at(1))


async def test_close_opportunity_settles_and_audits() -> None:
    store, identity = FakeStore(), FakeIdentity()
    graph, ids = stores(store, identity)
    await upsert_opportunities(graph, ids, actor(), [row()], now=at(1))
    opp_id = store.opportunities["006A"].id
    store.registrations = [registration(opp_id, DealStatus.APPROVED, 1)]
    closed, settled = await close_opportunity(
        graph, ids, actor(), opp_id, OpportunityStatus.WON, None, now=LATER
    )
    assert (closed.status, closed.closed_at) == (OpportunityStatus.WON, LATER)
    assert [(r.id, r.status) for r in settled] == [("deal-1", DealStatus.WON)]
    assert identity.entries[-1].action == "opportunities.close"
    assert identity.entries[-1].target_id == opp_id
    # closing again is a conflict, not a second settlement
    with pytest.raises(Conflict):
        await close_opportunity(
            graph, ids, actor(), opp_id, OpportunityStatus.LOST, None, now=LATER
        )


async def test_close_opportunity_refuses_what_it_cannot_do() -> None:
    store, identity = FakeStore(), FakeIdentity()
    graph, ids = stores(store, identity)
    await upsert_opportunities(graph, ids, actor(), [row()], now=at(1))
    opp_id = store.opportunities["006A"].id
    with pytest.raises(NotFound):
        await close_opportunity(graph, ids, actor(), "nope", OpportunityStatus.WON, None, now=LATER)
    other_org = replace(actor(), org_id="someone-else")
    with pytest.raises(NotFound):
        await close_opportunity(
            graph, ids, other_org, opp_id, OpportunityStatus.WON, None, now=LATER
        )
    with pytest.raises(BadInput) as caught:
        await close_opportunity(
            graph, ids, actor(), opp_id, OpportunityStatus.OPEN, None, now=LATER
        )
    assert caught.value.field == "status"
    with pytest.raises(BadInput) as caught:
        await close_opportunity(
            graph, ids, actor(), opp_id, OpportunityStatus.WON, T0 - timedelta(seconds=1), now=LATER
        )
    assert caught.value.field == "closedAt"
    assert store.opportunities["006A"].status is OpportunityStatus.OPEN
    assert CLOSE_OUTCOMES  # the service settles with the rules' table
