"""D-U-N-S numbers: nine ASCII digits, whatever the separators."""

from __future__ import annotations

import pytest

from graph.model import KeyKind
from privacy.normalize import KeyRejected, normalize_duns

ACCEPTED = [
    ("150483782", "150483782"),
    ("15-048-3782", "150483782"),
    ("15.048.3782", "150483782"),
    ("15 048 3782", "150483782"),
    ("  150483782  ", "150483782"),
    ("15\u2013048\u20133782", "150483782"),  # en dashes from a spreadsheet
    ("15\u00a0048\u00a03782", "150483782"),  # no-break spaces
    ("15-048 3782.", "150483782"),
    ("012345678", "012345678"),  # a leading zero is significant
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_accepted(raw: str, expected: str) -> None:
    assert normalize_duns(raw) == expected
    assert normalize_duns(normalize_duns(raw)) == expected


NINE = "must be exactly 9 digits"
ASCII = "must use the digits 0-9 only"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        (" \t", "empty"),
        ("15048378", NINE),
        ("1504837821", NINE),
        ("DUNS 150483782", NINE),
        ("15048378x", NINE),
        ("15/048/3782", NINE),
        ("15_048_3782", NINE),
        ("+150483782", NINE),
        ("1.5e8", NINE),
        ("150483782'; DROP TABLE accounts; --", NINE),
        ("150483782}) DETACH DELETE n", NINE),
        ("\uff11\uff15\uff10\uff14\uff18\uff13\uff17\uff18\uff12", ASCII),  # full-width
        ("\u0661\u0665\u0660\u0664\u0668\u0663\u0667\u0668\u0662", ASCII),  # Arabic-Indic
        ("15048378\u0662", ASCII),
        ("150483782\x00", "contains NUL or other control characters"),
        ("\u202e150483782", "contains right-to-left or other direction override characters"),
        ("0" * 9, "a placeholder (one digit repeated), not a real number"),
        ("999-999-999", "a placeholder (one digit repeated), not a real number"),
        ("1" * 65, "too long (more than 64 characters)"),
        ("1" * 100_000, "too long (more than 64 characters)"),
    ],
)
def test_rejected(raw: str, reason: str) -> None:
    with pytest.raises(KeyRejected) as caught:
        normalize_duns(raw)
    assert caught.value.kind is KeyKind.DUNS
    assert caught.value.reason == reason
