"""The typed per-request context every resolver receives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from starlette.requests import HTTPConnection
from strawberry.types import Info as StrawberryInfo

from graph.errors import TandemError
from graph.identity import IdentityStore
from graph.model import OrgType
from graph.port import GraphStore
from privacy.keyring import Keyring
from resolvers.actor import Actor, require_actor
from resolvers.auth.config import AuthConfig
from resolvers.clock import utcnow
from resolvers.events import EventBroker
from resolvers.intros.discovery import DEFAULT_COMPLEMENTS, parse_complements
from resolvers.intros.rules import SafetyPolicy
from resolvers.webhooks.config import WebhookConfig
from schema.loaders import Loaders


@dataclass(slots=True)
class Context:
    store: GraphStore
    identity: IdentityStore
    auth: AuthConfig
    keyring: Keyring
    events: EventBroker
    overlap_k: int = 5
    intro_policy: SafetyPolicy = field(default_factory=SafetyPolicy)
    complements: Mapping[OrgType, frozenset[OrgType]] = field(
        default_factory=lambda: parse_complements(DEFAULT_COMPLEMENTS)
    )
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    request: HTTPConnection | None = None
    # The graphql-transport-ws connection_init payload, for subscriptions.
    connection_params: dict[str, object] | None = None
    viewer_actor: Actor | None = None
    # A bad credential fails every field that needs the viewer, but does not turn the
    # request into an HTTP error: GraphQL clients expect errors in the body.
    auth_error: TandemError | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store)

    @property
    def actor(self) -> Actor:
        if self.auth_error is not None:
            raise self.auth_error
        return require_actor(self.viewer_actor)

    @property
    def client_address(self) -> str | None:
        if self.request is None or self.request.client is None:
            return None
        return self.request.client.host

    @staticmethod
    def now() -> datetime:
        return utcnow()


Info = StrawberryInfo[Context, None]
