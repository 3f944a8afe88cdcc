"""The root types and the Schema object."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.tools import merge_types

from schema import enums  # noqa: F401  (registers the domain enums with strawberry)
from schema.accounts import AccountMutations, AccountNode, AccountQueries
from schema.audit import AuditQueries
from schema.auth import AuthMutations, AuthQueries
from schema.context import Info
from schema.cosell import CoSellQueries
from schema.deals import DealMutations, DealQueries, DealRegistrationNode
from schema.errors import ErrorCodes
from schema.events import Subscription
from schema.influence import InfluenceMutations, InfluenceQueries, TouchNode
from schema.intros import AccountAskNode, IntroductionNode, IntroMutations, IntroQueries
from schema.opportunities import OpportunityMutations, OpportunityNode, OpportunityQueries
from schema.orgs import OrgNode
from schema.overlaps import OverlapQueries
from schema.partnerships import PartnershipMutations, PartnershipNode, PartnershipQueries
from schema.scalars import DateTime
from schema.sharing import SharingMutations, SharingQueries
from schema.viewer import Viewer
from schema.webhooks import (
    WebhookDeliveryNode,
    WebhookEndpointNode,
    WebhookMutations,
    WebhookQueries,
)


@strawberry.type
class CoreQueries:
    node: relay.Node | None = relay.node()
    nodes: list[relay.Node | None] = relay.node()

    @strawberry.field(description="Who is asking; null when the request has no credentials.")
    def viewer(self, info: Info) -> Viewer | None:
        context = info.context
        if context.auth_error is not None:
            raise context.auth_error
        return Viewer() if context.viewer_actor is not None else None


Query = merge_types(
    "Query",
    (
        CoreQueries,
        PartnershipQueries,
        SharingQueries,
        AccountQueries,
        OverlapQueries,
        CoSellQueries,
        AuthQueries,
        AuditQueries,
        DealQueries,
        OpportunityQueries,
        IntroQueries,
        InfluenceQueries,
        WebhookQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AuthMutations,
        PartnershipMutations,
        SharingMutations,
        AccountMutations,
        OpportunityMutations,
        DealMutations,
        IntroMutations,
        InfluenceMutations,
        WebhookMutations,
    ),
)


class TandemSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Expected errors are part of the API, not incidents; unexpected ones are logged
        with their traceback in schema/errors.py, so strawberry's own logging is off."""


def build_schema() -> strawberry.Schema:
    return TandemSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            OrgNode,
            PartnershipNode,
            AccountNode,
            OpportunityNode,
            DealRegistrationNode,
            IntroductionNode,
            AccountAskNode,
            TouchNode,
            WebhookEndpointNode,
            WebhookDeliveryNode,
        ],
        extensions=[ErrorCodes],
        # Every DateTime argument and input field, by the one time rule.
        scalar_overrides={datetime: DateTime},
    )


graphql_schema = build_schema()
