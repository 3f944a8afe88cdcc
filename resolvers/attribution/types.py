"""The attribution models' vocabulary: which model, its settings, and what it returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from graph.touches import TouchKind


class AttributionModel(enum.StrEnum):
    FIRST_TOUCH = "FIRST_TOUCH"
    LAST_TOUCH = "LAST_TOUCH"
    LINEAR = "LINEAR"
    TIME_DECAY = "TIME_DECAY"
    POSITION_BASED = "POSITION_BASED"
    W_SHAPED = "W_SHAPED"
    SHAPLEY = "SHAPLEY"
    MARKOV = "MARKOV"


@dataclass(frozen=True, slots=True)
class AttributionConfig:
    """Every knob of every model, with the documented defaults (docs/attribution.md)."""

    window_days: int = 365  # paths with a step earlier than close - window are dropped
    hop_decay: Decimal = Decimal("0.5")  # a path with h hops weighs hop_decay**h
    half_life_days: Decimal = Decimal(7)  # TIME_DECAY
    exact_shapley_max: int = 12  # SHAPLEY: exact up to this many partners, sampled above
    shapley_samples: int = 2000  # SHAPLEY: permutations when sampling
    seed: int = 0  # SHAPLEY: the sampler's fixed seed
    share_places: int = 6  # decimal places of each credit share


DEFAULT_CONFIG = AttributionConfig()


@dataclass(frozen=True, slots=True)
class Event:
    """One in-window path seen by a model: the origin's action at the path's first step,
    credited to the origin, weighing (product of step weights) * hop_decay**hops."""

    at: datetime
    partner_org: str
    kind: TouchKind
    hops: int
    weight: Fraction

    def sort_key(self) -> tuple[datetime, str, str, int, Fraction]:
        """Time order; ties by partner id, then kind, hops and weight (a total order on
        everything a model reads, so equal keys are interchangeable)."""
        return (self.at, self.partner_org, self.kind.value, self.hops, self.weight)


@dataclass(frozen=True, slots=True)
class ClosedDeal:
    """One of the vendor's closed opportunities, as SHAPLEY and MARKOV learn from it: its
    partner touches' partner ids in time order (repeats allowed; an empty tuple is a deal
    no partner touched) and whether it was won."""

    partners: tuple[str, ...]
    won: bool


@dataclass(frozen=True, slots=True)
class Credit:
    partner_org: str
    share: Decimal  # of the opportunity, share_places decimals; shares sum to exactly 1
    amount: Decimal  # in the currency's minor units; amounts sum to exactly the total


@dataclass(frozen=True, slots=True)
class Attribution:
    model: AttributionModel
    amount: Decimal
    currency: str
    credits: tuple[Credit, ...]  # by partner id; empty when no path is in the window
