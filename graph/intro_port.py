"""The discovery and introductions half of the GraphStore port.

Rules (who may move an introduction where, how discovery scores) live in
`resolvers.intros`; a store keeps records and enforces what only it can: one open
introduction per pair of orgs and compare-and-set moves, race-free across processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from graph.intros import (
    AccountAsk,
    AskStatus,
    Candidate,
    CandidateSignals,
    IntroducedEdge,
    Introduction,
    IntroStatus,
)
from graph.model import Page, Partnership

IntroRole = Literal["requester", "target", "broker"]
AskSide = Literal["requester", "partner"]


class IntroStore(Protocol):
    # --- discovery ----------------------------------------------------------------------

    async def discovery_candidates(self, acting_org: str, *, limit: int) -> list[Candidate]:
        """Orgs discovery may suggest to the acting org: not itself, no live (INVITED or
        ACTIVE) partnership with it, no block in either direction, and either
        discoverable or sharing at least one ACTIVE partner with it (an org both have an
        ACTIVE partnership with). At most `limit`, ordered by (number of shared partners
        descending, org id)."""
        ...

    async def candidate_signals(
        self, acting_org: str, candidate_ids: Sequence[str], *, population: str
    ) -> dict[str, CandidateSignals]:
        """For each candidate among `candidate_ids`: customer_overlap = the number of
        the acting org's accounts in `population` sharing a key (any kind) with one of
        the candidate's accounts in `population`; co_won_deals = the number of distinct
        deals (vendor, vendor account, product line) on which both orgs hold a WON
        registration. Every id given is in the result (zeros when nothing)."""
        ...

    # --- blocks -------------------------------------------------------------------------

    async def set_block(
        self, acting_org: str, other_org: str, blocked: bool, *, at: datetime
    ) -> bool:
        """Block (or unblock) `other_org` from the acting org's discovery and requests.
        Returns whether anything changed."""
        ...

    async def blocked_between(self, org_a: str, org_b: str) -> bool:
        """True when either org blocks the other."""
        ...

    async def blocked_orgs(self, acting_org: str) -> list[str]:
        """The orgs the acting org blocks, ordered by id."""
        ...

    # --- introductions ------------------------------------------------------------------

    async def insert_introduction(self, introduction: Introduction) -> Introduction:
        """Insert a new open introduction. Conflict when an open one (REQUESTED or
        FORWARDED) holds the same pair_key, also under concurrent inserts."""
        ...

    async def get_introductions(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, Introduction]:
        """The introductions among `ids` the acting org may see: as requester or broker
        always; as target only once it reached the target (direct, or forwarded)."""
        ...

    async def list_introductions(
        self,
        acting_org: str,
        *,
        role: IntroRole,
        statuses: Sequence[IntroStatus] | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Introduction]:
        """The acting org's introductions in one role (as get_introductions sees them),
        newest first (id descending)."""
        ...

    async def update_introduction(
        self, current: Introduction, new: Introduction
    ) -> Introduction | None:
        """Compare-and-set on status: write `new` only while the stored one still has
        `current.status`; the pair_key is released when `new.status` is not open. None
        when it changed in between."""
        ...

    async def accept_introduction(
        self,
        current: Introduction,
        new: Introduction,
        partnership: Partnership,
        edge: IntroducedEdge,
    ) -> Introduction | None:
        """In one transaction: compare-and-set like update_introduction (to ACCEPTED,
        pair_key released), insert `partnership` as given (status ACTIVE, with its
        activated_at) and record `edge`. None when the introduction changed in between;
        Conflict (nothing written) when the pair already has a live partnership."""
        ...

    async def expire_introductions(self, now: datetime, *, limit: int) -> list[Introduction]:
        """Open introductions with expires_at <= now become EXPIRED (updated_at = now,
        pair_key released), at most `limit`, earliest expiry first; returns them."""
        ...

    async def last_declined(self, requester_org: str, target_org: str) -> datetime | None:
        """When the target (or a broker) last declined an introduction from this
        requester to this target, if ever."""
        ...

    async def requests_since(self, acting_org: str, since: datetime) -> int:
        """Introductions plus account asks the acting org created at or after `since`."""
        ...

    async def introduced_edges(self, org_ids: Sequence[str]) -> list[IntroducedEdge]:
        """INTRODUCED edges touching any of `org_ids` (as credited, from or to),
        ordered by time then introduction id."""
        ...

    # --- account-level asks -------------------------------------------------------------

    async def insert_ask(self, ask: AccountAsk) -> AccountAsk:
        """Insert a new ask (Conflict if the id exists)."""
        ...

    async def get_asks(self, acting_org: str, ids: Sequence[str]) -> dict[str, AccountAsk]:
        """The asks among `ids` the acting org made or was asked."""
        ...

    async def list_asks(
        self,
        acting_org: str,
        *,
        side: AskSide,
        statuses: Sequence[AskStatus] | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[AccountAsk]:
        """Asks the acting org made (side="requester") or received ("partner"),
        newest first (id descending)."""
        ...

    async def update_ask(self, current: AccountAsk, new: AccountAsk) -> AccountAsk | None:
        """Compare-and-set on status; None when it changed in between."""
        ...

    async def expire_asks(self, now: datetime, *, limit: int) -> list[AccountAsk]:
        """Open asks with expires_at <= now become EXPIRED; returns them."""
        ...
