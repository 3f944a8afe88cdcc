"""Host names to their IDNA A-label form (UTS #46, non-transitional), with reasons."""

from __future__ import annotations

import re

import idna

from graph.model import KeyKind

from .errors import KeyRejected

MAX_LABEL_OCTETS = 63
MAX_NAME_OCTETS = 253


def to_ascii(host: str) -> str:
    """`host` as lowercase A-labels without a trailing dot, or KeyRejected.

    Unicode and punycode spellings of one name give one result, so either can be a key.
    Look-alikes in other scripts stay distinct: UTS #46 maps case and width, not
    confusables, so a Cyrillic U+0430 keeps its own A-label apart from Latin "a".
    """
    if (fast := _plain_ascii(host)) is not None:
        return fast
    return _uts46(host)


# A letter-digit-hyphen label with no "--" in positions 3-4 (which would make it an
# A-label or a reserved form): UTS #46 maps it to its lowercase self and IDNA 2008
# accepts it as it is, so the pure-Python encoder (most of the cost) can be skipped.
_PLAIN_LABEL = re.compile(r"(?!-)(?!..--)[a-z0-9-]{1,63}(?<!-)")


def _plain_ascii(host: str) -> str | None:
    if not host.isascii():
        return None
    labels = host.lower().removesuffix(".").split(".")
    if len(host) > MAX_NAME_OCTETS or not all(_PLAIN_LABEL.fullmatch(x) for x in labels):
        return None
    return ".".join(labels)


def _uts46(host: str) -> str:
    try:
        # Non-transitional keeps "ß" and ZWJ/ZWNJ as they are, as browsers now do;
        # transitional processing would fold "faß.de" into the different "fass.de".
        mapped = idna.uts46_remap(host, std3_rules=True, transitional=False)
    except idna.IDNAError:
        raise _invalid() from None
    # One trailing dot is the fully-qualified spelling of the same name.
    labels = mapped.removesuffix(".").split(".")
    if "" in labels:
        raise KeyRejected(KeyKind.DOMAIN, "empty label (two dots in a row, or a leading dot)")
    # Lengths are checked before encoding so the user learns which limit was hit; the
    # encoder would only say "invalid".
    lengths = [_encoded_length(label) for label in labels]
    if max(lengths) > MAX_LABEL_OCTETS:
        raise KeyRejected(KeyKind.DOMAIN, f"a label is longer than {MAX_LABEL_OCTETS} characters")
    if sum(lengths) + len(lengths) - 1 > MAX_NAME_OCTETS:
        raise KeyRejected(KeyKind.DOMAIN, f"longer than {MAX_NAME_OCTETS} characters")
    try:
        encoded = idna.encode(".".join(labels), uts46=True, transitional=False, std3_rules=True)
    except idna.IDNAError:
        raise _invalid() from None
    return encoded.decode("ascii")


def _encoded_length(label: str) -> int:
    # Punycode never shortens a label, and encoding it costs quadratic time in pure
    # Python, so a long label is measured by its characters alone.
    if label.isascii() or len(label) > MAX_LABEL_OCTETS:
        return len(label)
    return len("xn--") + len(label.encode("punycode"))


def _invalid() -> KeyRejected:
    return KeyRejected(KeyKind.DOMAIN, "not a valid domain name (invalid characters)")
