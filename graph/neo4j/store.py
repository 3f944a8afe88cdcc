"""Neo4jStore: the GraphStore port on the official async driver.

Every call opens a session on the configured database and runs one managed transaction
(`execute_read` / `execute_write`), so the driver retries transient failures; the work
functions only run their one statement and read its rows, which makes them idempotent.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, LiteralString, TypeVar, cast

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import ConfigurationError as DriverConfigurationError
from neo4j.exceptions import ConstraintError, TransientError

from graph.errors import (
    BadInput,
    ConfigurationError,
    Conflict,
    Forbidden,
    NotFound,
    StoreUnavailable,
)
from graph.matrix_cache import MatrixCache
from graph.model import (
    ID_ORDER,
    NO_FILTER,
    Account,
    AccountFilter,
    AccountUpsert,
    KeyKind,
    KeyState,
    Org,
    OverlapCell,
    OverlapMatch,
    OverlapOrder,
    OverlapSort,
    Page,
    Partnership,
    PartnershipStatus,
    SharingRule,
    SortDirection,
    UpsertResult,
)
from graph.neo4j import cypher, deal_cypher, intro_cypher, touch_cypher, webhook_cypher
from graph.neo4j.deals import Neo4jDeals
from graph.neo4j.errors import describe, domain_errors
from graph.neo4j.intros import Neo4jIntros
from graph.neo4j.records import (
    Row,
    account_from,
    account_params,
    dump_values,
    key_state_from,
    key_state_params,
    org_from,
    org_from_values,
    org_params,
    overlap_match_from,
    pair_key,
    partnership_from,
    partnership_params,
    sharing_rule_from,
    sharing_rule_key,
    sharing_rule_params,
    to_datetime,
)
from graph.neo4j.statements import check_aware, fetch_rows
from graph.neo4j.touches import Neo4jTouches
from graph.neo4j.webhooks import Neo4jWebhooks, add_outbox
from graph.paging import after_key, check_first, order_cursor, page
from graph.webhooks import OutboxEvent

T = TypeVar("T")

LIVE_STATUSES = [str(s) for s in PartnershipStatus if s.is_live]


async def _consume(
    tx: AsyncManagedTransaction, query: LiteralString, params: dict[str, Any]
) -> list[Row]:
    """Run one statement that returns nothing of interest."""
    result = await tx.run(query, params)
    await result.consume()
    return []


def _convert(rows: list[Row], first: int, convert: Callable[[Row], T]) -> list[T]:
    """The first `first + 1` rows converted: graph.paging.page keeps `first` of them."""
    return [convert(row) for row in rows[: first + 1]]


async def _lock_key_state(tx: AsyncManagedTransaction) -> KeyState:
    """Take the key-state lock (held until the transaction ends) and read the state."""
    rows = await fetch_rows(tx, cypher.LOCK_KEY_STATE, {})
    return key_state_from(rows[0])


async def _delete_orphan_keys(tx: AsyncManagedTransaction, hashes: set[str]) -> None:
    if hashes:
        await _consume(tx, cypher.DELETE_ORPHAN_KEYS, {"hs": sorted(hashes)})


# A constraint error in a transaction that holds the key-state lock can only come from
# creating the KeyState node itself (two first-ever writers) or from a caller's clash
# (a reused account id); the first goes away on retry, the second stays a Conflict.
_CONSTRAINT_RETRIES = 3
# Writers of one claim, introduction, ask or delivery queue on its node's write lock.
# Deadlocks between writers (a lock-order clash, or the lock manager's racy detection)
# are transient, and the driver's own retry budget is short (5 s): a locked write keeps
# retrying them for this long, then says StoreUnavailable, never a driver error.
TRANSIENT_RETRY_SECONDS = 60.0


class Neo4jStore(Neo4jDeals, Neo4jIntros, Neo4jTouches, Neo4jWebhooks):
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
        self.matrix_cache = MatrixCache()
        auth = (user, password or "") if user else None
        try:
            self._driver: AsyncDriver = AsyncGraphDatabase.driver(
                url,
                auth=auth,
                connection_timeout=5.0,
                # Fail a request within seconds while the server is away instead of the
                # driver's default 30 s of retries; /readyz and clients learn sooner.
                max_transaction_retry_time=5.0,
                # Planner notices (an unset property read before it was ever written) would
                # be logged on every call; the queries are tested, not tuned at run time.
                notifications_min_severity="OFF",
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
                return await session.execute_read(fetch_rows, query, params)

    async def _write(self, query: LiteralString, **params: Any) -> list[Row]:
        with domain_errors(self._server, self._database):
            async with self._driver.session(database=self._database) as session:
                return await session.execute_write(fetch_rows, query, params)

    async def _transaction(
        self,
        work: Callable[[AsyncManagedTransaction], Awaitable[T]],
        *,
        write: bool,
        constraint_retries: int = _CONSTRAINT_RETRIES,
    ) -> T:
        """Run a multi-statement work function in one managed transaction. A constraint
        error is retried `constraint_retries` - 1 times (a concurrent insert of the same
        key: the next attempt reads it), then surfaces as Conflict."""
        with domain_errors(self._server, self._database):
            attempt = 1
            while True:
                async with self._driver.session(database=self._database) as session:
                    try:
                        if write:
                            return await session.execute_write(work)
                        return await session.execute_read(work)
                    except ConstraintError:
                        if attempt >= constraint_retries:
                            raise
                        attempt += 1

    async def _locked_write(
        self,
        work: Callable[[AsyncManagedTransaction], Awaitable[T]],
        *,
        constraint_is_answer: bool = False,
    ) -> T:
        """A write that takes node locks (claims, compare-and-set moves, leases): transient
        errors (deadlocks) are retried with jittered backoff past the driver's own budget,
        then StoreUnavailable; none reaches the caller. With `constraint_is_answer` a
        constraint error is a Conflict at once (it is the answer for a taken pair or id).
        Work functions decide only from what they read, so every attempt is as good as the
        first."""
        deadline = time.monotonic() + TRANSIENT_RETRY_SECONDS
        delay = 0.05
        retries = 1 if constraint_is_answer else _CONSTRAINT_RETRIES
        while True:
            try:
                return await self._transaction(work, write=True, constraint_retries=retries)
            except TransientError as exc:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(
                        "Neo4j kept reporting transient errors; try again later"
                    ) from exc
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, 1.0)

    async def _run_schema(self, query: LiteralString) -> None:
        with domain_errors(self._server, self._database):
            async with self._driver.session(database=self._database) as session:
                await session.execute_write(_consume, query, {})

    # --- lifecycle --------------------------------------------------------------------

    async def apply_schema(self) -> None:
        for statement in (
            *cypher.SCHEMA,
            *deal_cypher.SCHEMA,
            *intro_cypher.SCHEMA,
            *touch_cypher.SCHEMA,
            *webhook_cypher.SCHEMA,
        ):
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
        # CALL { } IN TRANSACTIONS needs an auto-commit query, not a managed transaction.
        with domain_errors(self._server, self._database):
            async with self._driver.session(database=self._database) as session:
                result = await session.run(cypher.RESET)
                await result.consume()
        self.matrix_cache.clear()

    async def dump(self) -> list[str]:
        if not self._allow_reset:
            raise Forbidden("dump() is for tests; open the store with allow_reset=True")
        rows = await self._read(cypher.DUMP)
        return [value for props in rows for value in dump_values(props)]

    # --- orgs -------------------------------------------------------------------------

    async def create_org(self, org: Org) -> Org:
        rows = await self._write(cypher.CREATE_ORG, org=org_params(org))
        return org_from(rows[0])

    async def get_orgs(self, ids: Sequence[str]) -> dict[str, Org]:
        if not ids:
            return {}
        [row] = await self._read(cypher.GET_ORGS, ids=list(set(ids)))
        return {org.id: org for org in map(org_from_values, cast(list[list[Any]], row))}

    async def list_orgs(self, *, first: int, after: str | None = None) -> Page[Org]:
        check_first(first)
        if after is None:
            rows = await self._read(cypher.LIST_ORGS, limit=first + 1)
        else:
            rows = await self._read(cypher.LIST_ORGS_AFTER, after=after, limit=first + 1)
        return page(_convert(rows, first, org_from), first, lambda o: o.id)

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
        backward: bool = False,
    ) -> Page[Partnership]:
        check_first(first)
        rows = await self._read(
            cypher.LIST_PARTNERSHIPS_BACKWARD if backward else cypher.LIST_PARTNERSHIPS,
            org=acting_org,
            status=None if status is None else str(status),
            after=after,
            limit=first + 1,
        )
        return page(
            _convert(rows, first, partnership_from), first, lambda p: p.id, backward=backward
        )

    # --- sharing rules ----------------------------------------------------------------

    async def put_sharing_rule(self, rule: SharingRule) -> SharingRule:
        rows = await self._write(
            cypher.PUT_SHARING_RULE, key=sharing_rule_key(rule), rule=sharing_rule_params(rule)
        )
        return sharing_rule_from(rows[0])

    async def sharing_rules(self, from_org: str, to_org: str) -> list[SharingRule]:
        rows = await self._read(cypher.SHARING_RULES, from_org=from_org, to_org=to_org)
        return [sharing_rule_from(row) for row in rows]

    # --- accounts ---------------------------------------------------------------------

    async def upsert_accounts(
        self,
        acting_org: str,
        rows: Sequence[AccountUpsert],
        *,
        expected_state: KeyState,
        at: datetime,
        outbox: Sequence[OutboxEvent] = (),
    ) -> list[UpsertResult]:
        check_aware(at, "at")
        seen: set[str] = set()
        for row in rows:
            if row.crm_id in seen:
                raise BadInput(f"crm_id {row.crm_id!r} appears twice", field="crm_id")
            seen.add(row.crm_id)
        if not rows:
            return []

        async def work(tx: AsyncManagedTransaction) -> dict[str, str]:
            state = await _lock_key_state(tx)
            if state != expected_state:
                raise Conflict("the key state changed; hash the keys again and retry")
            [org] = await fetch_rows(tx, cypher.ORG_EXISTS, {"org": acting_org})
            if not org["exists"]:
                raise NotFound(f"no org {acting_org!r}")
            # The announcements first: any later failure of the write takes them back too.
            await add_outbox(tx, outbox)
            params = [account_params(row, state) for row in rows]
            found = await fetch_rows(
                tx, cypher.EXISTING_ACCOUNTS, {"org": acting_org, "crm_ids": list(seen)}
            )
            existing = {r["crm_id"]: str(r["id"]) for r in found}
            new = [p for p in params if p["crm_id"] not in existing]
            old = [p for p in params if p["crm_id"] in existing]
            if new:
                await _consume(
                    tx, cypher.CREATE_ACCOUNTS, {"org": acting_org, "rows": new, "at": at}
                )
            if old:
                unlinked = await fetch_rows(
                    tx, cypher.REPLACE_ACCOUNTS, {"org": acting_org, "rows": old, "at": at}
                )
                await _delete_orphan_keys(tx, {h for hs in unlinked for h in hs})
            await _consume(tx, cypher.BUMP_ACCOUNTS_VERSION, {"org": acting_org})
            return existing

        existing = await self._transaction(work, write=True)
        return [
            UpsertResult(
                crm_id=row.crm_id,
                account_id=existing.get(row.crm_id, row.new_id),
                created=row.crm_id not in existing,
            )
            for row in rows
        ]

    async def delete_accounts(
        self, acting_org: str, crm_ids: Sequence[str], *, outbox: Sequence[OutboxEvent] = ()
    ) -> list[str]:
        if not crm_ids:
            return []
        unique = sorted(set(crm_ids))

        async def work(tx: AsyncManagedTransaction) -> list[str]:
            # The lock keeps a concurrent upsert from linking a key this deletes.
            await _lock_key_state(tx)
            rows = await fetch_rows(
                tx, cypher.DELETE_ACCOUNTS, {"org": acting_org, "crm_ids": unique}
            )
            await _delete_orphan_keys(tx, {h for r in rows for h in r["hs"]})
            if rows:
                await _consume(tx, cypher.BUMP_ACCOUNTS_VERSION, {"org": acting_org})
                await add_outbox(tx, outbox)
            return [r["crm_id"] for r in rows]

        return await self._transaction(work, write=True)

    async def get_accounts(self, acting_org: str, ids: Sequence[str]) -> dict[str, Account]:
        if not ids:
            return {}
        rows = await self._read(cypher.GET_ACCOUNTS, org=acting_org, ids=list(set(ids)))
        return {a.id: a for a in map(account_from, rows)}

    async def list_accounts(
        self,
        acting_org: str,
        *,
        population: str | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Account]:
        check_first(first)
        params: dict[str, Any] = {"org": acting_org, "after": after or "", "limit": first + 1}
        if population is None:
            query = cypher.LIST_ACCOUNTS
            if backward:
                last = after is None
                query = cypher.LIST_ACCOUNTS_LAST if last else cypher.LIST_ACCOUNTS_BEFORE
        else:
            params["population"] = population
            query = cypher.LIST_ACCOUNTS_IN_POPULATION
            if backward:
                query = (
                    cypher.LIST_ACCOUNTS_IN_POPULATION_LAST
                    if after is None
                    else cypher.LIST_ACCOUNTS_IN_POPULATION_BEFORE
                )
        rows = await self._read(query, **params)
        return page(_convert(rows, first, account_from), first, lambda a: a.id, backward=backward)

    async def count_accounts(self, acting_org: str, *, population: str | None = None) -> int:
        async def work(tx: AsyncManagedTransaction) -> int:
            if population is None:
                params = {"org": acting_org}
                [count] = await fetch_rows(tx, cypher.COUNT_ACCOUNTS, params)
            else:
                params = {"org": acting_org, "population": population}
                [count] = await fetch_rows(tx, cypher.COUNT_ACCOUNTS_IN_POPULATION, params)
            return int(count)

        return await self._transaction(work, write=False)

    # --- overlaps ---------------------------------------------------------------------

    async def population_counts(self, org_id: str) -> dict[str, int]:
        rows = await self._read(cypher.POPULATION_COUNTS, org=org_id)
        return {str(row["population"]): int(row["count"]) for row in rows}

    async def population_fingerprints(self, org_id: str) -> dict[str, str]:
        rows = await self._read(cypher.POPULATION_FINGERPRINTS, org=org_id)
        return {
            str(row["population"]): f"{int(row['count'])}:{to_datetime(row['latest']).isoformat()}"
            for row in rows
        }

    async def overlap_matrix(
        self, acting_org: str, partner_org: str, *, kinds: Sequence[KeyKind]
    ) -> list[OverlapCell]:
        wanted = sorted({str(kind) for kind in kinds})
        if not wanted:
            return []

        cache_key = MatrixCache.key(acting_org, partner_org, kinds)

        async def work(tx: AsyncManagedTransaction) -> list[OverlapCell]:
            # Versions first, then the matrix (see graph/matrix_cache.py).
            orgs = {
                row["id"]: (int(row["version"]), int(row["n"]))
                for row in await fetch_rows(
                    tx, cypher.ACCOUNTS_VERSIONS, {"orgs": [acting_org, partner_org]}
                )
            }
            versions = (orgs[acting_org][0], orgs[partner_org][0])
            cached = self.matrix_cache.get(cache_key, versions)
            if cached is not None:
                return cached
            sizes = {org: n for org, (_, n) in orgs.items()}
            # The walk costs about the start side's accounts: start from the smaller one.
            swap = sizes.get(partner_org, 0) < sizes.get(acting_org, 0)
            start, other = (partner_org, acting_org) if swap else (acting_org, partner_org)
            rows = await fetch_rows(
                tx, cypher.OVERLAP_MATRIX, {"org": start, "other": other, "kinds": wanted}
            )
            cells = [OverlapCell(str(r["p"]), str(r["q"]), int(r["a"]), int(r["b"])) for r in rows]
            if swap:
                cells = [
                    OverlapCell(c.partner_population, c.my_population, c.partner_count, c.my_count)
                    for c in cells
                ]
            cells = sorted(cells, key=lambda c: (c.my_population, c.partner_population))
            self.matrix_cache.put(cache_key, versions, cells)
            return cells

        return await self._transaction(work, write=False)

    async def overlapping_accounts(
        self,
        acting_org: str,
        partner_org: str,
        *,
        partner_populations: Sequence[str],
        my_population: str | None = None,
        kinds: Sequence[KeyKind],
        first: int,
        after: str | None = None,
        backward: bool = False,
        order: OverlapOrder = ID_ORDER,
        where: AccountFilter = NO_FILTER,
    ) -> Page[OverlapMatch]:
        check_first(first)
        start = after_key(order, after, backward=backward)  # BadInput before any read
        populations = sorted(set(partner_populations))
        wanted = sorted({str(kind) for kind in kinds})
        if not populations or not wanted:
            return Page(items=[], has_next=False, cursors=[])
        params: dict[str, Any] = {
            "org": acting_org,
            "partner": partner_org,
            "population": my_population,
            "populations": populations,
            "kinds": wanted,
            "limit": first + 1,
            "starts": where.name_starts_with,
            "contains": where.name_contains,
            "owner": where.owner,
        }
        if order == ID_ORDER and not backward:  # off the (org_id, id) index, to the limit
            query = cypher.OVERLAPPING_ACCOUNTS
            params["after"] = start[1] if start is not None else ""
        else:
            # Backward reads the order's reverse, whose "after" is the order's "before".
            desc = (order.direction is SortDirection.DESC) != backward
            query = cypher.OVERLAPPING_ACCOUNTS_DESC if desc else cypher.OVERLAPPING_ACCOUNTS_ASC
            value, after_id = start if start is not None else (None, None)
            missing = order.field is OverlapSort.OWNER and value is None
            params |= {
                "after": "",
                "field": order.field.value,
                "after_n": 0 if missing else 1,
                "after_v": "" if value is None else value,
                "after_id": after_id,
            }
        rows = await self._read(query, **params)
        matches = _convert(rows, first, overlap_match_from)
        return page(matches, first, lambda m: order_cursor(order, m.account), backward=backward)

    # --- key rotation -----------------------------------------------------------------

    async def key_state(self) -> KeyState:
        rows = await self._read(cypher.KEY_STATE)
        return key_state_from(rows[0])

    async def start_rotation(self, target_version: int) -> KeyState:
        async def work(tx: AsyncManagedTransaction) -> KeyState:
            state = await _lock_key_state(tx)
            if state.target_version == target_version:
                return state
            if state.target_version is not None:
                raise Conflict(f"a rotation to version {state.target_version} is under way")
            if target_version <= state.active_version:
                raise Conflict(f"version {target_version} is not newer than the active one")
            new = KeyState(active_version=state.active_version, target_version=target_version)
            await _consume(tx, cypher.SET_KEY_STATE, key_state_params(new))
            return new

        return await self._transaction(work, write=True)

    async def keys_to_rotate(self, *, first: int) -> list[str]:
        check_first(first)

        async def work(tx: AsyncManagedTransaction) -> list[str]:
            [row] = await fetch_rows(tx, cypher.KEY_STATE, {})
            state = key_state_from(row)
            if state.target_version is None or first == 0:
                return []
            params = {"active": state.active_version, "after": state.cursor or "", "limit": first}
            return [str(h) for h in await fetch_rows(tx, cypher.KEYS_TO_ROTATE, params)]

        return await self._transaction(work, write=False)

    async def rewrap_keys(self, rewraps: Sequence[tuple[str, str]], *, cursor: str) -> int:
        if any(old > cursor for old, _ in rewraps):
            raise BadInput("the cursor must not be below a rewrapped hash", field="cursor")

        async def work(tx: AsyncManagedTransaction) -> int:
            state = await _lock_key_state(tx)
            if state.target_version is None:
                raise Conflict("no key rotation is under way")
            if state.cursor is not None and cursor < state.cursor:
                raise Conflict("the cursor may only move forward")
            pairs = [{"old": old, "new": new} for old, new in rewraps]
            [count] = await fetch_rows(
                tx,
                cypher.REWRAP_KEYS,
                {"pairs": pairs, "active": state.active_version, "target": state.target_version},
            )
            moved = KeyState(state.active_version, state.target_version, cursor)
            await _consume(tx, cypher.SET_KEY_STATE, key_state_params(moved))
            return int(count)

        return await self._transaction(work, write=True)

    async def finish_rotation(self) -> KeyState:
        async def work(tx: AsyncManagedTransaction) -> KeyState:
            state = await _lock_key_state(tx)
            if state.target_version is None:
                raise Conflict("no key rotation is under way")
            left = await fetch_rows(
                tx, cypher.ANY_KEY_AT_VERSION, {"version": state.active_version}
            )
            if left:
                raise Conflict("keys are left at the old version; rewrap them first")
            done = KeyState(active_version=state.target_version)
            await _consume(tx, cypher.SET_KEY_STATE, key_state_params(done))
            return done

        return await self._transaction(work, write=True)
