"""Hand-computed attribution, one or more per model. Close 2025-06-30, 100.00 USD, the
default config (window 365 days, hop decay 0.5, half-life 7 days) unless a test says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from graph.errors import BadInput
from graph.touches import InfluencePath, PathStep, TouchKind
from resolvers.attribution import (
    AttributionConfig,
    AttributionModel,
    ClosedDeal,
    History,
    attribute,
    paths_in_window,
)

CLOSE = datetime(2025, 6, 30, tzinfo=UTC)
K = TouchKind
M = AttributionModel


def step(
    partner: str, kind: TouchKind, days: float, *, to: str | None = None, weight: str = "1"
) -> PathStep:
    return PathStep(partner, kind, CLOSE - timedelta(days=days), Decimal(weight), to)


def direct(partner: str, kind: TouchKind, days: float, weight: str = "1") -> InfluencePath:
    return InfluencePath((step(partner, kind, days, weight=weight),))


def credit(
    model: AttributionModel,
    paths: list[InfluencePath],
    history: list[ClosedDeal] | None = None,
    amount: str = "100.00",
    config: AttributionConfig | None = None,
) -> dict[str, str]:
    result = attribute(
        model,
        amount=Decimal(amount),
        currency="USD",
        close_at=CLOSE,
        paths=paths,
        history=History(history or []),
        config=config or AttributionConfig(),
    )
    return {c.partner_org: str(c.amount) for c in result.credits}


THREE = [direct("a", K.EVENT, 30), direct("b", K.INTRO, 20), direct("c", K.DEAL_REGISTRATION, 10)]


def test_first_touch() -> None:
    """Events in time order: a (30 days out), b (20), c (10). The first, a, gets 1/1 =
    100.00; b and c have paths, so they appear, with 0.00."""
    assert credit(M.FIRST_TOUCH, THREE) == {"a": "100.00", "b": "0.00", "c": "0.00"}


def test_first_touch_tie_goes_to_the_smaller_partner_id() -> None:
    """ "beta" and "alpha" touch at the same instant: ties are ordered by partner id, so
    alpha is first: 100.00."""
    paths = [direct("beta", K.EVENT, 5), direct("alpha", K.CONTENT, 5)]
    assert credit(M.FIRST_TOUCH, paths) == {"alpha": "100.00", "beta": "0.00"}


def test_last_touch() -> None:
    """The latest event is c's deal registration (10 days out): c gets 100.00."""
    assert credit(M.LAST_TOUCH, THREE) == {"a": "0.00", "b": "0.00", "c": "100.00"}


def test_linear_with_hop_decay() -> None:
    """a touches twice directly (weight 1 + 1 = 2), b once (1), c introduced b, who
    registered the deal: one hop, 0.5**1 * 1 * 1 = 0.5. Total 3.5.
    Quotas in cents: a 10000*2/3.5 = 5714.29, b 2857.14, c 1428.57 -> floors 5714 +
    2857 + 1428 = 9999; the one cent left goes to the largest remainder, c (.57).
    a 57.14, b 28.57, c 14.29."""
    paths = [
        direct("a", K.EVENT, 50),
        direct("a", K.CO_SELL_MEETING, 40),
        direct("b", K.DEAL_REGISTRATION, 20),
        InfluencePath((step("c", K.INTRO, 30, to="b"), step("b", K.DEAL_REGISTRATION, 20))),
    ]
    assert credit(M.LINEAR, paths) == {"a": "57.14", "b": "28.57", "c": "14.29"}


def test_linear_path_weight_is_the_product_of_step_weights_and_decay() -> None:
    """Two-hop path from a: 0.5**2 * 2 * 1 * 1 = 0.5; b direct with weight 1.5.
    a 0.5/2 = 25.00, b 1.5/2 = 75.00."""
    chain = InfluencePath(
        (
            step("a", K.REFERRAL, 9, to="x", weight="2"),
            step("x", K.INTRO, 8, to="b"),
            step("b", K.TECHNICAL_WIN, 7),
        )
    )
    paths = [chain, direct("b", K.TECHNICAL_WIN, 7, weight="1.5")]
    assert credit(M.LINEAR, paths) == {"a": "25.00", "b": "75.00"}


def test_time_decay() -> None:
    """Half-life 7 days: a 14 days out weighs 2**-2 = 0.25, b 7 days 2**-1 = 0.5,
    c on the close 2**0 = 1; total 1.75. Quotas in cents: a 1428.57, b 2857.14,
    c 5714.29 -> floors 9999, the cent left to a (.57 beats .29 and .14).
    a 14.29, b 28.57, c 57.14."""
    paths = [direct("a", K.EVENT, 14), direct("b", K.EVENT, 7), direct("c", K.EVENT, 0)]
    assert credit(M.TIME_DECAY, paths) == {"a": "14.29", "b": "28.57", "c": "57.14"}


