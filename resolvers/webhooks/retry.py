"""When to try a failed delivery again: exponential backoff with full jitter.

Full jitter (a uniform draw between 0 and the exponential bound) spreads the retries of
many deliveries that failed together, say during a receiver's outage, instead of sending
them back in synchronised waves when it returns.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# 2**62 times any base is far beyond any cap; the exponent stops there so a large attempt
# count never overflows.
_MAX_EXPONENT = 62


class Uniform(Protocol):
    """A source of uniform numbers in [0, 1): random.Random, or a stub in tests."""

    def random(self) -> float: ...


SYSTEM_RANDOM: Uniform = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 60.0
    cap_s: float = 6 * 3600.0
    max_attempts: int = 12

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("retry: need 0 < base <= cap")
        if self.max_attempts < 1:
            raise ValueError("retry: need at least one attempt")

    def bound_s(self, attempts: int) -> float:
        """The longest wait after the `attempts`-th failed attempt (1, 2, ...)."""
        exponent = min(max(attempts - 1, 0), _MAX_EXPONENT)
        return min(self.cap_s, self.base_s * 2.0**exponent)

    def delay_s(self, attempts: int, rng: Uniform = SYSTEM_RANDOM) -> float:
        return rng.random() * self.bound_s(attempts)

    def next_attempt_at(
        self, attempts: int, *, now: datetime, rng: Uniform = SYSTEM_RANDOM
    ) -> datetime | None:
        """When to try again after `attempts` attempts in all have failed; None once they
        are used up (the delivery becomes FAILED)."""
        if attempts >= self.max_attempts:
            return None
        return now + timedelta(seconds=self.delay_s(attempts, rng))
