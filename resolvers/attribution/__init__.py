"""Partner attribution: who made a won deal happen, as plain, pure functions.

    attribute(model, amount=..., currency=..., close_at=..., paths=..., history=...)

takes an opportunity's influence paths (graph.touches.InfluencePath) and returns each
partner's credit share and amount, summing exactly to the opportunity amount. The window,
hop decay and rounding are shared by all models; docs/attribution.md has the formulas.
"""

from resolvers.attribution.allocate import allocate
from resolvers.attribution.attribute import attribute, model_weights
from resolvers.attribution.history import History
from resolvers.attribution.markov import TouchChain
from resolvers.attribution.shapley import WinRates, shapley_values
from resolvers.attribution.types import (
    DEFAULT_CONFIG,
    Attribution,
    AttributionConfig,
    AttributionModel,
    ClosedDeal,
    Credit,
    Event,
)
from resolvers.attribution.window import events, path_weight, paths_in_window

__all__ = [
    "DEFAULT_CONFIG",
    "Attribution",
    "AttributionConfig",
    "AttributionModel",
    "ClosedDeal",
    "Credit",
    "Event",
    "History",
    "TouchChain",
    "WinRates",
    "allocate",
    "attribute",
    "events",
    "model_weights",
    "path_weight",
    "paths_in_window",
    "shapley_values",
]
