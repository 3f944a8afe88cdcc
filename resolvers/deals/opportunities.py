"""Opportunities: validate rows, write them, and settle the registrations of the ones that
closed. Shared by the GraphQL mutations and the CSV importer.

As with accounts, one bad row never fails the others: it comes back REJECTED with a code
(INVALID, DUPLICATE or UNKNOWN_ACCOUNT), the field and a reason; the rest are written.

Money: an amount is a finite, non-negative Decimal below 10^15 with at most 6 decimal
places (trailing zeros past the sixth are dropped, nothing else is rounded), given as a
Decimal or as text; text is never read through a float. Text may group thousands with
commas in the English way ("1,234.50"); any other separator, a currency sign or an
exponent is rejected rather than guessed at. Currencies are ISO 4217 alphabetic codes
(the `iso4217` package's table), in any case; codes that are not money (XAU, XXX, XTS
and the like, which have no minor unit) are rejected.

Times follow the one rule of resolvers/timestamps.py (naive is UTC, a bare date is 00:00
UTC), within its years. A close at 00:00 UTC on the day the opportunity was created,
which is what a bare close date means, counts as closed at its creation, so a same-day
win given by date is not "closed before created".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from iso4217 import Currency

from graph.deals import (
    DealRegistration,
    Opportunity,
    OpportunityStatus,
    OpportunityUpsert,
)
from graph.errors import BadInput, Conflict, NotFound
from graph.identity import IdentityStore
from graph.port import GraphStore
from resolvers import audit
from resolvers.accounts import RowStatus
from resolvers.actor import Actor, Permission
from resolvers.deals.rules import CLOSE_OUTCOMES
from resolvers.ids import new_id
from resolvers.timestamps import TimestampError, in_range, parse_timestamp

MAX_ROWS_PER_CALL = 5_000
MAX_TEXT = 200  # crm ids and names
MAX_STAGE = 100
MAX_AMOUNT = Decimal(10) ** 15  # exclusive: 15 integer digits, 21 digits in all
MAX_SCALE = 6
MAX_AMOUNT_TEXT = 40
SETTLE_BATCH = 1_000

_AMOUNT_TEXT = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?|[+-]?\.\d+", re.ASCII)
_CLOSED = (OpportunityStatus.WON, OpportunityStatus.LOST)


@dataclass(frozen=True, slots=True)
class OpportunityInput:
    """One row as given. Text fields are trimmed; `amount`, `status` and the times may
    be text (from a file) or typed (from the API); both are validated the same way."""

    crm_id: str
    account_crm_id: str
    name: str
    amount: Decimal | str
    currency: str
    stage: str
    status: OpportunityStatus | str
    created_at: datetime | date | str
    closed_at: datetime | date | str | None = None


@dataclass(frozen=True, slots=True)
class OpportunityRowResult:
    index: int
    crm_id: str
    status: RowStatus
    opportunity_id: str | None = None
    code: str | None = None
    field: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class OpportunityWriteOutcome:
    """Per-row results in row order, and the registrations that moved because their
    opportunity closed in this write (new state; the caller publishes their events)."""

    results: list[OpportunityRowResult]
    settled: list[DealRegistration]


@dataclass(frozen=True, slots=True)
class PreparedOpportunities:
    upserts: list[OpportunityUpsert]
    indexes: list[int]  # the row index of each upsert
    rejected: list[OpportunityRowResult]


class RowProblem(Exception):
    """A row (or option) that cannot be used: which field, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- the services -----------------------------------------------------------------------


async def upsert_opportunities(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    rows: Sequence[OpportunityInput],
    *,
    now: datetime,
) -> OpportunityWriteOutcome:
    actor.require(Permission.MANAGE_PIPELINE)
    if len(rows) > MAX_ROWS_PER_CALL:
        raise BadInput(
            f"at most {MAX_ROWS_PER_CALL} rows per call; "
            "use `tandem import opportunities` for files",
            field="rows",
        )
    outcome = await write_rows(graph, actor.org_id, rows, now=now)
    written = sum(1 for r in outcome.results if r.status is not RowStatus.REJECTED)
    await audit.record(
        identity,
        actor,
        "opportunities.upsert",
        now=now,
        rows=str(len(rows)),
        written=str(written),
        settled=str(len(outcome.settled)),
    )
    return outcome


