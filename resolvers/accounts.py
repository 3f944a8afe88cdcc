"""Accounts: validate rows, normalize and hash their keys, write them in batches.

Shared by the GraphQL mutations and the CSV importer. One bad row never fails the
others: it comes back REJECTED with a code and a reason, and the rest are written.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from graph.errors import BadInput, ConfigurationError, Conflict
from graph.identity import IdentityStore
from graph.model import Account, AccountUpsert, HashedKey, KeyKind, KeyState, Page
from graph.port import GraphStore
from graph.webhooks import OutboxEvent
from privacy.keyring import Keyring
from privacy.normalize import canonical_keys
from privacy.populations import population_problem
from resolvers import audit, overlap_events
from resolvers.actor import Actor, Permission
from resolvers.events import EventBroker
from resolvers.ids import new_id

MAX_ROWS_PER_CALL = 5_000
MAX_TEXT = 200
MAX_POPULATIONS = 20
MAX_KEYS_PER_KIND = 20
MAX_FIELDS = 50
MAX_FIELD_VALUE = 1_000
STATE_RETRIES = 5


class RowStatus(enum.StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class AccountInput:
    crm_id: str
    name: str
    owner: str | None = None
    populations: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    duns: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RowResult:
    index: int
    crm_id: str
    status: RowStatus
    account_id: str | None = None
    code: str | None = None
    field: str | None = None
    message: str | None = None
    # Keys of an accepted row that were left out, with why (e.g. a free-mail domain).
    skipped_keys: tuple[str, ...] = ()


@dataclass(slots=True)
class _Prepared:
    index: int
    row: AccountInput
    keys: list[tuple[KeyKind, str]] = field(default_factory=list)  # (kind, canonical)
    skipped: tuple[str, ...] = ()


async def upsert_accounts(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    keyring: Keyring,
    rows: Sequence[AccountInput],
    *,
    now: datetime,
    events: EventBroker | None = None,
) -> list[RowResult]:
    actor.require(Permission.MANAGE_ACCOUNTS)
    if len(rows) > MAX_ROWS_PER_CALL:
        raise BadInput(
            f"at most {MAX_ROWS_PER_CALL} rows per call; use `tandem import accounts` for files",
            field="rows",
        )
    # Prepared (validated, hashed) once here, so that only the populations of rows that
    # will be written are announced; write_rows hashes again only if the key state moves.
    prepared = prepare_batch(rows, keyring, await graph.key_state())
    touched = {p for upsert in prepared.upserts for p in upsert.populations}
    # Who hears of it, decided before the write (see resolvers/overlap_events.py): the
    # OVERLAP webhook events go into the store's transaction with the accounts.
    told = await overlap_events.audience(graph, writer_org=actor.org_id, populations=touched)
    outbox = overlap_events.outbox_events(actor.org_id, told, now)
    results = await write_rows(
        graph, actor.org_id, keyring, rows, now=now, prepared=prepared, outbox=outbox
    )
    written = sum(1 for r in results if r.status is not RowStatus.REJECTED)
    if events is not None and written:
        await overlap_events.publish(events, writer_org=actor.org_id, told=told, now=now)
    await audit.record(
        identity,
        actor,
        "accounts.upsert",
        now=now,
        rows=str(len(rows)),
        written=str(written),
    )
    return results


async def delete_accounts(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    crm_ids: Sequence[str],
    *,
    now: datetime,
    events: EventBroker | None = None,
) -> list[str]:
    actor.require(Permission.MANAGE_ACCOUNTS)
    if len(crm_ids) > MAX_ROWS_PER_CALL:
        raise BadInput(f"at most {MAX_ROWS_PER_CALL} ids per call", field="crmIds")
    # Which populations the deleted accounts were in is not known before the write: every
    # population a partner may see at COUNTS or above is announced.
    told = await overlap_events.audience(graph, writer_org=actor.org_id, populations=None)
    deleted = await graph.delete_accounts(
        actor.org_id,
        list(dict.fromkeys(crm_ids)),
        outbox=overlap_events.outbox_events(actor.org_id, told, now),
    )
    if events is not None and deleted:
        await overlap_events.publish(events, writer_org=actor.org_id, told=told, now=now)
    await audit.record(
        identity,
        actor,
        "accounts.delete",
        now=now,
        requested=str(len(crm_ids)),
        deleted=str(len(deleted)),
    )
    return deleted


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch validated, normalized and hashed for one key state; picklable, so it can
    be prepared in another process while the previous batch is being written."""

    state: KeyState
    upserts: list[AccountUpsert]
    accepted: list[_Prepared]
    rejected: list[RowResult]


