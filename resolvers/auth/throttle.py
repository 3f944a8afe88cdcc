"""Login throttling as a pure function of the recorded failures.

Each key (an account, a client address) may fail `max_failures` times in a window;
after that it is locked, and every further failure doubles the lock, up to a cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from graph.identity import ThrottleState


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    base_lock: timedelta = timedelta(minutes=1)
    max_lock: timedelta = timedelta(hours=1)


def retry_after(state: ThrottleState | None, now: datetime) -> float | None:
    """Seconds until `state`'s key may try again, or None when it may try now."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return None
    return (state.locked_until - now).total_seconds()


def after_failure(
    state: ThrottleState | None, key: str, now: datetime, policy: ThrottlePolicy
) -> ThrottleState:
    if state is None or now - state.window_start > policy.window:
        state = ThrottleState(key=key, failures=0, window_start=now)
    failures = state.failures + 1
    locked_until = state.locked_until
    if failures >= policy.max_failures:
        excess = failures - policy.max_failures
        lock = min(policy.base_lock * (2**excess), policy.max_lock)
        locked_until = now + lock
    return ThrottleState(
        key=key, failures=failures, window_start=state.window_start, locked_until=locked_until
    )
