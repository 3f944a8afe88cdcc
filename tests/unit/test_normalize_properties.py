"""Properties of every normalizer: idempotent on what it accepts, KeyRejected otherwise."""

from __future__ import annotations

from collections.abc import Callable

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.model import KeyKind
from privacy.normalize import (
    KeyRejected,
    normalize_domain,
    normalize_duns,
    normalize_key,
    normalize_name,
)

# deadline off: the first call loads the suffix list; speed has its own tests.
PROPERTY = settings(max_examples=80, deadline=None, database=None)

LDH_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?", fullmatch=True)
UNICODE_LABEL = st.text(
    alphabet=st.characters(categories=["Ll", "Lu", "Lo", "Nd"], max_codepoint=0x3FFFF),
    min_size=1,
    max_size=12,
)
SUFFIXES = st.sampled_from(
    [
        "com",
        "de",
        "io",
        "co.uk",
        "com.au",
        "ac.jp",
        "k12.ak.us",
        "github.io",
        "blogspot.com",
        "xn--55qx5d.cn",
        "公司.cn",
        "中国",
        "unlistedtld",
    ]
)
HOSTS = st.builds(
    lambda labels, suffix: ".".join([*labels, suffix]),
    st.lists(st.one_of(LDH_LABEL, UNICODE_LABEL), min_size=1, max_size=4),
    SUFFIXES,
)
# Ways the same host arrives in a CRM export.
SPELLINGS: list[Callable[[str], str]] = [
    # ASCII only: str.upper() turns "ß" into "SS", a different name under IDNA 2008.
    lambda h: "".join(c.upper() if c.isascii() else c for c in h),
    lambda h: f"{h}.",
    lambda h: f"  {h}\t",
    lambda h: f"https://{h}/",
    lambda h: f"HTTP://user:pw@{h}:8080/a/b?c=d#e",
    lambda h: f"jane.doe@{h}",
    lambda h: f"mailto:jane@{h}",
    lambda h: f"//{h}/path",
]
DOMAINISH = st.text(
    alphabet=st.sampled_from([*"abcxyz019.-_:/@[]%?#\\ ", "ü", "ß", "\u0430", "。", "\x00"]),
    max_size=40,
)


def _accepted_or_rejected(normalize: Callable[[str], str], raw: str) -> str | None:
    try:
        return normalize(raw)
    except KeyRejected:
        return None


@PROPERTY
@given(HOSTS, st.sampled_from(SPELLINGS))
def test_domain_is_idempotent_and_the_same_however_spelled(
    host: str, spell: Callable[[str], str]
) -> None:
    canonical = _accepted_or_rejected(normalize_domain, host)
    if canonical is None:
        return
    assert canonical.isascii()
    assert canonical == canonical.lower()
    assert not canonical.endswith(".")
    assert normalize_domain(canonical) == canonical
    assert normalize_domain(spell(host)) == canonical


@PROPERTY
@given(st.lists(LDH_LABEL, min_size=1, max_size=3), SUFFIXES)
def test_plain_ascii_hosts_under_a_known_suffix_keep_whole_labels(
    labels: list[str], suffix: str
) -> None:
    # Labels with "--" in positions 3-4 are reserved for IDNA encodings (RFC 5891).
    if any(label[2:4] == "--" for label in labels):
        return
    ascii_suffix = idna.encode(suffix, uts46=True).decode("ascii")
    ascii_host = ".".join([*labels, ascii_suffix])
    canonical = _accepted_or_rejected(normalize_domain, ascii_host)
    if canonical is None:
        with pytest.raises(KeyRejected) as caught:
            normalize_domain(ascii_host)
        # a generated label can complete a longer suffix: "ltd" + "co.uk" is one
        assert caught.value.reason in {
            "free-mail or generic domain, not a company key",
            "an IP address, not a domain name",
            "a public suffix (like co.uk or github.io), not a company's domain",
        }
        return
    assert f".{ascii_host}".endswith(f".{canonical}")
    assert canonical.count(".") > ascii_suffix.count(".")


@PROPERTY
@given(st.one_of(st.text(max_size=60), DOMAINISH))
def test_domain_on_arbitrary_text_is_rejected_or_idempotent(raw: str) -> None:
    canonical = _accepted_or_rejected(normalize_domain, raw)
    if canonical is not None:
        assert normalize_domain(canonical) == canonical


@PROPERTY
@given(
    st.from_regex(r"[0-9]{9}", fullmatch=True),
    st.lists(st.sampled_from(["", " ", "-", ".", "\u2013", "\u00a0"]), min_size=10, max_size=10),
)
def test_duns_with_any_separators_is_its_digits(digits: str, separators: list[str]) -> None:
    raw = "".join(sep + digit for sep, digit in zip(separators, digits + " ", strict=False))
    canonical = _accepted_or_rejected(normalize_duns, raw)
    if len(set(digits)) == 1:
        assert canonical is None
    else:
        assert canonical == digits
        assert normalize_duns(canonical) == canonical


@PROPERTY
@given(st.text(max_size=30))
def test_duns_on_arbitrary_text_is_rejected_or_idempotent(raw: str) -> None:
    canonical = _accepted_or_rejected(normalize_duns, raw)
    if canonical is not None:
        assert normalize_duns(canonical) == canonical


COMPANY_WORDS = st.sampled_from(
    ["The", "Acme", "Widgets", "&", "Co.", "Inc.", "GmbH", "S.A.", "Ltd", "Müller", "AG", "-", "®"]
)


@PROPERTY
@given(st.one_of(st.text(max_size=60), st.lists(COMPANY_WORDS, max_size=6).map(" ".join)))
def test_name_on_arbitrary_text_is_rejected_or_idempotent(raw: str) -> None:
    canonical = _accepted_or_rejected(normalize_name, raw)
    if canonical is not None:
        assert len(canonical) >= 2
        assert canonical == " ".join(canonical.split())
        assert normalize_name(canonical) == canonical


@pytest.mark.parametrize("kind", list(KeyKind))
@PROPERTY
@given(raw=st.text(max_size=80))
def test_nothing_but_key_rejected_is_ever_raised(kind: KeyKind, raw: str) -> None:
    _accepted_or_rejected(lambda text: normalize_key(kind, text), raw)
