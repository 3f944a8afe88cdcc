"""The DealStore half of the port on Neo4j: a mixin Neo4jStore inherits.

Records travel as in graph/neo4j/records.py: datetimes as Neo4j DateTime values (aware
UTC datetimes back), dates as Date, enums as strings, frozensets as sorted lists, money
as the exact decimal text. The Cypher, and how claims stay race-free, is in
graph/neo4j/deal_cypher.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar

from neo4j import AsyncManagedTransaction

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
from graph.model import Account, HashedKey, Page
from graph.neo4j import deal_cypher as q
from graph.neo4j.records import Row, account_from, to_datetime, to_optional_datetime
from graph.neo4j.statements import check_aware, fetch_rows
from graph.neo4j.webhooks import add_outbox
from graph.outbox import deal_events
from graph.paging import check_first, page

T = TypeVar("T")

LIVE = [str(s) for s in DealStatus if s.is_live]


def _to_date(value: Any) -> date:
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, date) or isinstance(native, datetime):
        raise TypeError(f"expected a Date, got {value!r}")
    return native


def _money(value: Decimal) -> str:
    if not value.is_finite():
        raise BadInput("amounts must be finite", field="amount")
    return str(value)


# --- records --------------------------------------------------------------------------


def opportunity_params(row: OpportunityUpsert) -> dict[str, Any]:
    check_aware(row.created_at, "created_at")
    if row.closed_at is not None:
        check_aware(row.closed_at, "closed_at")
    return {
        "crm_id": row.crm_id,
        "new_id": row.new_id,
        "account_crm_id": row.account_crm_id,
        "name": row.name,
        "amount": _money(row.amount),
        "currency": row.currency,
        "stage": row.stage,
        "status": str(row.status),
        "created_at": row.created_at,
        "closed_at": row.closed_at,
    }


def opportunity_from(row: Row) -> Opportunity:
    return Opportunity(
        id=row["id"],
        org_id=row["org_id"],
        crm_id=row["crm_id"],
        account_id=row["account_id"],
        name=row["name"],
        amount=Decimal(row["amount"]),
        currency=row["currency"],
        stage=row["stage"],
        status=OpportunityStatus(row["status"]),
        created_at=to_datetime(row["created_at"]),
        closed_at=to_optional_datetime(row.get("closed_at")),
        updated_at=to_datetime(row["updated_at"]),
    )


def program_params(program: DealProgram) -> dict[str, Any]:
    limit = program.auto_approve_max_amount
    return {
        "vendor_org": program.vendor_org,
        "exclusive_roles": sorted(str(r) for r in program.exclusive_roles),
        "expiry_days": program.expiry_days,
        "extension_days": program.extension_days,
        "max_extensions": program.max_extensions,
        "existing_pipeline_blocks": program.existing_pipeline_blocks,
        "auto_approve_roles": sorted(str(r) for r in program.auto_approve_roles),
        "auto_approve_max_amount": None if limit is None else _money(limit),
        "direct_only_populations": sorted(program.direct_only_populations),
        "updated_at": program.updated_at,
    }


def program_from(row: Row) -> DealProgram:
    limit = row.get("auto_approve_max_amount")
    return DealProgram(
        vendor_org=row["vendor_org"],
        exclusive_roles=frozenset(DealRole(r) for r in row.get("exclusive_roles") or ()),
        expiry_days=int(row["expiry_days"]),
        extension_days=int(row["extension_days"]),
        max_extensions=int(row["max_extensions"]),
        existing_pipeline_blocks=bool(row["existing_pipeline_blocks"]),
        auto_approve_roles=frozenset(DealRole(r) for r in row.get("auto_approve_roles") or ()),
        auto_approve_max_amount=None if limit is None else Decimal(limit),
        direct_only_populations=frozenset(row.get("direct_only_populations") or ()),
        updated_at=to_optional_datetime(row.get("updated_at")),
    )


def registration_params(r: DealRegistration) -> dict[str, Any]:
    for name in ("registered_at", "updated_at", "decided_at", "expires_at"):
        value = getattr(r, name)
        if value is not None:
            check_aware(value, name)
    return {
        "id": r.id,
        "vendor_org": r.vendor_org,
        "partner_org": r.partner_org,
        "account_id": r.account_id,
        "opportunity_id": r.opportunity_id,
        "role": str(r.role),
        "product_line": r.product_line,
        "amount": _money(r.amount),
        "currency": r.currency,
        "expected_close": r.expected_close,
        "status": str(r.status),
        "reasons": [str(reason) for reason in r.reasons],
        "credit": str(r.credit),
        "registered_by": r.registered_by,
        "registered_at": r.registered_at,
        "updated_at": r.updated_at,
        "claim_key": r.claim_key,
        "decided_at": r.decided_at,
        "decided_by": r.decided_by,
        "decision_note": r.decision_note,
        "expires_at": r.expires_at,
        "extensions": r.extensions,
    }


def registration_from(row: Row) -> DealRegistration:
    return DealRegistration(
        id=row["id"],
        vendor_org=row["vendor_org"],
        partner_org=row["partner_org"],
        account_id=row["account_id"],
        opportunity_id=row.get("opportunity_id"),
        role=DealRole(row["role"]),
        product_line=row["product_line"],
        amount=Decimal(row["amount"]),
        currency=row["currency"],
        expected_close=_to_date(row["expected_close"]),
        status=DealStatus(row["status"]),
        reasons=tuple(DealReason(reason) for reason in row.get("reasons") or ()),
        credit=Credit(row["credit"]),
        registered_by=row["registered_by"],
        registered_at=to_datetime(row["registered_at"]),
        updated_at=to_datetime(row["updated_at"]),
        claim_key=row["claim_key"],
        decided_at=to_optional_datetime(row.get("decided_at")),
        decided_by=row.get("decided_by"),
        decision_note=row.get("decision_note"),
        expires_at=to_optional_datetime(row.get("expires_at")),
        extensions=int(row.get("extensions") or 0),
    )


def transition_params(t: DealTransition) -> dict[str, Any]:
    check_aware(t.at, "at")
    return {
        "registration_id": t.registration_id,
        "at": t.at,
        "from_status": None if t.from_status is None else str(t.from_status),
        "to_status": str(t.to_status),
        "actor_org": t.actor_org,
        "actor_user": t.actor_user,
        "note": t.note,
    }


def transition_from(row: Row) -> DealTransition:
    previous = row.get("from_status")
    return DealTransition(
        registration_id=row["registration_id"],
        at=to_datetime(row["at"]),
        from_status=None if previous is None else DealStatus(previous),
        to_status=DealStatus(row["to_status"]),
        actor_org=row.get("actor_org"),
        actor_user=row.get("actor_user"),
        note=row.get("note"),
    )


async def _lock_claims(tx: AsyncManagedTransaction, keys: Sequence[str]) -> dict[str, str]:
    """Hold the write lock of each claim key's node until the transaction ends, creating
    the missing ones. Returns each key's node element id."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    nodes = {r["key"]: r["node"] for r in await fetch_rows(tx, q.CLAIM_NODES, {"keys": wanted})}
    if nodes:
        await fetch_rows(
            tx, q.LOCK_CLAIM_NODES, {"nodes": [nodes[k] for k in wanted if k in nodes]}
        )
    missing = [key for key in wanted if key not in nodes]
    if missing:
        # A concurrent creator makes this a ConstraintError; the store's transaction
        # runner retries the whole work function, which then finds the node.
        created = await fetch_rows(tx, q.CREATE_CLAIMS, {"keys": missing})
        nodes.update({r["key"]: r["node"] for r in created})
    return nodes


