"""Identifiers: ULIDs, so ids sort by creation time in every store."""

from __future__ import annotations

from ulid import ULID


def new_id() -> str:
    return str(ULID())
