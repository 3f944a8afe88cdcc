"""k-threshold suppression of COUNTS cells, exhaustively around k."""

from __future__ import annotations

import itertools

import pytest

from graph.model import SharingLevel
from privacy.thresholds import cell_view

K = 5


@pytest.mark.parametrize(
    ("size", "mine", "theirs"),
    [(s, m, t) for s, m, t in itertools.product((0, 4, 5, 50), (0, 4, 5), (0, 4, 5)) if m <= s],
)
@pytest.mark.parametrize("level", list(SharingLevel))
def test_cells_by_level_and_threshold(
    level: SharingLevel, size: int, mine: int, theirs: int
) -> None:
    view = cell_view(
        "P", "Q", level, my_count=mine, partner_count=theirs, my_population_size=size, k=K
    )
    if level is SharingLevel.HIDDEN:
        assert view is None
        return
    assert view is not None
    small = size < K or mine < K or theirs < K
    if level is SharingLevel.COUNTS and small:
        assert view.suppressed
        assert view.my_count is None
        assert view.partner_count is None
    else:
        assert not view.suppressed
        assert (view.my_count, view.partner_count) == (mine, theirs)
