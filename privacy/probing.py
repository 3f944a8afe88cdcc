"""Differencing defence for COUNTS-only partners.

With counts alone, a viewer could still learn whether one account is in a partner's
list: query a population, add the account, query again, and read the difference. So
once a viewer population has been answered at COUNTS level against a partner, a
changed version of it is refused until the window has passed since that answer. A
population that did not change is answered as often as asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from graph.identity import CountAnswer

DEFAULT_WINDOW = timedelta(hours=24)


def refused(
    previous: CountAnswer | None,
    fingerprint: str,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> bool:
    """Whether COUNTS numbers for this population must be withheld now."""
    return (
        previous is not None
        and previous.fingerprint != fingerprint
        and now - previous.answered_at < window
    )


def records_answer(
    previous: CountAnswer | None, now: datetime, window: timedelta = DEFAULT_WINDOW
) -> bool:
    """Whether answering now starts a new window (the first answer, or the old one has
    expired). Answers within a window keep its start, so asking often cannot extend it."""
    return previous is None or now - previous.answered_at >= window
