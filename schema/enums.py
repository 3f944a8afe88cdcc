"""GraphQL enums, mirrored one-to-one from the domain enums.

`strawberry.enum` registers the GraphQL definition on the domain class itself, so the
domain enums can be used directly in type annotations once this module is imported.
"""

from __future__ import annotations

import strawberry

from graph.identity import Role, TokenKind, TokenScope
from graph.model import OrgType, PartnershipStatus, SharingLevel

for _enum in (OrgType, PartnershipStatus, SharingLevel, Role, TokenKind, TokenScope):
    strawberry.enum(_enum)
