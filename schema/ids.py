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
