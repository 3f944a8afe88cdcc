"""Company names: a weak key, folded so that spelling variants of one name agree."""

from __future__ import annotations

import pytest

from graph.model import KeyKind
from privacy.normalize import KeyRejected, normalize_name

ACCEPTED = [
    ("Acme", "acme"),
    ("ACME", "acme"),
    ("  Acme  ", "acme"),
    ("Acme, Inc.", "acme"),
    ("Acme Inc", "acme"),
    ("Acme LLC", "acme"),
    ("Acme Ltd.", "acme"),
    ("Acme Limited", "acme"),
    ("Acme Corp.", "acme"),
    ("Acme Corporation", "acme"),
    ("ACME GmbH", "acme"),
    ("Acme GmbH & Co. KG", "acme"),
    ("Acme AG", "acme"),
    ("Acme S.A.", "acme"),
    ("Acme B.V.", "acme"),
    ("Acme BV", "acme"),
    ("Acme Oy", "acme"),
    ("Acme Pty Ltd", "acme"),
    ("Acme A/S", "acme"),
    ("Acme Inc. Ltd.", "acme"),
    ("The Acme Company", "acme"),
    ("the acme", "acme"),
    ("THE ACME, INC.", "acme"),
    ("Acme™", "acme"),
    ("Acme®  Widgets", "acme widgets"),
    ("Ａｃｍｅ Ｗｉｄｇｅｔｓ ＬＬＣ", "acme widgets"),  # noqa: RUF001 - full-width on purpose
    ("Acme\tWidgets\nInc", "acme widgets"),
    ("Acme-Widgets", "acme widgets"),
    ("Acme/Widgets", "acme widgets"),
    ("Acme (Europe) Ltd", "acme europe"),
    ("McDonald's Corporation", "mcdonalds"),
    ("McDonald\u2019s", "mcdonalds"),
    ("Procter & Gamble Co.", "procter gamble"),
    ("Société Générale S.A.", "société générale"),
    ("STRAßE GmbH", "strasse"),
    ("Mi\u00adcro\u00adsoft", "microsoft"),  # soft hyphens are invisible
    ("Theatre Royal Ltd", "theatre royal"),  # "the" only as a word
    ("3M", "3m"),
    ("株式会社トヨタ", "株式会社トヨタ"),
    ("'; DROP TABLE accounts; --", "drop table accounts"),
    ("}) DETACH DELETE n //", "detach delete n"),
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_accepted(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_idempotent_on_accepted(raw: str, expected: str) -> None:
    assert normalize_name(expected) == expected


NOTHING = "nothing left after removing legal forms and punctuation"
SHORT = "shorter than 2 characters"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Inc.", NOTHING),
        ("LLC", NOTHING),
        ("GmbH & Co. KG", NOTHING),
        ("...", NOTHING),
        ("!!!", NOTHING),
        ("™", NOTHING),
        ("X", SHORT),
        ("X Ltd", SHORT),
        ("The X Inc", SHORT),
        ("Acme\x00", "contains NUL or other control characters"),
        ("\u202eemcA", "contains right-to-left or other direction override characters"),
        ("A" * 513, "too long (more than 512 characters)"),
        ("A" * 100_000, "too long (more than 512 characters)"),
    ],
)
def test_rejected(raw: str, reason: str) -> None:
    with pytest.raises(KeyRejected) as caught:
        normalize_name(raw)
    assert caught.value.kind is KeyKind.NAME
    assert caught.value.reason == reason
