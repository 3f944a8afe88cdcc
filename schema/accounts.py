"""Accounts: the node, the org's list, and the upsert/delete mutations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from graph.model import Account, KeyKind
from resolvers import accounts
from resolvers.accounts import AccountInput, RowResult, RowStatus
from schema.context import Info
from schema.pagination import edges_of, window
from schema.payloads import UserError, attempt

CURSOR_KIND = "accounts"
strawberry.enum(KeyKind)
strawberry.enum(RowStatus, name="AccountRowStatus")


@strawberry.type(description="A private field of the org's own account record.")
class AccountField:
    name: str
    value: str


@strawberry.type(description="A matching key of an account: its kind and key version only.")
class AccountKeyInfo:
    kind: KeyKind
    version: int


@strawberry.type(name="Account", description="One of the viewer org's own accounts.")
class AccountNode(relay.Node):
    id: relay.NodeID[str]
    crm_id: str
    name: str
    owner: str | None
    populations: list[str]
    fields: list[AccountField]
    keys: list[AccountKeyInfo]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, account: Account) -> Self:
        return cls(
            id=account.id,
            crm_id=account.crm_id,
            name=account.name,
            owner=account.owner,
            populations=list(account.populations),
            fields=[AccountField(name=n, value=v) for n, v in account.fields],
            keys=[AccountKeyInfo(kind=k.kind, version=k.version) for k in account.keys],
            created_at=account.created_at,
            updated_at=account.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        actor = info.context.actor
        ids = list(node_ids)
        found = await info.context.loaders.account.load_many([(actor.org_id, i) for i in ids])
        return [cls.from_record(a) if a is not None else None for a in found]


async def load_account(info: Info, account_id: str) -> AccountNode | None:
    """One of the viewer org's own accounts, batched with every other in the request;
    None when it is not the viewer org's."""
    org = info.context.actor.org_id
    account = await info.context.loaders.account.load((org, account_id))
    return AccountNode.from_record(account) if account is not None else None


@strawberry.type(name="AccountConnection")
class AccountConnection(relay.Connection[AccountNode]):
    total_count: int = strawberry.field(description="Accounts matching the filter.")


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The viewer org's accounts, in id order.")
    async def accounts(
        self,
        info: Info,
        population: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> AccountConnection:
        context, actor = info.context, info.context.actor
        size, key, backward = window(CURSOR_KIND, first, after, last, before)
        page = await accounts.list_accounts(
            context.store, actor, population=population, first=size, after=key, backward=backward
        )
        total = await accounts.count_accounts(context.store, actor, population=population)
        edges, page_info = edges_of(CURSOR_KIND, page, AccountNode.from_record)
        return AccountConnection(edges=edges, page_info=page_info, total_count=total)


@strawberry.input
class AccountFieldInput:
    name: str
    value: str


@strawberry.input(description="One account row. Keys are normalized and hashed; never stored raw.")
class AccountRowInput:
    crm_id: str
    name: str
    owner: str | None = None
    populations: list[str] = strawberry.field(default_factory=list)
    domains: list[str] = strawberry.field(
        default_factory=list, description="Web domains, URLs or e-mail addresses."
    )
    duns: list[str] = strawberry.field(default_factory=list)
    legal_names: list[str] = strawberry.field(
        default_factory=list, description="Company legal names (a weak key)."
    )
    fields: list[AccountFieldInput] = strawberry.field(
        default_factory=list, description="Private fields; shared only at DETAILS level."
    )


@strawberry.input
class UpsertAccountsInput:
    rows: list[AccountRowInput]


@strawberry.type(description="What happened to one row.")
class AccountRowResult:
    index: int
    crm_id: str
    status: RowStatus
    account: AccountNode | None
    code: str | None
    field: str | None
    message: str | None
    skipped_keys: list[str] = strawberry.field(
        description="Keys of an accepted row that were left out, and why."
    )


@strawberry.type
class UpsertAccountsPayload:
    results: list[AccountRowResult]
    created: int
    updated: int
    rejected: int
    errors: list[UserError]


@strawberry.input
class DeleteAccountsInput:
    crm_ids: list[str]


@strawberry.type
class DeleteAccountsPayload:
    deleted_crm_ids: list[str]
    errors: list[UserError]


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Create or replace accounts by CRM id (up to 5,000 rows).")
    async def upsert_accounts(
        self, info: Info, input: UpsertAccountsInput
    ) -> UpsertAccountsPayload:
        context, actor = info.context, info.context.actor
        rows = [_row(r) for r in input.rows]
        results, errors = await attempt(
            accounts.upsert_accounts(
                context.store,
                context.identity,
                actor,
                context.keyring,
                rows,
                now=context.now(),
                events=context.events,
            )
        )
        results = results or []
        written = {r.account_id for r in results if r.account_id}
        records = await context.store.get_accounts(actor.org_id, list(written)) if written else {}
        return UpsertAccountsPayload(
            results=[_result(r, records) for r in results],
            created=sum(r.status is RowStatus.CREATED for r in results),
            updated=sum(r.status is RowStatus.UPDATED for r in results),
            rejected=sum(r.status is RowStatus.REJECTED for r in results),
            errors=errors,
        )

    @strawberry.mutation(description="Delete accounts by CRM id, with their key links.")
    async def delete_accounts(
        self, info: Info, input: DeleteAccountsInput
    ) -> DeleteAccountsPayload:
        context, actor = info.context, info.context.actor
        deleted, errors = await attempt(
            accounts.delete_accounts(
                context.store,
                context.identity,
                actor,
                input.crm_ids,
                now=context.now(),
                events=context.events,
            )
        )
        return DeleteAccountsPayload(deleted_crm_ids=deleted or [], errors=errors)


def _row(row: AccountRowInput) -> AccountInput:
    return AccountInput(
        crm_id=row.crm_id,
        name=row.name,
        owner=row.owner,
        populations=tuple(row.populations),
        domains=tuple(row.domains),
        duns=tuple(row.duns),
        names=tuple(row.legal_names),
        fields=tuple((f.name, f.value) for f in row.fields),
    )


def _result(result: RowResult, records: dict[str, Account]) -> AccountRowResult:
    record = records.get(result.account_id or "")
    return AccountRowResult(
        index=result.index,
        crm_id=result.crm_id,
        status=result.status,
        account=AccountNode.from_record(record) if record else None,
        code=result.code,
        field=result.field,
        message=result.message,
        skipped_keys=list(result.skipped_keys),
    )
