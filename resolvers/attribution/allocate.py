"""One allocation for every model: split a Decimal total by weights, exactly."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from graph.errors import BadInput


def allocate(
    weights: Mapping[str, Fraction], total: Decimal, *, places: int = 2
) -> dict[str, Decimal]:
    """Split `total` over the keys of `weights` in proportion to the weights, in units of
    10**-places, so that the parts sum to exactly `total` (largest remainder method).

    Each key first gets floor(units * w / sum(w)) units; the units left over go one each
    to the largest fractional remainders, ties to the smaller key. Exact rational
    arithmetic throughout, so the answer depends only on the mapping's contents.
    """
    if not weights:
        return {}
    if any(w < 0 for w in weights.values()):
        raise BadInput("attribution weights cannot be negative")
    scaled = total.scaleb(places)
    if total < 0 or scaled != scaled.to_integral_value():
        raise BadInput(
            f"the amount must be non-negative with at most {places} decimal places",
            field="amount",
        )
    units = int(scaled)
    whole = sum(weights.values(), Fraction(0))
    if whole == 0:
        raise BadInput("attribution weights sum to zero")
    floors: dict[str, int] = {}
    remainders: list[tuple[Fraction, str]] = []
    for key, weight in weights.items():
        quota = units * weight / whole
        floors[key] = quota.numerator // quota.denominator
        remainders.append((quota - floors[key], key))
    left = units - sum(floors.values())
    remainders.sort(key=lambda item: (-item[0], item[1]))
    for _, key in remainders[:left]:
        floors[key] += 1
    quantum = Decimal(1).scaleb(-places)
    return {key: (Decimal(n) * quantum).quantize(quantum) for key, n in floors.items()}
