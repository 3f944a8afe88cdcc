"""Checks every raw key goes through before any kind-specific parsing."""

from __future__ import annotations

import unicodedata

from graph.model import KeyKind

from .errors import KeyRejected

# Bidi embeddings, overrides and isolates make text display differently from what it is,
# so a key that contains them would not be the key the user saw.
_BIDI_CONTROLS = frozenset(
    "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Line breaks and tabs come in from spreadsheets and pasted text; they are just spaces.
_WHITESPACE_CONTROLS = frozenset("\t\n\r\v\f\x1c\x1d\x1e\x1f\x85")


def checked_text(kind: KeyKind, raw: object, *, max_chars: int) -> str:
    """`raw` without surrounding white space, or KeyRejected.

    The length cap comes first so a huge input costs O(1) before anything scans it.
    """
    if not isinstance(raw, str):
        raise KeyRejected(kind, "must be text")
    if len(raw) > max_chars:
        raise KeyRejected(kind, f"too long (more than {max_chars} characters)")
    text = raw.strip()
    if not text:
        raise KeyRejected(kind, "empty")
    if text.isascii() and text.isprintable():
        return text  # the common case: no control or direction characters possible
    for char in text:
        if char in _BIDI_CONTROLS:
            raise KeyRejected(kind, "contains right-to-left or other direction override characters")
        if unicodedata.category(char) == "Cc" and char not in _WHITESPACE_CONTROLS:
            raise KeyRejected(kind, "contains NUL or other control characters")
    return text
