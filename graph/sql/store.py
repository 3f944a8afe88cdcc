"""SqlStore: the GraphStore port over SQLAlchemy (SQLite or PostgreSQL).

Every call is one unit of work (`async with session.begin()`); errors leave through
graph.sql.errors as domain errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.errors import BadInput, Forbidden
from graph.model import (
    Org,
    OrgType,
    Page,
    Partnership,
    PartnershipStatus,
    SharingLevel,
    SharingRule,
)
from graph.sql.engine import create_engine, writer
from graph.sql.errors import translated
from graph.sql.migrate import upgrade_to_head
from graph.sql.tables import (
    GRAPH_TABLES,
    LIVE_STATUSES,
    OrgRow,
    PartnershipRow,
    SharingRuleRow,
    metadata,
)

T = TypeVar("T")


class SqlStore:
    def __init__(self, url: str, *, allow_reset: bool = False) -> None:
        self._backend = make_url(url).get_backend_name()
        self._engine = create_engine(url)
        self._read = async_sessionmaker(self._engine, expire_on_commit=False)
        self._write = async_sessionmaker(writer(self._engine), expire_on_commit=False)
        self._allow_reset = allow_reset

    @property
    def backend(self) -> str:
        return self._backend

    @asynccontextmanager
    async def _unit(
        self, *, write: bool = False, conflict: str | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One transaction; commits on success, rolls back and translates on error."""
        factory = self._write if write else self._read
        with translated(self._backend, conflict=conflict or "the write clashes"):
            async with factory() as session, session.begin():
                yield session

    async def apply_schema(self) -> None:
        with translated(self._backend):
            await upgrade_to_head(writer(self._engine))

    async def ping(self) -> None:
        async with self._unit() as session:
            await session.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._engine.dispose()

    async def reset(self) -> None:
        if not self._allow_reset:
            raise Forbidden("reset() deletes everything; open the store with allow_reset=True")
        async with self._unit(write=True) as session:
            for table in reversed(metadata.sorted_tables):
                if table.name in GRAPH_TABLES:  # identity data may share the database
                    await session.execute(delete(table))

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
        _check_first(first)
        query = select(OrgRow).order_by(OrgRow.id).limit(first + 1)
        if after is not None:
            query = query.where(OrgRow.id > after)
        async with self._unit() as session:
            rows = list(await session.scalars(query))
        return _page([_org(row) for row in rows], first, lambda o: o.id)

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
    ) -> Page[Partnership]:
        _check_first(first)
        query = (
            select(PartnershipRow)
            .where(_party(acting_org))
            .order_by(PartnershipRow.id.desc())
            .limit(first + 1)
        )
        if status is not None:
            query = query.where(PartnershipRow.status == status.value)
        if after is not None:
            query = query.where(PartnershipRow.id < after)
        async with self._unit() as session:
            rows = list(await session.scalars(query))
        return _page([_partnership(row) for row in rows], first, lambda p: p.id)

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


def _check_first(first: int) -> None:
    if first < 0:
        raise BadInput("first must not be negative", field="first")


def _page(items: list[T], first: int, key: Callable[[T], str]) -> Page[T]:
    shown = items[:first]
    return Page(items=shown, has_next=len(items) > first, cursors=[key(i) for i in shown])


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
