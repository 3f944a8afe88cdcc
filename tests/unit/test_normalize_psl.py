"""The registrable-domain function against the Public Suffix List's own test vectors."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import idna
import pytest
from publicsuffixlist import PSLFILE, PublicSuffixList

from privacy.normalize import psl as psl_module
from privacy.normalize import registrable_domain

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).resolve().parent / "vectors" / "test_psl.txt"
# CI checks the repository out next to a copy of shared/, as in development.
SHARED_VECTORS = REPO_ROOT.parent / "shared" / "vectors" / "test_psl.txt"

_CHECK = re.compile(r"checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);")


def _value(token: str) -> str | None:
    return None if token == "null" else token.strip("'")


def _vectors() -> list[tuple[str | None, str | None]]:
    cases = []
    live_lines = 0
    for line in VECTORS.read_text(encoding="utf-8").splitlines():
        if line.startswith("//"):
            continue  # the PSL comments out the cases it does not want checked
        if "checkPublicSuffix" in line:
            live_lines += 1
            match = _CHECK.fullmatch(line.strip())
            assert match, f"unparsed vector line: {line!r}"
            cases.append((_value(match[1]), _value(match[2])))
    assert len(cases) == live_lines
    return cases


VECTOR_CASES = _vectors()


def _a_labels(domain: str) -> str:
    return idna.encode(domain, uts46=True, transitional=False).decode("ascii")


def test_every_vector_line_is_parsed() -> None:
    assert len(VECTOR_CASES) == 78


@pytest.mark.parametrize(("host", "expected"), VECTOR_CASES, ids=repr)
def test_psl_vector(host: str | None, expected: str | None) -> None:
    # Our API takes text; the PSL's null input is the empty string here.
    result = registrable_domain(host if host is not None else "")
    # The vectors answer in the input's script; ours is always A-labels.
    assert result == (_a_labels(expected) if expected is not None else None)


def test_the_repo_copy_of_the_vectors_matches_shared() -> None:
    if not SHARED_VECTORS.exists():
        pytest.skip(f"no shared vectors at {SHARED_VECTORS}")
    assert VECTORS.read_bytes() == SHARED_VECTORS.read_bytes()


def test_psl_idn_rules_have_the_a_labels_we_look_up() -> None:
    # publicsuffixlist indexes IDN rules by Python's IDNA 2003 codec; we look hosts up by
    # UTS #46 A-labels. If a future snapshot has a rule where the two differ, lookups
    # for it would silently miss.
    differ = []
    for line in Path(PSLFILE).read_text(encoding="utf-8").splitlines():
        rule = line.split(" ")[0].strip().lstrip("!")
        if not rule or rule.startswith("//") or rule.isascii():
            continue
        ours = ".".join(label if label == "*" else _a_labels(label) for label in rule.split("."))
        if ours != rule.encode("idna").decode("ascii"):
            differ.append(rule)
    assert differ == []


def test_the_suffix_list_loads_from_the_bundled_snapshot_without_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Public Suffix List must not be fetched at run time")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    psl_module._suffix_list.cache_clear()
    try:
        assert registrable_domain("www.example.co.uk") == "example.co.uk"
        assert isinstance(psl_module._suffix_list(), PublicSuffixList)
    finally:
        psl_module._suffix_list.cache_clear()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.example.co.uk", "example.co.uk"),
        ("shop.example.com.au", "example.com.au"),
        ("a.b.example.co.jp", "example.co.jp"),
        # Private-section suffixes count: a user's site, not the platform, is the owner.
        ("acme.github.io", "acme.github.io"),
        ("docs.acme.github.io", "acme.github.io"),
        ("acme.blogspot.com", "acme.blogspot.com"),
        ("github.io", None),
        ("blogspot.com", None),
        ("github.com", "github.com"),
        ("co.uk", None),
        ("com.au", None),
        # Unlisted TLD: the default "*" rule.
        ("www.acme.unlistedtld", "acme.unlistedtld"),
        ("127.0.0.1", None),
        ("", None),
        ("exa mple.com", None),
    ],
)
def test_registrable_domain(host: str, expected: str | None) -> None:
    assert registrable_domain(host) == expected
