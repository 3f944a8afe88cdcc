"""Relay global IDs in arguments: decode, and insist on the expected type."""

from __future__ import annotations

from strawberry import relay

from graph.errors import BadInput


def decode(gid: relay.GlobalID, expected_type: str, *, field: str) -> str:
    if gid.type_name != expected_type:
        raise BadInput(f"{field} must be the ID of a {expected_type}", field=field)
    return gid.node_id


def encode(type_name: str, node_id: str) -> relay.GlobalID:
    return relay.GlobalID(type_name, node_id)


# Node ids of computed rows join what identifies the row from the viewer's side (ids of
# orgs and accounts the viewer sees anyway, population names shared with it) with ":".
# ULIDs never hold ":", so only the last part may (a population name).
KEY_SEPARATOR = ":"


def join_key(*parts: str) -> str:
    return KEY_SEPARATOR.join(parts)


def split_key(node_id: str, ids: int, *, optional_tail: bool = False) -> list[str] | None:
    """`ids` non-empty parts (and, with `optional_tail`, maybe one more that may hold the
    separator), or None when `node_id` is not such a key: a made-up node id then resolves
    to null like any missing one."""
    parts = node_id.split(KEY_SEPARATOR, ids if optional_tail else ids - 1)
    if len(parts) < ids or not all(parts[:ids]):
        return None
    if len(parts) > ids and not optional_tail:
        return None
    return parts
