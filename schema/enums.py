"""GraphQL enums, mirrored one-to-one from the domain enums."""

from __future__ import annotations

import strawberry

from graph.model import OrgType, PartnershipStatus, SharingLevel

OrgTypeEnum = strawberry.enum(OrgType, name="OrgType")
PartnershipStatusEnum = strawberry.enum(PartnershipStatus, name="PartnershipStatus")
SharingLevelEnum = strawberry.enum(SharingLevel, name="SharingLevel")