def test_time_decay_half_life_is_configurable() -> None:
    """Half-life 14 days: a 14 days out weighs 0.5, b on the close 1: a 1/3, b 2/3.
    Cents 3333.33 and 6666.67 -> floors 3333 + 6666, the cent to b (.67): 33.33 / 66.67."""
    paths = [direct("a", K.EVENT, 14), direct("b", K.EVENT, 0)]
    config = AttributionConfig(half_life_days=Decimal(14))
    assert credit(M.TIME_DECAY, paths, config=config) == {"a": "33.33", "b": "66.67"}


def test_position_based() -> None:
    """Four events: a (40 days), b (30), c (20), a (10). First and last 0.4 each, the two
    middle ones 0.2 / 2 = 0.1 each: a 0.4 + 0.4 = 0.8, b 0.1, c 0.1."""
    paths = [
        direct("a", K.EVENT, 40),
        direct("b", K.CONTENT, 30),
        direct("c", K.INTRO, 20),
        direct("a", K.TECHNICAL_WIN, 10),
    ]
    assert credit(M.POSITION_BASED, paths) == {"a": "80.00", "b": "10.00", "c": "10.00"}


def test_position_based_one_and_two_touches() -> None:
    """One touch holds first and last (0.4 + 0.4, normalized: 100%); two touches hold one
    each and no middle exists: 0.4 / 0.8 = 50% each."""
    assert credit(M.POSITION_BASED, [direct("a", K.EVENT, 3)]) == {"a": "100.00"}
    two = [direct("a", K.EVENT, 3), direct("b", K.EVENT, 2)]
    assert credit(M.POSITION_BASED, two) == {"a": "50.00", "b": "50.00"}


def test_w_shaped() -> None:
    """Five events: a EVENT (50), b CONTENT (40), c DEAL_REGISTRATION (30), d EVENT (20),
    b CO_SELL_MEETING (10). First a 0.3, registration c 0.3, last b 0.3; the rest (b at
    40, d) 0.1 / 2 = 0.05 each. a 30.00, b 0.3 + 0.05 = 35.00, c 30.00, d 5.00."""
    paths = [
        direct("a", K.EVENT, 50),
        direct("b", K.CONTENT, 40),
        direct("c", K.DEAL_REGISTRATION, 30),
        direct("d", K.EVENT, 20),
        direct("b", K.CO_SELL_MEETING, 10),
    ]
    assert credit(M.W_SHAPED, paths) == {"a": "30.00", "b": "35.00", "c": "30.00", "d": "5.00"}


def test_w_shaped_without_a_registration() -> None:
    """No DEAL_REGISTRATION: that role drops out and the rest renormalize. a 0.3, b 0.1,
    c 0.3 over 0.7: cents 4285.71, 1428.57, 4285.71 -> floors 9998; two cents left, to
    the largest remainders a and c (.71, tie by id). a 42.86, b 14.28, c 42.86."""
    paths = [direct("a", K.EVENT, 3), direct("b", K.EVENT, 2), direct("c", K.EVENT, 1)]
    assert credit(M.W_SHAPED, paths) == {"a": "42.86", "b": "14.28", "c": "42.86"}


def test_w_shaped_registration_on_the_first_touch() -> None:
    """a's registration is both first touch and registration: 0.3 + 0.3 = 0.6; last b
    0.3; no rest. 0.6 / 0.9 = 66.67, 0.3 / 0.9 = 33.33."""
    paths = [direct("a", K.DEAL_REGISTRATION, 3), direct("b", K.EVENT, 1)]
    assert credit(M.W_SHAPED, paths) == {"a": "66.67", "b": "33.33"}


SHAPLEY_HISTORY = [
    ClosedDeal(("a", "b"), True),
    ClosedDeal(("b", "a"), True),
    ClosedDeal(("a",), True),
    ClosedDeal(("a",), False),
    ClosedDeal(("b",), False),
    ClosedDeal(("b",), False),
    ClosedDeal((), False),
    ClosedDeal((), False),
]


