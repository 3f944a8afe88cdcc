"""Who is acting: the authenticated principal, its acting org and its powers."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from graph.errors import Forbidden, Unauthenticated
from graph.identity import Role, TokenKind, TokenScope


class Permission(enum.Enum):
    READ = "read the org's own data and what partners share"
    MANAGE_PARTNERSHIPS = "invite, accept, decline and end partnerships"
    MANAGE_SHARING = "set sharing rules"
    MANAGE_TOKENS = "create and revoke the org's API tokens"
    MANAGE_ACCOUNTS = "load, change and delete the org's accounts"
    READ_AUDIT = "read the org's audit log"
    MANAGE_PIPELINE = "load and close the org's opportunities and set its deal program"
    REGISTER_DEALS = "register and withdraw deals with vendors"
    REVIEW_DEALS = "approve, reject and extend partners' deal registrations"
    ASK_PARTNERS = "ask partners for help on accounts, and answer their asks"
    # ADMIN only, like the audit log: endpoints receive every deal and introduction move.
    READ_WEBHOOKS = "read the org's webhook endpoints and deliveries"
    MANAGE_WEBHOOKS = "register, delete and redeliver the org's webhooks"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PARTNER_MANAGER: frozenset(
        {
            Permission.READ,
            Permission.MANAGE_PARTNERSHIPS,
            Permission.MANAGE_SHARING,
            Permission.MANAGE_TOKENS,
            Permission.MANAGE_ACCOUNTS,
            Permission.MANAGE_PIPELINE,
            Permission.REGISTER_DEALS,
            Permission.REVIEW_DEALS,
            Permission.ASK_PARTNERS,
        }
    ),
    Role.SALES_REP: frozenset(
        {
            Permission.READ,
            Permission.MANAGE_TOKENS,
            Permission.REGISTER_DEALS,
            Permission.ASK_PARTNERS,
        }
    ),
    Role.READ_ONLY: frozenset({Permission.READ}),
}

WRITE_PERMISSIONS = frozenset(
    {
        Permission.MANAGE_PARTNERSHIPS,
        Permission.MANAGE_SHARING,
        Permission.MANAGE_TOKENS,
        Permission.MANAGE_ACCOUNTS,
        Permission.MANAGE_PIPELINE,
        Permission.REGISTER_DEALS,
        Permission.REVIEW_DEALS,
        Permission.ASK_PARTNERS,
        Permission.MANAGE_WEBHOOKS,
    }
)


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    org_id: str
    role: Role
    token_id: str
    token_kind: TokenKind
    scope: TokenScope
    client_address: str | None = None

    def can(self, permission: Permission) -> bool:
        if permission in WRITE_PERMISSIONS and self.scope is TokenScope.READ:
            return False
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(f"your role may not {permission.value}")


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise Unauthenticated("authentication required: send Authorization: Bearer <token>")
    return actor