async def close_opportunity(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    opportunity_id: str,
    status: OpportunityStatus,
    closed_at: datetime | None,
    *,
    now: datetime,
) -> tuple[Opportunity, list[DealRegistration]]:
    """Close an OPEN opportunity of the actor's org WON or LOST (at `closed_at`, or now)
    and settle the registrations on it. NotFound when it is not the org's; Conflict when
    it is not OPEN (also when another request closed it first)."""
    actor.require(Permission.MANAGE_PIPELINE)
    if status not in _CLOSED:
        raise BadInput("an opportunity closes WON or LOST", field="status")
    found = (await graph.get_opportunities(actor.org_id, [opportunity_id])).get(opportunity_id)
    if found is None:
        raise NotFound("no such opportunity", field="id")
    when = in_range(closed_at, "closedAt") if closed_at is not None else now
    if when < found.created_at:
        raise BadInput("the close must not be before the opportunity's creation", field="closedAt")
    closed = None
    if found.status is OpportunityStatus.OPEN:
        closed = await graph.close_opportunity(
            actor.org_id, opportunity_id, status=status, closed_at=when, at=now
        )
    if closed is None:
        raise Conflict("the opportunity is not open", field="id")
    settled = await settle(graph, [closed.id], now=now)
    await audit.record(
        identity,
        actor,
        "opportunities.close",
        now=now,
        target_type="Opportunity",
        target_id=closed.id,
        status=status.value,
        settled=str(len(settled)),
    )
    return closed, settled


async def write_rows(
    graph: GraphStore,
    org_id: str,
    rows: Sequence[OpportunityInput],
    *,
    now: datetime,
    first_index: int = 0,
) -> OpportunityWriteOutcome:
    """Validate and write one batch for `org_id`, then settle what closed (no permission
    check: the callers check). Results in row order, indexed from `first_index`."""
    return await write_prepared(graph, org_id, prepare_rows(rows, first_index), now=now)


def prepare_rows(rows: Sequence[OpportunityInput], first_index: int = 0) -> PreparedOpportunities:
    """The pure half of a write: validation, no I/O."""
    upserts: list[OpportunityUpsert] = []
    indexes: list[int] = []
    rejected: list[OpportunityRowResult] = []
    seen: set[str] = set()
    for offset, row in enumerate(rows):
        index = first_index + offset
        try:
            upsert = to_upsert(row)
        except RowProblem as invalid:
            rejected.append(_reject(index, row, "INVALID", invalid.field, invalid.message))
            continue
        if upsert.crm_id in seen:
            rejected.append(
                _reject(index, row, "DUPLICATE", "crmId", "crm id repeated in this batch")
            )
            continue
        seen.add(upsert.crm_id)
        upserts.append(upsert)
        indexes.append(index)
    return PreparedOpportunities(upserts, indexes, rejected)


async def write_prepared(
    graph: GraphStore, org_id: str, batch: PreparedOpportunities, *, now: datetime
) -> OpportunityWriteOutcome:
    results = {r.index: r for r in batch.rejected}
    closing: list[str] = []
    if batch.upserts:
        writes = await graph.upsert_opportunities(org_id, batch.upserts, at=now)
        for index, upsert, write in zip(batch.indexes, batch.upserts, writes, strict=True):
            if write.opportunity_id is None:
                results[index] = OpportunityRowResult(
                    index=index,
                    crm_id=upsert.crm_id,
                    status=RowStatus.REJECTED,
                    code="UNKNOWN_ACCOUNT",
                    field="accountCrmId",
                    message=f"no account with crm id {upsert.account_crm_id!r}",
                )
                continue
            results[index] = OpportunityRowResult(
                index=index,
                crm_id=upsert.crm_id,
                status=RowStatus.CREATED if write.created else RowStatus.UPDATED,
                opportunity_id=write.opportunity_id,
            )
            if write.previous_status is OpportunityStatus.OPEN and upsert.status in _CLOSED:
                closing.append(write.opportunity_id)
    settled = await settle(graph, closing, now=now) if closing else []
    return OpportunityWriteOutcome([results[i] for i in sorted(results)], settled)


async def settle(
    graph: GraphStore, opportunity_ids: Sequence[str] | None, *, now: datetime
) -> list[DealRegistration]:
    """Move the live registrations on these closed opportunities (None: on any closed
    opportunity, a sweep for a background task) to their outcome, in batches (each call
    moves what it returns, so the loop ends)."""
    ids = None if opportunity_ids is None else list(opportunity_ids)
    moved: list[DealRegistration] = []
    while True:
        batch = await graph.settle_registrations(
            opportunity_ids=ids,
            outcomes=CLOSE_OUTCOMES,
            at=now,
            limit=SETTLE_BATCH,
        )
        moved.extend(batch)
        if len(batch) < SETTLE_BATCH:
            return moved


# --- validation -------------------------------------------------------------------------


