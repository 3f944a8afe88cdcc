"""DataLoaders, created per request so their caches never outlive it.

Every relation a field resolver follows goes through one of these, so a list of N
objects costs one store call per relation, not N. Loaders of tenant data are keyed by
(viewer org, id) and call the store scoped to that org, exactly as the single-object
reads they replace: batching changes how many calls are made, never what they see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from graph.deals import DealRegistration, DealTransition, Opportunity
from graph.model import Account, Org
from graph.port import GraphStore
from graph.webhooks import WebhookEndpoint
from resolvers.clock import utcnow
from resolvers.deals.queries import CoRegistrant, co_registrants

V = TypeVar("V")
# (viewer org, object id): the org every read of the object is scoped to.
Scoped = tuple[str, str]


async def _by_org(
    keys: Sequence[Scoped],
    fetch: Callable[[str, list[str]], Awaitable[Mapping[str, V]]],
) -> list[V | None]:
    """One `fetch(org, ids)` per distinct org among `keys` (one in practice: the
    viewer's), each id asked once, answers in key order."""
    wanted: dict[str, dict[str, None]] = {}
    for org, object_id in keys:
        wanted.setdefault(org, {})[object_id] = None
    found: dict[Scoped, V] = {}
    for org, ids in wanted.items():
        for object_id, value in (await fetch(org, list(ids))).items():
            found[(org, object_id)] = value
    return [found.get(key) for key in keys]


class Loaders:
    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self.org: DataLoader[str, Org | None] = DataLoader(load_fn=self._load_orgs)
        self.account: DataLoader[Scoped, Account | None] = DataLoader(load_fn=self._load_accounts)
        self.opportunity: DataLoader[Scoped, Opportunity | None] = DataLoader(
            load_fn=self._load_opportunities
        )
        self.co_registrants: DataLoader[DealRegistration, list[CoRegistrant]] = DataLoader(
            load_fn=self._load_co_registrants, cache_key_fn=lambda r: r.id
        )
        self.deal_history: DataLoader[Scoped, list[DealTransition]] = DataLoader(
            load_fn=self._load_deal_history
        )
        self.webhook_endpoint: DataLoader[Scoped, WebhookEndpoint | None] = DataLoader(
            load_fn=self._load_webhook_endpoints
        )

    async def _load_orgs(self, ids: Sequence[str]) -> list[Org | None]:
        found = await self._store.get_orgs(list(ids))
        return [found.get(org_id) for org_id in ids]

    async def _load_accounts(self, keys: Sequence[Scoped]) -> list[Account | None]:
        return await _by_org(keys, self._store.get_accounts)

    async def _load_opportunities(self, keys: Sequence[Scoped]) -> list[Opportunity | None]:
        return await _by_org(keys, self._store.get_opportunities)

    async def _load_co_registrants(
        self, registrations: Sequence[DealRegistration]
    ) -> list[list[CoRegistrant]]:
        found = await co_registrants(self._store, registrations, now=utcnow())
        return [found[r.id] for r in registrations]

    async def _load_deal_history(self, keys: Sequence[Scoped]) -> list[list[DealTransition]]:
        found = await _by_org(keys, self._store.deal_histories)
        return [entries or [] for entries in found]

    async def _load_webhook_endpoints(self, keys: Sequence[Scoped]) -> list[WebhookEndpoint | None]:
        return await _by_org(keys, self._store.get_webhook_endpoints)
