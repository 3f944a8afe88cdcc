"""Shapley values of a cooperative game, and the game SHAPLEY plays: smoothed win rates
of the vendor's closed deals by the exact set of partners involved."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from math import factorial

from graph.errors import BadInput
from resolvers.attribution.types import ClosedDeal

Game = Callable[[frozenset[str]], Fraction]


def shapley_values(
    players: Iterable[str],
    value: Game,
    *,
    exact_max: int = 12,
    samples: int = 2000,
    seed: int = 0,
) -> dict[str, Fraction]:
    """phi_i = sum over S without i of |S|! (n-|S|-1)! / n! * (v(S + i) - v(S)).

    Exact (all 2**n coalitions) for n <= exact_max; above, the mean marginal contribution
    over `samples` random orders of the players drawn with Random(seed) from the sorted
    player list. Both sum to exactly v(N) - v(empty): every order's contributions do.
    """
    ordered = sorted(set(players))
    if len(ordered) <= exact_max:
        return _exact(ordered, value)
    if samples < 1:
        raise BadInput("Shapley sampling needs at least one permutation", field="samples")
    return _sampled(ordered, value, samples, seed)


def _exact(players: list[str], value: Game) -> dict[str, Fraction]:
    n = len(players)
    worth = [
        value(frozenset(p for bit, p in enumerate(players) if mask >> bit & 1))
        for mask in range(1 << n)
    ]
    weight = [Fraction(factorial(s) * factorial(n - s - 1), factorial(n)) for s in range(n)]
    size = [mask.bit_count() for mask in range(1 << n)]
    values = {}
    for bit, player in enumerate(players):
        own = 1 << bit
        total = Fraction(0)
        for mask in range(1 << n):
            if not mask & own:
                total += weight[size[mask]] * (worth[mask | own] - worth[mask])
        values[player] = total
    return values


def _sampled(players: list[str], value: Game, samples: int, seed: int) -> dict[str, Fraction]:
    rng = random.Random(seed)
    cache: dict[frozenset[str], Fraction] = {}

    def worth(coalition: frozenset[str]) -> Fraction:
        if coalition not in cache:
            cache[coalition] = value(coalition)
        return cache[coalition]

    totals = dict.fromkeys(players, Fraction(0))
    for _ in range(samples):
        order = rng.sample(players, len(players))
        coalition: frozenset[str] = frozenset()
        before = worth(coalition)
        for player in order:
            coalition = coalition | {player}
            after = worth(coalition)
            totals[player] += after - before
            before = after
    return {player: total / samples for player, total in totals.items()}


class WinRates:
    """v(S) = (wins_S + m * base) / (deals_S + m): the win rate of the closed deals whose
    set of involved partners is exactly S, shrunk toward the vendor's base rate by m
    pseudo-deals (a Beta(m * base, m * (1 - base)) prior). base = (wins + 1) / (deals + 2)
    over all closed deals (Laplace), so every coalition has a value, seen or not."""

    __slots__ = ("_counts", "base", "strength")

    def __init__(
        self, deals: Iterable[ClosedDeal], *, prior_strength: Decimal = Decimal(2)
    ) -> None:
        if prior_strength <= 0:
            raise BadInput("the prior strength must be positive", field="priorStrength")
        counts: dict[frozenset[str], tuple[int, int]] = {}
        wins = total = 0
        for deal in deals:
            key = frozenset(deal.partners)
            won, seen = counts.get(key, (0, 0))
            counts[key] = (won + deal.won, seen + 1)
            wins += deal.won
            total += 1
        self._counts = counts
        self.base = Fraction(wins + 1, total + 2)
        self.strength = Fraction(prior_strength)

    def __call__(self, coalition: frozenset[str]) -> Fraction:
        won, seen = self._counts.get(coalition, (0, 0))
        return (won + self.strength * self.base) / (seen + self.strength)

    def shapley(self, players: Iterable[str]) -> dict[str, Fraction]:
        """Exact Shapley values of this game, equal to shapley_values(players, self) but
        in O(seen coalitions within the players * n) rather than O(2**n * n).

        v = base + sum over seen T of d_T * [S == T], with d_T = v(T) - base (an unseen
        coalition is worth exactly base). A constant game gives nothing, and the game
        [S == T] gives i in T: w(|T| - 1), i not in T: -w(|T|), where
        w(s) = s! (n - s - 1)! / n!. Sum those over the seen T within the players.
        """
        ordered = sorted(set(players))
        n = len(ordered)
        if n == 0:
            return {}
        w = [Fraction(factorial(s) * factorial(n - s - 1), factorial(n)) for s in range(n)]
        phi = dict.fromkeys(ordered, Fraction(0))
        for coalition in self._seen_within(ordered):
            gap = self(coalition) - self.base
            if gap == 0:
                continue
            joins = w[len(coalition) - 1] * gap if coalition else Fraction(0)
            leaves = w[len(coalition)] * gap if len(coalition) < n else Fraction(0)
            for player in ordered:
                phi[player] += joins if player in coalition else -leaves
        return phi

    def _seen_within(self, players: Sequence[str]) -> Iterable[frozenset[str]]:
        if 1 << len(players) <= len(self._counts):
            for mask in range(1 << len(players)):
                coalition = frozenset(p for bit, p in enumerate(players) if mask >> bit & 1)
                if coalition in self._counts:
                    yield coalition
        else:
            members = set(players)
            yield from (c for c in self._counts if c <= members)
