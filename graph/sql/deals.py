"""SqlDeals: the DealStore half of the port over SQLAlchemy (SQLite or PostgreSQL).

SqlStore inherits it. What only the store can enforce is enforced by the database:

- First-in claims: a live registration holds its claim key in the unique, nullable
  `deal_registrations.claim` column. `register_deal` inserts with
  `ON CONFLICT (claim) DO NOTHING`; when nothing was inserted the slot is taken and the
  registration is stored REJECTED (DUPLICATE) with no claim. Non-live statuses set the
  column to NULL, which frees the slot. This holds across processes (no Python lock).
- Compare-and-set transitions: `UPDATE ... WHERE status = :current ...`.

Write units go through the writer engine (BEGIN IMMEDIATE on SQLite, so concurrent
writers queue). On PostgreSQL a deadlock or serialization failure retries the whole unit
a few times before it surfaces (it should not happen: every unit touches at most one
claim and locks in one order, but callers must never see one).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Row,
    Table,
    and_,
    case,
    delete,
    exc,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from graph.deal_port import DealSide, DealStats
from graph.deals import (
    Credit,
    DealProgram,
    DealReason,
    DealRegistration,
    DealRole,
    DealStatus,
    DealTransition,
    Opportunity,
    OpportunityStatus,
    OpportunityUpsert,
    OpportunityWrite,
)
from graph.errors import BadInput
from graph.model import Account, HashedKey, KeyKind, Page
from graph.outbox import deal_events
from graph.paging import check_first, page
from graph.sql.chunks import in_chunks
from graph.sql.database import SqlDatabase
from graph.sql.errors import translated
from graph.sql.keyset import by_key
from graph.sql.outbox import add_outbox
from graph.sql.tables import AccountRow, metadata

T = TypeVar("T")

# PostgreSQL SQLSTATEs worth retrying a whole unit for: serialization_failure,
# deadlock_detected.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
_RETRIES = 5

OPPS: Table = metadata.tables["opportunities"]
PROGRAMS: Table = metadata.tables["deal_programs"]
DIRECT: Table = metadata.tables["direct_only_accounts"]
REGS: Table = metadata.tables["deal_registrations"]
HISTORY: Table = metadata.tables["deal_history"]
ACCOUNTS: Table = metadata.tables["accounts"]
KEYS: Table = metadata.tables["account_keys"]

LIVE = [s.value for s in DealStatus if s.is_live]


class SqlDeals(SqlDatabase):
    # --- plumbing -----------------------------------------------------------------------

    def _upsert(self) -> Callable[..., Any]:
        return postgresql.insert if self._backend == "postgresql" else sqlite.insert

    async def _write_unit(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, conflict: str | None = None
    ) -> T:
        """Run `work` in one write transaction; retried whole on a PostgreSQL deadlock or
        serialization failure, translated to domain errors otherwise."""
        attempt = 0
        with translated(self._backend, conflict=conflict or "the write clashes"):
            while True:
                try:
                    async with self._write() as session, session.begin():
                        return await work(session)
                except exc.DBAPIError as error:
                    sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
                    if sqlstate not in _RETRY_SQLSTATES or attempt >= _RETRIES:
                        raise
                    attempt += 1
                    await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))

    # --- opportunities ------------------------------------------------------------------

    async def upsert_opportunities(
        self, acting_org: str, rows: Sequence[OpportunityUpsert], *, at: datetime
    ) -> list[OpportunityWrite]:
        crm_ids = [row.crm_id for row in rows]
        if len(set(crm_ids)) != len(crm_ids):
            raise BadInput("the rows repeat a crm_id", field="rows")
        if not rows:
            return []
        postgres = self._backend == "postgresql"

        async def work(session: AsyncSession) -> list[OpportunityWrite]:
            accounts: dict[str, str] = {}
            for chunk in in_chunks(sorted({row.account_crm_id for row in rows})):
                query = select(ACCOUNTS.c.crm_id, ACCOUNTS.c.id).where(
                    ACCOUNTS.c.org_id == acting_org, ACCOUNTS.c.crm_id.in_(chunk)
                )
                for crm_id, account_id in await session.execute(query):
                    accounts[crm_id] = account_id
            writable = sorted(
                (row for row in rows if row.account_crm_id in accounts), key=lambda r: r.crm_id
            )
            previous: dict[str, OpportunityStatus] = {}
            for chunk in in_chunks([row.crm_id for row in writable]):
                query = select(OPPS.c.crm_id, OPPS.c.status).where(
                    OPPS.c.org_id == acting_org, OPPS.c.crm_id.in_(chunk)
                )
                if postgres:  # hold the rows we replace, in crm_id order
                    query = query.order_by(OPPS.c.crm_id).with_for_update()
                for crm_id, status in await session.execute(query):
                    previous[crm_id] = OpportunityStatus(status)
            written: dict[str, tuple[str, bool]] = {}
            if writable:
                statement = self._upsert()(OPPS)
                replaced = (
                    "account_id",
                    "name",
                    "amount",
                    "currency",
                    "stage",
                    "status",
                    "created_at",
                    "closed_at",
                    "updated_at",
                )
                statement = statement.on_conflict_do_update(
                    index_elements=["org_id", "crm_id"],
                    set_={column: statement.excluded[column] for column in replaced},
                )
                fresh = literal_column("xmax = 0" if postgres else "0", Boolean)
                statement = statement.returning(OPPS.c.crm_id, OPPS.c.id, fresh)
                params = [
                    {
                        "id": row.new_id,
                        "org_id": acting_org,
                        "crm_id": row.crm_id,
                        "account_id": accounts[row.account_crm_id],
                        "name": row.name,
                        "amount": row.amount,
                        "currency": row.currency,
                        "stage": row.stage,
                        "status": OpportunityStatus(row.status).value,
                        "created_at": row.created_at,
                        "closed_at": row.closed_at,
                        "updated_at": at,
                    }
                    for row in writable
                ]
                for crm_id, opp_id, inserted in await session.execute(statement, params):
                    created = bool(inserted) if postgres else crm_id not in previous
                    written[crm_id] = (opp_id, created)
            results = []
            for row in rows:
                if row.crm_id not in written:
                    results.append(OpportunityWrite(row.crm_id, None, False))
                else:
                    opp_id, created = written[row.crm_id]
                    results.append(
                        OpportunityWrite(row.crm_id, opp_id, created, previous.get(row.crm_id))
                    )
            return results

        return await self._write_unit(work)

    async def get_opportunities(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, Opportunity]:
        found: dict[str, Opportunity] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(ids))):
                query = select(OPPS).where(OPPS.c.org_id == acting_org, OPPS.c.id.in_(chunk))
                for row in await session.execute(query):
                    found[row.id] = _opportunity(row)
        return found

    async def list_opportunities(
        self,
        acting_org: str,
        *,
        status: OpportunityStatus | None = None,
        account_id: str | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Opportunity]:
        check_first(first)
        query = select(OPPS).where(OPPS.c.org_id == acting_org)
        if status is not None:
            query = query.where(OPPS.c.status == OpportunityStatus(status).value)
        if account_id is not None:
            query = query.where(OPPS.c.account_id == account_id)
        query = by_key(
            query, OPPS.c.id, descending=False, first=first, after=after, backward=backward
        )
        async with self._unit() as session:
            items = [_opportunity(row) for row in await session.execute(query)]
        return page(items, first, lambda o: o.id, backward=backward)

    async def open_opportunities(
        self, acting_org: str, account_id: str, *, created_before: datetime
    ) -> list[Opportunity]:
        query = (
            select(OPPS)
            .where(
                OPPS.c.org_id == acting_org,
                OPPS.c.account_id == account_id,
                OPPS.c.status == OpportunityStatus.OPEN.value,
                OPPS.c.created_at < created_before,
            )
            .order_by(OPPS.c.created_at, OPPS.c.id)
        )
        async with self._unit() as session:
            return [_opportunity(row) for row in await session.execute(query)]

    async def close_opportunity(
        self,
        acting_org: str,
        opportunity_id: str,
        *,
        status: OpportunityStatus,
        closed_at: datetime,
        at: datetime,
    ) -> Opportunity | None:
        if status is OpportunityStatus.OPEN:
            raise BadInput("an opportunity closes WON or LOST", field="status")
        statement = (
            update(OPPS)
            .where(
                OPPS.c.id == opportunity_id,
                OPPS.c.org_id == acting_org,
                OPPS.c.status == OpportunityStatus.OPEN.value,
            )
            .values(status=status.value, closed_at=closed_at, updated_at=at)
            .returning(*OPPS.c)
        )

        async def work(session: AsyncSession) -> Opportunity | None:
            row = (await session.execute(statement)).one_or_none()
            return None if row is None else _opportunity(row)

        return await self._write_unit(work)

    async def settle_registrations(
        self,
        *,
        opportunity_ids: Sequence[str] | None,
        outcomes: Mapping[OpportunityStatus, Mapping[DealStatus, DealStatus]],
        at: datetime,
        limit: int,
    ) -> list[DealRegistration]:
        wanted = [
            and_(
                OPPS.c.status == OpportunityStatus(opp_status).value,
                REGS.c.status.in_([DealStatus(s).value for s in moves]),
            )
            for opp_status, moves in outcomes.items()
            if moves and opp_status is not OpportunityStatus.OPEN
        ]
        if not wanted or limit <= 0 or (opportunity_ids is not None and not opportunity_ids):
            return []
        query = (
            select(REGS.c.id, REGS.c.status, OPPS.c.status)
            .join(
                OPPS,
                and_(OPPS.c.id == REGS.c.opportunity_id, OPPS.c.org_id == REGS.c.vendor_org),
            )
            .where(or_(*wanted))
            .order_by(REGS.c.id)
            .limit(limit)
        )
        if opportunity_ids is not None:
            query = query.where(REGS.c.opportunity_id.in_(sorted(set(opportunity_ids))))
        if self._backend == "postgresql":  # concurrent settlers take different rows
            query = query.with_for_update(of=REGS, skip_locked=True)

        async def work(session: AsyncSession) -> list[DealRegistration]:
            moves: dict[tuple[DealStatus, DealStatus], list[str]] = {}
            for reg_id, reg_status, opp_status in await session.execute(query):
                old = DealStatus(reg_status)
                new = outcomes[OpportunityStatus(opp_status)][old]
                moves.setdefault((old, new), []).append(reg_id)
            moved: list[DealRegistration] = []
            for (old, new), reg_ids in sorted(moves.items()):
                moved += await _move(session, reg_ids, old, new, at)
            return sorted(moved, key=lambda r: r.id)

        return await self._write_unit(work)

    # --- the vendor's program and direct-only accounts ----------------------------------

    async def deal_program(self, vendor_org: str) -> DealProgram:
        query = select(PROGRAMS).where(PROGRAMS.c.vendor_org == vendor_org)
        async with self._unit() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None:
            return DealProgram(vendor_org)
        return DealProgram(
            vendor_org=row.vendor_org,
            exclusive_roles=frozenset(DealRole(r) for r in row.exclusive_roles),
            expiry_days=row.expiry_days,
            extension_days=row.extension_days,
            max_extensions=row.max_extensions,
            existing_pipeline_blocks=row.existing_pipeline_blocks,
            auto_approve_roles=frozenset(DealRole(r) for r in row.auto_approve_roles),
            auto_approve_max_amount=row.auto_approve_max_amount,
            direct_only_populations=frozenset(row.direct_only_populations),
            updated_at=row.updated_at,
        )

    async def put_deal_program(self, program: DealProgram) -> DealProgram:
        values = {
            "vendor_org": program.vendor_org,
            "exclusive_roles": sorted(DealRole(r).value for r in program.exclusive_roles),
            "expiry_days": program.expiry_days,
            "extension_days": program.extension_days,
            "max_extensions": program.max_extensions,
            "existing_pipeline_blocks": program.existing_pipeline_blocks,
            "auto_approve_roles": sorted(DealRole(r).value for r in program.auto_approve_roles),
            "auto_approve_max_amount": program.auto_approve_max_amount,
            "direct_only_populations": sorted(program.direct_only_populations),
            "updated_at": program.updated_at,
        }
        statement = self._upsert()(PROGRAMS).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["vendor_org"],
            set_={k: statement.excluded[k] for k in values if k != "vendor_org"},
        )

        async def work(session: AsyncSession) -> None:
            await session.execute(statement)

        await self._write_unit(work)
        return program

    async def set_direct_only(
        self, acting_org: str, account_ids: Sequence[str], direct_only: bool
    ) -> list[str]:
        wanted = list(dict.fromkeys(account_ids))
        if not wanted:
            return []

        async def work(session: AsyncSession) -> list[str]:
            owned: set[str] = set()
            for chunk in in_chunks(sorted(wanted)):
                owned.update(
                    await session.scalars(
                        select(ACCOUNTS.c.id).where(
                            ACCOUNTS.c.org_id == acting_org, ACCOUNTS.c.id.in_(chunk)
                        )
                    )
                )
            mine = sorted(owned)
            if direct_only:
                for chunk in in_chunks(mine):
                    statement = self._upsert()(DIRECT).on_conflict_do_nothing(
                        index_elements=["account_id"]
                    )
                    await session.execute(
                        statement, [{"account_id": a, "org_id": acting_org} for a in chunk]
                    )
            else:
                for chunk in in_chunks(mine):
                    await session.execute(
                        delete(DIRECT).where(
                            DIRECT.c.org_id == acting_org, DIRECT.c.account_id.in_(chunk)
                        )
                    )
            return [a for a in wanted if a in owned]

        return await self._write_unit(work)

    async def direct_only_accounts(self, acting_org: str, account_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(account_ids))):
                found.update(
                    await session.scalars(
                        select(DIRECT.c.account_id).where(
                            DIRECT.c.org_id == acting_org, DIRECT.c.account_id.in_(chunk)
                        )
                    )
                )
        return found

    async def accounts_by_keys(self, acting_org: str, keys: Sequence[HashedKey]) -> list[Account]:
        from graph.sql.store import _accounts  # the one reader of accounts with their keys

        by_kind: dict[str, set[str]] = {}
        for key in keys:
            hashes = by_kind.setdefault(KeyKind(key.kind).value, set())
            hashes.add(key.active)
            if key.target is not None:
                hashes.add(key.target)
        if not by_kind:
            return []
        matches = or_(
            *(
                and_(KEYS.c.kind == kind, KEYS.c.h.in_(sorted(hashes)))
                for kind, hashes in sorted(by_kind.items())
            )
        )
        holders = select(KEYS.c.account_id).where(KEYS.c.org_id == acting_org, matches)
        query = (
            select(ACCOUNTS.c.id)
            .where(ACCOUNTS.c.org_id == acting_org, ACCOUNTS.c.id.in_(holders))
            .order_by(ACCOUNTS.c.id)
        )
        async with self._unit() as session:
            ids = list(await session.scalars(query))
            if not ids:
                return []
            rows = list(
                await session.scalars(
                    select(AccountRow).where(AccountRow.id.in_(ids)).order_by(AccountRow.id)
                )
            )
            return await _accounts(session, rows)

    # --- registrations ------------------------------------------------------------------

    async def register_deal(self, registration: DealRegistration) -> DealRegistration:
        r = registration
        claim_insert = (
            self._upsert()(REGS)
            .values(_registration_values(r, claim=r.claim_key))
            .on_conflict_do_nothing(index_elements=["claim"])
            .returning(REGS.c.id)
        )

        async def work(session: AsyncSession) -> DealRegistration:
            # 1. Lazy expiry of the approval holding this claim, if its time is up.
            expire = (
                update(REGS)
                .where(
                    REGS.c.claim == r.claim_key,
                    REGS.c.status == DealStatus.APPROVED.value,
                    REGS.c.expires_at <= r.registered_at,
                )
                .values(status=DealStatus.EXPIRED.value, updated_at=r.registered_at, claim=None)
                .returning(*REGS.c)
            )
            expired = [_registration(row) for row in await session.execute(expire)]
            lapsed = (DealStatus.APPROVED, DealStatus.EXPIRED, None, None)
            await _add_history(
                session, [(DealTransition(e.id, r.registered_at, *lapsed), e) for e in expired]
            )
            # 2. Take the claim, first in wins; else stored REJECTED (DUPLICATE), no claim.
            stored = r
            taken = False
            if r.status.is_live:
                taken = (await session.execute(claim_insert)).first() is not None
                if not taken:
                    stored = _duplicate(r)
            if not taken:
                await session.execute(insert(REGS).values(_registration_values(stored, claim=None)))
            # 3. The registration's own history entry.
            own = DealTransition(
                r.id, r.registered_at, None, stored.status, r.partner_org, r.registered_by
            )
            await _add_history(session, [(own, stored)])
            return stored

        return await self._write_unit(work, conflict=f"registration {r.id} already exists")

    async def get_deals(self, acting_org: str, ids: Sequence[str]) -> dict[str, DealRegistration]:
        found: dict[str, DealRegistration] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(ids))):
                query = select(REGS).where(REGS.c.id.in_(chunk), _party(acting_org))
                for row in await session.execute(query):
                    found[row.id] = _registration(row)
        return found

    async def list_deals(
        self,
        acting_org: str,
        *,
        side: DealSide,
        statuses: Sequence[DealStatus] | None = None,
        account_id: str | None = None,
        opportunity_id: str | None = None,
        counterparty: str | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[DealRegistration]:
        check_first(first)
        if side == "vendor":
            mine, other = REGS.c.vendor_org, REGS.c.partner_org
        elif side == "partner":
            mine, other = REGS.c.partner_org, REGS.c.vendor_org
        else:
            raise BadInput(f"unknown side {side!r}", field="side")
        query = select(REGS).where(mine == acting_org)
        if statuses is not None:
            query = query.where(REGS.c.status.in_(sorted({DealStatus(s).value for s in statuses})))
        if account_id is not None:
            query = query.where(REGS.c.account_id == account_id)
        if opportunity_id is not None:
            query = query.where(REGS.c.opportunity_id == opportunity_id)
        if counterparty is not None:
            query = query.where(other == counterparty)
        query = by_key(
            query, REGS.c.id, descending=True, first=first, after=after, backward=backward
        )
        async with self._unit() as session:
            items = [_registration(row) for row in await session.execute(query)]
        return page(items, first, lambda r: r.id, backward=backward)

    async def deals_on_accounts(
        self, vendor_org: str, account_ids: Sequence[str]
    ) -> list[DealRegistration]:
        found: list[DealRegistration] = []
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(account_ids))):
                query = select(REGS).where(
                    REGS.c.vendor_org == vendor_org, REGS.c.account_id.in_(chunk)
                )
                found += [_registration(row) for row in await session.execute(query)]
        return sorted(found, key=lambda r: r.id)

    async def update_deal(
        self, current: DealRegistration, new: DealRegistration, transition: DealTransition
    ) -> DealRegistration | None:
        values = _registration_values(new, claim=None)
        del values["id"]
        if new.status.is_live:
            del values["claim"]  # a live registration keeps the claim it holds
        statement = (
            update(REGS)
            .where(
                REGS.c.id == current.id,
                REGS.c.status == current.status.value,
                REGS.c.extensions == current.extensions,
            )
            .values(values)
            .returning(*REGS.c)
        )

        async def work(session: AsyncSession) -> DealRegistration | None:
            row = (await session.execute(statement)).one_or_none()
            if row is None:
                return None
            written = _registration(row)
            await _add_history(session, [(_on_registration(transition, current.id), written)])
            return written

        return await self._write_unit(work)

    async def expire_deals(self, now: datetime, *, limit: int) -> list[DealRegistration]:
        if limit <= 0:
            return []
        query = (
            select(REGS.c.id)
            .where(REGS.c.status == DealStatus.APPROVED.value, REGS.c.expires_at <= now)
            .order_by(REGS.c.expires_at, REGS.c.id)
            .limit(limit)
        )
        if self._backend == "postgresql":  # concurrent expirers take different rows
            query = query.with_for_update(skip_locked=True)

        async def work(session: AsyncSession) -> list[DealRegistration]:
            ids = list(await session.scalars(query))
            moved = await _move(session, ids, DealStatus.APPROVED, DealStatus.EXPIRED, now)
            return sorted(moved, key=lambda r: (r.expires_at or now, r.id))

        return await self._write_unit(work)

    async def deal_history(self, acting_org: str, registration_id: str) -> list[DealTransition]:
        query = (
            select(HISTORY)
            .join(REGS, REGS.c.id == HISTORY.c.registration_id)
            .where(REGS.c.id == registration_id, _party(acting_org))
            .order_by(HISTORY.c.at, HISTORY.c.seq)
        )
        async with self._unit() as session:
            return [
                DealTransition(
                    registration_id=row.registration_id,
                    at=row.at,
                    from_status=None if row.from_status is None else DealStatus(row.from_status),
                    to_status=DealStatus(row.to_status),
                    actor_org=row.actor_org,
                    actor_user=row.actor_user,
                    note=row.note,
                )
                for row in await session.execute(query)
            ]

    async def deal_histories(
        self, acting_org: str, registration_ids: Sequence[str]
    ) -> dict[str, list[DealTransition]]:
        found: dict[str, list[DealTransition]] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(registration_ids))):
                visible = select(REGS.c.id).where(REGS.c.id.in_(chunk), _party(acting_org))
                for registration_id in await session.scalars(visible):
                    found[registration_id] = []
                query = (
                    select(HISTORY)
                    .join(REGS, REGS.c.id == HISTORY.c.registration_id)
                    .where(REGS.c.id.in_(chunk), _party(acting_org))
                    .order_by(HISTORY.c.registration_id, HISTORY.c.at, HISTORY.c.seq)
                )
                for row in await session.execute(query):
                    found[row.registration_id].append(
                        DealTransition(
                            registration_id=row.registration_id,
                            at=row.at,
                            from_status=(
                                None if row.from_status is None else DealStatus(row.from_status)
                            ),
                            to_status=DealStatus(row.to_status),
                            actor_org=row.actor_org,
                            actor_user=row.actor_user,
                            note=row.note,
                        )
                    )
        return found

    async def deal_stats(
        self, vendor_org: str, partner_orgs: Sequence[str]
    ) -> dict[str, DealStats]:
        stats: dict[str, DealStats] = {}
        won = func.sum(case((REGS.c.status == DealStatus.WON.value, 1), else_=0), type_=Integer)
        live = func.sum(case((REGS.c.status.in_(LIVE), 1), else_=0), type_=Integer)
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(partner_orgs))):
                query = (
                    select(REGS.c.partner_org, won, live)
                    .where(REGS.c.vendor_org == vendor_org, REGS.c.partner_org.in_(chunk))
                    .group_by(REGS.c.partner_org)
                )
                for partner, n_won, n_live in await session.execute(query):
                    stats[partner] = DealStats(won=int(n_won or 0), live=int(n_live or 0))
        return stats


# --- helpers ------------------------------------------------------------------------------


def _party(org_id: str) -> ColumnElement[bool]:
    return or_(REGS.c.vendor_org == org_id, REGS.c.partner_org == org_id)


def _on_registration(transition: DealTransition, registration_id: str) -> DealTransition:
    """The transition as recorded: always on the registration it changed."""
    if transition.registration_id == registration_id:
        return transition
    return DealTransition(
        registration_id,
        transition.at,
        transition.from_status,
        transition.to_status,
        transition.actor_org,
        transition.actor_user,
        transition.note,
    )


def _duplicate(r: DealRegistration) -> DealRegistration:
    return replace(r, status=DealStatus.REJECTED, reasons=(*r.reasons, DealReason.DUPLICATE))


async def _move(
    session: AsyncSession, ids: Sequence[str], old: DealStatus, new: DealStatus, at: datetime
) -> list[DealRegistration]:
    """Compare-and-set `old` -> `new` on `ids`, with server history entries; the claim
    goes when `new` is not live. Returns the moved registrations, new state."""
    moved: list[DealRegistration] = []
    values: dict[str, Any] = {"status": new.value, "updated_at": at}
    if not new.is_live:
        values["claim"] = None
    for chunk in in_chunks(sorted(ids)):
        statement = (
            update(REGS)
            .where(REGS.c.id.in_(chunk), REGS.c.status == old.value)
            .values(values)
            .returning(*REGS.c)
        )
        moved += [_registration(row) for row in await session.execute(statement)]
    await _add_history(
        session, [(DealTransition(r.id, at, old, new, None, None), r) for r in moved]
    )
    return moved


async def _add_history(
    session: AsyncSession, entries: Sequence[tuple[DealTransition, DealRegistration]]
) -> None:
    """Record each transition of its registration, with the outbox events announcing it
    to the registration's parties (the same unit: both commit or neither)."""
    if not entries:
        return
    await session.execute(
        insert(HISTORY),
        [
            {
                "registration_id": t.registration_id,
                "at": t.at,
                "from_status": None if t.from_status is None else t.from_status.value,
                "to_status": t.to_status.value,
                "actor_org": t.actor_org,
                "actor_user": t.actor_user,
                "note": t.note,
            }
            for t, _ in entries
        ],
    )
    await add_outbox(
        session,
        [
            event
            for t, r in entries
            for event in deal_events(
                t.registration_id, r.vendor_org, r.partner_org, t.from_status, t.to_status, t.at
            )
        ],
    )


