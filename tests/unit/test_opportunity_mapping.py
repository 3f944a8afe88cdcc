"""Opportunity column presets: Salesforce, HubSpot and tandem's own, status derivation,
dates, currencies and the options of `tandem import opportunities`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from graph.deals import OpportunityStatus
from graph.errors import BadInput
from resolvers.accounts import RowStatus
from resolvers.deals.opportunities import prepare_rows, to_upsert
from resolvers.importing.opportunity_mapping import PRESETS, bind, with_options

SF_HEADER = [
    "Id",
    "AccountId",
    "Name",
    "Amount",
    "CurrencyIsoCode",
    "StageName",
    "IsClosed",
    "IsWon",
    "CreatedDate",
    "CloseDate",
]
HS_HEADER = [
    "Record ID",
    "Deal Name",
    "Deal Stage",
    "Amount",
    "Create Date",
    "Close Date",
    "Associated Company IDs",
]


def salesforce(
    stage: str = "Prospecting",
    is_closed: str = "false",
    is_won: str = "false",
    amount: str = "1,250.00",
    close: str = "2026-03-31",
) -> list[str]:
    return [
        "0061",
        "0011",
        "Acme expansion",
        amount,
        "EUR",
        stage,
        is_closed,
        is_won,
        "2026-01-10T09:30:00.000+0000",
        close,
    ]


def test_salesforce_open_row() -> None:
    got = bind(PRESETS["salesforce"], SF_HEADER).row(salesforce())
    assert (got.crm_id, got.account_crm_id, got.name, got.currency, got.stage) == (
        "0061",
        "0011",
        "Acme expansion",
        "EUR",
        "Prospecting",
    )
    assert got.status == "OPEN"
    assert got.closed_at is None  # CloseDate of an open deal is its expected close
    upsert = to_upsert(got)
    assert upsert.amount == Decimal("1250.00")
    assert upsert.created_at == datetime(2026, 1, 10, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stage", "is_closed", "is_won", "status"),
    [
        ("Prospecting", "false", "false", "OPEN"),
        ("Closed Won", "true", "true", "WON"),
        ("Closed Lost", "true", "false", "LOST"),
        ("Signed", "true", "true", "WON"),  # a custom closed stage: the flags decide
        ("Dead", "TRUE", "FALSE", "LOST"),
        ("Closed Won", "", "", "WON"),  # no flags: the stage decides
        ("closed   lost", "", "", "LOST"),
        ("Negotiation", "", "", "OPEN"),
        ("Closed Won", "false", "false", "OPEN"),  # the flags win over the stage name
        ("Whatever", "maybe", "false", "maybe"),  # not a yes/no: rejected downstream
    ],
)
def test_salesforce_status(stage: str, is_closed: str, is_won: str, status: str) -> None:
    got = bind(PRESETS["salesforce"], SF_HEADER).row(salesforce(stage, is_closed, is_won))
    assert got.status == status
    assert (got.closed_at is None) is (status == "OPEN")
    rejected = prepare_rows([got]).rejected
    assert [r.field for r in rejected] == ([] if status in ("OPEN", "WON", "LOST") else ["status"])


def test_salesforce_report_labels_bind_too() -> None:
    header = [
        "Opportunity ID",
        "Account ID",
        "Opportunity Name",
        "Amount",
        "Opportunity Currency",
        "Stage",
        "Created Date",
        "Close Date",
    ]
    bound = bind(PRESETS["salesforce"], header)
    got = bound.row(["0062", "0012", "Deal", "10", "USD", "Closed Won", "2026-01-01", "2026-01-02"])
    assert (got.crm_id, got.account_crm_id, got.status, got.closed_at) == (
        "0062",
        "0012",
        "WON",
        "2026-01-02",
    )


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("Appointment Scheduled", "OPEN"),
        ("Closed Won", "WON"),
        ("closedwon", "WON"),
        ("Closed Lost", "LOST"),
        ("closedlost", "LOST"),
    ],
)
def test_hubspot_status_from_the_deal_stage(stage: str, status: str) -> None:
    columns = with_options(PRESETS["hubspot"], default_currency="usd")
    got = bind(columns, HS_HEADER).row(
        ["9001", "Big deal", stage, "5000", "2026-01-10 09:30", "2026-02-01 00:00", "42;43"]
    )
    assert got.status == status
    assert got.account_crm_id == "42"  # the primary of the associated companies
    assert got.currency == "USD"
    upsert = to_upsert(got)
    assert upsert.status is OpportunityStatus(status)


def test_hubspot_needs_a_currency_from_somewhere() -> None:
    with pytest.raises(BadInput) as caught:
        bind(PRESETS["hubspot"], HS_HEADER)
    assert "currency" in caught.value.message
    assert "--currency" in caught.value.message
    got = bind(PRESETS["hubspot"], [*HS_HEADER, "Currency"]).row(
        ["1", "D", "Closed Won", "1", "2026-01-01", "2026-01-02", "42", "GBP"]
    )
    assert got.currency == "GBP"


def test_a_currency_cell_beats_the_default_and_a_blank_cell_takes_it() -> None:
    bound = bind(with_options(PRESETS["salesforce"], default_currency="CHF"), SF_HEADER)
    assert bound.row(salesforce()).currency == "EUR"
    blank = salesforce()
    blank[4] = ""
    assert bound.row(blank).currency == "CHF"


def test_tandem_preset_round_trip() -> None:
    header = [
        "crm_id",
        "account_crm_id",
        "name",
        "amount",
        "currency",
        "stage",
        "status",
        "created_at",
        "closed_at",
    ]
    bound = bind(PRESETS["tandem"], header)
    rows = [
        ["o1", "a1", "One", "10.50", "usd", "Proposal", "open", "2026-01-01", ""],
        ["o2", "a1", "Two", "0", "JPY", "", "WON", "2026-01-01", "2026-01-05"],
        ["o3", "a9", "Three", "-5", "USD", "x", "OPEN", "2026-01-01", ""],
    ]
    batch = prepare_rows([bound.row(r) for r in rows])
    assert [u.crm_id for u in batch.upserts] == ["o1", "o2"]
    assert batch.upserts[1].stage == "Won"  # no stage given: the status names it
    assert batch.upserts[1].closed_at == datetime(2026, 1, 5, tzinfo=UTC)
    assert [(r.index, r.status, r.field) for r in batch.rejected] == [
        (2, RowStatus.REJECTED, "amount")
    ]


@pytest.mark.parametrize(
    ("formats", "cell", "expected"),
    [
        (("%m/%d/%Y",), "1/15/2026", datetime(2026, 1, 15)),
        (("%d.%m.%Y %H:%M",), "15.01.2026 09:30", datetime(2026, 1, 15, 9, 30)),
        (("%m/%d/%Y",), "2026-01-15", "2026-01-15"),  # no match: ISO is tried downstream
        ((), "1/15/2026", "1/15/2026"),
    ],
)
def test_date_formats(formats: tuple[str, ...], cell: str, expected: object) -> None:
    columns = with_options(PRESETS["tandem"], date_formats=formats)
    header = ["crm_id", "account_crm_id", "name", "amount", "currency", "created_at"]
    got = bind(columns, header).row(["o", "a", "n", "1", "USD", cell])
    assert got.created_at == expected


def test_map_overrides_and_missing_columns() -> None:
    columns = with_options(PRESETS["tandem"], ["amount=Deal Value, Amount", "crm_id=Ref"])
    assert columns.amount == ("Deal Value", "Amount")
    assert columns.crm_id == ("Ref",)
    with pytest.raises(BadInput) as caught:
        bind(columns, ["crm_id", "name", "currency"])
    for target in ("crm_id", "account_crm_id", "amount", "created_at"):
        assert target in caught.value.message
    for bad in ("nope=X", "amount", "amount= , "):
        with pytest.raises(BadInput):
            with_options(PRESETS["tandem"], [bad])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"default_currency": "EURO"}, "--currency"),
        ({"default_currency": "XXX"}, "--currency"),
        ({"blank_amount": "-1"}, "--blank-amount"),
        ({"blank_amount": "zero"}, "--blank-amount"),
    ],
)
def test_options_are_checked_before_any_row(options: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput) as caught:
        with_options(PRESETS["tandem"], **options)
    assert caught.value.message.startswith(message)


def test_blank_amounts_are_rejected_unless_an_amount_is_given_for_them() -> None:
    blank = salesforce(amount="")
    rejected = prepare_rows([bind(PRESETS["salesforce"], SF_HEADER).row(blank)])
    assert [r.field for r in rejected.rejected] == ["amount"]
    columns = with_options(PRESETS["salesforce"], blank_amount="0")
    accepted = prepare_rows([bind(columns, SF_HEADER).row(blank)])
    assert accepted.upserts[0].amount == Decimal(0)
