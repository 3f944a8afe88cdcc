"""SqlStore: the GraphStore port over SQLAlchemy (SQLite or PostgreSQL).

Every call is one unit of work (`async with session.begin()`); errors leave through
graph.sql.errors as domain errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from graph.errors import BadInput, Conflict, Forbidden
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
    OrgType,
    OverlapCell,
    OverlapMatch,
    OverlapOrder,
    OverlapSort,
    Page,
    PartnerMatch,
    Partnership,
    PartnershipStatus,
    SharingLevel,
    SharingRule,
    SortDirection,
    StoredKey,
    UpsertResult,
)
from graph.paging import SortValue, after_key, check_first, order_cursor, page
from graph.sql.chunks import in_chunks
from graph.sql.intros import SqlIntros
from graph.sql.keyset import by_key
from graph.sql.outbox import add_outbox
from graph.sql.tables import (
    GRAPH_TABLES,
    LIVE_STATUSES,
    AccountKeyRow,
    AccountPopulationRow,
    AccountRow,
    KeyStateRow,
    OrgRow,
    PartnershipRow,
    SharingRuleRow,
    metadata,
)
from graph.sql.touches import SqlTouches
from graph.sql.webhooks import SqlWebhooks
from graph.webhooks import OutboxEvent

T = TypeVar("T")


ACCOUNTS: Table = metadata.tables["accounts"]
POPULATIONS: Table = metadata.tables["account_populations"]
KEYS: Table = metadata.tables["account_keys"]
KEY_STATE: Table = metadata.tables["key_state"]
DEFAULT_KEY_STATE = {"id": 1, "active_version": 1, "target_version": None, "cursor": None}


class SqlStore(SqlTouches, SqlIntros, SqlWebhooks):
    def __init__(self, url: str, *, allow_reset: bool = False) -> None:
        super().__init__(url, allow_reset=allow_reset)
        self.matrix_cache = MatrixCache()

    async def reset(self) -> None:
        if not self._allow_reset:
            raise Forbidden("reset() deletes everything; open the store with allow_reset=True")
        async with self._unit(write=True) as session:
            for table in reversed(metadata.sorted_tables):
                if table.name in GRAPH_TABLES:  # identity data may share the database
                    await session.execute(delete(table))
            await session.execute(insert(KEY_STATE).values(DEFAULT_KEY_STATE))
        self.matrix_cache.clear()

    async def dump(self) -> list[str]:
        if not self._allow_reset:
            raise Forbidden("dump() reads everything; open the store with allow_reset=True")
        values: list[str] = []
        async with self._unit() as session:
            for table in metadata.sorted_tables:
                if table.name in GRAPH_TABLES:
                    for row in await session.execute(select(table)):
                        values.extend(_text(value) for value in row if value is not None)
        return values

    # orgs

    async def create_org(self, org: Org) -> Org:
        async with self._unit(write=True, conflict=f"org {org.id} already exists") as session:
            session.add(
                OrgRow(
                    id=org.id,
                    name=org.name,
                    types=sorted(org.types),
                    region=org.region,
                    discoverable=org.discoverable,
                    created_at=org.created_at,
                )
            )
        return org

    async def get_orgs(self, ids: Sequence[str]) -> dict[str, Org]:
        if not ids:
            return {}
        async with self._unit() as session:
            rows = await session.scalars(select(OrgRow).where(OrgRow.id.in_(set(ids))))
            return {row.id: _org(row) for row in rows}

    async def list_orgs(self, *, first: int, after: str | None = None) -> Page[Org]:
        check_first(first)
        query = select(OrgRow).order_by(OrgRow.id).limit(first + 1)
        if after is not None:
            query = query.where(OrgRow.id > after)
        async with self._unit() as session:
            rows = list(await session.scalars(query))
        return page([_org(row) for row in rows], first, lambda o: o.id)

    async def set_org_discoverable(self, org_id: str, discoverable: bool) -> Org | None:
        statement = (
            update(OrgRow)
            .where(OrgRow.id == org_id)
            .values(discoverable=discoverable)
            .returning(OrgRow)
            .execution_options(synchronize_session=False)
        )
        async with self._unit(write=True) as session:
            row = (await session.scalars(statement)).one_or_none()
        return None if row is None else _org(row)

    # partnerships

    async def insert_partnership(self, partnership: Partnership) -> Partnership:
        p = partnership
        low, high = sorted((p.inviter_id, p.invitee_id))
        conflict = "the two orgs already have a live partnership (or the id is taken)"
        async with self._unit(write=True, conflict=conflict) as session:
            session.add(
                PartnershipRow(
                    id=p.id,
                    inviter_id=p.inviter_id,
                    invitee_id=p.invitee_id,
                    org_low=low,
                    org_high=high,
                    status=p.status.value,
                    created_at=p.created_at,
                    updated_at=p.updated_at,
                    activated_at=p.activated_at,
                    ended_at=p.ended_at,
                    ended_by=p.ended_by,
                )
            )
        return partnership

    async def get_partnerships(self, acting_org: str, ids: Sequence[str]) -> dict[str, Partnership]:
        if not ids:
            return {}
        query = select(PartnershipRow).where(PartnershipRow.id.in_(set(ids)), _party(acting_org))
        async with self._unit() as session:
            rows = await session.scalars(query)
            return {row.id: _partnership(row) for row in rows}

    async def live_partnership(self, acting_org: str, other_org: str) -> Partnership | None:
        low, high = sorted((acting_org, other_org))
        query = select(PartnershipRow).where(
            PartnershipRow.org_low == low,
            PartnershipRow.org_high == high,
            PartnershipRow.status.in_(LIVE_STATUSES),
        )
        async with self._unit() as session:
            row = (await session.scalars(query)).first()
        return None if row is None else _partnership(row)

    async def counterparties(self, acting_org: str, org_ids: Sequence[str]) -> set[str]:
        others = set(org_ids) - {acting_org}
        if not others:
            return set()
        query = (
            select(PartnershipRow.inviter_id, PartnershipRow.invitee_id)
            .where(
                or_(
                    (PartnershipRow.inviter_id == acting_org)
                    & PartnershipRow.invitee_id.in_(others),
                    (PartnershipRow.invitee_id == acting_org)
                    & PartnershipRow.inviter_id.in_(others),
                )
            )
            .distinct()
        )
        async with self._unit() as session:
            rows = (await session.execute(query)).all()
        return {invitee if inviter == acting_org else inviter for inviter, invitee in rows}

    async def transition_partnership(
        self,
        acting_org: str,
        partnership_id: str,
        *,
        expected: Sequence[PartnershipStatus],
        new_status: PartnershipStatus,
        at: datetime,
    ) -> Partnership | None:
        if not expected:
            return None
        values: dict[str, Any] = {"status": new_status.value, "updated_at": at}
        if new_status is PartnershipStatus.ACTIVE:
            values["activated_at"] = at
        elif new_status is PartnershipStatus.ENDED:
            values.update(ended_at=at, ended_by=acting_org)
        statement = (
            update(PartnershipRow)
            .where(
                PartnershipRow.id == partnership_id,
                _party(acting_org),
                PartnershipRow.status.in_([s.value for s in expected]),
            )
            .values(values)
            .returning(PartnershipRow)
            .execution_options(synchronize_session=False)
        )
        conflict = "the two orgs already have a live partnership"
        async with self._unit(write=True, conflict=conflict) as session:
            row = (await session.scalars(statement)).one_or_none()
            if row is not None and not new_status.is_live:
                # A partnership that is over takes its sharing rules with it, so a
                # later partnership between the same pair starts HIDDEN everywhere.
                await session.execute(
                    delete(SharingRuleRow).where(
                        or_(
                            and_(
                                SharingRuleRow.from_org == row.inviter_id,
                                SharingRuleRow.to_org == row.invitee_id,
                            ),
                            and_(
                                SharingRuleRow.from_org == row.invitee_id,
                                SharingRuleRow.to_org == row.inviter_id,
                            ),
                        )
                    )
                )
        return None if row is None else _partnership(row)

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
        query = select(PartnershipRow).where(_party(acting_org))
        if status is not None:
            query = query.where(PartnershipRow.status == status.value)
        query = by_key(
            query, PartnershipRow.id, descending=True, first=first, after=after, backward=backward
        )
        async with self._unit() as session:
            rows = list(await session.scalars(query))
        return page([_partnership(row) for row in rows], first, lambda p: p.id, backward=backward)

    # sharing rules

    async def put_sharing_rule(self, rule: SharingRule) -> SharingRule:
        insert = postgresql.insert if self._backend == "postgresql" else sqlite.insert
        statement = insert(SharingRuleRow).values(
            from_org=rule.from_org,
            to_org=rule.to_org,
            population=rule.population,
            level=rule.level.value,
            fields=list(rule.fields),
            updated_at=rule.updated_at,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["from_org", "to_org", "population"],
            set_={
                "level": statement.excluded.level,
                "fields": statement.excluded.fields,
                "updated_at": statement.excluded.updated_at,
            },
        )
        async with self._unit(write=True) as session:
            await session.execute(statement)
        return rule

    async def sharing_rules(self, from_org: str, to_org: str) -> list[SharingRule]:
        query = (
            select(SharingRuleRow)
            .where(SharingRuleRow.from_org == from_org, SharingRuleRow.to_org == to_org)
            .order_by(SharingRuleRow.population)
        )
        async with self._unit() as session:
            rows = await session.scalars(query)
            return [_rule(row) for row in rows]

    # accounts and their hashed keys

    async def _key_state(self, session: AsyncSession, *, lock: str | None = None) -> KeyState:
        """The key state; `lock` "share" or "update" locks its row on PostgreSQL for the
        rest of the transaction (SQLite writers are serialized by BEGIN IMMEDIATE)."""
        query = select(KeyStateRow).where(KeyStateRow.id == 1)
        if lock is not None:
            query = query.with_for_update(read=lock == "share")
        row = (await session.scalars(query)).one()
        return KeyState(row.active_version, row.target_version, row.cursor)

    async def upsert_accounts(
        self,
        acting_org: str,
        rows: Sequence[AccountUpsert],
        *,
        expected_state: KeyState,
        at: datetime,
        outbox: Sequence[OutboxEvent] = (),
    ) -> list[UpsertResult]:
        prepared = _prepare_upserts(rows, expected_state)  # BadInput before any write
        if not prepared:
            return []
        # Sorted by crm_id, so that concurrent calls for one org lock rows in one order.
        prepared.sort(key=lambda p: p.row.crm_id)
        upsert = self._insert()(ACCOUNTS)
        upsert = upsert.on_conflict_do_update(
            index_elements=["org_id", "crm_id"],
            set_={
                "name": upsert.excluded.name,
                "owner": upsert.excluded.owner,
                "fields": upsert.excluded.fields,
                "updated_at": upsert.excluded.updated_at,
            },
        )
        postgres = self._backend == "postgresql"
        # On PostgreSQL a freshly inserted row version has no xmax; an updated one has.
        inserted = literal_column("xmax = 0", Boolean) if postgres else literal_column("0")
        upsert = upsert.returning(ACCOUNTS.c.crm_id, ACCOUNTS.c.id, inserted)
        params = [
            {
                "id": p.row.new_id,
                "org_id": acting_org,
                "crm_id": p.row.crm_id,
                "name": p.row.name,
                "owner": p.row.owner,
                "fields": p.fields,
                "created_at": at,
                "updated_at": at,
            }
            for p in prepared
        ]
        async with self._unit(write=True) as session:
            # Upserts share the key-state lock; rotation steps take it exclusively.
            state = await self._key_state(session, lock="share")
            if state != expected_state:
                raise Conflict("the key state changed; hash the keys again and retry")
            # The announcements first: any later failure of the write takes them back too.
            await add_outbox(session, outbox)
            existing: set[str] = set()
            if not postgres:  # serialized writers: what exists now exists at the insert
                for chunk in in_chunks([p.row.crm_id for p in prepared]):
                    existing.update(
                        await session.scalars(
                            select(AccountRow.crm_id).where(
                                AccountRow.org_id == acting_org, AccountRow.crm_id.in_(chunk)
                            )
                        )
                    )
            ids: dict[str, tuple[str, bool]] = {}
            for crm_id, account_id, fresh in await session.execute(upsert, params):
                created = bool(fresh) if postgres else crm_id not in existing
                ids[crm_id] = (account_id, created)
            replaced = [account_id for account_id, created in ids.values() if not created]
            for chunk in in_chunks(replaced):
                await session.execute(
                    delete(POPULATIONS).where(POPULATIONS.c.account_id.in_(chunk))
                )
                await session.execute(delete(KEYS).where(KEYS.c.account_id.in_(chunk)))
            populations = [
                (ids[p.row.crm_id][0], acting_org, population)
                for p in prepared
                for population in p.populations
            ]
            await _insert_many(
                session, POPULATIONS, ("account_id", "org_id", "population"), populations
            )
            keys = [
                (ids[p.row.crm_id][0], acting_org, kind, h, v)
                for p in prepared
                for kind, h, v in p.keys
            ]
            await _insert_many(session, KEYS, ("account_id", "org_id", "kind", "h", "v"), keys)
            await _bump_accounts_version(session, acting_org)
        return [
            UpsertResult(
                crm_id=row.crm_id, account_id=ids[row.crm_id][0], created=ids[row.crm_id][1]
            )
            for row in rows
        ]

    async def delete_accounts(
        self, acting_org: str, crm_ids: Sequence[str], *, outbox: Sequence[OutboxEvent] = ()
    ) -> list[str]:
        deleted: list[str] = []
        # Populations and key links go by ON DELETE CASCADE; a key no account links to
        # any more is simply no longer among the distinct hashes.
        async with self._unit(write=True) as session:
            for chunk in in_chunks(sorted(set(crm_ids))):
                statement = (
                    delete(AccountRow)
                    .where(AccountRow.org_id == acting_org, AccountRow.crm_id.in_(chunk))
                    .returning(AccountRow.crm_id)
                    .execution_options(synchronize_session=False)
                )
                deleted.extend(await session.scalars(statement))
            if deleted:
                await _bump_accounts_version(session, acting_org)
                await add_outbox(session, outbox)
        return deleted

    async def get_accounts(self, acting_org: str, ids: Sequence[str]) -> dict[str, Account]:
        found: dict[str, Account] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(ids))):
                query = select(AccountRow).where(
                    AccountRow.org_id == acting_org, AccountRow.id.in_(chunk)
                )
                rows = list(await session.scalars(query))
                for account in await _accounts(session, rows):
                    found[account.id] = account
        return found

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
        query = select(AccountRow)
        key: ColumnElement[str] = ACCOUNTS.c.id
        if population is None:
            query = query.where(AccountRow.org_id == acting_org)
        else:  # walks the (org_id, population, account_id) index
            member = AccountPopulationRow
            query = query.join(member, member.account_id == AccountRow.id).where(
                member.org_id == acting_org, member.population == population
            )
            key = POPULATIONS.c.account_id
        query = by_key(query, key, descending=False, first=first, after=after, backward=backward)
        async with self._unit() as session:
            rows = list(await session.scalars(query))
            accounts = await _accounts(session, rows)
        return page(accounts, first, lambda a: a.id, backward=backward)

    async def count_accounts(self, acting_org: str, *, population: str | None = None) -> int:
        if population is None:
            query = select(func.count()).where(AccountRow.org_id == acting_org)
        else:
            query = select(func.count()).where(
                AccountPopulationRow.org_id == acting_org,
                AccountPopulationRow.population == population,
            )
        async with self._unit() as session:
            return int((await session.execute(query)).scalar_one())

    # overlaps

    async def population_counts(self, org_id: str) -> dict[str, int]:
        query = (  # reads the (org_id, population, account_id) index alone
            select(POPULATIONS.c.population, func.count())
            .where(POPULATIONS.c.org_id == org_id)
            .group_by(POPULATIONS.c.population)
        )
        async with self._unit() as session:
            return {population: int(n) for population, n in await session.execute(query)}

    async def population_fingerprints(self, org_id: str) -> dict[str, str]:
        query = (
            select(
                POPULATIONS.c.population,
                func.count(),
                func.max(AccountRow.updated_at),
            )
            .join(AccountRow, AccountRow.id == POPULATIONS.c.account_id)
            .where(POPULATIONS.c.org_id == org_id)
            .group_by(POPULATIONS.c.population)
        )
        async with self._unit() as session:
            return {
                population: f"{int(n)}:{latest.isoformat()}"
                for population, n, latest in await session.execute(query)
            }

    async def overlap_matrix(
        self, acting_org: str, partner_org: str, *, kinds: Sequence[KeyKind]
    ) -> list[OverlapCell]:
        if not kinds:
            return []
        # One statement: the distinct (mine, theirs) pairs of accounts sharing a key, read
        # from the (org_id, h, kind, account_id) index on both sides, then each side's
        # populations, counted per (my population, partner population).
        shared = _SharedKeys(partner_org, kinds)
        pairs = (
            select(
                shared.mine.c.account_id.label("mine"), shared.theirs.c.account_id.label("theirs")
            )
            .select_from(shared.join)
            .where(shared.mine.c.org_id == acting_org, shared.mine_kind)
            .distinct()
            .subquery("pairs")
        )
        mine = POPULATIONS.alias("my_populations")
        theirs = POPULATIONS.alias("their_populations")
        query = (
            select(
                mine.c.population,
                theirs.c.population,
                func.count(pairs.c.mine.distinct()),
                func.count(pairs.c.theirs.distinct()),
            )
            .select_from(pairs)
            .join(mine, mine.c.account_id == pairs.c.mine)
            .join(theirs, theirs.c.account_id == pairs.c.theirs)
            .group_by(mine.c.population, theirs.c.population)
            .order_by(mine.c.population, theirs.c.population)
        )
        cache_key = MatrixCache.key(acting_org, partner_org, kinds)
        async with self._unit() as session:
            # Versions first, then the matrix (see graph/matrix_cache.py).
            query_versions = select(OrgRow.id, OrgRow.accounts_version).where(
                OrgRow.id.in_([acting_org, partner_org])
            )
            found: dict[str, int] = {}
            for org, version in await session.execute(query_versions):
                found[org] = int(version)
            versions = (int(found.get(acting_org, -1)), int(found.get(partner_org, -1)))
            cached = self.matrix_cache.get(cache_key, versions)
            if cached is not None:
                return cached
            rows = (await session.execute(query)).all()
        cells = [OverlapCell(p, q, int(m), int(t)) for p, q, m, t in rows]
        self.matrix_cache.put(cache_key, versions, cells)
        return cells

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
        wanted = sorted(set(partner_populations))
        kind_values = sorted({KeyKind(kind).value for kind in kinds})
        if not wanted or not kind_values:
            return Page(items=[], has_next=False)
        mine = KEYS.alias("my_keys")
        theirs = KEYS.alias("their_keys")
        member = POPULATIONS.alias("their_populations")
        # Nested EXISTS, not a join, so that SQLite (which has no statistics) probes in
        # this order for each of my accounts: its keys by account, the partner's links by
        # (org_id, h), their requested populations by account. Partner accounts are
        # reached only through a requested population: no other one is ever read.
        in_wanted = exists().where(
            member.c.account_id == theirs.c.account_id, member.c.population.in_(wanted)
        )
        shared = exists().where(
            theirs.c.org_id == partner_org,
            theirs.c.h == mine.c.h,
            theirs.c.kind.in_(kind_values),
            in_wanted,
        )
        overlapping = exists().where(
            mine.c.account_id == AccountRow.id, mine.c.kind.in_(kind_values), shared
        )
        # My accounts in order, each kept when it overlaps. In id order the first page
        # walks an index and stops early; other orders sort the overlapping accounts.
        if my_population is None:
            query = select(AccountRow).where(AccountRow.org_id == acting_org, overlapping)
            account_id: ColumnElement[str] = ACCOUNTS.c.id
        else:  # walks the (org_id, population, account_id) index, like list_accounts
            mp = AccountPopulationRow
            query = (
                select(AccountRow)
                .join(mp, mp.account_id == AccountRow.id)
                .where(mp.org_id == acting_org, mp.population == my_population, overlapping)
            )
            account_id = POPULATIONS.c.account_id
        query = query.where(*_account_filter(where))
        keyset = _Keyset(
            order, account_id, postgres=self._backend == "postgresql", backward=backward
        )
        if start is not None:
            query = query.where(keyset.after(*start))
        query = query.order_by(*keyset.order_by())
        async with self._unit() as session:
            rows = list(await session.scalars(query.limit(first + 1)))
            rows_page = page(rows, first, lambda r: r.id, backward=backward)
            accounts = await _accounts(session, rows_page.items)
            # The partner's links to the page's hashes by (org_id, h), with the partner
            # account's requested populations, owner and fields: one query for the page.
            hashes = sorted({k.h for a in accounts for k in a.keys if k.kind in kind_values})
            links: dict[str, list[str]] = {}  # h -> partner accounts
            partners: dict[str, tuple[set[str], str | None, dict[str, str]]] = {}
            for chunk in in_chunks(hashes):
                links_query = (
                    select(
                        theirs.c.h,
                        theirs.c.account_id,
                        member.c.population,
                        AccountRow.owner,
                        AccountRow.fields,
                    )
                    .join(member, member.c.account_id == theirs.c.account_id)
                    .join(AccountRow, AccountRow.id == theirs.c.account_id)
                    .where(
                        theirs.c.org_id == partner_org,
                        theirs.c.h.in_(chunk),
                        theirs.c.kind.in_(kind_values),
                        member.c.population.in_(wanted),
                    )
                )
                result = await session.execute(links_query)
                for h, partner_id, population, owner, fields in result:
                    links.setdefault(h, []).append(partner_id)
                    partners.setdefault(partner_id, (set(), owner, fields))[0].add(population)
        items = []
        for account in accounts:
            matched = {
                partner_id
                for key in account.keys
                if key.kind in kind_values
                for partner_id in links.get(key.h, ())
            }
            items.append(
                OverlapMatch(
                    account=account,
                    partner=tuple(
                        PartnerMatch(
                            populations=tuple(sorted(populations)),
                            owner=owner,
                            fields=tuple(sorted(fields.items())),
                        )
                        for populations, owner, fields in (
                            partners[partner_id] for partner_id in sorted(matched)
                        )
                    ),
                )
            )
        return Page(
            items=items,
            has_next=rows_page.has_next,
            cursors=[order_cursor(order, a) for a in accounts],
            has_previous=rows_page.has_previous,
        )

    # key rotation

    async def key_state(self) -> KeyState:
        async with self._unit() as session:
            return await self._key_state(session)

    async def start_rotation(self, target_version: int) -> KeyState:
        async with self._unit(write=True) as session:
            state = await self._key_state(session, lock="update")
            if state.target_version == target_version:
                return state
            if state.target_version is not None:
                raise Conflict(f"a rotation to version {state.target_version} is under way")
            if target_version <= state.active_version:
                raise Conflict(f"version {target_version} is not newer than the active one")
            await session.execute(
                update(KeyStateRow)
                .where(KeyStateRow.id == 1)
                .values(target_version=target_version, cursor=None)
            )
        return KeyState(state.active_version, target_version, None)

    async def keys_to_rotate(self, *, first: int) -> list[str]:
        check_first(first)
        async with self._unit() as session:
            state = await self._key_state(session)
            if state.target_version is None:
                return []
            query = (
                select(KEYS.c.h)
                .where(KEYS.c.v == state.active_version)
                .distinct()
                .order_by(KEYS.c.h)
                .limit(first)
            )
            if state.cursor is not None:
                query = query.where(KEYS.c.h > state.cursor)
            return list(await session.scalars(query))

    async def rewrap_keys(self, rewraps: Sequence[tuple[str, str]], *, cursor: str) -> int:
        pairs = dict(rewraps)
        if len(pairs) != len(rewraps):
            raise BadInput("each key may be rewrapped once per call", field="rewraps")
        if any(old > cursor for old in pairs):
            raise BadInput("every rewrapped key must be at or below the cursor", field="cursor")
        async with self._unit(write=True) as session:
            state = await self._key_state(session, lock="update")
            if state.target_version is None:
                raise Conflict("no key rotation is under way")
            if state.cursor is not None and cursor < state.cursor:
                raise Conflict("the rotation cursor may not move backwards")
            present: set[str] = set()
            for chunk in in_chunks(sorted(pairs)):
                present.update(
                    await session.scalars(
                        select(KEYS.c.h)
                        .where(KEYS.c.v == state.active_version, KEYS.c.h.in_(chunk))
                        .distinct()
                    )
                )
            if present:
                await session.execute(
                    update(KEYS)
                    .where(KEYS.c.h == bindparam("old"), KEYS.c.v == state.active_version)
                    .values(h=bindparam("new"), v=state.target_version),
                    [{"old": old, "new": pairs[old]} for old in sorted(present)],
                )
            await session.execute(
                update(KeyStateRow).where(KeyStateRow.id == 1).values(cursor=cursor)
            )
        return len(present)

    async def finish_rotation(self) -> KeyState:
        async with self._unit(write=True) as session:
            state = await self._key_state(session, lock="update")
            if state.target_version is None:
                raise Conflict("no key rotation is under way")
            left = exists().where(KEYS.c.v == state.active_version)
            if (await session.execute(select(left))).scalar_one():
                raise Conflict("keys are left at the old version; rewrap them first")
            await session.execute(
                update(KeyStateRow)
                .where(KeyStateRow.id == 1)
                .values(active_version=state.target_version, target_version=None, cursor=None)
            )
        return KeyState(active_version=state.target_version)

    def _insert(self) -> Callable[..., Any]:
        return postgresql.insert if self._backend == "postgresql" else sqlite.insert


async def _insert_many(
    session: AsyncSession, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT many rows of plain values (text, integers) through the driver's executemany:
    SQLAlchemy's per-row parameter processing would cost more than the database does."""
    if not rows:
        return
    connection = await session.connection()
    compiled = (
        insert(table)
        .values({column: bindparam(column) for column in columns})
        .compile(dialect=connection.dialect)
    )
    order = [columns.index(name) for name in compiled.positiontup or ()]
    if order != list(range(len(columns))):  # the statement lists the table's column order
        rows = [tuple(row[i] for i in order) for row in rows]
    await connection.exec_driver_sql(str(compiled), rows)


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(slots=True)
class _Prepared:
    """An upsert row checked and reduced to what is stored: fields by name, distinct
    populations, and one (kind, hash, version) per distinct stored hash."""

    row: AccountUpsert
    fields: dict[str, str]
    populations: list[str]
    keys: list[tuple[str, str, int]]


