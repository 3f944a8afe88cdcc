"""DataLoaders, created per request so their caches never outlive it."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from graph.model import Org
from graph.port import GraphStore


class Loaders:
    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self.org: DataLoader[str, Org | None] = DataLoader(load_fn=self._load_orgs)

    async def _load_orgs(self, ids: Sequence[str]) -> list[Org | None]:
        found = await self._store.get_orgs(list(ids))
        return [found.get(org_id) for org_id in ids]
