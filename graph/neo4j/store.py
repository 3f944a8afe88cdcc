"""Neo4jStore: the GraphStore port on the official async driver.

Every call opens a session on the configured database and runs one managed transaction
(`execute_read` / `execute_write`), so the driver retries transient failures; the work
functions only run their one statement and read its rows, which makes them idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, LiteralString, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import ConfigurationError as DriverConfigurationError

from graph.errors import BadInput, ConfigurationError, Forbidden, NotFound
from graph.model import Org, Page, Partnership, PartnershipStatus, SharingRule
from graph.neo4j import cypher
from graph.neo4j.errors import describe, domain_errors
from graph.neo4j.records import (
    Row,
    org_from,
    org_params,
    pair_key,
    partnership_from,
    partnership_params,
    sharing_rule_from,
    sharing_rule_key,
    sharing_rule_params,
)

T = TypeVar("T")

LIVE_STATUSES = [str(s) for s in PartnershipStatus if s.is_live]


async def _rows(
    tx: AsyncManagedTransaction, query: LiteralString, params: dict[str, Any]
) -> list[Row]:
    """Run one statement and collect its `row` column."""
    result = await tx.run(query, params)
    return [record["row"] async for record in result]


async def _consume(
    tx: AsyncManagedTransaction, query: LiteralString, params: dict[str, Any]
) -> list[Row]:
    """Run one statement that returns nothing of interest."""
    result = await tx.run(query, params)
    await result.consume()
    return []


def _page(rows: list[Row], first: int, convert: Callable[[Row], T]) -> tuple[list[T], bool]:
    return [convert(row) for row in rows[:first]], len(rows) > first


def _check_first(first: int) -> None:
    if first < 0:
        raise BadInput("first must not be negative", field="first")


class Neo4jStore:
    def __init__(
        self,
        url: str,
        *,
        user: str | None,
        password: str | None,
        database: str = "neo4j",
        allow_reset: bool = False,
    ) -> None:
        self._server = describe(url)
        self._database = database
        self._allow_reset = allow_reset
        auth = (user, password or "") if user else None
        try:
            self._driver: AsyncDriver = AsyncGraphDatabase.driver(
                url,
                auth=auth,
                connection_timeout=5.0,
                # Fail a request within seconds while the server is away instead of the
                # driver's default 30 s of retries; /readyz and clients learn sooner.
                max_transaction_retry_time=5.0,
            )
        except (DriverConfigurationError, ValueError) as exc:
            raise ConfigurationError(f"invalid Neo4j URL {self._server}: {exc}") from exc

    @property
    def backend(self) -> str:
        return "neo4j"

    # --- plumbing ---------------------------------------------------------------------

    async def _read(self, query: LiteralString, **params: Any) -> list[Row]:
        with domain_errors(self._server, self._database):
            async with self._driver.session(database=self._database) as session:
                return await session.execute_read(_rows, query, params)

    async def _write(self, query: LiteralString, **params: Any) -> list[Row]:
        with domain_errors(self._server, self._database):
            async with self._driver.session(database=self._database) as session:
                return await session.execute_write(_rows, query, params)

    async def _run_schema(self, query: LiteralString) -> None:
        with domain_errors(self._server, self._database):
            async with self._driver.session(database=self._database) as session:
                await session.execute_write(_consume, query, {})

    # --- lifecycle --------------------------------------------------------------------

    async def apply_schema(self) -> None:
        for statement in cypher.SCHEMA:
            await self._run_schema(statement)
        await self._run_schema(cypher.AWAIT_INDEXES)

    async def ping(self) -> None:
        # An auto-commit query: no retries, so an unreachable server fails fast.
        with domain_errors(self._server, self._database):
            async with self._driver.session(database=self._database) as session:
                result = await session.run(cypher.PING)
                await result.consume()

    async def close(self) -> None:
        await self._driver.close()

    async def reset(self) -> None:
        if not self._allow_reset:
            raise Forbidden("reset() deletes everything; open the store with allow_reset=True")
        await self._write(cypher.RESET)

    # --- orgs -------------------------------------------------------------------------

    async def create_org(self, org: Org) -> Org:
        rows = await self._write(cypher.CREATE_ORG, org=org_params(org))
        return org_from(rows[0])

    async def get_orgs(self, ids: Sequence[str]) -> dict[str, Org]:
        if not ids:
            return {}
        rows = await self._read(cypher.GET_ORGS, ids=list(set(ids)))
        return {org.id: org for org in map(org_from, rows)}

    async def list_orgs(self, *, first: int, after: str | None = None) -> Page[Org]:
        _check_first(first)
        if after is None:
            rows = await self._read(cypher.LIST_ORGS, limit=first + 1)
        else:
            rows = await self._read(cypher.LIST_ORGS_AFTER, after=after, limit=first + 1)
        items, has_next = _page(rows, first, org_from)
        return Page(items=items, has_next=has_next, cursors=[o.id for o in items])

    async def set_org_discoverable(self, org_id: str, discoverable: bool) -> Org | None:
        rows = await self._write(cypher.SET_ORG_DISCOVERABLE, id=org_id, discoverable=discoverable)
        return org_from(rows[0]) if rows else None

    # --- partnerships -----------------------------------------------------------------

    async def insert_partnership(self, partnership: Partnership) -> Partnership:
        rows = await self._write(cypher.INSERT_PARTNERSHIP, p=partnership_params(partnership))
        if not rows:
            raise NotFound("both orgs of a partnership must exist")
        return partnership_from(rows[0])

    async def get_partnerships(self, acting_org: str, ids: Sequence[str]) -> dict[str, Partnership]:
        if not ids:
            return {}
        rows = await self._read(cypher.GET_PARTNERSHIPS, org=acting_org, ids=list(set(ids)))
        return {p.id: p for p in map(partnership_from, rows)}

    async def live_partnership(self, acting_org: str, other_org: str) -> Partnership | None:
        rows = await self._read(cypher.LIVE_PARTNERSHIP, live_key=pair_key(acting_org, other_org))
        return partnership_from(rows[0]) if rows else None

    async def counterparties(self, acting_org: str, org_ids: Sequence[str]) -> set[str]:
        keys = sorted({pair_key(acting_org, other) for other in org_ids})
        if not keys:
            return set()
        rows = await self._read(cypher.COUNTERPARTIES, org=acting_org, pair_keys=keys)
        return {row["id"] for row in rows}

    async def transition_partnership(
        self,
        acting_org: str,
        partnership_id: str,
        *,
        expected: Sequence[PartnershipStatus],
        new_status: PartnershipStatus,
        at: datetime,
    ) -> Partnership | None:
        rows = await self._write(
            cypher.TRANSITION_PARTNERSHIP,
            id=partnership_id,
            org=acting_org,
            expected=[str(s) for s in expected],
            new_status=str(new_status),
            at=at,
            live=LIVE_STATUSES,
        )
        return partnership_from(rows[0]) if rows else None

    async def list_partnerships(
        self,
        acting_org: str,
        *,
        status: PartnershipStatus | None = None,
        first: int,
        after: str | None = None,
    ) -> Page[Partnership]:
        _check_first(first)
        rows = await self._read(
            cypher.LIST_PARTNERSHIPS,
            org=acting_org,
            status=None if status is None else str(status),
            after=after,
            limit=first + 1,
        )
        items, has_next = _page(rows, first, partnership_from)
        return Page(items=items, has_next=has_next, cursors=[p.id for p in items])

    # --- sharing rules ----------------------------------------------------------------

    async def put_sharing_rule(self, rule: SharingRule) -> SharingRule:
        rows = await self._write(
            cypher.PUT_SHARING_RULE, key=sharing_rule_key(rule), rule=sharing_rule_params(rule)
        )
        return sharing_rule_from(rows[0])

    async def sharing_rules(self, from_org: str, to_org: str) -> list[SharingRule]:
        rows = await self._read(cypher.SHARING_RULES, from_org=from_org, to_org=to_org)
        return [sharing_rule_from(row) for row in rows]
