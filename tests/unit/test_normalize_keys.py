"""The dispatcher: raw keys of an account to its distinct canonical keys."""

from __future__ import annotations

import pickle

import pytest

from graph.model import KeyKind
from privacy.normalize import KeyRejected, canonical_keys, normalize_key


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (KeyKind.DOMAIN, "https://www.Acme.co.uk/about", "acme.co.uk"),
        (KeyKind.DUNS, "15-048-3782", "150483782"),
        (KeyKind.NAME, "The Acme Company, Inc.", "acme"),
    ],
)
def test_normalize_key_dispatches_on_kind(kind: KeyKind, raw: str, expected: str) -> None:
    assert normalize_key(kind, raw) == expected


def test_every_kind_has_a_normalizer() -> None:
    for kind in KeyKind:
        with pytest.raises(KeyRejected) as caught:
            normalize_key(kind, "")
        assert caught.value.kind is kind


def test_canonical_keys_are_distinct_and_in_a_stable_order() -> None:
    keys, rejected = canonical_keys(
        ["https://beta.io", "www.acme.com", "ACME.com", "jane@acme.com", "beta.io."],
        ["150483782", "15-048-3782", "123456789"],
        ["Acme Inc", "ACME", "Acme Widgets"],
        names_enabled=True,
    )
    assert keys == [
        (KeyKind.DOMAIN, "beta.io"),
        (KeyKind.DOMAIN, "acme.com"),
        (KeyKind.DUNS, "150483782"),
        (KeyKind.DUNS, "123456789"),
        (KeyKind.NAME, "acme"),
        (KeyKind.NAME, "acme widgets"),
    ]
    assert rejected == []


def test_canonical_keys_collects_rejections_and_keeps_going() -> None:
    keys, rejected = canonical_keys(
        ["gmail.com", "acme.com", "co.uk"],
        ["12345"],
        ["Inc.", "Acme"],
        names_enabled=True,
    )
    assert keys == [(KeyKind.DOMAIN, "acme.com"), (KeyKind.NAME, "acme")]
    assert [(r.kind, r.reason) for r in rejected] == [
        (KeyKind.DOMAIN, "free-mail or generic domain, not a company key"),
        (KeyKind.DOMAIN, "a public suffix (like co.uk or github.io), not a company's domain"),
        (KeyKind.DUNS, "must be exactly 9 digits"),
        (KeyKind.NAME, "nothing left after removing legal forms and punctuation"),
    ]


def test_names_disabled_are_neither_keys_nor_rejections() -> None:
    keys, rejected = canonical_keys(["acme.com"], [], ["Acme", "Inc."], names_enabled=False)
    assert keys == [(KeyKind.DOMAIN, "acme.com")]
    assert rejected == []


def test_canonical_keys_accepts_any_iterable() -> None:
    keys, _ = canonical_keys((d for d in ["acme.com"]), iter(()), {"Acme"}, names_enabled=True)
    assert keys == [(KeyKind.DOMAIN, "acme.com"), (KeyKind.NAME, "acme")]


def test_key_rejected_is_a_value_error_that_survives_pickling() -> None:
    rejection = KeyRejected(KeyKind.DUNS, "must be exactly 9 digits")
    assert isinstance(rejection, ValueError)
    assert str(rejection) == "duns rejected: must be exactly 9 digits"
    copy = pickle.loads(pickle.dumps(rejection))  # noqa: S301 - our own object
    assert (copy.kind, copy.reason) == (rejection.kind, rejection.reason)
