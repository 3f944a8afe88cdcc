"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection
from strawberry.types import Info as StrawberryInfo

from graph.port import GraphStore
from schema.loaders import Loaders


@dataclass(slots=True)
class Context:
    store: GraphStore
    request: HTTPConnection | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store)


Info = StrawberryInfo[Context, None]
