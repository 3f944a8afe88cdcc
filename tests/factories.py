"""Factories for test data: build records with sensible defaults, override what matters."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

from ulid import ULID

from graph.model import (
    AccountUpsert,
    HashedKey,
    KeyKind,
    Org,
    OrgType,
    Partnership,
    PartnershipStatus,
)

BASE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_counter = itertools.count()


def new_id() -> str:
    return str(ULID())


def at(minutes: int) -> datetime:
    return BASE_TIME + timedelta(minutes=minutes)


def make_org(
    name: str | None = None,
    *,
    types: tuple[OrgType, ...] = (OrgType.VENDOR,),
    region: str = "EMEA",
    discoverable: bool = False,
    org_id: str | None = None,
) -> Org:
    n = next(_counter)
    return Org(
        id=org_id or new_id(),
        name=name or f"Org {n}",
        types=frozenset(types),
        region=region,
        discoverable=discoverable,
        created_at=at(n),
    )


def make_partnership(
    inviter: Org, invitee: Org, *, created: datetime | None = None, pid: str | None = None
) -> Partnership:
    when = created or at(next(_counter))
    return Partnership(
        id=pid or new_id(),
        inviter_id=inviter.id,
        invitee_id=invitee.id,
        status=PartnershipStatus.INVITED,
        created_at=when,
        updated_at=when,
    )


def fake_hash(label: str, version: int = 1) -> str:
    """A stand-in keyed hash (64 hex chars); contract tests need shape, not secrecy."""
    return hashlib.sha256(f"{version}:{label}".encode()).hexdigest()


def make_upsert(
    crm_id: str,
    *keys: str,
    name: str | None = None,
    owner: str | None = "owner@example.com",
    populations: tuple[str, ...] = ("CUSTOMER",),
    fields: tuple[tuple[str, str], ...] = (),
    kind: KeyKind = KeyKind.DOMAIN,
) -> AccountUpsert:
    return AccountUpsert(
        crm_id=crm_id,
        new_id=new_id(),
        name=name or f"Account {crm_id}",
        owner=owner,
        populations=populations,
        fields=fields,
        keys=tuple(HashedKey(kind, fake_hash(k)) for k in keys),
    )
