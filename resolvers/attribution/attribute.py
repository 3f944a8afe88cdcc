"""attribute(): one opportunity's credit under one model. Pure: same inputs, same answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from graph.touches import InfluencePath
from resolvers.attribution.allocate import allocate
from resolvers.attribution.history import History
from resolvers.attribution.positional import coefficients, partner_weights
from resolvers.attribution.shapley import shapley_values
from resolvers.attribution.types import (
    DEFAULT_CONFIG,
    Attribution,
    AttributionConfig,
    AttributionModel,
    Credit,
    Event,
)
from resolvers.attribution.window import events

_LEARNED = frozenset({AttributionModel.SHAPLEY, AttributionModel.MARKOV})


def attribute(
    model: AttributionModel,
    *,
    amount: Decimal,
    currency: str,
    close_at: datetime,
    paths: Iterable[InfluencePath],
    history: History | None = None,
    config: AttributionConfig = DEFAULT_CONFIG,
    exponent: int = 2,
) -> Attribution:
    """Credit each partner with an in-window path for `amount` (currency minor units:
    10**-exponent). Every such partner gets a Credit (possibly zero); shares sum to
    exactly 1 and amounts to exactly `amount`. No path in the window: no credits.
    SHAPLEY and MARKOV read `history` (the vendor's closed deals; none means empty)."""
    ordered = events(
        paths, close_at=close_at, window_days=config.window_days, hop_decay=config.hop_decay
    )
    weights = model_weights(model, ordered, history=history, config=config)
    shares = allocate(weights, Decimal(1), places=config.share_places)
    amounts = allocate(weights, amount, places=exponent)
    credits = tuple(Credit(p, shares[p], amounts[p]) for p in sorted(weights))
    return Attribution(model, amount, currency, credits)


def model_weights(
    model: AttributionModel,
    ordered: Sequence[Event],
    *,
    history: History | None = None,
    config: AttributionConfig = DEFAULT_CONFIG,
) -> dict[str, Fraction]:
    """Each partner's unnormalized credit (>= 0, positive somewhere when there are
    events) over events in canonical order (window.events)."""
    if not ordered:
        return {}
    if model not in _LEARNED:
        found = coefficients(model, ordered, half_life_days=config.half_life_days)
        return partner_weights(ordered, found)
    history = history if history is not None else History()
    reach = _reach(ordered)
    if model is AttributionModel.SHAPLEY:
        rates = history.win_rates
        if len(reach) <= config.exact_shapley_max:
            raw: Mapping[str, Fraction] = rates.shapley(reach)  # exact, sparse
        else:
            raw = shapley_values(
                reach,
                rates,
                exact_max=config.exact_shapley_max,
                samples=config.shapley_samples,
                seed=config.seed,
            )
    else:
        chain = history.chain
        raw = {p: Fraction(chain.removal_effect(p)) for p in reach}
    weights = {p: max(raw[p], Fraction(0)) * reach[p] for p in reach}
    if sum(weights.values()) > 0:
        return weights
    # nothing to go on (no history, or every partner's estimate <= 0): LINEAR
    return partner_weights(ordered, coefficients(AttributionModel.LINEAR, ordered))


def _reach(ordered: Sequence[Event]) -> dict[str, Fraction]:
    """Each partner's strongest path weight: how far its (decayed) influence reached."""
    reach: dict[str, Fraction] = {}
    for event in ordered:
        reach[event.partner_org] = max(reach.get(event.partner_org, Fraction(0)), event.weight)
    return reach