async def _announce(
    tx: AsyncManagedTransaction, rows: Sequence[Row], previous: DealStatus | None, at: datetime
) -> None:
    """The outbox events of registrations (rows as written) that moved from `previous`
    (None: created) to their stored status at `at`, in the transaction that moved them."""
    await add_outbox(
        tx,
        [
            event
            for row in rows
            for event in deal_events(
                row["id"],
                row["vendor_org"],
                row["partner_org"],
                previous,
                DealStatus(row["status"]),
                at,
            )
        ],
    )


# --- the mixin ------------------------------------------------------------------------


class Neo4jDeals:
    """Opportunities, deal programs and registrations; Neo4jStore supplies the plumbing."""

    if TYPE_CHECKING:

        async def _read(self, query: LiteralString, **params: Any) -> list[Row]: ...

        async def _write(self, query: LiteralString, **params: Any) -> list[Row]: ...

        async def _transaction(
            self, work: Callable[[AsyncManagedTransaction], Awaitable[T]], *, write: bool
        ) -> T: ...

        async def _locked_write(
            self,
            work: Callable[[AsyncManagedTransaction], Awaitable[T]],
            *,
            constraint_is_answer: bool = False,
        ) -> T: ...

    # --- opportunities ----------------------------------------------------------------

    async def upsert_opportunities(
        self, acting_org: str, rows: Sequence[OpportunityUpsert], *, at: datetime
    ) -> list[OpportunityWrite]:
        check_aware(at, "at")
        seen: set[str] = set()
        for row in rows:
            if row.crm_id in seen:
                raise BadInput(f"crm_id {row.crm_id!r} appears twice", field="crm_id")
            seen.add(row.crm_id)
        if not rows:
            return []
        params = [opportunity_params(row) for row in rows]

        async def work(tx: AsyncManagedTransaction) -> dict[str, Row]:
            found = await fetch_rows(
                tx, q.OPPORTUNITY_ACCOUNTS, {"org": acting_org, "rows": params}
            )
            writable = {r["crm_id"] for r in found if r["account_id"] is not None}
            todo = [p for p in params if p["crm_id"] in writable]
            if not todo:
                return {}
            written = await fetch_rows(
                tx, q.UPSERT_OPPORTUNITIES, {"org": acting_org, "rows": todo, "at": at}
            )
            return {r["crm_id"]: r for r in written}

        written = await self._locked_write(work)
        out: list[OpportunityWrite] = []
        for row in rows:
            w = written.get(row.crm_id)
            if w is None:
                out.append(OpportunityWrite(row.crm_id, None, created=False))
                continue
            previous = w["previous"]
            out.append(
                OpportunityWrite(
                    crm_id=row.crm_id,
                    opportunity_id=str(w["id"]),
                    created=bool(w["created"]),
                    previous_status=None if previous is None else OpportunityStatus(previous),
                )
            )
        return out

    async def get_opportunities(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, Opportunity]:
        if not ids:
            return {}
        rows = await self._read(q.GET_OPPORTUNITIES, org=acting_org, ids=sorted(set(ids)))
        return {o.id: o for o in map(opportunity_from, rows)}

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
        query = q.LIST_OPPORTUNITIES
        if backward:
            last = after is None
            query = q.LIST_OPPORTUNITIES_LAST if last else q.LIST_OPPORTUNITIES_BEFORE
        rows = await self._read(
            query,
            org=acting_org,
            after=after or "",
            status=None if status is None else str(status),
            account=account_id,
            limit=first + 1,
        )
        items = [opportunity_from(row) for row in rows]
        return page(items, first, lambda o: o.id, backward=backward)

    async def open_opportunities(
        self, acting_org: str, account_id: str, *, created_before: datetime
    ) -> list[Opportunity]:
        check_aware(created_before, "created_before")
        rows = await self._read(
            q.OPEN_OPPORTUNITIES, org=acting_org, account=account_id, before=created_before
        )
        return [opportunity_from(row) for row in rows]

    async def close_opportunity(
        self,
        acting_org: str,
        opportunity_id: str,
        *,
        status: OpportunityStatus,
        closed_at: datetime,
        at: datetime,
    ) -> Opportunity | None:
        check_aware(closed_at, "closed_at")
        check_aware(at, "at")
        if status is OpportunityStatus.OPEN:
            raise BadInput("an opportunity closes WON or LOST", field="status")
        params = {"org": acting_org, "id": opportunity_id}

        async def work(tx: AsyncManagedTransaction) -> Opportunity | None:
            if not await fetch_rows(tx, q.LOCK_OPPORTUNITY, params):
                return None
            rows = await fetch_rows(
                tx,
                q.CLOSE_OPPORTUNITY,
                {**params, "status": str(status), "closed_at": closed_at, "at": at},
            )
            return opportunity_from(rows[0]) if rows else None

        return await self._locked_write(work)

    async def settle_registrations(
        self,
        *,
        opportunity_ids: Sequence[str] | None,
        outcomes: Mapping[OpportunityStatus, Mapping[DealStatus, DealStatus]],
        at: datetime,
        limit: int,
    ) -> list[DealRegistration]:
        check_aware(at, "at")
        moves = [
            {"opp": str(opp), "from": str(old), "to": str(new)}
            for opp, mapping in outcomes.items()
            for old, new in mapping.items()
        ]
        if limit <= 0 or not moves or (opportunity_ids is not None and not opportunity_ids):
            return []

        async def work(tx: AsyncManagedTransaction) -> list[DealRegistration]:
            if opportunity_ids is None:
                froms = sorted({m["from"] for m in moves})
                candidates = await fetch_rows(
                    tx, q.SETTLE_CANDIDATES_ANY, {"moves": moves, "froms": froms, "limit": limit}
                )
            else:
                candidates = await fetch_rows(
                    tx,
                    q.SETTLE_CANDIDATES,
                    {
                        "opportunity_ids": sorted(set(opportunity_ids)),
                        "moves": moves,
                        "limit": limit,
                    },
                )
            if not candidates:
                return []
            await _lock_claims(tx, [c["key"] for c in candidates])
            ids = [c["id"] for c in candidates]
            rows = await fetch_rows(
                tx, q.SETTLE_REGISTRATIONS, {"ids": ids, "moves": moves, "at": at}
            )
            await add_outbox(
                tx,
                [
                    event
                    for row in rows
                    for event in deal_events(
                        row["id"],
                        row["vendor_org"],
                        row["partner_org"],
                        DealStatus(row["previous_status"]),
                        DealStatus(row["status"]),
                        at,
                    )
                ],
            )
            return [registration_from(row) for row in rows]

        return await self._locked_write(work)

    # --- programs and direct-only accounts ----------------------------------------------

    async def deal_program(self, vendor_org: str) -> DealProgram:
        rows = await self._read(q.DEAL_PROGRAM, vendor=vendor_org)
        return program_from(rows[0]) if rows else DealProgram(vendor_org)

    async def put_deal_program(self, program: DealProgram) -> DealProgram:
        rows = await self._write(
            q.PUT_DEAL_PROGRAM, vendor=program.vendor_org, program=program_params(program)
        )
        return program_from(rows[0])

    async def set_direct_only(
        self, acting_org: str, account_ids: Sequence[str], direct_only: bool
    ) -> list[str]:
        if not account_ids:
            return []
        query = q.SET_DIRECT_ONLY if direct_only else q.UNSET_DIRECT_ONLY
        rows = await self._write(query, org=acting_org, ids=sorted(set(account_ids)))
        mine = {str(row) for row in rows}
        return [i for i in dict.fromkeys(account_ids) if i in mine]

    async def direct_only_accounts(self, acting_org: str, account_ids: Sequence[str]) -> set[str]:
        if not account_ids:
            return set()
        rows = await self._read(
            q.DIRECT_ONLY_ACCOUNTS, org=acting_org, ids=sorted(set(account_ids))
        )
        return {str(row) for row in rows}

    async def accounts_by_keys(self, acting_org: str, keys: Sequence[HashedKey]) -> list[Account]:
        wanted = [
            {"kind": str(k.kind), "hs": [h for h in (k.active, k.target) if h is not None]}
            for k in keys
        ]
        if not wanted:
            return []
        rows = await self._read(q.ACCOUNTS_BY_KEYS, org=acting_org, keys=wanted)
        return [account_from(row) for row in rows]

    # --- registrations ------------------------------------------------------------------

    async def register_deal(self, registration: DealRegistration) -> DealRegistration:
        registration_params(registration)  # validates before any round trip
        key = registration.claim_key
        at = registration.registered_at

        async def work(tx: AsyncManagedTransaction) -> DealRegistration:
            # Each attempt decides afresh from what it reads under the claim lock, so a
            # retried attempt (deadlock, transient error) is as good as the first.
            await _lock_claims(tx, [key])
            holders = await fetch_rows(tx, q.CLAIM_HOLDERS, {"key": key, "live": LIVE})
            expired = [
                h["id"]
                for h in holders
                if h["status"] == DealStatus.APPROVED
                and h["expires_at"] is not None
                and to_datetime(h["expires_at"]) <= at
            ]
            if expired:
                lapsed = await fetch_rows(tx, q.EXPIRE_REGISTRATIONS, {"ids": expired, "at": at})
                await _announce(tx, lapsed, DealStatus.APPROVED, at)
            stored = registration
            if registration.status.is_live and len(holders) > len(expired):
                stored = replace(
                    registration,
                    status=DealStatus.REJECTED,
                    reasons=(*registration.reasons, DealReason.DUPLICATE),
                )
            transition = DealTransition(
                registration_id=stored.id,
                at=at,
                from_status=None,
                to_status=stored.status,
                actor_org=stored.partner_org,
                actor_user=stored.registered_by,
            )
            rows = await fetch_rows(
                tx,
                q.CREATE_REGISTRATION,
                {
                    "registration": registration_params(stored),
                    "transition": transition_params(transition),
                },
            )
            await _announce(tx, rows, None, at)
            return registration_from(rows[0])

        return await self._locked_write(work)

    async def get_deals(self, acting_org: str, ids: Sequence[str]) -> dict[str, DealRegistration]:
        if not ids:
            return {}
        rows = await self._read(q.GET_DEALS, org=acting_org, ids=sorted(set(ids)))
        return {r.id: r for r in map(registration_from, rows)}

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
            query = q.LIST_DEALS_VENDOR_BACKWARD if backward else q.LIST_DEALS_VENDOR
        else:
            query = q.LIST_DEALS_PARTNER_BACKWARD if backward else q.LIST_DEALS_PARTNER
        rows = await self._read(
            query,
            org=acting_org,
            after=after,
            statuses=None if statuses is None else [str(s) for s in statuses],
            account=account_id,
            opportunity=opportunity_id,
            counterparty=counterparty,
            limit=first + 1,
        )
        items = [registration_from(row) for row in rows]
        return page(items, first, lambda r: r.id, backward=backward)

    async def deals_on_accounts(
        self, vendor_org: str, account_ids: Sequence[str]
    ) -> list[DealRegistration]:
        if not account_ids:
            return []
        rows = await self._read(
            q.DEALS_ON_ACCOUNTS, vendor=vendor_org, ids=sorted(set(account_ids))
        )
        return [registration_from(row) for row in rows]

    async def update_deal(
        self, current: DealRegistration, new: DealRegistration, transition: DealTransition
    ) -> DealRegistration | None:
        params = {
            "id": current.id,
            "expected_status": str(current.status),
            "expected_extensions": current.extensions,
            "registration": {**registration_params(new), "id": current.id},
            "transition": {**transition_params(transition), "registration_id": current.id},
        }
        relink = new.opportunity_id != current.opportunity_id

        async def work(tx: AsyncManagedTransaction) -> DealRegistration | None:
            await _lock_claims(tx, [current.claim_key, new.claim_key])
            rows = await fetch_rows(tx, q.UPDATE_REGISTRATION, params)
            if not rows:
                return None
            written = registration_from(rows[0])
            await add_outbox(
                tx,
                deal_events(
                    current.id,
                    written.vendor_org,
                    written.partner_org,
                    transition.from_status,
                    transition.to_status,
                    transition.at,
                ),
            )
            if relink:
                await fetch_rows(tx, q.RELINK_OPPORTUNITY, {"id": current.id})
            return written

        return await self._locked_write(work)

    async def expire_deals(self, now: datetime, *, limit: int) -> list[DealRegistration]:
        check_aware(now, "now")
        if limit <= 0:
            return []

        async def work(tx: AsyncManagedTransaction) -> list[DealRegistration]:
            candidates = await fetch_rows(tx, q.EXPIRY_CANDIDATES, {"now": now, "limit": limit})
            if not candidates:
                return []
            await _lock_claims(tx, [c["key"] for c in candidates])
            ids = [c["id"] for c in candidates]
            rows = await fetch_rows(tx, q.EXPIRE_REGISTRATIONS, {"ids": ids, "at": now})
            await _announce(tx, rows, DealStatus.APPROVED, now)
            return [registration_from(row) for row in rows]

        expired = await self._locked_write(work)
        return sorted(expired, key=lambda r: (r.expires_at or now, r.id))

    async def deal_history(self, acting_org: str, registration_id: str) -> list[DealTransition]:
        rows = await self._read(q.DEAL_HISTORY, org=acting_org, id=registration_id)
        return [transition_from(row) for row in rows]

    async def deal_histories(
        self, acting_org: str, registration_ids: Sequence[str]
    ) -> dict[str, list[DealTransition]]:
        if not registration_ids:
            return {}
        rows = await self._read(q.DEAL_HISTORIES, org=acting_org, ids=sorted(set(registration_ids)))
        found: dict[str, list[DealTransition]] = {}
        for row in rows:
            entries = found.setdefault(str(row["id"]), [])
            entries.extend(transition_from(t) for t in row["history"])
        return found

    async def deal_stats(
        self, vendor_org: str, partner_orgs: Sequence[str]
    ) -> dict[str, DealStats]:
        if not partner_orgs:
            return {}
        rows = await self._read(
            q.DEAL_STATS, vendor=vendor_org, partners=sorted(set(partner_orgs)), live=LIVE
        )
        return {
            str(row["partner"]): DealStats(won=int(row["won"]), live=int(row["live"]))
            for row in rows
        }