def _prepare_upserts(rows: Sequence[AccountUpsert], state: KeyState) -> list[_Prepared]:
    crm_ids = [row.crm_id for row in rows]
    if len(set(crm_ids)) != len(crm_ids):
        raise BadInput("the rows repeat a crm_id", field="rows")
    prepared = []
    for row in rows:
        fields = dict(row.fields)
        if len(fields) != len(row.fields):
            raise BadInput(f"account {row.crm_id} repeats a field name", field="fields")
        keys: dict[str, tuple[str, str, int]] = {}
        for key in row.keys:
            version = state.version_for(key.active)
            h = key.active
            if version != state.active_version:
                if key.target is None:
                    raise BadInput(
                        "a key needs its target-version hash while a rotation is under way",
                        field="keys",
                    )
                h = key.target
            keys.setdefault(h, (KeyKind(key.kind).value, h, version))
        prepared.append(_Prepared(row, fields, sorted(set(row.populations)), list(keys.values())))
    return prepared


async def _accounts(session: AsyncSession, rows: Sequence[AccountRow]) -> list[Account]:
    """The accounts of `rows`, in that order, with their populations and keys (one query
    each for the lot)."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    populations: dict[str, list[str]] = {}
    keys: dict[str, list[StoredKey]] = {}
    for chunk in in_chunks(ids):
        query = (
            select(POPULATIONS.c.account_id, POPULATIONS.c.population)
            .where(POPULATIONS.c.account_id.in_(chunk))
            .order_by(POPULATIONS.c.account_id, POPULATIONS.c.population)
        )
        for account_id, population in await session.execute(query):
            populations.setdefault(account_id, []).append(population)
        keys_query = (
            select(AccountKeyRow.account_id, AccountKeyRow.kind, AccountKeyRow.h, AccountKeyRow.v)
            .where(AccountKeyRow.account_id.in_(chunk))
            .order_by(AccountKeyRow.account_id, AccountKeyRow.kind, AccountKeyRow.h)
        )
        for account_id, kind, h, version in await session.execute(keys_query):
            keys.setdefault(account_id, []).append(StoredKey(KeyKind(kind), h, version))
    return [
        Account(
            id=row.id,
            org_id=row.org_id,
            crm_id=row.crm_id,
            name=row.name,
            owner=row.owner,
            populations=tuple(populations.get(row.id, ())),
            fields=tuple(sorted(row.fields.items())),
            keys=tuple(keys.get(row.id, ())),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


class _SharedKeys:
    """My key links joined to the partner's on a shared hash, both of one of `kinds`:
    `join` is the FROM clause; callers filter `mine` (by org or account) and `mine_kind`."""

    def __init__(self, partner_org: str, kinds: Sequence[KeyKind]) -> None:
        values = sorted({KeyKind(kind).value for kind in kinds})
        self.mine = KEYS.alias("my_keys")
        self.theirs = KEYS.alias("their_keys")
        self.mine_kind = self.mine.c.kind.in_(values)
        self.join = self.mine.join(
            self.theirs,
            and_(
                self.theirs.c.org_id == partner_org,
                self.theirs.c.h == self.mine.c.h,
                self.theirs.c.kind.in_(values),
            ),
        )


class _Keyset:
    """ORDER BY and the after-cursor predicate for one overlap order over my accounts:
    (value, id), the whole key ascending or descending; a missing owner sorts lowest.
    `backward` reads the same order in reverse: the opposite direction, whose "after"
    is the order's "before"."""

    def __init__(
        self,
        order: OverlapOrder,
        account_id: ColumnElement[str],
        *,
        postgres: bool,
        backward: bool = False,
    ):
        self.desc = (order.direction is SortDirection.DESC) != backward
        self.id = account_id
        self.nullable = order.field is OverlapSort.OWNER
        column: ColumnElement[Any] | None = {
            OverlapSort.ID: None,
            OverlapSort.NAME: ACCOUNTS.c.name,
            OverlapSort.OWNER: ACCOUNTS.c.owner,
            OverlapSort.CREATED_AT: ACCOUNTS.c.created_at,
            OverlapSort.UPDATED_AT: ACCOUNTS.c.updated_at,
        }[order.field]
        if column is not None and postgres and order.field in (OverlapSort.NAME, OverlapSort.OWNER):
            column = column.collate("C")  # code points, whatever the database's locale
        self.value = column

    def _beyond(self, column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
        beyond: ColumnElement[bool] = column < value if self.desc else column > value
        return beyond

    def order_by(self) -> list[ColumnElement[Any]]:
        terms: list[ColumnElement[Any]] = []
        if self.value is not None:
            if not self.nullable:
                terms.append(self.value.desc() if self.desc else self.value.asc())
            else:
                terms.append(
                    self.value.desc().nulls_last() if self.desc else self.value.asc().nulls_first()
                )
        terms.append(self.id.desc() if self.desc else self.id.asc())
        return terms

    def after(self, value: SortValue, account_id: str) -> ColumnElement[bool]:
        past_id = self._beyond(self.id, account_id)
        if self.value is None:
            return past_id
        if value is None:  # after a missing owner: the other missing ones, then (asc) all
            missing = and_(self.value.is_(None), past_id)
            return missing if self.desc else or_(missing, self.value.is_not(None))
        past = or_(self._beyond(self.value, value), and_(self.value == value, past_id))
        return or_(past, self.value.is_(None)) if self.nullable and self.desc else past


def _like(text: str, *, prefix: bool) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"


def _account_filter(where: AccountFilter) -> list[ColumnElement[bool]]:
    """`where` on my accounts: name matches without case (lower() on both sides, so the
    store's own notion of case applies), owner exactly."""
    terms: list[ColumnElement[bool]] = []
    name = func.lower(ACCOUNTS.c.name)
    for text, prefix in ((where.name_starts_with, True), (where.name_contains, False)):
        if text is not None:
            terms.append(name.like(func.lower(literal(_like(text, prefix=prefix))), escape="\\"))
    if where.owner is not None:
        terms.append(ACCOUNTS.c.owner == where.owner)
    return terms


async def _bump_accounts_version(session: AsyncSession, org_id: str) -> None:
    await session.execute(
        update(OrgRow)
        .where(OrgRow.id == org_id)
        .values(accounts_version=OrgRow.accounts_version + 1)
        .execution_options(synchronize_session=False)
    )


def _party(org_id: str) -> ColumnElement[bool]:
    return or_(PartnershipRow.inviter_id == org_id, PartnershipRow.invitee_id == org_id)


def _org(row: OrgRow) -> Org:
    return Org(
        id=row.id,
        name=row.name,
        types=frozenset(OrgType(t) for t in row.types),
        region=row.region,
        discoverable=row.discoverable,
        created_at=row.created_at,
    )


def _partnership(row: PartnershipRow) -> Partnership:
    return Partnership(
        id=row.id,
        inviter_id=row.inviter_id,
        invitee_id=row.invitee_id,
        status=PartnershipStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        activated_at=row.activated_at,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
    )


def _rule(row: SharingRuleRow) -> SharingRule:
    return SharingRule(
        from_org=row.from_org,
        to_org=row.to_org,
        population=row.population,
        level=SharingLevel(row.level),
        fields=tuple(row.fields),
        updated_at=row.updated_at,
    )
