"""SqlIntros: the IntroStore half of the port over SQLAlchemy (SQLite or PostgreSQL).

SqlStore inherits it. What only the store can enforce is enforced by the database:

- One open introduction per pair: an open (REQUESTED or FORWARDED) introduction holds
  its pair key in the unique, nullable `introductions.open_pair` column; every other
  status sets it to NULL, which frees the pair. A second open insert for the pair fails
  on the constraint (Conflict), whatever the number of concurrent writers or processes.
- Compare-and-set moves: `UPDATE ... WHERE id = :id AND status = :current`.
- Accepting writes the introduction, the ACTIVE partnership and the INTRODUCED edge in
  one unit; the partnerships' live-pair unique index refuses a second live partnership,
  which rolls the whole unit back (Conflict).

Discovery reads are single set-based statements: `discovery_candidates` ranks every
candidate in one query (my ACTIVE partners -> their ACTIVE partners, plus discoverable
orgs, minus live partners and blocks), and `candidate_signals` makes one pass from my
keys in the population over the key index to the candidates' accounts, grouped by org,
next to one join of my WON registrations with the candidates' on the same deal.

Write units go through SqlDeals._write_unit (serialized writers on SQLite, retries on a
PostgreSQL deadlock or serialization failure, errors translated to domain errors).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from graph.deals import DealStatus
from graph.errors import BadInput
from graph.intro_port import AskSide, IntroRole
from graph.intros import (
    AccountAsk,
    AskKind,
    AskStatus,
    Candidate,
    CandidateSignals,
    IntroducedEdge,
    Introduction,
    IntroStatus,
)
from graph.model import Page, Partnership, PartnershipStatus
from graph.outbox import ask_events, introduction_events
from graph.paging import check_first, page
from graph.sql.chunks import in_chunks
from graph.sql.deals import SqlDeals
from graph.sql.keyset import by_key
from graph.sql.outbox import add_outbox
from graph.sql.tables import LIVE_STATUSES, metadata

ORGS: Table = metadata.tables["orgs"]
PARTNERSHIPS: Table = metadata.tables["partnerships"]
POPULATIONS: Table = metadata.tables["account_populations"]
KEYS: Table = metadata.tables["account_keys"]
REGS: Table = metadata.tables["deal_registrations"]
BLOCKS: Table = metadata.tables["org_blocks"]
INTROS: Table = metadata.tables["introductions"]
EDGES: Table = metadata.tables["introduced_edges"]
ASKS: Table = metadata.tables["account_asks"]

OPEN_INTROS = [s.value for s in IntroStatus if s.is_open]
OPEN_ASKS = [s.value for s in AskStatus if s.is_open]
ACTIVE = PartnershipStatus.ACTIVE.value


class SqlIntros(SqlDeals):
    # --- discovery ----------------------------------------------------------------------

    async def discovery_candidates(self, acting_org: str, *, limit: int) -> list[Candidate]:
        if limit <= 0:
            return []
        mine = union(*_counterparts(acting_org, [ACTIVE])).cte("my_partners")
        theirs = PARTNERSHIPS.alias("their_partnerships")
        # (org, partner): `org` has an ACTIVE partnership with `partner`, one of mine.
        shared = union(
            select(theirs.c.invitee_id.label("org_id"), mine.c.org_id.label("partner"))
            .select_from(mine.join(theirs, theirs.c.inviter_id == mine.c.org_id))
            .where(theirs.c.status == ACTIVE),
            select(theirs.c.inviter_id.label("org_id"), mine.c.org_id.label("partner"))
            .select_from(mine.join(theirs, theirs.c.invitee_id == mine.c.org_id))
            .where(theirs.c.status == ACTIVE),
        ).cte("shared")
        excluded = union(
            *_counterparts(acting_org, list(LIVE_STATUSES)),
            select(BLOCKS.c.blocked_org.label("org_id")).where(BLOCKS.c.blocker_org == acting_org),
            select(BLOCKS.c.blocker_org.label("org_id")).where(BLOCKS.c.blocked_org == acting_org),
        ).cte("excluded")
        counts = (
            select(shared.c.org_id, func.count().label("n"))
            .group_by(shared.c.org_id)
            .cte("shared_counts")
        )
        n = func.coalesce(counts.c.n, 0)
        ranked = (
            select(ORGS.c.id.label("org_id"), ORGS.c.discoverable, n.label("n"))
            .select_from(ORGS.outerjoin(counts, counts.c.org_id == ORGS.c.id))
            .where(
                or_(ORGS.c.discoverable.is_(True), counts.c.org_id.is_not(None)),
                ORGS.c.id != acting_org,
                ORGS.c.id.not_in(select(excluded.c.org_id)),
            )
            .order_by(n.desc(), ORGS.c.id)
            .limit(limit)
            .cte("ranked")
        )
        query = (
            select(ranked.c.org_id, ranked.c.discoverable, shared.c.partner)
            .select_from(ranked.outerjoin(shared, shared.c.org_id == ranked.c.org_id))
            .order_by(ranked.c.n.desc(), ranked.c.org_id, shared.c.partner)
        )
        found: dict[str, tuple[bool, list[str]]] = {}
        async with self._unit() as session:
            for org_id, discoverable, partner in await session.execute(query):
                partners = found.setdefault(org_id, (bool(discoverable), []))[1]
                if partner is not None:
                    partners.append(partner)
        return [Candidate(org_id, d, tuple(p)) for org_id, (d, p) in found.items()]

    async def candidate_signals(
        self, acting_org: str, candidate_ids: Sequence[str], *, population: str
    ) -> dict[str, CandidateSignals]:
        wanted = sorted(set(candidate_ids))
        overlap: dict[str, int] = {}
        won: dict[str, int] = {}
        sqlite = self._backend == "sqlite"
        async with self._unit() as session:
            for chunk in in_chunks(wanted):
                query = union_all(
                    _overlap_counts(acting_org, chunk, population, sqlite=sqlite),
                    _co_won_counts(acting_org, chunk, sqlite=sqlite),
                )
                for org_id, signal, count in await session.execute(query):
                    (overlap if signal == 0 else won)[org_id] = int(count)
        return {
            org_id: CandidateSignals(org_id, overlap.get(org_id, 0), won.get(org_id, 0))
            for org_id in candidate_ids
        }

    # --- blocks -------------------------------------------------------------------------

    async def set_block(
        self, acting_org: str, other_org: str, blocked: bool, *, at: datetime
    ) -> bool:
        statement: Any
        if blocked:
            statement = (
                self._upsert()(BLOCKS)
                .values(blocker_org=acting_org, blocked_org=other_org, created_at=at)
                .on_conflict_do_nothing(index_elements=["blocker_org", "blocked_org"])
                .returning(BLOCKS.c.blocked_org)
            )
        else:
            statement = (
                delete(BLOCKS)
                .where(BLOCKS.c.blocker_org == acting_org, BLOCKS.c.blocked_org == other_org)
                .returning(BLOCKS.c.blocked_org)
            )

        async def work(session: AsyncSession) -> bool:
            return (await session.execute(statement)).first() is not None

        return await self._write_unit(work)

    async def blocked_between(self, org_a: str, org_b: str) -> bool:
        query = select(BLOCKS.c.blocker_org).where(
            or_(
                and_(BLOCKS.c.blocker_org == org_a, BLOCKS.c.blocked_org == org_b),
                and_(BLOCKS.c.blocker_org == org_b, BLOCKS.c.blocked_org == org_a),
            )
        )
        async with self._unit() as session:
            return (await session.execute(query.limit(1))).first() is not None

    async def blocked_orgs(self, acting_org: str) -> list[str]:
        query = (
            select(BLOCKS.c.blocked_org)
            .where(BLOCKS.c.blocker_org == acting_org)
            .order_by(BLOCKS.c.blocked_org)
        )
        async with self._unit() as session:
            return list(await session.scalars(query))

    # --- introductions ------------------------------------------------------------------

    async def insert_introduction(self, introduction: Introduction) -> Introduction:
        statement = insert(INTROS).values(_intro_values(introduction))

        async def work(session: AsyncSession) -> None:
            await session.execute(statement)
            await add_outbox(session, introduction_events(introduction, None))

        conflict = "an open introduction between the two orgs exists (or the id is taken)"
        await self._write_unit(work, conflict=conflict)
        return introduction

    async def get_introductions(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, Introduction]:
        found: dict[str, Introduction] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(ids))):
                query = select(INTROS).where(INTROS.c.id.in_(chunk), _sees_intro(acting_org))
                for row in await session.execute(query):
                    found[row.id] = _introduction(row)
        return found

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
        check_first(first)
        if role == "requester":
            mine = INTROS.c.requester_org == acting_org
        elif role == "broker":
            mine = INTROS.c.broker_org == acting_org
        elif role == "target":
            mine = and_(INTROS.c.target_org == acting_org, _reached_target())
        else:
            raise BadInput(f"unknown role {role!r}", field="role")
        query = select(INTROS).where(mine)
        if statuses is not None:
            values = sorted({IntroStatus(s).value for s in statuses})
            query = query.where(INTROS.c.status.in_(values))
        query = by_key(
            query, INTROS.c.id, descending=True, first=first, after=after, backward=backward
        )
        async with self._unit() as session:
            items = [_introduction(row) for row in await session.execute(query)]
        return page(items, first, lambda i: i.id, backward=backward)

    async def update_introduction(
        self, current: Introduction, new: Introduction
    ) -> Introduction | None:
        statement = _intro_cas(current, new)

        async def work(session: AsyncSession) -> Introduction | None:
            row = (await session.execute(statement)).one_or_none()
            if row is None:
                return None
            written = _introduction(row)
            await add_outbox(session, introduction_events(written, current.status))
            return written

        conflict = "an open introduction between the two orgs exists"
        return await self._write_unit(work, conflict=conflict)

    async def accept_introduction(
        self,
        current: Introduction,
        new: Introduction,
        partnership: Partnership,
        edge: IntroducedEdge,
    ) -> Introduction | None:
        statement = _intro_cas(current, new)
        p = partnership
        low, high = sorted((p.inviter_id, p.invitee_id))
        add_partnership = insert(PARTNERSHIPS).values(
            id=p.id,
            inviter_id=p.inviter_id,
            invitee_id=p.invitee_id,
            org_low=low,
            org_high=high,
            status=PartnershipStatus(p.status).value,
            created_at=p.created_at,
            updated_at=p.updated_at,
            activated_at=p.activated_at,
            ended_at=p.ended_at,
            ended_by=p.ended_by,
        )
        add_edge = insert(EDGES).values(
            introduction_id=edge.introduction_id,
            credited_org=edge.credited_org,
            from_org=edge.from_org,
            to_org=edge.to_org,
            at=edge.at,
        )

        async def work(session: AsyncSession) -> Introduction | None:
            row = (await session.execute(statement)).one_or_none()
            if row is None:
                return None
            await session.execute(add_partnership)
            await session.execute(add_edge)
            written = _introduction(row)
            await add_outbox(session, introduction_events(written, current.status))
            return written

        conflict = "the two orgs already have a live partnership"
        return await self._write_unit(work, conflict=conflict)

    async def expire_introductions(self, now: datetime, *, limit: int) -> list[Introduction]:
        if limit <= 0:
            return []
        query = (
            select(INTROS.c.id, INTROS.c.status)
            .where(INTROS.c.status.in_(OPEN_INTROS), INTROS.c.expires_at <= now)
            .order_by(INTROS.c.expires_at, INTROS.c.id)
            .limit(limit)
        )
        if self._backend == "postgresql":  # concurrent expirers take different rows
            query = query.with_for_update(skip_locked=True)

        async def work(session: AsyncSession) -> list[Introduction]:
            # Held (FOR UPDATE on PostgreSQL, the write lock on SQLite): the statuses read
            # here are the ones the update below replaces.
            previous = {i: IntroStatus(status) for i, status in await session.execute(query)}
            if not previous:
                return []
            statement = (
                update(INTROS)
                .where(INTROS.c.id.in_(sorted(previous)), INTROS.c.status.in_(OPEN_INTROS))
                .values(status=IntroStatus.EXPIRED.value, updated_at=now, open_pair=None)
                .returning(*INTROS.c)
            )
            moved = [_introduction(row) for row in await session.execute(statement)]
            await add_outbox(
                session, [e for i in moved for e in introduction_events(i, previous[i.id])]
            )
            return sorted(moved, key=lambda i: (i.expires_at, i.id))

        return await self._write_unit(work)

    async def last_declined(self, requester_org: str, target_org: str) -> datetime | None:
        query = select(func.max(func.coalesce(INTROS.c.decided_at, INTROS.c.updated_at))).where(
            INTROS.c.requester_org == requester_org,
            INTROS.c.target_org == target_org,
            INTROS.c.status == IntroStatus.DECLINED.value,
        )
        async with self._unit() as session:
            value: datetime | None = (await session.execute(query)).scalar_one()
        return value

    async def requests_since(self, acting_org: str, since: datetime) -> int:
        intros = select(func.count()).where(
            INTROS.c.requester_org == acting_org, INTROS.c.created_at >= since
        )
        asks = select(func.count()).where(
            ASKS.c.requester_org == acting_org, ASKS.c.created_at >= since
        )
        query = select(intros.scalar_subquery() + asks.scalar_subquery())
        async with self._unit() as session:
            return int((await session.execute(query)).scalar_one() or 0)

    async def introduced_edges(self, org_ids: Sequence[str]) -> list[IntroducedEdge]:
        found: dict[str, IntroducedEdge] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(org_ids))):
                query = select(EDGES).where(
                    or_(
                        EDGES.c.credited_org.in_(chunk),
                        EDGES.c.from_org.in_(chunk),
                        EDGES.c.to_org.in_(chunk),
                    )
                )
                for row in await session.execute(query):
                    found[row.introduction_id] = IntroducedEdge(
                        introduction_id=row.introduction_id,
                        credited_org=row.credited_org,
                        from_org=row.from_org,
                        to_org=row.to_org,
                        at=row.at,
                    )
        return sorted(found.values(), key=lambda e: (e.at, e.introduction_id))

    # --- account-level asks -------------------------------------------------------------

    async def insert_ask(self, ask: AccountAsk) -> AccountAsk:
        statement = insert(ASKS).values(_ask_values(ask))

        async def work(session: AsyncSession) -> None:
            await session.execute(statement)
            await add_outbox(session, ask_events(ask, None))

        await self._write_unit(work, conflict=f"ask {ask.id} already exists")
        return ask

    async def get_asks(self, acting_org: str, ids: Sequence[str]) -> dict[str, AccountAsk]:
        found: dict[str, AccountAsk] = {}
        party = or_(ASKS.c.requester_org == acting_org, ASKS.c.partner_org == acting_org)
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(ids))):
                query = select(ASKS).where(ASKS.c.id.in_(chunk), party)
                for row in await session.execute(query):
                    found[row.id] = _ask(row)
        return found

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
        check_first(first)
        if side == "requester":
            mine = ASKS.c.requester_org == acting_org
        elif side == "partner":
            mine = ASKS.c.partner_org == acting_org
        else:
            raise BadInput(f"unknown side {side!r}", field="side")
        query = select(ASKS).where(mine)
        if statuses is not None:
            query = query.where(ASKS.c.status.in_(sorted({AskStatus(s).value for s in statuses})))
        query = by_key(
            query, ASKS.c.id, descending=True, first=first, after=after, backward=backward
        )
        async with self._unit() as session:
            items = [_ask(row) for row in await session.execute(query)]
        return page(items, first, lambda a: a.id, backward=backward)

    async def update_ask(self, current: AccountAsk, new: AccountAsk) -> AccountAsk | None:
        values = _ask_values(new)
        del values["id"]
        statement = (
            update(ASKS)
            .where(ASKS.c.id == current.id, ASKS.c.status == AskStatus(current.status).value)
            .values(values)
            .returning(*ASKS.c)
        )

        async def work(session: AsyncSession) -> AccountAsk | None:
            row = (await session.execute(statement)).one_or_none()
            if row is None:
                return None
            written = _ask(row)
            await add_outbox(session, ask_events(written, current.status))
            return written

        return await self._write_unit(work)

    async def expire_asks(self, now: datetime, *, limit: int) -> list[AccountAsk]:
        if limit <= 0:
            return []
        query = (
            select(ASKS.c.id)
            .where(ASKS.c.status.in_(OPEN_ASKS), ASKS.c.expires_at <= now)
            .order_by(ASKS.c.expires_at, ASKS.c.id)
            .limit(limit)
        )
        if self._backend == "postgresql":  # concurrent expirers take different rows
            query = query.with_for_update(skip_locked=True)

        async def work(session: AsyncSession) -> list[AccountAsk]:
            ids = list(await session.scalars(query))
            if not ids:
                return []
            statement = (
                update(ASKS)
                .where(ASKS.c.id.in_(ids), ASKS.c.status.in_(OPEN_ASKS))
                .values(status=AskStatus.EXPIRED.value, updated_at=now)
                .returning(*ASKS.c)
            )
            moved = [_ask(row) for row in await session.execute(statement)]
            await add_outbox(
                session, [e for a in moved for e in ask_events(a, AskStatus.REQUESTED)]
            )
            return sorted(moved, key=lambda a: (a.expires_at, a.id))

        return await self._write_unit(work)


# --- helpers ------------------------------------------------------------------------------


def _counterparts(org_id: str, statuses: Sequence[str]) -> list[Select[str]]:
    """The other orgs of `org_id`'s partnerships in `statuses`: one select per direction,
    each off its own index (flat, to be UNIONed: SQLite refuses nested compounds)."""
    return [
        select(PARTNERSHIPS.c.invitee_id.label("org_id")).where(
            PARTNERSHIPS.c.inviter_id == org_id, PARTNERSHIPS.c.status.in_(statuses)
        ),
        select(PARTNERSHIPS.c.inviter_id.label("org_id")).where(
            PARTNERSHIPS.c.invitee_id == org_id, PARTNERSHIPS.c.status.in_(statuses)
        ),
    ]


def _unindexed(column: ColumnElement[str], sqlite: bool) -> ColumnElement[str]:
    """`column || ''` on SQLite: the same value, but no index lookup on it. SQLite plans
    without statistics and would otherwise start from a less selective index; PostgreSQL
    has statistics and chooses for itself."""
    return column + literal_column("''", Text) if sqlite else column


def _overlap_counts(
    acting_org: str, candidates: Sequence[str], population: str, *, sqlite: bool
) -> Select[str, int, int]:
    """Per candidate: my distinct accounts in `population` sharing a key with one of the
    candidate's accounts in `population`. From my population index to my keys, over the
    key index (h) to the holders, kept when a candidate's account is in the population.
    (On SQLite the candidates' org filter stays off the index, or SQLite would start
    from every key of every candidate and probe my whole population for each.)"""
    my_members = POPULATIONS.alias("my_members")
    my_keys = KEYS.alias("my_keys")
    their_keys = KEYS.alias("their_keys")
    their_members = POPULATIONS.alias("their_members")
    return (
        select(
            their_keys.c.org_id,
            literal_column("0", Integer),
            func.count(my_keys.c.account_id.distinct()),
        )
        .select_from(
            my_members.join(my_keys, my_keys.c.account_id == my_members.c.account_id)
            .join(
                their_keys,
                and_(their_keys.c.h == my_keys.c.h, their_keys.c.kind == my_keys.c.kind),
            )
            .join(
                their_members,
                and_(
                    their_members.c.account_id == their_keys.c.account_id,
                    their_members.c.population == population,
                ),
            )
        )
        .where(
            my_members.c.org_id == acting_org,
            my_members.c.population == population,
            _unindexed(their_keys.c.org_id, sqlite).in_(candidates),
        )
        .group_by(their_keys.c.org_id)
    )


def _co_won_counts(
    acting_org: str, candidates: Sequence[str], *, sqlite: bool
) -> Select[str, int, int]:
    """Per candidate: the distinct (vendor, account, product line) deals on which both
    it and the acting org hold a WON registration: my registrations by the partner
    index (not the status one, on SQLite), theirs by (vendor, account)."""
    mine = REGS.alias("my_regs")
    theirs = REGS.alias("their_regs")
    won = DealStatus.WON.value
    deals = (
        select(
            theirs.c.partner_org, theirs.c.vendor_org, theirs.c.account_id, theirs.c.product_line
        )
        .select_from(
            mine.join(
                theirs,
                and_(
                    theirs.c.vendor_org == mine.c.vendor_org,
                    theirs.c.account_id == mine.c.account_id,
                    theirs.c.product_line == mine.c.product_line,
                ),
            )
        )
        .where(
            mine.c.partner_org == acting_org,
            _unindexed(mine.c.status, sqlite) == won,
            theirs.c.status == won,
            theirs.c.partner_org.in_(candidates),
        )
        .distinct()
        .subquery("co_won")
    )
    return select(deals.c.partner_org, literal_column("1", Integer), func.count()).group_by(
        deals.c.partner_org
    )


def _reached_target() -> ColumnElement[bool]:
    """A direct introduction reaches its target at once; a brokered one when forwarded."""
    return or_(INTROS.c.broker_org.is_(None), INTROS.c.forwarded_at.is_not(None))


def _sees_intro(org_id: str) -> ColumnElement[bool]:
    return or_(
        INTROS.c.requester_org == org_id,
        INTROS.c.broker_org == org_id,
        and_(INTROS.c.target_org == org_id, _reached_target()),
    )


def _intro_cas(current: Introduction, new: Introduction) -> Any:
    values = _intro_values(new)
    del values["id"]
    return (
        update(INTROS)
        .where(INTROS.c.id == current.id, INTROS.c.status == IntroStatus(current.status).value)
        .values(values)
        .returning(*INTROS.c)
    )


def _intro_values(i: Introduction) -> dict[str, Any]:
    status = IntroStatus(i.status)
    return {
        "id": i.id,
        "requester_org": i.requester_org,
        "target_org": i.target_org,
        "broker_org": i.broker_org,
        "message": i.message,
        "status": status.value,
        "requested_by": i.requested_by,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "expires_at": i.expires_at,
        "pair_key": i.pair_key,
        "open_pair": i.pair_key if status.is_open else None,
        "forwarded_at": i.forwarded_at,
        "decided_at": i.decided_at,
        "decided_by_org": i.decided_by_org,
        "note": i.note,
        "partnership_id": i.partnership_id,
    }


def _introduction(row: Row[Any]) -> Introduction:
    return Introduction(
        id=row.id,
        requester_org=row.requester_org,
        target_org=row.target_org,
        broker_org=row.broker_org,
        message=row.message,
        status=IntroStatus(row.status),
        requested_by=row.requested_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        pair_key=row.pair_key,
        forwarded_at=row.forwarded_at,
        decided_at=row.decided_at,
        decided_by_org=row.decided_by_org,
        note=row.note,
        partnership_id=row.partnership_id,
    )


def _ask_values(a: AccountAsk) -> dict[str, Any]:
    return {
        "id": a.id,
        "requester_org": a.requester_org,
        "requester_user": a.requester_user,
        "partner_org": a.partner_org,
        "account_id": a.account_id,
        "partner_account_ids": sorted(a.partner_account_ids),
        "kind": AskKind(a.kind).value,
        "message": a.message,
        "status": AskStatus(a.status).value,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "expires_at": a.expires_at,
        "answered_at": a.answered_at,
        "answered_by": a.answered_by,
        "note": a.note,
    }


def _ask(row: Row[Any]) -> AccountAsk:
    return AccountAsk(
        id=row.id,
        requester_org=row.requester_org,
        requester_user=row.requester_user,
        partner_org=row.partner_org,
        account_id=row.account_id,
        partner_account_ids=tuple(row.partner_account_ids),
        kind=AskKind(row.kind),
        message=row.message,
        status=AskStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        answered_at=row.answered_at,
        answered_by=row.answered_by,
        note=row.note,
    )
