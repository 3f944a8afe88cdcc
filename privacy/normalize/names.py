"""Company names as (weak) keys: case, width, punctuation and legal forms folded away."""

from __future__ import annotations

import unicodedata

from cleanco import basename

from graph.model import KeyKind

from .errors import KeyRejected
from .text import checked_text

MAX_RAW_CHARS = 512
MIN_CHARS = 2

# Apostrophes join rather than split, so "McDonald's" and "McDonalds" agree.
_APOSTROPHES = frozenset("'`\u2018\u2019\u02bc\u02b9\u00b4")
# Fold passes until nothing changes; a name that is still changing after this many
# passes is not worth keeping as a key.
_MAX_PASSES = 8


def normalize_name(raw: str) -> str:
    """A company name folded for matching, or KeyRejected.

    NFKC and case folding, legal-form suffixes removed with cleanco ("Acme, Inc." and
    "ACME GmbH" both give "acme"), punctuation to spaces, a leading "the" dropped.
    Names are a weak key: different companies share names, one company has many.
    """
    name = checked_text(KeyKind.NAME, raw, max_chars=MAX_RAW_CHARS)
    # Repeated to a fixed point: removing "Inc" can expose "Ltd" or "The", and only a
    # fixed point makes normalize_name(normalize_name(x)) == normalize_name(x).
    for _ in range(_MAX_PASSES):
        folded = _fold_once(name)
        if folded == name:
            break
        name = folded
    else:
        raise KeyRejected(KeyKind.NAME, "could not be normalized")
    if not name:
        raise KeyRejected(KeyKind.NAME, "nothing left after removing legal forms and punctuation")
    if len(name) < MIN_CHARS:
        raise KeyRejected(KeyKind.NAME, f"shorter than {MIN_CHARS} characters")
    return name


def _fold_once(name: str) -> str:
    # Symbols go before NFKC, which would turn "Acme™" into "acmetm".
    name = "".join(" " if unicodedata.category(c) == "So" else c for c in name)
    name = _collapse(unicodedata.normalize("NFKC", name).casefold())
    # cleanco matches legal forms with their dots ("s.a.", "b.v."), so it runs before
    # punctuation becomes spaces and "s.a." becomes the unrecognisable "s a".
    name = basename(name)
    name = _collapse("".join(_fold_char(c) for c in name))
    return name.removeprefix("the ")


def _fold_char(char: str) -> str:
    if char in _APOSTROPHES:
        return ""
    category = unicodedata.category(char)
    if category == "Cf":
        # Invisible: a soft hyphen or zero-width space must not split a word in two.
        return ""
    if category[0] in "PSZC":
        return " "
    return char


def _collapse(text: str) -> str:
    return " ".join(text.split())