def to_upsert(row: OpportunityInput) -> OpportunityUpsert:
    """One row checked and made canonical; RowProblem(field, message) when it cannot be."""
    crm_id = _text(row.crm_id, "crmId", MAX_TEXT)
    account = _text(row.account_crm_id, "accountCrmId", MAX_TEXT)
    name = _text(row.name, "name", MAX_TEXT)
    stage = _text(row.stage, "stage", MAX_STAGE)
    amount = parse_amount(row.amount)
    currency = parse_currency(row.currency)
    status = parse_status(row.status)
    created_at = parse_time(row.created_at, "createdAt")
    closed_at: datetime | None = None
    if status in _CLOSED:
        if row.closed_at is None or (isinstance(row.closed_at, str) and not row.closed_at.strip()):
            raise RowProblem("closedAt", f"a {status.value} opportunity needs its close time")
        closed_at = parse_time(row.closed_at, "closedAt")
        if closed_at < created_at and closed_at == _start_of_day(created_at):
            closed_at = created_at
        if closed_at < created_at:
            raise RowProblem("closedAt", "the close must not be before the creation")
    elif row.closed_at is not None and not (
        isinstance(row.closed_at, str) and not row.closed_at.strip()
    ):
        raise RowProblem("closedAt", "an OPEN opportunity has no close time")
    return OpportunityUpsert(
        crm_id=crm_id,
        new_id=new_id(),
        account_crm_id=account,
        name=name,
        amount=amount,
        currency=currency,
        stage=stage,
        status=status,
        created_at=created_at,
        closed_at=closed_at,
    )


def parse_amount(raw: Decimal | str) -> Decimal:
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise RowProblem("amount", "amount must not be empty")
        if len(text) > MAX_AMOUNT_TEXT or not _AMOUNT_TEXT.fullmatch(text):
            raise RowProblem(
                "amount",
                "amount must be a plain decimal number such as 1234.50 or 1,234.50 "
                "(no currency sign, no exponent)",
            )
        try:
            amount = Decimal(text.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise RowProblem("amount", "amount is not a number") from None
    elif isinstance(raw, Decimal):
        amount = raw
    else:
        raise RowProblem("amount", "amount must be a Decimal or decimal text, never a float")
    if not amount.is_finite():
        raise RowProblem("amount", "amount must be a finite number")
    if amount.is_signed() and amount != 0:
        raise RowProblem("amount", "amount must not be negative")
    amount = amount.copy_abs()  # -0 is 0
    if amount != 0 and amount.adjusted() >= 15:
        raise RowProblem("amount", f"amount must be less than {MAX_AMOUNT:,}")
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent > 0:
        return amount.quantize(Decimal(1))  # 1E+3 -> 1000, exactly
    if -exponent > MAX_SCALE:
        exact = amount.quantize(Decimal(1).scaleb(-MAX_SCALE))
        if exact != amount:
            raise RowProblem("amount", f"amount must have at most {MAX_SCALE} decimal places")
        return exact
    return amount


def parse_currency(raw: str) -> str:
    code = raw.strip().upper()
    if not code:
        raise RowProblem("currency", "currency must not be empty")
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise RowProblem("currency", "currency must be an ISO 4217 code such as USD or EUR")
    try:
        currency = Currency(code)
    except ValueError:
        raise RowProblem("currency", f"{code} is not an ISO 4217 currency code") from None
    if currency.exponent is None:
        raise RowProblem("currency", f"{code} is not a currency for amounts of money")
    return code


def parse_status(raw: OpportunityStatus | str) -> OpportunityStatus:
    if isinstance(raw, OpportunityStatus):
        return raw
    try:
        return OpportunityStatus(raw.strip().upper())
    except ValueError:
        raise RowProblem("status", "status must be OPEN, WON or LOST") from None


def parse_time(raw: datetime | date | str, field: str) -> datetime:
    """A UTC datetime within the years of resolvers/timestamps.py; a date is 00:00 UTC."""
    if isinstance(raw, str):
        try:
            raw = parse_timestamp(raw)
        except TimestampError as problem:
            raise RowProblem(field, f"{field} {problem}") from None
    elif not isinstance(raw, datetime):
        raw = datetime.combine(raw, time())
    try:
        return in_range(raw, field)
    except BadInput as problem:
        raise RowProblem(field, problem.message) from None


def _start_of_day(value: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _text(raw: str, field: str, limit: int) -> str:
    value = raw.strip()
    if not value:
        raise RowProblem(field, f"{field} must not be empty")
    if len(value) > limit:
        raise RowProblem(field, f"{field} must be at most {limit} characters")
    if not value.isprintable() and any(unicodedata.category(ch) == "Cc" for ch in value):
        raise RowProblem(field, f"{field} must not contain control characters")
    return value


def _reject(
    index: int, row: OpportunityInput, code: str, field: str, message: str
) -> OpportunityRowResult:
    crm_id = row.crm_id.strip()[:MAX_TEXT] if isinstance(row.crm_id, str) else ""
    return OpportunityRowResult(
        index=index,
        crm_id=crm_id,
        status=RowStatus.REJECTED,
        code=code,
        field=field,
        message=message,
    )
