"""Keyed hashing and re-wrapping, without any store."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from graph.model import KeyKind
from privacy.keyring import Keyring, KeyringError, parse_secrets

S1, S2, S3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def test_hash_is_hmac_sha256_of_kind_and_canonical_under_a_derived_key() -> None:
    ring = Keyring.from_secrets({1: S1})
    derived = hmac.new(S1, b"tandem/account-keys", hashlib.sha256).digest()
    expected = hmac.new(derived, b"DOMAIN:acme.com", hashlib.sha256).hexdigest()
    assert ring.hash(KeyKind.DOMAIN, "acme.com", 1) == expected


def test_kinds_are_separated() -> None:
    ring = Keyring.from_secrets({1: S1})
    assert ring.hash(KeyKind.DOMAIN, "123456789", 1) != ring.hash(KeyKind.DUNS, "123456789", 1)


def test_different_secrets_give_unrelated_hashes() -> None:
    a = Keyring.from_secrets({1: S1}).hash(KeyKind.DOMAIN, "acme.com", 1)
    b = Keyring.from_secrets({1: S2}).hash(KeyKind.DOMAIN, "acme.com", 1)
    assert a != b


def test_rewrap_equals_hashing_fresh_at_the_new_version() -> None:
    ring = Keyring.from_secrets({1: S1, 2: S2, 3: S3})
    h1 = ring.hash(KeyKind.NAME, "acme", 1)
    h2 = ring.rewrap(h1, 2)
    assert h2 == ring.hash(KeyKind.NAME, "acme", 2)
    assert ring.rewrap(h2, 3) == ring.hash(KeyKind.NAME, "acme", 3)
    assert len({h1, h2, ring.rewrap(h2, 3)}) == 3


def test_versions_must_be_present_and_contiguous() -> None:
    with pytest.raises(KeyringError, match="without gaps"):
        Keyring.from_secrets({1: S1, 3: S3})
    ring = Keyring.from_secrets({1: S1})
    with pytest.raises(KeyringError, match="no key version 2"):
        ring.hash(KeyKind.DOMAIN, "acme.com", 2)
    with pytest.raises(KeyringError):
        ring.rewrap("00" * 32, 1)


@pytest.mark.parametrize(
    ("text", "versions"),
    [
        ("ab" * 32, [1]),
        (f"1:{'ab' * 32}\n2:{'cd' * 32}\n", [1, 2]),
        (f"1:{'ab' * 32},2:{'cd' * 32}", [1, 2]),
    ],
)
def test_parse_secrets(text: str, versions: list[int]) -> None:
    assert sorted(parse_secrets(text)) == versions


@pytest.mark.parametrize("text", ["zz", "1:zz", "x:abcd", f"1:{'ab' * 32}\n1:{'cd' * 32}"])
def test_bad_secrets_are_rejected(text: str) -> None:
    with pytest.raises(KeyringError):
        parse_secrets(text)
