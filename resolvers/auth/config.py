"""Knobs of authentication, with production defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from resolvers.auth.throttle import ThrottlePolicy


@dataclass(frozen=True, slots=True)
class AuthConfig:
    bcrypt_cost: int = 12
    session_ttl: timedelta = timedelta(hours=12)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    # last_used_at is a hint for humans; writing it on every request would turn every
    # read into a write, so it is refreshed at most this often per token.
    touch_interval: timedelta = timedelta(minutes=1)
