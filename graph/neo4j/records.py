"""Domain records to Cypher parameters and back.

Datetimes travel as Neo4j DateTime values and come back as aware UTC `datetime`s;
org types as a sorted list of strings; enums as their string values. An account's
fields are two parallel lists (`field_names`, `field_values`), sorted by name. Bulk
reads that return many orgs (GET_ORGS) send plain lists instead, with created_at as
epoch seconds and nanoseconds (`org_from_values`): far cheaper for the driver to decode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.errors import BadInput
from graph.model import (
    Account,
    AccountUpsert,
    HashedKey,
    KeyKind,
    KeyState,
    Org,
    OrgType,
    OverlapMatch,
    PartnerMatch,
    Partnership,
    PartnershipStatus,
    SharingLevel,
    SharingRule,
    StoredKey,
)

Row = Mapping[str, Any]


def pair_key(a: str, b: str) -> str:
    """The unordered pair {a, b} as one unambiguous string (ids may hold any character)."""
    return json.dumps(sorted((a, b)))


def sharing_rule_key(rule: SharingRule) -> str:
    return json.dumps([rule.from_org, rule.to_org, rule.population])


def to_datetime(value: Any) -> datetime:
    """A Neo4j DateTime (or a native datetime) as an aware UTC datetime."""
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, datetime) or native.tzinfo is None:
        raise TypeError(f"expected a zoned DateTime, got {value!r}")
    return native.astimezone(UTC)


def to_optional_datetime(value: Any) -> datetime | None:
    return None if value is None else to_datetime(value)


def org_params(org: Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "types": sorted(str(t) for t in org.types),
        "region": org.region,
        "discoverable": org.discoverable,
        "created_at": org.created_at,
    }


def org_from(row: Row) -> Org:
    return Org(
        id=row["id"],
        name=row["name"],
        types=frozenset(OrgType(t) for t in row.get("types") or ()),
        region=row["region"],
        discoverable=row["discoverable"],
        created_at=to_datetime(row["created_at"]),
    )


def org_from_values(values: Sequence[Any]) -> Org:
    """An Org from a GET_ORGS list: id, name, types, region, discoverable, and
    created_at as epoch seconds and nanoseconds (microseconds kept, as a datetime)."""
    id_, name, types, region, discoverable, seconds, nanos = values
    return Org(
        id=id_,
        name=name,
        types=frozenset(OrgType(t) for t in types or ()),
        region=region,
        discoverable=discoverable,
        created_at=from_epoch(seconds, nanos),
    )


def from_epoch(seconds: int, nanos: int) -> datetime:
    """Epoch seconds plus the nanosecond of the second as an aware UTC datetime."""
    return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def partnership_params(p: Partnership) -> dict[str, Any]:
    key = pair_key(p.inviter_id, p.invitee_id)
    return {
        "id": p.id,
        "inviter_id": p.inviter_id,
        "invitee_id": p.invitee_id,
        "status": str(p.status),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "activated_at": p.activated_at,
        "ended_at": p.ended_at,
        "ended_by": p.ended_by,
        "pair_key": key,
        "live_key": key if p.status.is_live else None,
    }


def partnership_from(row: Row) -> Partnership:
    return Partnership(
        id=row["id"],
        inviter_id=row["inviter_id"],
        invitee_id=row["invitee_id"],
        status=PartnershipStatus(row["status"]),
        created_at=to_datetime(row["created_at"]),
        updated_at=to_datetime(row["updated_at"]),
        activated_at=to_optional_datetime(row.get("activated_at")),
        ended_at=to_optional_datetime(row.get("ended_at")),
        ended_by=row.get("ended_by"),
    )


def sharing_rule_params(rule: SharingRule) -> dict[str, Any]:
    return {
        "from_org": rule.from_org,
        "to_org": rule.to_org,
        "population": rule.population,
        "level": str(rule.level),
        "fields": list(rule.fields),
        "updated_at": rule.updated_at,
    }


def sharing_rule_from(row: Row) -> SharingRule:
    return SharingRule(
        from_org=row["from_org"],
        to_org=row["to_org"],
        population=row["population"],
        level=SharingLevel(row["level"]),
        fields=tuple(row.get("fields") or ()),
        updated_at=to_optional_datetime(row.get("updated_at")),
    )


# --- accounts and key state -----------------------------------------------------------


def key_state_from(row: Row | None) -> KeyState:
    """The KeyState node's properties; no node means version 1 with no rotation."""
    if row is None:
        return KeyState()
    return KeyState(
        active_version=row.get("active_version") or 1,
        target_version=row.get("target_version"),
        cursor=row.get("cursor"),
    )


def key_state_params(state: KeyState) -> dict[str, Any]:
    return {
        "active_version": state.active_version,
        "target_version": state.target_version,
        "cursor": state.cursor,
    }


def stored_keys(keys: Sequence[HashedKey], state: KeyState) -> list[dict[str, Any]]:
    """Each key at the version the state picks for it, one entry per distinct hash."""
    chosen: dict[str, dict[str, Any]] = {}
    for key in keys:
        version = state.version_for(key.active)
        h = key.active if version == state.active_version else key.target
        if h is None:
            raise BadInput(
                "a key rotation is under way: every key needs its target-version hash",
                field="keys",
            )
        chosen.setdefault(h, {"h": h, "v": version, "kind": str(key.kind)})
    return list(chosen.values())


def account_params(row: AccountUpsert, state: KeyState) -> dict[str, Any]:
    keys = stored_keys(row.keys, state)
    fields = sorted(row.fields)
    return {
        "crm_id": row.crm_id,
        "new_id": row.new_id,
        "name": row.name,
        "owner": row.owner,
        "populations": sorted(set(row.populations)),
        "field_names": [name for name, _ in fields],
        "field_values": [value for _, value in fields],
        "keys": keys,
        "hs": [key["h"] for key in keys],
    }


def account_from(row: Row) -> Account:
    names = row.get("field_names") or ()
    values = row.get("field_values") or ()
    keys = sorted(
        (StoredKey(KeyKind(k["kind"]), k["h"], k["v"]) for k in row.get("keys") or ()),
        key=lambda k: (k.kind, k.h),
    )
    return Account(
        id=row["id"],
        org_id=row["org_id"],
        crm_id=row["crm_id"],
        name=row["name"],
        owner=row.get("owner"),
        populations=tuple(sorted(set(row.get("populations") or ()))),
        fields=tuple(sorted(zip(names, values, strict=True))),
        keys=tuple(keys),
        created_at=to_datetime(row["created_at"]),
        updated_at=to_datetime(row["updated_at"]),
    )


def partner_match_from(row: Row) -> PartnerMatch:
    names = row.get("field_names") or ()
    values = row.get("field_values") or ()
    return PartnerMatch(
        populations=tuple(sorted(set(row.get("populations") or ()))),
        owner=row.get("owner"),
        fields=tuple(sorted(zip(names, values, strict=True))),
    )


def overlap_match_from(row: Row) -> OverlapMatch:
    """My account with its matching partner accounts (already in partner id order)."""
    return OverlapMatch(
        account=account_from(row),
        partner=tuple(partner_match_from(p) for p in row.get("partner") or ()),
    )


def dump_values(props: Row) -> list[str]:
    """Every property value as text; list elements one by one."""
    out: list[str] = []
    for value in props.values():
        if isinstance(value, list):
            out.extend(str(v) for v in value)
        else:
            out.append(str(value))
    return out
