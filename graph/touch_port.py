"""The influence half of the GraphStore port: touches and influence paths.

The attribution models (resolvers.attribution) are pure functions over the paths a
store returns; every store must return the same paths for the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol

from graph.deals import Opportunity
from graph.model import Page
from graph.touches import InfluencePath, Touch, TouchStatus, TouchWrite

TouchSide = Literal["vendor", "partner"]


class TouchStore(Protocol):
    async def record_touches(self, touches: Sequence[Touch]) -> list[TouchWrite]:
        """Insert or replace touches by (vendor_org, recorded_by, external_id), all in one
        transaction, results in input order. Replacing keeps the stored id and
        created_at and takes every other field from the input. The caller has checked
        that account and opportunity are the vendor's. Inputs must have distinct
        (vendor_org, recorded_by, external_id) (BadInput)."""
        ...

    async def get_touches(self, acting_org: str, ids: Sequence[str]) -> dict[str, Touch]:
        """The touches among `ids` whose vendor or partner is the acting org."""
        ...

    async def list_touches(
        self,
        acting_org: str,
        *,
        side: TouchSide,
        statuses: Sequence[TouchStatus] | None = None,
        opportunity_id: str | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Touch]:
        """Touches where the acting org is the vendor or the partner, newest first
        (id descending), filtered."""
        ...

    async def set_touch_status(
        self,
        vendor_org: str,
        ids: Sequence[str],
        *,
        expected: TouchStatus,
        status: TouchStatus,
    ) -> list[Touch]:
        """Compare-and-set: the vendor's touches among `ids` currently in `expected`
        move to `status`, in one transaction. Returns the moved ones (new state),
        ordered by id."""
        ...

    async def closed_opportunities(
        self,
        vendor_org: str,
        *,
        closed_from: datetime,
        closed_to: datetime,
        first: int,
        after: str | None = None,
    ) -> Page[Opportunity]:
        """The vendor's WON and LOST opportunities with closed_from <= closed_at <
        closed_to, ordered by id."""
        ...

    async def influence_paths(
        self,
        vendor_org: str,
        opportunity_ids: Sequence[str],
        *,
        max_hops: int,
        window: timedelta,
        now: datetime,
    ) -> dict[str, list[InfluencePath]]:
        """For each of the vendor's opportunities among `ids` (others are absent), every
        influence path to it. The window ends at the opportunity's closed_at (or `now`
        while it is OPEN) and starts `window` earlier; both ends are included.

        - Hop 0: each CONFIRMED touch of the vendor on the opportunity, or on its
          account with no opportunity given, at a time inside the window, is the path
          (PathStep(touch.partner_org, touch.kind, touch.at, touch.weight),).
        - Hop h+1: for a path whose first step is by org O at time t, each INTRODUCED
          edge E with O in (E.from_org, E.to_org), E.credited_org not O and not already
          on the path, and window start <= E.at <= t, gives the path
          (PathStep(E.credited_org, TouchKind.INTRO, E.at, 1, target_org=O),) + path.
        - At most `max_hops` hops. Paths come ordered by (hops, then the steps as
          (at, partner_org, kind, target_org) tuples)."""
        ...
