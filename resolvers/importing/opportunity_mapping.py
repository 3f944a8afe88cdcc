"""Which CSV column feeds which opportunity field, for common CRM exports.

Headers match as for accounts (case-insensitively, trimmed, candidates in order of
preference; `--map TARGET=COLUMN[,COLUMN...]` overrides a preset). Cells are passed on as
text and validated by `resolvers.deals.opportunities`, so every problem becomes a
rejected row with a reason, never a failed import. The status comes from the first of:

1. a status column (OPEN, WON, LOST, or a value the preset translates);
2. closed/won flags (Salesforce `IsClosed`/`IsWon`, HubSpot "Is Closed Won");
3. the stage name ("Closed Won", "closedlost", ...); any other stage is OPEN.

A close date on an OPEN row is dropped: CRMs use that column for the expected close.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from graph.deals import OpportunityStatus
from graph.errors import BadInput
from resolvers.deals.opportunities import (
    OpportunityInput,
    RowProblem,
    parse_amount,
    parse_currency,
)
from resolvers.importing.mapping import _fold

TARGETS = (
    "crm_id",
    "account_crm_id",
    "name",
    "amount",
    "currency",
    "stage",
    "status",
    "is_closed",
    "is_won",
    "created_at",
    "closed_at",
)
REQUIRED = ("crm_id", "account_crm_id", "name", "amount", "created_at")

_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})

OPEN, WON, LOST = OpportunityStatus.OPEN, OpportunityStatus.WON, OpportunityStatus.LOST
STAGE_STATUS: Mapping[str, OpportunityStatus] = {
    "closed won": WON,
    "closed - won": WON,
    "won": WON,
    "closedwon": WON,  # HubSpot's internal stage ids
    "closed lost": LOST,
    "closed - lost": LOST,
    "lost": LOST,
    "closedlost": LOST,
}


@dataclass(frozen=True, slots=True)
class OpportunityColumns:
    crm_id: tuple[str, ...]
    account_crm_id: tuple[str, ...]
    name: tuple[str, ...]
    amount: tuple[str, ...]
    created_at: tuple[str, ...]
    currency: tuple[str, ...] = ()
    stage: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    is_closed: tuple[str, ...] = ()
    is_won: tuple[str, ...] = ()
    closed_at: tuple[str, ...] = ()
    # Stage names (casefolded) that say the deal closed; other stages are OPEN.
    stage_status: Mapping[str, OpportunityStatus] = field(default_factory=lambda: STAGE_STATUS)
    # For exports without a currency column, or rows with the cell blank.
    default_currency: str | None = None
    # The amount of a row whose amount cell is blank (None: such rows are rejected).
    blank_amount: str | None = None
    # strptime formats tried before ISO 8601, for locale-formatted report exports.
    date_formats: tuple[str, ...] = ()


PRESETS: dict[str, OpportunityColumns] = {
    "tandem": OpportunityColumns(
        crm_id=("crm_id",),
        account_crm_id=("account_crm_id",),
        name=("name",),
        amount=("amount",),
        currency=("currency",),
        stage=("stage",),
        status=("status",),
        created_at=("created_at",),
        closed_at=("closed_at",),
    ),
    "salesforce": OpportunityColumns(
        # API names (Data Loader, Bulk API) first, then report labels.
        crm_id=("Id", "Opportunity ID", "Opportunity Id"),
        account_crm_id=("AccountId", "Account ID", "Account Id"),
        name=("Name", "Opportunity Name"),
        amount=("Amount",),
        currency=("CurrencyIsoCode", "Opportunity Currency", "Currency"),
        stage=("StageName", "Stage"),
        is_closed=("IsClosed", "Closed"),
        is_won=("IsWon", "Won"),
        created_at=("CreatedDate", "Created Date"),
        closed_at=("CloseDate", "Close Date"),
    ),
    "hubspot": OpportunityColumns(
        crm_id=("Record ID", "Deal ID", "hs_object_id"),
        account_crm_id=(
            "Associated Company IDs",
            "Associated Company ID",
            "Associated Company",
            "associatedcompanyid",
        ),
        name=("Deal Name", "dealname"),
        amount=("Amount", "amount"),
        currency=("Currency", "Deal Currency Code", "deal_currency_code"),
        stage=("Deal Stage", "dealstage"),
        is_won=("Is Closed Won", "hs_is_closed_won"),
        is_closed=("Is Deal Closed?", "Is Closed", "hs_is_closed"),
        created_at=("Create Date", "createdate"),
        closed_at=("Close Date", "closedate"),
    ),
}


def with_options(
    base: OpportunityColumns,
    overrides: Sequence[str] = (),
    *,
    default_currency: str | None = None,
    blank_amount: str | None = None,
    date_formats: Sequence[str] = (),
) -> OpportunityColumns:
    """Apply `TARGET=COLUMN[,COLUMN...]` overrides and the CLI's options to a preset."""
    changes: dict[str, tuple[str, ...]] = {}
    for item in overrides:
        target, sep, columns = item.partition("=")
        target = target.strip().lower()
        if not sep or target not in TARGETS:
            raise BadInput(f"--map {item!r}: use TARGET=COLUMN with TARGET in {', '.join(TARGETS)}")
        names = tuple(c.strip() for c in columns.split(",") if c.strip())
        if not names:
            raise BadInput(f"--map {item!r} names no column")
        changes[target] = names
    mapped = replace(base, **changes)  # type: ignore[arg-type]
    try:
        if default_currency is not None:
            default_currency = parse_currency(default_currency)
        if blank_amount is not None:
            blank_amount = str(parse_amount(blank_amount))
    except RowProblem as problem:
        option = "--currency" if problem.field == "currency" else "--blank-amount"
        raise BadInput(f"{option}: {problem.message}") from None
    return replace(
        mapped,
        default_currency=default_currency or mapped.default_currency,
        blank_amount=blank_amount if blank_amount is not None else mapped.blank_amount,
        date_formats=tuple(date_formats) or mapped.date_formats,
    )


