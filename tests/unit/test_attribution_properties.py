"""Properties every attribution model keeps, on random paths and random histories."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.touches import InfluencePath, PathStep, TouchKind
from resolvers.attribution import (
    Attribution,
    AttributionConfig,
    AttributionModel,
    ClosedDeal,
    History,
    allocate,
    attribute,
    events,
)

CLOSE = datetime(2025, 6, 30, 12, tzinfo=UTC)
PARTNERS = [f"p{i}" for i in range(6)]
FAST = settings(max_examples=40, deadline=None)
MODELS = list(AttributionModel)

steps_ = st.builds(
    PathStep,
    partner_org=st.sampled_from(PARTNERS),
    kind=st.sampled_from(list(TouchKind)),
    # whole days, so ties on time are common; some before the window, some after close
    at=st.integers(-3, 380).map(lambda days: CLOSE - timedelta(days=days)),
    weight=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), Decimal(2)]),
)
paths_ = st.lists(
    st.lists(steps_, min_size=1, max_size=3).map(lambda s: InfluencePath(tuple(s))), max_size=8
)
history_ = st.lists(
    st.builds(
        ClosedDeal,
        partners=st.lists(st.sampled_from([*PARTNERS, "q1", "q2"]), max_size=4).map(tuple),
        won=st.booleans(),
    ),
    max_size=25,
)
amounts = st.integers(0, 10**10).map(lambda cents: Decimal(cents).scaleb(-2))


def run(
    model: AttributionModel,
    paths: list[InfluencePath],
    history: list[ClosedDeal],
    amount: Decimal,
    config: AttributionConfig | None = None,
) -> Attribution:
    return attribute(
        model,
        amount=amount,
        currency="USD",
        close_at=CLOSE,
        paths=paths,
        history=History(history),
        config=config or AttributionConfig(),
    )


def credited_origins(paths: list[InfluencePath]) -> set[str]:
    return {e.partner_org for e in events(paths, close_at=CLOSE)}


@pytest.mark.parametrize("model", MODELS)
@FAST
@given(paths=paths_, history=history_, amount=amounts)
def test_credits_are_non_negative_and_sum_exactly(
    model: AttributionModel, paths: list[InfluencePath], history: list[ClosedDeal], amount: Decimal
) -> None:
    result = run(model, paths, history, amount)
    if not result.credits:
        assert credited_origins(paths) == set()
        return
    assert all(c.amount >= 0 and c.share >= 0 for c in result.credits)
    assert sum(c.amount for c in result.credits) == amount
    assert sum(c.share for c in result.credits) == 1
    assert all(c.amount.as_tuple().exponent == -2 for c in result.credits)


@pytest.mark.parametrize("model", MODELS)
@FAST
@given(paths=paths_, history=history_, amount=amounts, shuffler=st.randoms(use_true_random=False))
def test_results_do_not_depend_on_input_order(
    model: AttributionModel,
    paths: list[InfluencePath],
    history: list[ClosedDeal],
    amount: Decimal,
    shuffler: random.Random,
) -> None:
    shuffled_paths, shuffled_history = paths[:], history[:]
    shuffler.shuffle(shuffled_paths)
    shuffler.shuffle(shuffled_history)
    assert run(model, paths, history, amount) == run(
        model, shuffled_paths, shuffled_history, amount
    )


@pytest.mark.parametrize("model", MODELS)
@FAST
@given(paths=paths_, history=history_, amount=amounts, late=st.booleans())
def test_a_partner_without_a_path_in_the_window_gets_nothing(
    model: AttributionModel,
    paths: list[InfluencePath],
    history: list[ClosedDeal],
    amount: Decimal,
    late: bool,
) -> None:
    # given an outsider whose only path is outside the window (after close or too early)
    # and who appears in the history
    at = CLOSE + timedelta(seconds=1) if late else CLOSE - timedelta(days=365, seconds=1)
    outsider = InfluencePath((PathStep("zz", TouchKind.REFERRAL, at, Decimal(1)),))
    history = [*history, ClosedDeal(("zz",), True)]
    # when
    result = run(model, [*paths, outsider], history, amount)
    # then the credited partners are exactly the origins of in-window paths
    assert {c.partner_org for c in result.credits} == credited_origins(paths)
    assert "zz" not in {c.partner_org for c in result.credits}


@pytest.mark.parametrize("model", MODELS)
@FAST
@given(paths=paths_, history=history_, amount=amounts)
def test_minor_units_are_a_parameter(
    model: AttributionModel, paths: list[InfluencePath], history: list[ClosedDeal], amount: Decimal
) -> None:
    yen = amount.to_integral_value()
    result = attribute(
        model, amount=yen, currency="JPY", close_at=CLOSE, paths=paths,
        history=History(history), exponent=0,
    )  # fmt: skip
    assert sum(c.amount for c in result.credits) == (yen if result.credits else 0)
    assert all(c.amount == c.amount.to_integral_value() for c in result.credits)


@FAST
@given(
    weights=st.dictionaries(
        st.sampled_from(PARTNERS), st.fractions(min_value=0, max_value=100), min_size=1
    ).filter(lambda w: sum(w.values()) > 0),
    amount=amounts,
    places=st.integers(0, 4),
)
def test_allocation_is_exact_and_within_one_unit_of_the_quota(
    weights: dict[str, Fraction], amount: Decimal, places: int
) -> None:
    typed = weights
    total = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    parts = allocate(typed, total, places=places)
    assert sum(parts.values()) == total
    whole = sum(typed.values())
    unit = Fraction(1, 10**places)
    for key, part in parts.items():
        quota = Fraction(total) * typed[key] / whole
        assert abs(Fraction(part) - quota) < unit
