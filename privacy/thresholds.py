"""k-anonymity thresholds for counts a partner shares at COUNTS level only.

A COUNTS grant must never let a viewer learn whether one particular account is in the
partner's list. A count over a small viewer population, or a small count, would: the
viewer could build a population of one account and read 0 or 1. Such cells are shown
as suppressed, never as a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.model import SharingLevel

DEFAULT_K = 5


@dataclass(frozen=True, slots=True)
class CellView:
    my_population: str
    partner_population: str
    level: SharingLevel
    my_count: int | None  # None when suppressed
    partner_count: int | None
    suppressed: bool
    reason: str | None = None  # why it is suppressed


BELOW_K = "fewer than k accounts"
CHANGED = "your population changed since its last answer within the window"


def cell_view(
    my_population: str,
    partner_population: str,
    level: SharingLevel,
    *,
    my_count: int,
    partner_count: int,
    my_population_size: int,
    k: int = DEFAULT_K,
) -> CellView | None:
    """What the viewer sees of one cell, or None when the cell does not exist for it."""
    if level is SharingLevel.HIDDEN:
        return None
    if level is SharingLevel.COUNTS and (
        my_population_size < k or my_count < k or partner_count < k
    ):
        return CellView(my_population, partner_population, level, None, None, True, BELOW_K)
    return CellView(my_population, partner_population, level, my_count, partner_count, False)
