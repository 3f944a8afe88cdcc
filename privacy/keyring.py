"""Keyed hashing of account keys, with key versions for rotation.

    h1 = HMAC-SHA256(k1, kind ":" canonical)
    hv = HMAC-SHA256(kv, h(v-1))          for v = 2, 3, ...

A rotation from version v to v+1 re-wraps every stored hash (`rewrap`) without any raw
key, so the chain form is what a store holds at each version; a fresh key is hashed
along the same chain. Rotations therefore go one version at a time, and the keyring
must hold every version from 1 up.

Each version's key is derived from its secret with a fixed label, so the server secret
can serve other purposes without its HMAC outputs ever meeting these.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from graph.model import KeyKind

_LABEL = b"tandem/account-keys"


class KeyringError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Keyring:
    keys: tuple[bytes, ...]  # keys[0] is version 1

    @classmethod
    def from_secrets(cls, secrets: dict[int, bytes]) -> Keyring:
        versions = sorted(secrets)
        if not versions or versions != list(range(1, len(versions) + 1)):
            raise KeyringError(
                f"key versions must run 1..N without gaps, found {versions or 'none'}"
            )
        derived = tuple(hmac.new(secrets[v], _LABEL, hashlib.sha256).digest() for v in versions)
        return cls(keys=derived)

    @property
    def newest(self) -> int:
        return len(self.keys)

    def hash(self, kind: KeyKind, canonical: str, version: int) -> str:
        """The hex hash of a canonical key at `version`."""
        self._check(version)
        digest = hmac.new(
            self.keys[0], f"{kind.value}:{canonical}".encode(), hashlib.sha256
        ).digest()
        for key in self.keys[1:version]:
            digest = hmac.new(key, digest, hashlib.sha256).digest()
        return digest.hex()

    def rewrap(self, previous: str, version: int) -> str:
        """The hash at `version` of a key whose hash at `version - 1` is `previous`."""
        self._check(version)
        if version < 2:
            raise KeyringError("version 1 is the first; nothing to re-wrap")
        return hmac.new(self.keys[version - 1], bytes.fromhex(previous), hashlib.sha256).hexdigest()

    def _check(self, version: int) -> None:
        if not 1 <= version <= self.newest:
            raise KeyringError(f"no key version {version} (keyring holds 1..{self.newest})")


def parse_secrets(text: str) -> dict[int, bytes]:
    """Secrets as written in TANDEM_SECRET or the secret file: one hex secret (version 1),
    or `VERSION:HEX` entries separated by newlines or commas."""
    entries = [e.strip() for e in text.replace(",", "\n").splitlines() if e.strip()]
    if len(entries) == 1 and ":" not in entries[0]:
        return {1: _hex(entries[0])}
    secrets: dict[int, bytes] = {}
    for entry in entries:
        version_text, sep, value = entry.partition(":")
        if not sep or not version_text.strip().isdigit():
            raise KeyringError("each entry must be VERSION:HEX")
        version = int(version_text)
        if version in secrets:
            raise KeyringError(f"key version {version} appears twice")
        secrets[version] = _hex(value)
    return secrets


def _hex(value: str) -> bytes:
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        raise KeyringError("secrets must be hex-encoded") from None
