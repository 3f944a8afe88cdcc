"""D-U-N-S numbers as company keys."""

from __future__ import annotations

import re
import unicodedata

from graph.model import KeyKind

from .errors import KeyRejected
from .text import checked_text

MAX_RAW_CHARS = 64

_NINE_ASCII_DIGITS = re.compile(r"[0-9]{9}", re.ASCII)


def normalize_duns(raw: str) -> str:
    """The nine digits of a D-U-N-S number, or KeyRejected.

    Spaces, dashes and dots between digit groups are dropped ("15-048-3782"). There is no
    public check digit, so only the format is checked.
    """
    text = checked_text(KeyKind.DUNS, raw, max_chars=MAX_RAW_CHARS)
    digits = "".join(char for char in text if not _is_separator(char))
    if not digits.isascii():
        # Not converted: full-width or Arabic-Indic digits pass `str.isdigit` and `\d`, and
        # folding them silently would store a key other than the one the user typed.
        raise KeyRejected(KeyKind.DUNS, "must use the digits 0-9 only")
    if not _NINE_ASCII_DIGITS.fullmatch(digits):
        raise KeyRejected(KeyKind.DUNS, "must be exactly 9 digits")
    if len(set(digits)) == 1:
        raise KeyRejected(KeyKind.DUNS, "a placeholder (one digit repeated), not a real number")
    return digits


def _is_separator(char: str) -> bool:
    # Dash punctuation (Pd) covers the en dashes and non-breaking hyphens spreadsheets make.
    return char == "." or char.isspace() or unicodedata.category(char) == "Pd"
