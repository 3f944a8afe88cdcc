"""The viewer: the authenticated principal and the org it acts for."""

from __future__ import annotations

import strawberry


@strawberry.type(description="The caller. Anonymous until authentication lands.")
class Viewer:
    @strawberry.field
    def is_authenticated(self) -> bool:
        return False
