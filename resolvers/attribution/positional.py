"""The rule-based models: each event gets a coefficient by its position (or age), and a
partner's weight is the sum over its events of coefficient * event weight.

Events arrive in canonical order (window.events). Position roles (POSITION_BASED,
W_SHAPED) put a fixed coefficient on a role's event; an event holding several roles adds
them up; a role nobody holds (no middle events, no registration) simply drops out, and
the final normalization renormalizes what is left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from graph.errors import BadInput
from graph.touches import TouchKind
from resolvers.attribution.types import AttributionModel, Event

SECONDS_PER_DAY = 86_400


def coefficients(
    model: AttributionModel, ordered: Sequence[Event], *, half_life_days: Decimal = Decimal(7)
) -> list[Fraction]:
    """The model's coefficient for each event, before event weights and normalization."""
    n = len(ordered)
    if n == 0:
        return []
    match model:
        case AttributionModel.FIRST_TOUCH:
            return [Fraction(1)] + [Fraction(0)] * (n - 1)
        case AttributionModel.LAST_TOUCH:
            return [Fraction(0)] * (n - 1) + [Fraction(1)]
        case AttributionModel.LINEAR:
            return [Fraction(1)] * n
        case AttributionModel.TIME_DECAY:
            return _time_decay(ordered, half_life_days)
        case AttributionModel.POSITION_BASED:
            return _roles(n, [(0, Fraction(2, 5)), (n - 1, Fraction(2, 5))], Fraction(1, 5))
        case AttributionModel.W_SHAPED:
            roles = [(0, Fraction(3, 10)), (n - 1, Fraction(3, 10))]
            registration = next(
                (i for i, e in enumerate(ordered) if e.kind is TouchKind.DEAL_REGISTRATION), None
            )
            if registration is not None:
                roles.append((registration, Fraction(3, 10)))
            return _roles(n, roles, Fraction(1, 10))
    raise BadInput(f"{model} is not a rule-based model", field="model")


def partner_weights(
    ordered: Sequence[Event], coefficients: Sequence[Fraction]
) -> dict[str, Fraction]:
    """Sum of coefficient * event weight per partner (every event's partner appears)."""
    weights: dict[str, Fraction] = defaultdict(Fraction)
    for event, coefficient in zip(ordered, coefficients, strict=True):
        weights[event.partner_org] += (
            event.weight if coefficient == 1 else coefficient * event.weight
        )
    return dict(weights)


def _roles(n: int, roles: list[tuple[int, Fraction]], rest: Fraction) -> list[Fraction]:
    held = {index for index, _ in roles}
    others = [i for i in range(n) if i not in held]
    result = [Fraction(0)] * n
    for index, share in roles:
        result[index] += share
    for index in others:
        result[index] += rest / len(others)
    return result


def _time_decay(ordered: Sequence[Event], half_life_days: Decimal) -> list[Fraction]:
    """2 ** -(age / half_life), age counted back from the latest event rather than from
    the close: the common factor 2 ** -((close - latest) / half_life) cancels in the
    normalization, and the latest event never underflows to zero."""
    if half_life_days <= 0:
        raise BadInput("the half-life must be positive", field="halfLifeDays")
    half_life = float(half_life_days) * SECONDS_PER_DAY
    latest: datetime = ordered[-1].at
    return [
        Fraction(2.0 ** -((latest - event.at).total_seconds() / half_life)) for event in ordered
    ]
