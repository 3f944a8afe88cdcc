"""The Shapley core on explicit characteristic functions, and the estimates behind
SHAPLEY (win rates) and MARKOV (removal effects)."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.attribution import ClosedDeal, TouchChain, WinRates, shapley_values
from resolvers.attribution.shapley import Game

FAST = settings(max_examples=40, deadline=None)
NAMES = [f"p{i:02d}" for i in range(16)]


def random_game(rng: random.Random, *, tie: tuple[str, str] | None = None) -> Game:
    """A memoized random game; with `tie`, the two players are interchangeable."""
    table: dict[object, Fraction] = {}

    def value(coalition: frozenset[str]) -> Fraction:
        key: object = coalition
        if tie is not None:
            key = (len(coalition & set(tie)), coalition - set(tie))
        if key not in table:
            table[key] = Fraction(rng.randint(-50, 100), rng.randint(1, 9))
        return table[key]

    return value


players_ = st.integers(2, 7).map(lambda n: NAMES[:n])
sampled_players_ = st.integers(13, 15).map(lambda n: NAMES[:n])


@FAST
@given(players=players_, rng=st.randoms(use_true_random=False))
def test_exact_shapley_is_efficient(players: list[str], rng: random.Random) -> None:
    game = random_game(rng)
    phi = shapley_values(players, game)
    assert sum(phi.values()) == game(frozenset(players)) - game(frozenset())


@FAST
@given(players=players_, rng=st.randoms(use_true_random=False))
def test_symmetric_players_get_equal_values(players: list[str], rng: random.Random) -> None:
    i, j = players[0], players[-1]
    phi = shapley_values(players, random_game(rng, tie=(i, j)))
    assert phi[i] == phi[j]


@FAST
@given(players=players_, rng=st.randoms(use_true_random=False), c=st.fractions(-5, 5))
def test_a_dummy_player_gets_exactly_its_constant_contribution(
    players: list[str], rng: random.Random, c: Fraction
) -> None:
    # given a player whose joining any coalition always adds c (c = 0: a null player)
    dummy = players[0]
    rest = random_game(rng)

    def game(coalition: frozenset[str]) -> Fraction:
        return rest(coalition - {dummy}) + (c if dummy in coalition else 0)

    phi = shapley_values(players, game)
    assert phi[dummy] == c


@FAST
@given(players=players_, rng=st.randoms(use_true_random=False))
def test_shapley_ignores_the_order_players_are_given_in(
    players: list[str], rng: random.Random
) -> None:
    game = random_game(rng)
    shuffled = players[:]
    rng.shuffle(shuffled)
    assert shapley_values(players, game) == shapley_values(shuffled, game)


def test_unanimity_game() -> None:
    """v(S) = 1 when S holds both a and b: they split 1/2 each; c is a null player."""

    def game(coalition: frozenset[str]) -> Fraction:
        return Fraction({"a", "b"} <= coalition)

    assert shapley_values(["c", "b", "a"], game) == {
        "a": Fraction(1, 2),
        "b": Fraction(1, 2),
        "c": Fraction(0),
    }


def test_glove_game() -> None:
    """One left glove (l), two right (r1, r2); a pair is worth 1. Known answer: l 2/3,
    r1 and r2 1/6 each (l is pivotal in 4 of the 6 orders)."""

    def game(coalition: frozenset[str]) -> Fraction:
        return Fraction(min(int("l" in coalition), len(coalition & {"r1", "r2"})))

    assert shapley_values(["l", "r1", "r2"], game) == {
        "l": Fraction(2, 3),
        "r1": Fraction(1, 6),
        "r2": Fraction(1, 6),
    }


@settings(max_examples=5, deadline=None)
@given(players=sampled_players_, seed=st.integers(0, 2**32))
def test_sampled_shapley_is_efficient_and_seeded(players: list[str], seed: int) -> None:
    # above 12 players the values are sampled from permutations; each permutation's
    # marginal contributions sum to v(N) - v(empty), so the mean does too, exactly
    game = random_game(random.Random(seed))
    phi = shapley_values(players, game, samples=200, seed=7)
    assert sum(phi.values()) == game(frozenset(players)) - game(frozenset())
    assert phi == shapley_values(list(reversed(players)), game, samples=200, seed=7)


def test_sampled_shapley_approximates_the_exact_values() -> None:
    """13 players, weighted majority: the sample of 2000 orders lands near the exact
    values (computed with exact_max raised), and a null player gets exactly 0."""
    players = NAMES[:13]
    weights = {p: i % 4 for i, p in enumerate(players)}  # p00, p04, p08, p12 weigh 0: null

    def game(coalition: frozenset[str]) -> Fraction:
        return Fraction(sum(weights[p] for p in coalition) >= 10)

    sampled = shapley_values(players, game)
    exact = shapley_values(players, game, exact_max=13)
    assert max(abs(sampled[p] - exact[p]) for p in players) < Fraction(3, 100)
    assert sampled["p00"] == exact["p00"] == 0


def test_win_rates_are_smoothed_toward_the_base_rate() -> None:
    """2 deals, 1 won: base (1+1)/(2+2) = 1/2. {a} won once: (1 + 2*1/2)/(1 + 2) = 2/3;
    an unseen coalition is worth the base rate, 1/2."""
    rates = WinRates(
        [ClosedDeal(("a",), True), ClosedDeal(("b", "c"), False)], prior_strength=Decimal(2)
    )
    assert rates(frozenset({"a"})) == Fraction(2, 3)
    assert rates(frozenset({"b", "c"})) == Fraction(1, 3)
    assert rates(frozenset({"z"})) == Fraction(1, 2)
    with pytest.raises(Exception, match="prior strength"):
        WinRates([], prior_strength=Decimal(0))


def test_markov_conversion_and_removal_effects() -> None:
    """start>a>b won, start>b lost: start->a 1/2, start->b 1/2, a->b 1, b->conv 1/2.
    P(conv) = 1/2 * 1/2 + 1/2 * 1/2 = 1/2. Without a: 1/4 (effect 1/2); without b: 0
    (effect 1); an unknown partner: effect 0."""
    chain = TouchChain([ClosedDeal(("a", "b"), True), ClosedDeal(("b",), False)])
    assert chain.p_conversion == pytest.approx(0.5)
    assert chain.removal_effect("a") == pytest.approx(0.5)
    assert chain.removal_effect("b") == pytest.approx(1.0)
    assert chain.removal_effect("zz") == 0.0


def test_markov_handles_cycles() -> None:
    """start>a>b>a won, start>b lost: a->b 1, b->a 1/2, b->null 1/2... and a->conv via
    the last a. Transitions: start->a 1/2, start->b 1/2; a->b 1/2, a->conv 1/2;
    b->a 1/2, b->null 1/2. x_a = 1/2 x_b + 1/2, x_b = 1/2 x_a -> x_a = 2/3, x_b = 1/3,
    P(conv) = 1/2 (2/3 + 1/3) = 1/2."""
    chain = TouchChain([ClosedDeal(("a", "b", "a"), True), ClosedDeal(("b",), False)])
    assert chain.p_conversion == pytest.approx(0.5)
    # without b: start->a->(b->null) : x_a = 1/2, P = 1/4 -> effect 1/2
    assert chain.removal_effect("b") == pytest.approx(0.5)


@FAST
@given(
    history=st.lists(
        st.builds(
            ClosedDeal,
            partners=st.lists(st.sampled_from(NAMES[:8]), max_size=5).map(tuple),
            won=st.booleans(),
        ),
        max_size=40,
    ),
    n=st.integers(0, 8),
)
def test_sparse_win_rate_shapley_equals_the_exact_formula(
    history: list[ClosedDeal], n: int
) -> None:
    rates = WinRates(history)
    players = NAMES[:n]
    assert rates.shapley(players) == shapley_values(players, rates)