def prepare_batch(
    rows: Sequence[AccountInput], keyring: Keyring, state: KeyState, *, first_index: int = 0
) -> PreparedBatch:
    """The CPU-bound half of a write: pure, no I/O."""
    rejected: list[RowResult] = []
    accepted: list[_Prepared] = []
    seen: set[str] = set()
    for offset, row in enumerate(rows):
        index = first_index + offset
        outcome = _prepare(index, row)
        if isinstance(outcome, RowResult):
            rejected.append(outcome)
        elif outcome.row.crm_id in seen:
            rejected.append(
                _reject(index, row, "DUPLICATE", "crmId", "crm id repeated in this batch")
            )
        else:
            seen.add(outcome.row.crm_id)
            accepted.append(outcome)
    upserts = [_upsert(p, keyring, state) for p in accepted]
    return PreparedBatch(state, upserts, accepted, rejected)


async def write_prepared(
    graph: GraphStore,
    org_id: str,
    batch: PreparedBatch,
    *,
    now: datetime,
    outbox: Sequence[OutboxEvent] = (),
) -> list[RowResult]:
    """The I/O half. Conflict when the store's key state is no longer `batch.state`.
    `outbox` events are written with the rows, in their transaction (none if no row is
    accepted)."""
    results = {r.index: r for r in batch.rejected}
    if batch.upserts:
        outcomes = await graph.upsert_accounts(
            org_id, batch.upserts, expected_state=batch.state, at=now, outbox=outbox
        )
        for p, o in zip(batch.accepted, outcomes, strict=True):
            results[p.index] = RowResult(
                index=p.index,
                crm_id=p.row.crm_id,
                status=RowStatus.CREATED if o.created else RowStatus.UPDATED,
                account_id=o.account_id,
                skipped_keys=p.skipped,
            )
    return [results[i] for i in sorted(results)]


async def write_rows(
    graph: GraphStore,
    org_id: str,
    keyring: Keyring,
    rows: Sequence[AccountInput],
    *,
    now: datetime,
    first_index: int = 0,
    prepared: PreparedBatch | None = None,
    outbox: Sequence[OutboxEvent] = (),
) -> list[RowResult]:
    """Validate, normalize and write one batch for `org_id` (no permission check: the
    callers check). Results are in row order, indexed from `first_index`. A batch
    prepared ahead of time is used if the key state has not moved since. `outbox`
    events are written in the transaction of the rows (see write_prepared)."""
    for _ in range(STATE_RETRIES):
        if prepared is None:
            state = await graph.key_state()
            prepared = prepare_batch(rows, keyring, state, first_index=first_index)
        try:
            return await write_prepared(graph, org_id, prepared, now=now, outbox=outbox)
        except Conflict:
            prepared = None  # a rotation step moved the key state; hash again
    raise Conflict("the key state kept changing during the write; try again")


