"""Bearer tokens: generated once, shown once, stored only as a SHA-256 digest.

The token carries 256 random bits, so an unkeyed digest is safe to store: nobody can
enumerate the input space, unlike passwords (bcrypt) or domains (keyed HMAC).
"""

from __future__ import annotations

import hashlib
import secrets

from graph.identity import TokenKind

_PREFIX = {TokenKind.SESSION: "tdm_s_", TokenKind.API: "tdm_a_"}


def new_token(kind: TokenKind) -> str:
    return _PREFIX[kind] + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def looks_like_token(value: str) -> bool:
    return value.startswith(tuple(_PREFIX.values())) and 20 < len(value) < 200
