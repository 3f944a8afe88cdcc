"""MARKOV: a first-order chain over partner touches, and each partner's removal effect.

States: START, one per partner, and the absorbing CONVERSION and NULL. Every closed deal
walks START -> its partners in time order (consecutive repeats collapsed: a self-loop
does not change where a walk ends) -> CONVERSION if won, NULL if lost. Transition
probabilities are the observed transition counts over each state's outgoing total.

P(conv) is the probability that a walk from START is absorbed in CONVERSION; removing a
partner sends every transition into it to NULL. removal_effect(p) = 1 - P_without_p /
P(conv), 0 when P(conv) = 0 or p never appears.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from resolvers.attribution.types import ClosedDeal

_CONVERSION = -1
_NULL = -2


class TouchChain:
    __slots__ = ("_index", "_partners", "_removal", "_rows", "p_conversion")

    def __init__(self, deals: Iterable[ClosedDeal]) -> None:
        walks: Counter[tuple[tuple[str, ...], bool]] = Counter()
        for deal in deals:
            collapsed = tuple(
                p for i, p in enumerate(deal.partners) if i == 0 or p != deal.partners[i - 1]
            )
            walks[(collapsed, deal.won)] += 1
        self._partners = sorted({p for walk, _ in walks for p in walk})
        self._index = {p: i + 1 for i, p in enumerate(self._partners)}
        counts: list[Counter[int]] = [Counter() for _ in range(len(self._partners) + 1)]
        for (walk, won), times in walks.items():
            state = 0
            for partner in walk:
                counts[state][self._index[partner]] += times
                state = self._index[partner]
            counts[state][_CONVERSION if won else _NULL] += times
        # each transient state's row: sorted (target, probability), for a stable solve
        self._rows = [
            [(target, n / sum(row.values())) for target, n in sorted(row.items())] for row in counts
        ]
        self._removal: dict[str, float] = {}
        self.p_conversion = self._solve(None)

    def removal_effect(self, partner: str) -> float:
        removed = self._index.get(partner)
        if removed is None or self.p_conversion <= 0:
            return 0.0
        if partner not in self._removal:
            self._removal[partner] = 1.0 - self._solve(removed) / self.p_conversion
        return self._removal[partner]

    def _solve(self, removed: int | None) -> float:
        """Absorption probability in CONVERSION from START: solve (I - Q) x = b by
        Gaussian elimination with partial pivoting, states in a fixed order."""
        n = len(self._rows)
        matrix = [[0.0] * n + [0.0] for _ in range(n)]
        for state in range(n):
            matrix[state][state] = 1.0
            if state == removed:
                continue  # unreachable now; x = 0
            for target, p in self._rows[state]:
                if target == _CONVERSION:
                    matrix[state][n] += p
                elif target >= 0 and target != removed:
                    matrix[state][target] -= p
        for col in range(n):
            pivot = max(range(col, n), key=lambda r: abs(matrix[r][col]))
            matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
            head = matrix[col]
            for r in range(n):
                if r != col and matrix[r][col] != 0.0:
                    factor = matrix[r][col] / head[col]
                    target_row = matrix[r]
                    for c in range(col, n + 1):
                        target_row[c] -= factor * head[c]
        return matrix[0][n] / matrix[0][0]
