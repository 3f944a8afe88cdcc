"""Plain records that cross the store boundary. No behaviour, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


class OrgType(enum.StrEnum):
    VENDOR = "VENDOR"
    RESELLER = "RESELLER"
    ISV = "ISV"
    SI = "SI"
    MSP = "MSP"
    REFERRAL = "REFERRAL"
    INFLUENCER = "INFLUENCER"


class PartnershipStatus(enum.StrEnum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DECLINED = "DECLINED"
    ENDED = "ENDED"

    @property
    def is_live(self) -> bool:
        """A live partnership blocks a second one between the same pair."""
        return self in (PartnershipStatus.INVITED, PartnershipStatus.ACTIVE)


class SharingLevel(enum.StrEnum):
    HIDDEN = "HIDDEN"
    COUNTS = "COUNTS"
    OVERLAPS = "OVERLAPS"
    DETAILS = "DETAILS"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {
    SharingLevel.HIDDEN: 0,
    SharingLevel.COUNTS: 1,
    SharingLevel.OVERLAPS: 2,
    SharingLevel.DETAILS: 3,
}


@dataclass(frozen=True, slots=True)
class Org:
    id: str
    name: str
    types: frozenset[OrgType]
    region: str
    discoverable: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Partnership:
    """A partnership between two orgs. `inviter_id` asked, `invitee_id` answers."""

    id: str
    inviter_id: str
    invitee_id: str
    status: PartnershipStatus
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None

    def involves(self, org_id: str) -> bool:
        return org_id in (self.inviter_id, self.invitee_id)

    def other(self, org_id: str) -> str:
        return self.invitee_id if org_id == self.inviter_id else self.inviter_id


@dataclass(frozen=True, slots=True)
class SharingRule:
    """What `from_org` lets `to_org` see of one of its populations."""

    from_org: str
    to_org: str
    population: str
    level: SharingLevel
    fields: tuple[str, ...] = ()
    updated_at: datetime | None = None


class KeyKind(enum.StrEnum):
    DOMAIN = "DOMAIN"
    DUNS = "DUNS"
    NAME = "NAME"


@dataclass(frozen=True, slots=True)
class HashedKey:
    """One matching key of an account, as keyed hashes (hex); never the raw key.

    `active` is the hash at the store's active key version. While a rotation runs,
    `target` is the hash at the rotation's target version, and the store decides which
    one to keep (see GraphStore.upsert_accounts)."""

    kind: KeyKind
    active: str
    target: str | None = None


@dataclass(frozen=True, slots=True, order=True)
class StoredKey:
    kind: KeyKind
    h: str
    version: int


@dataclass(frozen=True, slots=True)
class KeyState:
    """The key-version state of a store. While `target_version` is set, keys whose
    active-version hash is <= `cursor` (hex string order) have been rewrapped."""

    active_version: int = 1
    target_version: int | None = None
    cursor: str | None = None

    def version_for(self, active_hash: str) -> int:
        rewrapped = self.cursor is not None and active_hash <= self.cursor
        if self.target_version is not None and rewrapped:
            return self.target_version
        return self.active_version


@dataclass(frozen=True, slots=True)
class AccountUpsert:
    """An account to create or replace, identified by (org, crm_id). `new_id` is used
    only when the account does not exist yet."""

    crm_id: str
    new_id: str
    name: str
    owner: str | None
    populations: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]
    keys: tuple[HashedKey, ...]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    crm_id: str
    account_id: str
    created: bool


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    org_id: str
    crm_id: str
    name: str
    owner: str | None
    populations: tuple[str, ...]  # sorted, distinct
    fields: tuple[tuple[str, str], ...]  # sorted by name; the org's own, never shared
    keys: tuple[StoredKey, ...]  # sorted by (kind, h)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OverlapCell:
    """Raw overlap counts for one (my population, partner population) pair: how many of
    my accounts in mine share a key with a partner account in theirs, and the same from
    the partner's side. No policy applied: the service decides what may be shown."""

    my_population: str
    partner_population: str
    my_count: int
    partner_count: int


@dataclass(frozen=True, slots=True)
class PartnerMatch:
    """A partner account that shares a key with one of mine, as far as it was asked for:
    only its populations among those requested, its owner and fields."""

    populations: tuple[str, ...]  # sorted; only requested populations
    owner: str | None
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class OverlapMatch:
    account: Account  # mine
    partner: tuple[PartnerMatch, ...]  # ordered by the partner account's id


class OverlapSort(enum.StrEnum):
    """What the overlap list is ordered by: one of my own account's fields, then its id."""

    ID = "ID"
    NAME = "NAME"
    OWNER = "OWNER"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


class SortDirection(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True, slots=True)
class OverlapOrder:
    """Sort key (field value, account id), ascending or descending as a whole. Text
    compares by code point; a missing owner sorts before every owner (first when
    ascending, last when descending)."""

    field: OverlapSort = OverlapSort.ID
    direction: SortDirection = SortDirection.ASC


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """Filters on my own accounts. Name matches ignore case (ASCII letters on SQLite, all
    letters elsewhere); owner is an exact match. None means no filter."""

    name_starts_with: str | None = None
    name_contains: str | None = None
    owner: str | None = None


ID_ORDER = OverlapOrder()
NO_FILTER = AccountFilter()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list. Cursors are the store's sort keys.

    Items are always in the list's own order, also on a backward page (one asked for
    with `backward=True`: the items just before the cursor). A forward page knows
    whether more items follow (`has_next`), a backward page whether more precede
    (`has_previous`); each leaves the other flag False (docs/api.md, Pagination)."""

    items: list[T]
    has_next: bool
    cursors: list[str] = field(default_factory=list)
    has_previous: bool = False
