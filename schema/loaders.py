"""DataLoaders, created per request so their caches never outlive it."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from graph.deals import DealRegistration
from graph.model import Org
from graph.port import GraphStore
from resolvers.clock import utcnow
from resolvers.deals.queries import CoRegistrant, co_registrants


class Loaders:
    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self.org: DataLoader[str, Org | None] = DataLoader(load_fn=self._load_orgs)
        self.co_registrants: DataLoader[DealRegistration, list[CoRegistrant]] = DataLoader(
            load_fn=self._load_co_registrants, cache_key_fn=lambda r: r.id
        )

    async def _load_orgs(self, ids: Sequence[str]) -> list[Org | None]:
        found = await self._store.get_orgs(list(ids))
        return [found.get(org_id) for org_id in ids]

    async def _load_co_registrants(
        self, registrations: Sequence[DealRegistration]
    ) -> list[list[CoRegistrant]]:
        found = await co_registrants(self._store, registrations, now=utcnow())
        return [found[r.id] for r in registrations]