def _upsert(p: _Prepared, keyring: Keyring, state: KeyState) -> AccountUpsert:
    if state.active_version > keyring.newest or (
        state.target_version is not None and state.target_version > keyring.newest
    ):
        raise ConfigurationError(
            f"the store uses key version {state.target_version or state.active_version} "
            f"but the keyring only holds 1..{keyring.newest}: add the secret"
        )
    keys = []
    for kind, canonical in p.keys:
        active = keyring.hash(kind, canonical, state.active_version)
        target = (
            keyring.rewrap(active, state.target_version)
            if state.target_version is not None
            else None
        )
        keys.append(HashedKey(kind, active, target))
    return AccountUpsert(
        crm_id=p.row.crm_id,
        new_id=new_id(),
        name=p.row.name,
        owner=p.row.owner,
        populations=tuple(sorted(set(p.row.populations))),
        fields=tuple(sorted(dict(p.row.fields).items())),
        keys=tuple(keys),
    )


def _prepare(index: int, row: AccountInput) -> _Prepared | RowResult:
    crm_id = row.crm_id.strip()
    name = row.name.strip()
    owner = row.owner.strip() if row.owner and row.owner.strip() else None
    for label, value, limit in (("crmId", crm_id, MAX_TEXT), ("name", name, MAX_TEXT)):
        if problem := _text_problem(value, limit, required=True):
            return _reject(index, row, "INVALID", label, f"{label} {problem}")
    if owner is not None and (problem := _text_problem(owner, MAX_TEXT, required=False)):
        return _reject(index, row, "INVALID", "owner", f"owner {problem}")
    if len(row.populations) > MAX_POPULATIONS:
        return _reject(index, row, "INVALID", "populations", f"at most {MAX_POPULATIONS}")
    for population in row.populations:
        if problem := population_problem(population):
            return _reject(index, row, "INVALID", "populations", f"population {problem}")
    if len(row.fields) > MAX_FIELDS:
        return _reject(index, row, "INVALID", "fields", f"at most {MAX_FIELDS} fields")
    for key, value in row.fields:
        if (problem := _text_problem(key, 64, required=True)) or (
            problem := _text_problem(value, MAX_FIELD_VALUE, required=False)
        ):
            return _reject(index, row, "INVALID", "fields", f"field {problem}")
    for label, values in (("domains", row.domains), ("duns", row.duns), ("names", row.names)):
        if len(values) > MAX_KEYS_PER_KIND:
            return _reject(index, row, "INVALID", label, f"at most {MAX_KEYS_PER_KIND} {label}")

    keys, rejected = canonical_keys(row.domains, row.duns, row.names, names_enabled=True)
    reasons = tuple(str(r) for r in rejected)
    if not keys:
        detail = "; ".join(reasons) if reasons else "give a domain, a DUNS number or a name"
        return _reject(index, row, "NO_USABLE_KEY", "domains", f"no usable key: {detail}")
    clean = AccountInput(
        crm_id=crm_id,
        name=name,
        owner=owner,
        populations=row.populations,
        domains=row.domains,
        duns=row.duns,
        names=row.names,
        fields=row.fields,
    )
    return _Prepared(index, clean, list(keys), reasons)


def _text_problem(value: str, limit: int, *, required: bool) -> str | None:
    if required and not value:
        return "must not be empty"
    if len(value) > limit:
        return f"must be at most {limit} characters"
    if value.isprintable():
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return "must not contain control characters"
    return None


def _reject(index: int, row: AccountInput, code: str, field: str, message: str) -> RowResult:
    return RowResult(
        index=index,
        crm_id=row.crm_id[:MAX_TEXT],
        status=RowStatus.REJECTED,
        code=code,
        field=field,
        message=message,
    )


async def list_accounts(
    graph: GraphStore,
    actor: Actor,
    *,
    population: str | None,
    first: int,
    after: str | None,
    backward: bool = False,
) -> Page[Account]:
    actor.require(Permission.READ)
    return await graph.list_accounts(
        actor.org_id, population=population, first=first, after=after, backward=backward
    )


async def count_accounts(graph: GraphStore, actor: Actor, *, population: str | None) -> int:
    actor.require(Permission.READ)
    return await graph.count_accounts(actor.org_id, population=population)