@dataclass(frozen=True, slots=True)
class BoundOpportunityMap:
    """OpportunityColumns resolved against one file's header row."""

    columns: OpportunityColumns
    positions: Mapping[str, tuple[int, ...]]

    def row(self, values: Sequence[str]) -> OpportunityInput:
        width = len(values)

        def first(target: str) -> str:
            for position in self.positions[target]:
                if position < width and (value := values[position].strip()):
                    return value
            return ""

        stage = first("stage")
        status = self._status(first("status"), first("is_closed"), first("is_won"), stage)
        closed_at = first("closed_at") if status != OPEN.value else ""
        amount = first("amount")
        if not amount and self.columns.blank_amount is not None:
            amount = self.columns.blank_amount
        return OpportunityInput(
            crm_id=first("crm_id"),
            # HubSpot lists every associated company: the first is the primary one.
            account_crm_id=first("account_crm_id").split(";")[0].strip(),
            name=first("name"),
            amount=amount,
            currency=first("currency") or (self.columns.default_currency or ""),
            stage=stage or status.title(),
            status=status,
            created_at=self._time(first("created_at")),
            closed_at=self._time(closed_at) if closed_at else None,
        )

    def _status(self, status: str, is_closed: str, is_won: str, stage: str) -> str:
        if status:
            return status
        closed, won = _flag(is_closed), _flag(is_won)
        for raw, flag in ((is_closed, closed), (is_won, won)):
            if raw and flag is None:
                return raw  # neither yes nor no: rejected downstream, with the reason
        if won:
            return WON.value
        if closed is False:
            return OPEN.value
        by_stage = self.columns.stage_status.get(" ".join(stage.casefold().split()))
        if closed:
            if won is False:
                return LOST.value
            return by_stage.value if by_stage else "CLOSED (neither won nor lost)"
        return by_stage.value if by_stage else OPEN.value

    def _time(self, text: str) -> datetime | str:
        """The cell read with the first --date-format that fits, else the text as it is;
        either way `parse_time` then applies the one time rule (resolvers/timestamps.py),
        so a date-only format means 00:00 UTC, as a bare ISO date does."""
        for fmt in self.columns.date_formats:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        return text


def bind(columns: OpportunityColumns, header: Sequence[str]) -> BoundOpportunityMap:
    index = {_fold(h): i for i, h in enumerate(header)}

    def found(target: str) -> tuple[int, ...]:
        headers: tuple[str, ...] = getattr(columns, target)
        return tuple(index[_fold(h)] for h in headers if _fold(h) in index)

    positions = {t: found(t) for t in TARGETS}
    missing = [t for t in REQUIRED if not positions[t]]
    if not positions["currency"] and not columns.default_currency:
        missing.append("currency")
    if missing:
        wanted = "; ".join(f"{t}: one of {list(getattr(columns, t))}" for t in missing)
        hint = " (or --currency)" if "currency" in missing else ""
        raise BadInput(f"the file has no column for {wanted} (use --map{hint})")
    return BoundOpportunityMap(columns, positions)


def _flag(text: str) -> bool | None:
    folded = text.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None
