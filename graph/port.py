"""The GraphStore port: everything the resolvers may ask of a graph store.

Both adapters (`graph.neo4j`, `graph.sql`) implement it and pass one contract suite
(`tests/contract`). Rules every implementation keeps:

- Calls that read or change tenant data take the acting org first and scope by it:
  a partnership the acting org is not party to does not exist for that call.
- Lists are keyset-paginated: `after` is an opaque cursor the same store returned.
- Writes are atomic per call; a failed call leaves nothing behind.
- Unreachable backends raise `StoreUnavailable`, never a driver exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from graph.deal_port import DealStore
from graph.intro_port import IntroStore
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
    Page,
    Partnership,
    PartnershipStatus,
    SharingRule,
    UpsertResult,
)
from graph.touch_port import TouchStore
from graph.webhook_port import WebhookStore
from graph.webhooks import OutboxEvent


class GraphStore(DealStore, IntroStore, TouchStore, WebhookStore, Protocol):
    """Paging: every list method behind a connection takes `first`, `after` and
    `backward`. `backward=True` returns the `first` items just before the cursor given as
    `after` (the last `first` when it is None), still in the list's order, with
    `Page.has_previous` set when more precede them (graph/paging.py)."""

    @property
    def backend(self) -> str:
        """Short backend name: "sqlite", "postgresql" or "neo4j"."""
        ...

    async def apply_schema(self) -> None:
        """Create constraints, indexes or tables; idempotent."""
        ...

    async def ping(self) -> None:
        """Round-trip to the backend; raises StoreUnavailable when it does not answer."""
        ...

    async def close(self) -> None: ...

    async def create_org(self, org: Org) -> Org:
        """Insert an org; Conflict if the id exists."""
        ...

    async def get_orgs(self, ids: Sequence[str]) -> dict[str, Org]:
        """The orgs among `ids` that exist, by id (one round trip for any number)."""
        ...

    async def list_orgs(self, *, first: int, after: str | None = None) -> Page[Org]:
        """All orgs, ordered by id. For admin tooling and seeding, not for tenants."""
        ...

    async def set_org_discoverable(self, org_id: str, discoverable: bool) -> Org | None: ...

    async def insert_partnership(self, partnership: Partnership) -> Partnership:
        """Insert a new INVITED partnership. Conflict when the pair already has a live one
        (INVITED or ACTIVE, in either direction), also under concurrent inserts."""
        ...

    async def get_partnerships(self, acting_org: str, ids: Sequence[str]) -> dict[str, Partnership]:
        """The partnerships among `ids` that `acting_org` is party to."""
        ...

    async def live_partnership(self, acting_org: str, other_org: str) -> Partnership | None:
        """The INVITED or ACTIVE partnership between the two orgs, if any."""
        ...

    async def counterparties(self, acting_org: str, org_ids: Sequence[str]) -> set[str]:
        """The orgs among `org_ids` that have ever had a partnership (any status, either
        direction) with `acting_org`; one round trip for any number of ids."""
        ...

    async def transition_partnership(
        self,
        acting_org: str,
        partnership_id: str,
        *,
        expected: Sequence[PartnershipStatus],
        new_status: PartnershipStatus,
        at: datetime,
    ) -> Partnership | None:
        """Compare-and-set the status. Returns the updated partnership, or None when the
        partnership is not the acting org's or its status is not in `expected`.
        Moving to a non-live status (ENDED, DECLINED) deletes the sharing rules between
        the pair, both directions, in the same transaction."""
        ...

    async def list_partnerships(
        self,
        acting_org: str,
        *,
        status: PartnershipStatus | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Partnership]:
        """The acting org's partnerships, newest first."""
        ...

    async def put_sharing_rule(self, rule: SharingRule) -> SharingRule:
        """Insert or replace the rule for (from_org, to_org, population)."""
        ...

    async def sharing_rules(self, from_org: str, to_org: str) -> list[SharingRule]:
        """Every rule `from_org` has set for `to_org`, ordered by population."""
        ...

    # --- accounts and their hashed keys -------------------------------------------------

    async def upsert_accounts(
        self,
        acting_org: str,
        rows: Sequence[AccountUpsert],
        *,
        expected_state: KeyState,
        at: datetime,
        outbox: Sequence[OutboxEvent] = (),
    ) -> list[UpsertResult]:
        """Create or replace accounts by (acting_org, crm_id), all rows in one transaction,
        results in row order. Replacing sets name, owner, populations, fields and the key
        set wholesale (created_at is kept, updated_at = at). An account links to one
        AccountKey per distinct hash, shared by every org holding that key; keys no
        account links to any more are deleted.

        Key versions: each key is stored at the version `KeyState.version_for(active)`
        of the store's state *inside the transaction* (the `target` hash when that is the
        target version). The transaction first takes the key-state lock; if the state
        differs from `expected_state`, it writes nothing and raises Conflict (the caller
        recomputes hashes and retries). Rows must have distinct crm_ids (BadInput).

        `outbox`: events (the caller's OVERLAP announcements) written in the same
        transaction as the rows when there is at least one row, so they commit iff the
        accounts do; nothing is written when the call raises or has no rows."""
        ...

    async def delete_accounts(
        self, acting_org: str, crm_ids: Sequence[str], *, outbox: Sequence[OutboxEvent] = ()
    ) -> list[str]:
        """Delete the acting org's accounts with these crm_ids, with their key links and
        any AccountKey left unlinked. Returns the crm_ids that existed. `outbox` is written
        in the same transaction iff at least one account was deleted."""
        ...

    async def get_accounts(self, acting_org: str, ids: Sequence[str]) -> dict[str, Account]:
        """The acting org's accounts among `ids` (other orgs' ids are simply absent)."""
        ...

    async def list_accounts(
        self,
        acting_org: str,
        *,
        population: str | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Account]:
        """The acting org's accounts (in `population` when given), ordered by id."""
        ...

    async def count_accounts(self, acting_org: str, *, population: str | None = None) -> int: ...

    # --- overlaps -----------------------------------------------------------------------

    async def population_counts(self, org_id: str) -> dict[str, int]:
        """Accounts per population of one org (populations with no account are absent)."""
        ...

    async def population_fingerprints(self, org_id: str) -> dict[str, str]:
        """Per population of one org, a value that changes whenever its membership does
        (an account added, removed, moved in or out): the count and the latest change."""
        ...

    async def overlap_matrix(
        self, acting_org: str, partner_org: str, *, kinds: Sequence[KeyKind]
    ) -> list[OverlapCell]:
        """For every (my population, partner population) pair with at least one overlap:
        my_count = my distinct accounts in my population sharing a key of one of `kinds`
        with a partner account in the partner population; partner_count = the partner's
        distinct accounts in its population sharing such a key with one of mine in mine.
        Ordered by (my_population, partner_population). Computed on read, so always
        fresh. No policy here: the caller applies sharing rules and thresholds."""
        ...

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
        """My accounts (in `my_population` when given, passing `where`) sharing a key of
        `kinds` with a partner account in one of `partner_populations`, in `order` (my
        own fields only, the id breaking ties), each with those partner accounts (only
        the requested populations are ever read or returned). An empty
        `partner_populations` yields an empty page. Cursors come from
        graph.paging.order_cursor; a cursor of another order is BadInput."""
        ...

    # --- key rotation -------------------------------------------------------------------

    async def key_state(self) -> KeyState: ...

    async def start_rotation(self, target_version: int) -> KeyState:
        """Begin rotating to `target_version` (> active). Idempotent for the same target;
        Conflict when another rotation is under way or the version is not newer."""
        ...

    async def keys_to_rotate(self, *, first: int) -> list[str]:
        """Up to `first` distinct hashes still at the active version and above the
        cursor, ascending. Empty when the rotation has covered every key."""
        ...

    async def rewrap_keys(self, rewraps: Sequence[tuple[str, str]], *, cursor: str) -> int:
        """In one transaction (under the key-state lock): replace each (old, new) hash at
        the active version by `new` at the target version, for every org holding it,
        and move the cursor to `cursor`. Returns the number of keys rewrapped."""
        ...

    async def finish_rotation(self) -> KeyState:
        """Make the target version active once no key is left at the old version
        (Conflict otherwise); the cursor is cleared."""
        ...


class ResettableStore(GraphStore, Protocol):
    async def reset(self) -> None:
        """Delete all data. Tests only; refuses unless the store was opened for tests."""
        ...

    async def dump(self) -> list[str]:
        """Every stored property / column value, rendered as text: the raw-key scan
        test looks through it for raw keys. Tests only, like reset()."""
        ...
