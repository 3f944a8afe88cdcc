"""The root types and the Schema object."""

from __future__ import annotations

import strawberry
from strawberry import relay

from schema.errors import ErrorCodes
from schema.orgs import OrgNode
from schema.viewer import Viewer


@strawberry.type
class Query:
    node: relay.Node | None = relay.node()
    nodes: list[relay.Node | None] = relay.node()

    @strawberry.field(description="Who is asking, and for which org.")
    def viewer(self) -> Viewer:
        return Viewer()


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, types=[OrgNode], extensions=[ErrorCodes])


schema = build_schema()