def test_shapley() -> None:
    """8 closed deals, 3 won: base rate (3+1)/(8+2) = 2/5; prior strength 2, so each
    coalition gets 2 pseudo-deals worth 4/5 of a win.
    v(empty) = (0 + 4/5)/(2+2) = 1/5, v(a) = (1 + 4/5)/4 = 9/20,
    v(b) = (0 + 4/5)/4 = 1/5, v(ab) = (2 + 4/5)/4 = 7/10.
    phi_a = 1/2 (v(a)-v(0)) + 1/2 (v(ab)-v(b)) = 1/2 (5/20) + 1/2 (10/20) = 3/8,
    phi_b = 1/2 (v(b)-v(0)) + 1/2 (v(ab)-v(a)) = 0 + 1/2 (5/20) = 1/8 (sum 1/2 = v(ab) -
    v(empty)). Credit 3/8 : 1/8 = 75.00 : 25.00."""
    paths = [direct("a", K.INTRO, 20), direct("b", K.DEAL_REGISTRATION, 10)]
    assert credit(M.SHAPLEY, paths, SHAPLEY_HISTORY) == {"a": "75.00", "b": "25.00"}


def test_shapley_value_is_scaled_by_the_partners_hop_decay() -> None:
    """Same game, but a only reaches the deal through b (one hop, weight 0.5):
    3/8 * 0.5 : 1/8 * 1 = 3 : 2 -> 60.00 : 40.00."""
    paths = [
        InfluencePath((step("a", K.INTRO, 20, to="b"), step("b", K.DEAL_REGISTRATION, 10))),
        direct("b", K.DEAL_REGISTRATION, 10),
    ]
    assert credit(M.SHAPLEY, paths, SHAPLEY_HISTORY) == {"a": "60.00", "b": "40.00"}


def test_shapley_without_history_falls_back_to_linear() -> None:
    """No closed deals: every coalition is worth the prior 1/2, every phi is 0, so
    nothing tells partners apart: LINEAR (1 : 1)."""
    paths = [direct("a", K.INTRO, 20), direct("b", K.DEAL_REGISTRATION, 10)]
    assert credit(M.SHAPLEY, paths) == {"a": "50.00", "b": "50.00"}


def test_markov() -> None:
    """Walks: start>a>b won, start>a lost, start>b won, start>b lost.
    Transitions: start->a 1/2, start->b 1/2; a->b 1/2, a->null 1/2; b->conv 1/2,
    b->null 1/2. P(b) = 1/2, P(a) = 1/2 * 1/2 = 1/4, P(conv) = 1/2 * 1/4 + 1/2 * 1/2 =
    3/8. Without a: 1/2 * 1/2 = 1/4, removal effect 1 - (1/4)/(3/8) = 1/3. Without b:
    0, removal effect 1. Credit 1/3 : 1 = 25.00 : 75.00."""
    history = [
        ClosedDeal(("a", "b"), True),
        ClosedDeal(("a",), False),
        ClosedDeal(("b",), True),
        ClosedDeal(("b",), False),
    ]
    paths = [direct("a", K.INTRO, 20), direct("b", K.DEAL_REGISTRATION, 10)]
    assert credit(M.MARKOV, paths, history) == {"a": "25.00", "b": "75.00"}


def test_markov_collapses_repeated_touches_and_ignores_unknown_partners() -> None:
    """start>a>a>a won is the walk start>a won: P(conv) = 1, removing a gives 0, effect
    1. c never appears in the history: effect 0, credit 0.00 (but listed: it has a path).
    """
    history = [ClosedDeal(("a", "a", "a"), True)]
    paths = [direct("a", K.EVENT, 5), direct("c", K.EVENT, 4)]
    assert credit(M.MARKOV, paths, history) == {"a": "100.00", "c": "0.00"}


def test_window_bounds_are_inclusive() -> None:
    """Exactly 365 days before close and exactly at close are in; a second earlier or
    later is out, and so is a chain with one step out."""
    year = CLOSE - timedelta(days=365)
    inside = [
        InfluencePath((PathStep("a", K.EVENT, year, Decimal(1)),)),
        InfluencePath((PathStep("b", K.EVENT, CLOSE, Decimal(1)),)),
    ]
    outside = [
        InfluencePath((PathStep("c", K.EVENT, year - timedelta(seconds=1), Decimal(1)),)),
        InfluencePath((PathStep("d", K.EVENT, CLOSE + timedelta(seconds=1), Decimal(1)),)),
        InfluencePath((step("e", K.INTRO, 400, to="b"), step("b", K.EVENT, 3))),
    ]
    assert paths_in_window([*inside, *outside], close_at=CLOSE) == inside
    assert credit(M.LINEAR, [*inside, *outside]) == {"a": "50.00", "b": "50.00"}


def test_no_paths_no_credits() -> None:
    assert credit(M.LINEAR, []) == {}


@pytest.mark.parametrize("amount", ["-1.00", "10.001"])
def test_amounts_must_fit_the_currency(amount: str) -> None:
    with pytest.raises(BadInput):
        credit(M.LINEAR, THREE, amount=amount)
