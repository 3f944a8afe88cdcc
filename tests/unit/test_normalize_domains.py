"""Domains as keys: what people paste, down to one canonical registrable domain."""

from __future__ import annotations

import time

import pytest

from graph.model import KeyKind
from privacy.normalize import KeyRejected, normalize_domain, registrable_domain
from privacy.normalize.freemail import free_mail_list, parse_free_mail

ACCEPTED = [
    # bare, case, trailing dot, white space
    ("acme.com", "acme.com"),
    ("ACME.COM", "acme.com"),
    ("WwW.Acme.Com", "acme.com"),
    ("acme.com.", "acme.com"),
    ("  www.acme.com\t\n", "acme.com"),
    # URLs: any scheme, user-info, port, path, query, fragment
    ("https://acme.com", "acme.com"),
    ("http://www.acme.com/", "acme.com"),
    ("HTTPS://WWW.ACME.COM:443/a/b?c=d#e", "acme.com"),
    ("https://user:secret@shop.acme.com:8443/cart?x=1#top", "acme.com"),
    ("ftp://files.acme.com/pub", "acme.com"),
    ("git+ssh://git@code.acme.com:22/repo.git", "acme.com"),
    ("//cdn.acme.com/lib.js", "acme.com"),
    ("www.acme.com/about-us", "acme.com"),
    ("www.acme.com?utm_source=x", "acme.com"),
    ("www.acme.com#contact", "acme.com"),
    ("acme.com:8080", "acme.com"),
    ("https://acme.com\\@evil.test/", "acme.com"),
    ("https://medium.com/@someone", "medium.com"),
    ("https://acme.com./", "acme.com"),
    # e-mail addresses
    ("jane.doe@acme.com", "acme.com"),
    ("Jane.Doe+crm@Sales.Example.CO.UK", "example.co.uk"),
    ("mailto:jane@acme.org", "acme.org"),
    ('"odd@local"@acme.net', "acme.net"),
    ("Jane Doe <jane@acme.com>", "acme.com"),
    ("<https://www.acme.com/>", "acme.com"),
    # multi-level public suffixes
    ("www.example.co.uk", "example.co.uk"),
    ("www.co.uk", "www.co.uk"),  # "www" is just a name registered under co.uk
    ("shop.acme.com.au", "acme.com.au"),
    ("a.b.example.co.jp", "example.co.jp"),
    ("example.k12.ak.us", "example.k12.ak.us"),
    # private-section suffixes: the site on the platform is the key, not the platform
    ("acme.github.io", "acme.github.io"),
    ("https://docs.acme.github.io/guide", "acme.github.io"),
    ("acme.blogspot.com", "acme.blogspot.com"),
    ("github.com", "github.com"),
    # unicode and punycode spell the same name
    ("bücher.example.de", "example.de"),
    ("bücher.de", "xn--bcher-kva.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("XN--BCHER-KVA.DE", "xn--bcher-kva.de"),
    ("BÜCHER.DE", "xn--bcher-kva.de"),
    ("https://www.bücher.de/", "xn--bcher-kva.de"),
    ("ｂüｃｈｅｒ．ｄｅ", "xn--bcher-kva.de"),  # noqa: RUF001 - full-width on purpose
    ("bücher。de", "xn--bcher-kva.de"),  # ideographic full stop
    ("食狮.公司.cn", "xn--85x722f.xn--55qx5d.cn"),
    ("www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"),
    ("münchen.de", "xn--mnchen-3ya.de"),
    # non-transitional: ß stays ß, so faß.de and fass.de are different names
    ("faß.de", "xn--fa-hia.de"),
    ("fass.de", "fass.de"),
    # invisible characters UTS #46 ignores, as browsers do
    ("ac\u00adme.com", "acme.com"),
    # unlisted TLD: the PSL default rule
    ("www.acme.unlistedtld", "acme.unlistedtld"),
    # free-mail providers' look-alikes are not free-mail
    ("gmail.co", "gmail.co"),
    ("notgmail.com", "notgmail.com"),
    ("gmail.com.acme.org", "acme.org"),
    ("www.example.com.au", "example.com.au"),
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_accepted(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_idempotent_on_accepted(raw: str, expected: str) -> None:
    assert normalize_domain(normalize_domain(raw)) == normalize_domain(raw)


EMPTY = "empty"
INVALID = "not a valid domain name (invalid characters)"
CONTROL = "contains NUL or other control characters"
BIDI = "contains right-to-left or other direction override characters"
IP = "an IP address, not a domain name"
LABEL = "a label is longer than 63 characters"
NAME = "longer than 253 characters"
SUFFIX = "a public suffix (like co.uk or github.io), not a company's domain"
FREE = "free-mail or generic domain, not a company key"
RESERVED = "a reserved or local-only name, not a public domain"
EMPTY_LABEL = "empty label (two dots in a row, or a leading dot)"
TOO_LONG = "too long (more than 2048 characters)"
NO_HOST = "no host name found"

REJECTED = [
    ("", EMPTY),
    ("   ", EMPTY),
    ("\t\n", EMPTY),
    ("\u3000", EMPTY),
    ("https://", NO_HOST),
    ("jane@", NO_HOST),
    ("mailto:", NO_HOST),
    ("Jane Doe <>", NO_HOST),
    # IP addresses, however written
    ("127.0.0.1", IP),
    ("http://10.0.0.1:8080/admin", IP),
    ("user@192.168.1.1", IP),
    ("127.1", IP),
    ("0x7f.0.0.1", IP),
    ("2130706433", IP),
    ("::1", IP),
    ("[::1]", IP),
    ("[2001:db8::1]:443", IP),
    ("http://[2001:db8::1]/", IP),
    ("2001:db8::1", IP),
    ("fe80::1%eth0", IP),
    ("１２７．０．０．１", IP),  # noqa: RUF001 - full-width on purpose
    ("example.123", IP),
    # lengths
    ("a" * 64 + ".com", LABEL),
    ("a" * 300 + ".com", LABEL),
    ("ü" * 60 + ".com", LABEL),  # 60 characters, but over 63 octets as an A-label
    (".".join(["a" * 60] * 5) + ".com", NAME),
    ("x" * 2049, TOO_LONG),
    # structure
    (".example.com", EMPTY_LABEL),
    ("example..com", EMPTY_LABEL),
    ("example.com..", EMPTY_LABEL),
    (".", EMPTY_LABEL),
    # characters
    ("exa mple.com", INVALID),
    ("under_score.example.com", INVALID),
    ("-leading.example.com", INVALID),
    ("xn--invalid-punycode-.com", INVALID),
    ("xn--a.com", INVALID),
    ("example.com:abc", INVALID),
    ("'; DROP TABLE accounts; --", INVALID),
    ("example.com'; DROP TABLE accounts; --", INVALID),
    ("}) DETACH DELETE n //", INVALID),
    ("x}) MATCH (n) DETACH DELETE n", INVALID),
    ("<script>alert(1)</script>.com", INVALID),
    ("${jndi:ldap://x}", INVALID),
    ("example.com\x00", CONTROL),
    ("exa\x00mple.com", CONTROL),
    ("\x00", CONTROL),
    ("example\x07.com", CONTROL),
    ("example\x7f.com", CONTROL),
    ("\u202eexample.com", BIDI),
    ("moc.elpmaxe\u202e", BIDI),
    ("exa\u2067mple.com", BIDI),
    ("exa\u200fmple.com", BIDI),
    # public suffixes alone
    ("com", SUFFIX),
    ("co.uk", SUFFIX),
    ("https://co.uk/", SUFFIX),
    ("com.au", SUFFIX),
    ("github.io", SUFFIX),
    ("blogspot.com", SUFFIX),
    ("xn--55qx5d.cn", SUFFIX),
    ("公司.cn", SUFFIX),
    ("unlistedtld", SUFFIX),
    # local-only and reserved
    ("localhost", RESERVED),
    ("http://localhost:3000", RESERVED),
    ("printer.local", RESERVED),
    ("acme.internal", RESERVED),
    ("example.test", RESERVED),
    ("abc.onion", RESERVED),
    ("1.0.168.192.in-addr.arpa", RESERVED),
    # free-mail and generic
    ("gmail.com", FREE),
    ("Jane.Doe@GMail.com", FREE),
    ("jane@googlemail.com", FREE),
    ("outlook.com", FREE),
    ("hotmail.com", FREE),
    ("hotmail.co.uk", FREE),
    ("hotmail.fr", FREE),
    ("live.com", FREE),
    ("yahoo.com", FREE),
    ("yahoo.co.jp", FREE),
    ("mail.yahoo.com", FREE),
    ("icloud.com", FREE),
    ("me.com", FREE),
    ("aol.com", FREE),
    ("proton.me", FREE),
    ("protonmail.com", FREE),
    ("gmx.de", FREE),
    ("gmx.net", FREE),
    ("web.de", FREE),
    ("mail.ru", FREE),
    ("yandex.ru", FREE),
    ("yandex.com.tr", FREE),
    ("qq.com", FREE),
    ("163.com", FREE),
    ("https://mail.google.com@gmail.com/", FREE),
    ("example.com", FREE),
    ("www.example.org", FREE),
]


@pytest.mark.parametrize(("raw", "reason"), REJECTED)
def test_rejected(raw: str, reason: str) -> None:
    with pytest.raises(KeyRejected) as caught:
        normalize_domain(raw)
    assert caught.value.kind is KeyKind.DOMAIN
    assert caught.value.reason == reason


def test_homoglyphs_do_not_collide_with_their_ascii_look_alikes() -> None:
    cyrillic_a = "\u0430pple.com"
    assert normalize_domain(cyrillic_a) == "xn--pple-43d.com"
    assert normalize_domain(cyrillic_a) != normalize_domain("apple.com")
    # Greek omicrons in "google", a Cyrillic "o" in "microsoft": both distinct keys
    assert normalize_domain("g\u03bf\u03bfgle.com") != "google.com"
    assert normalize_domain("micros\u043eft.com") != "microsoft.com"
    # a homoglyph of a free-mail domain is not free-mail, but it is not gmail.com either
    assert normalize_domain("gm\u0430il.com") != "gmail.com"


def test_a_100k_character_input_is_rejected_fast() -> None:
    for huge in ("a" * 100_000, "ü" * 100_000, "a." * 50_000 + "com", "\x00" * 100_000):
        started = time.perf_counter()
        with pytest.raises(KeyRejected):
            normalize_domain(huge)
        assert time.perf_counter() - started < 0.05


def test_long_non_ascii_labels_are_measured_without_quadratic_encoding() -> None:
    started = time.perf_counter()
    with pytest.raises(KeyRejected):
        normalize_domain("ü" * 2000 + ".de")
    assert time.perf_counter() - started < 0.05


def test_a_label_of_exactly_63_octets_and_a_name_of_253_are_accepted() -> None:
    label = "a" * 63
    assert normalize_domain(f"{label}.com") == f"{label}.com"
    name = ".".join(["b" * 63] * 3 + ["c" * 57]) + ".com"
    assert len(name) == 253
    assert normalize_domain(name) == "c" * 57 + ".com"


def test_the_reason_never_echoes_the_raw_key() -> None:
    secret = "secret-prospect.example.co.uk\x00"
    with pytest.raises(KeyRejected) as caught:
        normalize_domain(secret)
    assert "secret-prospect" not in str(caught.value)
    assert "secret-prospect" not in repr(caught.value)


def test_free_mail_list_has_about_a_hundred_registrable_entries() -> None:
    listed = free_mail_list()
    assert 100 <= len(listed.domains) + len(listed.names) <= 200
    for domain in listed.domains:
        # every entry is its own registrable domain, in canonical form, or it never matches
        assert registrable_domain(domain) == domain, domain
    for name in listed.names:
        assert registrable_domain(f"{name}.com") == f"{name}.com", name


def test_free_mail_wildcards_match_under_any_public_suffix_only() -> None:
    listed = parse_free_mail(["# comment", "", "gmail.com", "hotmail.*"])
    assert "gmail.com" in listed
    assert "hotmail.co.uk" in listed
    assert "gmail.co.uk" not in listed
    assert "nothotmail.com" not in listed