def _registration_values(r: DealRegistration, *, claim: str | None) -> dict[str, Any]:
    return {
        "id": r.id,
        "vendor_org": r.vendor_org,
        "partner_org": r.partner_org,
        "account_id": r.account_id,
        "opportunity_id": r.opportunity_id,
        "role": DealRole(r.role).value,
        "product_line": r.product_line,
        "amount": r.amount,
        "currency": r.currency,
        "expected_close": r.expected_close,
        "status": DealStatus(r.status).value,
        "reasons": [DealReason(x).value for x in r.reasons],
        "credit": Credit(r.credit).value,
        "registered_by": r.registered_by,
        "registered_at": r.registered_at,
        "updated_at": r.updated_at,
        "claim_key": r.claim_key,
        "claim": claim,
        "decided_at": r.decided_at,
        "decided_by": r.decided_by,
        "decision_note": r.decision_note,
        "expires_at": r.expires_at,
        "extensions": r.extensions,
    }


def _registration(row: Row[Any]) -> DealRegistration:
    return DealRegistration(
        id=row.id,
        vendor_org=row.vendor_org,
        partner_org=row.partner_org,
        account_id=row.account_id,
        opportunity_id=row.opportunity_id,
        role=DealRole(row.role),
        product_line=row.product_line,
        amount=row.amount,
        currency=row.currency,
        expected_close=row.expected_close,
        status=DealStatus(row.status),
        reasons=tuple(DealReason(x) for x in row.reasons),
        credit=Credit(row.credit),
        registered_by=row.registered_by,
        registered_at=row.registered_at,
        updated_at=row.updated_at,
        claim_key=row.claim_key,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
        expires_at=row.expires_at,
        extensions=row.extensions,
    )


def _opportunity(row: Row[Any]) -> Opportunity:
    return Opportunity(
        id=row.id,
        org_id=row.org_id,
        crm_id=row.crm_id,
        account_id=row.account_id,
        name=row.name,
        amount=row.amount,
        currency=row.currency,
        stage=row.stage,
        status=OpportunityStatus(row.status),
        created_at=row.created_at,
        closed_at=row.closed_at,
        updated_at=row.updated_at,
    )
