"""Why a matching key was refused.

    ValueError
     └── KeyRejected      a raw domain, DUNS number or company name that cannot be a key

The exception carries the key kind and a reason fit for a user-facing message. It never
carries the raw value: raw keys must not reach logs (DESIGN.md, "Privacy rules"), and
exceptions are what ends up in logs.
"""

from __future__ import annotations

from graph.model import KeyKind


class KeyRejected(ValueError):
    """A raw key that normalizes to no usable canonical key."""

    def __init__(self, kind: KeyKind, reason: str) -> None:
        super().__init__(f"{kind.value.lower()} rejected: {reason}")
        self.kind = kind
        self.reason = reason

    def __reduce__(self) -> tuple[type[KeyRejected], tuple[KeyKind, str]]:
        # The default pickling passes str(self) back as the only argument.
        return (type(self), (self.kind, self.reason))
