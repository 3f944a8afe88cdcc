"""The GraphStore port: everything the resolvers may ask of a graph store.

Both adapters (`graph.neo4j`, `graph.sql`) implement it and pass one contract suite
(`tests/contract`). Rules every implementation keeps:

- Calls that read or change tenant data take the acting org first and scope by it:
  a partnership the acting org is not party to does not exist for that call.
- Lists are keyset-paginated: `after` is an opaque cursor the same store returned.
- Writes are atomic per call; a failed call leaves nothing behind.
- Unreachable backends raise `StoreUnavailable`, never a driver exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from graph.model import Org, Page, Partnership, PartnershipStatus, SharingRule


class GraphStore(Protocol):
    @property
    def backend(self) -> str:
        """Short backend name: "sqlite", "postgresql" or "neo4j"."""
        ...

    async def apply_schema(self) -> None:
        """Create constraints, indexes or tables; idempotent."""
        ...

    async def ping(self) -> None:
        """Round-trip to the backend; raises StoreUnavailable when it does not answer."""
        ...

    async def close(self) -> None: ...

    async def create_org(self, org: Org) -> Org:
        """Insert an org; Conflict if the id exists."""
        ...

    async def get_orgs(self, ids: Sequence[str]) -> dict[str, Org]:
        """The orgs among `ids` that exist, by id (one round trip for any number)."""
        ...

    async def list_orgs(self, *, first: int, after: str | None = None) -> Page[Org]:
        """All orgs, ordered by id. For admin tooling and seeding, not for tenants."""
        ...

    async def set_org_discoverable(self, org_id: str, discoverable: bool) -> Org | None: ...

    async def insert_partnership(self, partnership: Partnership) -> Partnership:
        """Insert a new INVITED partnership. Conflict when the pair already has a live one
        (INVITED or ACTIVE, in either direction), also under concurrent inserts."""
        ...

    async def get_partnerships(self, acting_org: str, ids: Sequence[str]) -> dict[str, Partnership]:
        """The partnerships among `ids` that `acting_org` is party to."""
        ...

    async def live_partnership(self, acting_org: str, other_org: str) -> Partnership | None:
        """The INVITED or ACTIVE partnership between the two orgs, if any."""
        ...

    async def counterparties(self, acting_org: str, org_ids: Sequence[str]) -> set[str]:
        """The orgs among `org_ids` that have ever had a partnership (any status, either
        direction) with `acting_org`; one round trip for any number of ids."""
        ...

    async def transition_partnership(
        self,
        acting_org: str,
        partnership_id: str,
        *,
        expected: Sequence[PartnershipStatus],
        new_status: PartnershipStatus,
        at: datetime,
    ) -> Partnership | None:
        """Compare-and-set the status. Returns the updated partnership, or None when the
        partnership is not the acting org's or its status is not in `expected`.
        Moving to a non-live status (ENDED, DECLINED) deletes the sharing rules between
        the pair, both directions, in the same transaction."""
        ...

    async def list_partnerships(
        self,
        acting_org: str,
        *,
        status: PartnershipStatus | None = None,
        first: int,
        after: str | None = None,
    ) -> Page[Partnership]:
        """The acting org's partnerships, newest first."""
        ...

    async def put_sharing_rule(self, rule: SharingRule) -> SharingRule:
        """Insert or replace the rule for (from_org, to_org, population)."""
        ...

    async def sharing_rules(self, from_org: str, to_org: str) -> list[SharingRule]:
        """Every rule `from_org` has set for `to_org`, ordered by population."""
        ...


class ResettableStore(GraphStore, Protocol):
    async def reset(self) -> None:
        """Delete all data. Tests only; refuses unless the store was opened for tests."""
        ...
