"""Password policy and hashing.

bcrypt only reads the first 72 bytes of its input and stops at a NUL byte, so two long
passphrases sharing a prefix would hash alike. We therefore pre-hash: bcrypt receives
base64(SHA-256(password)), 44 ASCII bytes with no NUL, so every byte of the password
counts. The pre-hash is unkeyed on purpose: it only reshapes the input; bcrypt's salt and
cost still do the work against offline guessing.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources

import bcrypt

MIN_LENGTH = 12
MAX_LENGTH = 1024  # beyond this, hashing is a denial-of-service lever, not security


def policy_problem(password: str, *, email: str = "") -> str | None:
    """Why `password` is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    lowered = password.casefold()
    if lowered in common_passwords():
        return "is too common"
    local_part = email.split("@", 1)[0].casefold()
    if len(local_part) >= 4 and local_part in lowered:
        return "must not contain the e-mail address"
    if len(set(password)) < 4:
        return "has too few distinct characters"
    return None


def hash_password(password: str, *, cost: int) -> bytes:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=cost))


def verify_password(password: str, password_hash: bytes) -> bool:
    return bcrypt.checkpw(_prehash(password), password_hash)


@cache
def dummy_hash(cost: int) -> bytes:
    """A hash to check against when the user does not exist, so that login spends the
    same time either way."""
    return hash_password("tandem-dummy-password-for-timing", cost=cost)


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("resolvers.auth").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())
