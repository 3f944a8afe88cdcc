"""The one time rule (resolvers/timestamps.py): ISO 8601 in, aware UTC out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from graph.errors import BadInput
from resolvers.timestamps import TimestampError, as_utc, in_range, parse_timestamp

NOON = datetime(2026, 3, 21, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Reading a naive time as local time would shift it by 14 hours here.
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-21T12:00:00", NOON),  # no offset: UTC
        ("2026-03-21", datetime(2026, 3, 21, tzinfo=UTC)),  # a bare date: 00:00 UTC
        ("20260321", datetime(2026, 3, 21, tzinfo=UTC)),
        ("2026-03-21T12:00:00Z", NOON),
        ("2026-03-21T12:00:00+00:00", NOON),
        ("2026-03-21T12:00:00-00:00", NOON),
        ("2026-03-21T14:00:00+02:00", NOON),
        ("2026-03-21T07:00:00.000-0500", NOON),  # Salesforce Data Loader
        ("2026-03-21 12:00", NOON),  # HubSpot
        ("2026-03-21T12", NOON),
        ("  2026-03-21T12:00:00Z\n", NOON),  # blanks around it, as in a CSV cell
        ("2026-03-21T12:00:00.123456789Z", NOON.replace(microsecond=123456)),
        ("2026-03-22T01:59:59+14:00", NOON - timedelta(seconds=1)),  # a day boundary
        ("0001-01-01", datetime(1, 1, 1, tzinfo=UTC)),  # representable: range is later
        ("9999-12-31T23:59:59", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_parse_gives_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC
    assert parsed.isoformat().endswith("+00:00")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "garbage",
        "2026-13-01",
        "2026-02-30",
        "2026-03-21T24:00:00",
        "2026-03-21T12:00:60",
        "21/03/2026",
        "2026-03",
        "0000-01-01",
        "10000-01-01",
        "2026-03-21T12:00:00+24:00",
        "2026-03-21T12:00:00[Europe/Paris]",
        "\N{FULLWIDTH DIGIT TWO}026-03-21",  # not ASCII digits
        "2026-03-21" + "0" * 41,
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
    ],
)
def test_parse_rejects_what_is_not_a_utc_time(text: str) -> None:
    with pytest.raises(TimestampError) as caught:
        parse_timestamp(text)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith("is ")  # reads after a field name


def test_as_utc_takes_naive_as_utc_and_converts_the_rest() -> None:
    assert as_utc(datetime(2026, 3, 21, 12)) == NOON
    assert as_utc(datetime(2026, 3, 21, 12)).tzinfo is UTC
    east = datetime(2026, 3, 21, 13, tzinfo=timezone(timedelta(hours=1)))
    assert as_utc(east) == NOON
    assert as_utc(east).tzinfo is UTC
    with pytest.raises(TimestampError):
        as_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        (datetime(1900, 1, 1, tzinfo=UTC), True),
        (datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC), True),
        (datetime(1899, 12, 31, 23, 59, 59, tzinfo=UTC), False),
        (datetime(3000, 1, 1, tzinfo=UTC), False),
        (datetime(1900, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), False),  # 1899 UTC
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), False),  # no UTC time
        (datetime(2026, 3, 21, 12), True),  # naive: UTC
    ],
)
def test_in_range_names_the_field(value: datetime, inside: bool) -> None:
    if inside:
        assert in_range(value, "at") == as_utc(value)
        assert in_range(value, "at").tzinfo is UTC
        return
    with pytest.raises(BadInput) as caught:
        in_range(value, "at")
    assert caught.value.field == "at"
    assert caught.value.message == "at is outside the years 1900 to 2999"
