"""The attribution window and hop decay, shared by every model: paths -> events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from graph.errors import BadInput
from graph.touches import InfluencePath
from resolvers.attribution.types import Event


def paths_in_window(
    paths: Iterable[InfluencePath], *, close_at: datetime, window_days: int = 365
) -> list[InfluencePath]:
    """The paths whose every step lies in [close_at - window_days, close_at] (both ends
    inclusive), in input order. A path with a step after the close, or one that started
    before the window opened, is dropped whole."""
    if window_days < 0:
        raise BadInput("the attribution window cannot be negative", field="windowDays")
    opens = close_at - timedelta(days=window_days)
    kept = []
    for path in paths:
        if not path.steps:
            raise BadInput("an influence path needs at least one step", field="paths")
        if all(opens <= step.at <= close_at for step in path.steps):
            kept.append(path)
    return kept


def path_weight(path: InfluencePath, hop_decay: Decimal) -> Fraction:
    """(product of the steps' weights) * hop_decay ** hops, exactly."""
    weight = _decay(hop_decay, path.hops)
    for step in path.steps:
        if step.weight != 1:
            if step.weight < 0:
                raise BadInput("a touch weight cannot be negative", field="weight")
            weight *= _fraction(step.weight)
    return weight


@lru_cache(maxsize=256)
def _decay(hop_decay: Decimal, hops: int) -> Fraction:
    return Fraction(hop_decay) ** hops


@lru_cache(maxsize=1024)
def _fraction(weight: Decimal) -> Fraction:
    return Fraction(weight)


def events(
    paths: Iterable[InfluencePath],
    *,
    close_at: datetime,
    window_days: int = 365,
    hop_decay: Decimal = Decimal("0.5"),
) -> list[Event]:
    """One event per in-window path of positive weight, in canonical order (time, then
    partner id, kind, hops, weight): the input order never matters after this."""
    if not Decimal(0) <= hop_decay <= Decimal(1):
        raise BadInput("the hop decay factor must be between 0 and 1", field="hopDecay")
    found = []
    for path in paths_in_window(paths, close_at=close_at, window_days=window_days):
        weight = path_weight(path, hop_decay)
        if weight > 0:
            first = path.steps[0]
            found.append(Event(first.at, first.partner_org, first.kind, path.hops, weight))
    found.sort(key=Event.sort_key)
    return found
