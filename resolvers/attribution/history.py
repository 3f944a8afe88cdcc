"""The vendor's closed deals, as the estimates SHAPLEY and MARKOV read."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from resolvers.attribution.markov import TouchChain
from resolvers.attribution.shapley import WinRates
from resolvers.attribution.types import ClosedDeal


class History:
    """Estimates built once from a vendor's closed deals and reused for every deal being
    attributed (building them is O(deals); rebuilding per deal would be quadratic).

    Each estimate is built on first use, so a History costs nothing for the models that
    ignore it. Shuffling the deals changes nothing: both estimates are built from counts.
    """

    __slots__ = ("_chain", "_deals", "_rates", "prior_strength")

    def __init__(
        self, deals: Iterable[ClosedDeal] = (), *, prior_strength: Decimal = Decimal(2)
    ) -> None:
        self._deals = tuple(deals)
        self.prior_strength = prior_strength
        self._rates: WinRates | None = None
        self._chain: TouchChain | None = None

    @property
    def win_rates(self) -> WinRates:
        """SHAPLEY's characteristic function."""
        if self._rates is None:
            self._rates = WinRates(self._deals, prior_strength=self.prior_strength)
        return self._rates

    @property
    def chain(self) -> TouchChain:
        """MARKOV's chain, with its removal effects cached per partner."""
        if self._chain is None:
            self._chain = TouchChain(self._deals)
        return self._chain
